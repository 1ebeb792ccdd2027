/**
 * The permission-decision cache (auth/grant-cache.ts, wired by auth/decision-cache.ts) never decides
 * on stale grants: every change of grants, roles, role assignments, the admin flag, a user, and the
 * registry's grant effects (creator MANAGE, rename moves grants, delete drops them) decides the very
 * next request, on the replica it was made through (PGlite and PostgreSQL) and on another replica of
 * the same PostgreSQL (the change feed), also after the feed's connection died and came back. Each
 * step first warms the cache with the decision before the change.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { backends, createTestDatabase, startTestServer, statusAndBody, type TestServer } from '../helpers/server.js';
import { AuthStore } from '../../packages/server/src/auth/store.js';
import { TokenStore } from '../../packages/server/src/auth/tokens.js';
import { CACHE_LISTENER_APPLICATION_NAME } from '../../packages/server/src/events/listener.js';
import { AUTH_CHANGES_CHANNEL } from '../../packages/server/src/auth/changes.js';
import { removeDir, scratchDir, startServerProcess } from '../helpers/process.js';

const ADMIN_PW = 'the-admin-password-1';
const PW = 'a-user-password-12';
const ENV = { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' };
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
let seq = 0;
const uniq = (p: string) => `${p}_${Date.now().toString(36)}_${seq++}`;

/** A caller of one server as one user. */
function as(t: TestServer, user: string, password: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await t.fetch(path, {
      method,
      headers: { authorization: basic(user, password), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return statusAndBody(res);
  };
  return {
    call,
    ok: async (method: string, path: string, body?: unknown) => {
      const r = await call(method, path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).toBe(200);
      return r.body;
    },
    /** get-registered-model's status. */
    get: async (name: string) => (await call('GET', `/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(name)}`)).status,
  };
}
type Caller = ReturnType<typeof as>;

/**
 * Every kind of change, each checked on `reader` (bob's requests) right after it was made through
 * `writer` (admin's and bob's writes); both may be the same server.
 */
async function everyChangeDecidesTheNextRequest(writer: TestServer, reader: TestServer, store?: AuthStore): Promise<void> {
  const admin = as(writer, 'admin', ADMIN_PW);
  const bob = uniq('bob');
  await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: bob, password: PW });
  const bw = as(writer, bob, PW);
  const br = as(reader, bob, PW);
  const model = uniq('dc');
  await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: model });
  /** bob's decision on `name`: `before` (asked twice: the second is a cache hit), then `change`, then `after` at once. */
  const step = async (what: string, name: string, before: number, change: () => Promise<unknown>, after: number) => {
    expect(await br.get(name), `${what}: before`).toBe(before);
    expect(await br.get(name), `${what}: before (kept)`).toBe(before);
    await change();
    expect(await br.get(name), `${what}: after`).toBe(after);
  };
  const grant = (permission: string, name = model, resource_type = 'registered_model') =>
    admin.ok('POST', '/api/3.0/mlflow/users/permissions/grant', { username: bob, resource_type, resource_id: name, permission });
  const revoke = (name = model) => admin.ok('POST', '/api/3.0/mlflow/users/permissions/revoke', { username: bob, resource_type: 'registered_model', resource_id: name });

  // Per-user grants.
  await step('grant READ', model, 403, () => grant('READ'), 200);
  await step('revoke', model, 200, () => revoke(), 403);
  await step('grant DENY', model, 403, () => grant('DENY'), 403);
  await step('revoke DENY', model, 403, () => revoke(), 403);

  // Roles: permissions added, updated, removed; assignment; deletion.
  const role = (await admin.ok('POST', '/api/3.0/mlflow/roles/create', { workspace: 'default', name: uniq('role') })).role;
  const perm = (await admin.ok('POST', '/api/3.0/mlflow/roles/permissions/add', { role_id: role.id, resource_type: 'registered_model', resource_pattern: model, permission: 'READ' }))
    .role_permission;
  await step('assign role', model, 403, () => admin.ok('POST', '/api/3.0/mlflow/roles/assign', { username: bob, role_id: role.id }), 200);
  await step('role permission → DENY', model, 200, () => admin.ok('PATCH', '/api/3.0/mlflow/roles/permissions/update', { role_permission_id: perm.id, permission: 'DENY' }), 403);
  await step('role permission → READ', model, 403, () => admin.ok('PATCH', '/api/3.0/mlflow/roles/permissions/update', { role_permission_id: perm.id, permission: 'READ' }), 200);
  await step('unassign role', model, 200, () => admin.ok('DELETE', '/api/3.0/mlflow/roles/unassign', { username: bob, role_id: role.id }), 403);
  await step('assign again', model, 403, () => admin.ok('POST', '/api/3.0/mlflow/roles/assign', { username: bob, role_id: role.id }), 200);
  await step('remove role permission', model, 200, () => admin.ok('DELETE', '/api/3.0/mlflow/roles/permissions/remove', { role_permission_id: perm.id }), 403);
  const wild = (await admin.ok('POST', '/api/3.0/mlflow/roles/permissions/add', { role_id: role.id, resource_type: 'registered_model', resource_pattern: '*', permission: 'READ' }))
    .role_permission;
  expect(wild.id).toBeDefined();
  expect(await br.get(model)).toBe(200);
  await step('delete role', model, 200, () => admin.ok('DELETE', '/api/3.0/mlflow/roles/delete', { role_id: role.id }), 403);

  // The registry's grant effects: the creator's MANAGE, a rename, a delete (then the name reused).
  const mine = uniq('mine');
  // A missing model is judged on default_permission (NO_PERMISSIONS here): 403.
  await step('creator gets MANAGE', mine, 403, () => bw.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: mine }), 200);
  const renamed = `${mine}_r`;
  await step('rename moves the grant', renamed, 403, () => bw.ok('POST', '/api/2.0/mlflow/registered-models/rename', { name: mine, new_name: renamed }), 200);
  expect(await br.get(mine)).toBe(403);
  await step(
    'delete drops the grant',
    renamed,
    200,
    async () => {
      await admin.ok('DELETE', '/api/2.0/mlflow/registered-models/delete', { name: renamed });
      await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: renamed });
    },
    403,
  );

  // Whether a model is a prompt decides which grants apply: kept classifications follow the model.
  const promptRole = (await admin.ok('POST', '/api/3.0/mlflow/roles/create', { workspace: 'default', name: uniq('prompts') })).role;
  const p = uniq('p');
  await admin.ok('POST', '/api/3.0/mlflow/roles/permissions/add', { role_id: promptRole.id, resource_type: 'prompt', resource_pattern: p, permission: 'READ' });
  await admin.ok('POST', '/api/3.0/mlflow/roles/assign', { username: bob, role_id: promptRole.id });
  await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: p });
  await step(
    'a model becomes a prompt',
    p,
    403,
    async () => {
      await admin.ok('DELETE', '/api/2.0/mlflow/registered-models/delete', { name: p });
      await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: p, tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    },
    200,
  );

  // A write through another AuthStore over the same database object (as tests and tools make).
  if (store) await step('grant through another AuthStore', model, 403, () => store.grantUserPermission(bob, 'registered_model', model, 'READ', 'default'), 200);
  else await step('grant', model, 403, () => grant('READ'), 200);

  // The admin flag and the user itself live in the credential cache: exact on the replica that made
  // the change; another replica drops the user's credentials when it hears the change (no catch-up).
  const userStep = async (what: string, name: string, before: number, change: () => Promise<unknown>, after: number) => {
    if (writer === reader) return step(what, name, before, change, after);
    expect(await br.get(name), `${what}: before`).toBe(before);
    await change();
    await waitUntil(async () => (await br.get(name)) === after, 2000);
  };
  const secret = uniq('secret');
  await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name: secret });
  await userStep('made admin', secret, 403, () => admin.ok('PATCH', '/api/2.0/mlflow/users/update-admin', { username: bob, is_admin: true }), 200);
  await userStep('admin no more', secret, 200, () => admin.ok('PATCH', '/api/2.0/mlflow/users/update-admin', { username: bob, is_admin: false }), 403);
  await userStep('password changed', model, 200, () => admin.ok('PATCH', '/api/2.0/mlflow/users/update-password', { username: bob, password: `${PW}-new` }), 401);
  const bobNew = as(reader, bob, `${PW}-new`);
  expect(await bobNew.get(model)).toBe(200);
  expect(await bobNew.get(model)).toBe(200);
  await admin.ok('DELETE', '/api/2.0/mlflow/users/delete', { username: bob });
  if (writer === reader) expect(await bobNew.get(model)).toBe(401);
  else await waitUntil(async () => (await bobNew.get(model)) === 401, 2000);
}

describe.each(backends())('permission-decision cache, one replica (%s)', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, ENV);
  }, 60_000);
  afterAll(async () => t?.close());

  it('every change decides the very next request', async () => {
    await everyChangeDecidesTheNextRequest(t, t, new AuthStore(t.server.db));
  }, 120_000);

  it('serves repeated decisions from memory', async () => {
    const admin = as(t, 'admin', ADMIN_PW);
    const carol = uniq('carol');
    await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: carol, password: PW });
    const name = uniq('hot');
    await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name });
    await admin.ok('POST', '/api/3.0/mlflow/users/permissions/grant', { username: carol, resource_type: 'registered_model', resource_id: name, permission: 'READ' });
    const c = as(t, carol, PW);
    const cache = grantCacheOf(t);
    expect(await c.get(name)).toBe(200);
    const hits = cache.hits;
    const misses = cache.misses;
    for (let i = 0; i < 10; i++) expect(await c.get(name)).toBe(200);
    expect(cache.hits - hits).toBe(10);
    expect(cache.misses).toBe(misses);
  });
});

describe.each(backends())('permission-decision cache with a small budget (%s)', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, { ...ENV, MLFLOW_AUTH_CACHE_MAX_SIZE: '8' });
  }, 60_000);
  afterAll(async () => t?.close());

  it('stays within MLFLOW_AUTH_CACHE_MAX_SIZE grant rows and decides every user correctly past it', async () => {
    const admin = as(t, 'admin', ADMIN_PW);
    const name = uniq('bounded');
    await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name });
    const users: Caller[] = [];
    for (let i = 0; i < 6; i++) {
      const u = uniq(`u${i}`);
      await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: u, password: PW });
      // Even users may read; odd ones hold a DENY; user 5 holds more grants than the whole budget.
      await admin.ok('POST', '/api/3.0/mlflow/users/permissions/grant', { username: u, resource_type: 'registered_model', resource_id: name, permission: i % 2 ? 'DENY' : 'READ' });
      if (i === 4) {
        for (let j = 0; j < 10; j++) await admin.ok('POST', '/api/3.0/mlflow/users/permissions/grant', { username: u, resource_type: 'registered_model', resource_id: `other${j}`, permission: 'READ' });
      }
      users.push(as(t, u, PW));
    }
    const cache = grantCacheOf(t);
    for (let round = 0; round < 3; round++) {
      for (const [i, u] of users.entries()) {
        expect(await u.get(name), `user ${i}`).toBe(i % 2 ? 403 : 200);
        expect(cache.cost).toBeLessThanOrEqual(8);
      }
    }
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('permission-decision cache across replicas on one PostgreSQL (postgres)', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const databaseUrl = await createTestDatabase();
    a = await startTestServer('postgres', ENV, { databaseUrl });
    b = await startTestServer('postgres', ENV, { databaseUrl });
    await waitUntil(async () => grantCacheLive(a) && grantCacheLive(b));
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('a change made through one replica decides the next request on the other', async () => {
    await everyChangeDecidesTheNextRequest(a, b);
    await everyChangeDecidesTheNextRequest(b, a);
  }, 180_000);

  it('a replica in another process decides on the next request too', async () => {
    const dir = scratchDir();
    const proc = await startServerProcess({ env: { ...ENV, DATA_DIR: dir, DATABASE_URL: a.config.databaseUrl! } });
    try {
      const other = { fetch: (p: string, init?: RequestInit) => fetch(proc.url + p, init) } as unknown as TestServer;
      // Its caches go live once its change feed has registered (a, b and it) and earlier writers ended.
      await waitUntil(async () => (await a.server.db.query<{ n: number }>('SELECT count(*)::int AS n FROM registry_cache_listeners'))[0]!.n >= 3, 20_000);
      await new Promise((r) => setTimeout(r, 500));
      await everyChangeDecidesTheNextRequest(a, other);
    } finally {
      await proc.stop();
      removeDir(dir);
    }
  }, 180_000);

  it('a revoked access token is refused on the other replica as soon as it hears the revocation, not after the cache TTL', async () => {
    const admin = as(a, 'admin', ADMIN_PW);
    const carol = uniq('carol');
    await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: carol, password: PW });
    const viaBearer = async (t: TestServer, token: string) =>
      (await t.fetch('/api/2.0/mlflow/registered-models/search', { headers: { authorization: `Bearer ${token}` } })).status;
    const issue = async () => (await as(a, carol, PW).ok('POST', '/api/2.0/mlflow-ts/tokens/create', { name: uniq('t') })) as { token: string; access_token: { id: number } };

    // Revoked through the API of replica a: b, which has the token cached (TTL 60 s), refuses it too.
    const first = await issue();
    for (const t of [a, b, b]) expect(await viaBearer(t, first.token)).toBe(200);
    await as(a, carol, PW).ok('POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: first.access_token.id });
    expect(await viaBearer(a, first.token)).toBe(401);
    await waitUntil(async () => (await viaBearer(b, first.token)) === 401, 2000);

    // Revoked through a TokenStore over the database, as the CLI's `token revoke` does: both replicas refuse it.
    const second = await issue();
    for (const t of [a, b, a, b]) expect(await viaBearer(t, second.token)).toBe(200);
    expect(await new TokenStore(a.server.db).revoke(second.access_token.id)).toMatchObject({ id: second.access_token.id });
    await waitUntil(async () => (await viaBearer(a, second.token)) === 401 && (await viaBearer(b, second.token)) === 401, 2000);
  }, 60_000);

  it('auth writes NOTIFY the other replicas in their transaction', async () => {
    const client = new pg.Client({ connectionString: a.config.databaseUrl });
    await client.connect();
    try {
      const heard: string[] = [];
      client.on('notification', (n) => heard.push(n.channel));
      await client.query(`LISTEN ${AUTH_CHANGES_CHANNEL}`);
      const admin = as(a, 'admin', ADMIN_PW);
      await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: uniq('n'), password: PW });
      const role = (await admin.ok('POST', '/api/3.0/mlflow/roles/create', { workspace: 'default', name: uniq('r') })).role;
      await admin.ok('DELETE', '/api/3.0/mlflow/roles/delete', { role_id: role.id });
      await waitUntil(async () => heard.length > 0);
      expect(heard).toEqual([AUTH_CHANGES_CHANNEL]); // the delete; creating a user or an empty role decides nothing
    } finally {
      await client.end();
    }
  });

  it('when the change feed dies nothing stale is decided, and the cache comes back', async () => {
    const admin = as(a, 'admin', ADMIN_PW);
    const dan = uniq('dan');
    await admin.ok('POST', '/api/2.0/mlflow/users/create', { username: dan, password: PW });
    const name = uniq('dead');
    await admin.ok('POST', '/api/2.0/mlflow/registered-models/create', { name });
    const grant = (permission: string) =>
      admin.ok('POST', '/api/3.0/mlflow/users/permissions/grant', { username: dan, resource_type: 'registered_model', resource_id: name, permission });
    const revoke = () => admin.ok('POST', '/api/3.0/mlflow/users/permissions/revoke', { username: dan, resource_type: 'registered_model', resource_id: name });
    const d = as(b, dan, PW);
    await grant('READ');
    expect(await d.get(name)).toBe(200);
    expect(await d.get(name)).toBe(200); // kept on b
    const killed = await a.server.db.query<{ n: number }>(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [CACHE_LISTENER_APPLICATION_NAME],
    );
    expect(killed[0]!.n).toBeGreaterThanOrEqual(1);
    await waitUntil(async () => !grantCacheLive(b));
    await revoke();
    expect(await d.get(name)).toBe(403);
    await grant('READ');
    expect(await d.get(name)).toBe(200);
    await waitUntil(async () => grantCacheLive(a) && grantCacheLive(b), 10_000);
    expect(await d.get(name)).toBe(200);
    await revoke();
    expect(await d.get(name)).toBe(403);
  }, 30_000);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('permission-decision cache by deployment (postgres)', () => {
  it('with the auth tables in another database (AUTH_DATABASE_URL): exact on its own replica, kept for the TTL', async () => {
    const t = await startTestServer('postgres', { ...ENV, AUTH_DATABASE_URL: await createTestDatabase() });
    try {
      const cache = (t.server as unknown as { grantCache: { enabled: boolean; live: boolean } }).grantCache;
      expect(cache.enabled && cache.live).toBe(true);
      await everyChangeDecidesTheNextRequest(t, t);
    } finally {
      await t.close();
    }
  }, 120_000);

  it('without the read cache’s change feed (READ_CACHE_MB=0) there is no decision cache: every decision reads the grants', async () => {
    const t = await startTestServer('postgres', { ...ENV, READ_CACHE_MB: '0' });
    try {
      expect((t.server as unknown as { grantCache: { enabled: boolean } }).grantCache.enabled).toBe(false);
      await everyChangeDecidesTheNextRequest(t, t);
    } finally {
      await t.close();
    }
  }, 120_000);
});

/** The server's decision cache (reached through the HTTP edge's dependencies, for counters only). */
function grantCacheOf(t: TestServer): { hits: number; misses: number; cost: number; size: number } {
  const cache = (t.server as unknown as { grantCache?: { hits: number; misses: number; cost: number; size: number } }).grantCache;
  if (!cache) throw new Error('the server exposes no grantCache');
  return cache;
}

function grantCacheLive(t: TestServer): boolean {
  return (t.server as unknown as { grantCache?: { live: boolean } }).grantCache?.live === true;
}

async function waitUntil(cond: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
