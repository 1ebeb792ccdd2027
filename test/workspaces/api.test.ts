/**
 * Workspaces (MLFLOW_ENABLE_WORKSPACES) as MLflow 3.17.2 serves them: the header off and on, the
 * workspace CRUD API with its validation and messages, the deletion modes, and the registry scoped to
 * the request's workspace. On PGlite and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { expectError, uniq } from '../registry/util.js';
import { WS_API, WsClient } from './util.js';

const DISABLED = 'Workspace APIs are not available: workspaces are not enabled on this server';
let n = 0;
const wsName = (p = 'ws') => `${p}-${++n}-${Math.random().toString(36).slice(2, 7)}`;

describe.each(backendsWithS3())('workspaces off (%s)', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend);
  });
  afterAll(async () => s?.close());

  it('a non-blank header is refused with FEATURE_DISABLED, never written to default', async () => {
    const name = uniq();
    const team = new WsClient(() => s, 'team-a');
    const r = await team.post('/registered-models/create', { name });
    expectError(r, 500, 'FEATURE_DISABLED', DISABLED);
    expect(r.body.error_class).toBe('FEATURE_DISABLED');
    const plain = new WsClient(() => s, undefined);
    expect((await plain.get('/registered-models/get', { name })).status).toBe(404);
    // Refused on reads too, and for artifacts.
    expectError(await team.get('/registered-models/search'), 500, 'FEATURE_DISABLED', DISABLED);
    expectError(await team.at('/api/2.0/mlflow-artifacts').get('/artifacts'), 500, 'FEATURE_DISABLED', DISABLED);
  });

  it('a blank header is no header', async () => {
    const name = uniq();
    const blank = new WsClient(() => s, '   ');
    expect((await blank.post('/registered-models/create', { name })).status).toBe(200);
    expect((await new WsClient(() => s, undefined).getModel(name)).name).toBe(name);
  });

  it('the workspace API answers MLflow\'s 503 text; server-info says workspaces are off', async () => {
    const c = new WsClient(() => s, undefined);
    const list = await c.raw('GET', WS_API);
    expect(list.status).toBe(503);
    expect(list.text).toBe(
      'Endpoint: /api/3.0/mlflow/workspaces disabled because the server is running without workspaces support. To enable workspace, run `mlflow server` with `--enable-workspaces`',
    );
    const get = await c.raw('GET', `/ajax-api/3.0/mlflow/workspaces/team-a`);
    expect(get.status).toBe(503);
    expect(get.text).toContain('Endpoint: /ajax-api/3.0/mlflow/workspaces/<workspace_name> disabled');
    // server-info is exempt from the header check, and public.
    const info = await new WsClient(() => s, 'team-a').raw('GET', '/api/3.0/mlflow/server-info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ store_type: 'SqlStore', workspaces_enabled: false });
  });
});

describe.each(backendsWithS3())('workspaces on (%s)', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend, { MLFLOW_ENABLE_WORKSPACES: 'true', MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true' });
  });
  afterAll(async () => s?.close());
  const c = () => new WsClient(() => s, undefined);
  const api = (method: string, path: string, body?: unknown) =>
    c().raw(method, WS_API + path, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  describe('the workspace API', () => {
    it('default always exists; create answers 201 with the workspace; list and get show it', async () => {
      const info = await c().raw('GET', '/api/3.0/mlflow/server-info');
      expect(info.body.workspaces_enabled).toBe(true);
      expect((await api('GET', '/default')).body).toEqual({ workspace: { name: 'default', description: 'Default workspace for legacy resources' } });
      const name = wsName();
      const created = await api('POST', '', { name, description: 'Team', default_artifact_root: 's3://bucket/team', trace_archival_config: { retention: '30d' } });
      expect(created.status).toBe(201);
      const ws = { name, description: 'Team', default_artifact_root: 's3://bucket/team', trace_archival_config: { retention: '30d' } };
      expect(created.body).toEqual({ workspace: ws });
      expect((await api('GET', `/${name}`)).body).toEqual({ workspace: ws });
      const list = (await api('GET', '')).body.workspaces.map((w: any) => w.name);
      expect(list).toContain(name);
      expect(list).toEqual([...list].sort());
      expect((await c().raw('GET', `/ajax-api/3.0/mlflow/workspaces/${name}`)).body.workspace.name).toBe(name);
    });

    it('refuses names as MLflow does', async () => {
      const invalid = (m: string) => ({ status: 400, code: 'INVALID_PARAMETER_VALUE', m });
      const cases: [unknown, { status: number; code: string; m: string }][] = [
        ['default', invalid("The 'default' workspace is reserved and cannot be created")],
        ['a', invalid("Workspace name 'a' must be between 2 and 63 characters.")],
        ['x'.repeat(64), invalid(`Workspace name '${'x'.repeat(64)}' must be between 2 and 63 characters.`)],
        ['Team', invalid("Workspace name 'Team' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens).")],
        ['-ab', invalid("Workspace name '-ab' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens).")],
        ['api', invalid("Workspace name 'api' is reserved and cannot be used.")],
        ['workspaces', invalid("Workspace name 'workspaces' is reserved and cannot be used.")],
      ];
      for (const [name, e] of cases) expectError(await api('POST', '', { name }), e.status, e.code, e.m);
      expectError(
        await api('POST', '', {}),
        400,
        'INVALID_PARAMETER_VALUE',
        "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
      );
      const r = await api('POST', '', { name: 5 });
      expect(r.status).toBe(400);
      expect(r.body.message).toContain("for parameter 'name' supplied");
    });

    it('refuses a taken name, a relative artifact root and a bad retention', async () => {
      const name = wsName();
      expect((await api('POST', '', { name })).status).toBe(201);
      const dup = await api('POST', '', { name });
      expect(dup.status).toBe(400);
      expect(dup.body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      expect(dup.body.message).toMatch(new RegExp(`^Workspace '${name}' already exists\\. Error: `));
      expectError(
        await api('POST', '', { name: wsName(), default_artifact_root: 'relative/dir' }),
        400,
        'INVALID_PARAMETER_VALUE',
        "Invalid value for 'default_artifact_root'. Expected a URI (for example 's3://bucket/prefix' or 'mlflow-artifacts:/prefix') or an absolute path, got 'relative/dir'.",
      );
      expectError(await api('POST', '', { name: wsName(), default_artifact_root: 'runs:/abc/x' }), 400, 'INVALID_PARAMETER_VALUE', "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/x'");
      expectError(await api('POST', '', { name: wsName(), default_artifact_root: 's3://b/x#frag' }), 400, 'INVALID_PARAMETER_VALUE', "'default_artifact_root' URL can't include fragments or params.");
      expectError(
        await api('POST', '', { name: wsName(), trace_archival_config: { retention: '30 days' } }),
        400,
        'INVALID_PARAMETER_VALUE',
        "Invalid value for 'trace_archival_config.retention'. Expected a duration in the form `<int><unit>`, where unit is one of 'm', 'h', or 'd' (for example '30d' or '12h').",
      );
    });

    it('get: an invalid name is 400, an unknown one 404', async () => {
      expectError(await api('GET', '/n'), 400, 'INVALID_PARAMETER_VALUE', "Workspace name 'n' must be between 2 and 63 characters.");
      expectError(await api('GET', '/no-such-ws'), 404, 'RESOURCE_DOES_NOT_EXIST', "Workspace 'no-such-ws' not found");
    });

    it('update sets what is sent, clears the artifact root with an empty string, needs one key', async () => {
      const name = wsName();
      await api('POST', '', { name, description: 'a', default_artifact_root: 's3://b/p' });
      expect((await api('PATCH', `/${name}`, { description: 'b' })).body).toEqual({ workspace: { name, description: 'b', default_artifact_root: 's3://b/p' } });
      expect((await api('PATCH', `/${name}`, { default_artifact_root: '' })).body).toEqual({ workspace: { name, description: 'b' } });
      expectError(await api('PATCH', `/${name}`, {}), 400, 'INVALID_PARAMETER_VALUE', 'Workspace update must have at least one key');
      expectError(await api('PATCH', '/no-such-ws', { description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST', "Workspace 'no-such-ws' not found");
    });

    it('delete: default is reserved, the mode must be known, an unknown workspace is 404, success is 204', async () => {
      expectError(await api('DELETE', '/default'), 400, 'INVALID_PARAMETER_VALUE', "The 'default' workspace is reserved and cannot be deleted");
      const name = wsName();
      await api('POST', '', { name });
      expectError(await api('DELETE', `/${name}?mode=NOPE`), 400, 'INVALID_PARAMETER_VALUE', "Invalid deletion mode 'NOPE'. Must be one of: SET_DEFAULT, CASCADE, RESTRICT");
      const del = await api('DELETE', `/${name}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectError(await api('DELETE', `/${name}`), 404, 'RESOURCE_DOES_NOT_EXIST', `Workspace '${name}' not found`);
    });
  });

  describe('the header', () => {
    it('names the workspace; an unknown one is 404, an invalid one 400; default when absent or blank', async () => {
      const ws = wsName();
      await api('POST', '', { name: ws });
      const model = uniq();
      const inWs = new WsClient(() => s, `  ${ws} `);
      await inWs.createModel(model);
      expect((await inWs.getModel(model)).name).toBe(model);
      expect((await c().get('/registered-models/get', { name: model })).status).toBe(404);
      expect((await new WsClient(() => s, ' ').get('/registered-models/get', { name: model })).status).toBe(404);
      expectError(await new WsClient(() => s, 'ghost-ws').get('/registered-models/search'), 404, 'RESOURCE_DOES_NOT_EXIST', "Workspace 'ghost-ws' not found");
      expectError(await new WsClient(() => s, 'Bad_Name').get('/registered-models/search'), 400, 'INVALID_PARAMETER_VALUE', "Workspace name 'Bad_Name' must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (lowercase alphanumeric with optional internal hyphens).");
      // server-info never resolves the header.
      expect((await new WsClient(() => s, 'ghost-ws').raw('GET', '/api/3.0/mlflow/server-info')).status).toBe(200);
      // `default` by name is the default workspace.
      await new WsClient(() => s, 'default').createModel(`${model}-d`);
      expect((await c().getModel(`${model}-d`)).name).toBe(`${model}-d`);
    });

    it('the same model name in two workspaces is two models', async () => {
      const [a, b] = [wsName('a'), wsName('b')];
      await api('POST', '', { name: a });
      await api('POST', '', { name: b });
      const ca = new WsClient(() => s, a);
      const cb = new WsClient(() => s, b);
      const name = uniq('same');
      await ca.createModel(name, { description: 'in a' });
      await cb.createModel(name, { description: 'in b' });
      await ca.createVersion(name, { source: 's3://x/a' });
      await ca.createVersion(name, { source: 's3://x/a2' });
      await cb.createVersion(name, { source: 's3://x/b' });
      await ca.setAlias(name, 'champion', 2);
      expect((await ca.getModel(name)).description).toBe('in a');
      expect((await cb.getModel(name)).description).toBe('in b');
      expect((await cb.getModel(name)).aliases).toBeUndefined();
      expect((await ca.get('/registered-models/alias', { name, alias: 'champion' })).body.model_version.source).toBe('s3://x/a2');
      expect((await cb.get('/registered-models/alias', { name, alias: 'champion' })).status).toBe(400);
      expect((await cb.get('/model-versions/get-download-uri', { name, version: '1' })).body.artifact_uri).toBe('s3://x/b');
      expect((await cb.get('/model-versions/get', { name, version: '2' })).status).toBe(404);
      expect((await ca.searchVersions({ filter: `name='${name}'` })).map((v: any) => v.source).sort()).toEqual(['s3://x/a', 's3://x/a2']);
      expect((await cb.searchVersions({ filter: `name='${name}'` })).map((v: any) => v.source)).toEqual(['s3://x/b']);
      // Deleting one leaves the other.
      expect((await ca.del('/registered-models/delete', { name })).status).toBe(200);
      expect((await cb.getModel(name)).description).toBe('in b');
    });
  });

  describe('deletion modes', () => {
    async function populated(): Promise<{ ws: string; cw: WsClient; model: string; hook: string }> {
      const ws = wsName('del');
      await api('POST', '', { name: ws });
      const cw = new WsClient(() => s, ws);
      const model = uniq('dm');
      await cw.createModel(model, { tags: [{ key: 'k', value: 'v' }] });
      await cw.createVersion(model, { source: 's3://b/1', tags: [{ key: 't', value: '1' }] });
      await cw.setAlias(model, 'champ', 1);
      const hook = await cw.post('/webhooks', { name: 'h', url: 'http://127.0.0.1:9/x', events: [{ entity: 'registered_model', action: 'created' }] });
      expect(hook.status, JSON.stringify(hook.body)).toBe(200);
      return { ws, cw, model, hook: hook.body.webhook.webhook_id };
    }

    it('RESTRICT (the default) refuses while a model remains, then succeeds once it is gone', async () => {
      const { ws, cw, model, hook } = await populated();
      expectError(
        await api('DELETE', `/${ws}`),
        400,
        'INVALID_STATE',
        `Cannot delete workspace '${ws}': table 'registered_models' still contains 1 resource(s). Remove or reassign them before deleting the workspace.`,
      );
      await cw.del('/registered-models/delete', { name: model });
      expectError(
        await api('DELETE', `/${ws}?mode=RESTRICT`),
        400,
        'INVALID_STATE',
        `Cannot delete workspace '${ws}': table 'webhooks' still contains 1 resource(s). Remove or reassign them before deleting the workspace.`,
      );
      expect((await cw.del(`/webhooks/${hook}`)).status).toBe(200);
      // A soft-deleted webhook is still a row (as in MLflow).
      expect((await api('DELETE', `/${ws}`)).status).toBe(400);
    });

    it('CASCADE deletes the models and webhooks; a workspace created again under the name starts empty', async () => {
      const { ws, model } = await populated();
      expect((await api('DELETE', `/${ws}?mode=CASCADE`)).status).toBe(204);
      expectError(await new WsClient(() => s, ws).get('/registered-models/search'), 404, 'RESOURCE_DOES_NOT_EXIST', `Workspace '${ws}' not found`);
      expect((await api('POST', '', { name: ws })).status).toBe(201);
      const again = new WsClient(() => s, ws);
      expect((await again.get('/registered-models/get', { name: model })).status).toBe(404);
      expect((await again.get('/registered-models/search')).body).toEqual({});
      expect((await again.get('/webhooks')).body).toEqual({});
      expect((await again.raw('GET', '/api/2.0/mlflow-ts/history/events')).body).toEqual({});
      expect((await c().get('/registered-models/get', { name: model })).status).toBe(404);
    });

    it('SET_DEFAULT moves everything to default, and refuses names default already has', async () => {
      const { ws, model, hook } = await populated();
      await c().createModel(model);
      const conflict = await api('DELETE', `/${ws}?mode=SET_DEFAULT`);
      expectError(
        conflict,
        400,
        'INVALID_STATE',
        `Cannot reassign resources from workspace '${ws}' to 'default': the following names already exist in the default workspace and would cause conflicts:\n  - registered_models: '${model}'\nRename or remove the conflicting resources before retrying.`,
      );
      expect((await c().del('/registered-models/delete', { name: model })).status).toBe(200);
      expect((await api('DELETE', `/${ws}?mode=SET_DEFAULT`)).status).toBe(204);
      const moved = await c().getModel(model);
      expect(moved.tags).toEqual([{ key: 'k', value: 'v' }]);
      expect(moved.aliases).toEqual([{ alias: 'champ', version: '1' }]);
      expect((await c().getVersion(model, 1)).tags).toEqual([{ key: 't', value: '1' }]);
      expect((await c().get(`/webhooks/${hook}`)).status).toBe(200);
      const history = await c().raw('GET', `/api/2.0/mlflow-ts/history/registered-models?name=${model}`);
      expect(history.status).toBe(200);
    });
  });
});
