/**
 * Reference §1.2–§1.4 and §4.0: how requests are read (query string vs JSON body, repeated
 * parameters, numeric strings, unknown fields, proto2 defaults, Content-Type rules, double-encoded
 * bodies, bool parsing, ParseDict's camelCase names and partial parses), routing under both
 * prefixes, and the error envelope. Expectations were checked against MLflow 3.17.2.
 */
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/server.js';
import { API, Client, expectError, invalidValue, missing, sleep, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

describe.each(backends())('request parsing (%s)', (backend) => {
  const c = useServer(backend);

  const json = { 'content-type': 'application/json' };

  describe('GET parameters', () => {
    it('reads GET parameters from the query string', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.get('/registered-models/get', { name });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.name).toBe(name);
    });

    it('takes the first occurrence of a repeated scalar parameter', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.raw('GET', `${API}/registered-models/get?name=${name}&name=other`);
      expect(r.body.registered_model.name).toBe(name);
    });

    it('reads a repeated field given once as a one-element list, and repeated keys as a list', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.createVersion(name);
      await c.transition(name, 2, 'Staging');
      let r = await c.get('/registered-models/get-latest-versions', { name, stages: ['Staging'] });
      expect(r.body.model_versions.map((v: any) => v.version)).toEqual(['2']);
      r = await c.get('/registered-models/get-latest-versions', { name, stages: ['Staging', 'None'] });
      expect(r.body.model_versions.map((v: any) => v.version).sort()).toEqual(['1', '2']);
      // order_by given once and twice
      const prefix = uniq('ob');
      for (const n of ['b', 'a', 'c']) {
        await c.createModel(`${prefix}-${n}`);
        await sleep(3);
      }
      let body = await c.searchModels({ filter: `name LIKE '${prefix}-%'`, order_by: 'name DESC' });
      expect(body.registered_models.map((m: any) => m.name)).toEqual([`${prefix}-c`, `${prefix}-b`, `${prefix}-a`]);
      body = await c.searchModels({ filter: `name LIKE '${prefix}-%'`, order_by: ['timestamp DESC', 'name ASC'] });
      expect(body.registered_models.map((m: any) => m.name)).toEqual([`${prefix}-c`, `${prefix}-a`, `${prefix}-b`]);
    });

    it('accepts numeric strings for int64 fields, in Python int() syntax', async () => {
      const prefix = uniq('num');
      for (let i = 0; i < 12; i++) await c.createModel(`${prefix}-${String(i).padStart(2, '0')}`);
      const filter = `name LIKE '${prefix}-%'`;
      expect((await c.searchModels({ filter, max_results: '3' })).registered_models).toHaveLength(3);
      expect((await c.searchModels({ filter, max_results: '+2' })).registered_models).toHaveLength(2);
      expect((await c.searchModels({ filter, max_results: '1_0' })).registered_models).toHaveLength(10);
    });

    it('leaves a value that protobuf cannot parse unset (" 3" has a space): the default applies', async () => {
      const prefix = uniq('sp');
      for (let i = 0; i < 5; i++) await c.createModel(`${prefix}-${i}`);
      const body = await c.searchModels({ filter: `name LIKE '${prefix}-%'`, max_results: ' 3' });
      expect(body.registered_models).toHaveLength(5);
      expect(body.next_page_token).toBeUndefined();
    });

    it('rejects a non-integer max_results with the handler message (value shown as a JSON string)', async () => {
      for (const v of ['abc', '1.5']) {
        expectError(await c.get('/registered-models/search', { max_results: v }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('max_results', `"${v}"`, 'str'));
      }
    });

    it('ignores query keys that are not fields of the request', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.get('/registered-models/get', { name, unknown: 'x', newName: 'y' });
      expect(r.status).toBe(200);
      expectError(await c.get('/registered-models/get', { foo: 'bar' }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });

    it('reads a GET without query string from its JSON body (also double-encoded)', async () => {
      const name = uniq();
      await c.createModel(name);
      let r = await c.rawHttp('GET', `${API}/registered-models/get`, JSON.stringify({ name }), json);
      expect(r.status).toBe(200);
      expect(r.body.registered_model.name).toBe(name);
      r = await c.rawHttp('GET', `${API}/registered-models/get`, JSON.stringify(JSON.stringify({ name })));
      expect(r.status).toBe(200);
      expectError(await c.raw('GET', `${API}/registered-models/get`), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });
  });

  describe('JSON bodies', () => {
    it('ignores unknown fields', async () => {
      const name = uniq();
      const r = await c.post('/registered-models/create', { name, unknown: 1, nested: { a: 1 }, tags: [{ key: 'k', value: 'v', extra: true }] });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.tags).toEqual([{ key: 'k', value: 'v' }]);
    });

    it('reads missing fields as proto2 defaults ("" strings, false bools)', async () => {
      const name = uniq();
      await c.createModel(name);
      // A tag without value is stored with value "".
      expect((await c.post('/registered-models/set-tag', { name, key: 'k' })).status).toBe(200);
      expect((await c.getModel(name)).tags).toEqual([{ key: 'k', value: '' }]);
      // A version created without run_id, run_link, description stores "".
      const mv = await c.createVersion(name);
      expect(mv).toMatchObject({ run_id: '', run_link: '', description: '' });
      // archive_existing_versions missing means false.
      await c.createVersion(name);
      await c.transition(name, 1, 'Production');
      await c.transition(name, 2, 'Production');
      expect((await c.getVersion(name, 1)).current_stage).toBe('Production');
    });

    it('treats JSON null as unset', async () => {
      const name = uniq();
      await c.createModel(name);
      expect((await c.post('/registered-models/set-tag', { name, key: 'k', value: null })).status).toBe(200);
      expect((await c.getModel(name)).tags).toEqual([{ key: 'k', value: '' }]);
      expectError(await c.post('/registered-models/create', { name: null }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });

    it('accepts numbers for string fields only where ParseDict does (never): handler type message', async () => {
      expectError(await c.post('/registered-models/create', { name: 123 }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('name', '123', 'int'));
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expectError(
        await c.post('/model-versions/transition-stage', { name, version: 1, stage: 'Staging' }),
        400,
        'INVALID_PARAMETER_VALUE',
        invalidValue('version', '1', 'int'),
      );
      expectError(await c.post('/registered-models/create', { name: uniq(), tags: 'x' }), 400, 'INVALID_PARAMETER_VALUE', invalidValue('tags', '"x"', 'str'));
      expectError(
        await c.post('/registered-models/get-latest-versions', { name, stages: ['Staging', null] }),
        400,
        'INVALID_PARAMETER_VALUE',
        invalidValue('stages', '["Staging",null]', 'list'),
      );
    });

    it('accepts JSON numbers and numeric strings for int64 fields', async () => {
      const prefix = uniq('n');
      for (let i = 0; i < 3; i++) await c.createModel(`${prefix}-${i}`);
      const filter = `name LIKE '${prefix}-%'`;
      for (const max_results of [1, '1']) {
        const r = await c.rawHttp('GET', `${API}/registered-models/search`, JSON.stringify({ filter, max_results }));
        expect(r.body.registered_models).toHaveLength(1);
        expect(r.body.next_page_token).toBeDefined();
      }
    });

    it('parses bools only as JSON true/false in a body', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      expectError(
        await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Staging', archive_existing_versions: 'true' }),
        400,
        'INVALID_PARAMETER_VALUE',
        invalidValue('archive_existing_versions', '"true"', 'str'),
      );
      expectError(
        await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Staging', archive_existing_versions: 1 }),
        400,
        'INVALID_PARAMETER_VALUE',
        invalidValue('archive_existing_versions', '1', 'int'),
      );
      expect((await c.post('/model-versions/transition-stage', { name, version: '1', stage: 'Staging', archive_existing_versions: true })).status).toBe(200);
    });

    it('reads fields by their JSON (lowerCamelCase) names too, and refuses both spellings at once', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.createVersion(name);
      await c.transition(name, 1, 'Production');
      const r = await c.post('/model-versions/transition-stage', { name, version: '2', stage: 'Production', archiveExistingVersions: true });
      expect(r.status).toBe(200);
      expect((await c.getVersion(name, 1)).current_stage).toBe('Archived');
      // The handler's required check looks at the proto name only.
      expectError(await c.post('/registered-models/rename', { name, newName: 'x' }), 400, 'INVALID_PARAMETER_VALUE', missing('new_name'));
      expectError(
        await c.post('/registered-models/rename', { name, new_name: uniq(), newName: uniq() }),
        400,
        'INVALID_PARAMETER_VALUE',
        "Request specifies both 'new_name' and 'newName'; provide only one of them.",
      );
    });

    it('keeps what ParseDict set before a bad value, in the order the body lists its keys', async () => {
      // A tag value of the wrong type: the tag keeps its key, value "" (ParseDict stopped there).
      const name = uniq();
      let r = await c.post('/registered-models/create', { name, tags: [{ key: 'a', value: '1' }, { key: 'b', value: 2 }, { key: 'c', value: '3' }] });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.tags).toEqual([
        { key: 'a', value: '1' },
        { key: 'b', value: '' },
      ]);
      // The same bad tag before the name: the name stays unset and the store reports it missing.
      r = await c.post('/registered-models/create', { tags: [{ key: 'k', value: 5 }], name: uniq() });
      expectError(r, 400, 'INVALID_PARAMETER_VALUE', "Missing value for required parameter 'name'.");
    });
  });

  describe('Content-Type', () => {
    it('requires application/json on POST, with MLflow messages', async () => {
      const body = JSON.stringify({ name: uniq() });
      expectError(
        await c.rawHttp('POST', `${API}/registered-models/create`, body),
        400,
        'INVALID_PARAMETER_VALUE',
        'Bad Request. Content-Type header is missing.',
      );
      for (const type of ['text/plain', 'Application/JSON', 'application/json ; charset=utf-8', '']) {
        expectError(
          await c.rawHttp('POST', `${API}/registered-models/create`, body, { 'content-type': type }),
          400,
          'INVALID_PARAMETER_VALUE',
          "Bad Request. Content-Type must be one of ['application/json'].",
        );
      }
    });

    it('accepts parameters after the media type', async () => {
      const r = await c.raw('POST', `${API}/registered-models/create`, {
        body: JSON.stringify({ name: uniq() }),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(r.status).toBe(200);
    });

    it('reads DELETE and PATCH bodies whatever the Content-Type', async () => {
      const name = uniq();
      await c.createModel(name);
      let r = await c.raw('PATCH', `${API}/registered-models/update`, { body: JSON.stringify({ name, description: 'd' }) });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.description).toBe('d');
      r = await c.raw('DELETE', `${API}/registered-models/delete`, { body: JSON.stringify({ name }), headers: { 'content-type': 'text/plain' } });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({});
    });

    it('ignores the query string of a DELETE', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.raw('DELETE', `${API}/registered-models/delete?name=${name}`), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });
  });

  describe('body decoding', () => {
    it('decodes a double-encoded JSON body', async () => {
      const name = uniq();
      const r = await c.raw('POST', `${API}/registered-models/create`, { body: JSON.stringify(JSON.stringify({ name })), headers: json });
      expect(r.status).toBe(200);
      expect(r.body.registered_model.name).toBe(name);
    });

    it('reads invalid JSON as an empty request', async () => {
      expectError(await c.raw('POST', `${API}/registered-models/create`, { body: '{not json', headers: json }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
      expectError(await c.raw('POST', `${API}/registered-models/create`, { body: '', headers: json }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
    });

    it('answers 400 (MLflow: HTML 500) for a non-object JSON body or a double-encoded non-JSON string', async () => {
      expectError(await c.raw('POST', `${API}/registered-models/create`, { body: '[1,2]', headers: json }), 400, 'INVALID_PARAMETER_VALUE', missing('name'));
      expectError(await c.raw('POST', `${API}/registered-models/create`, { body: '"not json"', headers: json }), 400, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('responses and routing', () => {
    it('answers 200 application/json, {} for empty responses', async () => {
      const name = uniq();
      await c.createModel(name);
      const r = await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v' });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body).toEqual({});
      expect(await c.searchModels({ filter: `name = '${uniq()}'` })).toEqual({});
    });

    it('serves every operation under /ajax-api/2.0 too', async () => {
      const ajax = new Client(c.s, '/ajax-api/2.0/mlflow');
      const name = uniq();
      expect((await ajax.post('/registered-models/create', { name })).status).toBe(200);
      expect((await ajax.createVersion(name)).version).toBe('1');
      expect((await c.getVersion(name, 1)).name).toBe(name);
      expect((await ajax.get('/registered-models/get', { name })).body.registered_model.latest_versions).toHaveLength(1);
      expect((await ajax.searchVersions({ filter: `name = '${name}'` })).length).toBe(1);
      expect((await ajax.del('/registered-models/delete', { name })).status).toBe(200);
      expectError(await ajax.get('/registered-models/get', { name }), 404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
    });

    it('serves get-latest-versions on POST and GET', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      const post = await c.post('/registered-models/get-latest-versions', { name });
      const get = await c.get('/registered-models/get-latest-versions', { name });
      expect(post.status).toBe(200);
      expect(get.body).toEqual(post.body);
    });

    it('answers a wrong method with 405 and an unknown path with 404', async () => {
      const r = await c.raw('PUT', `${API}/registered-models/create`, { body: '{}', headers: json });
      expect(r.status).toBe(405);
      expect((await c.raw('GET', `${API}/registered-models/nope`)).status).toBe(404);
      expect((await c.raw('GET', '/api/2.0/preview/mlflow/registered-models/search')).status).toBe(404);
    });

    it('renders errors as {error_code, message} with MLflow statuses', async () => {
      const name = uniq();
      const notFound = await c.get('/registered-models/get', { name });
      expectError(notFound, 404, 'RESOURCE_DOES_NOT_EXIST', `Registered Model with name=${name} not found`);
      await c.createModel(name);
      expectError(await c.post('/registered-models/create', { name }), 400, 'RESOURCE_ALREADY_EXISTS', `Registered Model (name=${name}) already exists.`);
      expectError(await c.get('/model-versions/get', { name, version: 'x' }), 400, 'INVALID_PARAMETER_VALUE', "Parameter 'version' must be an integer, got 'x'.");
    });
  });
});
