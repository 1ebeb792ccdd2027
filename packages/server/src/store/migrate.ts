/**
 * Applies the SQL migrations that drizzle-kit generates (store/migrations/<set>), with the same
 * bookkeeping as drizzle-orm's migrator, so databases migrated by either are interchangeable: a table
 * (id, hash, created_at) per set, one row per applied migration, `created_at` being the journal's
 * `when` and `hash` the SHA-256 of the file. A migration is applied when its `when` is later than the
 * last recorded one; all pending ones run in one transaction.
 *
 * Why not drizzle-orm's migrator: loading drizzle-orm for the migrations alone kept about 2 MB of V8
 * heap and 6 MB of RSS for the life of the process; the server never uses drizzle-orm otherwise.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface MigrationSet {
  folder: string;
  /** Bookkeeping table, in schema `public`. */
  table: string;
}

interface Migration {
  tag: string;
  when: number;
  hash: string;
  statements: string[];
}

/** One connection: `exec` runs SQL text that may hold several statements and no parameters. */
export interface MigrationSession {
  exec(sql: string): Promise<void>;
  query<T>(sql: string, params: unknown[]): Promise<T[]>;
  transaction(fn: (tx: Pick<MigrationSession, 'exec' | 'query'>) => Promise<void>): Promise<void>;
}

export function readMigrations(folder: string): Migration[] {
  const journal = JSON.parse(fs.readFileSync(path.join(folder, 'meta/_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
  return journal.entries.map(({ tag, when }) => {
    const text = fs.readFileSync(path.join(folder, `${tag}.sql`), 'utf8');
    return { tag, when, hash: crypto.createHash('sha256').update(text).digest('hex'), statements: text.split('--> statement-breakpoint') };
  });
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Applies the pending migrations of `set`; returns the tags applied. */
export async function migrate(session: MigrationSession, set: MigrationSet): Promise<string[]> {
  const migrations = readMigrations(set.folder);
  const table = `"public".${ident(set.table)}`;
  await session.exec(`CREATE SCHEMA IF NOT EXISTS "public"`);
  await session.exec(`CREATE TABLE IF NOT EXISTS ${table} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
  const [last] = await session.query<{ created_at: string | number | null }>(`SELECT created_at FROM ${table} ORDER BY created_at DESC LIMIT 1`, []);
  const pending = migrations.filter((m) => !last || Number(last.created_at) < m.when);
  if (pending.length === 0) return [];
  await session.transaction(async (tx) => {
    for (const m of pending) {
      for (const statement of m.statements) await tx.exec(statement);
      await tx.query(`INSERT INTO ${table} (hash, created_at) VALUES ($1, $2)`, [m.hash, m.when]);
    }
  });
  return pending.map((m) => m.tag);
}
