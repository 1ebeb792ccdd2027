/**
 * Contract tests through the SDK: the registry scenarios run against the real server through
 * @mlflow-registry/client with response validation on, so every response is parsed by the zod
 * schemas generated from openapi/openapi.yaml (and must be application/json). Any drift between the
 * server and the spec fails here as INVALID_RESPONSE.
 *
 * Expected behaviour is MLflow's (see the reference in the spec's operation descriptions).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { MlflowRegistryClient, type ModelVersion, type ModelVersionStageInput } from '../../packages/client/src/index.js';
import { apiError } from './util.js';
import { findOperation, unexplainedProblems, type SeenResponse } from '../helpers/spec-responses.js';

/** A stage the SDK's type does not name, sent as it is: the server, as MLflow, judges it (case-insensitively). */
const anyStage = (stage: string) => stage as ModelVersionStageInput;

const tick = () => new Promise((r) => setTimeout(r, 5));

// Strict drift check. The generated zod schemas ignore fields they do not know, so every JSON body
// the suite receives is also checked against the spec itself (test/helpers/spec-responses.ts, shared with
// the server's own suites): a field the spec does not declare, or a non-empty body where the spec says
// "Always {}", is drift too, and so is an error status or body the operation does not document.

describe.each(backendsWithS3())('SDK contract (%s)', (backend) => {
  let s: TestServer;
  let client: MlflowRegistryClient;
  let n = 0;
  /** A fresh model name per test, so tests do not interfere. */
  const uniq = (p: string) => `${p}-${++n}-${Date.now().toString(36)}`;

  /** A local webhook receiver that answers 200 "ok" and records what it got. */
  const received: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  let hookUrl = '';

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    // Webhooks may target this loopback http receiver (by default only public https targets are allowed).
    s = await startTestServer(backend, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https' });
    client = new MlflowRegistryClient({ baseUrl: s.url, validateResponses: true, retries: 0, fetch: recordingFetch });
  });

  /** Every JSON response the suite received, for the strict drift check at the end. */
  const seen: SeenResponse[] = [];
  async function recordingFetch(url: string, init: RequestInit): Promise<Response> {
    const res = await fetch(url, init);
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('application/json')) {
      const u = new URL(url);
      seen.push({ method: init.method ?? 'GET', path: u.pathname + u.search, status: res.status, contentType, text: await res.clone().text() });
    }
    return res;
  }
  afterAll(async () => {
    await s?.close();
    receiver.closeAllConnections();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  /** Creates a model with `count` versions and returns its name and versions. */
  async function modelWithVersions(prefix: string, count: number): Promise<{ name: string; versions: ModelVersion[] }> {
    const name = uniq(prefix);
    await client.createRegisteredModel({ name });
    const versions: ModelVersion[] = [];
    for (let i = 0; i < count; i++) versions.push(await client.createModelVersion({ name, source: `s3://bucket/${name}/${i + 1}` }));
    return { name, versions };
  }

  describe('registered models', () => {
    it('creates a model and returns it with tags and description; a new model has no versions or aliases', async () => {
      const name = uniq('create');
      const before = Date.now();
      const m = await client.createRegisteredModel({ name, description: 'Iris classifier', tags: { team: 'ml', empty: '' } });
      expect(m.name).toBe(name);
      expect(m.description).toBe('Iris classifier');
      expect(m.tags).toEqual({ team: 'ml', empty: '' });
      expect(m.latestVersions).toEqual([]);
      expect(m.aliases).toEqual({});
      expect(m.creationTimestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(m.lastUpdatedTimestamp).toBe(m.creationTimestamp);
      expect(await client.getRegisteredModel({ name })).toEqual(m);
    });

    it('rejects a duplicate name with RESOURCE_ALREADY_EXISTS (HTTP 400) and an empty name with INVALID_PARAMETER_VALUE', async () => {
      const name = uniq('dup');
      await client.createRegisteredModel({ name });
      const e = await apiError(client.createRegisteredModel({ name }));
      expect([e.errorCode, e.status]).toEqual(['RESOURCE_ALREADY_EXISTS', 400]);
      expect(e.message).toBe(`Registered Model (name=${name}) already exists.`);
      const empty = await apiError(client.createRegisteredModel({ name: '' }));
      expect([empty.errorCode, empty.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(empty.message).toMatch(/^Missing value for required parameter 'name'/);
    });

    it('answers RESOURCE_DOES_NOT_EXIST (404) for an unknown model on get, update, rename and delete', async () => {
      const name = uniq('ghost');
      for (const call of [
        () => client.getRegisteredModel({ name }),
        () => client.updateRegisteredModel({ name, description: 'x' }),
        () => client.renameRegisteredModel({ name, newName: uniq('ghost2') }),
        () => client.deleteRegisteredModel({ name }),
        () => client.getLatestVersions({ name }),
        () => client.setRegisteredModelTag({ name, key: 'k', value: 'v' }),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
      }
      const e = await apiError(client.getRegisteredModel({ name }));
      expect(e.message).toBe(`Registered Model with name=${name} not found`);
    });

    it('updates the description and timestamp; an absent description clears it (MLflow quirk)', async () => {
      const name = uniq('update');
      const created = await client.createRegisteredModel({ name, description: 'old' });
      await tick();
      const updated = await client.updateRegisteredModel({ name, description: 'new' });
      expect(updated.description).toBe('new');
      expect(updated.lastUpdatedTimestamp).toBeGreaterThan(created.lastUpdatedTimestamp!);
      const cleared = await client.updateRegisteredModel({ name, description: null });
      expect(cleared.description).toBeUndefined();
      expect((await client.getRegisteredModel({ name })).description).toBeUndefined();
      // JavaScript callers of the 0.x signature (description absent) still get MLflow's clearing.
      await client.updateRegisteredModel({ name, description: 'again' });
      const legacy = await client.updateRegisteredModel({ name } as { name: string; description: null });
      expect(legacy.description).toBeUndefined();
    });

    it('renames a model with its versions, tags and aliases; the old name disappears', async () => {
      const { name } = await modelWithVersions('rename', 2);
      await client.setRegisteredModelTag({ name, key: 'team', value: 'ml' });
      await client.setModelVersionTag({ name, version: 1, key: 'k', value: 'v' });
      await client.setRegisteredModelAlias({ name, alias: 'champion', version: 2 });
      const newName = uniq('renamed');
      const renamed = await client.renameRegisteredModel({ name, newName });
      expect(renamed.name).toBe(newName);
      expect(renamed.tags).toEqual({ team: 'ml' });
      expect(renamed.aliases).toEqual({ champion: '2' });
      expect((await client.getModelVersion({ name: newName, version: 1 })).tags).toEqual({ k: 'v' });
      expect((await client.getModelVersionByAlias({ name: newName, alias: 'champion' })).version).toBe('2');
      expect((await apiError(client.getRegisteredModel({ name }))).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
      // Version numbering continues under the new name.
      expect((await client.createModelVersion({ name: newName, source: 's3://b/3' })).version).toBe('3');
    });

    it('refuses to rename onto an existing name (RESOURCE_ALREADY_EXISTS) or to an empty name', async () => {
      const a = uniq('rn-a');
      const b = uniq('rn-b');
      await client.createRegisteredModel({ name: a });
      await client.createRegisteredModel({ name: b });
      const e = await apiError(client.renameRegisteredModel({ name: a, newName: b }));
      expect([e.errorCode, e.status]).toEqual(['RESOURCE_ALREADY_EXISTS', 400]);
      const empty = await apiError(client.renameRegisteredModel({ name: a, newName: '' }));
      expect(empty.errorCode).toBe('INVALID_PARAMETER_VALUE');
      expect(empty.message).toMatch(/^Missing value for required parameter 'new_name'/);
    });

    it('deletes a model with everything in it; the name can be reused and versions restart at 1', async () => {
      const { name } = await modelWithVersions('delete', 2);
      await client.deleteRegisteredModel({ name });
      expect((await apiError(client.getRegisteredModel({ name }))).status).toBe(404);
      expect((await apiError(client.getModelVersion({ name, version: 1 }))).status).toBe(404);
      await client.createRegisteredModel({ name });
      expect((await client.createModelVersion({ name, source: 's3://b/again' })).version).toBe('1');
    });
  });

  describe('registered model tags', () => {
    it('sets, overwrites and deletes tags without touching last_updated_timestamp', async () => {
      const name = uniq('rmtag');
      const created = await client.createRegisteredModel({ name });
      await tick();
      await client.setRegisteredModelTag({ name, key: 'stage/owner', value: 'alice' });
      await client.setRegisteredModelTag({ name, key: 'stage/owner', value: 'bob' });
      await client.setRegisteredModelTag({ name, key: 'empty', value: '' });
      let m = await client.getRegisteredModel({ name });
      expect(m.tags).toEqual({ 'stage/owner': 'bob', empty: '' });
      expect(m.lastUpdatedTimestamp).toBe(created.lastUpdatedTimestamp);
      await client.deleteRegisteredModelTag({ name, key: 'stage/owner' });
      await client.deleteRegisteredModelTag({ name, key: 'never-set' }); // a silent no-op
      m = await client.getRegisteredModel({ name });
      expect(m.tags).toEqual({ empty: '' });
    });

    it('rejects invalid tag keys with INVALID_PARAMETER_VALUE', async () => {
      const name = uniq('badtag');
      await client.createRegisteredModel({ name });
      for (const key of ['bad!key', '', '/abs', 'a//b', 'x'.repeat(251)]) {
        const e = await apiError(client.setRegisteredModelTag({ name, key, value: 'v' }));
        expect([e.errorCode, e.status], key).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      }
    });
  });

  describe('model versions', () => {
    it('numbers versions from 1; a new version is READY in stage None with empty run fields', async () => {
      const { name, versions } = await modelWithVersions('mv', 3);
      expect(versions.map((v) => v.version)).toEqual(['1', '2', '3']);
      const v1 = versions[0]!;
      expect(v1).toMatchObject({ name, currentStage: 'None', status: 'READY', source: `s3://bucket/${name}/1`, runId: '', runLink: '', description: '' });
      expect(v1.tags).toEqual({});
      expect(v1.aliases).toEqual([]);
      expect(await client.getModelVersion({ name, version: '1' })).toEqual(v1);
    });

    it('creates a version with run id, link, description and tags; the model\'s last_updated_timestamp moves', async () => {
      const name = uniq('mvfull');
      const m = await client.createRegisteredModel({ name });
      await tick();
      const mv = await client.createModelVersion({
        name,
        source: 'runs:/0123456789abcdef/model',
        runId: '0123456789abcdef',
        runLink: 'https://mlflow.example.com/#/runs/0123456789abcdef',
        description: 'first',
        tags: { framework: 'sklearn' },
      });
      expect(mv).toMatchObject({ runId: '0123456789abcdef', description: 'first', tags: { framework: 'sklearn' } });
      expect(mv.runLink).toBe('https://mlflow.example.com/#/runs/0123456789abcdef');
      const after = await client.getRegisteredModel({ name });
      expect(after.lastUpdatedTimestamp).toBeGreaterThan(m.lastUpdatedTimestamp!);
      expect(after.latestVersions).toHaveLength(1);
      // latest_versions entries equal the get response apart from aliases.
      expect(after.latestVersions[0]).toEqual(await client.getModelVersion({ name, version: 1 }));
    });

    it('answers 404 for a version of an unknown model, 400 for a non-integer version, 400 for a relative source', async () => {
      const ghost = await apiError(client.createModelVersion({ name: uniq('nomodel'), source: 's3://b/p' }));
      expect([ghost.errorCode, ghost.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
      const { name } = await modelWithVersions('badver', 1);
      const bad = await apiError(client.getModelVersion({ name, version: 'one' }));
      expect([bad.errorCode, bad.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(bad.message).toBe("Parameter 'version' must be an integer, got 'one'.");
      const missing = await apiError(client.getModelVersion({ name, version: 99 }));
      expect([missing.errorCode, missing.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
      expect(missing.message).toBe(`Model Version (name=${name}, version=99) not found`);
      const rel = await apiError(client.createModelVersion({ name, source: 's3://bucket/models/../../secret' }));
      expect([rel.errorCode, rel.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(rel.message).toMatch(/^Invalid model version source/);
    });

    it('updates a version\'s description (not the model\'s timestamp); an absent description clears it', async () => {
      const { name } = await modelWithVersions('mvupd', 1);
      const model = await client.getRegisteredModel({ name });
      await tick();
      const updated = await client.updateModelVersion({ name, version: 1, description: 'better' });
      expect(updated.description).toBe('better');
      expect(updated.lastUpdatedTimestamp).toBeGreaterThan(updated.creationTimestamp);
      expect((await client.getRegisteredModel({ name })).lastUpdatedTimestamp).toBe(model.lastUpdatedTimestamp);
      const cleared = await client.updateModelVersion({ name, version: 1, description: null });
      expect(cleared.description).toBeUndefined();
    });

    it('soft-deletes a version: it disappears everywhere and its number is never reused', async () => {
      const { name } = await modelWithVersions('mvdel', 3);
      await client.setRegisteredModelAlias({ name, alias: 'gone', version: 3 });
      await client.deleteModelVersion({ name, version: 3 });
      for (const call of [
        () => client.getModelVersion({ name, version: 3 }),
        () => client.deleteModelVersion({ name, version: 3 }),
        () => client.updateModelVersion({ name, version: 3, description: 'x' }),
        () => client.getModelVersionDownloadUri({ name, version: 3 }),
        () => client.setModelVersionTag({ name, version: 3, key: 'k', value: 'v' }),
        () => client.transitionModelVersionStage({ name, version: 3, stage: 'Staging' }),
      ]) {
        expect((await apiError(call())).errorCode).toBe('RESOURCE_DOES_NOT_EXIST');
      }
      const m = await client.getRegisteredModel({ name });
      expect(m.aliases).toEqual({});
      expect(m.latestVersions.map((v) => v.version)).toEqual(['2']);
      expect((await client.searchModelVersions({ filter: `name = '${name}'` }).toArray()).map((v) => v.version).sort()).toEqual(['1', '2']);
      expect((await client.createModelVersion({ name, source: 's3://b/4' })).version).toBe('4');
    });

    it('returns the download URI (the source, verbatim)', async () => {
      const name = uniq('uri');
      await client.createRegisteredModel({ name });
      await client.createModelVersion({ name, source: 's3://bucket/path/to/model' });
      expect(await client.getModelVersionDownloadUri({ name, version: 1 })).toBe('s3://bucket/path/to/model');
      expect((await apiError(client.getModelVersionDownloadUri({ name, version: 2 }))).status).toBe(404);
    });

    it('sets, overwrites and deletes version tags', async () => {
      const { name } = await modelWithVersions('mvtag', 1);
      await client.setModelVersionTag({ name, version: 1, key: 'validated', value: 'no' });
      await client.setModelVersionTag({ name, version: '1', key: 'validated', value: 'yes' });
      await client.setModelVersionTag({ name, version: 1, key: 'note', value: '' });
      expect((await client.getModelVersion({ name, version: 1 })).tags).toEqual({ validated: 'yes', note: '' });
      await client.deleteModelVersionTag({ name, version: 1, key: 'validated' });
      await client.deleteModelVersionTag({ name, version: 1, key: 'absent' });
      expect((await client.getModelVersion({ name, version: 1 })).tags).toEqual({ note: '' });
      await client.setModelVersionTag({ name, version: 1, key: 'with space: and/slash', value: 'v' });
      for (const key of ['../up', 'bang!']) {
        expect((await apiError(client.setModelVersionTag({ name, version: 1, key, value: 'v' }))).errorCode).toBe('INVALID_PARAMETER_VALUE');
      }
    });
  });

  describe('stages and latest versions', () => {
    it('transitions stages case-insensitively and reports the canonical name', async () => {
      const { name } = await modelWithVersions('stage', 1);
      const model = await client.getRegisteredModel({ name });
      await tick();
      const mv = await client.transitionModelVersionStage({ name, version: 1, stage: 'staging' });
      expect(mv.currentStage).toBe('Staging');
      expect(mv.lastUpdatedTimestamp).toBeGreaterThan(mv.creationTimestamp);
      expect((await client.getRegisteredModel({ name })).lastUpdatedTimestamp).toBeGreaterThan(model.lastUpdatedTimestamp!);
      expect((await client.transitionModelVersionStage({ name, version: 1, stage: anyStage('PRODUCTION') })).currentStage).toBe('Production');
      expect((await client.transitionModelVersionStage({ name, version: 1, stage: 'Production' })).currentStage).toBe('Production');
    });

    it('archives the other versions of the target stage with archiveExistingVersions', async () => {
      const { name } = await modelWithVersions('archive', 3);
      await client.transitionModelVersionStage({ name, version: 1, stage: 'Production' });
      await client.transitionModelVersionStage({ name, version: 2, stage: 'Production' });
      await client.transitionModelVersionStage({ name, version: 3, stage: 'Production', archiveExistingVersions: true });
      const stages = await Promise.all([1, 2, 3].map(async (v) => (await client.getModelVersion({ name, version: v })).currentStage));
      expect(stages).toEqual(['Archived', 'Archived', 'Production']);
    });

    it('rejects an invalid stage, and archiving into a non-active stage, with INVALID_PARAMETER_VALUE', async () => {
      const { name } = await modelWithVersions('badstage', 1);
      const bad = await apiError(client.transitionModelVersionStage({ name, version: 1, stage: anyStage('Prod') }));
      expect([bad.errorCode, bad.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(bad.message).toBe('Invalid Model Version stage: Prod. Value must be one of None, Staging, Production, Archived.');
      const archive = await apiError(client.transitionModelVersionStage({ name, version: 1, stage: 'Archived', archiveExistingVersions: true }));
      expect(archive.status).toBe(400);
      expect(archive.message).toMatch(/is not an Active stage/);
    });

    it('returns the highest version per stage, all stages by default, with aliases filled in', async () => {
      const { name } = await modelWithVersions('latest', 4);
      await client.transitionModelVersionStage({ name, version: 1, stage: 'Production' });
      await client.transitionModelVersionStage({ name, version: 2, stage: 'Staging' });
      await client.transitionModelVersionStage({ name, version: 3, stage: 'Staging' });
      await client.setRegisteredModelAlias({ name, alias: 'next', version: 3 });
      const all = await client.getLatestVersions({ name });
      const byStage = Object.fromEntries(all.map((v) => [v.currentStage, v.version]));
      expect(byStage).toEqual({ None: '4', Staging: '3', Production: '1' });
      expect(all.find((v) => v.version === '3')!.aliases).toEqual(['next']);
      const staging = await client.getLatestVersions({ name, stages: ['staging'] });
      expect(staging.map((v) => v.version)).toEqual(['3']);
      expect(await client.getLatestVersions({ name, stages: ['Archived'] })).toEqual([]);
      const m = await client.getRegisteredModel({ name });
      expect(m.latestVersions.map((v) => v.version).sort()).toEqual(['1', '3', '4']);
      expect(m.latestVersions.every((v) => v.aliases.length === 0)).toBe(true);
      const e = await apiError(client.getLatestVersions({ name, stages: [anyStage('Nope')] }));
      expect([e.errorCode, e.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
    });

    it('returns [] for a model without versions', async () => {
      const name = uniq('noversions');
      await client.createRegisteredModel({ name });
      expect(await client.getLatestVersions({ name })).toEqual([]);
    });
  });

  describe('aliases', () => {
    it('sets, resolves, moves and deletes an alias', async () => {
      const { name } = await modelWithVersions('alias', 2);
      await client.setRegisteredModelAlias({ name, alias: 'champion', version: 1 });
      await client.setRegisteredModelAlias({ name, alias: 'challenger', version: '2' });
      expect((await client.getModelVersionByAlias({ name, alias: 'champion' })).version).toBe('1');
      expect((await client.getModelVersion({ name, version: 1 })).aliases).toEqual(['champion']);
      expect((await client.getRegisteredModel({ name })).aliases).toEqual({ champion: '1', challenger: '2' });

      await client.setRegisteredModelAlias({ name, alias: 'champion', version: 2 });
      const v2 = await client.getModelVersionByAlias({ name, alias: 'champion' });
      expect(v2.version).toBe('2');
      expect(v2.aliases.sort()).toEqual(['challenger', 'champion']);
      expect((await client.getModelVersion({ name, version: 1 })).aliases).toEqual([]);

      await client.deleteRegisteredModelAlias({ name, alias: 'champion' });
      await client.deleteRegisteredModelAlias({ name, alias: 'never-set' }); // a silent no-op
      expect((await client.getRegisteredModel({ name })).aliases).toEqual({ challenger: '2' });
    });

    it('answers INVALID_PARAMETER_VALUE (HTTP 400, not 404) for an unknown alias', async () => {
      const { name } = await modelWithVersions('noalias', 1);
      const e = await apiError(client.getModelVersionByAlias({ name, alias: 'nobody' }));
      expect([e.errorCode, e.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(e.message).toBe('Registered model alias nobody not found.');
    });

    it('resolves the reserved alias "latest" and refuses to set it or a v<N> alias', async () => {
      const { name } = await modelWithVersions('reserved', 2);
      expect((await client.getModelVersionByAlias({ name, alias: 'latest' })).version).toBe('2');
      const latest = await apiError(client.setRegisteredModelAlias({ name, alias: 'Latest', version: 1 }));
      expect([latest.errorCode, latest.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      expect(latest.message).toBe("'latest' alias name (case insensitive) is reserved.");
      const v1 = await apiError(client.setRegisteredModelAlias({ name, alias: 'v1', version: 1 }));
      expect(v1.message).toBe("Version alias name 'v1' is reserved.");
      const missing = await apiError(client.setRegisteredModelAlias({ name, alias: 'ok', version: 9 }));
      expect([missing.errorCode, missing.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
      const empty = uniq('emptymodel');
      await client.createRegisteredModel({ name: empty });
      const none = await apiError(client.getModelVersionByAlias({ name: empty, alias: 'latest' }));
      expect(none.status).toBe(404);
    });
  });

  describe('search and pagination', () => {
    it('searches models by name (LIKE, ILIKE, =) and tag, ordered', async () => {
      const prefix = uniq('srch');
      for (const suffix of ['b', 'a', 'C']) await client.createRegisteredModel({ name: `${prefix}-${suffix}`, tags: { group: prefix, letter: suffix } });
      const names = async (filter: string, orderBy?: string[]) =>
        (await client.searchRegisteredModels({ filter, orderBy }).toArray()).map((m) => m.name);
      expect(await names(`name LIKE '${prefix}-%'`)).toEqual([`${prefix}-C`, `${prefix}-a`, `${prefix}-b`]);
      expect(await names(`name LIKE '${prefix}-%'`, ['name DESC'])).toEqual([`${prefix}-b`, `${prefix}-a`, `${prefix}-C`]);
      expect(await names(`name ILIKE '${prefix.toUpperCase()}-c'`)).toEqual([`${prefix}-C`]);
      expect(await names(`name = '${prefix}-a'`)).toEqual([`${prefix}-a`]);
      expect(await names(`tags.group = '${prefix}' AND tags.letter != 'a'`)).toEqual([`${prefix}-C`, `${prefix}-b`]);
      const [m] = await client.searchRegisteredModels({ filter: `name = '${prefix}-a'` }).toArray();
      expect(m!.tags).toEqual({ group: prefix, letter: 'a' });
    });

    it('pages through models with the async iterator and with the page API', async () => {
      const prefix = uniq('page');
      const all = ['m1', 'm2', 'm3', 'm4', 'm5'].map((x) => `${prefix}-${x}`);
      for (const name of all) await client.createRegisteredModel({ name });
      const filter = `name LIKE '${prefix}-%'`;

      const pages: string[][] = [];
      for await (const page of client.searchRegisteredModels({ filter, maxResults: 2 }).pages()) pages.push(page.items.map((m) => m.name));
      expect(pages).toEqual([all.slice(0, 2), all.slice(2, 4), all.slice(4)]);

      const iterated: string[] = [];
      for await (const m of client.searchRegisteredModels({ filter, maxResults: 2 })) iterated.push(m.name);
      expect(iterated).toEqual(all);

      const p1 = await client.searchRegisteredModelsPage({ filter, maxResults: 3 });
      expect(p1.items.map((m) => m.name)).toEqual(all.slice(0, 3));
      expect(p1.nextPageToken).toEqual(expect.any(String));
      const p2 = await client.searchRegisteredModelsPage({ filter, maxResults: 3, pageToken: p1.nextPageToken });
      expect(p2.items.map((m) => m.name)).toEqual(all.slice(3));
      expect(p2.nextPageToken).toBeUndefined();
      expect(await client.searchRegisteredModels({ filter }).toArray(4)).toHaveLength(4);
    });

    it('searches and pages model versions; search results carry no aliases', async () => {
      const { name } = await modelWithVersions('mvsearch', 5);
      await client.setRegisteredModelAlias({ name, alias: 'champion', version: 5 });
      await client.setModelVersionTag({ name, version: 2, key: 'flag', value: 'on' });
      const filter = `name = '${name}'`;
      const versions: string[] = [];
      for await (const mv of client.searchModelVersions({ filter, orderBy: ['version_number ASC'], maxResults: 2 })) {
        versions.push(mv.version);
        expect(mv.aliases).toEqual([]);
      }
      expect(versions).toEqual(['1', '2', '3', '4', '5']);
      const page = await client.searchModelVersionsPage({ filter, orderBy: ['version_number DESC'], maxResults: 3 });
      expect(page.items.map((v) => v.version)).toEqual(['5', '4', '3']);
      const next = await client.searchModelVersionsPage({ filter, orderBy: ['version_number DESC'], maxResults: 3, pageToken: page.nextPageToken });
      expect(next.items.map((v) => v.version)).toEqual(['2', '1']);
      expect(next.nextPageToken).toBeUndefined();
      const tagged = await client.searchModelVersions({ filter: `${filter} AND tags.flag = 'on'` }).toArray();
      expect(tagged.map((v) => v.version)).toEqual(['2']);
      const gt = await client.searchModelVersions({ filter: `${filter} AND version_number > 3`, orderBy: ['version_number'] }).toArray();
      expect(gt.map((v) => v.version)).toEqual(['4', '5']);
      const bySource = await client.searchModelVersions({ filter: `source_path = 's3://bucket/${name}/3'` }).toArray();
      expect(bySource.map((v) => v.version)).toEqual(['3']);
    });

    it('answers an empty search with no items and no token', async () => {
      const page = await client.searchRegisteredModelsPage({ filter: `name = '${uniq('nothing')}'` });
      expect(page).toEqual({ items: [] });
      expect(await client.searchModelVersions({ filter: `name = '${uniq('nothing')}'` }).toArray()).toEqual([]);
    });

    it('rejects bad filters, order keys and page tokens with INVALID_PARAMETER_VALUE', async () => {
      for (const call of [
        () => client.searchRegisteredModelsPage({ filter: "name = 'a' OR name = 'b'" }),
        () => client.searchRegisteredModelsPage({ orderBy: ['creation_timestamp'] }),
        () => client.searchRegisteredModelsPage({ pageToken: 'not-a-token' }),
        () => client.searchRegisteredModelsPage({ maxResults: 1001 }),
        () => client.searchModelVersionsPage({ filter: 'version_number = one' }),
        () => client.searchModelVersionsPage({ orderBy: ['nope'] }),
        () => client.searchModelVersionsPage({ maxResults: 0 }),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      }
    });
  });

  describe('webhooks', () => {

    it('creates, lists, gets, updates and deletes a webhook; the secret is never returned', async () => {
      const hook = await client.createWebhook({
        name: uniq('hook').toLowerCase(),
        url: hookUrl,
        events: ['model_version.created', { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
        description: 'deploys champions',
        secret: 's3cr3t',
      });
      expect(hook).toMatchObject({
        url: hookUrl,
        status: 'ACTIVE',
        description: 'deploys champions',
        events: [
          { entity: 'MODEL_VERSION', action: 'CREATED' },
          { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
        ],
      });
      expect(JSON.stringify(hook)).not.toContain('s3cr3t');
      expect(await client.getWebhook({ webhookId: hook.webhookId })).toEqual(hook);
      expect((await client.listWebhooks().toArray()).map((h) => h.webhookId)).toContain(hook.webhookId);

      const updated = await client.updateWebhook({ webhookId: hook.webhookId, status: 'DISABLED', events: ['registered_model.created'] });
      expect(updated.status).toBe('DISABLED');
      expect(updated.events).toEqual([{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]);
      expect(updated.description).toBe('deploys champions');

      await client.deleteWebhook({ webhookId: hook.webhookId });
      const gone = await apiError(client.getWebhook({ webhookId: hook.webhookId }));
      expect([gone.errorCode, gone.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    });

    it('pages through webhooks newest first', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await client.createWebhook({ name: uniq('pg').toLowerCase(), url: hookUrl, events: ['prompt_alias.deleted'] })).webhookId);
        await tick();
      }
      const first = await client.listWebhooksPage({ maxResults: 2 });
      expect(first.items).toHaveLength(2);
      expect(first.nextPageToken).toEqual(expect.any(String));
      const all = (await client.listWebhooks({ maxResults: 1 }).toArray()).map((h) => h.webhookId);
      expect(all.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    });

    it('validates names, URLs and events', async () => {
      const base = { url: hookUrl, events: ['model_version.created' as const] };
      for (const call of [
        () => client.createWebhook({ ...base, name: '-bad-' }),
        () => client.createWebhook({ ...base, name: 'ok', url: 'ftp://127.0.0.1/x' }),
        () => client.createWebhook({ ...base, name: 'ok', events: [] }),
        () => client.createWebhook({ ...base, name: 'ok', events: [{ entity: 'REGISTERED_MODEL', action: 'DELETED' }] }),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
      }
      const e = await apiError(client.listWebhooksPage({ maxResults: 1001 }));
      expect(e.status).toBe(400);
    });

    it('sends a signed test delivery and reports the receiver\'s answer', async () => {
      const hook = await client.createWebhook({ name: uniq('ok').toLowerCase(), url: hookUrl, events: ['model_version_alias.created'], secret: 'k3y' });
      const before = received.length;
      const result = await client.testWebhook({ webhookId: hook.webhookId, event: 'model_version_alias.created' });
      expect(result).toEqual({ success: true, responseStatus: 200, responseBody: 'ok' });
      const delivery = received.slice(before).find((r) => r.headers['x-mlflow-signature']);
      expect(delivery?.headers['x-mlflow-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(JSON.parse(delivery!.body)).toMatchObject({ entity: 'model_version_alias', action: 'created' });
    });

    it('reports a failed test delivery in the result rather than as an error', async () => {
      const hook = await client.createWebhook({ name: uniq('t').toLowerCase(), url: 'http://127.0.0.1:1/unreachable', events: ['model_version.created'] });
      const result = await client.testWebhook({ webhookId: hook.webhookId });
      expect(result.success).toBe(false);
      expect(result.errorMessage).toMatch(/^Failed to test webhook/);
      await client.deleteWebhook({ webhookId: hook.webhookId });
      const e = await apiError(client.testWebhook({ webhookId: '00000000-0000-0000-0000-000000000000' }));
      expect([e.errorCode, e.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    });
  });

  describe('artifacts', () => {
    const text = async (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

    it('uploads from a string, bytes, a Blob and a stream, lists, downloads as a stream and deletes', async () => {
      const dir = uniq('art');
      const bytes = new Uint8Array(256 * 1024).map((_, i) => (i * 7) % 251);
      await client.uploadArtifact({ path: `${dir}/MLmodel`, body: 'flavors: {}\n', contentType: 'text/plain' });
      await client.uploadArtifact({ path: `${dir}/data/weights.bin`, body: bytes });
      await client.uploadArtifact({ path: `${dir}/data/blob.txt`, body: new Blob(['from a blob']) });
      const chunks = ['streamed ', 'in ', 'three chunks'];
      await client.uploadArtifact({
        path: `${dir}/stream.txt`,
        body: new ReadableStream<Uint8Array>({
          pull(c) {
            const next = chunks.shift();
            if (next === undefined) c.close();
            else c.enqueue(new TextEncoder().encode(next));
          },
        }),
      });

      const root = await client.listArtifacts({ path: dir });
      expect(root.map((f) => [f.path, f.isDir]).sort()).toEqual([
        [`${dir}/MLmodel`, false],
        [`${dir}/data`, true],
        [`${dir}/stream.txt`, false],
      ]);
      expect(root.find((f) => f.path === `${dir}/MLmodel`)!.fileSize).toBe(12);
      expect(root.find((f) => f.isDir)!.fileSize).toBeUndefined();
      const data = await client.listArtifacts({ path: `${dir}/data` });
      expect(data.find((f) => f.path === `${dir}/data/weights.bin`)!.fileSize).toBe(bytes.length);

      expect(await text(await client.downloadArtifact({ path: `${dir}/MLmodel` }))).toBe('flavors: {}\n');
      expect(await text(await client.downloadArtifact({ path: `${dir}/stream.txt` }))).toBe('streamed in three chunks');
      expect(await text(await client.downloadArtifact({ path: `${dir}/data/blob.txt` }))).toBe('from a blob');
      const back = new Uint8Array(await new Response(await client.downloadArtifact({ path: `${dir}/data/weights.bin` })).arrayBuffer());
      // (Buffer.equals: a deep toEqual over 256 KiB blocks the event loop for seconds.)
      expect(back.length).toBe(bytes.length);
      expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);

      await client.deleteArtifact({ path: `${dir}/data` });
      expect((await client.listArtifacts({ path: dir })).map((f) => f.path).sort()).toEqual([`${dir}/MLmodel`, `${dir}/stream.txt`]);
      expect(await client.listArtifacts({ path: uniq('missing-dir') })).toEqual([]);
    });

    it('answers 404 for a missing file and 400 for an unsafe path', async () => {
      const missing = await apiError(client.downloadArtifact({ path: `${uniq('nope')}/file.txt` }));
      expect(missing.status).toBe(404);
      for (const call of [
        () => client.downloadArtifact({ path: '../etc/passwd' }),
        () => client.uploadArtifact({ path: 'a/../../b', body: 'x' }),
        () => client.listArtifacts({ path: '/abs' }),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status, e.message]).toEqual(['INVALID_PARAMETER_VALUE', 400, 'Invalid path']);
      }
    });
  });
  describe('history', () => {
    /** Runs a change and returns a time strictly after it and before the next one. */
    const after = async (change: () => Promise<unknown>): Promise<number> => {
      await change();
      await tick();
      const t = Date.now();
      await tick();
      return t;
    };

    it('pages through a model\'s, a version\'s and an alias\'s history across a rename, and answers where an alias pointed', async () => {
      const name = uniq('hist');
      const renamed = `${name}-renamed`;
      const t0 = await after(async () => undefined);
      const tCreated = await after(async () => {
        await client.createRegisteredModel({ name, tags: { team: 'ml' } });
        await client.createModelVersion({ name, source: `s3://bucket/${name}/1` });
        await client.createModelVersion({ name, source: `s3://bucket/${name}/2` });
      });
      const tChamp1 = await after(() => client.setRegisteredModelAlias({ name, alias: 'champion', version: 1 }));
      const tChamp2 = await after(() => client.setRegisteredModelAlias({ name, alias: 'champion', version: '2' }));
      await after(() => client.renameRegisteredModel({ name, newName: renamed }));

      // The model: every change, oldest first, in pages of 2, under its new and its old name.
      const pages = await client.getRegisteredModelHistory({ name: renamed, maxResults: 2 }).pages().next();
      expect(pages.value?.items).toHaveLength(2);
      expect(pages.value?.nextPageToken).toBeTypeOf('string');
      const events = await client.getRegisteredModelHistory({ name: renamed, maxResults: 2 }).toArray();
      expect(events.map((e) => `${e.entity}.${e.action}`)).toEqual([
        'registered_model.created',
        'model_version.created',
        'model_version.created',
        'model_version_alias.created',
        'model_version_alias.created',
        'registered_model.renamed',
      ]);
      const ids = events.map((e) => e.eventId);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(events[0]).toMatchObject({ name, webhook: true, data: { name, tags: { team: 'ml' } } });
      expect(events[0]!.timestamp).toBeGreaterThan(t0);
      expect(events[0]!.timestamp).toBeLessThan(tCreated);
      expect(events[0]).not.toHaveProperty('before');
      expect(events[5]).toMatchObject({ name: renamed, before: { name }, webhook: false });
      const byOldName = await client.getRegisteredModelHistoryPage({ name });
      expect(byOldName.items.map((e) => e.eventId)).toEqual(ids);
      expect(byOldName.nextPageToken).toBeUndefined();

      // One version.
      const v2 = await client.getModelVersionHistory({ name: renamed, version: 2 }).toArray();
      expect(v2.map((e) => [e.entity, e.action, e.version, e.before ?? null])).toEqual([
        ['model_version', 'created', '2', null],
        ['model_version_alias', 'created', '2', { version: '1' }],
      ]);
      const v1Page = await client.getModelVersionHistoryPage({ name: renamed, version: '1', maxResults: 1 });
      expect(v1Page.items.map((e) => `${e.entity}.${e.action}`)).toEqual(['model_version.created']);
      expect(v1Page.nextPageToken).toBeTypeOf('string');

      // The alias, and where it pointed at any time.
      const champion = await client.getAliasHistory({ name: renamed, alias: 'champion' }).toArray();
      expect(champion.map((e) => [e.alias, e.version, e.before ?? null])).toEqual([
        ['champion', '1', null],
        ['champion', '2', { version: '1' }],
      ]);
      expect(await client.getAliasAt({ name: renamed, alias: 'champion', at: t0 })).toEqual({ timestamp: t0, modelExists: false });
      expect(await client.getAliasAt({ name: renamed, alias: 'champion', at: new Date(tCreated) })).toEqual({
        timestamp: tCreated,
        modelExists: true,
        registeredModelName: name,
      });
      const at1 = await client.getAliasAt({ name: renamed, alias: 'champion', at: tChamp1 });
      expect(at1).toMatchObject({ modelExists: true, registeredModelName: name, version: '1', eventId: champion[0]!.eventId });
      expect(at1.setTimestamp).toBe(champion[0]!.timestamp);
      expect(await client.getAliasAt({ name, alias: 'champion', at: Date.now() })).toMatchObject({ registeredModelName: renamed, version: '2' });
      const withAt = await client.getAliasHistoryPage({ name: renamed, alias: 'champion', at: tChamp2, maxResults: 1 });
      expect(withAt.items).toHaveLength(1);
      expect(withAt.pointInTime).toMatchObject({ version: '2' });
      expect(await client.getAliasHistoryPage({ name: renamed, alias: 'champion' })).not.toHaveProperty('pointInTime');

      // The whole registry in a time range.
      const range = await client.listRegistryEvents({ since: t0, until: new Date(tChamp1), maxResults: 2 }).toArray();
      expect(range.map((e) => e.eventId)).toEqual(ids.slice(0, 4));
      const firstPage = await client.listRegistryEventsPage({ since: t0, maxResults: 3 });
      expect(firstPage.items.map((e) => e.eventId)).toEqual(ids.slice(0, 3));
      expect(firstPage.nextPageToken).toBeTypeOf('string');
      expect(await client.listRegistryEventsPage({ since: Date.now() + 60_000 })).toEqual({ items: [] });
    });

    it('answers RESOURCE_DOES_NOT_EXIST for an unknown model or version, INVALID_PARAMETER_VALUE for a bad page size', async () => {
      const unknown = uniq('never');
      for (const call of [
        () => client.getRegisteredModelHistoryPage({ name: unknown }),
        () => client.getModelVersionHistoryPage({ name: unknown, version: 1 }),
        () => client.getAliasHistory({ name: unknown, alias: 'champion' }).toArray(),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
      }
      expect(await client.getAliasAt({ name: unknown, alias: 'champion', at: Date.now() })).toMatchObject({ modelExists: false });
      const bad = await apiError(client.listRegistryEventsPage({ maxResults: 1001 }));
      expect([bad.errorCode, bad.status, bad.message]).toEqual(['INVALID_PARAMETER_VALUE', 400, 'max_results must be between 1 and 1000.']);
    });

    it('lists a webhook\'s deliveries with their attempts, newest first, filtered by status', async () => {
      const hook = await client.createWebhook({ name: uniq('deliveries'), url: hookUrl, events: ['registered_model.created'] });
      const names = [uniq('delivered'), uniq('delivered')];
      for (const name of names) await client.createRegisteredModel({ name });
      let deliveries = await client.listWebhookDeliveries({ webhookId: hook.webhookId }).toArray();
      for (let i = 0; i < 300 && !(deliveries.length === 2 && deliveries.every((d) => d.status === 'DELIVERED')); i++) {
        await new Promise((r) => setTimeout(r, 50));
        deliveries = await client.listWebhookDeliveries({ webhookId: hook.webhookId, maxResults: 1 }).toArray();
      }
      expect(deliveries.map((d) => d.status)).toEqual(['DELIVERED', 'DELIVERED']);
      const [newest, oldest] = deliveries;
      expect(newest!.eventId).toBeGreaterThan(oldest!.eventId);
      expect(newest).toMatchObject({ webhookId: hook.webhookId, entity: 'registered_model', action: 'created', attemptCount: 1, lastResponseStatus: 200 });
      expect(newest!.deliveryId).toBeTypeOf('string');
      expect(newest!.attempts).toHaveLength(1);
      expect(newest!.attempts[0]).toMatchObject({ attempt: 1, responseStatus: 200, responseBody: 'ok' });
      const created = await client.getRegisteredModelHistoryPage({ name: names[1]! });
      expect(newest!.eventId).toBe(created.items[0]!.eventId);

      const page = await client.listWebhookDeliveriesPage({ webhookId: hook.webhookId, maxResults: 1 });
      expect(page.items.map((d) => d.deliveryId)).toEqual([newest!.deliveryId]);
      expect(page.nextPageToken).toBeTypeOf('string');
      expect(await client.listWebhookDeliveriesPage({ webhookId: hook.webhookId, status: 'FAILED' })).toEqual({ items: [] });

      await client.deleteWebhook({ webhookId: hook.webhookId });
      expect(await client.listWebhookDeliveries({ webhookId: hook.webhookId, status: 'DELIVERED' }).toArray()).toHaveLength(2);
      const e = await apiError(client.listWebhookDeliveriesPage({ webhookId: '00000000-0000-4000-8000-000000000000' }));
      expect([e.errorCode, e.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    });
  });

  describe('drift', () => {
    it('received only responses the spec declares: documented statuses, no undeclared field, ErrorResponse errors', () => {
      expect(seen.length).toBeGreaterThan(200);
      const problems = seen.flatMap(unexplainedProblems);
      const ops = new Set(seen.filter((r) => r.status < 400).map((r) => findOperation(r.method, r.path)?.operationId));
      expect([...new Set(problems)]).toEqual([]);
      // The suite exercised every JSON operation the SDK wraps.
      expect([...ops].sort()).toEqual(
        expect.arrayContaining([
          'createRegisteredModel', 'getRegisteredModel', 'renameRegisteredModel', 'updateRegisteredModel', 'deleteRegisteredModel',
          'searchRegisteredModels', 'getLatestVersions', 'setRegisteredModelTag', 'deleteRegisteredModelTag', 'setRegisteredModelAlias',
          'deleteRegisteredModelAlias', 'getModelVersionByAlias', 'createModelVersion', 'updateModelVersion', 'transitionModelVersionStage',
          'deleteModelVersion', 'getModelVersion', 'searchModelVersions', 'getModelVersionDownloadUri', 'setModelVersionTag',
          'deleteModelVersionTag', 'createWebhook', 'listWebhooks', 'getWebhook', 'updateWebhook', 'deleteWebhook', 'testWebhook',
          'listArtifacts', 'uploadArtifact', 'deleteArtifact', 'getRegisteredModelHistory', 'getModelVersionHistory',
          'getAliasHistory', 'listRegistryEvents', 'listWebhookDeliveries',
        ]),
      );
    });
  });
});
