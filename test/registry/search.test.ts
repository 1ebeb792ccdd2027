/**
 * Reference §6: the filter grammar of both searches (name, tags with backticks or quotes, run_id
 * incl. IN, source_path, version_number; =, !=, case-sensitive LIKE, ILIKE), malformed filters,
 * order_by defaults, tie-breakers and errors, page tokens (opaque, validated, garbage refused) and
 * walking every page with small max_results. Deleted versions never appear.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, sleep, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

/** MLflow prints Python sets in hash order: accept any order of the given keys. */
const pySet = (keys: string[]) => `\\{${keys.map(() => `'(?:${keys.join('|')})'`).join(', ')}\\}`;

describe.each(backendsWithS3())('search (%s)', (backend) => {
  const c = useServer(backend);

  const rmNames = async (filter: string, extra: Record<string, any> = {}) =>
    ((await c.searchModels({ filter, ...extra })).registered_models ?? []).map((m: any) => m.name);
  const mvKeys = async (filter: string, extra: Record<string, any> = {}) =>
    (await c.searchVersions({ filter, ...extra })).map((v: any) => `${v.name.split('-').pop()}/${v.version}`);

  describe('registered models: filters', () => {
    let p: string;
    beforeAll(async () => {
      p = uniq('rmf');
      await c.createModel(`${p}-Alpha`, { tags: [{ key: 'team', value: 'red' }, { key: 'my key', value: 'v' }, { key: 'a.b', value: 'x' }] });
      await c.createModel(`${p}-beta`, { tags: [{ key: 'team', value: 'blue' }] });
      await c.createModel(`${p}-gamma`, { tags: [{ key: 'team', value: 'Red' }] });
      await c.createModel(`${p}_delta`);
    });

    it('name =, !=, LIKE (case-sensitive), ILIKE; no implicit wildcards', async () => {
      expect(await rmNames(`name = '${p}-beta'`)).toEqual([`${p}-beta`]);
      expect(await rmNames(`name LIKE '${p}%' AND name != '${p}-beta'`)).toEqual([`${p}-Alpha`, `${p}-gamma`, `${p}_delta`]);
      expect(await rmNames(`name LIKE '${p}-%'`)).toEqual([`${p}-Alpha`, `${p}-beta`, `${p}-gamma`]);
      expect(await rmNames(`name LIKE '${p}-a%'`)).toEqual([]);
      expect(await rmNames(`name ILIKE '${p.toUpperCase()}-A%'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`name LIKE '${p}_delta'`)).toEqual([`${p}_delta`]);
      expect(await rmNames(`name = '${p}'`)).toEqual([]);
      expect(await rmNames(`name = "${p}-beta"`)).toEqual([`${p}-beta`]);
      expect(await rmNames(`attribute.name = '${p}-beta'`)).toEqual([`${p}-beta`]);
      expect(await rmNames(`name IN ('${p}-beta', '${p}-gamma')`)).toEqual([`${p}-beta`, `${p}-gamma`]);
    });

    it('tags: =, !=, LIKE, ILIKE; keys in backticks or double quotes; tag/tags prefixes; AND across keys', async () => {
      expect(await rmNames(`tags.team = 'red'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`tags.team ILIKE 'red' AND name LIKE '${p}%'`)).toEqual([`${p}-Alpha`, `${p}-gamma`]);
      expect(await rmNames(`tags.team LIKE 'R%' AND name LIKE '${p}%'`)).toEqual([`${p}-gamma`]);
      expect(await rmNames(`tags.\`my key\` = 'v'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`tags."my key" = 'v'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`tag.\`a.b\` = 'x'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`tags.team = 'red' AND tags.\`a.b\` = 'x'`)).toEqual([`${p}-Alpha`]);
      expect(await rmNames(`tags.team LIKE '%e%' AND tags.team != 'blue' AND name LIKE '${p}%'`)).toEqual([`${p}-Alpha`, `${p}-gamma`]);
    });

    it('a tag condition requires the tag: != does not match models without the key', async () => {
      expect(await rmNames(`tags.team != 'blue' AND name LIKE '${p}%'`)).toEqual([`${p}-Alpha`, `${p}-gamma`]);
    });

    it('rejects malformed filters with MLflow messages', async () => {
      const bad = async (filter: string, message: string | RegExp) => expectError(await c.get('/registered-models/search', { filter }), 400, 'INVALID_PARAMETER_VALUE', message);
      await bad(`name = 'a' OR name = 'b'`, 'Invalid clause(s) in filter string: OR');
      await bad(`NOT name = 'x'`, 'Invalid clause(s) in filter string: NOT');
      await bad(`(name = 'x')`, "Invalid clause(s) in filter string: (name = 'x')");
      await bad('name', 'Invalid clause(s) in filter string: name');
      await bad(`name LIKE 'x';`, 'Invalid clause(s) in filter string: ;');
      await bad(`foo = 'x'`, "Invalid attribute key 'foo' specified. Valid keys are '{'name'}'");
      await bad(`foo.bar = 'x'`, "Invalid entity type 'foo'. Valid entity types are ('attribute', 'tag', 'tags')");
      await bad(`name < 'x'`, 'Invalid comparator for attribute: <');
      await bad(`tags.k < 'a'`, 'Invalid comparator for tag: <');
      await bad('name = x', 'Parameter value is either not quoted or unidentified quote types used for string value x. Use either single or double quotes.');
      await bad(`tags.x IN ('a')`, "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')");
    });
  });

  describe('registered models: order_by and pagination', () => {
    let p: string;
    let names: string[];
    beforeAll(async () => {
      p = uniq('rmo');
      names = ['c', 'a', 'e', 'b', 'd', 'f', 'g'].map((x) => `${p}-${x}`);
      for (const n of names) {
        await c.createModel(n);
        await sleep(3);
      }
    });
    const filter = () => `name LIKE '${p}-%'`;

    it('orders by name ASC by default; by timestamp/last_updated_timestamp with name ASC as tie-breaker', async () => {
      expect(await rmNames(filter())).toEqual([...names].sort());
      expect(await rmNames(filter(), { order_by: 'name DESC' })).toEqual([...names].sort().reverse());
      expect(await rmNames(filter(), { order_by: '`name` desc' })).toEqual([...names].sort().reverse());
      expect(await rmNames(filter(), { order_by: 'timestamp' })).toEqual(names);
      expect(await rmNames(filter(), { order_by: 'last_updated_timestamp DESC' })).toEqual([...names].reverse());
    });

    it('rejects unknown keys, unparsable clauses and duplicates (400; MLflow answers duplicates with 500)', async () => {
      expectError(await c.get('/registered-models/search', { order_by: 'creation_timestamp' }), 400, 'INVALID_PARAMETER_VALUE', new RegExp(`^Invalid order by key 'creation_timestamp' specified\\. Valid keys are '${pySet(['name', 'timestamp'])}'$`));
      expectError(await c.get('/registered-models/search', { order_by: 'name ASC DESC' }), 400, 'INVALID_PARAMETER_VALUE', "Invalid order_by clause 'name ASC DESC'. Could not be parsed.");
      expectError(await c.get('/registered-models/search', { order_by: ['name', 'name'] }), 400, 'INVALID_PARAMETER_VALUE', "`order_by` contains duplicate fields: ['name', 'name']");
      expectError(
        await c.get('/registered-models/search', { order_by: ['timestamp', 'last_updated_timestamp'] }),
        400,
        'INVALID_PARAMETER_VALUE',
        "`order_by` contains duplicate fields: ['timestamp', 'last_updated_timestamp']",
      );
    });

    it('pages with MLflow tokens ({"offset": N}, base64) and walks every page', async () => {
      const first = await c.searchModels({ filter: filter(), max_results: 2 });
      expect(first.registered_models.map((m: any) => m.name)).toEqual([...names].sort().slice(0, 2));
      expect(first.next_page_token).toBe('eyJvZmZzZXQiOiAyfQ==');
      for (const [max, order] of [
        [1, 'name ASC'],
        [3, 'timestamp DESC'],
        [7, 'name DESC'],
      ] as const) {
        const seen: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await c.searchModels({ filter: filter(), max_results: max, order_by: order, page_token: token });
          seen.push(...(page.registered_models ?? []).map((m: any) => m.name));
          token = page.next_page_token;
          pages++;
        } while (token);
        expect(seen).toEqual(await rmNames(filter(), { order_by: order }));
        expect(pages).toBe(Math.ceil(7 / max));
      }
    });

    it('refuses garbage page tokens with 400', async () => {
      const bad = async (page_token: string, message: string) => expectError(await c.get('/registered-models/search', { page_token }), 400, 'INVALID_PARAMETER_VALUE', message);
      await bad('garbage', 'Invalid page token, could not base64-decode');
      await bad('e30=', 'Invalid page token, parsed value={}');
      await bad(Buffer.from('{"offset": 0}').toString('base64'), "Invalid page token, parsed value={'offset': 0}");
      await bad(Buffer.from('{"offset": "a"}').toString('base64'), 'Invalid page token, not stringable a');
      expectError(await c.get('/registered-models/search', { page_token: Buffer.from('null').toString('base64') }), 400, 'INVALID_PARAMETER_VALUE');
    });
  });

  describe('model versions', () => {
    let p: string;
    beforeAll(async () => {
      p = uniq('mvs');
      await c.createModel(`${p}-x`);
      await c.createModel(`${p}-y`);
      await c.createVersion(`${p}-x`, { source: 's3://b/models/one', run_id: 'runa', tags: [{ key: 'stage', value: 'dev' }] });
      await sleep(3);
      await c.createVersion(`${p}-x`, { source: 's3://b/models/two', run_id: 'runb', tags: [{ key: 'stage', value: 'prod' }, { key: 'my.key', value: 'q' }] });
      await sleep(3);
      await c.createVersion(`${p}-y`, { source: 's3://b/other/three', run_id: 'runa' });
      await sleep(3);
      await c.createVersion(`${p}-y`, { source: 's3://b/other/four', run_id: 'runc' });
      await sleep(3);
      await c.createVersion(`${p}-y`, { source: 's3://b/other/five', run_id: 'runa' });
      // y/3 is deleted: never returned
      await c.del('/model-versions/delete', { name: `${p}-y`, version: '3' });
    });
    const all = () => `name LIKE '${p}-%'`;

    it('orders by last_updated_timestamp DESC, name ASC, version_number DESC by default', async () => {
      expect(await mvKeys(all())).toEqual(['y/2', 'y/1', 'x/2', 'x/1']);
    });

    it('filters by name, run_id (incl. IN), source_path and version_number', async () => {
      expect(await mvKeys(`name = '${p}-x'`)).toEqual(['x/2', 'x/1']);
      expect(await mvKeys(`name ILIKE '${p.toUpperCase()}-Y'`)).toEqual(['y/2', 'y/1']);
      expect(await mvKeys(`run_id = 'runa' AND ${all()}`)).toEqual(['y/1', 'x/1']);
      expect(await mvKeys(`run_id IN ('runb', 'runc') AND ${all()}`)).toEqual(['y/2', 'x/2']);
      expect(await mvKeys(`run_id IN ('runa',) AND ${all()}`)).toEqual(['y/1', 'x/1']);
      expect(await mvKeys(`run_id != 'runa' AND ${all()}`)).toEqual(['y/2', 'x/2']);
      expect(await mvKeys(`source_path LIKE 's3://b/models/%' AND ${all()}`)).toEqual(['x/2', 'x/1']);
      expect(await mvKeys(`source_path = 's3://b/other/four' AND ${all()}`)).toEqual(['y/2']);
      expect(await mvKeys(`version_number >= 2 AND ${all()}`)).toEqual(['y/2', 'x/2']);
      expect(await mvKeys(`version_number = 1 AND ${all()}`)).toEqual(['y/1', 'x/1']);
      expect(await mvKeys(`version_number != 1 AND version_number < 3 AND ${all()}`)).toEqual(['y/2', 'x/2']);
      expect(await mvKeys(`version_number > '1' AND ${all()}`)).toEqual(['y/2', 'x/2']);
      expect(await mvKeys(`version_number = 3 AND ${all()}`)).toEqual([]);
    });

    it('filters by version tags, with backticks', async () => {
      expect(await mvKeys(`tags.stage = 'prod' AND ${all()}`)).toEqual(['x/2']);
      expect(await mvKeys(`tags.stage LIKE '%' AND ${all()}`)).toEqual(['x/2', 'x/1']);
      expect(await mvKeys(`tags.\`my.key\` = 'q'`)).toEqual(['x/2']);
      expect(await mvKeys(`tags.stage != 'prod' AND ${all()}`)).toEqual(['x/1']);
    });

    it('never fills aliases and never returns deleted versions', async () => {
      await c.setAlias(`${p}-x`, 'champ', 1);
      const found = await c.searchVersions({ filter: `name = '${p}-x'` });
      for (const v of found) expect(v).not.toHaveProperty('aliases');
      expect(await mvKeys(`name = '${p}-y' AND version_number = 3`)).toEqual([]);
    });

    it('orders by the given keys, appending name ASC and version_number DESC', async () => {
      expect(await mvKeys(all(), { order_by: 'version_number' })).toEqual(['x/1', 'y/1', 'x/2', 'y/2']);
      expect(await mvKeys(all(), { order_by: 'attribute.version_number' })).toEqual(['x/1', 'y/1', 'x/2', 'y/2']);
      expect(await mvKeys(all(), { order_by: 'name DESC' })).toEqual(['y/2', 'y/1', 'x/2', 'x/1']);
      expect(await mvKeys(all(), { order_by: '`version_number` DESC' })).toEqual(['x/2', 'y/2', 'x/1', 'y/1']);
      expect(await mvKeys(all(), { order_by: 'creation_timestamp' })).toEqual(['x/1', 'x/2', 'y/1', 'y/2']);
      expect(await mvKeys(all(), { order_by: ['name', 'version_number ASC'] })).toEqual(['x/1', 'x/2', 'y/1', 'y/2']);
    });

    it('rejects bad order_by clauses and filters with MLflow messages', async () => {
      const bad = async (query: Record<string, any>, message: string | RegExp) => expectError(await c.get('/model-versions/search', query), 400, 'INVALID_PARAMETER_VALUE', message);
      const orderKeys = pySet(['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp']);
      await bad({ order_by: 'run_id' }, new RegExp(`^Invalid attribute key 'run_id' specified\\. Valid keys are '${orderKeys}'$`));
      await bad({ order_by: 'name DESCENDING' }, "Invalid ordering key in order_by clause 'name DESCENDING'.");
      await bad({ order_by: ['name', 'name'] }, "`order_by` contains duplicate fields: ['name', 'name']");
      const filterKeys = pySet(['name', 'version_number', 'run_id', 'source_path']);
      await bad({ filter: `status = 'READY'` }, new RegExp(`^Invalid attribute key 'status' specified\\. Valid keys are '${filterKeys}'$`));
      await bad({ filter: 'last_updated_timestamp > 1' }, new RegExp(`^Invalid attribute key 'last_updated_timestamp' specified\\. Valid keys are '${filterKeys}'$`));
      await bad({ filter: 'version_number = 1.5' }, "Invalid value for numeric attribute 'version_number': 1.5");
      await bad({ filter: `version_number = 'abc'` }, "Invalid value for numeric attribute 'version_number': 'abc'");
      await bad({ filter: `version_number LIKE '1'` }, 'Invalid comparator for attribute version_number: LIKE');
      await bad({ filter: `source_path IN ('x')` }, "Only ['name', 'run_id'] attributes support comparison with a list of quoted string values.");
      await bad({ filter: 'run_id IN ()' }, 'While parsing a list in the query, expected a non-empty list of string values, but got empty list');
      await bad({ filter: 'run_id IN (1,2)' }, 'While parsing a list in the query, expected string value, punctuation, or whitespace, but got different type in list: (1, 2)');
      await bad({ filter: `run_id = 'x' OR name = 'y'` }, 'Invalid clause(s) in filter string: OR');
      await bad({ filter: 'tags.t = 1' }, "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
      await bad({ page_token: 'garbage' }, 'Invalid page token, could not base64-decode');
    });

    it('walks every page with small max_results', async () => {
      const expected = await mvKeys(all());
      for (const max of [1, 2, 3]) {
        const seen: string[] = [];
        let token: string | undefined;
        do {
          const r = await c.get('/model-versions/search', { filter: all(), max_results: max, page_token: token });
          expect(r.status).toBe(200);
          seen.push(...(r.body.model_versions ?? []).map((v: any) => `${v.name.split('-').pop()}/${v.version}`));
          token = r.body.next_page_token;
        } while (token);
        expect(seen).toEqual(expected);
      }
    });
  });
  describe('proto2 defaults of max_results', () => {
    it('returns 100 registered models and a token when max_results is absent; every version when absent for versions', async () => {
      const p = uniq('dflt');
      await Promise.all(Array.from({ length: 101 }, (_, i) => c.createModel(`${p}-${String(i).padStart(3, '0')}`)));
      const rm = await c.searchModels({ filter: `name LIKE '${p}-%'` });
      expect(rm.registered_models).toHaveLength(100);
      expect(rm.next_page_token).toBe(Buffer.from('{"offset": 100}').toString('base64'));
      const name = `${p}-000`;
      for (let i = 0; i < 101; i++) await c.createVersion(name);
      const mv = await c.get('/model-versions/search', { filter: `name = '${name}'` });
      expect(mv.body.model_versions).toHaveLength(101);
      expect(mv.body.next_page_token).toBeUndefined();
    });
  });
});
