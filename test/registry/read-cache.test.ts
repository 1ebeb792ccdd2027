/**
 * The get-registered-model read cache (READ_CACHE_SIZE, registry/read-cache.ts): a replica never
 * serves its own writes stale, whatever the mutation; reads racing writes never leave a stale entry
 * behind; on PostgreSQL another replica's writes reach the cache through the change feed; when the feed's connection dies the cache is off until it
 * is back, and nothing stale is served meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { Client, sleep, uniq, useServer } from './util.js';
import { FEED_APPLICATION_NAME } from '../../packages/server/src/events/changes.js';

/** Every registry mutation, each followed by the get-registered-model answer it must produce. */
async function mutationsAreVisible(w: Client, r: Client): Promise<void> {
  const name = uniq('cache');
  const model = () => r.getModel(name);
  await w.createModel(name, { tags: [{ key: 't', value: '1' }] });
  expect((await model()).tags).toEqual([{ key: 't', value: '1' }]);
  expect(await model()).toBeDefined(); // served from the cache where it is on

  await w.post('/registered-models/set-tag', { name, key: 't', value: '2' });
  expect((await model()).tags).toEqual([{ key: 't', value: '2' }]);
  await w.del('/registered-models/delete-tag', { name, key: 't' });
  expect((await model()).tags).toBeUndefined();
  await w.patch('/registered-models/update', { name, description: 'd1' });
  expect((await model()).description).toBe('d1');

  await w.createVersion(name, { source: 's3://b/m/1' });
  expect((await model()).latest_versions.map((v: any) => v.version)).toEqual(['1']);
  await w.createVersion(name, { source: 's3://b/m/2' });
  expect((await model()).latest_versions.map((v: any) => v.version)).toEqual(['2']);
  await w.transition(name, 1, 'Production');
  expect((await model()).latest_versions.map((v: any) => `${v.version}:${v.current_stage}`)).toEqual(['1:Production', '2:None']);
  await w.patch('/model-versions/update', { name, version: '1', description: 'v1' });
  expect((await model()).latest_versions[0].description).toBe('v1');
  await w.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' });
  await w.setAlias(name, 'champion', 2);
  expect((await model()).aliases).toEqual([{ alias: 'champion', version: '2' }]);
  await w.del('/registered-models/alias', { name, alias: 'champion' });
  expect((await model()).aliases).toBeUndefined();
  await w.del('/model-versions/delete', { name, version: '2' });
  expect((await model()).latest_versions.map((v: any) => v.version)).toEqual(['1']);

  await w.post('/registered-models/rename', { name, new_name: `${name}-r` });
  expect((await r.get('/registered-models/get', { name })).status).toBe(404);
  expect((await r.getModel(`${name}-r`)).name).toBe(`${name}-r`);
  // The old name can be taken again and is not confused with the renamed model.
  await w.createModel(name);
  expect((await model()).latest_versions).toBeUndefined();
  await w.del('/registered-models/delete', { name });
  expect((await r.get('/registered-models/get', { name })).status).toBe(404);
}

/** Polls until `check` passes (for changes that travel between replicas); fails after `ms`. */
async function eventually(check: () => Promise<void>, ms = 3000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - t0;
    } catch (err) {
      if (Date.now() - t0 > ms) throw err;
      await sleep(5);
    }
  }
}

describe.each(backends())('read cache, one replica (%s)', (backend) => {
  const c = useServer(backend, { READ_CACHE_SIZE: '3' });

  it('every mutation is visible to the next read', async () => {
    await mutationsAreVisible(c, c);
  });

  it('reads racing writes never leave a stale entry behind', async () => {
    const name = uniq('race');
    await c.createModel(name);
    for (let round = 0; round < 20; round++) {
      const value = String(round);
      const reads = Array.from({ length: 8 }, () => c.getModel(name));
      const write = c.post('/registered-models/set-tag', { name, key: 'round', value });
      const more = Array.from({ length: 8 }, () => c.getModel(name));
      await Promise.all([...reads, write, ...more]);
      expect((await c.getModel(name)).tags).toEqual([{ key: 'round', value }]);
    }
  });

  it('stays within its size and serves every model correctly past it', async () => {
    const names = Array.from({ length: 6 }, (_, i) => uniq(`lru${i}`));
    for (const n of names) await c.createModel(n, { description: n });
    for (let k = 0; k < 3; k++) for (const n of names) expect((await c.getModel(n)).description).toBe(n);
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('read cache across replicas on one PostgreSQL (postgres)', () => {
  let writer: TestServer;
  let reader: TestServer;
  let cw: Client;
  let cr: Client;
  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    writer = await startTestServer('postgres', { READ_CACHE_SIZE: '1000' }, { databaseUrl });
    reader = await startTestServer('postgres', { READ_CACHE_SIZE: '1000' }, { databaseUrl });
    cw = new Client(writer);
    cr = new Client(reader);
  });
  afterAll(async () => {
    await writer?.close();
    await reader?.close();
  });

  it('the caching replica sees its own writes at once', async () => {
    await mutationsAreVisible(cr, cr);
  });

  it("another replica's writes reach the cache through the change feed", async () => {
    const name = uniq('feed');
    await cw.createModel(name);
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(await cr.getModel(name)).toBeDefined(); // cached now
      await cw.post('/registered-models/set-tag', { name, key: 'i', value: String(i) });
      delays.push(await eventually(async () => expect((await cr.getModel(name)).tags).toEqual([{ key: 'i', value: String(i) }])));
    }
    // And the other way round, both replicas having the model cached.
    expect(await cw.getModel(name)).toBeDefined();
    await cr.post('/registered-models/set-tag', { name, key: 'i', value: 'back' });
    delays.push(await eventually(async () => expect((await cw.getModel(name)).tags).toEqual([{ key: 'i', value: 'back' }])));
    await cw.post('/registered-models/rename', { name, new_name: `${name}-r` });
    await eventually(async () => expect((await cr.get('/registered-models/get', { name })).status).toBe(404));
    // Across replicas the delay is the notification's, a few milliseconds at most on one host.
    expect(Math.max(...delays)).toBeLessThan(1000);
  });

  it('when the change feed dies the cache is off, nothing stale is served, and it comes back', async () => {
    const name = uniq('dead');
    await cw.createModel(name, { description: 'before' });
    expect((await cr.getModel(name)).description).toBe('before');
    const killed = await writer.server.db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [FEED_APPLICATION_NAME],
    );
    expect(killed[0]!.n).toBeGreaterThanOrEqual(1);
    await sleep(100); // the reader notices the closed connection
    await cw.patch('/registered-models/update', { name, description: 'during' });
    expect((await cr.getModel(name)).description).toBe('during');
    // The feed reconnects (retry after 1 s); afterwards changes are heard again.
    await eventually(async () => {
      const rows = await writer.server.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [FEED_APPLICATION_NAME],
      );
      expect(rows[0]!.n).toBe(2); // both replicas' feeds
    }, 5000);
    expect((await cr.getModel(name)).description).toBe('during');
    await cw.patch('/registered-models/update', { name, description: 'after' });
    await eventually(async () => expect((await cr.getModel(name)).description).toBe('after'));
  });
});
