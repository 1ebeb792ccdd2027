/**
 * Side by side with `mlflow server --enable-workspaces` 3.17.2 on one PostgreSQL database that MLflow
 * created: each server reads and changes what the other wrote, workspace by workspace; and the two answer
 * the workspace API, the header and its errors the same (MLflow as the oracle; the one deliberate
 * difference, deletion refusals answered 400 instead of 500, is checked as such).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { startMlflowServer, MLFLOW_BIN, type MlflowServer } from '../helpers/mlflow-server.js';
import { scratchDir } from '../helpers/process.js';
import type { Res } from '../registry/util.js';
import { WS_API, WsClient } from './util.js';

const haveMlflow = fs.existsSync(MLFLOW_BIN);

describe.skipIf(!process.env.TEST_DATABASE_URL || !haveMlflow)('workspaces side by side with mlflow server --enable-workspaces (postgres)', () => {
  let mlflow: MlflowServer;
  let ours: TestServer;
  const tag = Math.random().toString(36).slice(2, 7);
  const [A, B] = [`sb-a-${tag}`, `sb-b-${tag}`];
  // MLflow's answers compared with ours: the same request to both.
  const theirs = (ws?: string) => new WsClient(() => ({ fetch: (p: string, init?: RequestInit) => fetch(mlflow.url + p, init) }) as unknown as TestServer, ws);
  const mine = (ws?: string) => new WsClient(() => ours, ws);
  const json = (c: WsClient, method: string, p: string, body?: unknown): Promise<Res> =>
    c.raw(method, p, body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    const url = await createTestDatabase();
    const scratch = scratchDir('mlflow-ws-');
    mlflow = await startMlflowServer({
      args: ['--backend-store-uri', url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:'), '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts'), '--enable-workspaces'],
      env: { MLFLOW_ENABLE_WORKSPACES: 'true' },
      scratch,
    });
    ours = await startTestServer('postgres', { MLFLOW_ENABLE_WORKSPACES: 'true' }, { databaseUrl: url });
  }, 180_000);
  afterAll(async () => {
    await ours?.close();
    await mlflow?.stop();
  });

  it('each reads, per workspace, what the other wrote', async () => {
    expect((await theirs().createWorkspace(A)).status).toBe(201);
    expect((await mine().createWorkspace(B)).status).toBe(201);
    const name = `sb-model-${tag}`;
    expect((await theirs(A).post('/registered-models/create', { name, description: 'by mlflow in A' })).status).toBe(200);
    expect((await mine(B).post('/registered-models/create', { name, description: 'by us in B' })).status).toBe(200);
    expect((await theirs(A).post('/model-versions/create', { name, source: 's3://b/a1' })).status).toBe(200);
    expect((await mine(B).post('/model-versions/create', { name, source: 's3://b/b1' })).status).toBe(200);
    expect((await mine(A).post('/registered-models/alias', { name, alias: 'champ', version: '1' })).status).toBe(200);

    for (const c of [theirs, mine]) {
      expect((await c(A).get('/registered-models/get', { name })).body.registered_model).toMatchObject({ name, description: 'by mlflow in A', aliases: [{ alias: 'champ', version: '1' }] });
      expect((await c(B).get('/registered-models/get', { name })).body.registered_model.description).toBe('by us in B');
      expect((await c(B).get('/registered-models/get', { name })).body.registered_model.aliases).toBeUndefined();
      expect((await c().get('/registered-models/get', { name })).status).toBe(404);
      expect((await c(B).get('/model-versions/get-download-uri', { name, version: '1' })).body.artifact_uri).toBe('s3://b/b1');
      const listed = (await c().raw('GET', WS_API)).body.workspaces.map((w: any) => w.name);
      expect(listed).toEqual(expect.arrayContaining(['default', A, B]));
    }
  });

  it('the workspace API and the header answer as MLflow does', async () => {
    const name = `sb-cmp-${tag}`;
    const same = async (what: string, run: (c: (ws?: string) => WsClient) => Promise<Res>) => {
      const t = await run(theirs);
      const o = await run(mine);
      expect(o.status, `${what}: ${o.text}`).toBe(t.status);
      if (t.status === 204) expect(o.text).toBe('');
      else expect(JSON.parse(o.text), what).toEqual(JSON.parse(t.text));
    };
    await same('get default', (c) => c().raw('GET', `${WS_API}/default`));
    await same('get unknown', (c) => c().raw('GET', `${WS_API}/nope-${tag}`));
    await same('get invalid', (c) => c().raw('GET', `${WS_API}/Bad_Name`));
    await same('create reserved', (c) => json(c(), 'POST', WS_API, { name: 'default' }));
    await same('create invalid', (c) => json(c(), 'POST', WS_API, { name: 'x' }));
    await same('create reserved word', (c) => json(c(), 'POST', WS_API, { name: 'api' }));
    await same('create missing name', (c) => json(c(), 'POST', WS_API, {}));
    await same('create relative root', (c) => json(c(), 'POST', WS_API, { name: `rel-${tag}`, default_artifact_root: 'rel/x' }));
    await same('create bad retention', (c) => json(c(), 'POST', WS_API, { name: `ret-${tag}`, trace_archival_config: { retention: '5 days' } }));
    await same('update no key', (c) => json(c(), 'PATCH', `${WS_API}/${A}`, {}));
    await same('update unknown', (c) => json(c(), 'PATCH', `${WS_API}/nope-${tag}`, { description: 'x' }));
    await same('delete default', (c) => c().raw('DELETE', `${WS_API}/default`));
    await same('delete bad mode', (c) => c().raw('DELETE', `${WS_API}/${A}?mode=NOPE`));
    await same('delete unknown', (c) => c().raw('DELETE', `${WS_API}/nope-${tag}`));
    await same('unknown header', (c) => c(`nope-${tag}`).get('/registered-models/get', { name }));
    await same('invalid header', (c) => c('Bad_Name').get('/registered-models/get', { name }));
    await same('model in another workspace', (c) => c(B).get('/registered-models/get', { name: `sb-model-${tag}-x` }));

    // Creates, updates and the default's description.
    const w = (p: string) => `${p}-${tag}`;
    for (const [c, ws] of [[theirs, w('ct')], [mine, w('co')]] as const) {
      const r = await json(c(), 'POST', WS_API, { name: ws, description: 'd', default_artifact_root: 's3://bucket/x' });
      expect(r.status).toBe(201);
      expect(r.body).toEqual({ workspace: { name: ws, description: 'd', default_artifact_root: 's3://bucket/x' } });
      expect((await json(c(), 'PATCH', `${WS_API}/${ws}`, { default_artifact_root: '' })).body).toEqual({ workspace: { name: ws, description: 'd' } });
    }
  });

  it('deletion refusals carry MLflow\'s INVALID_STATE message (MLflow answers 500, we 400); deletes succeed alike', async () => {
    const t = await theirs().raw('DELETE', `${WS_API}/${A}`);
    const o = await mine().raw('DELETE', `${WS_API}/${A}`);
    expect(t.status).toBe(500);
    expect(o.status).toBe(400);
    expect(o.body).toEqual(t.body);
    for (const [c, ws] of [[theirs, `dt-${tag}`], [mine, `do-${tag}`]] as const) {
      expect((await c().createWorkspace(ws)).status).toBe(201);
      expect((await c(ws).post('/registered-models/create', { name: `m-${tag}` })).status).toBe(200);
      const del = await c().raw('DELETE', `${WS_API}/${ws}?mode=SET_DEFAULT`);
      expect(del.status).toBe(204);
      // Moved to default, where both servers see it.
      expect((await theirs().get('/registered-models/get', { name: `m-${tag}` })).status).toBe(200);
      expect((await mine().get('/registered-models/get', { name: `m-${tag}` })).status).toBe(200);
      expect((await mine().del('/registered-models/delete', { name: `m-${tag}` })).status).toBe(200);
    }
  });

  it('with workspaces off on our side, a header is FEATURE_DISABLED as MLflow answers it', async () => {
    // A database of its own: mlflow server without workspaces refuses one that has other workspaces.
    const url = await createTestDatabase();
    const scratch = scratchDir('mlflow-ws-off-');
    const mlflowOff = await startMlflowServer({ args: ['--backend-store-uri', url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:')], scratch });
    const off = await startTestServer('postgres', {}, { databaseUrl: url });
    try {
      const t = await fetch(`${mlflowOff.url}/api/2.0/mlflow/registered-models/search`, { headers: { 'x-mlflow-workspace': A } });
      const o = await off.fetch('/api/2.0/mlflow/registered-models/search', { headers: { 'x-mlflow-workspace': A } });
      expect(o.status).toBe(t.status);
      expect(await o.json()).toEqual(await t.json());
      const tl = await fetch(`${mlflowOff.url}${WS_API}`);
      const ol = await off.fetch(WS_API);
      expect(ol.status).toBe(tl.status);
      expect(await ol.text()).toBe(await tl.text());
    } finally {
      await mlflowOff.stop();
      await off.close();
    }
  }, 180_000);
});
