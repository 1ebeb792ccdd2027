/**
 * The read cache is exact for every writer (issue 21): the database announces every change to the
 * cached tables on the change feed, whoever writes it (store/migrations/ext/0003_change_triggers.sql).
 * Two replicas with the cache on, both serving a model from their caches; a change written by plain SQL
 * (on a database this server created) and one written through `mlflow server` (on a database MLflow
 * created: it cannot start on one of ours) is seen by the very next read on every replica, with no wait.
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { scratchDir } from '../helpers/process.js';
import { ANNOUNCED_SETTING } from '../../packages/server/src/events/sink.js';
import { Client, sleep, uniq } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const CACHE = { READ_CACHE_MB: '4' };

/** Two caching replicas on `databaseUrl`, and a raw connection to it. */
function replicas(databaseUrl: () => string) {
  const s: { a?: TestServer; b?: TestServer; sql?: pg.Client } = {};
  beforeAll(async () => {
    s.a = await startTestServer('postgres', CACHE, { databaseUrl: databaseUrl() });
    s.b = await startTestServer('postgres', CACHE, { databaseUrl: databaseUrl() });
    s.sql = new pg.Client({ connectionString: databaseUrl() });
    await s.sql.connect();
  }, 120_000);
  afterAll(async () => {
    await s.sql?.end();
    await s.a?.close();
    await s.b?.close();
  });
  return s;
}

/**
 * Waits until `c` answers model `name` from its cache: a change that nothing announces (the setting
 * makes the triggers skip it) stays unseen. Restores the description afterwards.
 */
async function untilCached(c: Client, sql: pg.Client, name: string): Promise<void> {
  const original = (await c.getModel(name)).description ?? '';
  const t0 = Date.now();
  for (let n = 0; ; n++) {
    await c.getModel(name);
    await sql.query(`UPDATE registered_models SET description = $1 WHERE name = $2 AND set_config('${ANNOUNCED_SETTING}', 'on', true) = 'on'`, [`probe-${n}`, name]);
    const cached = (await c.getModel(name)).description !== `probe-${n}`;
    await sql.query(`UPDATE registered_models SET description = $1 WHERE name = $2 AND set_config('${ANNOUNCED_SETTING}', 'on', true) = 'on'`, [original, name]);
    if (cached) return;
    if (Date.now() - t0 > 20_000) throw new Error('the read cache did not go live');
    await sleep(20);
  }
}

/** Every cached read of model `name` on `c`, made twice (the second from the cache). */
async function reads(c: Client, name: string) {
  for (let i = 0; i < 2; i++) {
    await c.getModel(name);
    await c.get('/registered-models/get-latest-versions', { name });
    await c.getVersion(name, 1);
    await c.get('/registered-models/alias', { name, alias: 'champ' });
  }
}

describe.skipIf(!process.env.TEST_DATABASE_URL)('outside writers reach every replica\'s cache at once (postgres)', () => {
  describe('plain SQL on a database this server created', () => {
    let url = '';
    beforeAll(async () => {
      url = await createTestDatabase();
    });
    const s = replicas(() => url);

    it('a description, a tag, a version, an alias and a deletion written in SQL are seen by the next read on both replicas', async () => {
      const a = new Client(s.a!);
      const b = new Client(s.b!);
      const name = uniq('outside');
      await a.createModel(name, { description: 'd0' });
      await a.createVersion(name, { source: 's3://b/1' });
      await a.setAlias(name, 'champ', 1);
      for (const c of [a, b]) await untilCached(c, s.sql!, name);

      const changes: [string, string, unknown[], (c: Client) => Promise<void>][] = [
        ['description', `UPDATE registered_models SET description = 'by sql' WHERE name = $1`, [name], async (c) => expect((await c.getModel(name)).description).toBe('by sql')],
        ['model tag', `INSERT INTO registered_model_tags (workspace, name, key, value) VALUES ('default', $1, 'k', 'v')`, [name], async (c) => expect((await c.getModel(name)).tags).toEqual([{ key: 'k', value: 'v' }])],
        ['version description', `UPDATE model_versions SET description = 'v by sql' WHERE name = $1 AND version = 1`, [name], async (c) => expect((await c.getVersion(name, 1)).description).toBe('v by sql')],
        ['version tag', `INSERT INTO model_version_tags (workspace, name, version, key, value) VALUES ('default', $1, 1, 't', 'x')`, [name], async (c) => expect((await c.getVersion(name, 1)).tags).toEqual([{ key: 't', value: 'x' }])],
        [
          'new version in Production',
          `INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time, current_stage, source, status) VALUES ('default', $1, 2, 1, 1, 'Production', 's3://b/2', 'READY')`,
          [name],
          async (c) => expect((await c.get('/registered-models/get-latest-versions', { name })).body.model_versions.map((v: any) => v.version)).toEqual(['1', '2']),
        ],
        ['alias moved', `UPDATE registered_model_aliases SET version = 2 WHERE name = $1 AND alias = 'champ'`, [name], async (c) => expect((await c.get('/registered-models/alias', { name, alias: 'champ' })).body.model_version.version).toBe('2')],
        ['alias deleted', `DELETE FROM registered_model_aliases WHERE name = $1`, [name], async (c) => expect((await c.get('/registered-models/alias', { name, alias: 'champ' })).status).toBe(400)] // MLflow: INVALID_PARAMETER_VALUE,
      ];
      for (const [what, sql, params, check] of changes) {
        for (const c of [a, b]) await reads(c, name);
        await s.sql!.query(sql, params);
        for (const c of [a, b]) await check(c).catch((err: Error) => Promise.reject(new Error(`${what}: ${err.message}`)));
      }
      // A version number written behind the server's back is not reused by the next creation.
      expect((await b.createVersion(name, { source: 's3://b/3' })).version).toBe('3');
    }, 120_000);
  });

  describe.skipIf(!fs.existsSync(MLFLOW_BIN))('mlflow server on the database it created', () => {
    let mlflow: MlflowServer;
    let url = '';
    beforeAll(async () => {
      url = await createTestDatabase();
      const scratch = scratchDir('mlflow-outside-');
      mlflow = await startMlflowServer({
        args: ['--backend-store-uri', url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:'), '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts')],
        scratch,
      });
    }, 180_000);
    afterAll(async () => {
      await mlflow?.stop();
    });
    const s = replicas(() => url);

    it("MLflow's writes are seen by the next read on both replicas", async () => {
      const theirs = new Client({ fetch: (p: string, init?: RequestInit) => fetch(mlflow.url + p, init) } as unknown as TestServer);
      const a = new Client(s.a!);
      const b = new Client(s.b!);
      const name = uniq('by-mlflow');
      await theirs.createModel(name, { description: 'd0' });
      await theirs.createVersion(name, { source: 's3://b/1' });
      await theirs.setAlias(name, 'champ', 1);
      for (const c of [a, b]) await untilCached(c, s.sql!, name);

      const changes: [string, () => Promise<unknown>, (c: Client) => Promise<void>][] = [
        ['description', () => theirs.patch('/registered-models/update', { name, description: 'by mlflow' }), async (c) => expect((await c.getModel(name)).description).toBe('by mlflow')],
        ['model tag', () => theirs.post('/registered-models/set-tag', { name, key: 'k', value: 'v' }), async (c) => expect((await c.getModel(name)).tags).toEqual([{ key: 'k', value: 'v' }])],
        ['version tag', () => theirs.post('/model-versions/set-tag', { name, version: '1', key: 't', value: 'x' }), async (c) => expect((await c.getVersion(name, 1)).tags).toEqual([{ key: 't', value: 'x' }])],
        ['new version', () => theirs.createVersion(name, { source: 's3://b/2' }), async (c) => expect((await c.getModel(name)).latest_versions.map((v: any) => v.version)).toEqual(['2'])],
        ['alias moved', () => theirs.setAlias(name, 'champ', 2), async (c) => expect((await c.get('/registered-models/alias', { name, alias: 'champ' })).body.model_version.version).toBe('2')],
        ['stage', () => theirs.transition(name, 2, 'Staging'), async (c) => expect((await c.getVersion(name, 2)).current_stage).toBe('Staging')],
        ['version deleted', () => theirs.del('/model-versions/delete', { name, version: '1' }), async (c) => expect((await c.get('/model-versions/get', { name, version: '1' })).status).toBe(404)],
      ];
      for (const [what, write, check] of changes) {
        for (const c of [a, b]) await reads(c, name);
        await write();
        for (const c of [a, b]) await check(c).catch((err: Error) => Promise.reject(new Error(`${what}: ${err.message}`)));
      }
      // Versions created by both servers interleave without a gap or a reuse.
      expect((await a.createVersion(name, { source: 's3://b/3' })).version).toBe('3');
      expect((await theirs.createVersion(name, { source: 's3://b/4' })).version).toBe('4');
      expect((await b.createVersion(name, { source: 's3://b/5' })).version).toBe('5');
      await theirs.del('/registered-models/delete', { name });
      for (const c of [a, b]) expect((await c.get('/registered-models/get', { name })).status).toBe(404);
    }, 180_000);
  });
});
