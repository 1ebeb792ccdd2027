/**
 * Concurrency across two server instances on one store: on one PostgreSQL (each with its own
 * connection pool), and with METADATA_STORE=s3 on one bucket (each replica with its own copy, every
 * commit a conditional write to the change log). Simultaneous version creations on one model get
 * exactly the numbers 1..N and never an error; a rename racing version creations (and a delete racing
 * them) never leaves a version whose model does not exist. PGlite is single-process, so this suite
 * needs TEST_DATABASE_URL or S3_TEST_ENDPOINT.
 */
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import { createTestDatabase, sharedS3MetadataBucket, startTestServer, type S3MetadataBucket, type TestServer } from '../helpers/server.js';
import { Client, uniq } from './util.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const stores = [
  { store: 'one PostgreSQL', backend: 'postgres' as const, skip: !process.env.TEST_DATABASE_URL },
  { store: 'one S3 bucket (METADATA_STORE=s3)', backend: 's3' as const, skip: !process.env.S3_TEST_ENDPOINT },
];

describe.each(stores)('concurrency across two servers on $store ($backend)', ({ backend, skip }) => {
  let a: TestServer;
  let b: TestServer;
  let ca: Client;
  let cb: Client;
  let bucket: S3MetadataBucket | undefined;
  beforeAll(async () => {
    if (skip) return;
    if (backend === 'postgres') {
      const databaseUrl = await createTestDatabase();
      a = await startTestServer('postgres', {}, { databaseUrl });
      b = await startTestServer('postgres', {}, { databaseUrl });
    } else {
      bucket = await sharedS3MetadataBucket();
      a = await startTestServer('s3', {}, { s3: bucket });
      b = await startTestServer('s3', {}, { s3: bucket });
    }
    ca = new Client(a);
    cb = new Client(b);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bucket?.cleanup();
  });
  const it = skip ? vitestIt.skip : vitestIt;

  const orphans = () =>
    a.server.db.query(
      `SELECT mv.name, mv.version FROM model_versions mv
        WHERE NOT EXISTS (SELECT 1 FROM registered_models rm WHERE rm.workspace = mv.workspace AND rm.name = mv.name)`,
    );

  it('200 parallel version creations on one model give versions 1..200 exactly, with no error response', async () => {
    const name = uniq('conc');
    await ca.createModel(name);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? ca : cb).post('/model-versions/create', { name, source: `s3://bucket/model/${i}`, tags: [{ key: 'i', value: String(i) }] })),
    );
    const failures = results.filter((r) => r.status !== 200);
    expect(failures.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const versions = results.map((r) => Number(r.body.model_version.version)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // Each response describes the row it created.
    for (const r of results) {
      const stored = await (Number(r.body.model_version.version) % 2 ? ca : cb).getVersion(name, r.body.model_version.version);
      expect(stored.source).toBe(r.body.model_version.source);
      expect(stored.tags).toEqual(r.body.model_version.tags);
    }
    const rm = await cb.getModel(name);
    expect(rm.latest_versions.map((v: any) => v.version)).toEqual(['200']);
    const rows = await a.server.db.query<{ n: number; max: number }>(`SELECT count(*)::int AS n, max(version) AS max FROM model_versions WHERE name = $1`, [name]);
    expect(rows[0]).toEqual({ n: 200, max: 200 });
  });

  it('a rename racing version creations leaves no orphan versions and consecutive numbers', async () => {
    for (let round = 0; round < 5; round++) {
      const name = uniq('race');
      const renamed = `${name}-renamed`;
      await ca.createModel(name);
      await ca.createVersion(name);
      const creates = Array.from({ length: 20 }, (_, i) => (i % 2 ? ca : cb).post('/model-versions/create', { name, source: `s3://b/${i}` }));
      const rename = (round % 2 ? ca : cb).post('/registered-models/rename', { name, new_name: renamed });
      const [renameRes, ...createRes] = await Promise.all([rename, ...creates]);
      expect(renameRes.status, JSON.stringify(renameRes.body)).toBe(200);
      for (const r of createRes) {
        // A creation that ran after the rename no longer finds the model under its old name.
        expect([200, 404], JSON.stringify(r.body)).toContain(r.status);
        if (r.status === 404) expect(r.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Registered Model with name=${name} not found` });
      }
      const created = createRes.filter((r) => r.status === 200).length;
      const rows = await a.server.db.query<{ version: number }>(`SELECT version FROM model_versions WHERE name = $1 ORDER BY version`, [renamed]);
      expect(rows.map((r) => r.version)).toEqual(Array.from({ length: created + 1 }, (_, i) => i + 1));
      expect(await a.server.db.query(`SELECT 1 FROM model_versions WHERE name = $1`, [name])).toEqual([]);
      expect(await orphans()).toEqual([]);
    }
  });

  it('a model deletion racing version creations never fails and leaves no orphans', async () => {
    for (let round = 0; round < 5; round++) {
      const name = uniq('del');
      await ca.createModel(name);
      const creates = Array.from({ length: 10 }, (_, i) => (i % 2 ? ca : cb).post('/model-versions/create', { name, source: `s3://b/${i}` }));
      const del = (round % 2 ? cb : ca).del('/registered-models/delete', { name });
      const [delRes, ...createRes] = await Promise.all([del, ...creates]);
      expect(delRes.status, JSON.stringify(delRes.body)).toBe(200);
      for (const r of createRes) expect([200, 404], JSON.stringify(r.body)).toContain(r.status);
      expect(await a.server.db.query(`SELECT 1 FROM model_versions WHERE name = $1`, [name])).toEqual([]);
      expect(await orphans()).toEqual([]);
    }
  });

  it('tag and alias writes racing a rename or a version delete answer 200 or 404, never a foreign-key error', async () => {
    for (let round = 0; round < 8; round++) {
      const name = uniq('tags');
      await ca.createModel(name);
      await ca.createVersion(name);
      await ca.createVersion(name);
      const writes = Array.from({ length: 12 }, (_, i) => {
        const cl = i % 2 ? ca : cb;
        if (i % 3 === 0) return cl.post('/registered-models/set-tag', { name, key: `k${i}`, value: 'v' });
        if (i % 3 === 1) return cl.post('/model-versions/set-tag', { name, version: '2', key: `k${i}`, value: 'v' });
        return cl.post('/registered-models/alias', { name, alias: `a${i}`, version: '2' });
      });
      // The requests start when created: vary which of rename and delete is sent first.
      const doRename = () => ca.post('/registered-models/rename', { name, new_name: `${name}-r` });
      const doDelete = () => cb.del('/model-versions/delete', { name, version: '2' });
      const [first, second] = round % 2 ? [doRename(), doDelete()] : [doDelete(), doRename()];
      const [renameRes, deleteRes] = round % 2 ? [first, second] : [second, first];
      const [, , ...res] = await Promise.all([renameRes, deleteRes, ...writes]);
      const renameOut = await renameRes!;
      const deleteOut = await deleteRes!;
      expect(renameOut.status, JSON.stringify(renameOut.body)).toBe(200);
      // The version delete finds the model under its old name only if it ran first.
      expect([200, 404], JSON.stringify(deleteOut.body)).toContain(deleteOut.status);
      for (const r of res) expect([200, 404], JSON.stringify(r.body)).toContain(r.status);
      // No alias may point at a deleted version.
      const dangling = await a.server.db.query(
        `SELECT a.alias FROM registered_model_aliases a JOIN model_versions v ON v.workspace = a.workspace AND v.name = a.name AND v.version = a.version
          WHERE v.current_stage = 'Deleted_Internal'`,
      );
      expect(dangling).toEqual([]);
      expect(await orphans()).toEqual([]);
    }
  });

  it('concurrent "archive existing" transitions into one stage leave exactly one version there', async () => {
    for (let round = 0; round < 3; round++) {
      const name = uniq('arch');
      await ca.createModel(name);
      for (let i = 0; i < 6; i++) await ca.createVersion(name);
      const res = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((v) => (v % 2 ? ca : cb).post('/model-versions/transition-stage', { name, version: String(v), stage: 'Production', archive_existing_versions: true })),
      );
      for (const r of res) expect(r.status, JSON.stringify(r.body)).toBe(200);
      const latest = await ca.post('/registered-models/get-latest-versions', { name, stages: ['Production'] });
      expect(latest.body.model_versions).toHaveLength(1);
      const stages = await a.server.db.query<{ current_stage: string; n: number }>(
        `SELECT current_stage, count(*)::int AS n FROM model_versions WHERE name = $1 GROUP BY current_stage ORDER BY current_stage`,
        [name],
      );
      expect(stages).toEqual([
        { current_stage: 'Archived', n: 5 },
        { current_stage: 'Production', n: 1 },
      ]);
    }
  });
});
