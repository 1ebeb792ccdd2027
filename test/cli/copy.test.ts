/**
 * `mlflow-registry copy` from a real `mlflow server` 3.17.2 (the venv's; --serve-artifacts, on a fresh
 * PostgreSQL database when TEST_DATABASE_URL is set, else SQLite) into this server:
 *   - a registry of 50 models (descriptions, tags, 1-3 versions each with tags, descriptions, stages,
 *     aliases, artifacts behind the artifact proxy; some versions only referencing s3:// sources, some
 *     numbers left free by deleted versions) is
 *     copied by a run killed midway (SIGKILL) and a second run that resumes it; the copy then compares
 *     equal (models, versions with the same numbers and none twice, tags, aliases, stages, artifact
 *     bytes), and a third run copies nothing;
 *   - the target runs with AUTH=basic, logged into with TARGET_MLFLOW_TRACKING_* (or MLFLOW_TRACKING_*);
 *   - --no-artifacts copies metadata only; a run stopped at a number filler is completed; an unreachable
 *     or refusing side is named;
 *   - the same registry copied into a server with METADATA_STORE=s3 compares equal (moving between modes).
 * The CLI runs as a real process (its bin); the source data is made with the SDK, 8 models at a time.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { MlflowRegistryClient, where, type ModelVersion } from '../../packages/client/src/index.js';
import { runCli, spawnCli } from './cli.js';

const skip = !fs.existsSync(MLFLOW_BIN) && process.env.CI !== 'true';
if (skip) console.warn(`[test/cli/copy] skipped: no ${MLFLOW_BIN} (set VENV)`);

const MODELS = 50;
const COPY_TAG = 'mlflow_registry.copied_from';
/**
 * Model i has 1 + i % 3 versions, of which version 2 is deleted when i % 6 = 5 (the copy keeps the
 * numbers: 1 and 3); version 1 of every tenth model only references s3://.
 */
const VERSIONS = [...Array(MODELS).keys()].reduce((n, i) => n + 1 + (i % 3) - (i % 6 === 5 ? 1 : 0), 0);
const REFERENCES = MODELS / 10;
const FILES = (VERSIONS - REFERENCES) * 2;
const PREFIX = `cp${randomBytes(3).toString('hex')}`;
/** The target runs with AUTH=basic: the copy logs in with the TARGET_ credentials (MLFLOW_TRACKING_* style). */
const ADMIN_PASSWORD = 'admin-password-for-the-copy';
const TARGET_CREDENTIALS = { TARGET_MLFLOW_TRACKING_USERNAME: 'admin', TARGET_MLFLOW_TRACKING_PASSWORD: ADMIN_PASSWORD };

/** Runs `fn` over `items`, `limit` at a time. */
async function bounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function listFiles(client: MlflowRegistryClient, dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of client.listArtifactsRecursive({ path: dir })) out.push(f.path);
  return out.sort();
}

async function bytesOf(client: MlflowRegistryClient, p: string): Promise<Buffer> {
  return Buffer.from(await new Response(await client.downloadArtifact({ path: p })).arrayBuffer());
}

/** Creates the source registry: run artifacts uploaded through the proxy, models, versions, stages, aliases. */
async function populate(src: MlflowRegistryClient, url: string): Promise<void> {
  const res = await fetch(`${url}/api/2.0/mlflow/runs/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_id: '0', run_name: PREFIX }),
  });
  const run = ((await res.json()) as { run: { info: { run_id: string; artifact_uri: string } } }).run.info;
  expect(run.artifact_uri).toMatch(/^mlflow-artifacts:\//);
  const root = run.artifact_uri.replace(/^mlflow-artifacts:\/+/, '');
  await bounded([...Array(MODELS).keys()], 8, async (i) => {
    const name = `${PREFIX}-model-${String(i).padStart(2, '0')}`;
    await src.createRegisteredModel({ name, tags: { team: `t${i % 5}`, idx: String(i) }, ...(i % 2 ? { description: `model ${i}` } : {}) });
    const count = 1 + (i % 3);
    for (let v = 1; v <= count; v++) {
      let source: string;
      if (i % 10 === 0 && v === 1) {
        source = `s3://elsewhere/${name}/${v}`; // a reference: bytes not behind the proxy
      } else {
        const dir = `${root}/${name}/v${v}`;
        await src.uploadArtifact({ path: `${dir}/MLmodel`, body: `flavors:\n  python_function: {}\nmodel: ${name} v${v}\n` });
        // One larger file, so that a killed run may stop inside a transfer.
        await src.uploadArtifact({ path: `${dir}/data/weights.bin`, body: randomBytes(i === 7 && v === 2 ? 3 * 1024 * 1024 : 1000 + i * 37) });
        source = `mlflow-artifacts:/${dir}`;
      }
      await src.createModelVersion({
        name,
        source,
        runId: run.run_id,
        tags: { v: String(v), ...(v % 2 ? { odd: 'yes' } : {}) },
        ...(v === 2 ? { description: `version ${v} of ${name}` } : {}),
      });
      if (v === 1 && i % 4 < 2) await src.transitionModelVersionStage({ name, version: v, stage: i % 4 === 0 ? 'Production' : 'Staging' });
    }
    if (i % 6 === 5) await src.deleteModelVersion({ name, version: 2 });
    await src.setRegisteredModelAlias({ name, alias: 'champion', version: count });
    if (count > 1) await src.setRegisteredModelAlias({ name, alias: 'first', version: 1 });
  });
  // One more, for the --no-artifacts test: versions 1 and 3 (2 deleted).
  const extra = `${PREFIX}x-extra`;
  await src.createRegisteredModel({ name: extra });
  for (const v of [1, 2, 3]) {
    await src.uploadArtifact({ path: `${root}/${extra}/v${v}/MLmodel`, body: 'flavors: {}\n' });
    await src.createModelVersion({ name: extra, source: `mlflow-artifacts:/${root}/${extra}/v${v}`, runId: run.run_id });
  }
  await src.deleteModelVersion({ name: extra, version: 2 });
}

const ownTags = (tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).filter(([k]) => k !== COPY_TAG));

async function versionsOf(client: MlflowRegistryClient, name: string): Promise<ModelVersion[]> {
  const list = await client.searchModelVersions({ filter: where.name.eq(name) }).toArray();
  return list.sort((a, b) => Number(a.version) - Number(b.version));
}

/** Asserts the target holds everything the source holds (models, versions, tags, aliases, stages, artifact bytes). */
async function expectEqual(src: MlflowRegistryClient, dst: MlflowRegistryClient): Promise<void> {
  const names = (await src.searchRegisteredModels({ filter: where.name.like(`${PREFIX}-%`) }).toArray()).map((m) => m.name).sort();
  expect(names).toHaveLength(MODELS);
  const copied = (await dst.searchRegisteredModels({ filter: where.name.like(`${PREFIX}-%`) }).toArray()).map((m) => m.name).sort();
  expect(copied).toEqual(names);
  let files = 0;
  await bounded(names, 4, async (name) => {
    const [a, b] = await Promise.all([src.getRegisteredModel({ name }), dst.getRegisteredModel({ name })]);
    expect({ description: b.description ?? '', tags: b.tags, aliases: b.aliases }).toEqual({ description: a.description ?? '', tags: a.tags, aliases: a.aliases });
    const [va, vb] = await Promise.all([versionsOf(src, name), versionsOf(dst, name)]);
    expect(vb.map((v) => v.version)).toEqual(va.map((v) => v.version));
    for (const [k, v] of va.entries()) {
      const w = vb[k]!;
      expect({ description: w.description ?? '', stage: w.currentStage, tags: ownTags(w.tags), source: w.source, runId: w.runId }).toEqual({
        description: v.description ?? '',
        stage: v.currentStage,
        tags: v.tags,
        source: v.source,
        runId: v.runId,
      });
      expect(w.tags[COPY_TAG]).toBe(`${name}/${v.version}`);
      if (!v.source.startsWith('mlflow-artifacts:')) continue;
      const dir = v.source.replace(/^mlflow-artifacts:\/+/, '');
      const fa = await listFiles(src, dir);
      const fb = await listFiles(dst, dir);
      expect(fb).toEqual(fa);
      expect(fa).toHaveLength(2);
      for (const p of fa) {
        expect((await bytesOf(dst, p)).equals(await bytesOf(src, p))).toBe(true);
        files++;
      }
    }
  });
  expect(files).toBe(FILES);
}

const summary = (stdout: string) => /^done: .*$/m.exec(stdout)?.[0] ?? `(no summary in) ${stdout}`;

describe.skipIf(skip)('mlflow-registry copy from mlflow server', { timeout: 240_000 }, () => {
  let mlflow: MlflowServer;
  let src: MlflowRegistryClient;
  let t: TestServer;
  let dst: MlflowRegistryClient;

  beforeAll(async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-copy-'));
    const backend = process.env.TEST_DATABASE_URL
      ? (await createTestDatabase()).replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://')
      : `sqlite:///${path.join(scratch, 'mlflow.db')}`;
    [mlflow, t] = await Promise.all([
      startMlflowServer({ args: ['--backend-store-uri', backend, '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts')], scratch }),
      startTestServer(process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite', { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD }),
    ]);
    src = new MlflowRegistryClient({ baseUrl: mlflow.url });
    dst = new MlflowRegistryClient({ baseUrl: t.url, username: 'admin', password: ADMIN_PASSWORD });
    await populate(src, mlflow.url);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await mlflow?.stop();
  });

  const copyArgs = (to: string) => ['copy', '--from', mlflow.url, '--to', to, '--filter', `name LIKE '${PREFIX}-%'`];

  it('copies the registry: a run killed midway resumes, the copy compares equal, and another run copies nothing', async () => {
    const modelLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('model '));

    // 1. Killed (SIGKILL, the whole process group) once a few models are done and others are under way.
    const run = spawnCli([...copyArgs(t.url), '--concurrency', '3'], { env: TARGET_CREDENTIALS });
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (modelLines(run.stderr.join('')).length >= 5) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
      void run.result.then(() => {
        clearInterval(timer);
        reject(new Error(`the copy ended before it was killed:\n${run.stderr.join('')}`));
      });
    });
    run.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    const partial = await dst.searchRegisteredModels({ filter: where.name.like(`${PREFIX}-%`) }).toArray();
    expect(partial.length).toBeGreaterThanOrEqual(5);
    expect(partial.length).toBeLessThan(MODELS);

    // 2. Run again: completes what is partial, creates the rest; one plain line per model (stderr is no terminal).
    const resumed = await runCli(copyArgs(t.url), { env: TARGET_CREDENTIALS });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(modelLines(resumed.stderr)).toHaveLength(MODELS);
    const created = Number(/versions (\d+) created/.exec(summary(resumed.stdout))?.[1]);
    expect(summary(resumed.stdout)).toMatch(new RegExp(`^done: models \\d+ created, \\d+ updated, \\d+ unchanged, 0 failed; versions ${created} created`));
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(VERSIONS);

    // 3. Equal: every model, version (none twice: same numbers and count), tag, alias, stage and artifact byte.
    await expectEqual(src, dst);

    // 4. Nothing new on another run.
    const again = await runCli(copyArgs(t.url), { env: TARGET_CREDENTIALS });
    expect(again.code, again.stderr).toBe(0);
    expect(summary(again.stdout)).toBe(
      `done: models 0 created, 0 updated, ${MODELS} unchanged, 0 failed; versions 0 created, 0 updated, ${VERSIONS} unchanged; 0 aliases set; 0 files (0 B) copied; 0 versions kept as references`,
    );
  });

  it('copies metadata only with --no-artifacts, completes a run stopped at a number filler, and says which side it cannot reach or is refused by', async () => {
    // Outside the LIKE filter of the other test: it must not see this model.
    const name = `${PREFIX}x-extra`;
    const [v1, v3] = await versionsOf(src, name);
    // What a run stopped between creating and deleting the filler of number 2 leaves (see copier.ts).
    await dst.createRegisteredModel({ name });
    await dst.createModelVersion({ name, source: v1!.source, runId: v1!.runId, tags: { [COPY_TAG]: `${name}/1` } });
    await dst.createModelVersion({ name, source: v3!.source, runId: v3!.runId, tags: { [COPY_TAG]: `${name}/3` } });

    // The target's credentials from the plain MLFLOW_TRACKING_* variables this time (no TARGET_ ones).
    const res = await runCli(['copy', '--from', mlflow.url, '--to', t.url, '--filter', `name = '${name}'`, '--no-artifacts'], {
      env: { MLFLOW_TRACKING_USERNAME: 'admin', MLFLOW_TRACKING_PASSWORD: ADMIN_PASSWORD },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(summary(res.stdout)).toMatch(/^done: models 0 created, 1 updated, .* versions 1 created, 0 updated, 1 unchanged; .* 0 files \(0 B\) copied/);
    const [a, b] = await Promise.all([versionsOf(src, name), versionsOf(dst, name)]);
    expect(b.map((v) => [v.version, v.source, v.tags[COPY_TAG]])).toEqual(a.map((v) => [v.version, v.source, `${name}/${v.version}`]));
    expect(a.map((v) => v.version)).toEqual(['1', '3']);
    expect(await listFiles(dst, a[0]!.source.replace(/^mlflow-artifacts:\/+/, ''))).toEqual([]);

    const refused = await runCli(['copy', '--from', mlflow.url, '--to', t.url, '--filter', `name = '${name}'`], {
      env: { ...TARGET_CREDENTIALS, TARGET_MLFLOW_TRACKING_PASSWORD: 'not-the-password' },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^mlflow-registry: target ${t.url}: \\w+: .*\n$`));
    expect(refused.stderr).not.toContain('not-the-password');

    const down = await runCli(['copy', '--from', mlflow.url, '--to', 'http://127.0.0.1:9', '--filter', `name = '${name}'`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^mlflow-registry: target http:\/\/127\.0\.0\.1:9: NETWORK_ERROR/);
  });

  // How a registry moves to METADATA_STORE=s3 (README "Metadata in S3"): a copy into a server in that mode.
  it.skipIf(!process.env.S3_TEST_ENDPOINT)('copies the registry into a server whose metadata and artifacts are in S3 (METADATA_STORE=s3)', async () => {
    const s3 = await startTestServer('s3');
    try {
      const res = await runCli([...copyArgs(s3.url), '--concurrency', '4']);
      expect(res.code, res.stderr).toBe(0);
      await expectEqual(src, new MlflowRegistryClient({ baseUrl: s3.url }));
    } finally {
      await s3.close();
    }
  });
});
