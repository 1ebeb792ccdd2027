/**
 * Workspaces with authentication on (AUTH=basic), as MLflow 3.17 evaluates them: workspace grants
 * (USE through a role in the workspace), the creator's MANAGE on what they create, the workspace API's
 * rules (admins manage, members see their workspaces), and a user of workspace B cannot learn that a
 * model of workspace A exists. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import type { Res } from '../registry/util.js';
import { WS_API, WsClient, basic } from './util.js';

const ADMIN_PW = 'the-admin-password-1';
const PW = 'a-user-password-12';

describe.each(backends())('workspaces with AUTH=basic (%s)', (backend) => {
  let s: TestServer;
  const tag = Math.random().toString(36).slice(2, 7);
  const [A, B] = [`au-a-${tag}`, `au-b-${tag}`];
  const M = `a-secret-${tag}`;
  const GHOST = `a-ghost-${tag}`;
  const as = (user: string, password: string, ws?: string) => new WsClient(() => s, ws, undefined, basic(user, password));
  const admin = (ws?: string) => as('admin', ADMIN_PW, ws);
  const alice = (ws?: string) => as('alice', PW, ws);
  const bob = (ws?: string) => as('bob', PW, ws);
  const json = (c: WsClient, method: string, path: string, body?: unknown): Promise<Res> =>
    c.raw(method, path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  /** A role `user` with USE on the whole workspace, assigned to `username`. */
  async function member(ws: string, username: string): Promise<void> {
    const role = await json(admin(), 'POST', '/api/3.0/mlflow/roles/create', { name: `user-${username}`, workspace: ws });
    expect(role.status, role.text).toBe(200);
    const id = role.body.role.id;
    const perm = await json(admin(), 'POST', '/api/3.0/mlflow/roles/permissions/add', { role_id: id, resource_type: 'workspace', resource_pattern: '*', permission: 'USE' });
    expect(perm.status, perm.text).toBe(200);
    const assign = await json(admin(), 'POST', '/api/3.0/mlflow/roles/assign', { username, role_id: id });
    expect(assign.status, assign.text).toBe(200);
  }

  beforeAll(async () => {
    s = await startTestServer(backend, { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_ENABLE_WORKSPACES: 'true' });
    for (const ws of [A, B]) expect((await admin().createWorkspace(ws)).status).toBe(201);
    for (const u of ['alice', 'bob']) expect((await json(admin(), 'POST', '/api/2.0/mlflow/users/create', { username: u, password: PW })).status).toBe(200);
    await member(A, 'bob');
    await member(B, 'alice');
    // bob creates a model in A (USE lets him create; he then manages it).
    const created = await bob(A).post('/registered-models/create', { name: M });
    expect(created.status, created.text).toBe(200);
    expect((await bob(A).post('/model-versions/create', { name: M, source: 's3://a/m' })).status).toBe(200);
  });
  afterAll(async () => s?.close());

  it('a member of B cannot learn that A\'s model exists, with either header', async () => {
    for (const ws of [A, B]) {
      for (const [path, q] of [
        ['/registered-models/get', (n: string) => ({ name: n })],
        ['/model-versions/get', (n: string) => ({ name: n, version: '1' })],
        ['/registered-models/get-latest-versions', (n: string) => ({ name: n })],
        ['/model-versions/get-download-uri', (n: string) => ({ name: n, version: '1' })],
      ] as const) {
        const real = await alice(ws).get(path, q(M));
        const ghost = await alice(ws).get(path, q(GHOST));
        expect(real.status, `${ws} ${path}`).toBe(ghost.status);
        expect(real.text, `${ws} ${path}`).toBe(ghost.text.split(GHOST).join(M));
        expect([403, 404]).toContain(real.status);
      }
      const search = await alice(ws).get('/registered-models/search');
      expect(search.text).not.toContain(M);
      const versions = await alice(ws).get('/model-versions/search');
      expect(versions.text).not.toContain(M);
    }
    // Writes in A are refused: alice has no role there.
    expect((await alice(A).post('/registered-models/set-tag', { name: M, key: 'k', value: 'v' })).status).toBe(403);
    expect((await alice(A).post('/registered-models/create', { name: `alice-in-a-${tag}` })).status).toBe(403);
  });

  it('workspace grants: USE in B lets alice create there and manage what she created; bob cannot read it', async () => {
    const mine = `alice-model-${tag}`;
    expect((await alice(B).post('/registered-models/create', { name: mine })).status).toBe(200);
    expect((await alice(B).post('/registered-models/set-tag', { name: mine, key: 'k', value: 'v' })).status).toBe(200);
    expect((await alice(B).get('/registered-models/get', { name: mine })).status).toBe(200);
    expect((await bob(B).get('/registered-models/get', { name: mine })).status).toBe(403);
    // Without a header alice acts in default, where she has no grant (grant_default_workspace_access is off).
    expect((await alice().post('/registered-models/create', { name: `alice-default-${tag}` })).status).toBe(403);
    // bob still reads and manages his own model in A.
    expect((await bob(A).get('/registered-models/get', { name: M })).status).toBe(200);
    expect((await bob(B).get('/registered-models/get', { name: M })).status).toBe(403);
  });

  it('the workspace API: admins manage, members list and get only their workspaces', async () => {
    const names = async (c: WsClient) => ((await c.raw('GET', WS_API)).body.workspaces ?? []).map((w: any) => w.name);
    expect(await names(alice())).toEqual([B]);
    expect(await names(bob())).toEqual([A]);
    expect(await names(admin())).toEqual(expect.arrayContaining(['default', A, B]));
    expect((await alice().raw('GET', `${WS_API}/${B}`)).status).toBe(200);
    expect((await alice().raw('GET', `${WS_API}/${A}`)).status).toBe(403);
    expect((await alice().raw('GET', `${WS_API}/ghost-${tag}`)).status).toBe(403);
    expect((await alice().createWorkspace(`alice-ws-${tag}`)).status).toBe(403);
    expect((await json(alice(), 'PATCH', `${WS_API}/${B}`, { description: 'x' })).status).toBe(403);
    expect((await alice().deleteWorkspace(B)).status).toBe(403);
    // Anonymous requests are asked to log in; server-info is public.
    expect((await new WsClient(() => s, B).get('/registered-models/search')).status).toBe(401);
    expect((await new WsClient(() => s, B).raw('GET', '/api/3.0/mlflow/server-info')).body.workspaces_enabled).toBe(true);
  });

  it('deleting a workspace drops its roles (MLflow cleans up its permissions)', async () => {
    const C = `au-c-${tag}`;
    expect((await admin().createWorkspace(C)).status).toBe(201);
    await member(C, 'alice');
    expect((await alice().raw('GET', WS_API)).body.workspaces.map((w: any) => w.name)).toContain(C);
    expect((await admin().deleteWorkspace(C)).status).toBe(204);
    const roles = await json(admin(), 'GET', `/api/3.0/mlflow/roles/list?workspace=${C}`);
    expect(roles.body.roles ?? []).toEqual([]);
    expect((await admin().createWorkspace(C)).status).toBe(201);
    expect(((await alice().raw('GET', WS_API)).body.workspaces ?? []).map((w: any) => w.name)).not.toContain(C);
  });
});
