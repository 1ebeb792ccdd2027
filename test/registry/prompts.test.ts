/**
 * Reference §8: prompts on the registry. Searches leave prompts out unless the filter asks for them
 * (the marker tag `mlflow.prompt.is_prompt` = 'true' on the model, or on any version for version
 * search); name conflicts between prompts and models get MLflow's messages; prompt versions use the
 * placeholder source; reads (get, alias "latest") serve prompts like models. Checked against MLflow
 * 3.17.2.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const KEY = 'mlflow.prompt.is_prompt';
const tag = (value: string) => ({ key: KEY, value });

describe.each(backendsWithS3())('prompts (%s)', (backend) => {
  const c = useServer(backend);
  let p: string;
  beforeAll(async () => {
    p = uniq('pr');
    await c.createModel(`${p}-1`, { tags: [tag('true')] }); // a prompt
    await c.createModel(`${p}-2`, { tags: [tag('TRUE')] }); // not excluded: exclusion compares with 'true'
    await c.createModel(`${p}-3`, { tags: [tag('false')] }); // a model
    await c.createModel(`${p}-4`); // a model with one prompt-tagged version
    await c.createVersion(`${p}-4`, { source: 'prompt-template', tags: [tag('true')] });
    await c.createVersion(`${p}-4`, { source: 's3://b/x' });
    await c.createVersion(`${p}-1`, { source: 'prompt-template', tags: [tag('true'), { key: 'mlflow.prompt.text', value: 'Hello {{name}}' }] });
    await c.createVersion(`${p}-3`, { source: 's3://b/x' });
  });

  const rm = async (extra = '') =>
    ((await c.searchModels({ filter: `name LIKE '${p}-%'${extra}` })).registered_models ?? []).map((m: any) => m.name.slice(p.length + 1));
  const mv = async (extra = '') =>
    (await c.searchVersions({ filter: `name LIKE '${p}-%'${extra}` })).map((v: any) => `${v.name.slice(p.length + 1)}/${v.version}`).sort();

  it('leaves prompts out of both searches by default', async () => {
    expect(await rm()).toEqual(['2', '3', '4']);
    // every version of a model any of whose versions is a prompt version is left out
    expect(await mv()).toEqual(['3/1']);
  });

  it("returns prompts when the filter asks for them (= 'true' or != 'false', any case)", async () => {
    expect(await rm(` AND tags.\`${KEY}\` = 'true'`)).toEqual(['1']);
    expect(await mv(` AND tags.\`${KEY}\` = 'true'`)).toEqual(['1/1', '4/1']);
    expect(await rm(` AND tags.\`${KEY}\` != 'false'`)).toEqual(['1', '2']);
    expect(await mv(` AND tags.\`${KEY}\` != 'false'`)).toEqual(['1/1', '4/1']);
    expect(await rm(` AND tags.\`${KEY}\` = 'TRUE'`)).toEqual(['2']);
    expect(await mv(` AND tags.\`${KEY}\` = 'TRUE'`)).toEqual([]);
  });

  it("treats = 'false', != 'true' and other conditions on the marker as asking for models (missing tag counts as false)", async () => {
    for (const cond of [`= 'false'`, `!= 'true'`, `LIKE 't%'`]) {
      expect(await rm(` AND tags.\`${KEY}\` ${cond}`), cond).toEqual(['2', '3', '4']);
      expect(await mv(` AND tags.\`${KEY}\` ${cond}`), cond).toEqual(['3/1']);
    }
  });

  it('serves prompts to get and alias reads, marker tag included', async () => {
    const got = await c.getModel(`${p}-1`);
    expect(got.tags).toEqual([tag('true')]);
    const latest = await c.get('/registered-models/alias', { name: `${p}-1`, alias: 'latest' });
    expect(latest.body.model_version).toMatchObject({ version: '1', source: 'prompt-template' });
    expect(latest.body.model_version.tags).toEqual(expect.arrayContaining([tag('true'), { key: 'mlflow.prompt.text', value: 'Hello {{name}}' }]));
  });

  it('refuses names taken by the other kind, with MLflow messages', async () => {
    const prompt = `${p}-1`;
    const model = `${p}-4`;
    expectError(
      await c.post('/registered-models/create', { name: prompt }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Tried to create a registered model with name '${prompt}', but the name is already taken by a prompt. MLflow does not allow creating a model and a prompt with the same name.`,
    );
    expectError(await c.post('/registered-models/create', { name: prompt, tags: [tag('true')] }), 400, 'RESOURCE_ALREADY_EXISTS', `Prompt (name=${prompt}) already exists.`);
    // The marker key decides, whatever its value.
    expectError(
      await c.post('/registered-models/create', { name: model, tags: [tag('false')] }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Tried to create a prompt with name '${model}', but the name is already taken by a registered model. MLflow does not allow creating a model and a prompt with the same name.`,
    );
    expectError(await c.post('/registered-models/create', { name: `${p}-3`, tags: [tag('true')] }), 400, 'RESOURCE_ALREADY_EXISTS', `Prompt (name=${p}-3) already exists.`);
    expectError(await c.post('/registered-models/create', { name: model }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${model}) already exists.`);
  });

  it("quotes names in conflict messages like Python's repr()", async () => {
    const name = `${uniq('q')}'s`;
    await c.createModel(name, { tags: [tag('true')] });
    expectError(
      await c.post('/registered-models/create', { name }),
      400,
      'RESOURCE_ALREADY_EXISTS',
      `Tried to create a registered model with name "${name}", but the name is already taken by a prompt. MLflow does not allow creating a model and a prompt with the same name.`,
    );
  });

  it('creates prompt versions from the placeholder source only', async () => {
    const name = uniq('pv');
    await c.createModel(name, { tags: [tag('true')] });
    const v = await c.createVersion(name, { source: 'prompt-template', tags: [tag('true'), { key: '_mlflow_prompt_type', value: 'text' }] });
    expect(v).toMatchObject({ version: '1', source: 'prompt-template', run_id: '' });
    expectError(
      await c.post('/model-versions/create', { name, source: '/etc/passwd', tags: [tag('true')] }),
      400,
      'INVALID_PARAMETER_VALUE',
      "Invalid prompt source: '/etc/passwd'. Prompt sources must use an MLflow placeholder.",
    );
  });
});
