/**
 * Durable delivery, with real server processes on PostgreSQL (`node --import tsx main.ts`):
 *  - a change whose delivery is held back (delivery disabled, or the receiver hanging mid-delivery)
 *    survives SIGKILL of the server and is delivered after a restart, with the same delivery id;
 *  - two replicas on one database under a burst of 200 changes deliver every event, and the
 *    duplicates are counted and printed (expected: 0).
 * Runs when TEST_DATABASE_URL is set (PGlite is single-process).
 */
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/server.js';
import { Fernet } from '../../packages/server/src/webhooks/fernet.js';
import { Receiver, eventually, sleep } from './receiver.js';
import { specFetch, useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const root = path.resolve(import.meta.dirname, '../..');
const KEY = Fernet.generateKey();

interface Proc {
  url: string;
  proc: ChildProcess;
  output: string[];
  call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  exited: Promise<number | null>;
}

const procs: ChildProcess[] = [];

async function startProcess(databaseUrl: string, env: Record<string, string> = {}): Promise<Proc> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'packages/server/src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: KEY,
      WEBHOOK_POLL_INTERVAL_MS: '200',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  const output: string[] = [];
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output.join('')}`)), 30_000);
    proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        output.push(line + '\n');
        try {
          const j = JSON.parse(line) as { msg?: string; url?: string };
          if (j.msg === 'listening' && j.url) {
            clearTimeout(timer);
            resolve(j.url);
          }
        } catch {
          /* not a log line */
        }
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${output.join('')}`)));
  });
  return {
    url,
    proc,
    output,
    exited,
    async call(method, p, body) {
      const res = await specFetch(url, p, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : text };
    },
  };
}

async function kill(p: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
  await p.exited;
}

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

describe.skipIf(!process.env.TEST_DATABASE_URL)('durable delivery across processes (postgres)', () => {
  const receivers: Receiver[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const r of receivers.splice(0)) await r.close();
  });
  afterAll(async () => {
    for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
  });

  it('delivers after SIGKILL and restart: held back by a paused worker', async () => {
    const db = await createTestDatabase();
    const rx = await Receiver.start();
    receivers.push(rx);
    rx.secret = 'dur';
    const a = await startProcess(db, { WEBHOOK_DELIVERY_ENABLED: 'false' });
    const created = await a.call('POST', '/api/2.0/mlflow/webhooks', {
      name: 'durable',
      url: `${rx.url}/d`,
      events: [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }],
      secret: 'dur',
    });
    expect(created.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: `held-${i}` })).status).toBe(200);
    await sleep(500);
    expect(rx.requests).toHaveLength(0);
    await kill(a);
    const pending = await sql<{ n: number }>(db, `SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'PENDING'`);
    expect(pending[0]!.n).toBe(5);

    const restartedAt = Date.now();
    const b = await startProcess(db);
    const reqs = await rx.waitFor((r) => r.length >= 5, 15_000);
    console.log(`[durability] 5 held-back deliveries arrived ${Date.now() - restartedAt} ms after the restart began (process start included)`);
    expect(new Set(reqs.map((r) => r.json.data.name))).toEqual(new Set([0, 1, 2, 3, 4].map((i) => `held-${i}`)));
    expect(reqs.every((r) => r.signatureOk && r.problems.length === 0)).toBe(true);
    await sleep(500);
    expect(rx.requests).toHaveLength(5);
    await kill(b, 'SIGTERM');
  }, 90_000);

  it('delivers after SIGKILL mid-delivery: the lease expires and the restarted server retries with the same delivery id', async () => {
    const db = await createTestDatabase();
    const rx = await Receiver.start();
    receivers.push(rx);
    rx.secret = 'mid';
    rx.answer = (_r, n) => (n === 1 ? 'hang' : { status: 200, body: 'ok' });
    const env = { MLFLOW_WEBHOOK_REQUEST_TIMEOUT: '2', WEBHOOK_CLAIM_LEASE_MS: '4000' };
    const a = await startProcess(db, env);
    const w = await a.call('POST', '/api/2.0/mlflow/webhooks', {
      name: 'mid',
      url: `${rx.url}/m`,
      events: [{ entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
      secret: 'mid',
    });
    expect(w.status).toBe(200);
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'mid-model' })).status).toBe(200);
    expect((await a.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'mid-model', source: 's3://b/m/1' })).status).toBe(200);
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'mid-model', alias: 'prod', version: '1' })).status).toBe(200);
    await rx.waitFor((r) => r.length === 1, 5000); // the server is now waiting for our answer
    await kill(a); // … and dies before it gets one
    const rows = await sql<{ status: string; attempts: number }>(db, `SELECT status, attempts FROM webhook_deliveries`);
    expect(rows).toEqual([{ status: 'IN_FLIGHT', attempts: 1 }]);

    const b = await startProcess(db, env);
    const reqs = await rx.waitFor((r) => r.length === 2, 15_000);
    expect(reqs[1]!.deliveryId).toBe(reqs[0]!.deliveryId);
    expect(reqs[1]!.body).toBe(reqs[0]!.body);
    expect(reqs[1]!.signatureOk).toBe(true);
    expect(reqs[1]!.json).toMatchObject({ entity: 'model_version_alias', action: 'created', data: { name: 'mid-model', alias: 'prod', version: '1' } });
    const d = await eventually(async () => {
      const r = await b.call('GET', `/api/2.0/mlflow-ts/history/webhooks/${w.body.webhook.webhook_id}/deliveries`);
      return r.body.deliveries?.[0]?.status === 'DELIVERED' ? r.body.deliveries[0] : undefined;
    });
    expect(d.attempt_count).toBe(2);
    expect(d.attempts[0]).toMatchObject({ attempt: 1, error: expect.stringMatching(/^Lease expired/) });
    expect(d.attempts[1]).toMatchObject({ attempt: 2, response_status: 200 });
    await kill(b, 'SIGTERM');
  }, 90_000);

  it('two replicas under a burst of 200 changes deliver every event exactly once', async () => {
    const db = await createTestDatabase();
    const rx = await Receiver.start();
    receivers.push(rx);
    rx.secret = 'burst';
    const env = { MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS: '10', LOG_LEVEL: 'warn' };
    const a = await startProcess(db, { ...env, LOG_LEVEL: 'info' });
    const b = await startProcess(db, { ...env, LOG_LEVEL: 'info' });
    const hook = await a.call('POST', '/api/2.0/mlflow/webhooks', {
      name: 'burst',
      url: `${rx.url}/b`,
      events: [
        { entity: 'REGISTERED_MODEL', action: 'CREATED' },
        { entity: 'MODEL_VERSION', action: 'CREATED' },
      ],
      secret: 'burst',
    });
    expect(hook.status).toBe(200);
    const N = 200;
    const names = Array.from({ length: N / 2 }, (_, i) => `burst-${i}`);
    const t0 = Date.now();
    // 100 models and 100 versions, half through each replica, 20 requests in flight at a time.
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async (_, lane) => {
        while (next < names.length) {
          const name = names[next++]!;
          const server = lane % 2 === 0 ? a : b;
          const other = lane % 2 === 0 ? b : a;
          const r1 = await server.call('POST', '/api/2.0/mlflow/registered-models/create', { name });
          const r2 = await other.call('POST', '/api/2.0/mlflow/model-versions/create', { name, source: `s3://b/${name}/1` });
          if (r1.status !== 200 || r2.status !== 200) failures.push(`${name}: ${r1.status} ${r2.status}`);
        }
      }),
    );
    const burstMs = Date.now() - t0;
    expect(failures).toEqual([]);
    const key = (r: { json: { entity: string; data: Record<string, unknown> } }) => `${r.json.entity}:${String(r.json.data.name)}`;
    await rx.waitFor((reqs) => new Set(reqs.map(key)).size >= N, 30_000);
    const allInAt = Date.now();
    await sleep(2000); // let any duplicate arrive
    const reqs = rx.requests;
    const distinctEvents = new Set(reqs.map(key)).size;
    const distinctIds = new Set(reqs.map((r) => r.deliveryId)).size;
    const duplicates = reqs.length - distinctIds;
    const latencies = reqs.map((r) => r.at - Date.parse(r.json.timestamp));
    const byWorker = await sql<{ claimed_by: string; n: number }>(
      db,
      `SELECT claimed_by, count(*)::int AS n FROM webhook_deliveries GROUP BY claimed_by ORDER BY claimed_by`,
    );
    const statuses = await sql<{ status: string; n: number }>(db, `SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status`);
    console.log(
      `[two replicas] ${N} changes in ${burstMs} ms; all delivered ${allInAt - t0} ms after the burst began; ` +
        `${reqs.length} requests, ${distinctEvents} distinct events, ${distinctIds} distinct delivery ids, duplicates: ${duplicates}; ` +
        `event-to-receipt latency p50 ${pct(latencies, 50)} ms, p95 ${pct(latencies, 95)} ms, max ${Math.max(...latencies)} ms; ` +
        `deliveries per replica: ${byWorker.map((w) => w.n).join(' + ')}; statuses: ${JSON.stringify(statuses)}`,
    );
    expect(distinctEvents).toBe(N);
    expect(duplicates).toBe(0);
    expect(reqs.every((r) => r.signatureOk && r.problems.length === 0)).toBe(true);
    expect(statuses).toEqual([{ status: 'DELIVERED', n: N }]);

    // Steady state after the burst: one change at a time, alternating replicas, response to receipt.
    const steady: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = rx.requests.length;
      const r = await (i % 2 ? a : b).call('POST', '/api/2.0/mlflow/registered-models/create', { name: `steady-${i}` });
      const answered = Date.now();
      expect(r.status).toBe(200);
      const got = await rx.waitFor((reqs) => reqs.length > before, 5000);
      steady.push(got[before]!.at - answered);
    }
    console.log(`[two replicas] steady state, one change at a time: response-to-receipt p50 ${pct(steady, 50)} ms, max ${Math.max(...steady)} ms`);
    await Promise.all([kill(a, 'SIGTERM'), kill(b, 'SIGTERM')]);
    expect(a.proc.exitCode).toBe(0);
    expect(b.proc.exitCode).toBe(0);
  }, 120_000);
});
