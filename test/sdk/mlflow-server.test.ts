/**
 * The SDK against BOTH servers it is for: this project's server and `mlflow server` 3.17.2 (from the
 * venv; `--serve-artifacts`, on a fresh PostgreSQL database when TEST_DATABASE_URL is set, else
 * SQLite). The same scenarios run against each, with response validation on:
 *   - registerModel (model created if needed, version READY), errors and codes, description clearing;
 *   - a model registered from a local directory (uploaded through the mlflow-artifacts API),
 *     resolved by alias / latest / stage / version, and downloaded byte-identical;
 *   - the filter builder round-tripped through the real server's search parser (quotes, LIKE escapes);
 *   - what MLflow's server lacks (the history API) is asserted as such.
 * The MLflow side is skipped only when the venv is missing and CI !== 'true'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer } from '../helpers/mlflow-server.js';
import { MlflowApiError, MlflowRegistryClient, and, escapeLike, where } from '../../packages/client/src/index.js';
import { downloadModel, optionsFromEnv, uploadArtifacts } from '../../packages/client/src/node.js';
import { apiError } from './util.js';

const skipMlflow = !fs.existsSync(MLFLOW_BIN) && process.env.CI !== 'true';
if (skipMlflow) console.warn(`[test/sdk/mlflow-server] MLflow side skipped: no ${MLFLOW_BIN} (set VENV)`);

interface Target {
  kind: 'ts' | 'mlflow';
  url: string;
  stop(): Promise<void>;
}

/** `mlflow server` with the artifact proxy, detached in its own process group (stopped as a group). */
async function startMlflow(): Promise<Target> {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-sdk-'));
  const backend = process.env.TEST_DATABASE_URL
    ? (await createTestDatabase()).replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://')
    : `sqlite:///${path.join(scratch, 'mlflow.db')}`;
  const { url, stop } = await startMlflowServer({
    args: ['--backend-store-uri', backend, '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts')],
    scratch,
  });
  return { kind: 'mlflow', url, stop };
}

async function startOurs(): Promise<Target> {
  const s: TestServer = await startTestServer('pglite');
  return { kind: 'ts', url: s.url, stop: () => s.close() };
}

/**
 * Where a model's files go. MLflow 3.17 accepts an `mlflow-artifacts:` source only with the run_id of
 * a run whose artifact root contains it (as `mlflow.register_model` of a logged model has), so on
 * `mlflow server` a run is created first with its tracking API (which the SDK does not wrap: it is
 * a registry client); this registry-only server takes the source as it is.
 */
async function artifactLocation(target: Target, name: string): Promise<{ artifactPath: string; runId: string }> {
  if (target.kind === 'ts') return { artifactPath: `models/${name}/artifacts`, runId: randomBytes(16).toString('hex') };
  const res = await fetch(`${target.url}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: '0', run_name: name }),
  });
  const body = (await res.json()) as { run: { info: { run_id: string; artifact_uri: string } } };
  const root = body.run.info.artifact_uri; // mlflow-artifacts:/0/<run_id>/artifacts
  expect(root).toMatch(/^mlflow-artifacts:\//);
  return { artifactPath: `${root.replace(/^mlflow-artifacts:\/+/, '')}/model`, runId: body.run.info.run_id };
}

const uniq = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;

/** Every file below `dir`, relative path → bytes. */
function snapshot(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'), fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return out;
}

const targets: { kind: Target['kind']; start: () => Promise<Target> }[] = [
  { kind: 'ts', start: startOurs },
  ...(skipMlflow ? [] : [{ kind: 'mlflow' as const, start: startMlflow }]),
];

describe.each(targets)('the SDK against $kind', { timeout: 120_000 }, ({ kind, start }) => {
  let target: Target;
  let client: MlflowRegistryClient;
  let work: string;

  beforeAll(async () => {
    target = await start();
    client = new MlflowRegistryClient({ baseUrl: target.url, validateResponses: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-sdk-files-'));
  }, 180_000);

  afterAll(async () => {
    await target?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('registerModel creates the model if needed, registers READY versions, and tolerates an existing model', async () => {
    const name = uniq('reg');
    const v1 = await client.registerModel({ name, source: 's3://bucket/reg/1', tags: { k: 'v' }, description: 'first' });
    expect(v1).toMatchObject({ name, version: '1', status: 'READY', tags: { k: 'v' }, description: 'first' });
    const v2 = await client.registerModel({ name, source: 's3://bucket/reg/2' });
    expect(v2.version).toBe('2');
    expect((await client.getRegisteredModel({ name })).name).toBe(name);
    // The same typed errors on both servers.
    expect((await apiError(client.createRegisteredModel({ name }))).errorCode).toBe('RESOURCE_ALREADY_EXISTS');
    const missing = await apiError(client.getRegisteredModel({ name: uniq('missing') }));
    expect(MlflowApiError.is(missing, 'RESOURCE_DOES_NOT_EXIST')).toBe(true);
    expect(missing.status).toBe(404);
  });

  it('clears a description only when asked to (description: null)', async () => {
    const name = uniq('desc');
    await client.createRegisteredModel({ name, description: 'keep' });
    expect((await client.updateRegisteredModel({ name, description: 'changed' })).description).toBe('changed');
    expect((await client.updateRegisteredModel({ name, description: null })).description).toBeUndefined();
    const mv = await client.createModelVersion({ name, source: 's3://bucket/desc/1', description: 'x' });
    expect((await client.updateModelVersion({ name, version: mv.version, description: null })).description).toBeUndefined();
  });

  it('registers a model from a local directory, resolves it by alias, latest, stage and version, and downloads it byte-identical', async () => {
    const name = uniq('local');
    const src = path.join(work, `${name}-src`);
    fs.mkdirSync(path.join(src, 'data', 'nested deeper'), { recursive: true });
    fs.writeFileSync(path.join(src, 'MLmodel'), 'flavors:\n  python_function: {}\n');
    fs.writeFileSync(path.join(src, 'data', 'weights.bin'), randomBytes(3 * 1024 * 1024 + 17));
    fs.writeFileSync(path.join(src, 'data', 'nested deeper', 'vocab é.txt'), 'héllo\nwörld\n');
    fs.writeFileSync(path.join(src, 'data', 'empty'), '');

    const { artifactPath, runId } = await artifactLocation(target, name);
    const uploaded = await uploadArtifacts(client, { localDir: src, artifactPath });
    expect(uploaded).toHaveLength(4);
    const first = await client.registerModel({ name, source: `mlflow-artifacts:/${artifactPath}`, runId });
    await client.setRegisteredModelAlias({ name, alias: 'champion', version: first.version });
    // A second version elsewhere, so that "latest" and "champion" differ.
    const second = await client.registerModel({ name, source: 's3://bucket/elsewhere/none' });
    await client.transitionModelVersionStage({ name, version: first.version, stage: 'Production' });

    const byAlias = await client.resolveModelUri(`models:/${name}@champion`);
    expect(byAlias).toMatchObject({ name, version: first.version, downloadUri: `mlflow-artifacts:/${artifactPath}`, artifactPath });
    expect((await client.resolveModelUri(`models:/${name}/latest`)).version).toBe(second.version);
    expect((await client.resolveModelUri(`models:/${name}/Production`)).version).toBe(first.version);
    expect((await client.resolveModelUri(`models:/${name}/production`)).version).toBe(first.version);
    expect((await client.resolveModelUri(`models:/${name}/${first.version}`)).version).toBe(first.version);
    const noStaging = await apiError(client.resolveModelUri(`models:/${name}/Staging`));
    expect(noStaging.errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await apiError(client.resolveModelUri(`models:/${name}@nope`))).errorCode).toBe('INVALID_PARAMETER_VALUE');

    const dst = path.join(work, `${name}-dst`);
    const got = await downloadModel(client, { modelUri: `models:/${name}@champion`, dstPath: dst });
    expect(got.version).toBe(first.version);
    expect(got.files).toHaveLength(4);
    const want = snapshot(src);
    const have = snapshot(dst);
    expect([...have.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [rel, bytes] of want) expect(have.get(rel)!.equals(bytes), rel).toBe(true);
  });

  it('builds filters that the server parses back exactly (quotes, LIKE escapes, tag keys)', async () => {
    const prefix = uniq('flt');
    const names = [`${prefix} o'brien`, `${prefix} say "hi"`, `${prefix} 50%_off`, `${prefix} 50xyoff`, `${prefix} back\\slash x`, `${prefix} a' AND name = 'b`];
    for (const n of names) await client.createRegisteredModel({ name: n, tags: { 'team key': n.slice(prefix.length + 1) } });
    for (const n of names) {
      const found = await client.searchRegisteredModels({ filter: where.name.eq(n) }).toArray();
      expect(found.map((m) => m.name), n).toEqual([n]);
      const byTag = await client.searchRegisteredModels({ filter: and(where.name.like(`${escapeLike(prefix)}%`), where.tag('team key').eq(n.slice(prefix.length + 1))) }).toArray();
      expect(byTag.map((m) => m.name), `tag of ${n}`).toEqual([n]);
    }
    // `%` and `_` escaped: only the literal "50%_off", not "50xyoff". Backslash escapes work on
    // PostgreSQL and MySQL backends; SQLite's LIKE has no escape character, so `mlflow server` on
    // SQLite (this suite without TEST_DATABASE_URL) matches nothing (the README says so).
    const literal = await client.searchRegisteredModels({ filter: where.name.like(`${escapeLike(`${prefix} 50%_`)}%`) }).toArray();
    const sqlite = kind === 'mlflow' && !process.env.TEST_DATABASE_URL;
    expect(literal.map((m) => m.name)).toEqual(sqlite ? [] : [`${prefix} 50%_off`]);
    const wild = await client.searchRegisteredModels({ filter: where.name.like(`${escapeLike(`${prefix} 50`)}%`), orderBy: ['name ASC'] }).toArray();
    expect(wild.map((m) => m.name)).toEqual([`${prefix} 50%_off`, `${prefix} 50xyoff`]);
    const ci = await client.searchRegisteredModels({ filter: where.name.ilike(`${escapeLike(prefix.toUpperCase())} O'BRIEN`) }).toArray();
    expect(ci.map((m) => m.name)).toEqual([`${prefix} o'brien`]);

    // Versions: run_id IN, version_number comparisons.
    const vname = names[0]!;
    for (const run of ['r1', 'r2', 'r3']) await client.createModelVersion({ name: vname, source: `s3://bucket/v/${run}`, runId: `${prefix}${run}` });
    const inRuns = await client.searchModelVersions({ filter: and(where.name.eq(vname), where.runId.in([`${prefix}r1`, `${prefix}r3`])), orderBy: ['version_number ASC'] }).toArray();
    expect(inRuns.map((v) => v.version)).toEqual(['1', '3']);
    const gt = await client.searchModelVersions({ filter: and(where.name.eq(vname), where.versionNumber.gt(1)), orderBy: ['version_number ASC'] }).toArray();
    expect(gt.map((v) => v.version)).toEqual(['2', '3']);
  });

  it(kind === 'ts' ? 'serves the history API (an extension of this server)' : 'has no history API (MLflow lacks it): ENDPOINT_NOT_FOUND', async () => {
    const name = uniq('hist');
    await client.createRegisteredModel({ name });
    if (kind === 'ts') {
      const events = await client.getRegisteredModelHistory({ name }).toArray();
      expect(events.map((e) => `${e.entity}.${e.action}`)).toContain('registered_model.created');
    } else {
      const err = await apiError(client.getRegisteredModelHistory({ name }).toArray());
      expect(err.status).toBe(404);
    }
  });
});

describe('connection settings from the environment (the Python client\'s rules)', () => {
  it('prefers MLFLOW_REGISTRY_URI, then MLFLOW_TRACKING_URI; Basic over token; workspace, timeout, retries', () => {
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t:5000', MLFLOW_REGISTRY_URI: 'http://r:5000' }).baseUrl).toBe('http://r:5000');
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t:5000' }).baseUrl).toBe('http://t:5000');
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t', MLFLOW_TRACKING_TOKEN: 'tok' })).toMatchObject({ token: 'tok' });
    const both = optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t', MLFLOW_TRACKING_TOKEN: 'tok', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' });
    expect(both).toMatchObject({ username: 'u', password: 'p' });
    expect(both.token).toBeUndefined();
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t', MLFLOW_TRACKING_USERNAME: 'u' }).username).toBeUndefined();
    expect(optionsFromEnv({ MLFLOW_TRACKING_URI: 'http://t', MLFLOW_WORKSPACE: 'team-a', MLFLOW_HTTP_REQUEST_TIMEOUT: '7', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }))
      .toMatchObject({ workspace: 'team-a', timeoutMs: 7000, retries: { maxRetries: 0 } });
    expect(() => optionsFromEnv({})).toThrow(/MLFLOW_REGISTRY_URI or MLFLOW_TRACKING_URI/);
    expect(() => optionsFromEnv({ MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db' })).toThrow(/not an http\(s\) server/);
  });

  it('sends Basic credentials, a bearer token and the workspace header', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"registered_model":{"name":"m"}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      await new MlflowRegistryClient(optionsFromEnv({ MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pä:ss', MLFLOW_WORKSPACE: 'w1' })).getRegisteredModel({ name: 'm' });
      await new MlflowRegistryClient(optionsFromEnv({ MLFLOW_TRACKING_URI: url, MLFLOW_TRACKING_TOKEN: 'tok' })).getRegisteredModel({ name: 'm' });
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(seen[0]!.authorization).toBe(`Basic ${Buffer.from('alice:pä:ss', 'utf8').toString('base64')}`);
    expect(seen[0]!['x-mlflow-workspace']).toBe('w1');
    expect(seen[1]!.authorization).toBe('Bearer tok');
    expect(seen[1]!['x-mlflow-workspace']).toBeUndefined();
  });
});
