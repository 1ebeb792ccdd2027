/**
 * Migrations (store/migrate.ts): the server applies drizzle-kit's SQL with exactly the bookkeeping of
 * drizzle-orm's migrator, which it used before, so a database migrated by either opens with the
 * other; a database migrated part of the way is completed; replicas starting at once on a fresh
 * PostgreSQL database apply each migration once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzleLite } from 'drizzle-orm/pglite';
import { migrate as migrateLite } from 'drizzle-orm/pglite/migrator';
import { describe, expect, it } from 'vitest';
import { backends, createTestDatabase } from './helpers/server.js';
import { migrationSets, openPglite, openPostgres, type Executor } from '../packages/server/src/store/db.js';
import { createLogger } from '../packages/server/src/log.js';

const log = createLogger('error');
const SETS = migrationSets(false);

/** A copy of a migration folder whose journal stops before its last `drop` entries. */
function truncated(folder: string, drop: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  fs.cpSync(folder, dir, { recursive: true });
  const journalPath = path.join(dir, 'meta/_journal.json');
  const journal = JSON.parse(fs.readFileSync(journalPath, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, journal.entries.length - drop);
  fs.writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

interface Fixture {
  /** Runs drizzle-orm's own migrator on a fresh database, with each set's folder as given. */
  drizzle(folders: string[]): Promise<void>;
  /** Opens the same database with the server's database layer (which migrates). */
  open(): Promise<Executor & { close(): Promise<void> }>;
  /** A plain connection to the same database. */
  exec: Executor;
  close(): Promise<void>;
}

async function fixture(backend: 'pglite' | 'postgres'): Promise<Fixture> {
  if (backend === 'postgres') {
    const url = await createTestDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      async drizzle(folders) {
        const db = drizzlePg({ client });
        for (const [i, folder] of folders.entries()) await migratePg(db, { migrationsFolder: folder, migrationsTable: SETS[i]!.table, migrationsSchema: 'public' });
      },
      open: () => openPostgres(url, 2, log),
      exec: { query: async (text, params) => (await client.query(text, params as unknown[])).rows },
      close: () => client.end(),
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-lite-'));
  let lite: PGlite | undefined = new PGlite(dir);
  const connection = () => (lite ??= new PGlite(dir));
  const release = async () => {
    await lite?.close();
    lite = undefined;
  };
  return {
    async drizzle(folders) {
      const db = drizzleLite({ client: connection() });
      for (const [i, folder] of folders.entries()) await migrateLite(db, { migrationsFolder: folder, migrationsTable: SETS[i]!.table, migrationsSchema: 'public' });
      await release();
    },
    async open() {
      await release(); // PGlite: one process per data directory
      return openPglite(dir, log);
    },
    exec: { query: async (text, params) => (await connection().query<any>(text, params as unknown[])).rows },
    close: release,
  };
}

const bookkeeping = async (exec: Executor) => {
  const out: Record<string, unknown[]> = {};
  for (const s of SETS) out[s.table] = await exec.query(`SELECT id, hash, created_at FROM public."${s.table}" ORDER BY id`);
  return out;
};
const columns = (exec: Executor) =>
  exec.query(
    `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
      WHERE table_schema = 'public' ORDER BY table_name, column_name`,
  );
const indexes = (exec: Executor) => exec.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`);

describe.each(backends())('migrations (%s)', (backend) => {
  it("writes the same bookkeeping and schema as drizzle-orm's migrator", async () => {
    const theirs = await fixture(backend);
    const ours = await fixture(backend);
    try {
      await theirs.drizzle(SETS.map((s) => s.folder));
      await (await ours.open()).close();
      const [a, b] = [await bookkeeping(theirs.exec), await bookkeeping(ours.exec)];
      expect(b).toEqual(a);
      expect(Object.values(b).every((rows) => rows.length > 0)).toBe(true);
      expect(await columns(ours.exec)).toEqual(await columns(theirs.exec));
      expect(await indexes(ours.exec)).toEqual(await indexes(theirs.exec));
    } finally {
      await theirs.close();
      await ours.close();
    }
  }, 120_000);

  it('opens a database drizzle-orm migrated without applying anything, and completes one it migrated part of the way', async () => {
    const full = await fixture(backend);
    const partial = await fixture(backend);
    try {
      await full.drizzle(SETS.map((s) => s.folder));
      const expected = await bookkeeping(full.exec);
      await (await full.open()).close();
      expect(await bookkeeping(full.exec)).toEqual(expected);

      await partial.drizzle(SETS.map((s) => truncated(s.folder, 1)));
      for (const s of SETS) expect((await bookkeeping(partial.exec))[s.table]).toHaveLength(expected[s.table]!.length - 1);
      const db = await partial.open();
      await db.close();
      expect(await bookkeeping(partial.exec)).toEqual(expected);
      expect(await columns(partial.exec)).toEqual(await columns(full.exec));
    } finally {
      await full.close();
      await partial.close();
    }
    // Four embedded databases opened and migrated: slow on a busy 2-core machine.
  }, 120_000);
});

describe.skipIf(!process.env.TEST_DATABASE_URL)('migrations on PostgreSQL', () => {
  it('replicas starting at once on a fresh database apply each migration once', async () => {
    const url = await createTestDatabase();
    const dbs = await Promise.all([1, 2, 3, 4].map(() => openPostgres(url, 2, log)));
    try {
      const rows = await bookkeeping(dbs[0]!);
      for (const s of SETS) {
        const journal = JSON.parse(fs.readFileSync(path.join(s.folder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
        expect(rows[s.table]).toHaveLength(journal.entries.length);
      }
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('a failing migration changes nothing and the next start applies it', async () => {
    const url = await createTestDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // A table in the way of the last ext migration makes it fail; the ones before it are applied.
      const ext = SETS[1]!;
      await (await openPostgres(url, 2, log)).close();
      const last = (JSON.parse(fs.readFileSync(path.join(ext.folder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] }).entries.at(-1)!;
      await admin.query(`DELETE FROM public."${ext.table}" WHERE created_at = $1`, [last.when]);
      const sql = fs.readFileSync(path.join(ext.folder, `${last.tag}.sql`), 'utf8');
      const created = /CREATE TABLE "([^"]+)"/.exec(sql)?.[1];
      expect(created).toBeDefined();
      await expect(openPostgres(url, 2, log)).rejects.toThrow(/already exists/);
      await admin.query(`DROP TABLE public."${created}"`);
      await (await openPostgres(url, 2, log)).close();
      const rows = await admin.query(`SELECT created_at FROM public."${ext.table}" WHERE created_at = $1`, [last.when]);
      expect(rows.rowCount).toBe(1);
    } finally {
      await admin.end();
    }
  });
});
