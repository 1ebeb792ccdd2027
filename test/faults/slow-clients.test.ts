/**
 * Slow and idle clients against a real process: a request head that does not arrive in
 * REQUEST_HEADERS_TIMEOUT_MS gets 408 and its socket is freed; a head over MAX_HEADER_KB gets 431;
 * 1,000 idle or trickling sockets do not stop a new client from being served.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

let srv: ServerProcess;
let dataDir: string;
let port: number;

beforeAll(async () => {
  dataDir = scratchDir();
  srv = await startServerProcess({ env: { DATA_DIR: dataDir, REQUEST_HEADERS_TIMEOUT_MS: '2000', REQUEST_BODY_TIMEOUT_MS: '2000', MAX_HEADER_KB: '8' } });
  port = Number(new URL(srv.url).port);
}, 90_000);

afterAll(async () => {
  await srv?.stop('SIGKILL');
  removeDir(dataDir);
});

/** Connects, writes `head`, and collects what the server sends until it closes the socket. */
function rawExchange(head: string, opts: { timeoutMs?: number } = {}): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, opts.timeoutMs ?? 30_000);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', () => undefined);
    socket.write(head);
  });
}

describe('slow and idle clients', () => {
  it('answers 408 and closes the socket when the request head does not arrive in time', async () => {
    const res = await rawExchange('GET /api/2.0/mlflow/registered-models/search HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(res.closed).toBe(true);
    expect(res.text).toMatch(/^HTTP\/1\.1 408 /);
  }, 60_000);

  it('answers 431 to a request head over MAX_HEADER_KB', async () => {
    const res = await rawExchange(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(9 * 1024)}\r\n\r\n`);
    expect(res.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(res.closed).toBe(true);
  }, 60_000);

  it('closes the connection of a body nobody reads once it trickles past REQUEST_BODY_TIMEOUT_MS', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('1\r\na\r\n'), 300);
    const gaveUp = new Promise<'open'>((r) => setTimeout(() => r('open'), 30_000));
    const outcome = await Promise.race([closed.then(() => 'closed' as const), gaveUp]);
    clearInterval(trickle);
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(outcome).toBe('closed');
  }, 60_000);

  it('keeps serving new clients while 1,000 sockets sit idle or trickle their head, and frees them', async () => {
    const sockets: net.Socket[] = [];
    let closedByServer = 0;
    for (let i = 0; i < 1000; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume(); // reads, so that the server's close is seen
      s.on('close', () => closedByServer++);
      // Half send nothing at all, half start a request and then trickle one header byte at a time.
      if (i % 2 === 1) s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trickle: ');
      sockets.push(s);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
    }
    const trickle = setInterval(() => {
      for (let i = 1; i < sockets.length; i += 2) if (!sockets[i]!.destroyed) sockets[i]!.write('a');
    }, 500);
    try {
      // A new client is served while they hold their sockets.
      const created = await srv.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'still-served' });
      expect(created.status).toBe(200);
      expect((await srv.call('GET', '/api/2.0/mlflow/registered-models/get?name=still-served')).status).toBe(200);
      // Every one of them is closed by the server once its head is late (2 s, checked every second).
      const deadline = Date.now() + 60_000;
      while (closedByServer < 1000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      console.log(`[slow clients] ${closedByServer} of 1000 idle/trickling sockets closed by the server`);
      expect(closedByServer).toBe(1000);
      expect((await srv.call('GET', '/health')).status).toBe(200);
    } finally {
      clearInterval(trickle);
      for (const s of sockets) s.destroy();
    }
  }, 120_000);
});
