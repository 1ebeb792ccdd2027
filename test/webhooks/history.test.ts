/**
 * The audit history API: every registry change is recorded in its own transaction (including the
 * ones MLflow does not announce), histories follow renames, and "which version did alias X point to
 * at time T" is answered correctly after moves, renames, version deletions, alias deletions, model
 * deletion and re-creation under the same name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { sleep } from './receiver.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const R = '/api/2.0/mlflow';
const H = '/api/2.0/mlflow-ts/history';

type Ev = { event_id: number; timestamp: number; entity: string; action: string; name: string; version?: string; alias?: string; data: any; before?: any; webhook: boolean };

describe.each(backendsWithS3())('audit history (%s)', (backend) => {
  let s: TestServer;
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await s.call(method, path, body);
    expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).toBe(200);
    return r.body;
  };
  /** Runs a change and returns the time just after it (events at or before it include it). */
  const step = async (method: string, path: string, body?: unknown) => {
    await ok(method, R + path, body);
    await sleep(4);
    const t = Date.now();
    await sleep(4);
    return t;
  };
  const aliasAt = async (name: string, alias: string, at: number) =>
    (await ok('GET', `${H}/aliases?name=${encodeURIComponent(name)}&alias=${alias}&at=${at}`)).point_in_time;

  const T: Record<string, number> = {};

  beforeAll(async () => {
    s = await startTestServer(backend);
    // The story of "fraud": created as fraud-v0, champion moved around, renamed, versions and aliases
    // deleted, the model deleted, then a new "fraud" created.
    T.before = Date.now();
    await sleep(4);
    T.created = await step('POST', '/registered-models/create', { name: 'fraud-v0', description: 'first' });
    for (let v = 1; v <= 3; v++) await step('POST', '/model-versions/create', { name: 'fraud-v0', source: `s3://b/fraud/${v}` });
    T.champ1 = await step('POST', '/registered-models/alias', { name: 'fraud-v0', alias: 'champion', version: '1' });
    T.champ2 = await step('POST', '/registered-models/alias', { name: 'fraud-v0', alias: 'champion', version: '2' });
    T.renamed = await step('POST', '/registered-models/rename', { name: 'fraud-v0', new_name: 'fraud' });
    T.champ3 = await step('POST', '/registered-models/alias', { name: 'fraud', alias: 'champion', version: '3' });
    T.v3deleted = await step('DELETE', '/model-versions/delete', { name: 'fraud', version: '3' });
    T.champ2again = await step('POST', '/registered-models/alias', { name: 'fraud', alias: 'champion', version: '2' });
    T.aliasDeleted = await step('DELETE', '/registered-models/alias', { name: 'fraud', alias: 'champion' });
    T.champ1again = await step('POST', '/registered-models/alias', { name: 'fraud', alias: 'champion', version: '1' });
    T.stage = await step('POST', '/model-versions/transition-stage', { name: 'fraud', version: '1', stage: 'Production', archive_existing_versions: false });
    T.modelDeleted = await step('DELETE', '/registered-models/delete', { name: 'fraud' });
    T.recreated = await step('POST', '/registered-models/create', { name: 'fraud' });
    await step('POST', '/model-versions/create', { name: 'fraud', source: 's3://b/new/1' });
    T.newChamp = await step('POST', '/registered-models/alias', { name: 'fraud', alias: 'champion', version: '1' });
  });
  afterAll(() => s.close());

  it('answers where an alias pointed at any time, across moves, a rename and deletions', async () => {
    const old = 'fraud-v0'; // resolves to the first model (its last name was "fraud")
    expect(await aliasAt(old, 'champion', T.before!)).toEqual({ timestamp: T.before, model_exists: false });
    expect(await aliasAt(old, 'champion', T.created!)).toEqual({ timestamp: T.created, model_exists: true, registered_model_name: 'fraud-v0' });
    expect(await aliasAt(old, 'champion', T.champ1!)).toMatchObject({ model_exists: true, registered_model_name: 'fraud-v0', version: '1' });
    const at2 = await aliasAt(old, 'champion', T.champ2!);
    expect(at2).toMatchObject({ version: '2', registered_model_name: 'fraud-v0' });
    expect(at2.set_timestamp).toBeLessThanOrEqual(T.champ2!);
    expect(at2.set_timestamp).toBeGreaterThan(T.champ1!);
    // Renamed: the alias followed the model.
    expect(await aliasAt(old, 'champion', T.renamed!)).toMatchObject({ version: '2', registered_model_name: 'fraud' });
    expect(await aliasAt(old, 'champion', T.champ3!)).toMatchObject({ version: '3', registered_model_name: 'fraud' });
    // Deleting version 3 removed the alias.
    const gone = await aliasAt(old, 'champion', T.v3deleted!);
    expect(gone).toEqual({ timestamp: T.v3deleted, model_exists: true, registered_model_name: 'fraud' });
    expect(await aliasAt(old, 'champion', T.champ2again!)).toMatchObject({ version: '2' });
    expect(await aliasAt(old, 'champion', T.aliasDeleted!)).not.toHaveProperty('version');
    expect(await aliasAt(old, 'champion', T.champ1again!)).toMatchObject({ version: '1' });
    expect(await aliasAt(old, 'champion', T.stage!)).toMatchObject({ version: '1' });
    expect(await aliasAt(old, 'champion', T.modelDeleted!)).toEqual({ timestamp: T.modelDeleted, model_exists: false });
    // Another alias name never existed.
    expect(await aliasAt(old, 'challenger', T.champ3!)).toEqual({ timestamp: T.champ3, model_exists: true, registered_model_name: 'fraud' });
  });

  it('resolves a reused name to the model that bore it at that time', async () => {
    // "fraud" now is the re-created model; before it existed, "fraud" was the first model (after its rename).
    expect(await aliasAt('fraud', 'champion', T.newChamp!)).toMatchObject({ model_exists: true, registered_model_name: 'fraud', version: '1' });
    expect(await aliasAt('fraud', 'champion', T.recreated!)).toEqual({ timestamp: T.recreated, model_exists: true, registered_model_name: 'fraud' });
    expect(await aliasAt('fraud', 'champion', T.champ3!)).toMatchObject({ registered_model_name: 'fraud', version: '3' });
    expect(await aliasAt('fraud', 'champion', T.champ2again!)).toMatchObject({ version: '2' });
    expect(await aliasAt('fraud', 'champion', T.modelDeleted!)).toEqual({ timestamp: T.modelDeleted, model_exists: false });
    // Before the rename no model was called "fraud".
    expect(await aliasAt('fraud', 'champion', T.champ2!)).toEqual({ timestamp: T.champ2, model_exists: false });
  });

  it('lists an alias\'s events across renames', async () => {
    const r = await ok('GET', `${H}/aliases?name=fraud-v0&alias=champion`);
    const evs = r.events as Ev[];
    expect(evs.map((e) => [e.entity, e.action, e.name, e.version ?? e.data.removed_aliases ?? null])).toEqual([
      ['model_version_alias', 'created', 'fraud-v0', '1'],
      ['model_version_alias', 'created', 'fraud-v0', '2'],
      ['model_version_alias', 'created', 'fraud', '3'],
      ['model_version', 'deleted', 'fraud', '3'],
      ['model_version_alias', 'created', 'fraud', '2'],
      ['model_version_alias', 'deleted', 'fraud', null],
      ['model_version_alias', 'created', 'fraud', '1'],
      ['registered_model', 'deleted', 'fraud', null],
    ]);
    expect(evs[1]!.before).toEqual({ version: '1' });
    expect(evs[5]!.before).toEqual({ version: '2' });
    expect(r).not.toHaveProperty('point_in_time');
    const unknown = await s.call('GET', `${H}/aliases?name=never-existed&alias=champion`);
    expect(unknown.status).toBe(404);
    expect(await aliasAt('never-existed', 'champion', Date.now())).toEqual({ timestamp: expect.any(Number), model_exists: false });
  });

  it('gives a model\'s full history under any of its names, and keeps a re-created model separate', async () => {
    const first = (await ok('GET', `${H}/registered-models?name=fraud-v0&max_results=1000`)).events as Ev[];
    expect(first.map((e) => `${e.entity}.${e.action}`)).toEqual([
      'registered_model.created',
      'model_version.created',
      'model_version.created',
      'model_version.created',
      'model_version_alias.created',
      'model_version_alias.created',
      'registered_model.renamed',
      'model_version_alias.created',
      'model_version.deleted',
      'model_version_alias.created',
      'model_version_alias.deleted',
      'model_version_alias.created',
      'model_version.stage_transitioned',
      'registered_model.deleted',
    ]);
    const ids = first.map((e) => e.event_id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const rename = first[6]!;
    expect(rename).toMatchObject({ name: 'fraud', data: { name: 'fraud' }, before: { name: 'fraud-v0' }, webhook: false });
    expect(first[0]).toMatchObject({ name: 'fraud-v0', webhook: true, data: { name: 'fraud-v0', tags: {}, description: 'first' } });
    expect(first[12]).toMatchObject({ version: '1', data: { stage: 'Production' }, before: { stage: 'None' } });
    expect(first[8]!.data.removed_aliases).toEqual(['champion']);

    const current = (await ok('GET', `${H}/registered-models?name=fraud`)).events as Ev[];
    expect(current.map((e) => `${e.entity}.${e.action}`)).toEqual(['registered_model.created', 'model_version.created', 'model_version_alias.created']);
    expect((await s.call('GET', `${H}/registered-models?name=nope`)).status).toBe(404);
    expect((await s.call('GET', `${H}/registered-models`)).body.message).toBe(
      "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    );

    // Pagination with MLflow page tokens.
    const p1 = await ok('GET', `${H}/registered-models?name=fraud-v0&max_results=5`);
    expect(p1.events).toHaveLength(5);
    expect(p1.next_page_token).toBe('eyJvZmZzZXQiOiA1fQ==');
    const p2 = await ok('GET', `${H}/registered-models?name=fraud-v0&max_results=5&page_token=${p1.next_page_token}`);
    expect(p2.events.map((e: Ev) => e.event_id)).toEqual(ids.slice(5, 10));
  });

  it('gives a version\'s history, including aliases moved onto and off it', async () => {
    const v2 = (await ok('GET', `${H}/model-versions?name=fraud-v0&version=2`)).events as Ev[];
    expect(v2.map((e) => [e.entity, e.action, e.version ?? null, e.before ?? null])).toEqual([
      ['model_version', 'created', '2', null],
      ['model_version_alias', 'created', '2', { version: '1' }],
      ['model_version_alias', 'created', '3', { version: '2' }],
      ['model_version_alias', 'created', '2', null],
      ['model_version_alias', 'deleted', null, { version: '2' }],
    ]);
    const bad = await s.call('GET', `${H}/model-versions?name=fraud&version=x`);
    expect(bad.status).toBe(400);
    expect((await s.call('GET', `${H}/model-versions?name=fraud&version=99`)).status).toBe(404);
  });

  it('lists the whole registry in a time range', async () => {
    const all = (await ok('GET', `${H}/events?max_results=1000`)).events as Ev[];
    expect(all.length).toBe(17); // 14 of the first model, 3 of the second
    const range = (await ok('GET', `${H}/events?since=${T.champ2}&until=${T.v3deleted}`)).events as Ev[];
    expect(range.map((e) => `${e.entity}.${e.action}`)).toEqual(['registered_model.renamed', 'model_version_alias.created', 'model_version.deleted']);
    expect(await ok('GET', `${H}/events?since=${Date.now() + 60_000}`)).toEqual({});
    const bad = await s.call('GET', `${H}/events?since=yesterday`);
    expect(bad.body.message).toBe(
      `Invalid value "yesterday" for parameter 'since' supplied:  Hint: Value was of type 'str'. See the API docs for more information about request parameters.`,
    );
    expect((await s.call('GET', `${H}/events?max_results=0`)).status).toBe(200);
    expect((await s.call('GET', `${H}/events?max_results=1001`)).body.message).toBe('max_results must be between 1 and 1000.');
  });

  it('records nothing for a failed change (same transaction)', async () => {
    const before = ((await ok('GET', `${H}/events?max_results=1000`)).events as Ev[]).length;
    expect((await s.call('POST', `${R}/registered-models/alias`, { name: 'fraud', alias: 'x', version: '42' })).status).toBe(404);
    expect((await s.call('POST', `${R}/registered-models/create`, { name: 'fraud' })).status).toBe(400);
    expect(((await ok('GET', `${H}/events?max_results=1000`)).events as Ev[]).length).toBe(before);
  });
});
