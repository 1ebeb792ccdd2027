/**
 * Reference §4.1: the registered-model endpoints (create, rename, update, delete, get,
 * get-latest-versions, set/delete tag, set/delete/get alias), including their error cases and
 * MLflow 3.17.2's exact messages.
 */
import { describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, invalidValue, missing, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const notFound = (name: string) => `Registered Model with name=${name} not found`;
const versionNotFound = (name: string, v: string | number) => `Model Version (name=${name}, version=${v}) not found`;

describe.each(backendsWithS3())('registered models (%s)', (backend) => {
  const c = useServer(backend);

  describe('create', () => {
    it('creates with tags and description; creation = last update', async () => {
      const name = uniq();
      const rm = await c.createModel(name, { description: 'd', tags: [{ key: 'a', value: '1' }] });
      expect(rm).toEqual({
        name,
        creation_timestamp: rm.creation_timestamp,
        last_updated_timestamp: rm.creation_timestamp,
        description: 'd',
        tags: [{ key: 'a', value: '1' }],
      });
    });

    it('refuses an existing name with 400 RESOURCE_ALREADY_EXISTS', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.post('/registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
    });

    it('requires a name', async () => {
      expectError(await c.post('/registered-models/create', {}), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
      expectError(await c.post('/registered-models/create', { name: '' }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
      // blank after strip(): the store's message, without the API-docs suffix
      expectError(await c.post('/registered-models/create', { name: '  ' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'name'.");
    });

    it('validates the tags it is given', async () => {
      expectError(
        await c.post('/registered-models/create', { name: uniq(), tags: [{ key: 'bad key!', value: 'v' }] }),
        400,
        'INVALID_PARAMETER_VALUE',
        'Invalid value "bad key!" for parameter \'key\' supplied: Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).',
      );
    });

    it('reports a name longer than the column as BAD_REQUEST', async () => {
      const r = await c.post('/registered-models/create', { name: 'n'.repeat(300) });
      expectError(r, 400, 'BAD_REQUEST', /value too long/);
    });
  });

  describe('get', () => {
    it('answers 404 for an unknown model', async () => {
      const name = uniq();
      expectError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
    });

    it('validates the name before looking it up', async () => {
      expectError(await c.get('/registered-models/get', { name: 'a/b' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid model name 'a/b'. Names cannot contain '/' or ':'.");
      expectError(await c.get('/registered-models/get', {}), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });
  });

  describe('rename', () => {
    it('renames and returns the model under its new name', async () => {
      const name = uniq();
      const newName = uniq();
      await c.createModel(name, { description: 'd' });
      const r = await c.post('/registered-models/rename', { name, new_name: newName });
      expect(r.status).toBe(200);
      expect(r.body.registered_model).toMatchObject({ name: newName, description: 'd' });
      expectError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
    });

    it('allows renaming a model to its own name', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.post('/registered-models/rename', { name, new_name: name });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.name).toBe(name);
    });

    it('answers 404 for an unknown model and 400 for a taken name', async () => {
      const name = uniq();
      const other = uniq();
      expectError(await c.post('/registered-models/rename', { name, new_name: uniq() }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
      await c.createModel(name);
      await c.createModel(other);
      expectError(
        await c.post('/registered-models/rename', { name, new_name: other }),
        400,
        'RESOURCE_ALREADY_EXISTS',
        new RegExp(`^Registered Model \\(name=${other}\\) already exists\\. Error: `),
      );
    });

    it('requires new_name', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.post('/registered-models/rename', { name }), 400, 'INVALID_PARAMETER_VALUE', missing('new_name'));
      expectError(await c.post('/registered-models/rename', { name, new_name: '' }), 400, 'INVALID_PARAMETER_VALUE', missing('new_name'));
      expectError(await c.post('/registered-models/rename', { name, new_name: ' ' }), 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'new_name'.");
      expectError(await c.post('/registered-models/rename', { name, new_name: 'x/y' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid model name 'x/y'. Names cannot contain '/' or ':'.");
    });
  });

  describe('update', () => {
    it('overwrites the description; a missing one clears it', async () => {
      const name = uniq();
      await c.createModel(name, { description: 'old' });
      let r = await c.patch('/registered-models/update', { name, description: 'new' });
      expect(r.body.registered_model.description).toBe('new');
      r = await c.patch('/registered-models/update', { name });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.description).toBeUndefined();
    });

    it('answers 404 for an unknown model', async () => {
      const name = uniq();
      expectError(await c.patch('/registered-models/update', { name, description: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
    });

    it('refuses a non-string description', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.patch('/registered-models/update', { name, description: 5 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('description', '5', 'int'));
    });
  });

  describe('delete', () => {
    it('deletes and answers {}, then 404', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.del('/registered-models/delete', { name });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
      expectError(await c.del('/registered-models/delete', { name }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
      expectError(await c.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
    });
  });

  describe('get-latest-versions', () => {
    it('defaults to all four stages and canonicalises stage names case-insensitively', async () => {
      const name = uniq();
      await c.createModel(name);
      for (let i = 0; i < 5; i++) await c.createVersion(name);
      await c.transition(name, 1, 'staging');
      await c.transition(name, 2, 'PRODUCTION');
      await c.transition(name, 3, 'archived');
      let r = await c.post('/registered-models/get-latest-versions', { name });
      expect(r.body.model_versions.map((v: any) => `${v.version}:${v.current_stage}`).sort()).toEqual(['1:Staging', '2:Production', '3:Archived', '5:None']);
      r = await c.post('/registered-models/get-latest-versions', { name, stages: [] });
      expect(r.body.model_versions).toHaveLength(4);
      r = await c.post('/registered-models/get-latest-versions', { name, stages: ['sTaGiNg', 'production'] });
      expect(r.body.model_versions.map((v: any) => v.version).sort()).toEqual(['1', '2']);
      r = await c.get('/registered-models/get-latest-versions', { name, stages: 'none' });
      expect(r.body.model_versions.map((v: any) => v.version)).toEqual(['5']);
    });

    it('answers {} when no version matches', async () => {
      const name = uniq();
      await c.createModel(name);
      expect((await c.post('/registered-models/get-latest-versions', { name })).body).toEqual({});
      await c.createVersion(name);
      expect((await c.post('/registered-models/get-latest-versions', { name, stages: ['Production'] })).body).toEqual({});
    });

    it('rejects an unknown stage and answers 404 for an unknown model', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(
        await c.post('/registered-models/get-latest-versions', { name, stages: ['bogus'] }),
        400,
        'INVALID_PARAMETER_VALUE',
        'Invalid Model Version stage: bogus. Value must be one of None, Staging, Production, Archived.',
      );
      expectError(await c.post('/registered-models/get-latest-versions', { name, stages: 'None' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('stages', '"None"', 'str'));
      const unknown = uniq();
      expectError(await c.post('/registered-models/get-latest-versions', { name: unknown, stages: ['bogus'] }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
    });
  });

  describe('set-tag / delete-tag', () => {
    it('upserts a tag; value may be missing or empty', async () => {
      const name = uniq();
      await c.createModel(name);
      expect((await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v1' })).body).toEqual({});
      await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v2' });
      await c.post('/registered-models/set-tag', { name, key: 'e' });
      expect((await c.getModel(name)).tags).toEqual(expect.arrayContaining([{ key: 'k', value: 'v2' }, { key: 'e', value: '' }]));
      expect((await c.getModel(name)).tags).toHaveLength(2);
    });

    it('requires key and an existing model', async () => {
      const name = uniq();
      expectError(await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(name));
      await c.createModel(name);
      expectError(await c.post('/registered-models/set-tag', { name, value: 'v' }), 400, 'INVALID_PARAMETER_VALUE', missing('key'));
    });

    it('deletes a tag; a missing key is a silent no-op; the model must exist', async () => {
      const name = uniq();
      await c.createModel(name, { tags: [{ key: 'k', value: 'v' }, { key: 'j', value: 'w' }] });
      expect((await c.del('/registered-models/delete-tag', { name, key: 'k' })).body).toEqual({});
      expect((await c.getModel(name)).tags).toEqual([{ key: 'j', value: 'w' }]);
      expect((await c.del('/registered-models/delete-tag', { name, key: 'missing' })).status).toBe(200);
      const unknown = uniq();
      expectError(await c.del('/registered-models/delete-tag', { name: unknown, key: 'k' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
    });

    it('checks the key on delete with the name rules only (no length limit)', async () => {
      const name = uniq();
      await c.createModel(name);
      expect((await c.del('/registered-models/delete-tag', { name, key: 'k'.repeat(300) })).status).toBe(200);
      expectError(
        await c.del('/registered-models/delete-tag', { name, key: 'a//b' }),
        400,
        'INVALID_PARAMETER_VALUE',
        'Invalid value "a//b" for parameter \'key\' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to \'a/b\'',
      );
    });
  });

  describe('aliases', () => {
    it('sets, moves and reads an alias', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.createVersion(name);
      expect((await c.post('/registered-models/alias', { name, alias: 'champ', version: '1' })).body).toEqual({});
      expect((await c.get('/registered-models/alias', { name, alias: 'champ' })).body.model_version.version).toBe('1');
      await c.setAlias(name, 'champ', 2);
      const r = await c.get('/registered-models/alias', { name, alias: 'champ' });
      expect(r.body.model_version).toMatchObject({ name, version: '2', aliases: ['champ'] });
      expect((await c.getVersion(name, 1)).aliases).toBeUndefined();
      expect((await c.getModel(name)).aliases).toEqual([{ alias: 'champ', version: '2' }]);
    });

    it('lets a version carry several aliases', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.setAlias(name, 'b', 1);
      await c.setAlias(name, 'a', 1);
      expect((await c.getVersion(name, 1)).aliases).toEqual(['a', 'b']);
    });

    it('validates set alias in MLflow order, with its messages', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      const set = (alias: unknown, version: unknown = '1') => c.post('/registered-models/alias', { name, alias, version });
      expectError(await set(''), 400, 'INVALID_PARAMETER_VALUE', missing('alias'));
      expectError(await set('a b'), 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
      expectError(await set('a'.repeat(256)), 400, 'INVALID_PARAMETER_VALUE', "'Registered model alias name' exceeds the maximum length of 255 characters");
      expectError(await set('LaTeSt'), 400, 'INVALID_PARAMETER_VALUE', "'latest' alias name (case insensitive) is reserved.");
      expectError(await set('V12'), 400, 'INVALID_PARAMETER_VALUE', "Version alias name 'V12' is reserved.");
      expect((await set('v1x')).status).toBe(200);
      expect((await set('a'.repeat(255))).status).toBe(200);
      expectError(await set('ok', 'x'), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'x'.");
      expectError(await set('ok', 2), 400, 'INVALID_PARAMETER_VALUE', invalidValue('version', '2', 'int'));
      expectError(await set('ok', '9'), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(name, 9));
      expectError(await c.post('/registered-models/alias', { name, alias: 'ok' }), 400, 'INVALID_PARAMETER_VALUE', missing('version'));
      const unknown = uniq();
      expectError(await c.post('/registered-models/alias', { name: unknown, alias: 'ok', version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', versionNotFound(unknown, 1));
    });

    it('deletes an alias; a missing alias is a no-op; reserved names pass the delete checks', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.setAlias(name, 'x', 1);
      expect((await c.del('/registered-models/alias', { name, alias: 'x' })).body).toEqual({});
      expect((await c.getModel(name)).aliases).toBeUndefined();
      expect((await c.del('/registered-models/alias', { name, alias: 'x' })).status).toBe(200);
      expect((await c.del('/registered-models/alias', { name, alias: 'latest' })).status).toBe(200);
      expectError(await c.del('/registered-models/alias', { name, alias: 'bad alias' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'bad alias'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
      expectError(await c.del('/registered-models/alias', { name }), 400, 'INVALID_PARAMETER_VALUE', missing('alias'));
      const unknown = uniq();
      expectError(await c.del('/registered-models/alias', { name: unknown, alias: 'x' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
    });

    it('get alias: unknown alias 400, unknown model 404 (model checked first), bad alias name 400', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.get('/registered-models/alias', { name, alias: 'nope' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias nope not found.');
      expectError(await c.get('/registered-models/alias', { name, alias: 'v1' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias v1 not found.');
      const unknown = uniq();
      expectError(await c.get('/registered-models/alias', { name: unknown, alias: 'champ' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
      expectError(await c.get('/registered-models/alias', { name: unknown, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST', notFound(unknown));
      expectError(await c.get('/registered-models/alias', { name, alias: 'bad alias' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid alias name: 'bad alias'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
      expectError(await c.get('/registered-models/alias', { name }), 400, 'INVALID_PARAMETER_VALUE', missing('alias'));
    });
  });
});
