/**
 * A client that disconnects in the middle of its body (an artifact upload, a JSON request) is an ordinary
 * event: one info-level request line, no error-level stack trace, and nothing left behind (no partial
 * artifact, no temporary file). Real server process, its log lines read from its output.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('aborted request bodies', () => {
  let srv: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    dir = scratchDir();
    srv = await startServerProcess({ env: { DATA_DIR: dir, LOG_LEVEL: 'info' }, startTimeoutMs: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  function files(): string[] {
    const root = path.join(dir, 'artifacts');
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile());
  }

  /** Sends the head and `sent` bytes of a body announced as `declared` bytes, waits, then drops the connection. */
  async function abortAfter(head: string, sent: number): Promise<void> {
    const u = new URL(srv.url);
    const sock = net.connect(Number(u.port), u.hostname);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.on('error', () => undefined);
    sock.write(head);
    sock.write(Buffer.alloc(sent, 0x61));
    await sleep(500);
    sock.destroy();
  }

  /** The log lines (parsed) that mention `p`, once the request line for it has been written. */
  async function linesFor(p: string): Promise<{ level: string; msg: string; status?: number }[]> {
    for (let i = 0; i < 100; i++) {
      const lines = srv.output.filter((l) => l.includes(p));
      if (lines.some((l) => l.includes('"msg":"request"'))) {
        await sleep(300); // anything logged after the request line shows up too
        return srv.output.filter((l) => l.includes(p)).map((l) => JSON.parse(l));
      }
      await sleep(100);
    }
    throw new Error(`no request line for ${p}:\n${srv.output.join('\n')}`);
  }

  test('an artifact upload cut off mid-body: one info line, no error, no partial or temporary file', async () => {
    const p = '/api/2.0/mlflow-artifacts/artifacts/cut/model.bin';
    const before = srv.output.length;
    await abortAfter(`PUT ${p} HTTP/1.1\r\nHost: ${new URL(srv.url).host}\r\nContent-Length: 10000000\r\n\r\n`, 2_000_000);
    const lines = await linesFor(p);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'request', status: 499 });
    expect(srv.output.slice(before).filter((l) => /"level":"error"|Error:|\n\s+at /.test(l))).toEqual([]);
    expect(files()).toEqual([]);
  });

  test('a JSON request cut off mid-body: one info line, no error, nothing stored', async () => {
    const p = '/api/2.0/mlflow/registered-models/create';
    const before = srv.output.length;
    await abortAfter(`POST ${p} HTTP/1.1\r\nHost: ${new URL(srv.url).host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": "cut"`, 10);
    const lines = (await linesFor(p)).slice(-1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'request', status: 499 });
    expect(srv.output.slice(before).filter((l) => /"level":"error"|Error:|\n\s+at /.test(l))).toEqual([]);
    expect((await srv.call('GET', '/api/2.0/mlflow/registered-models/search')).body).toEqual({});
  });
});
