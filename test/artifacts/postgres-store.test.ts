/**
 * The PostgreSQL artifact store (ARTIFACTS_STORE=postgres) below HTTP, on PGlite and (TEST_DATABASE_URL)
 * on PostgreSQL, with a small chunk size so that chunk boundaries are cheap to reach: the chunk layout,
 * Range reads at every boundary reading only the chunks they cover, atomic replacement (a download under
 * way finishes with the bytes it started with; concurrent uploads of one path leave exactly one of them,
 * never a mixture), failed uploads leaving nothing behind, the directory rules of the local store, and the
 * sweep of released and abandoned bytes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite, openPostgres, type Database, type Executor } from '../../packages/server/src/store/db.js';
import { createLogger } from '../../packages/server/src/log.js';
import { migrateArtifactTables } from '../../packages/server/src/artifacts/pg-migrations.js';
import { PostgresArtifactStore } from '../../packages/server/src/artifacts/postgres.js';
import { parseDecodedPath, type ArtifactPath } from '../../packages/server/src/artifacts/paths.js';
import { MlflowError } from '../../packages/server/src/errors.js';
import { backends, createTestDatabase } from '../helpers/server.js';

const CS = 1000;
const log = createLogger('warn');
const P = (s: string): ArtifactPath => parseDecodedPath(s);

/** A stream of `bytes` cut into pieces of the given sizes (cycled), yielding to the event loop between them. */
function streamOf(bytes: Uint8Array, pieces: number[] = [CS]): ReadableStream<Uint8Array> {
  let off = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      await new Promise((r) => setImmediate(r));
      if (off >= bytes.length) return c.close();
      const n = pieces[i++ % pieces.length]!;
      c.enqueue(bytes.slice(off, off + n));
      off += n;
    },
  });
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body as unknown as AsyncIterable<Uint8Array>) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** Varied bytes, so that a chunk in the wrong place shows. */
function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/** The database, counting the chunk reads that go through it. */
function spying(db: Database): { db: Database; chunkReads: number[] } {
  const chunkReads: number[] = [];
  const spy = Object.create(db) as Database;
  spy.query = (<T>(text: string, params?: readonly unknown[], name?: string) => {
    if (/^SELECT .* FROM mlflow_ts_artifact_chunks/s.test(text)) chunkReads.push(params![1] as number);
    return db.query<T>(text, params, name);
  }) as Executor['query'];
  return { db: spy, chunkReads };
}

for (const backend of backends()) {
  describe(`PostgreSQL artifact store (${backend})`, () => {
    let db: Database;
    let dir: string;
    /** Released bytes stay readable for an hour (the default grace is 15 minutes). */
    let store: PostgresArtifactStore;
    /** Released bytes go at the next sweep. */
    let eager: PostgresArtifactStore;
    const count = async (table: string) => Number((await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-artifacts-'));
      db = backend === 'pglite' ? await openPglite(path.join(dir, 'db'), log) : await openPostgres(await createTestDatabase(), 4, log);
      await migrateArtifactTables(db, log);
      store = new PostgresArtifactStore(db, { chunkSize: CS, releaseGraceMs: 3_600_000 });
      eager = new PostgresArtifactStore(db, { chunkSize: CS, releaseGraceMs: 0 });
    }, 120_000);

    afterAll(async () => {
      await store?.close();
      await eager?.close();
      await db?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('migrates once: a second run applies nothing', async () => {
      const before = await db.query('SELECT * FROM __mlflow_ts_migrations_artifacts_pg');
      await migrateArtifactTables(db, log);
      expect(await db.query('SELECT * FROM __mlflow_ts_migrations_artifacts_pg')).toEqual(before);
      expect(before).toHaveLength(1);
    });

    it('cuts a streamed upload into full chunks and a last partial one, whatever the pieces it arrives in', async () => {
      const bytes = pattern(3 * CS + 17);
      await store.put(P('layout/f.bin'), streamOf(bytes, [7, 2500, 1, 999, 1000]), 'application/octet-stream');
      const rows = await db.query<{ seq: number; len: number }>(
        `SELECT c.seq, length(c.data) AS len FROM mlflow_ts_artifact_chunks c JOIN mlflow_ts_artifacts a ON a.blob_id = c.blob_id
         WHERE a.path = 'layout/f.bin' ORDER BY c.seq`,
      );
      expect(rows.map((r) => [Number(r.seq), Number(r.len)])).toEqual([
        [0, CS],
        [1, CS],
        [2, CS],
        [3, 17],
      ]);
      const [file] = await db.query<{ size: number; chunk_count: number; chunk_size: number }>(
        `SELECT size, chunk_count, chunk_size FROM mlflow_ts_artifacts WHERE path = 'layout/f.bin'`,
      );
      expect({ ...file, size: Number(file!.size) }).toEqual({ size: bytes.length, chunk_count: 4, chunk_size: CS });
      expect((await readAll((await store.get(P('layout/f.bin'))).body)).equals(bytes)).toBe(true);
      expect(await store.stat(P('layout/f.bin'))).toMatchObject({ type: 'file', size: bytes.length });
    });

    it('reads Ranges at and across chunk boundaries, fetching only the chunks they cover', async () => {
      const bytes = pattern(3 * CS + 17, 2);
      await store.put(P('range/f.bin'), streamOf(bytes), 'x');
      const { db: spy, chunkReads } = spying(db);
      const reader = new PostgresArtifactStore(spy, { chunkSize: CS });
      const last = bytes.length - 1;
      const cases: [number, number][] = [
        [0, 0],
        [0, CS - 1],
        [CS - 1, CS - 1],
        [CS - 1, CS],
        [CS, CS],
        [CS, 2 * CS - 1],
        [CS - 1, 2 * CS],
        [1500, 2500],
        [2 * CS + 999, 3 * CS],
        [3 * CS, last],
        [last, last],
        [0, last],
      ];
      for (const [start, end] of cases) {
        chunkReads.length = 0;
        const o = await reader.get(P('range/f.bin'), () => ({ start, end }));
        expect(o.range).toEqual({ start, end });
        expect(o.size).toBe(bytes.length);
        const got = await readAll(o.body);
        expect(got.equals(bytes.subarray(start, end + 1)), `${start}-${end}`).toBe(true);
        const first = Math.floor(start / CS);
        expect(chunkReads, `${start}-${end}`).toEqual(Array.from({ length: Math.floor(end / CS) - first + 1 }, (_, i) => first + i));
      }
    });

    it('stores an empty file as no chunks', async () => {
      await store.put(P('empty/e.txt'), null, 'text/plain');
      await store.put(P('empty/e2.txt'), streamOf(new Uint8Array(0)), 'text/plain');
      for (const p of ['empty/e.txt', 'empty/e2.txt']) {
        const o = await store.get(P(p));
        expect(o.size).toBe(0);
        expect((await readAll(o.body)).length).toBe(0);
      }
      expect(await store.list(P('empty'))).toEqual([
        { name: 'e.txt', isDir: false, size: 0 },
        { name: 'e2.txt', isDir: false, size: 0 },
      ]);
    });

    it('a download under way finishes with the bytes it started with when the file is replaced', async () => {
      const v1 = pattern(4 * CS, 3);
      const v2 = pattern(4 * CS + 5, 4);
      await store.put(P('replace/f.bin'), streamOf(v1), 'x');
      const reading = (await store.get(P('replace/f.bin'))).body.getReader();
      const first = await reading.read();
      await store.put(P('replace/f.bin'), streamOf(v2), 'x');
      await store.sweep(); // within the grace period: the old bytes stay
      const rest: Uint8Array[] = [first.value!];
      for (let r = await reading.read(); !r.done; r = await reading.read()) rest.push(r.value);
      expect(Buffer.concat(rest).equals(v1)).toBe(true);
      expect((await readAll((await store.get(P('replace/f.bin'))).body)).equals(v2)).toBe(true);
    });

    it('after the grace period the replaced bytes are swept, and a download still reading them fails (never mixes)', async () => {
      const v1 = pattern(4 * CS, 5);
      await eager.put(P('swept/f.bin'), streamOf(v1), 'x');
      const reading = (await eager.get(P('swept/f.bin'))).body.getReader();
      expect(Buffer.from((await reading.read()).value!).equals(v1.subarray(0, CS))).toBe(true);
      await eager.put(P('swept/f.bin'), streamOf(pattern(CS, 6)), 'x');
      await eager.close(); // the background sweep the put started
      await eager.sweep();
      // The chunk read ahead before the sweep may still arrive; then the stream fails instead of going on.
      const got: Uint8Array[] = [];
      let err: unknown;
      try {
        for (let r = await reading.read(); !r.done; r = await reading.read()) got.push(r.value);
      } catch (e) {
        err = e;
      }
      expect(v1.subarray(CS).subarray(0, Buffer.concat(got).length).equals(Buffer.concat(got))).toBe(true);
      expect(Buffer.concat(got).length).toBeLessThan(v1.length - CS);
      expect(err).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    });

    it('concurrent uploads of one path: the last wins whole, no chunks mixed, nothing left over after the sweep', async () => {
      const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(3 * CS + 100 * i, 0x41 + i));
      await Promise.all(versions.map((v) => eager.put(P('race/f.bin'), streamOf(v, [333]), 'x')));
      const got = await readAll((await eager.get(P('race/f.bin'))).body);
      const winner = versions.find((v) => v.equals(got));
      expect(winner, 'the file is exactly one of the uploads').toBeDefined();
      await eager.close();
      await eager.sweep();
      const left = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM mlflow_ts_artifact_chunks c JOIN mlflow_ts_artifact_blobs b ON b.id = c.blob_id
         WHERE NOT EXISTS (SELECT 1 FROM mlflow_ts_artifacts a WHERE a.blob_id = b.id) AND b.released_at IS NOT NULL`,
      );
      expect(left[0]!.n).toBe(0);
      const [blob] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM mlflow_ts_artifact_chunks c JOIN mlflow_ts_artifacts a ON a.blob_id = c.blob_id WHERE a.path = 'race/f.bin'`,
      );
      expect(blob!.n).toBe(Math.ceil(winner!.length / CS));
    });

    it('an upload whose body fails leaves the old file and no bytes behind', async () => {
      const old = pattern(2 * CS, 7);
      await store.put(P('fail/f.bin'), streamOf(old), 'x');
      const blobs = await count('mlflow_ts_artifact_blobs');
      const chunks = await count('mlflow_ts_artifact_chunks');
      let sent = 0;
      const failing = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent++ < 3) c.enqueue(pattern(CS, 8));
          else c.error(MlflowError.invalid('client went away'));
        },
      });
      await expect(store.put(P('fail/f.bin'), failing, 'x')).rejects.toThrow('client went away');
      expect((await readAll((await store.get(P('fail/f.bin'))).body)).equals(old)).toBe(true);
      expect(await count('mlflow_ts_artifact_blobs')).toBe(blobs);
      expect(await count('mlflow_ts_artifact_chunks')).toBe(chunks);
    });

    it('keeps the local store directory rules: a file is not a directory and a directory is not a file', async () => {
      await store.put(P('tree/a'), streamOf(Buffer.from('file')), 'x');
      await store.put(P('tree/d/x.txt'), streamOf(Buffer.from('x')), 'x');
      const conflict = /Cannot write artifact 'tree\/(a\/b|d)'/;
      await expect(store.put(P('tree/a/b'), streamOf(Buffer.from('y')), 'x')).rejects.toThrow(conflict);
      await expect(store.put(P('tree/d'), streamOf(Buffer.from('y')), 'x')).rejects.toThrow(conflict);
      expect(await store.stat(P('tree'))).toEqual({ type: 'dir' });
      expect(await store.stat(P('tree/d'))).toEqual({ type: 'dir' });
      expect(await store.stat(P('tree/nope'))).toBeUndefined();
      expect(await store.stat(P('tree/a/b'))).toBeUndefined();
      await expect(store.get(P('tree/d'))).rejects.toThrow("Artifact path refers to a directory, not a file: 'tree/d'");
      await expect(store.get(P('tree/nope'))).rejects.toThrow("No such artifact: 'tree/nope'");
      expect(await store.list(P('tree/a'))).toEqual([]);
      // A sibling whose name extends the directory's is not inside it (`tree/d` vs `tree/d.txt`, `tree/d0`).
      await store.put(P('tree/d.txt'), streamOf(Buffer.from('dot')), 'x');
      await store.put(P('tree/d0'), streamOf(Buffer.from('zero')), 'x');
      expect(await store.list(P('tree/d'))).toEqual([{ name: 'x.txt', isDir: false, size: 1 }]);
      await store.delete(P('tree/d'));
      expect(await store.stat(P('tree/d'))).toBeUndefined();
      expect((await store.list(P('tree'))).map((e) => e.name)).toEqual(['a', 'd.txt', 'd0']);
      // Once the directory is gone, a file may take its name.
      await store.put(P('tree/d'), streamOf(Buffer.from('now a file')), 'x');
      expect((await readAll((await store.get(P('tree/d'))).body)).toString()).toBe('now a file');
    });

    it('lists names with spaces and non-ASCII characters, sorted like the local store', async () => {
      for (const name of ['b.txt', 'é.txt', 'a b.txt', '日本/x', 'Z', '😀.bin']) await store.put(P(`names/${name}`), streamOf(Buffer.from(name)), 'x');
      expect(await store.list(P('names'))).toEqual([
        { name: 'Z', isDir: false, size: 1 },
        { name: 'a b.txt', isDir: false, size: 7 },
        { name: 'b.txt', isDir: false, size: 5 },
        { name: 'é.txt', isDir: false, size: 6 },
        { name: '日本', isDir: true },
        { name: '😀.bin', isDir: false, size: 8 },
      ]);
      expect(await store.list(P('names/日本'))).toEqual([{ name: 'x', isDir: false, size: 8 }]);
      expect((await store.list(P(''))).some((e) => e.name === 'names' && e.isDir)).toBe(true);
    });

    it('deleting a directory releases its bytes, which the sweep then removes', async () => {
      await eager.put(P('gone/a/1.bin'), streamOf(pattern(2 * CS)), 'x');
      await eager.put(P('gone/a/2.bin'), streamOf(pattern(CS + 1)), 'x');
      await eager.close();
      const blobIds = (await db.query<{ blob_id: number }>(`SELECT blob_id FROM mlflow_ts_artifacts WHERE path LIKE 'gone/%'`)).map((r) => r.blob_id);
      expect(blobIds).toHaveLength(2);
      await eager.delete(P('gone/a'));
      expect(await eager.list(P('gone'))).toEqual([]);
      await eager.close();
      await eager.sweep();
      expect(await db.query('SELECT 1 FROM mlflow_ts_artifact_chunks WHERE blob_id = ANY($1::bigint[])', [blobIds])).toEqual([]);
      await eager.delete(P('gone/never/was')); // missing paths are not an error
    });

    it('sweeps an upload abandoned half way (its process died) once it is old enough, and leaves recent ones', async () => {
      const [old] = await db.query<{ id: number }>(
        `INSERT INTO mlflow_ts_artifact_blobs (created_at) VALUES ((extract(epoch from clock_timestamp()) * 1000)::bigint - 10000000) RETURNING id`,
      );
      const [recent] = await db.query<{ id: number }>(
        `INSERT INTO mlflow_ts_artifact_blobs (created_at) VALUES ((extract(epoch from clock_timestamp()) * 1000)::bigint) RETURNING id`,
      );
      await db.query(`INSERT INTO mlflow_ts_artifact_chunks (blob_id, seq, data) VALUES ($1, 0, 'abc'), ($2, 0, 'def')`, [old!.id, recent!.id]);
      const sweeper = new PostgresArtifactStore(db, { chunkSize: CS, abandonedAfterMs: 1_000_000 });
      await sweeper.sweep();
      const ids = (await db.query<{ id: number }>('SELECT id FROM mlflow_ts_artifact_blobs WHERE id = ANY($1::bigint[])', [[old!.id, recent!.id]])).map((r) =>
        Number(r.id),
      );
      expect(ids).toEqual([Number(recent!.id)]);
      await db.query('DELETE FROM mlflow_ts_artifact_blobs WHERE id = $1', [recent!.id]);
    });
  });
}
