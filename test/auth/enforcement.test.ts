/**
 * Authentication on (AUTH=basic), enforced from the contract (issue 22):
 *
 * - a generated walk: EVERY route of the generated table (operations, under /api and /ajax-api, and the
 *   routes outside them) × {anonymous, no permission, READ, EDIT, MANAGE, admin}, with
 *   default_permission NO_PERMISSIONS; the expected status is derived from the route's rule, so a new
 *   operation without a rule, or enforced wrongly, fails here; and the same walk with workspaces on, in
 *   a workspace other than `default`, adding principals holding the workspace-wide USE and MANAGE;
 * - search returns exactly what the caller may READ, across pages, with ≥ 200 models and mixed grants;
 * - grant effects: the creator gets MANAGE (prompt: on the prompt), a rename moves grants, a delete drops
 *   them; the audit history names the actor;
 * - secure by default: binding 0.0.0.0 without AUTH refuses to start (a real process).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, routesOutsideOperations, type OperationSpec, type PermissionRule } from '../../packages/server/src/gen/operations.gen.js';
import { routePaths } from '../../packages/server/src/http/app.js';
import { AuthStore } from '../../packages/server/src/auth/store.js';
import { DEFAULT_POLICY } from '../../packages/server/src/auth/permissions.js';
import { backends, startTestServer, statusAndBody, type TestServer } from '../helpers/server.js';
import { removeDir, scratchDir, startServerProcess } from '../helpers/process.js';

const ADMIN_PW = 'the-admin-password-1';
const PW = 'a-user-password-12';
const LEVELS = ['READ', 'EDIT', 'MANAGE'] as const;
const RANK: Record<string, number> = { NONE: 0, READ: 1, USE: 2, EDIT: 3, MANAGE: 4 };

type Principal = { name: string; user?: string; password?: string; level: 'ANON' | 'NONE' | 'READ' | 'EDIT' | 'MANAGE' | 'ADMIN' | 'WS_USE' | 'WS_MANAGE' };
const PRINCIPALS: Principal[] = [
  { name: 'anonymous', level: 'ANON' },
  { name: 'no permission', user: 'u_none', password: PW, level: 'NONE' },
  { name: 'READ', user: 'u_read', password: PW, level: 'READ' },
  { name: 'EDIT', user: 'u_edit', password: PW, level: 'EDIT' },
  { name: 'MANAGE', user: 'u_manage', password: PW, level: 'MANAGE' },
  { name: 'admin', user: 'admin', password: ADMIN_PW, level: 'ADMIN' },
];

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const MODEL = 'm';
/** An experiment-level artifact: judged on the experiment ('1'), where each user holds their level. */
const ARTIFACT = '1/x.txt';

/** A value for each request field the walk fills in (chosen so that permitted requests cannot destroy the fixture). */
const SAMPLE: Record<string, unknown> = {
  name: MODEL,
  version: '1',
  alias: 'champion',
  key: 'k',
  value: 'v',
  description: 'd',
  stage: 'Staging',
  new_name: '', // rename: 400 after authorization
  source: 's3://bucket/model',
  path: ARTIFACT,
  username: 'u_nobody', // account routes: a user that does not exist (the walk must not delete its principals)
};

function requestFor(op: OperationSpec, p: string, workspace?: string): { path: string; init: RequestInit } {
  let path = p
    .replace(/:artifact_path\{[^}]*\}/, ARTIFACT)
    .replace(':webhook_id', 'wh-unknown')
    .replace(':file', 'swagger-ui.css');
  // getWorkspace names the walk's workspace (the admin-only workspace routes keep 'x': nothing to destroy).
  if (workspace && op.operationId === 'getWorkspace') path = path.replace(':workspace_name', workspace);
  for (const param of op.pathParams) path = path.replace(`:${param}`, 'x');
  const init: RequestInit = { method: op.method };
  if (op.method === 'GET' && Object.keys(op.query).length > 0) {
    const q = new URLSearchParams();
    for (const f of Object.keys(op.query)) if (typeof SAMPLE[f] === 'string' && SAMPLE[f] !== '') q.set(f, SAMPLE[f] as string);
    if (q.size) path += `?${q}`;
  } else if (op.bodyType === 'application/octet-stream') {
    init.body = 'hello';
    init.headers = { 'content-type': 'application/octet-stream' };
  } else if (op.body?.kind === 'message') {
    const body: Record<string, unknown> = {};
    for (const f of Object.keys(op.body.fields)) if (f in SAMPLE) body[f] = SAMPLE[f];
    // A model-version delete aims at a version that does not exist (404 once authorized).
    if (op.operationId === 'deleteModelVersion') body.version = '99';
    init.body = JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  return { path, init };
}

const ACCOUNT_RESOURCES = ['user', 'role', 'grant'];
const ACCOUNT_LEVELS = ['self-or-admin', 'self-or-workspace-admin', 'workspace-admin', 'workspace-member'];

/**
 * What the rule says `who` gets: 'pass' (anything but 401/403), 401, 403, or 'service' (decided by the
 * auth service after login: anything but 401).
 */
function expected(rule: PermissionRule, who: Principal, workspaces = false): 'pass' | 401 | 403 | 'service' {
  const level = rule.level as string;
  if (level === 'public') return 'pass';
  if (who.level === 'ANON') return 401;
  if (who.level === 'ADMIN') return 'pass';
  if (level === 'authenticated' || level === 'filtered') return 'pass';
  if (level === 'admin') return 403; // super admins only: a workspace admin is not one
  if (ACCOUNT_RESOURCES.includes(rule.resource) && (ACCOUNT_LEVELS.includes(level) || level === 'MANAGE')) return 'service';
  if (rule.resource === 'workspace') {
    if (!workspaces) return 'pass'; // workspaces off: everyone may create (MLflow)
    // getWorkspace: a user with an admin-made role in it or a workspace-wide grant that can read (per-resource
    // grants alone do not show it: list_accessible_workspace_names); creating needs the workspace-wide USE.
    return who.level === 'WS_USE' || who.level === 'WS_MANAGE' ? 'pass' : 403;
  }
  if (['registered_model', 'model_version', 'artifact'].includes(rule.resource) && level in RANK) {
    // A workspace admin (workspace-wide MANAGE) has MANAGE on everything in it; the workspace-wide USE
    // gives nothing on existing resources (NO_PERMISSIONS with default_permission NO_PERMISSIONS).
    const rank = who.level === 'WS_MANAGE' ? RANK.MANAGE! : who.level === 'WS_USE' ? 0 : RANK[who.level]!;
    return rank >= RANK[level]! ? 'pass' : 403;
  }
  return 403; // anything else is refused to non-admins (fail closed)
}

/** Every route of the generated table, with its rule: operations under each of their paths, and the routes outside them. */
function allRoutes(): { label: string; rule: PermissionRule; op?: OperationSpec; path: string }[] {
  const routes: { label: string; rule: PermissionRule; op?: OperationSpec; path: string }[] = [];
  for (const op of Object.values(operations) as OperationSpec[]) {
    for (const p of routePaths(op)) routes.push({ label: `${op.operationId} ${op.method} ${p}`, rule: op.permission, op, path: p });
  }
  for (const r of routesOutsideOperations) routes.push({ label: `${r.method} ${r.path}`, rule: r.permission, path: r.honoPath });
  return routes;
}

describe.each(backends())('authentication and permissions on %s', (backend) => {
  let t: TestServer;
  let store: AuthStore;
  const as = (who: Principal, path: string, init: RequestInit = {}) =>
    t.fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...(who.user ? { authorization: basic(who.user, who.password!) } : {}) } });
  const admin = PRINCIPALS[5]!;
  const json = async (who: Principal, method: string, path: string, body?: unknown) => {
    return statusAndBody(await as(who, path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }));
  };

  /** Model `m` with version 1, and each user's grant on it (and on experiment 1). */
  async function fixture(): Promise<void> {
    await json(admin, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: MODEL });
    expect((await json(admin, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL })).status).toBe(200);
    expect((await json(admin, 'POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: 's3://bucket/model' })).status).toBe(200);
    for (const l of LEVELS) {
      const user = `u_${l.toLowerCase()}`;
      await store.grantUserPermission(user, 'registered_model', MODEL, l, 'default');
      await store.grantUserPermission(user, 'experiment', '1', l, 'default');
    }
  }

  beforeAll(async () => {
    t = await startTestServer(backend, { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' });
    store = new AuthStore(t.server.db, { ...DEFAULT_POLICY, defaultPermission: 'NO_PERMISSIONS' });
    for (const u of ['u_none', 'u_read', 'u_edit', 'u_manage', 'searcher', 'creator']) await store.createUser(u, PW);
    await fixture();
  }, 120_000);
  afterAll(async () => t?.close());

  it('answers 401 as MLflow does: no credentials, a wrong password, an unknown user, another scheme', async () => {
    for (const authorization of [undefined, basic('u_read', 'wrong-password!'), basic('nobody', PW), 'Bearer abc', 'Basic !!!']) {
      const res = await t.fetch(`/api/2.0/mlflow/registered-models/get?name=${MODEL}`, authorization ? { headers: { authorization } } : {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="mlflow"');
      expect(await res.text()).toBe(
        'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.',
      );
    }
    const denied = await as(PRINCIPALS[1]!, `/api/2.0/mlflow/registered-models/get?name=${MODEL}`);
    expect(denied.status).toBe(403);
    expect(await denied.text()).toBe('Permission denied');
    // Unknown routes: login first, then refused to non-admins (fail closed); admins get the 404.
    expect((await as(PRINCIPALS[0]!, '/api/2.0/mlflow/nope')).status).toBe(401);
    expect((await as(PRINCIPALS[4]!, '/api/2.0/mlflow/nope')).status).toBe(403);
    expect((await as(admin, '/api/2.0/mlflow/nope')).status).toBe(404);
  });

  it('walks every route of the table × every principal and gets what its rule says', async () => {
    const routes = allRoutes();
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    for (const route of routes) {
      for (const who of PRINCIPALS) {
        const { path, init } = route.op ? requestFor(route.op, route.path) : { path: route.path.replace(':file', 'swagger-ui.css'), init: { method: 'GET' } };
        const res = await as(who, path, init);
        await res.arrayBuffer();
        const want = expected(route.rule, who);
        const ok =
          want === 'pass' ? res.status !== 401 && res.status !== 403 : want === 'service' ? res.status !== 401 : res.status === want;
        counts[String(want)] = (counts[String(want)] ?? 0) + 1;
        if (!ok) failures.push(`${route.label} as ${who.name}: ${res.status}, expected ${want}`);
        // A permitted destructive request may have changed the fixture: put it back.
        if (res.status === 200 && ['deleteRegisteredModel', 'renameRegisteredModel'].includes(route.op?.operationId ?? '')) await fixture();
      }
    }
    console.log(`enforcement walk (${backend}): ${routes.length} routes × ${PRINCIPALS.length} principals = ${routes.length * PRINCIPALS.length} requests`, counts);
    expect(failures).toEqual([]);
    expect(routes.length).toBeGreaterThanOrEqual(2 * Object.keys(operations).length - 4);
  }, 300_000);

  it('search returns exactly the models and versions the caller may READ, across full pages (≥ 200 models, mixed grants)', async () => {
    const N = 210;
    const names = Array.from({ length: N }, (_, i) => `s_${String(i).padStart(3, '0')}`);
    for (const name of names) {
      expect((await json(admin, 'POST', '/api/2.0/mlflow/registered-models/create', { name })).status).toBe(200);
      expect((await json(admin, 'POST', '/api/2.0/mlflow/model-versions/create', { name, source: 's3://bucket/x' })).status).toBe(200);
    }
    // A prompt the searcher may read (prompts are listed only when asked for), and one it may not.
    const expectedModels = new Set<string>();
    for (const [i, name] of names.entries()) {
      let grant: string | undefined;
      if (i % 3 === 0) grant = 'READ';
      if (i % 7 === 0) grant = 'EDIT';
      if (i % 5 === 0) grant = 'DENY';
      if (i % 11 === 0) grant = 'MANAGE';
      if (grant) await store.grantUserPermission('searcher', 'registered_model', name, grant, 'default');
      if (grant && grant !== 'DENY') expectedModels.add(name);
    }
    const searcher: Principal = { name: 'searcher', user: 'searcher', password: PW, level: 'NONE' };
    const page = async (kind: 'registered-models' | 'model-versions', token?: string) => {
      const q = new URLSearchParams({ max_results: '7', filter: "name LIKE 's_%'" });
      if (token) q.set('page_token', token);
      const r = await json(searcher, 'GET', `/api/2.0/mlflow/${kind}/search?${q}`);
      expect(r.status).toBe(200);
      return r.body as { registered_models?: { name: string }[]; model_versions?: { name: string }[]; next_page_token?: string };
    };
    for (const kind of ['registered-models', 'model-versions'] as const) {
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const body = await page(kind, token);
        const rows = (kind === 'registered-models' ? body.registered_models : body.model_versions) ?? [];
        token = body.next_page_token;
        pages++;
        // Full pages until the last; never an empty page.
        expect(rows.length, `${kind} page ${pages}`).toBe(token ? 7 : rows.length);
        expect(rows.length).toBeGreaterThan(0);
        seen.push(...rows.map((r) => r.name));
      } while (token);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.sort()).toEqual([...expectedModels].sort());
      expect(pages).toBe(Math.ceil(expectedModels.size / 7));
    }
    // Admins see everything; a user with no grant (default NO_PERMISSIONS) sees nothing.
    const all = await json(admin, 'GET', `/api/2.0/mlflow/registered-models/search?max_results=1000&filter=${encodeURIComponent("name LIKE 's_%'")}`);
    expect(all.body.registered_models).toHaveLength(N);
    const none = await json(PRINCIPALS[1]!, 'GET', `/api/2.0/mlflow/registered-models/search?filter=${encodeURIComponent("name LIKE 's_%'")}`);
    expect(none.body).toEqual({});
  }, 300_000);

  it('the creator gets MANAGE (a prompt’s creator, on the prompt); a rename moves grants; a delete drops them; history names the actor', async () => {
    const creator: Principal = { name: 'creator', user: 'creator', password: PW, level: 'NONE' };
    expect((await json(creator, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'c1' })).status).toBe(200);
    expect(await store.listUserGrants('creator')).toEqual([{ workspace: 'default', resourceType: 'registered_model', resourcePattern: 'c1', permission: 'MANAGE' }]);
    // With default NO_PERMISSIONS, only the grant lets the creator use it.
    expect((await json(creator, 'PATCH', '/api/2.0/mlflow/registered-models/update', { name: 'c1', description: 'x' })).status).toBe(200);
    expect((await json(PRINCIPALS[1]!, 'GET', '/api/2.0/mlflow/registered-models/get?name=c1')).status).toBe(403);

    expect((await json(creator, 'POST', '/api/2.0/mlflow/registered-models/rename', { name: 'c1', new_name: 'c2' })).status).toBe(200);
    expect(await store.listUserGrants('creator')).toEqual([{ workspace: 'default', resourceType: 'registered_model', resourcePattern: 'c2', permission: 'MANAGE' }]);
    expect((await json(creator, 'GET', '/api/2.0/mlflow/registered-models/get?name=c2')).status).toBe(200);

    // The history of the model (by its old name too) is the creator's to read, and names them.
    const history = await json(creator, 'GET', '/api/2.0/mlflow-ts/history/registered-models?name=c1');
    expect(history.status).toBe(200);
    expect(history.body.events.map((e: { action: string; actor: string }) => [e.action, e.actor])).toEqual([
      ['created', 'creator'],
      ['updated', 'creator'],
      ['renamed', 'creator'],
    ]);

    expect((await json(creator, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: 'c2' })).status).toBe(200);
    expect(await store.listUserGrants('creator')).toEqual([]);
    // A deleted model's history is for admins only.
    expect((await json(creator, 'GET', '/api/2.0/mlflow-ts/history/registered-models?name=c2')).status).toBe(403);
    const adminView = await json(admin, 'GET', '/api/2.0/mlflow-ts/history/registered-models?name=c2');
    expect(adminView.body.events.at(-1)).toMatchObject({ action: 'deleted', actor: 'creator' });

    // A prompt's creator gets MANAGE on the prompt (not on a registered model of that name).
    const prompt = { name: 'p1', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] };
    expect((await json(creator, 'POST', '/api/2.0/mlflow/registered-models/create', prompt)).status).toBe(200);
    expect(await store.listUserGrants('creator')).toEqual([{ workspace: 'default', resourceType: 'prompt', resourcePattern: 'p1', permission: 'MANAGE' }]);
  });
});

describe('secure by default', () => {
  it('refuses to bind 0.0.0.0 without AUTH, naming both ways out; AUTH=basic needs an admin password', async () => {
    const dir = scratchDir();
    try {
      for (const [env, words] of [
        [{ HOST: '0.0.0.0' }, ['AUTH=basic', 'AUTH=none']],
        [{ HOST: '0.0.0.0', AUTH: 'basic' }, ['MLFLOW_AUTH_ADMIN_PASSWORD']],
        [{ AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'password1234' }, ['insecure default password']],
        [{ AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'short' }, ['at least 12 characters']],
      ] as [Record<string, string>, string[]][]) {
        const err = await startServerProcess({ env: { DATA_DIR: dir, ...env } }).then(
          async (p) => {
            await p.stop();
            return 'started';
          },
          (e: Error) => e.message,
        );
        expect(err).toMatch(/exited with 1/);
        for (const w of words) expect(err).toContain(w);
        expect(err).not.toContain('password1234\n');
      }
      // Explicitly off: starts on 0.0.0.0.
      const p = await startServerProcess({ env: { DATA_DIR: dir, HOST: '0.0.0.0', AUTH: 'none' } });
      expect((await p.call('GET', '/health')).status).toBe(200);
      await p.stop();
    } finally {
      removeDir(dir);
    }
  }, 240_000);
});

describe.each(backends())('authentication and permissions with workspaces on, in a workspace of their own, on %s', (backend) => {
  const WS = 'team';
  const WS_PRINCIPALS: Principal[] = [
    ...PRINCIPALS.slice(0, 5),
    { name: 'workspace USE', user: 'u_ws_use', password: PW, level: 'WS_USE' },
    { name: 'workspace MANAGE', user: 'u_ws_manage', password: PW, level: 'WS_MANAGE' },
    PRINCIPALS[5]!,
  ];
  let t: TestServer;
  let store: AuthStore;
  const as = (who: Principal, path: string, init: RequestInit = {}) =>
    t.fetch(path, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), 'x-mlflow-workspace': WS, ...(who.user ? { authorization: basic(who.user, who.password!) } : {}) },
    });
  const admin = PRINCIPALS[5]!;
  const send = async (who: Principal, method: string, path: string, body?: unknown) => {
    const res = await as(who, path, body === undefined ? { method } : { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    await res.arrayBuffer();
    return res.status;
  };

  /** Model `m` of the workspace with version 1; each per-resource principal's grant on it (and on experiment 1) there. */
  async function fixture(): Promise<void> {
    await send(admin, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: MODEL });
    expect(await send(admin, 'POST', '/api/2.0/mlflow/registered-models/create', { name: MODEL })).toBe(200);
    expect(await send(admin, 'POST', '/api/2.0/mlflow/model-versions/create', { name: MODEL, source: 's3://bucket/model' })).toBe(200);
    for (const l of LEVELS) {
      const user = `u_${l.toLowerCase()}`;
      await store.grantUserPermission(user, 'registered_model', MODEL, l, WS);
      await store.grantUserPermission(user, 'experiment', '1', l, WS);
    }
  }

  beforeAll(async () => {
    t = await startTestServer(backend, {
      AUTH: 'basic',
      MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW,
      MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS',
      MLFLOW_ENABLE_WORKSPACES: 'true',
    });
    store = new AuthStore(t.server.db, { ...DEFAULT_POLICY, defaultPermission: 'NO_PERMISSIONS', workspacesEnabled: true });
    for (const u of ['u_none', 'u_read', 'u_edit', 'u_manage', 'u_ws_use', 'u_ws_manage']) await store.createUser(u, PW);
    // (Without the workspace header: it names a workspace that does not exist yet.)
    const created = await t.fetch('/api/3.0/mlflow/workspaces', {
      method: 'POST',
      headers: { authorization: basic(admin.user!, admin.password!), 'content-type': 'application/json' },
      body: JSON.stringify({ name: WS }),
    });
    expect(created.status).toBe(201);
    await store.setWorkspacePermission(WS, 'u_ws_use', 'USE');
    await store.setWorkspacePermission(WS, 'u_ws_manage', 'MANAGE');
    await fixture();
  }, 120_000);
  afterAll(async () => t?.close());

  it('walks every route of the table × every principal and gets what its rule says', async () => {
    const routes = allRoutes();
    const failures: string[] = [];
    const counts: Record<string, number> = {};
    for (const route of routes) {
      for (const who of WS_PRINCIPALS) {
        const { path, init } = route.op ? requestFor(route.op, route.path, WS) : { path: route.path.replace(':file', 'swagger-ui.css'), init: { method: 'GET' } };
        const res = await as(who, path, init);
        await res.arrayBuffer();
        const want = expected(route.rule, who, true);
        const ok = want === 'pass' ? res.status !== 401 && res.status !== 403 : want === 'service' ? res.status !== 401 : res.status === want;
        counts[String(want)] = (counts[String(want)] ?? 0) + 1;
        if (!ok) failures.push(`${route.label} as ${who.name}: ${res.status}, expected ${want}`);
        if (res.status === 200 && ['deleteRegisteredModel', 'renameRegisteredModel'].includes(route.op?.operationId ?? '')) await fixture();
      }
    }
    console.log(`enforcement walk with workspaces (${backend}): ${routes.length} routes × ${WS_PRINCIPALS.length} principals = ${routes.length * WS_PRINCIPALS.length} requests`, counts);
    expect(failures).toEqual([]);
  }, 300_000);
});
