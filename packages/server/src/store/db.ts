/**
 * One database port for both drivers: the embedded PGlite (default) and PostgreSQL (DATABASE_URL).
 * The store layer speaks SQL through `Executor`; this file hides which engine answers it.
 * Migrations (drizzle-kit output, committed; store/migrate.ts) are applied at open, under a PostgreSQL advisory lock
 * so that several replicas starting at once apply them exactly once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { MlflowError } from '../errors.js';
import { migrate, type MigrationSession, type MigrationSet } from './migrate.js';
import type { Logger } from '../log.js';

export interface Executor {
  /**
   * Runs one statement. `name` makes it a named prepared statement on PostgreSQL (parsed and planned
   * once per connection); use it for the hot paths, with a stable name per distinct SQL text.
   */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string): Promise<T[]>;
}

export interface Database extends Executor {
  readonly kind: 'pglite' | 'postgres';
  /** True when the registry tables were created by MLflow (alembic) rather than by our migrations. */
  readonly mlflowOwned: boolean;
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from the package root so the transpiled copy in dist/ (scripts/build.ts) finds the SQL files in src/.
export const MIGRATIONS_DIR = path.resolve(here, '../../src/store/migrations');
/** Arbitrary constant key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 4_242_017_001;

const INT8_OID = 20;
const parseInt8 = (v: string) => Number(v);

/** Translates driver errors into MLflow's codes; anything unknown stays a 500 INTERNAL_ERROR. */
export function translateDbError(err: unknown): unknown {
  if (err instanceof MlflowError) return err;
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? String(err);
  if (typeof code !== 'string') {
    if (/ECONNREFUSED|ECONNRESET|Connection terminated|timeout exceeded when trying to connect/i.test(message)) {
      return new MlflowError('TEMPORARILY_UNAVAILABLE', `Database unavailable: ${message}`, { cause: err });
    }
    return err;
  }
  if (code === '23505') return new MlflowError('RESOURCE_ALREADY_EXISTS', message, { cause: err });
  // 22001 string too long, 22003 numeric out of range, 23xxx other integrity errors: MLflow's
  // session layer reports any SQLAlchemyError other than OperationalError as BAD_REQUEST.
  if (code.startsWith('22') || code.startsWith('23')) return new MlflowError('BAD_REQUEST', message, { cause: err });
  if (code.startsWith('08') || code === '57P01' || code === '57P03' || code === '53300') {
    return new MlflowError('TEMPORARILY_UNAVAILABLE', `Database unavailable: ${message}`, { cause: err });
  }
  return err;
}

async function isMlflowOwned(exec: Executor): Promise<boolean> {
  const rows = await exec.query<{ alembic: string | null; rm: string | null }>(
    `SELECT to_regclass('alembic_version')::text AS alembic, to_regclass('registered_models')::text AS rm`,
  );
  return rows[0]?.alembic != null && rows[0]?.rm != null;
}

/** The migration sets to apply, in order: MLflow's tables (unless MLflow created them), then ours. */
export function migrationSets(mlflowOwned: boolean): MigrationSet[] {
  const sets: MigrationSet[] = [];
  if (!mlflowOwned) sets.push({ folder: path.join(MIGRATIONS_DIR, 'mlflow'), table: '__mlflow_ts_migrations_registry' });
  sets.push({ folder: path.join(MIGRATIONS_DIR, 'ext'), table: '__mlflow_ts_migrations_ext' });
  return sets;
}

function logApplied(log: Logger, set: MigrationSet, tags: string[]): void {
  if (tags.length > 0) log.info('migrations applied', { set: path.basename(set.folder), migrations: tags });
}

export async function openPostgres(url: string, poolMax: number, log: Logger): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
  });
  pool.on('error', (err) => log.warn('idle database connection failed', { error: err.message }));

  const run = async <T>(c: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[], name?: string) => {
    try {
      const res = await c.query({ text, values: params as unknown[] | undefined, name });
      return res.rows as T[];
    } catch (err) {
      throw translateDbError(err);
    }
  };

  let mlflowOwned = false;
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to DATABASE_URL: ${(err as Error).message}`);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      mlflowOwned = await isMlflowOwned({ query: (t, p) => run(client, t, p) });
      const session: MigrationSession = {
        exec: async (sql) => void (await client.query(sql)),
        query: async (sql, params) => (await client.query(sql, params)).rows,
        async transaction(fn) {
          await client.query('BEGIN');
          try {
            await fn(session);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => {});
            throw err;
          }
        },
      };
      for (const set of migrationSets(mlflowOwned)) logApplied(log, set, await migrate(session, set));
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
  log.info('database ready', { kind: 'postgres', mlflowOwned });

  return {
    kind: 'postgres',
    mlflowOwned,
    query: (text, params, name) => run(pool, text, params, name),
    async transaction(fn) {
      let c: pg.PoolClient;
      try {
        c = await pool.connect();
      } catch (err) {
        throw translateDbError(err);
      }
      try {
        await c.query('BEGIN');
        const result = await fn({ query: (text, params, name) => run(c, text, params, name) });
        await c.query('COMMIT');
        return result;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}

export async function openPglite(dataDir: string | undefined, log: Logger): Promise<Database> {
  // Loaded on first use: a PostgreSQL deployment never loads the embedded engine (about 40 MB of RSS).
  const { PGlite } = await import('@electric-sql/pglite');
  if (dataDir !== undefined) fs.mkdirSync(dataDir, { recursive: true });
  const lite = new PGlite(dataDir, { parsers: { [INT8_OID]: parseInt8 } });
  await lite.waitReady;
  const run = async <T>(c: Pick<PGlite, 'query'>, text: string, params?: readonly unknown[]) => {
    try {
      const res = await c.query<T>(text, params as unknown[] | undefined);
      return res.rows;
    } catch (err) {
      throw translateDbError(err);
    }
  };
  const mlflowOwned = await isMlflowOwned({ query: (t, p) => run(lite, t, p) });
  const session = (c: Pick<PGlite, 'exec' | 'query'>): Pick<MigrationSession, 'exec' | 'query'> => ({
    exec: async (sql) => void (await c.exec(sql)),
    query: async <T>(sql: string, params: unknown[]) => (await c.query<T>(sql, params)).rows,
  });
  const liteSession: MigrationSession = {
    ...session(lite),
    transaction: (fn) => lite.transaction((tx) => fn(session(tx))),
  };
  for (const set of migrationSets(mlflowOwned)) logApplied(log, set, await migrate(liteSession, set));
  log.info('database ready', { kind: 'pglite', dataDir: dataDir ?? 'memory' });
  return {
    kind: 'pglite',
    mlflowOwned,
    // PGlite runs every statement on its single connection; `name` is a no-op here.
    query: (text, params) => run(lite, text, params),
    transaction: (fn) => lite.transaction((tx) => fn({ query: (text, params) => run(tx, text, params) })),
    close: () => lite.close(),
  };
}
