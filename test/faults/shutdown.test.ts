/**
 * SIGTERM under keep-alive load, on a real process: every request a client had sent before the signal
 * is answered (0 failed), in-flight requests finish with `Connection: close`, idle keep-alive
 * connections are closed at once (before the in-flight ones end), and the process exits 0.
 */
import http from 'node:http';
import net from 'node:net';
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backends, createTestDatabase } from '../helpers/server.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

interface Outcome {
  /** The request was completely written to the socket before the signal was sent. */
  sentBeforeSignal: boolean;
  status?: number;
  error?: string;
  connectionClose: boolean;
}

function request(agent: http.Agent, base: URL, method: string, path: string, body: unknown, signalAt: () => number | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    let sentBeforeSignal = false;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ sentBeforeSignal, status: res.statusCode, connectionClose: res.headers.connection === 'close' }));
        res.on('error', (err) => resolve({ sentBeforeSignal, error: err.message, connectionClose: false }));
      },
    );
    req.on('finish', () => (sentBeforeSignal = signalAt() === undefined));
    req.on('error', (err) => resolve({ sentBeforeSignal, error: (err as NodeJS.ErrnoException).code ?? err.message, connectionClose: false }));
    req.end(payload);
  });
}

const procs: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const d of dirs) removeDir(d);
});

describe.each(backends())('SIGTERM under keep-alive load (%s)', (backend) => {
  it('answers every request sent before the signal, closes idle connections at once, exits 0', async () => {
    const dataDir = scratchDir();
    dirs.push(dataDir);
    const env: Record<string, string> = { DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: '30000' };
    if (backend === 'postgres') env.DATABASE_URL = await createTestDatabase();
    const srv = await startServerProcess({ env });
    procs.push(srv);
    const base = new URL(srv.url);
    expect((await srv.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'm' })).status).toBe(200);

    let signalTime: number | undefined;
    const signalAt = () => signalTime;

    // An idle keep-alive connection, opened before the signal and never used again.
    const idle = net.connect(Number(base.port), base.hostname);
    await new Promise((r) => idle.once('connect', r));
    idle.write(`GET /health HTTP/1.1\r\nHost: ${base.host}\r\n\r\n`);
    await new Promise((r) => idle.once('data', r));
    let idleClosedWhileUploadRan: boolean | undefined;

    // A slow upload in flight across the signal: half its body before, the rest after.
    let uploadDone = false;
    const upload = new Promise<Outcome>((resolve) => {
      const req = http.request(
        { host: base.hostname, port: base.port, method: 'PUT', path: '/api/2.0/mlflow-artifacts/artifacts/slow/file.bin', headers: { 'content-length': 2 * 65536 } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ sentBeforeSignal: true, status: res.statusCode, connectionClose: res.headers.connection === 'close' }));
        },
      );
      req.on('error', (err) => resolve({ sentBeforeSignal: true, error: err.message, connectionClose: false }));
      req.write(Buffer.alloc(65536, 1));
      const finish = setInterval(() => {
        // Waits for the idle connection to be closed (or gives up after 20 s, and the test fails).
        if (signalTime === undefined || (!idleClosed && performance.now() - signalTime < 20_000)) return;
        clearInterval(finish);
        idleClosedWhileUploadRan = idleClosed && !uploadDone;
        req.end(Buffer.alloc(65536, 2));
      }, 20);
    }).then((o) => {
      uploadDone = true;
      return o;
    });
    let idleClosed = false;
    idle.on('close', () => (idleClosed = true));
    idle.on('error', () => undefined);

    // Keep-alive load: readers and writers, each on its own keep-alive connection, until refused.
    const outcomes: Outcome[] = [];
    const worker = async (i: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      for (let n = 0; ; n++) {
        const write = i % 2 === 0;
        const o = write
          ? await request(agent, base, 'POST', '/api/2.0/mlflow/registered-models/set-tag', { name: 'm', key: `k${i}`, value: String(n) }, signalAt)
          : await request(agent, base, 'GET', '/api/2.0/mlflow/registered-models/get?name=m', undefined, signalAt);
        outcomes.push(o);
        if (o.error && signalTime !== undefined) break;
        if (signalTime !== undefined && o.connectionClose) {
          // The server asked to close this connection: a client would now reconnect and be refused.
          const again = await request(agent, base, 'GET', '/api/2.0/mlflow/registered-models/get?name=m', undefined, signalAt);
          outcomes.push(again);
          if (again.error) break;
        }
        if (n > 100_000) break;
      }
      agent.destroy();
    };
    const workers = Array.from({ length: 8 }, (_, i) => worker(i));
    // Let the load run (at least 100 answers, however busy the machine), then signal.
    const loadStart = performance.now();
    while (outcomes.length < 100 && performance.now() - loadStart < 60_000) await new Promise((r) => setTimeout(r, 50));
    signalTime = performance.now();
    process.kill(srv.pid, 'SIGTERM');

    const [uploaded] = await Promise.all([upload, ...workers]);
    const exit = await srv.exited;

    const before = outcomes.filter((o) => o.sentBeforeSignal);
    const failedBefore = before.filter((o) => o.error !== undefined || (o.status ?? 0) >= 500);
    const after = outcomes.filter((o) => !o.sentBeforeSignal);
    console.log(
      `[shutdown ${backend}] requests sent before SIGTERM: ${before.length}, failed: ${failedBefore.length}; ` +
        `after: ${after.length} (${after.filter((o) => o.status === 200).length} answered, ${after.filter((o) => o.error).length} refused/reset); ` +
        `upload in flight: ${uploaded.status}, connection: ${uploaded.connectionClose ? 'close' : 'keep-alive'}; exit code ${exit.code}`,
    );
    expect(before.length).toBeGreaterThan(50);
    expect(failedBefore).toEqual([]);
    expect(uploaded.status).toBe(200);
    expect(uploaded.connectionClose).toBe(true);
    expect(idleClosedWhileUploadRan).toBe(true);
    expect(exit).toEqual({ code: 0, signal: null });
    // Everything acknowledged is there: the process exited cleanly after the upload finished.
  }, 180_000);
});

describe('SIGTERM during start-up', () => {
  it('ends the start with exit code 0 (a container stopped while it starts is not killed after the grace period)', async () => {
    const dataDir = scratchDir();
    dirs.push(dataDir);
    const root = path.resolve(import.meta.dirname, '../..');
    const proc = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: os.tmpdir(), PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    // Once the process has loaded its configuration (its first log lines come from opening the database),
    // well before it listens.
    const deadline = Date.now() + 60_000;
    while (!out.includes('"level"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    proc.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
