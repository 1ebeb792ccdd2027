/**
 * The spec states the server's input constraints exactly (issue 17; docs/spec-exactness.md): for the
 * constraints added to openapi/openapi.yaml (model names, versions, aliases, tag keys, stages, artifact
 * paths, workspace names), a value the spec's pattern accepts is never refused with 400, and a value it
 * refuses is answered 400 INVALID_PARAMETER_VALUE, as MLflow 3.17.2 does. The patterns are read from the
 * bundled spec, so a drift on either side fails here before the schemathesis run finds it.
 *
 * The patterns are JSON Schema (ECMA-262) regexes written so that Python's `re` (schemathesis, MLflow)
 * and JavaScript read them alike; `u` mode here as in JSON Schema. Samples stay where both engines agree
 * (JavaScript's `\w` and `\d` are ASCII-only, Python's are Unicode).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';

type Schema = { $ref?: string; pattern?: string; maxLength?: number; minLength?: number; items?: Schema; properties?: Record<string, Schema> };
type Param = { $ref?: string; name: string; in: string; schema: Schema };
type Spec = {
  paths: Record<string, Record<string, { parameters?: Param[] }>>;
  components: { schemas: Record<string, Schema>; parameters: Record<string, Param> };
};
const spec = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../openapi/openapi.json'), 'utf8')) as Spec;

const deref = <T extends { $ref?: string }>(x: T, table: Record<string, T>): T => (x.$ref ? table[x.$ref.split('/').pop()!]! : x);
const bodyField = (schema: string, field: string): Schema => deref(spec.components.schemas[schema]!.properties![field]!, spec.components.schemas);
function param(p: string, method: string, name: string): Schema {
  const item = spec.paths[p]!;
  const all = [...((item as { parameters?: Param[] }).parameters ?? []), ...(item[method]!.parameters ?? [])].map((x) =>
    deref(x, spec.components.parameters),
  );
  // The operation's own declaration overrides the path item's.
  return all.filter((x) => x.name === name).pop()!.schema;
}

/** Whether the spec accepts `value` for a string schema (pattern and lengths, counted in code points). */
function specAccepts(schema: Schema, value: string): boolean {
  const n = [...value].length;
  if (schema.minLength !== undefined && n < schema.minLength) return false;
  if (schema.maxLength !== undefined && n > schema.maxLength) return false;
  return schema.pattern === undefined || new RegExp(schema.pattern, 'u').test(value);
}

const q = encodeURIComponent;
const A = '/api/2.0/mlflow';

describe.each(backends())('the spec states what the server accepts (%s)', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend, { MLFLOW_ENABLE_WORKSPACES: 'true', LOG_LEVEL: 'error' });
    expect((await s.call('POST', `${A}/registered-models/create`, { name: 'm' })).status).toBe(200);
    expect((await s.call('POST', `${A}/model-versions/create`, { name: 'm', source: 's3://b/m/1' })).status).toBe(200);
  });
  afterAll(async () => {
    await s?.close();
  });

  /**
   * The server's answer agrees with the spec: a value the spec accepts is not refused with 400 (404 for
   * what does not exist is fine), one it refuses gets a 4xx, 400 with MLflow's error body but where the
   * URL itself changes (a `.` path segment is resolved before routing). NUL is refused by the database
   * (BAD_REQUEST).
   */
  async function agrees(schema: Schema, value: string, send: (v: string) => Promise<{ status: number; body: any }>) {
    const r = await send(value);
    const accepted = specAccepts(schema, value);
    const verdict = r.status === 400 ? 'refused (400)' : r.status >= 400 && r.status < 500 && !accepted ? 'refused (4xx)' : 'accepted';
    expect({ value, verdict: verdict === 'accepted' ? verdict : 'refused' }).toEqual({ value, verdict: accepted ? 'accepted' : 'refused' });
    if (r.status === 400) expect(['INVALID_PARAMETER_VALUE', 'BAD_REQUEST']).toContain(r.body.error_code);
    return accepted;
  }

  it('registered model names (query and body)', async () => {
    const schema = param(`${A}/registered-models/get`, 'get', 'name');
    expect(bodyField('DeleteRegisteredModelTagRequest', 'name').pattern).toBe(schema.pattern);
    const samples = ['m', 'iris', 'é model', '.x', 'x..', 'a.b', ' x ', '', '   ', '\t', 'a/b', 'a:b', '.', '..', '..x', 'a\u0000b'];
    const verdicts = [];
    for (const v of samples) {
      verdicts.push(await agrees(schema, v, (x) => s.call('GET', `${A}/registered-models/get?name=${q(x)}`)));
      await agrees(schema, v, (x) => s.call('DELETE', `${A}/registered-models/delete-tag`, { name: x, key: 'k' }));
    }
    // Both kinds are exercised.
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  });

  it('version numbers, as Python int() reads them', async () => {
    const schema = param(`${A}/model-versions/get`, 'get', 'version');
    expect(bodyField('SetModelVersionTagRequest', 'version').pattern).toBe(schema.pattern);
    for (const v of ['1', ' 1 ', '+1', '-1', '01', '0_1', '1_000', '0', '999999999999999', '9999999999999999', '', 'abc', '1.0', '1__0', '_1', '1_', '1e3', '0x1']) {
      await agrees(schema, v, (x) => s.call('GET', `${A}/model-versions/get?name=m&version=${q(x)}`));
    }
  });

  it('aliases: set refuses the reserved names, get and delete only check the characters', async () => {
    const set = bodyField('SetRegisteredModelAliasRequest', 'alias');
    for (const v of ['champion', 'a-b_c', 'latest2', 'v1x', 'a'.repeat(255), 'v1', 'V12', 'latest', 'LaTeSt', '', 'a b', 'a.b', 'a/b', 'a'.repeat(256)]) {
      await agrees(set, v, (x) => s.call('POST', `${A}/registered-models/alias`, { name: 'm', alias: x, version: '1' }));
    }
    const del = bodyField('DeleteRegisteredModelAliasRequest', 'alias');
    for (const v of ['champion', 'v1', 'latest', '', 'a b', 'a'.repeat(256)]) {
      await agrees(del, v, (x) => s.call('DELETE', `${A}/registered-models/alias`, { name: 'm', alias: x }));
    }
  });

  it('tag keys: characters, length and a path that normalises to itself', async () => {
    const schema = bodyField('SetRegisteredModelTagRequest', 'key');
    expect(bodyField('DeleteModelVersionTagRequest', 'key').pattern).toBe(schema.pattern);
    const samples = ['team', 'a/b', 'a.b', 'a/.b', 'a/..b', '.a', 'a b:c-d_e', 'x'.repeat(250), 'x'.repeat(251), '', '.', '..', '..a', '/a', 'a/', 'a//b', 'a/./b', 'a/../b', './a', 'a#b', 'a\\b'];
    for (const v of samples) {
      await agrees(schema, v, (x) => s.call('POST', `${A}/registered-models/set-tag`, { name: 'm', key: x, value: 'v' }));
    }
  });

  it('stages, case-insensitive, in get-latest-versions and transition-stage', async () => {
    const items = bodyField('GetLatestVersionsRequest', 'stages').items!;
    const stage = spec.components.schemas.ModelVersionStage!;
    expect(stage.pattern).toBe(items.pattern);
    for (const v of ['None', 'staging', 'PRODUCTION', 'aRcHiVeD', '', 'prod', 'None ', 'Staging\n']) {
      await agrees(items, v, (x) => s.call('POST', `${A}/registered-models/get-latest-versions`, { name: 'm', stages: [x] }));
      await agrees(stage, v, (x) => s.call('POST', `${A}/model-versions/transition-stage`, { name: 'm', version: '1', stage: x }));
    }
  });

  it('artifact paths: relative, no `..` segment, no escapes or control characters; uploads name a file', async () => {
    const list = param(`${A}-artifacts/artifacts`, 'get', 'path');
    for (const v of ['', 'a', 'a/b', 'a/./b', 'a..b/c', '../x', 'a/../b', '/abs', 'C:/x', 'c:x', 'file:x', 'a%2e', 'a#b', 'a?b', 'a\\b', 'a\u0001b']) {
      await agrees(list, v, (x) => s.call('GET', `${A}-artifacts/artifacts?path=${q(x)}`));
    }
    const put = param(`${A}-artifacts/artifacts/{artifact_path}`, 'put', 'artifact_path');
    for (const v of ['f.txt', 'd/f.txt', 'd/', '.', 'd/.', '../f', 'd/%41']) {
      await agrees(put, v, (x) => s.fetch(`${A}-artifacts/artifacts/${q(x)}`, { method: 'PUT', body: 'x' }).then(async (r) => ({ status: r.status, body: await r.json() })));
    }
    const del = param(`${A}-artifacts/artifacts/{artifact_path}`, 'delete', 'artifact_path');
    for (const v of ['f.txt', 'd/', 'nothing-here', '.', './', '../f']) {
      await agrees(del, v, (x) => s.call('DELETE', `${A}-artifacts/artifacts/${q(x)}`));
    }
  });

  it('workspace names: 2-63 characters, lowercase alphanumerics and inner hyphens, not reserved', async () => {
    const W = '/api/3.0/mlflow/workspaces';
    const get = param(`${W}/{workspace_name}`, 'get', 'workspace_name');
    for (const v of ['team-a', 'ab', 'a1', 'x'.repeat(63), 'x'.repeat(64), 'a', 'A1', '-ab', 'ab-', 'a_b', 'api', 'workspaces']) {
      await agrees(get, v, (x) => s.call('GET', `${W}/${q(x)}`));
    }
    const del = param(`${W}/{workspace_name}`, 'delete', 'workspace_name');
    for (const v of ['default', 'team-z', 'a']) {
      await agrees(del, v, (x) => s.call('DELETE', `${W}/${q(x)}`));
    }
  });
});
