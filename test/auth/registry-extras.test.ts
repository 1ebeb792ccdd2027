/**
 * MLflow 3.17.2's registry checks beyond the named model (auth/registry-extras.ts, http/authn.ts), on a
 * real server: search-model-versions filtering on run_id needs the run tier not DENY'd;
 * create-model-version from a `models:/` source needs READ on the source model (which must exist), and a
 * prompt marker that disagrees with the parent needs the other version tier not DENY'd. Every status
 * asserted here is the one `mlflow server --app-name basic-auth` 3.17.2 answered to the same requests
 * (checked side by side on 2026-12-07), except the rename onto a name holding grants (see its test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import { AuthStore } from '../../packages/server/src/auth/store.js';

const ADMIN_PW = 'the-admin-password-1';
const PW = 'a-user-password-12';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe.each(backends())('MLflow’s extra registry checks (%s)', (backend) => {
  let t: TestServer;
  let store: AuthStore;
  const call = async (user: string, password: string, method: string, path: string, body?: unknown) => {
    const res = await t.fetch(path, {
      method,
      headers: { authorization: basic(user, password), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, text: await res.text() };
  };
  const admin = (method: string, path: string, body?: unknown) => call('admin', ADMIN_PW, method, path, body);
  const user = (method: string, path: string, body?: unknown) => call('u', PW, method, path, body);
  const grant = (type: string, id: string, permission: string) => store.grantUserPermission('u', type, id, permission, 'default');
  const revoke = (type: string, id: string) => store.revokeUserResourcePermission('u', type, id, 'default');

  beforeAll(async () => {
    t = await startTestServer(backend, { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' });
    store = new AuthStore(t.server.db);
    await store.createUser('u', PW);
    for (const name of ['target', 'src', 'hidden']) {
      expect((await admin('POST', '/api/2.0/mlflow/registered-models/create', { name })).status).toBe(200);
      expect((await admin('POST', '/api/2.0/mlflow/model-versions/create', { name, source: 's3://b/x', run_id: 'r1' })).status).toBe(200);
    }
    expect((await admin('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'src', alias: 'champ', version: '1' })).status).toBe(200);
    await grant('registered_model', 'target', 'EDIT');
  }, 60_000);
  afterAll(async () => t?.close());

  it('search-model-versions: a run_id filter needs the run tier not DENY’d', async () => {
    const search = (filter: string) => user('GET', `/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(filter)}`);
    expect((await search("run_id = 'r1'")).status).toBe(200);
    await grant('run', '*', 'DENY');
    try {
      expect((await search("run_id = 'r1'")).status).toBe(403);
      expect((await search("name = 'target' AND run_id IN ('r1')")).status).toBe(403);
      expect((await search('not a filter ((')).status).toBe(403); // MLflow: a filter it cannot parse might select runs
      expect((await search("name = 'target'")).status).toBe(200);
      expect((await search("tags.run_id = 'r1'")).status).toBe(200);
      expect((await user('GET', '/api/2.0/mlflow/model-versions/search')).status).toBe(200);
    } finally {
      await revoke('run', '*');
    }
    expect((await search('not a filter ((')).status).toBe(400);
  });

  it('create-model-version from models:/<name>…: READ on the source model, which must exist', async () => {
    const create = (source: string, extra: Record<string, unknown> = {}) => user('POST', '/api/2.0/mlflow/model-versions/create', { name: 'target', source, ...extra });
    for (const source of ['models:/src/1', 'models:/src@champ', 'models:/src/latest', 'models:/hidden/1', 'models:/missing/1']) {
      expect((await create(source)).status, source).toBe(403);
    }
    expect((await create('models:/target/1')).status).toBe(200); // EDIT on the target includes READ
    expect((await create('s3://b/y')).status).toBe(200);
    await grant('registered_model', 'src', 'READ');
    expect((await create('models:/src/1')).status).toBe(200);
    expect((await create('models:/src@champ')).status).toBe(200);
    expect((await create('models:/hidden/1')).status).toBe(403);
    await grant('registered_model', 'src', 'DENY');
    expect((await create('models:/src/1')).status).toBe(403);
    await revoke('registered_model', 'src');
  });

  it('create-model-version: a prompt marker that disagrees with the parent needs the prompt version tier not DENY’d', async () => {
    const marked = { name: 'target', source: 's3://b/z', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] };
    await grant('prompt_version', '*', 'DENY');
    try {
      expect((await user('POST', '/api/2.0/mlflow/model-versions/create', marked)).status).toBe(403);
      expect((await user('POST', '/api/2.0/mlflow/model-versions/create', { ...marked, tags: [] })).status).toBe(200);
    } finally {
      await revoke('prompt_version', '*');
    }
    expect([401, 403]).not.toContain((await user('POST', '/api/2.0/mlflow/model-versions/create', marked)).status);
  });
});

describe.each(backends())('rename onto a name the renamer already holds a grant on (%s)', (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW });
  }, 60_000);
  afterAll(async () => t?.close());

  it('is refused with 400 and changes nothing (MLflow renames, then answers 400 and leaves the grants behind)', async () => {
    const store = new AuthStore(t.server.db);
    await store.createUser('renamer', PW);
    const as = async (user: string, password: string, method: string, path: string, body?: unknown) => {
      const res = await t.fetch(path, { method, headers: { authorization: basic(user, password), 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
    };
    expect((await as('renamer', PW, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'a' })).status).toBe(200);
    // A grant on a name no model bears yet (an admin's pre-grant, here a DENY).
    await store.grantUserPermission('renamer', 'registered_model', 'b', 'DENY', 'default');
    const res = await as('renamer', PW, 'POST', '/api/2.0/mlflow/registered-models/rename', { name: 'a', new_name: 'b' });
    expect(res).toMatchObject({
      status: 400,
      body: {
        error_code: 'BAD_REQUEST',
        message: "Cannot move the permissions on registered_model 'a' to 'b': a user holds permissions on both. Revoke the permission on 'b' first.",
      },
    });
    expect((await as('admin', ADMIN_PW, 'GET', '/api/2.0/mlflow/registered-models/get?name=a')).status).toBe(200);
    expect((await as('admin', ADMIN_PW, 'GET', '/api/2.0/mlflow/registered-models/get?name=b')).status).toBe(404);
    expect(await store.listUserGrants('renamer')).toEqual([
      { workspace: 'default', resourceType: 'registered_model', resourcePattern: 'a', permission: 'MANAGE' },
      { workspace: 'default', resourceType: 'registered_model', resourcePattern: 'b', permission: 'DENY' },
    ]);
  });
});
