import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MlflowError } from '../errors.js';
import { pooledTransaction, poolOptions, translateDbError } from './db.js';

const url = process.env.TEST_DATABASE_URL;

/** A loopback port nothing listens on (bound, read and closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** The error a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

const asMlflow = (err: unknown) => {
  expect(err).toBeInstanceOf(MlflowError);
  return err as MlflowError;
};

describe('translateDbError with real driver errors', () => {
  it('maps Node network errors (which always carry a string code) to 503 TEMPORARILY_UNAVAILABLE', async () => {
    const port = await closedPort();
    const sock = net.connect(port, '127.0.0.1');
    const refused = await new Promise<NodeJS.ErrnoException>((r) => sock.on('error', r));
    expect(refused.code).toBe('ECONNREFUSED');
    const t = asMlflow(translateDbError(refused));
    expect(t.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    expect(t.status).toBe(503);
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENETUNREACH']) {
      const e = Object.assign(new Error(`connect ${code} db.internal:5432`), { code, errno: -1, syscall: 'connect' });
      const m = asMlflow(translateDbError(e));
      expect(m.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
      expect(m.message).toContain(code);
      expect(m.message).not.toContain('db.internal');
    }
  });

  it("maps pg's connection errors and refused connects, without the URL, host, port or password in the message", async () => {
    const port = await closedPort();
    const secret = 's3cr3t-pw';
    const client = new pg.Client({ connectionString: `postgres://someone:${secret}@127.0.0.1:${port}/db` });
    const err = await rejection(client.connect());
    const t = asMlflow(translateDbError(err));
    expect(t.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    for (const leak of [secret, String(port), '127.0.0.1', 'someone']) expect(t.message).not.toContain(leak);

    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated',
      'Connection terminated due to connection timeout',
      'Client has encountered a connection error and is not queryable',
      'timeout exceeded when trying to connect',
    ]) {
      expect(asMlflow(translateDbError(new Error(message))).errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    }
    for (const code of ['57P01', '57P02', '57P03', '08006', '08003', '53300']) {
      expect(asMlflow(translateDbError(Object.assign(new Error('x'), { code }))).errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    }
  });

  it('keeps the other mappings, and leaves unknown errors alone (500)', () => {
    expect(asMlflow(translateDbError(Object.assign(new Error('dup'), { code: '23505' }))).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    expect(asMlflow(translateDbError(Object.assign(new Error('too long'), { code: '22001' }))).errorCode).toBe('BAD_REQUEST');
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    expect(translateDbError(syntax)).toBe(syntax);
    const plain = new Error('boom');
    expect(translateDbError(plain)).toBe(plain);
  });

  it('answers 503 for a pool whose database refuses connections', async () => {
    const pool = new pg.Pool(poolOptions(`postgres://u:pw@127.0.0.1:${await closedPort()}/db`, 2));
    try {
      const err = asMlflow(await rejection(pooledTransaction(pool, (tx) => tx.query('SELECT 1'))));
      expect(err.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!url)('pooledTransaction when the connection is terminated (postgres)', () => {
  let admin: pg.Client;
  let pool: pg.Pool;
  const appName = `db_test_${process.pid}`;
  const terminateOurs = () =>
    admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [appName]);
  const waitFor = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    pool = new pg.Pool(poolOptions(url!, 2, { application_name: appName }));
    pool.on('error', () => {});
  });
  afterAll(async () => {
    await pool?.end();
    await admin?.end();
  });

  it('survives a termination between two statements of a transaction: 503, the client destroyed, the pool usable', async () => {
    const removed: unknown[] = [];
    pool.on('remove', (c) => removed.push(c));
    let clientErrors = 0;
    const err = await rejection(
      pooledTransaction(pool, async (tx) => {
        await tx.query('SELECT 1');
        // The checked-out client is idle in its transaction: pg emits 'error' on it when the backend
        // is terminated, which ends the process unless someone listens.
        await terminateOurs();
        await waitFor(() => (clientErrors = (pool as unknown as { _clients: { _queryable: boolean }[] })._clients.filter((c) => !c._queryable).length) > 0);
        await tx.query('SELECT 2');
      }),
    );
    expect(clientErrors).toBeGreaterThan(0);
    expect(asMlflow(err).errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    await waitFor(() => removed.length > 0);
    expect(removed.length).toBeGreaterThan(0);
    expect(await pooledTransaction(pool, (tx) => tx.query<{ n: number }>('SELECT 41 + 1 AS n'))).toEqual([{ n: 42 }]);
  });

  it('answers 503 (never a success) when the connection is lost at COMMIT, and says the outcome is unknown', async () => {
    const err = await rejection(
      pooledTransaction(pool, async (tx) => {
        await tx.query('SELECT 1');
        await terminateOurs();
        await waitFor(() => (pool as unknown as { _clients: { _queryable: boolean }[] })._clients.some((c) => !c._queryable));
        return 'done';
      }),
    );
    const e = asMlflow(err);
    expect(e.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    expect(e.message).toMatch(/may or may not have been applied/);
    expect(await pooledTransaction(pool, (tx) => tx.query<{ n: number }>('SELECT 1 AS n'))).toEqual([{ n: 1 }]);
  });

  it('retries a BEGIN that meets a pooled client whose connection broke unnoticed, on another client', async () => {
    await pooledTransaction(pool, (tx) => tx.query('SELECT 1'));
    const idle = (pool as unknown as { _idle: { client: { _queryable: boolean } }[] })._idle;
    expect(idle.length).toBeGreaterThan(0);
    // What the pool hands out in the moment between a restart (or pg_terminate_backend) and pg
    // processing the FATAL on an idle connection: a client that can no longer be queried.
    for (const item of idle) item.client._queryable = false;
    expect(await pooledTransaction(pool, (tx) => tx.query<{ n: number }>('SELECT 1 AS n'))).toEqual([{ n: 1 }]);
  });
});
