/**
 * The read cache (READ_CACHE_MB, registry/read-cache.ts): a replica never serves its own writes
 * stale, whatever the mutation and whichever cached read (get model, get version, latest versions,
 * alias, search pages); reads racing writes never leave a stale entry behind; on PostgreSQL another
 * replica's writes reach the cache through the change feed; when the feed's connection dies the
 * cache is off until it is back, and nothing stale is served meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { Client, sleep, uniq, useServer } from './util.js';
import pg from 'pg';
import { CACHE_LISTENER_APPLICATION_NAME } from '../../packages/server/src/events/listener.js';
import { ANNOUNCED_SETTING, CHANGES_CHANNEL } from '../../packages/server/src/events/sink.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

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

/**
 * Every read the cache serves, about model `name` and its renamed self: status and body (minus
 * timestamps, which differ between two databases), for comparing a caching server with one that reads
 * the database every time.
 */
async function cachedReads(c: Client, name: string): Promise<unknown[]> {
  const reads: [string, Record<string, string | number | string[]>][] = [];
  for (const n of [name, `${name}-r`]) {
    reads.push(['/registered-models/get', { name: n }]);
    reads.push(['/registered-models/get-latest-versions', { name: n }]);
    reads.push(['/registered-models/get-latest-versions', { name: n, stages: ['production', 'None'] }]);
    for (const version of ['1', '2', '3']) reads.push(['/model-versions/get', { name: n, version }]);
    for (const alias of ['champion', 'latest']) reads.push(['/registered-models/alias', { name: n, alias }]);
  }
  reads.push(['/registered-models/search', { filter: `name LIKE '${name}%'` }]);
  reads.push(['/registered-models/search', { filter: `name LIKE '${name}%'`, max_results: 1 }]);
  reads.push(['/registered-models/search', { filter: `name LIKE '${name}%'`, max_results: 1, page_token: 'MQ==' }]);
  reads.push(['/registered-models/search', { filter: `tags.t = '2' AND name LIKE '${name}%'` }]);
  reads.push(['/model-versions/search', { filter: `name = '${name}'` }]);
  reads.push(['/model-versions/search', { filter: `name LIKE '${name}%' AND run_id = 'r2'` }]);
  reads.push(['/model-versions/search', { filter: `name = '${name}'`, max_results: 1, order_by: ['version_number DESC'] }]);
  const out: unknown[] = [];
  for (const [path, query] of reads) {
    const res = await c.get(path, query);
    out.push({ path, query, status: res.status, body: withoutTimestamps(res.body) });
  }
  return out;
}

function withoutTimestamps(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutTimestamps);
  if (x === null || typeof x !== 'object') return x;
  return Object.fromEntries(
    Object.entries(x)
      .filter(([k]) => k !== 'creation_timestamp' && k !== 'last_updated_timestamp')
      .map(([k, v]) => [k, withoutTimestamps(v)]),
  );
}

/** Every kind of registry mutation, in an order where each one changes what some cached read answers. */
const MUTATIONS: [string, (c: Client, name: string) => Promise<{ status: number }>][] = [
  ['create model', (c, name) => c.post('/registered-models/create', { name, tags: [{ key: 't', value: '1' }] })],
  ['set model tag', (c, name) => c.post('/registered-models/set-tag', { name, key: 't', value: '2' })],
  ['create version 1', (c, name) => c.post('/model-versions/create', { name, source: 's3://b/m/1', tags: [{ key: 'k', value: 'a' }] })],
  ['create version 2', (c, name) => c.post('/model-versions/create', { name, source: 's3://b/m/2', run_id: 'r2' })],
  ['create version 3', (c, name) => c.post('/model-versions/create', { name, source: 's3://b/m/3' })],
  ['version 1 to Production', (c, name) => c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Production', archive_existing_versions: false })],
  ['version 2 to Staging', (c, name) => c.post('/model-versions/transition-stage', { name, version: '2', stage: 'Staging', archive_existing_versions: false })],
  ['update version', (c, name) => c.patch('/model-versions/update', { name, version: '1', description: 'v1' })],
  ['set version tag', (c, name) => c.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'b' })],
  ['delete version tag', (c, name) => c.del('/model-versions/delete-tag', { name, version: '1', key: 'k' })],
  ['set alias', (c, name) => c.post('/registered-models/alias', { name, alias: 'champion', version: '2' })],
  ['move alias', (c, name) => c.post('/registered-models/alias', { name, alias: 'champion', version: '1' })],
  ['version 3 to Production, archiving', (c, name) => c.post('/model-versions/transition-stage', { name, version: '3', stage: 'Production', archive_existing_versions: true })],
  ['delete alias', (c, name) => c.del('/registered-models/alias', { name, alias: 'champion' })],
  ['alias on version 3', (c, name) => c.post('/registered-models/alias', { name, alias: 'champion', version: '3' })],
  ['delete version 3 (and its alias)', (c, name) => c.del('/model-versions/delete', { name, version: '3' })],
  ['update model', (c, name) => c.patch('/registered-models/update', { name, description: 'd' })],
  ['delete model tag', (c, name) => c.del('/registered-models/delete-tag', { name, key: 't' })],
  ['set model tag again', (c, name) => c.post('/registered-models/set-tag', { name, key: 't', value: '2' })],
  ['rename', (c, name) => c.post('/registered-models/rename', { name, new_name: `${name}-r` })],
  ['create the old name again', (c, name) => c.post('/registered-models/create', { name, tags: [{ key: 't', value: '2' }] })],
  ['delete the renamed model', (c, name) => c.del('/registered-models/delete', { name: `${name}-r` })],
  ['delete the model', (c, name) => c.del('/registered-models/delete', { name })],
];

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
  const c = useServer(backend, { READ_CACHE_MB: '1' });
  const plain = useServer(backend, { READ_CACHE_MB: '0' });

  it('every mutation is visible to the next read', async () => {
    await mutationsAreVisible(c, c);
  });

  it('after every kind of mutation, every cached read answers what a server without the cache answers', async () => {
    const name = uniq('diff');
    for (const [what, mutate] of MUTATIONS) {
      // Warm the cache (the second pass is served from it), then change the model on both servers.
      await cachedReads(c, name);
      await cachedReads(c, name);
      expect((await mutate(c, name)).status, what).toBe(200);
      expect((await mutate(plain, name)).status, what).toBe(200);
      expect(await cachedReads(c, name), what).toEqual(await cachedReads(plain, name));
    }
    // About 900 requests: 3-5 s on a quiet machine, over 30 s on a busy 2-core one.
  }, 180_000);

  it('reads racing writes never leave a stale entry behind', async () => {
    const name = uniq('race');
    await c.createModel(name);
    for (let round = 0; round < 20; round++) {
      const value = String(round);
      const read = (i: number) => (i % 2 ? c.getModel(name) : c.searchModels({ filter: `name = '${name}'` }));
      const reads = Array.from({ length: 8 }, (_, i) => read(i));
      const write = c.post('/registered-models/set-tag', { name, key: 'round', value });
      const more = Array.from({ length: 8 }, (_, i) => read(i));
      await Promise.all([...reads, write, ...more]);
      expect((await c.getModel(name)).tags).toEqual([{ key: 'round', value }]);
      expect((await c.searchModels({ filter: `name = '${name}'` })).registered_models[0].tags).toEqual([{ key: 'round', value }]);
    }
  });

  describe('with room for about three answers (2 kB)', () => {
    const small = useServer(backend, { READ_CACHE_MB: '0.002' });
    it('stays within its size and serves every model correctly past it', async () => {
      const names = Array.from({ length: 6 }, (_, i) => uniq(`lru${i}`));
      for (const n of names) {
        await small.createModel(n, { description: n });
        await small.createVersion(n, { source: `s3://b/${n}` });
      }
      for (let k = 0; k < 3; k++) {
        for (const n of names) {
          expect((await small.getModel(n)).description).toBe(n);
          expect((await small.getVersion(n, 1)).source).toBe(`s3://b/${n}`);
        }
      }
    });

    it('answers alias and latest versions correctly when a version is too long to keep', async () => {
      const name = uniq('long');
      for (const server of [small, plain]) {
        await server.createModel(name);
        await server.createVersion(name, { source: 's3://b/long', description: 'd'.repeat(3000) });
        expect((await server.post('/registered-models/alias', { name, alias: 'champion', version: '1' })).status).toBe(200);
      }
      // Twice: the second pass would be served from the cache if the answers had been kept.
      for (let k = 0; k < 2; k++) expect(await cachedReads(small, name)).toEqual(await cachedReads(plain, name));
    });
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('read cache across replicas on one PostgreSQL (postgres)', () => {
  let writer: TestServer;
  let reader: TestServer;
  let cw: Client;
  let cr: Client;
  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    writer = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
    reader = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
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

  it("right after every kind of mutation on another replica, every cached read answers what the database holds", async () => {
    const truth = await startTestServer('postgres', { READ_CACHE_MB: '0' }, { databaseUrl: writer.config.databaseUrl });
    try {
      const ct = new Client(truth);
      const name = uniq('diff');
      for (const [what, mutate] of MUTATIONS) {
        await cachedReads(cr, name);
        await cachedReads(cr, name);
        expect((await mutate(cw, name)).status, what).toBe(200);
        // No waiting: a kept answer is used only once the change feed has caught up.
        const seen = await cachedReads(cr, name);
        expect(seen, what).toEqual(await cachedReads(ct, name));
      }
    } finally {
      await truth.close();
    }
  });

  it("a read through one replica sees what was just written through another, every time", async () => {
    const name = uniq('ryw');
    await cw.createModel(name);
    await cw.createVersion(name, { source: 's3://b/m/1' });
    await cw.setAlias(name, 'champion', 1);
    const reads = {
      model: async () => (await cr.getModel(name)).description,
      version: async () => (await cr.get('/model-versions/get', { name, version: '1' })).body.model_version.description,
      alias: async () => (await cr.get('/registered-models/alias', { name, alias: 'champion' })).body.model_version.description,
      latest: async () => (await cr.get('/registered-models/get-latest-versions', { name })).body.model_versions[0].description,
    };
    for (let i = 0; i < 100; i++) {
      const d = `d${i}`;
      await cw.patch('/registered-models/update', { name, description: d });
      await cw.patch('/model-versions/update', { name, version: '1', description: d });
      // Each read is a cache hit from the previous round; each must see this round's writes.
      expect([await reads.model(), await reads.version(), await reads.alias(), await reads.latest()], `round ${i}`).toEqual([d, d, d, d]);
    }
    // The same with reads in flight together, sharing catch-ups.
    for (let i = 0; i < 30; i++) {
      const d = `p${i}`;
      await cw.patch('/registered-models/update', { name, description: d });
      const seen = await Promise.all(Array.from({ length: 16 }, () => reads.model()));
      expect(new Set(seen), `round ${i}`).toEqual(new Set([d]));
    }
  });

  it("another replica's writes reach the cache in both directions, renames included", async () => {
    const name = uniq('feed');
    await cw.createModel(name);
    expect(await cr.getModel(name)).toBeDefined(); // cached now
    await cw.post('/registered-models/set-tag', { name, key: 'i', value: 'x' });
    expect((await cr.getModel(name)).tags).toEqual([{ key: 'i', value: 'x' }]);
    // And the other way round, both replicas having the model cached.
    expect(await cw.getModel(name)).toBeDefined();
    await cr.post('/registered-models/set-tag', { name, key: 'i', value: 'back' });
    expect((await cw.getModel(name)).tags).toEqual([{ key: 'i', value: 'back' }]);
    await cw.post('/registered-models/rename', { name, new_name: `${name}-r` });
    expect((await cr.get('/registered-models/get', { name })).status).toBe(404);
  });

  it('when the change feed dies the cache is off, nothing stale is served, and it comes back', async () => {
    const name = uniq('dead');
    await cw.createModel(name, { description: 'before' });
    expect((await cr.getModel(name)).description).toBe('before');
    const killed = await writer.server.db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [CACHE_LISTENER_APPLICATION_NAME],
    );
    expect(killed[0]!.n).toBeGreaterThanOrEqual(1);
    await sleep(100); // the reader notices the closed connection
    await cw.patch('/registered-models/update', { name, description: 'during' });
    expect((await cr.getModel(name)).description).toBe('during');
    // The feed reconnects (retry after 1 s); afterwards changes are heard again.
    await eventually(async () => {
      const rows = await writer.server.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
        [CACHE_LISTENER_APPLICATION_NAME],
      );
      expect(rows[0]!.n).toBe(2); // both replicas' feeds
    }, 5000);
    expect((await cr.getModel(name)).description).toBe('during');
    await cw.patch('/registered-models/update', { name, description: 'after' });
    await eventually(async () => expect((await cr.getModel(name)).description).toBe('after'));
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('announcing changes only while another cache listens (postgres)', () => {
  let databaseUrl: string;
  let lone: TestServer;
  let cl: Client;
  const raw: pg.Client[] = [];
  const connect = async (application_name: string) => {
    const c = new pg.Client({ connectionString: databaseUrl, application_name });
    await c.connect();
    raw.push(c);
    return c;
  };
  /** Notifications on the change feed that `c` receives from now on. */
  const heard = async (c: pg.Client) => {
    const got: string[] = [];
    c.on('notification', (n) => got.push(n.payload ?? ''));
    await c.query(`LISTEN ${CHANGES_CHANNEL}`);
    return got;
  };
  /** Opens a transaction on `c` that holds an xid, as a writer does once it has changed something. */
  const holdXid = async (c: pg.Client) => {
    await c.query('BEGIN');
    await c.query('SELECT pg_current_xact_id()');
  };
  /**
   * Changes a model's description behind every server's back: nothing announces it (the setting tells
   * the database's change triggers that the writer announces its changes itself, which it does not).
   */
  let admin: Promise<pg.Client> | undefined;
  const rawUpdate = async (name: string, description: string) =>
    void (await (await (admin ??= connect('admin'))).query(
      `UPDATE registered_models SET description = $1 WHERE name = $2 AND set_config('${ANNOUNCED_SETTING}', 'on', true) = 'on'`,
      [description, name],
    ));
  /** Waits until `c` answers from its cache: a raw change to the cached model stays unseen. */
  const eventuallyLive = (c: Client, name: string) => {
    let n = 0;
    return eventually(async () => {
      const d = `unseen-${n++}`;
      await c.getModel(name);
      await rawUpdate(name, d);
      expect((await c.getModel(name)).description).not.toBe(d);
    });
  };
  beforeAll(async () => {
    databaseUrl = await createTestDatabase();
    lone = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
    cl = new Client(lone);
  });
  afterAll(async () => {
    for (const c of raw) await c.end().catch(() => {});
    await lone?.close();
  });

  it("a replica's writes NOTIFY nothing while no other replica's cache listens, and do once one does", async () => {
    const bystander = await heard(await connect('not-a-cache'));
    const name = uniq('lone');
    await cl.createModel(name);
    await cl.post('/registered-models/set-tag', { name, key: 'k', value: '1' });
    await sleep(300); // a notification is sent at COMMIT, before the response
    expect(bystander).toEqual([]);

    // A cache announces itself with its LISTEN connection's pid.
    const cacheConn = await connect(CACHE_LISTENER_APPLICATION_NAME);
    const cache = await heard(cacheConn);
    await cacheConn.query('INSERT INTO registry_cache_listeners (pid, registered_at) VALUES (pg_backend_pid(), 0)');
    await cl.post('/registered-models/set-tag', { name, key: 'k', value: '2' });
    await eventually(async () => expect(cache).toEqual([JSON.stringify([name])]));
    // Each listening backend is sent the notification on its own: the bystander's may come a little later.
    await eventually(async () => expect(bystander).toEqual([JSON.stringify([name])]));
  });

  it('a write transaction open on another database of the cluster does not hold a cache back', async () => {
    const name = uniq('elsewhere');
    await cl.createModel(name, { description: 'd0' });
    const elsewhere = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await elsewhere.connect();
    raw.push(elsewhere);
    await holdXid(elsewhere);
    const late = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
    try {
      await eventuallyLive(new Client(late), name);
    } finally {
      await elsewhere.query('ROLLBACK');
      await late.close();
    }
  });

  it('registrations of listeners that are gone are pruned, and a server deletes its own when it stops', async () => {
    const impostor = await connect('not-a-cache');
    await impostor.query('INSERT INTO registry_cache_listeners (pid, registered_at) VALUES (pg_backend_pid(), 0), (2147483646, 0)');
    const pids = async () =>
      (await lone.server.db.query<{ pid: number }>('SELECT pid FROM registry_cache_listeners ORDER BY pid')).map((r) => r.pid);
    const before = await pids();
    const other = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
    let otherPid = 0;
    try {
      await eventually(async () => {
        const now = await pids();
        expect(now).not.toContain(2147483646);
        expect(now).toHaveLength(before.length - 1); // the impostor's and the dead row gone, the new server's added
        otherPid = now.find((p) => !before.includes(p))!;
        expect(otherPid).toBeGreaterThan(0);
      });
    } finally {
      await other.close();
    }
    expect(await pids()).not.toContain(otherPid);
  });

  it("a replica without the cache announces its writes to one that caches", async () => {
    const plain = await startTestServer('postgres', { READ_CACHE_MB: '0' }, { databaseUrl });
    try {
      const name = uniq('plain');
      await cl.createModel(name);
      await eventually(async () => {
        expect(await cl.getModel(name)).toBeDefined(); // cached once the lone server's cache is live
        await new Client(plain).post('/registered-models/set-tag', { name, key: 'by', value: 'plain' });
        expect((await cl.getModel(name)).tags).toEqual([{ key: 'by', value: 'plain' }]);
      });
    } finally {
      await plain.close();
    }
  });

  it('a cache goes live only after the write transactions under way when it started listening have ended', async () => {
    const name = uniq('late');
    await cl.createModel(name, { description: 'd0' });
    // A writer that has taken its xid and looked for listeners before the new replica existed.
    const writer = await connect('a-writer');
    await holdXid(writer);
    const late = await startTestServer('postgres', { READ_CACHE_MB: '4' }, { databaseUrl });
    try {
      const c = new Client(late);
      await sleep(200);
      // Not live yet: every raw change is seen at once (a live cache would keep answering 'd0').
      for (const d of ['d1', 'd2']) {
        expect((await c.getModel(name)).description).not.toBe(d);
        await rawUpdate(name, d);
        expect((await c.getModel(name)).description).toBe(d);
      }
      await writer.query('COMMIT');
      await eventuallyLive(c, name);
    } finally {
      await late.close();
    }
  });
});
