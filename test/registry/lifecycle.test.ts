/**
 * Reference §7: version numbering (max+1, soft-deleted versions count), soft delete of versions
 * (hidden everywhere, aliases dropped, tags kept, row redacted), hard cascade delete of models and
 * reuse of the name, rename cascading to versions, tags and aliases, the last_updated_timestamp
 * matrix (§7.4), archive_existing_versions, and `GET alias?alias=latest` (MLflow 3.17.2: the highest
 * live version over all stages).
 */
import { describe, expect, it } from 'vitest';
import { backendsWithS3 } from '../helpers/server.js';
import { expectError, sleep, uniq, useServer } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

describe.each(backendsWithS3())('lifecycle (%s)', (backend) => {
  const c = useServer(backend);

  const sql = <T = any>(text: string, params: unknown[] = []) => c.s.server.db.query<T>(text, params);

  describe('version numbering (§7.1)', () => {
    it('counts soft-deleted versions: deleting v3 of {1,2,3} makes the next version 4', async () => {
      const name = uniq();
      await c.createModel(name);
      for (let i = 0; i < 3; i++) await c.createVersion(name);
      await c.del('/model-versions/delete', { name, version: '3' });
      expect((await c.createVersion(name)).version).toBe('4');
      await c.del('/model-versions/delete', { name, version: '1' });
      expect((await c.createVersion(name)).version).toBe('5');
    });

    it('keeps numbers across a rename and restarts at 1 after the model is deleted', async () => {
      const name = uniq();
      const renamed = uniq();
      await c.createModel(name);
      await c.createVersion(name);
      await c.createVersion(name);
      await c.post('/registered-models/rename', { name, new_name: renamed });
      expect((await c.createVersion(renamed)).version).toBe('3');
      await c.del('/registered-models/delete', { name: renamed });
      await c.createModel(renamed);
      expect((await c.createVersion(renamed)).version).toBe('1');
    });
  });

  describe('soft delete of a version (§7.3)', () => {
    it('hides the version everywhere, drops its aliases, keeps its tags and redacts the row', async () => {
      const name = uniq();
      await c.createModel(name);
      await c.createVersion(name, { source: 's3://b/keep' });
      await c.createVersion(name, { source: 's3://b/secret', run_id: 'r9', run_link: 'l', description: 'd', tags: [{ key: 't', value: 'v' }] });
      await c.transition(name, 2, 'Production');
      await c.setAlias(name, 'gone', 2);
      await c.setAlias(name, 'stays', 1);
      expect((await c.del('/model-versions/delete', { name, version: '2' })).status).toBe(200);

      const rm = await c.getModel(name);
      expect(rm.aliases).toEqual([{ alias: 'stays', version: '1' }]);
      expect(rm.latest_versions.map((v: any) => v.version)).toEqual(['1']);
      expect((await c.post('/registered-models/get-latest-versions', { name, stages: ['Production'] })).body).toEqual({});
      expect((await c.searchVersions({ filter: `name = '${name}'` })).map((v: any) => v.version)).toEqual(['1']);
      expect((await c.searchVersions({ filter: `run_id = 'r9'` })).length).toBe(0);
      expectError(await c.get('/registered-models/alias', { name, alias: 'gone' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias gone not found.');
      expect((await c.get('/registered-models/alias', { name, alias: 'latest' })).body.model_version.version).toBe('1');

      const [row] = await sql(`SELECT current_stage, source, run_id, run_link, description, status FROM model_versions WHERE name = $1 AND version = 2`, [name]);
      expect(row).toEqual({
        current_stage: 'Deleted_Internal',
        source: 'REDACTED-SOURCE-PATH',
        run_id: 'REDACTED-RUN-ID',
        run_link: 'REDACTED-RUN-LINK',
        description: null,
        status: 'READY',
      });
      expect(await sql(`SELECT key, value FROM model_version_tags WHERE name = $1 AND version = 2`, [name])).toEqual([{ key: 't', value: 'v' }]);
    });
  });

  describe('hard delete of a model (§7.3)', () => {
    it('deletes every version (soft-deleted too), tag, version tag and alias; the name can be reused', async () => {
      const name = uniq();
      await c.createModel(name, { tags: [{ key: 'rm', value: '1' }], description: 'old' });
      await c.createVersion(name, { tags: [{ key: 'mv', value: '1' }] });
      await c.createVersion(name);
      await c.setAlias(name, 'a', 1);
      await c.del('/model-versions/delete', { name, version: '2' });
      expect((await c.del('/registered-models/delete', { name })).status).toBe(200);
      for (const table of ['registered_models', 'model_versions', 'registered_model_tags', 'model_version_tags', 'registered_model_aliases']) {
        expect(await sql(`SELECT 1 FROM ${table} WHERE name = $1`, [name]), table).toEqual([]);
      }
      const again = await c.createModel(name);
      expect(again).not.toHaveProperty('tags');
      expect(again).not.toHaveProperty('description');
      expect((await c.createVersion(name)).version).toBe('1');
      expect((await c.getVersion(name, 1)).tags).toBeUndefined();
      expectError(await c.get('/registered-models/alias', { name, alias: 'a' }), 400, 'INVALID_PARAMETER_VALUE', 'Registered model alias a not found.');
    });
  });

  describe('rename cascade (§7.2)', () => {
    it('moves versions, tags, version tags and aliases to the new name', async () => {
      const name = uniq();
      const renamed = uniq();
      await c.createModel(name, { tags: [{ key: 'rm', value: 'x' }] });
      await c.createVersion(name, { tags: [{ key: 'mv', value: 'y' }] });
      await c.createVersion(name);
      await c.del('/model-versions/delete', { name, version: '2' });
      await c.setAlias(name, 'champ', 1);
      const r = await c.post('/registered-models/rename', { name, new_name: renamed });
      expect(r.body.registered_model).toMatchObject({ name: renamed, tags: [{ key: 'rm', value: 'x' }], aliases: [{ alias: 'champ', version: '1' }] });
      expect(r.body.registered_model.latest_versions).toEqual([expect.objectContaining({ name: renamed, version: '1', tags: [{ key: 'mv', value: 'y' }] })]);
      expect((await c.get('/registered-models/alias', { name: renamed, alias: 'champ' })).body.model_version).toMatchObject({ name: renamed, version: '1', aliases: ['champ'] });
      expect((await c.searchVersions({ filter: `name = '${renamed}'` })).map((v: any) => v.name)).toEqual([renamed]);
      expect(await c.searchVersions({ filter: `name = '${name}'` })).toEqual([]);
      expectError(await c.get('/model-versions/get', { name, version: '1' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Model Version (name=${name}, version=1) not found`);
      // nothing is left under the old name, not even the soft-deleted version
      for (const table of ['model_versions', 'registered_model_tags', 'model_version_tags', 'registered_model_aliases']) {
        expect(await sql(`SELECT 1 FROM ${table} WHERE name = $1`, [name]), table).toEqual([]);
      }
      expect((await sql(`SELECT version FROM model_versions WHERE name = $1 ORDER BY version`, [renamed])).map((x: any) => x.version)).toEqual([1, 2]);
      // the old name is free again
      await c.createModel(name);
    });
  });

  describe('last_updated_timestamp matrix (§7.4)', () => {
    it('follows MLflow for every operation', async () => {
      const name = uniq();
      const rm0 = await c.createModel(name);
      expect(rm0.last_updated_timestamp).toBe(rm0.creation_timestamp);
      const rmTs = async () => (await c.getModel(name)).last_updated_timestamp as number;
      const mvTs = async (v: number) => (await c.getVersion(name, v)).last_updated_timestamp as number;
      const tick = () => sleep(5);

      // update RM description: RM now
      await tick();
      let before = await rmTs();
      const upd = await c.patch('/registered-models/update', { name, description: 'd' });
      expect(upd.body.registered_model.last_updated_timestamp).toBeGreaterThan(before);
      expect(await rmTs()).toBe(upd.body.registered_model.last_updated_timestamp);

      // set/delete RM tag: unchanged
      before = await rmTs();
      await tick();
      await c.post('/registered-models/set-tag', { name, key: 'k', value: 'v' });
      await c.del('/registered-models/delete-tag', { name, key: 'k' });
      expect(await rmTs()).toBe(before);

      // create MV: RM = MV creation; MV last update = creation
      await tick();
      const v1 = await c.createVersion(name);
      expect(v1.last_updated_timestamp).toBe(v1.creation_timestamp);
      expect(await rmTs()).toBe(v1.creation_timestamp);
      await tick();
      const v2 = await c.createVersion(name);
      expect(await rmTs()).toBe(v2.creation_timestamp);

      // update MV description: MV now, RM unchanged
      before = await rmTs();
      await tick();
      const mvUpd = (await c.patch('/model-versions/update', { name, version: '1', description: 'x' })).body.model_version;
      expect(mvUpd.last_updated_timestamp).toBeGreaterThan(v1.last_updated_timestamp);
      expect(await rmTs()).toBe(before);

      // set/delete alias, set/delete MV tag: nothing changes
      const mvBefore = await mvTs(1);
      before = await rmTs();
      await tick();
      await c.setAlias(name, 'a', 1);
      await c.del('/registered-models/alias', { name, alias: 'a' });
      await c.post('/model-versions/set-tag', { name, version: '1', key: 'k', value: 'v' });
      await c.del('/model-versions/delete-tag', { name, version: '1', key: 'k' });
      expect(await mvTs(1)).toBe(mvBefore);
      expect(await rmTs()).toBe(before);

      // transition: RM, target and archived versions now
      await c.transition(name, 1, 'Production');
      await tick();
      const moved = await c.transition(name, 2, 'Production', true);
      expect(moved.last_updated_timestamp).toBeGreaterThan(v2.last_updated_timestamp);
      expect(await mvTs(1)).toBe(moved.last_updated_timestamp);
      expect((await c.getVersion(name, 1)).current_stage).toBe('Archived');
      expect(await rmTs()).toBe(moved.last_updated_timestamp);

      // delete MV: RM now (and the deleted row)
      await tick();
      const v3 = await c.createVersion(name);
      await tick();
      before = await rmTs();
      await c.del('/model-versions/delete', { name, version: '3' });
      const afterDelete = await rmTs();
      expect(afterDelete).toBeGreaterThan(before);
      const [row] = await c.s.server.db.query<{ last_updated_time: number }>(`SELECT last_updated_time FROM model_versions WHERE name = $1 AND version = 3`, [name]);
      expect(row!.last_updated_time).toBe(afterDelete);
      expect(row!.last_updated_time).toBeGreaterThan(v3.last_updated_timestamp);

      // rename: RM and every version (soft-deleted too) now
      await tick();
      const renamed = uniq();
      const rn = (await c.post('/registered-models/rename', { name, new_name: renamed })).body.registered_model;
      expect(rn.last_updated_timestamp).toBeGreaterThan(afterDelete);
      const times = await c.s.server.db.query<{ last_updated_time: number }>(`SELECT last_updated_time FROM model_versions WHERE name = $1`, [renamed]);
      expect(times).toHaveLength(3);
      for (const t of times) expect(t.last_updated_time).toBe(rn.last_updated_timestamp);
    });
  });

  describe('alias "latest" (§4.1, MLflow 3.17.2)', () => {
    it('returns the highest live version over all stages, with its aliases', async () => {
      const name = uniq();
      await c.createModel(name);
      for (let i = 0; i < 3; i++) await c.createVersion(name);
      await c.transition(name, 1, 'Production');
      await c.transition(name, 3, 'Archived');
      await c.setAlias(name, 'x', 3);
      let r = await c.get('/registered-models/alias', { name, alias: 'latest' });
      expect(r.body.model_version).toMatchObject({ version: '3', current_stage: 'Archived', aliases: ['x'] });
      expect((await c.get('/registered-models/alias', { name, alias: 'LATEST' })).body.model_version.version).toBe('3');
      await c.del('/model-versions/delete', { name, version: '3' });
      r = await c.get('/registered-models/alias', { name, alias: 'Latest' });
      expect(r.body.model_version.version).toBe('2');
    });

    it('answers 404 when the model has no live version', async () => {
      const name = uniq();
      await c.createModel(name);
      expectError(await c.get('/registered-models/alias', { name, alias: 'latest' }), 404, 'RESOURCE_DOES_NOT_EXIST', `Latest version not found for model ${name}.`);
    });
  });
});
