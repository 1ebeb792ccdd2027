/**
 * Reference §2 (JSON conventions and what each entity emits), §7.5 (latest_versions per stage)
 * and §7.6 (where ModelVersion aliases are filled in). Checked against MLflow 3.17.2.
 */
import { describe, expect, it } from 'vitest';
import { backends } from '../helpers/server.js';
import { uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const byVersion = (a: any, b: any) => Number(a.version) - Number(b.version);

describe.each(backends())('responses (%s)', (backend) => {
  const c = useServer(backend);

  describe('RegisteredModel', () => {
    it('emits name and numeric timestamps; omits an empty description, tags, aliases and latest_versions', async () => {
      const name = uniq();
      const rm = await c.createModel(name, { description: '' });
      expect(Object.keys(rm).sort()).toEqual(['creation_timestamp', 'last_updated_timestamp', 'name']);
      expect(typeof rm.creation_timestamp).toBe('number');
      expect(rm.last_updated_timestamp).toBe(rm.creation_timestamp);
      expect(await c.getModel(name)).toEqual(rm);
    });

    it('emits description, tags (including the prompt marker) and aliases as {alias, version}', async () => {
      const name = uniq();
      const created = await c.createModel(name, { description: 'my model', tags: [{ key: 'team', value: 'ml' }, { key: 'empty', value: '' }] });
      expect(created.description).toBe('my model');
      // The create response lists tags in request order; a duplicate key keeps its last value.
      expect(created.tags).toEqual([
        { key: 'team', value: 'ml' },
        { key: 'empty', value: '' },
      ]);
      await c.createVersion(name);
      await c.setAlias(name, 'champion', 1);
      const rm = await c.getModel(name);
      expect(rm.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'ml' }, { key: 'empty', value: '' }]));
      expect(rm.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    });

    it('collapses duplicate tag keys, the last value winning', async () => {
      const name = uniq();
      const rm = await c.createModel(name, { tags: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] });
      expect(rm.tags).toEqual([{ key: 'k', value: '2' }]);
      expect((await c.getModel(name)).tags).toEqual([{ key: 'k', value: '2' }]);
    });

    it('omits the description after an update that clears it', async () => {
      const name = uniq();
      await c.createModel(name, { description: 'd' });
      const r = await c.patch('/registered-models/update', { name });
      expect(r.body.registered_model.description).toBeUndefined();
      expect((await c.getModel(name)).description).toBeUndefined();
    });
  });

  describe('ModelVersion', () => {
    it('always emits status and current_stage; version as a string; run_id, run_link and description "" when not sent', async () => {
      const name = uniq();
      await c.createModel(name);
      const mv = await c.createVersion(name, { source: 's3://b/p' });
      expect(mv).toEqual({
        name,
        version: '1',
        creation_timestamp: mv.creation_timestamp,
        last_updated_timestamp: mv.creation_timestamp,
        description: '',
        current_stage: 'None',
        source: 's3://b/p',
        run_id: '',
        run_link: '',
        status: 'READY',
      });
      expect(typeof mv.creation_timestamp).toBe('number');
      expect(await c.getVersion(name, 1)).toEqual(mv);
    });

    it('never emits user_id, status_message, model_id, model_params, model_metrics or deployment_job_state', async () => {
      const name = uniq();
      await c.createModel(name);
      const mv = await c.createVersion(name, { run_id: 'abc', description: 'd', run_link: 'http://x', tags: [{ key: 'k', value: 'v' }] });
      for (const k of ['user_id', 'status_message', 'model_id', 'model_params', 'model_metrics', 'deployment_job_state']) expect(mv).not.toHaveProperty(k);
      expect(mv).toMatchObject({ run_id: 'abc', description: 'd', run_link: 'http://x', tags: [{ key: 'k', value: 'v' }] });
    });

    it('omits the description after an update without one (null), keeps "" when set to ""', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name, { description: 'x' });
      let r = await c.patch('/model-versions/update', { name, version: '1' });
      expect(r.body.model_version).not.toHaveProperty('description');
      expect(await c.getVersion(name, 1)).not.toHaveProperty('description');
      r = await c.patch('/model-versions/update', { name, version: '1', description: '' });
      expect(r.body.model_version.description).toBe('');
    });
  });

  describe('latest_versions (§7.5)', () => {
    it('lists the highest live version of each stage, with tags and without aliases, equal to get minus aliases', async () => {
      const name = uniq();
      await c.createModel(name);
      for (let i = 1; i <= 6; i++) await c.createVersion(name, { source: `s3://b/${i}`, tags: [{ key: 'i', value: String(i) }] });
      await c.transition(name, 1, 'Staging');
      await c.transition(name, 2, 'Staging');
      await c.transition(name, 3, 'Production');
      await c.transition(name, 4, 'Archived');
      // 5 and 6 stay in None; 6 is then deleted, so None's latest is 5.
      expect((await c.del('/model-versions/delete', { name, version: '6' })).status).toBe(200);
      await c.setAlias(name, 'champ', 5);
      const rm = await c.getModel(name);
      const latest = [...rm.latest_versions].sort(byVersion);
      expect(latest.map((v: any) => [v.version, v.current_stage])).toEqual([
        ['2', 'Staging'],
        ['3', 'Production'],
        ['4', 'Archived'],
        ['5', 'None'],
      ]);
      for (const v of latest) {
        expect(v).not.toHaveProperty('aliases');
        const { aliases: _aliases, ...got } = await c.getVersion(name, v.version);
        expect(v).toEqual(got);
      }
      // the same in search results
      const found = (await c.searchModels({ filter: `name = '${name}'` })).registered_models[0];
      expect([...found.latest_versions].sort(byVersion)).toEqual(latest);
      expect(found.aliases).toEqual([{ alias: 'champ', version: '5' }]);
    });

    it('is omitted when every version is deleted', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.del('/model-versions/delete', { name, version: '1' });
      expect(await c.getModel(name)).not.toHaveProperty('latest_versions');
    });
  });

  describe('aliases on ModelVersion (§7.6)', () => {
    it('are filled by get, get-by-alias, update, transition and get-latest-versions (sorted strings)', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.setAlias(name, 'zeta', 1);
      await c.setAlias(name, 'alpha', 1);
      const expected = ['alpha', 'zeta'];
      expect((await c.getVersion(name, 1)).aliases).toEqual(expected);
      expect((await c.get('/registered-models/alias', { name, alias: 'zeta' })).body.model_version.aliases).toEqual(expected);
      expect((await c.get('/registered-models/alias', { name, alias: 'latest' })).body.model_version.aliases).toEqual(expected);
      expect((await c.patch('/model-versions/update', { name, version: '1', description: 'd' })).body.model_version.aliases).toEqual(expected);
      expect((await c.transition(name, 1, 'Staging')).aliases).toEqual(expected);
      expect((await c.post('/registered-models/get-latest-versions', { name })).body.model_versions[0].aliases).toEqual(expected);
    });

    it('are never filled in search results or latest_versions; create has none yet', async () => {
      const name = uniq();
      await c.createModel(name);
      const created = await c.createVersion(name);
      expect(created).not.toHaveProperty('aliases');
      await c.setAlias(name, 'a', 1);
      const found = await c.searchVersions({ filter: `name = '${name}'` });
      expect(found).toHaveLength(1);
      expect(found[0]).not.toHaveProperty('aliases');
      expect((await c.getModel(name)).latest_versions[0]).not.toHaveProperty('aliases');
    });
  });

  it('emits empty repeated fields nowhere and int64 as JSON numbers everywhere', async () => {
    const name = uniq();
    await c.createModel(name);
    await c.createVersion(name);
    const r = await c.get('/registered-models/search', { filter: `name = '${name}'` });
    expect(r.text).not.toMatch(/"(tags|aliases|latest_versions|model_versions)":\s*\[\]/);
    expect(r.text).not.toMatch(/"(creation|last_updated)_timestamp":\s*"/);
    expect(typeof r.body.registered_models[0].latest_versions[0].creation_timestamp).toBe('number');
  });
});
