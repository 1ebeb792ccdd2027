/**
 * MLflow workspaces through the SDK, against `mlflow server --enable-workspaces` 3.17.2 (the
 * reference) and this server with MLFLOW_ENABLE_WORKSPACES=true: the workspace administration calls,
 * the `workspace` option / withWorkspace / per-call override (the X-MLFLOW-WORKSPACE header) keeping
 * models and artifacts apart, and what a server without workspaces answers. The MLflow side is
 * skipped only when the venv is missing and CI !== 'true'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer } from '../helpers/mlflow-server.js';
import { MlflowApiError, MlflowRegistryClient } from '../../packages/client/src/index.js';
import { apiError } from './util.js';

const skipMlflow = !fs.existsSync(MLFLOW_BIN) && process.env.CI !== 'true';
if (skipMlflow) console.warn(`[test/sdk/workspaces] MLflow side skipped: no ${MLFLOW_BIN} (set VENV)`);

interface Target {
  url: string;
  stop(): Promise<void>;
}

async function startMlflow(workspaces: boolean): Promise<Target> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-sdk-ws-'));
  const backend = process.env.TEST_DATABASE_URL
    ? (await createTestDatabase()).replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://')
    : `sqlite:///${path.join(scratch, 'mlflow.db')}`;
  const args = ['--backend-store-uri', backend, '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts')];
  const { url, stop } = await startMlflowServer({ args: workspaces ? [...args, '--enable-workspaces'] : args, scratch });
  return { url, stop };
}

async function startOurs(workspaces: boolean): Promise<Target> {
  const s = await startTestServer('pglite', workspaces ? { MLFLOW_ENABLE_WORKSPACES: 'true' } : {});
  return { url: s.url, stop: () => s.close() };
}

const uniq = (p: string) => `${p}-${randomBytes(3).toString('hex')}`;

const targets = [
  { kind: 'ts', start: startOurs },
  ...(skipMlflow ? [] : [{ kind: 'mlflow', start: startMlflow }]),
];

describe.each(targets)('workspaces through the SDK against $kind', { timeout: 120_000 }, ({ start }) => {
  let target: Target;
  let client: MlflowRegistryClient;

  beforeAll(async () => {
    target = await start(true);
    client = new MlflowRegistryClient({ baseUrl: target.url, validateResponses: true, retries: { maxRetries: 1, baseDelayMs: 10 } });
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('creates, lists, gets, updates and deletes workspaces', async () => {
    expect((await client.getServerInfo()).workspacesEnabled).toBe(true);
    const name = uniq('ws');
    const created = await client.createWorkspace({ name, description: 'first' });
    expect(created).toEqual({ name, description: 'first' });
    expect((await client.listWorkspaces()).map((w) => w.name)).toEqual(expect.arrayContaining(['default', name]));
    expect(await client.getWorkspace({ name })).toEqual(created);
    const updated = await client.updateWorkspace({ name, description: 'second' });
    expect(updated).toMatchObject({ name, description: 'second' });
    expect((await client.getWorkspace({ name })).description).toBe('second');

    const dup = await apiError(client.createWorkspace({ name }));
    expect(MlflowApiError.is(dup, 'RESOURCE_ALREADY_EXISTS')).toBe(true);
    const bad = await apiError(client.createWorkspace({ name: 'Not Valid!' }));
    expect(MlflowApiError.is(bad, 'INVALID_PARAMETER_VALUE')).toBe(true);

    await client.deleteWorkspace({ name });
    const gone = await apiError(client.getWorkspace({ name }));
    expect([gone.errorCode, gone.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    expect((await client.listWorkspaces()).map((w) => w.name)).not.toContain(name);
  });

  it('keeps models apart by workspace: the workspace option, withWorkspace and the per-call override', async () => {
    const a = uniq('wsa');
    const b = uniq('wsb');
    await client.createWorkspace({ name: a });
    await client.createWorkspace({ name: b });
    const inA = new MlflowRegistryClient({ baseUrl: target.url, workspace: a, validateResponses: true });
    const inB = inA.withWorkspace(b);
    expect([inA.workspace, inB.workspace]).toEqual([a, b]);

    // The same name in two workspaces is two models.
    await inA.createRegisteredModel({ name: 'shared', description: 'in a' });
    await inB.createRegisteredModel({ name: 'shared', description: 'in b' });
    await inA.createModelVersion({ name: 'shared', source: 's3://bucket/a/1' });
    expect((await inA.getRegisteredModel({ name: 'shared' })).description).toBe('in a');
    expect((await inB.getRegisteredModel({ name: 'shared' })).description).toBe('in b');
    expect((await inB.searchModelVersions({ filter: "name = 'shared'" }).toArray()).length).toBe(0);
    // A per-call workspace overrides the client's.
    expect((await inA.getRegisteredModel({ name: 'shared' }, { workspace: b })).description).toBe('in b');
    // Without a workspace, the server's default workspace: neither model is there.
    expect((await apiError(client.getRegisteredModel({ name: 'shared' }))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await client.withWorkspace('default').searchRegisteredModels({ filter: "name = 'shared'" }).toArray()).length).toBe(0);

    // RESTRICT refuses a workspace that still has models; CASCADE deletes them with it.
    const busy = await apiError(client.deleteWorkspace({ name: a }));
    expect(busy.errorCode).toBe('INVALID_STATE');
    await client.deleteWorkspace({ name: a, mode: 'CASCADE' });
    await client.deleteWorkspace({ name: b, mode: 'CASCADE' });
    expect((await apiError(client.getWorkspace({ name: a }))).status).toBe(404);
  });

  it('keeps artifacts apart by workspace', async () => {
    const a = uniq('wsart');
    await client.createWorkspace({ name: a });
    const inA = client.withWorkspace(a);
    await inA.uploadArtifact({ path: 'm/1/MLmodel', body: 'flavors: {}\n' });
    expect(await new Response(await inA.downloadArtifact({ path: 'm/1/MLmodel' })).text()).toBe('flavors: {}\n');
    expect((await inA.listArtifacts({ path: 'm/1' })).map((f) => f.path)).toEqual(['m/1/MLmodel']);
    // Not visible from the default workspace.
    expect(await client.listArtifacts({ path: 'm/1' })).toEqual([]);
    await client.deleteWorkspace({ name: a, mode: 'CASCADE' });
  });

  it('names an unknown workspace in the header: the call fails with a typed error', async () => {
    const err = await apiError(client.withWorkspace(uniq('nosuch')).searchRegisteredModels().toArray());
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
  });
});

describe.each(targets)('a server without workspaces ($kind)', { timeout: 120_000 }, ({ start }) => {
  let target: Target;

  beforeAll(async () => {
    target = await start(false);
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
  });

  it('answers the workspace calls with 503 (MLflow: "running without workspaces support")', async () => {
    const client = new MlflowRegistryClient({ baseUrl: target.url, retries: 0 });
    expect((await client.getServerInfo()).workspacesEnabled).toBe(false);
    const err = await apiError(client.listWorkspaces());
    expect([err.errorCode, err.status]).toEqual(['TEMPORARILY_UNAVAILABLE', 503]);
    expect(err.message).toMatch(/without workspaces support/);
  });
});
