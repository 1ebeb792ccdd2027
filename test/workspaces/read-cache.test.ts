/**
 * The read cache per workspace (registry/read-cache.ts keys each answer by workspace and model): two
 * replicas on one PostgreSQL, each caching; a write in one workspace through one replica is seen at once
 * through the other in that workspace, and never changes (or empties) what the other workspace reads. A
 * deleted workspace is gone at once on every replica. Checked against a replica without the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { uniq } from '../registry/util.js';
import { WsClient } from './util.js';
import { eventually } from '../webhooks/receiver.js';
import pg from 'pg';

/** Every cached read about model `name` in one workspace, as status and body (timestamps dropped). */
async function reads(c: WsClient, name: string): Promise<unknown> {
  const strip = (v: unknown): unknown =>
    JSON.parse(JSON.stringify(v), (k, x) => (k === 'creation_timestamp' || k === 'last_updated_timestamp' ? undefined : x));
  const out: unknown[] = [];
  for (const [path, q] of [
    ['/registered-models/get', { name }],
    ['/registered-models/get-latest-versions', { name }],
    ['/model-versions/get', { name, version: '1' }],
    ['/registered-models/alias', { name, alias: 'champ' }],
    ['/registered-models/search', { filter: `name LIKE '${name}%'` }],
    ['/model-versions/search', { filter: `name='${name}'` }],
  ] as const) {
    const r = await c.get(path, q);
    out.push([path, r.status, strip(r.body)]);
  }
  return out;
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('read cache per workspace across two replicas (postgres)', () => {
  let one: TestServer;
  let two: TestServer;
  let truth: TestServer;
  const env = { READ_CACHE_MB: '4', MLFLOW_ENABLE_WORKSPACES: 'true' };
  const tag = Math.random().toString(36).slice(2, 7);
  const [A, B] = [`rc-a-${tag}`, `rc-b-${tag}`];
  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    one = await startTestServer('postgres', env, { databaseUrl });
    two = await startTestServer('postgres', env, { databaseUrl });
    truth = await startTestServer('postgres', { READ_CACHE_MB: '0', MLFLOW_ENABLE_WORKSPACES: 'true' }, { databaseUrl });
    const admin = new WsClient(() => one, undefined);
    expect((await admin.createWorkspace(A)).status).toBe(201);
    expect((await admin.createWorkspace(B)).status).toBe(201);
    // Both caches listen (registered with the change feed) before the tests read through them.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    try {
      await eventually(async () => Number((await db.query('SELECT count(*) AS n FROM registry_cache_listeners')).rows[0].n) >= 2 || undefined);
    } finally {
      await db.end();
    }
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await truth?.close();
  });

  it('a write in one workspace through one replica: the other replica reads it in that workspace, and the other workspace is unchanged', async () => {
    const name = uniq('rc');
    const w = { A: new WsClient(() => one, A), B: new WsClient(() => one, B) };
    const r = { A: new WsClient(() => two, A), B: new WsClient(() => two, B) };
    const t = { A: new WsClient(() => truth, A), B: new WsClient(() => truth, B) };
    const check = async (what: string) => {
      for (const ws of ['A', 'B'] as const) {
        // Twice: the second answer comes from the cache where it kept one.
        await reads(r[ws], name);
        expect(await reads(r[ws], name), `${what} (${ws})`).toEqual(await reads(t[ws], name));
      }
    };
    const steps: [string, () => Promise<unknown>][] = [
      ['create in A', () => w.A.createModel(name, { description: 'a' })],
      ['create in B', () => w.B.createModel(name, { description: 'b' })],
      ['version in A', () => w.A.createVersion(name, { source: 's3://a/1' })],
      ['alias in A', () => w.A.setAlias(name, 'champ', 1)],
      ['version in B', () => w.B.createVersion(name, { source: 's3://b/1' })],
      ['tag in B', () => w.B.post('/registered-models/set-tag', { name, key: 'k', value: 'v' })],
      ['transition in A', () => w.A.transition(name, 1, 'Production')],
      ['alias in B', () => w.B.setAlias(name, 'champ', 1)],
      ['delete alias in A', () => w.A.del('/registered-models/alias', { name, alias: 'champ' })],
      ['another model in A (searches)', () => w.A.createModel(`${name}-2`)],
      ['delete in B', () => w.B.del('/registered-models/delete', { name })],
    ];
    await check('before');
    for (const [what, step] of steps) {
      await step();
      await check(what);
    }
  });

  it('default and another workspace keep apart in the cache (default keys are the bare names)', async () => {
    const name = uniq('rcd');
    const wd = new WsClient(() => one, undefined);
    const rd = new WsClient(() => two, undefined);
    const rA = new WsClient(() => two, A);
    await wd.createModel(name, { description: 'default' });
    await new WsClient(() => one, A).createModel(name, { description: 'in A' });
    expect((await rd.getModel(name)).description).toBe('default');
    expect((await rA.getModel(name)).description).toBe('in A');
    await wd.patch('/registered-models/update', { name, description: 'default 2' });
    expect((await rd.getModel(name)).description).toBe('default 2');
    expect((await rA.getModel(name)).description).toBe('in A');
  });

  it('a workspace deleted through one replica is gone at once on the other', async () => {
    const C = `rc-c-${tag}`;
    const admin = new WsClient(() => one, undefined);
    expect((await admin.createWorkspace(C)).status).toBe(201);
    const name = uniq('rcc');
    await new WsClient(() => one, C).createModel(name);
    const rc = new WsClient(() => two, C);
    // Cached on the reading replica: the workspace's existence, the model.
    expect((await rc.getModel(name)).name).toBe(name);
    expect((await rc.getModel(name)).name).toBe(name);
    expect((await admin.deleteWorkspace(C, 'CASCADE')).status).toBe(204);
    const gone = await rc.get('/registered-models/get', { name });
    expect(gone.status).toBe(404);
    expect(gone.body.message).toBe(`Workspace '${C}' not found`);
    // Created again: empty, on both replicas.
    expect((await admin.createWorkspace(C)).status).toBe(201);
    expect((await rc.get('/registered-models/get', { name })).body.message).toBe(`Registered Model with name=${name} not found`);
  });
});
