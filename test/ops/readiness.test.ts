/**
 * Readiness (GET /health/ready) beside liveness (GET /health): on a real process over a private
 * PostgreSQL cluster, ready → PostgreSQL stopped → 503 naming the database (never its host, port,
 * user or password), each answer within ~2 s, while /health stays 200 → PostgreSQL started → ready
 * again, without a restart. In-process: ready on the embedded database, and S3 checked by HeadBucket
 * (a refused endpoint fails at once; one that never answers fails at the probe's deadline).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCluster, skipWithoutPostgres } from '../helpers/pg-cluster.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { startTestServer } from '../helpers/server.js';

async function ready(base: string): Promise<{ status: number; body: any; ms: number; requestId: string | null }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/health/ready`);
  const body = await res.json();
  return { status: res.status, body, ms: performance.now() - t0, requestId: res.headers.get('x-request-id') };
}

async function until<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(skipWithoutPostgres())('readiness follows PostgreSQL (real process, private cluster)', () => {
  let cluster: PgCluster;
  let proc: ServerProcess | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    cluster = await PgCluster.create();
    await cluster.start();
  }, 120_000);
  afterAll(async () => {
    await proc?.stop('SIGKILL');
    await cluster?.cleanup();
    for (const d of dirs) removeDir(d);
  });

  it('flips to 503 when PostgreSQL stops and back to 200 when it returns; /health stays 200', async () => {
    const dataDir = scratchDir();
    dirs.push(dataDir);
    proc = await startServerProcess({ env: { DATA_DIR: dataDir, DATABASE_URL: cluster.url() } });
    const up = await ready(proc.url);
    expect(up.status).toBe(200);
    expect(up.body).toEqual({ status: 'ready', checks: { database: 'ok' } });
    expect(up.requestId).toBeTruthy();

    await cluster.stop('fast');
    const down = await until('not ready after PostgreSQL stopped', () => ready(proc!.url), (r) => r.status === 503);
    expect(down.body.status).toBe('not ready');
    expect(down.body.checks.database).toMatch(/^(unavailable|timeout)/);
    const text = JSON.stringify(down.body);
    for (const secret of [cluster.password, String(cluster.port), '127.0.0.1', 'postgres']) expect(text).not.toContain(secret);
    // Every answer while down is prompt, and liveness does not look at the database.
    for (let i = 0; i < 3; i++) {
      const r = await ready(proc.url);
      expect(r.status).toBe(503);
      expect(r.ms).toBeLessThan(2_000);
    }
    expect((await proc.call('GET', '/health')).status).toBe(200);

    await cluster.start();
    const back = await until('ready after PostgreSQL returned', () => ready(proc!.url), (r) => r.status === 200);
    expect(back.body).toEqual({ status: 'ready', checks: { database: 'ok' } });
    expect((await proc.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'after-outage' })).status).toBe(200);
  }, 120_000);
});

describe('readiness in-process', () => {
  const servers: { close(): Promise<void> }[] = [];
  const sockets: net.Server[] = [];
  const conns = new Set<net.Socket>();
  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const c of conns) c.destroy();
    for (const s of sockets) await new Promise((r) => s.close(r));
  });

  it('is ready on the embedded database', async () => {
    const s = await startTestServer('pglite');
    servers.push(s);
    const r = await ready(s.url);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', checks: { database: 'ok' } });
  });

  it('checks the S3 bucket: a refused endpoint is not ready at once, one that never answers at the deadline', async () => {
    // A port nothing listens on: connection refused.
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await startTestServer('pglite', {
      S3_BUCKET: 'secret-bucket-name',
      S3_ENDPOINT_URL: `http://127.0.0.1:${closedPort}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-key-value',
    });
    servers.push(refused);
    const r1 = await ready(refused.url);
    expect(r1.status).toBe(503);
    expect(r1.body.checks.database).toBe('ok');
    expect(r1.body.checks.s3).toMatch(/^failed/);
    expect(JSON.stringify(r1.body)).not.toMatch(/secret|AKID|127\.0\.0\.1|\d{4,5}/);

    // Accepts connections and never answers.
    const silent = net.createServer((c) => {
      conns.add(c);
      c.resume(); // reads (and so sees the client's FIN), never answers
    });
    sockets.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const hung = await startTestServer('pglite', {
      S3_BUCKET: 'b',
      S3_ENDPOINT_URL: `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'x',
    });
    servers.push(hung);
    const [a, b] = await Promise.all([ready(hung.url), ready(hung.url)]);
    for (const r of [a, b]) {
      expect(r.status).toBe(503);
      expect(r.body.checks).toEqual({ database: 'ok', s3: 'timeout' });
      expect(r.ms).toBeGreaterThan(1_000);
      expect(r.ms).toBeLessThan(2_500);
    }
    // The abandoned HeadBucket does not leave its connection behind.
    await until('probe connection closed', async () => [...conns].filter((c) => !c.closed).length, (n) => n === 0, 5_000);
  }, 120_000);
});
