/**
 * Reference §4.2: the model-version endpoints (create incl. `models:/` lineage, update,
 * transition-stage, delete, get, get-download-uri, set/delete tag), their error cases and MLflow
 * 3.17.2's messages.
 */
import { describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, invalidValue, missing, mustIdentify, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const notFound = (name: string) => `Registered Model with name=${name} not found`;
const versionNotFound = (name: string, v: string | number) => `Model Version (name=${name}, version=${v}) not found`;

describe.each(backendsWithS3())('model versions (%s)', (backend) => {
  const c = useServer(backend);

  describe('create', () => {
    it('creates version 1, 2, 3 … with the given fields', async () => {
      const name = uniq();
      await c.createModel(name);
      const v1 = await c.createVersion(name, { source: 's3://b/1', run_id: 'abc', run_link: 'http://link', description: 'first', tags: [{ key: 't', value: 'v' }] });
      expect(v1).toMatchObject({ name, version: '1', source: 's3://b/1', run_id: 'abc', run_link: 'http://link', description: 'first', current_stage: 'None', status: 'READY', tags: [{ key: 't', value: 'v' }] });
      expect((await c.createVersion(name)).version).toBe('2');
      expect((await c.createVersion(name)).version).toBe('3');
    });

    it('answers 404 for an unknown model and requires name and source', async () => {
      const name = uniq();
      expectError(await c.post('/model-versions/create', { name, source: 's3://b/p' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
      await c.createModel(name);
      expectError(await c.post('/model-versions/create', { name }), 400, 'INVALID_PARAMETER_VALUE', missing('source'));
      expectError(await c.post('/model-versions/create', { name, source: '' }), 400, 'INVALID_PARAMETER_VALUE', missing('source'));
      expectError(await c.post('/model-versions/create', { source: 's3://b/p' }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
      expectError(await c.post('/model-versions/create', { name, source: 's3://b/p', run_id: 5 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('run_id', '5', 'int'));
    });

    it('keeps the same tag key once, the last value winning', async () => {
      const name = uniq();
      await c.createModel(name);
      const mv = await c.createVersion(name, { tags: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }, { key: 'e' }] });
      expect(mv.tags).toEqual([{ key: 'k', value: '2' }, { key: 'e', value: '' }]);
    });

    it('reports a run_id longer than its column as BAD_REQUEST', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.post('/model-versions/create', { name, source: 's3://b/p', run_id: 'x'.repeat(33) }), 400, 'BAD_REQUEST', /value too long/);
    });

    it('checks source lineage before the model name and tags, as MLflow does', async () => {
      const src = uniq();
      expectError(await c.post('/model-versions/create', { name: 'bad/name', source: `models:/${src}/1` }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(src));
      expectError(await c.post('/model-versions/create', { name: 'bad/name', source: 's3://b/p' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid model name 'bad/name'. Names cannot contain '/' or ':'.");
      const name = uniq();
      expectError(
        await c.post('/model-versions/create', { name, source: 's3://b/p', tags: [{ key: '../x', value: 'v' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        'Invalid value "../x" for parameter \'key\' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to \'../x\'',
      );
    });
  });

  describe('create from models:/ sources', () => {
    it('pins the source to models:/<name>/<version>, inherits run_id, and downloads from the source version', async () => {
      const src = uniq();
      await c.createModel(src);
      await c.createVersion(src, { source: 's3://b/orig', run_id: 'r1' });
      await c.setAlias(src, 'champ', 1);
      const name = uniq();
      await c.createModel(name);
      for (const [source, n] of [
        [`models:/${src}/1`, 1],
        [`models:/${src}/01`, 2],
        [`models:/${src}@champ`, 3],
        [`models:/${src}@latest`, 4],
        [`models:/${src}/latest`, 5],
        [`models:/${src}/none`, 6],
        [`models:/${src}/1?x=1`, 7],
      ] as const) {
        const mv = await c.createVersion(name, { source });
        expect(mv).toMatchObject({ version: String(n), source: `models:/${src}/1`, run_id: 'r1' });
        expect((await c.get('/model-versions/get-download-uri', { name, version: String(n) })).body).toEqual({ artifact_uri: 's3://b/orig' });
      }
      // a copy of a copy still downloads from the original
      const mv = await c.createVersion(src, { source: `models:/${name}/1` });
      expect(mv.source).toBe(`models:/${name}/1`);
      expect((await c.get('/model-versions/get-download-uri', { name: src, version: mv.version })).body.artifact_uri).toBe('s3://b/orig');
    });

    it('picks the highest version of a stage, or of all versions for latest', async () => {
      const src = uniq();
      await c.createModel(src);
      for (let i = 0; i < 3; i++) await c.createVersion(src, { source: `s3://b/${i + 1}` });
      await c.transition(src, 2, 'Production');
      const name = uniq();
      await c.createModel(name);
      expect((await c.createVersion(name, { source: `models:/${src}/Production` })).source).toBe(`models:/${src}/2`);
      expect((await c.createVersion(name, { source: `models:/${src}/latest` })).source).toBe(`models:/${src}/3`);
    });

    it('checks a given run_id and model_id against the referenced version', async () => {
      const src = uniq();
      await c.createModel(src);
      await c.createVersion(src, { run_id: 'r1' });
      const name = uniq();
      await c.createModel(name);
      const source = `models:/${src}/1`;
      const mismatch = `Invalid model version source: '${source}'. The run_id and model_id request parameters must match the referenced model version.`;
      expect((await c.createVersion(name, { source, run_id: 'r1' })).run_id).toBe('r1');
      expectError(await c.post('/model-versions/create', { name, source, run_id: 'zzz' }), 400, 'INVALID_PARAMETER_VALUE', mismatch);
      expectError(await c.post('/model-versions/create', { name, source, run_id: '' }), 400, 'INVALID_PARAMETER_VALUE', mismatch);
      expectError(await c.post('/model-versions/create', { name, source, model_id: 'm-1' }), 400, 'INVALID_PARAMETER_VALUE', mismatch);
      expect((await c.createVersion(name, { source, model_id: '' })).run_id).toBe('r1');
    });

    it('answers MLflow errors for unresolvable or malformed models:/ sources', async () => {
      const src = uniq();
      await c.createModel(src);
      await c.createVersion(src);
      const name = uniq();
      await c.createModel(name);
      const create = (source: string) => c.post('/model-versions/create', { name, source });
      const unknown = uniq();
      expectError(await create(`models:/${unknown}/1`), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
      expectError(await create(`models:/${src}/99`), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(src, 99));
      expectError(await create(`models:/${src}@nope`), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias nope not found.');
      expectError(await create(`models:/${src}@bad alias`), 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'bad alias'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
      expectError(await create(`models:/${src}/bogus`), 400, 'INVALID_PARAMETER_VALUE', 'Invalid Model Version stage: bogus. Value must be one of None, Staging, Production, Archived.');
      // MLflow answers these two with 500; we answer 400 with the same text.
      expectError(await create(`models:/${src}/Staging`), 400, 'INVALID_PARAMETER_VALUE', `No versions of model with name '${src}' and stage 'Staging' found`);
      const empty = uniq();
      await c.createModel(empty);
      expectError(await create(`models:/${empty}/latest`), 400, 'INVALID_PARAMETER_VALUE', `No versions of model with name '${empty}' found`);
      expectError(
        await create(`models://host/${src}/1`),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid model version source: 'models://host/${src}/1'. Registered model sources must use the active model registry.`,
      );
      for (const bad of [`models:/${src}/1/`, `models:/${src}/1/x`, `models:/${src}@`, `models:/${src}/`, 'models:/', `models:${src}/1`, `models:/${src}`]) {
        expectError(await create(bad), 400, 'INVALID_PARAMETER_VALUE', mustIdentify(bad, 'model_id'));
      }
    });

    it('accepts models:/<model_id> only with the same model_id, storing the URI as the download location', async () => {
      const name = uniq();
      await c.createModel(name);
      const id = 'm-0123456789abcdef0123456789abcdef';
      expectError(await c.post('/model-versions/create', { name, source: `models:/${id}` }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify(`models:/${id}`, 'model_id'));
      expectError(await c.post('/model-versions/create', { name, source: `models:/${id}`, model_id: 'm-other' }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify(`models:/${id}`, 'model_id'));
      const mv = await c.createVersion(name, { source: `models:/${id}`, model_id: id });
      expect(mv.source).toBe(`models:/${id}`);
      expect(mv).not.toHaveProperty('model_id');
      expect((await c.get('/model-versions/get-download-uri', { name, version: mv.version })).body.artifact_uri).toBe(`models:/${id}`);
      expectError(await c.post('/model-versions/create', { name, source: 'runs:/r1/m', run_id: 'r1', model_id: id }), 400, 'INVALID_PARAMETER_VALUE', mustIdentify('runs:/r1/m', 'model_id'));
    });

    it('refuses a prompt as a source', async () => {
      const prompt = uniq();
      await c.createModel(prompt, { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
      await c.createVersion(prompt, { source: 'prompt-template', tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
      const name = uniq();
      await c.createModel(name);
      expectError(
        await c.post('/model-versions/create', { name, source: `models:/${prompt}/1` }),
        400,
        'INVALID_PARAMETER_VALUE',
        `Invalid model version source: 'models:/${prompt}/1'. Prompt versions cannot be used as model version sources.`,
      );
    });
  });

  describe('get', () => {
    it('parses the version like Python int()', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.createVersion(name);
      for (const v of ['2', ' 2 ', '+2', '02', '0_2']) expect((await c.get('/model-versions/get', { name, version: v })).body.model_version.version).toBe('2');
      for (const v of ['x', '1.0', ' 0+2 ']) {
        expectError(await c.get('/model-versions/get', { name, version: v }), 400, 'INVALID_PARAMETER_VALUE', `Parameter 'version' must be an integer, got '${v}'.`);
      }
    });

    it('answers 404 for an unknown version or model and requires both parameters', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.get('/model-versions/get', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 1));
      const unknown = uniq();
      expectError(await c.get('/model-versions/get', { name: unknown, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(unknown, 1));
      expectError(await c.get('/model-versions/get', { name }), 400, 'INVALID_PARAMETER_VALUE', missing('version'));
      expectError(await c.get('/model-versions/get', { version: '1' }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });
  });

  describe('get-download-uri', () => {
    it('returns the source, and the store-level errors (no handler schema)', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name, { source: 'runs:/abc/model', run_id: 'abc' });
      expect((await c.get('/model-versions/get-download-uri', { name, version: '1' })).body).toEqual({ artifact_uri: 'runs:/abc/model' });
      expectError(await c.get('/model-versions/get-download-uri', { name }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got ''.");
      expectError(await c.get('/model-versions/get-download-uri', { version: '1' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'name'.");
      expectError(await c.get('/model-versions/get-download-uri', { name, version: '9' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
    });
  });

  describe('update', () => {
    it('sets or clears the description and answers with aliases', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name, { description: 'old' });
      await c.setAlias(name, 'a', 1);
      let r = await c.patch('/model-versions/update', { name, version: '1', description: 'new' });
      expect(r.body.model_version).toMatchObject({ description: 'new', aliases: ['a'] });
      r = await c.patch('/model-versions/update', { name, version: '1', description: null });
      expect(r.body.model_version).not.toHaveProperty('description');
    });

    it('answers 404 for an unknown version and requires version', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.patch('/model-versions/update', { name, version: '9', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
      expectError(await c.patch('/model-versions/update', { name, description: 'x' }), 400, 'INVALID_PARAMETER_VALUE', missing('version'));
    });
  });

  describe('transition-stage', () => {
    it('canonicalises the stage and allows transitioning to the current stage', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expect((await c.transition(name, 1, 'staging')).current_stage).toBe('Staging');
      expect((await c.transition(name, 1, 'STAGING')).current_stage).toBe('Staging');
      expect((await c.transition(name, 1, 'none')).current_stage).toBe('None');
    });

    it('archives the other versions of the target stage with archive_existing_versions', async () => {
      const name = uniq();
      await c.createModel(name);
      for (let i = 0; i < 4; i++) await c.createVersion(name);
      await c.transition(name, 1, 'Production');
      await c.transition(name, 2, 'Production');
      await c.transition(name, 3, 'Staging');
      await c.transition(name, 4, 'Production', true);
      const stages = await Promise.all([1, 2, 3, 4].map(async (v) => (await c.getVersion(name, v)).current_stage));
      expect(stages).toEqual(['Archived', 'Archived', 'Staging', 'Production']);
    });

    it('refuses archive_existing_versions with a non-active stage (400; MLflow: 500)', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expectError(
        await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'archived', archive_existing_versions: true }),
        400,
        'INVALID_PARAMETER_VALUE',
        "Model version transition cannot archive existing model versions because 'archived' is not an Active stage. Valid stages are ['Staging', 'Production']",
      );
      expect((await c.getVersion(name, 1)).current_stage).toBe('None');
    });

    it('rejects unknown stages and versions, and requires stage', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      const message = 'Invalid Model Version stage: bogus. Value must be one of None, Staging, Production, Archived.';
      expectError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'bogus' }), 400, 'INVALID_PARAMETER_VALUE', message);
      expectError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'bogus', archive_existing_versions: true }), 400, 'INVALID_PARAMETER_VALUE', message);
      expectError(await c.post('/model-versions/transition-stage', { name, version: '9', stage: 'Production' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
      expectError(await c.post('/model-versions/transition-stage', { name, version: '1' }), 400, 'INVALID_PARAMETER_VALUE', missing('stage'));
    });
  });

  describe('delete', () => {
    it('answers {} and then 404 for every operation on the version', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expect((await c.del('/model-versions/delete', { name, version: '1' })).body).toEqual({});
      const nf = versionNotFound(name, 1);
      expectError(await c.del('/model-versions/delete', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.get('/model-versions/get', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.patch('/model-versions/update', { name, version: '1', description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Staging' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.del('/model-versions/delete-tag', { name, version: '1', key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.post('/registered-models/alias', { name, alias: 'a', version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
      expectError(await c.get('/model-versions/get-download-uri', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', nf);
    });

    it('validates the version before the name', async () => {
      expectError(await c.del('/model-versions/delete', { name: 'a/b', version: 'x' }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'x'.");
    });
  });

  describe('set-tag / delete-tag', () => {
    it('upserts and deletes version tags; a missing key is a no-op', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expect((await c.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' })).body).toEqual({});
      await c.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'w' });
      await c.post('/model-versions/set-tag', { name, version: '1', key: 'e' });
      expect((await c.getVersion(name, 1)).tags).toEqual(expect.arrayContaining([{ key: 'k', value: 'w' }, { key: 'e', value: '' }]));
      expect((await c.del('/model-versions/delete-tag', { name, version: '1', key: 'k' })).body).toEqual({});
      expect((await c.del('/model-versions/delete-tag', { name, version: '1', key: 'missing' })).status).toBe(200);
      expect((await c.del('/model-versions/delete-tag', { name, version: '1', key: 'k'.repeat(300) })).status).toBe(200);
      expect((await c.getVersion(name, 1)).tags).toEqual([{ key: 'e', value: '' }]);
    });

    it('validates name, version and key, then answers 404 for unknown versions', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expectError(await c.post('/model-versions/set-tag', { name, version: 'x', key: 'k' }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'x'.");
      expectError(await c.post('/model-versions/set-tag', { name, version: 1, key: 'k' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('version', '1', 'int'));
      expectError(await c.post('/model-versions/set-tag', { name, version: '1' }), 400, 'INVALID_PARAMETER_VALUE', missing('key'));
      expectError(await c.post('/model-versions/set-tag', { name, version: '9', key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
      expectError(await c.del('/model-versions/delete-tag', { name, version: '9', key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
    });
  });
});
