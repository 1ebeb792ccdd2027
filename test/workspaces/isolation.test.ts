/**
 * Isolation: for EVERY operation of the route table (packages/server/src/gen/operations.gen.ts), a
 * request in workspace B never reads, changes or reveals workspace A's data — model and prompt names,
 * counts, page tokens, versions, aliases, download URIs, webhooks and their deliveries, the audit
 * history, artifacts. An operation added to the contract without a case here fails the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operations, type OperationId } from '../../packages/server/src/gen/operations.gen.js';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { Receiver, eventually } from '../webhooks/receiver.js';
import type { Res } from '../registry/util.js';
import { WsClient } from './util.js';

const ART = '/api/2.0/mlflow-artifacts';
const TS = '/api/2.0/mlflow-ts';

describe.each(backendsWithS3())('workspace isolation over the whole route table (%s)', (backend) => {
  let s: TestServer;
  let rx: Receiver;
  const tag = Math.random().toString(36).slice(2, 8);
  const A = `iso-a-${tag}`;
  const B = `iso-b-${tag}`;
  // A's names: distinctive strings, so that a leak in any answer is found by text.
  const M = `secret-model-${tag}`;
  const P = `secret-prompt-${tag}`;
  let hookA = '';
  let hookB = '';
  let tokenA = '';
  let a: WsClient;
  let b: WsClient;
  let snapshot: unknown;

  const secrets = () => [M, P, A, hookA, 'secret-artifact', 'secret-tag-value'];
  /** The answer mentions nothing of A's (names, ids, artifact files, values). */
  const noLeak = (r: Res, what: string) => {
    for (const x of secrets()) expect(r.text.includes(x), `${what} revealed ${x}: ${r.text.slice(0, 300)}`).toBe(false);
  };
  /**
   * Refused, and indistinguishable from the same request about something that exists nowhere: the
   * answer to `run(real)` is the answer to `run(ghost)` with the ghost's name in place of the real one.
   */
  const same = async (what: string, real: string, ghost: string, run: (x: string) => Promise<Res>) => {
    const r = await run(real);
    const g = await run(ghost);
    expect([400, 404], `${what}: ${r.status} ${r.text.slice(0, 200)}`).toContain(r.status);
    expect(r.status, what).toBe(g.status);
    expect(r.text, what).toBe(g.text.split(ghost).join(real));
  };
  const GHOST = `ghost-model-${tag}`;
  const GHOST_WS = `ghost-ws-${tag}`;
  const GHOST_ID = '00000000-0000-4000-8000-000000000000';
  /** A request about model M (or a ghost) in B. */
  const onModel = (what: string, run: (name: string) => Promise<Res>) => same(what, M, GHOST, run);
  const onHook = (what: string, run: (id: string) => Promise<Res>) => same(what, hookA, GHOST_ID, run);
  const onTree = (what: string, run: (ws: string) => Promise<Res>) => same(what, A, GHOST_WS, run);

  async function stateOfA(): Promise<unknown> {
    const model = await a.getModel(M);
    const prompt = await a.getModel(P);
    const versions = await a.searchVersions({ filter: `name='${M}'` });
    const hooks = (await a.get('/webhooks')).body;
    const events = (await a.raw('GET', `${TS}/history/events`)).body;
    const files = (await a.at(ART).get('/artifacts', { path: 'models/m1' })).body;
    const bytes = (await a.at(ART).raw('GET', `${ART}/artifacts/models/m1/model.pkl`)).text;
    const alias = (await a.get('/registered-models/alias', { name: M, alias: 'champ' })).body;
    return { model, prompt, versions, hooks, events, files, bytes, alias };
  }

  beforeAll(async () => {
    rx = await Receiver.start();
    s = await startTestServer(backend, {
      MLFLOW_ENABLE_WORKSPACES: 'true',
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
    });
    const admin = new WsClient(() => s, undefined);
    expect((await admin.createWorkspace(A)).status).toBe(201);
    expect((await admin.createWorkspace(B)).status).toBe(201);
    a = new WsClient(() => s, A);
    b = new WsClient(() => s, B);

    const events = [
      { entity: 'model_version', action: 'created' },
      { entity: 'registered_model', action: 'created' },
      { entity: 'model_version_alias', action: 'created' },
    ];
    const ha = await a.post('/webhooks', { name: 'hook-a', url: `${rx.url}/a`, events });
    expect(ha.status, ha.text).toBe(200);
    hookA = ha.body.webhook.webhook_id;
    const hb = await b.post('/webhooks', { name: 'hook-b', url: `${rx.url}/b`, events });
    expect(hb.status, hb.text).toBe(200);
    hookB = hb.body.webhook.webhook_id;

    await a.createModel(M, { description: 'A model', tags: [{ key: 'team', value: 'secret-tag-value' }] });
    await a.createModel(P, { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    await a.createVersion(M, { source: 'mlflow-artifacts:/models/m1', tags: [{ key: 'k', value: 'secret-tag-value' }] });
    await a.createVersion(M, { source: 'mlflow-artifacts:/models/m2' });
    await a.setAlias(M, 'champ', 1);
    for (let i = 0; i < 3; i++) await a.createModel(`${M}-${i}`);
    const up = await a.at(ART).raw('PUT', `${ART}/artifacts/models/m1/model.pkl`, { body: 'secret-artifact bytes' });
    expect(up.status, up.text).toBe(200);
    const tokenPage = await a.get('/registered-models/search', { max_results: 1 });
    tokenA = tokenPage.body.next_page_token;
    expect(tokenA).toBeTruthy();
    // A's deliveries reach A's webhook only.
    await eventually(async () => rx.requests.filter((r) => r.path === '/a').length >= 7 || undefined);
    // Each delivery names its webhook's workspace last, as MLflow's do with workspaces on.
    for (const r of rx.requests) expect([r.path, r.json.workspace, r.problems]).toEqual([r.path, r.path === '/a' ? A : B, []]);
    snapshot = await stateOfA();
  });
  afterAll(async () => {
    await s?.close();
    await rx?.close();
  });

  /** One request in B per operation, aimed at A's data where the operation takes a name or id. */
  const cases: Partial<Record<OperationId, () => Promise<void>>> = {
    createRegisteredModel: async () => {
      const r = await b.post('/registered-models/create', { name: `b-own-${tag}` });
      expect(r.status).toBe(200);
      noLeak(r, 'createRegisteredModel');
    },
    renameRegisteredModel: async () => onModel('rename', (n) => b.post('/registered-models/rename', { name: n, new_name: `stolen-${tag}` })),
    updateRegisteredModel: async () => onModel('update', (n) => b.patch('/registered-models/update', { name: n, description: 'x' })),
    deleteRegisteredModel: async () => onModel('delete', (n) => b.del('/registered-models/delete', { name: n })),
    getRegisteredModel: async () => {
      await onModel('get', (n) => b.get('/registered-models/get', { name: n }));
      await same('get prompt', P, GHOST, (n) => b.get('/registered-models/get', { name: n }));
    },
    searchRegisteredModels: async () => {
      for (const q of [{}, { filter: `name LIKE '%secret%'` }, { filter: "tags.`mlflow.prompt.is_prompt` = 'true'" }, { max_results: 1 }]) {
        const r = await b.get('/registered-models/search', q);
        expect(r.status).toBe(200);
        noLeak(r, `search ${JSON.stringify(q)}`);
        // Counts: B holds its own model at most; the page token of a one-item page appears only when B has more.
        expect((r.body.registered_models ?? []).length).toBeLessThanOrEqual(1);
        expect(r.body.next_page_token).toBeUndefined();
      }
      // A's page token names an offset only: in B it pages B's models.
      const r = await b.get('/registered-models/search', { page_token: tokenA });
      expect(r.status).toBe(200);
      noLeak(r, 'search with A page token');
    },
    getLatestVersions: async () => onModel('latest', (n) => b.post('/registered-models/get-latest-versions', { name: n })),
    getLatestVersionsGet: async () => onModel('latest GET', (n) => b.get('/registered-models/get-latest-versions', { name: n })),
    setRegisteredModelTag: async () => onModel('set tag', (n) => b.post('/registered-models/set-tag', { name: n, key: 'x', value: 'y' })),
    deleteRegisteredModelTag: async () => onModel('delete tag', (n) => b.del('/registered-models/delete-tag', { name: n, key: 'team' })),
    getModelVersionByAlias: async () => {
      await onModel('alias', (n) => b.get('/registered-models/alias', { name: n, alias: 'champ' }));
      await onModel('alias latest', (n) => b.get('/registered-models/alias', { name: n, alias: 'latest' }));
    },
    setRegisteredModelAlias: async () => onModel('set alias', (n) => b.post('/registered-models/alias', { name: n, alias: 'x', version: '1' })),
    deleteRegisteredModelAlias: async () => onModel('delete alias', (n) => b.del('/registered-models/alias', { name: n, alias: 'champ' })),
    createModelVersion: async () => {
      await onModel('create version', (n) => b.post('/model-versions/create', { name: n, source: 's3://x/y' }));
      // A `models:/` source resolves in B's registry, where A's model does not exist.
      await onModel('create version from A source', (n) => b.post('/model-versions/create', { name: `b-own-${tag}`, source: `models:/${n}/1` }));
    },
    updateModelVersion: async () => onModel('update version', (n) => b.patch('/model-versions/update', { name: n, version: '1', description: 'x' })),
    transitionModelVersionStage: async () =>
      await onModel('transition', (n) => b.post('/model-versions/transition-stage', { name: n, version: '1', stage: 'Production' })),
    deleteModelVersion: async () => onModel('delete version', (n) => b.del('/model-versions/delete', { name: n, version: '1' })),
    getModelVersion: async () => onModel('get version', (n) => b.get('/model-versions/get', { name: n, version: '1' })),
    searchModelVersions: async () => {
      for (const q of [{}, { filter: `name='${M}'` }, { filter: "run_id = ''" }, { page_token: tokenA }]) {
        const r = await b.get('/model-versions/search', q);
        expect(r.status).toBe(200);
        noLeak(r, `search versions ${JSON.stringify(q)}`);
      }
    },
    getModelVersionDownloadUri: async () => onModel('download uri', (n) => b.get('/model-versions/get-download-uri', { name: n, version: '1' })),
    setModelVersionTag: async () => onModel('set version tag', (n) => b.post('/model-versions/set-tag', { name: n, version: '1', key: 'x', value: 'y' })),
    deleteModelVersionTag: async () => onModel('delete version tag', (n) => b.del('/model-versions/delete-tag', { name: n, version: '1', key: 'k' })),
    getModelVersionArtifact: async () =>
      await onModel('get-artifact', (n) => b.raw('GET', `/model-versions/get-artifact?name=${n}&version=1&path=model.pkl`)),

    listWebhooks: async () => {
      const r = await b.get('/webhooks');
      expect(r.status).toBe(200);
      noLeak(r, 'list webhooks');
      expect(r.body.webhooks.map((w: any) => w.webhook_id)).toEqual([hookB]);
    },
    createWebhook: async () => {
      const r = await b.post('/webhooks', { name: 'b2', url: `${rx.url}/b`, events: [{ entity: 'prompt', action: 'created' }] });
      expect(r.status).toBe(200);
      noLeak(r, 'create webhook');
    },
    getWebhook: async () => onHook('get webhook', (id) => b.get(`/webhooks/${id}`)),
    updateWebhook: async () => onHook('update webhook', (id) => b.patch(`/webhooks/${id}`, { url: `${rx.url}/stolen` })),
    deleteWebhook: async () => onHook('delete webhook', (id) => b.del(`/webhooks/${id}`)),
    testWebhook: async () => onHook('test webhook', (id) => b.post(`/webhooks/${id}/test`, {})),

    listArtifacts: async () => {
      const root = await b.at(ART).get('/artifacts');
      expect(root.status).toBe(200);
      noLeak(root, 'list root');
      expect(root.text).not.toContain('models');
      await onTree('list A tree', (ws) => b.at(ART).get('/artifacts', { path: `workspaces/${ws}` }));
      const all = await b.at(ART).get('/artifacts', { path: 'workspaces' });
      expect(all.status).toBe(400);
      noLeak(all, 'list workspaces');
      const own = await b.at(ART).get('/artifacts', { path: 'models/m1' });
      expect(own.body).toEqual({});
      // default cannot enter the workspaces' trees either.
      const d = new WsClient(() => s, undefined).at(ART);
      await onTree('default lists A tree', (ws) => d.get('/artifacts', { path: `workspaces/${ws}/models` }));
      const dr = await d.get('/artifacts');
      expect(dr.status).toBe(200);
      expect(dr.text).not.toContain('"workspaces"');
    },
    downloadArtifact: async () => {
      await same('download same path', 'm1', 'ghost-m9', (x) => b.raw('GET', `${ART}/artifacts/models/${x}/model.pkl`));
      await onTree('download A path', (ws) => b.raw('GET', `${ART}/artifacts/workspaces/${ws}/models/m1/model.pkl`));
      await onTree('download encoded A path', (ws) => b.raw('GET', `${ART}/artifacts/workspaces%2F${ws}%2Fmodels%2Fm1%2Fmodel.pkl`));
      await onTree('default downloads A path', (ws) => new WsClient(() => s, undefined).raw('GET', `${ART}/artifacts/workspaces/${ws}/models/m1/model.pkl`));
    },
    uploadArtifact: async () => {
      await onTree('upload A path', (ws) => b.raw('PUT', `${ART}/artifacts/workspaces/${ws}/models/m1/model.pkl`, { body: 'overwritten' }));
      const own = await b.raw('PUT', `${ART}/artifacts/models/m1/model.pkl`, { body: 'b bytes' });
      expect(own.status).toBe(200);
    },
    deleteArtifact: async () => onTree('delete A path', (ws) => b.raw('DELETE', `${ART}/artifacts/workspaces/${ws}/models/m1/model.pkl`)),
    createMultipartUpload: async () =>
      await onTree('mpu create', (ws) => b.raw('POST', `${ART}/mpu/create/workspaces/${ws}/models/m1`, { body: JSON.stringify({ path: 'x', num_parts: 1 }), headers: { 'content-type': 'application/json' } })),
    completeMultipartUpload: async () =>
      await onTree('mpu complete', (ws) => b.raw('POST', `${ART}/mpu/complete/workspaces/${ws}/models/m1`, { body: JSON.stringify({ path: 'x', upload_id: 'u', parts: [] }), headers: { 'content-type': 'application/json' } })),
    abortMultipartUpload: async () =>
      await onTree('mpu abort', (ws) => b.raw('POST', `${ART}/mpu/abort/workspaces/${ws}/models/m1`, { body: JSON.stringify({ path: 'x', upload_id: 'u' }), headers: { 'content-type': 'application/json' } })),
    getPresignedDownloadUrl: async () => onTree('presigned', (ws) => b.raw('GET', `${ART}/presigned/workspaces/${ws}/models/m1/model.pkl`)),
    createDirectUpload: async () =>
      await onTree('direct create', (ws) => b.raw('POST', `${TS}/artifacts/direct-upload/create`, { body: JSON.stringify({ path: `workspaces/${ws}/x`, size: 1 }), headers: { 'content-type': 'application/json' } })),
    completeDirectUpload: async () =>
      await onTree('direct complete', (ws) => b.raw('POST', `${TS}/artifacts/direct-upload/complete`, { body: JSON.stringify({ path: `workspaces/${ws}/x`, upload_id: 'u', parts: [] }), headers: { 'content-type': 'application/json' } })),
    abortDirectUpload: async () =>
      await onTree('direct abort', (ws) => b.raw('POST', `${TS}/artifacts/direct-upload/abort`, { body: JSON.stringify({ path: `workspaces/${ws}/x`, upload_id: 'u' }), headers: { 'content-type': 'application/json' } })),
    getDirectDownloadUrl: async () => onTree('direct download', (ws) => b.raw('GET', `${TS}/artifacts/direct-download?path=workspaces/${ws}/models/m1/model.pkl`)),

    getRegisteredModelHistory: async () => onModel('model history', (n) => b.raw('GET', `${TS}/history/registered-models?name=${n}`)),
    getModelVersionHistory: async () => onModel('version history', (n) => b.raw('GET', `${TS}/history/model-versions?name=${n}&version=1`)),
    getAliasHistory: async () => onModel('alias history', (n) => b.raw('GET', `${TS}/history/aliases?name=${n}&alias=champ`)),
    listRegistryEvents: async () => {
      const r = await b.raw('GET', `${TS}/history/events`);
      expect(r.status).toBe(200);
      noLeak(r, 'events');
    },
    listWebhookDeliveries: async () => {
      await onHook('A deliveries', (id) => b.raw('GET', `${TS}/history/webhooks/${id}/deliveries`));
      const own = await b.raw('GET', `${TS}/history/webhooks/${hookB}/deliveries`);
      expect(own.status).toBe(200);
      noLeak(own, 'B deliveries');
    },
  };

  /** Operations that hold no workspace data, with the reason. */
  const notScoped = (id: OperationId, path: string): string | undefined => {
    if (['health', 'version', 'getServerInfo'].includes(id)) return 'server facts, no registry data';
    if (id.endsWith('Workspace') || id === 'listWorkspaces') return 'the workspace catalogue itself (admins manage it; the auth suite checks who sees what)';
    if (/\/(users|roles)\//.test(path) || path.includes('/mlflow-ts/tokens/')) return 'the auth API (users, roles, grants, tokens): the auth suite';
    return undefined;
  };

  it('every operation of the route table has an isolation case or a reason', () => {
    const missing = (Object.keys(operations) as OperationId[]).filter((id) => !cases[id] && !notScoped(id, operations[id].path));
    expect(missing).toEqual([]);
  });

  it('in workspace B, no operation reads, changes or reveals workspace A\'s data', async () => {
    for (const [id, run] of Object.entries(cases)) {
      try {
        await run!();
      } catch (err) {
        (err as Error).message = `${id}: ${(err as Error).message}`;
        throw err;
      }
    }
    // A is exactly as it was.
    expect(await stateOfA()).toEqual(snapshot);
    // B's webhook got B's events only; A's got none of B's.
    const toB = rx.requests.filter((r) => r.path === '/b');
    for (const r of toB) expect(r.body.includes(M) || r.body.includes(P), r.body).toBe(false);
    expect(toB.some((r) => r.body.includes(`b-own-${tag}`))).toBe(true);
    expect(rx.requests.filter((r) => r.path === '/a').some((r) => r.body.includes(`b-own-${tag}`))).toBe(false);
  });
});
