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
import { authMigrationSets } from '../auth/migrations.js';
import { compileWasmBaselineOnly, needsInitdb, pgliteStartParams } from './pglite-memory.js';
import { initialiseDataDir } from './pglite-template.js';

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
  /** PostgreSQL: the pool's connections now (metrics); none on PGlite. */
  poolStats?(): { total: number; idle: number; waiting: number; max: number };
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from the package root so the transpiled copy in dist/ (scripts/build.ts) finds the SQL files in src/.
export const MIGRATIONS_DIR = path.resolve(here, '../../src/store/migrations');
/** Arbitrary constant key of the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 4_242_017_001;

const INT8_OID = 20;
const parseInt8 = (v: string) => Number(v);

/**
 * How long a request may wait for a database connection: for a free one of the pool, and for a new one
 * to be established (pg applies the same limit to both). On loopback or a LAN a connection takes
 * milliseconds and a refused one fails at once; the limit matters when the database host does not answer
 * at all (a network partition, a host that is down), where it bounds each request to this long before it
 * answers 503. It also turns a pool saturated for this long into 503s (with Retry-After) rather than
 * ever longer queues. (pg's own default is no limit; ours was 10 s.) Candidate setting: DB_CONNECT_TIMEOUT_MS.
 */
export const DB_CONNECT_TIMEOUT_MS = 5_000;
/** TCP keepalive on every connection, so that a peer that vanished without a FIN is noticed (the kernel's default waits 2 h). */
const KEEPALIVE_DELAY_MS = 10_000;

/**
 * Node's network errors (their `code`): the database cannot be reached, or the connection broke.
 * https://nodejs.org/api/errors.html#common-system-errors and getaddrinfo's codes.
 */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ENOTCONN',
  'ESHUTDOWN',
  'EADDRNOTAVAIL',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
]);
/**
 * SQLSTATEs of a connection that is lost or cannot be had now: class 08 (connection exception), 57P01
 * admin_shutdown (pg_terminate_backend, fast shutdown), 57P02 crash_shutdown, 57P03 cannot_connect_now
 * (starting up, shutting down, recovering), 57P05 idle_session_timeout, 25P03
 * idle_in_transaction_session_timeout, 53300 too_many_connections.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '25P03', '53300']);
/** pg's and pg-pool's own errors (they have no code) for a connection that broke or could not be had. */
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error and is not queryable|Client was closed and is not queryable|timeout exceeded when trying to connect|Query read timeout|Cannot use a pool after calling end on the pool)/;

/**
 * The reason a database error means "the database is unavailable now", or undefined when it is another
 * error: a label fit for clients (a Node error code, a SQLSTATE or a fixed phrase), never the driver's
 * message, which may name the host, port or user.
 */
function unavailableReason(err: unknown, depth = 0): string | undefined {
  if (err === null || typeof err !== 'object' || depth > 3) return undefined;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_ERROR_CODES.has(e.code)) return e.code;
    if (/^08[0-9A-Z]{3}$/.test(e.code) || UNAVAILABLE_SQLSTATES.has(e.code)) return `SQLSTATE ${e.code}`;
  }
  if (typeof e.message === 'string' && typeof e.code !== 'string') {
    const m = UNAVAILABLE_MESSAGES.exec(e.message);
    if (m) return m[1]!.startsWith('timeout') ? 'connection timeout' : 'connection lost';
  }
  // AggregateError (a host with several addresses, all refused) and wrapped errors.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const r = unavailableReason(inner, depth + 1);
      if (r) return r;
    }
  }
  return e.cause === undefined ? undefined : unavailableReason(e.cause, depth + 1);
}

const unavailable = (reason: string, cause: unknown, what = 'The database is temporarily unavailable') =>
  new MlflowError('TEMPORARILY_UNAVAILABLE', `${what} (${reason}); retry later.`, { cause });

/** Whether `err` (raw or translated) means the database is unavailable now (503). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof MlflowError) return err.errorCode === 'TEMPORARILY_UNAVAILABLE';
  return unavailableReason(err) !== undefined;
}

/**
 * Translates driver errors into MLflow's codes; anything unknown stays a 500 INTERNAL_ERROR. A lost or
 * refused connection is TEMPORARILY_UNAVAILABLE (503, with Retry-After), with a message that names the
 * cause by its code only (the driver's text may carry the host, port or user name; the URL's password
 * never appears in either).
 */
export function translateDbError(err: unknown): unknown {
  if (err instanceof MlflowError) return err;
  const reason = unavailableReason(err);
  if (reason !== undefined) return unavailable(reason, err);
  const e = err as { code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code;
  const message = e?.message ?? String(err);
  if (typeof code !== 'string') return err;
  if (code === '23505') return new MlflowError('RESOURCE_ALREADY_EXISTS', message, { cause: err });
  // 22001 string too long, 22003 numeric out of range, 23xxx other integrity errors: MLflow's
  // session layer reports any SQLAlchemyError other than OperationalError as BAD_REQUEST.
  if (code.startsWith('22') || code.startsWith('23')) return new MlflowError('BAD_REQUEST', message, { cause: err });
  return err;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** pg.Pool options shared by the registry pool and the webhook worker's pool. */
export function poolOptions(url: string, max: number, extra: pg.PoolConfig = {}): pg.PoolConfig {
  return {
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    types: { getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser },
    ...extra,
  };
}

/** Runs one statement on a pooled client (or the pool), translating errors. */
async function runOn<T>(c: pg.Pool | pg.PoolClient, text: string, params?: readonly unknown[], name?: string): Promise<T[]> {
  try {
    const res = await c.query({ text, values: params as unknown[] | undefined, name });
    return res.rows as T[];
  } catch (err) {
    throw translateDbError(err);
  }
}

/**
 * Runs `fn` in a transaction on a client of `pool`; errors come back translated (translateDbError).
 *
 * - While the client is checked out it has an 'error' listener: pg emits 'error' on a client whose
 *   connection breaks (pg_terminate_backend, a restart, a network error) even between queries, and an
 *   'error' event without a listener ends the process.
 * - A client that errored (or whose ROLLBACK failed) is released with the error, which makes the pool
 *   destroy it; only a healthy client goes back to the pool.
 * - A BEGIN that fails for a lost connection is tried once more on another client (nothing was done
 *   yet): after a restart or pg_terminate_backend, the pool may hand out a client whose death it has
 *   not processed yet.
 * - A COMMIT whose connection breaks has an unknown outcome: it answers TEMPORARILY_UNAVAILABLE (503),
 *   never a success, with a message that says the change may have been applied.
 */
export async function pooledTransaction<T>(pool: pg.Pool, fn: (tx: Executor) => Promise<T>, beginRetries = 1): Promise<T> {
  let c: pg.PoolClient;
  try {
    c = await pool.connect();
  } catch (err) {
    throw translateDbError(err);
  }
  let broken: unknown;
  const onError = (err: Error) => {
    broken ??= err;
  };
  c.on('error', onError);
  let phase: 'begin' | 'body' | 'commit' = 'begin';
  try {
    await runOn(c, 'BEGIN');
    phase = 'body';
    const result = await fn({ query: (text, params, name) => runOn(c, text, params, name) });
    phase = 'commit';
    await runOn(c, 'COMMIT');
    return result;
  } catch (err) {
    const lost = broken !== undefined || isUnavailable(err);
    if (lost) {
      // The session is gone or going: PostgreSQL rolls back what it had not committed.
      broken ??= err;
    } else {
      try {
        await c.query('ROLLBACK');
      } catch (rollbackErr) {
        broken ??= rollbackErr;
      }
    }
    if (lost && phase === 'commit') {
      throw unavailable(
        unavailableReason(broken) ?? unavailableReason(err) ?? 'connection lost',
        err,
        'The connection to the database was lost during COMMIT: the change may or may not have been applied',
      );
    }
    if (!(lost && phase === 'begin' && beginRetries > 0)) {
      if (lost && !isUnavailable(err) && !(err instanceof MlflowError)) throw unavailable(unavailableReason(broken) ?? 'connection lost', err);
      throw translateDbError(err);
    }
    // Falls through to the retry, once this client is released.
  } finally {
    c.removeListener('error', onError);
    c.release(broken === undefined ? undefined : asError(broken));
  }
  return pooledTransaction(pool, fn, beginRetries - 1);
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

/** What to migrate when a database is opened. */
export interface OpenOptions {
  /** The registry tables (MLflow's and ours). Default true; false for a separate auth database. */
  registry?: boolean;
  /** MLflow's auth tables (auth/migrations.ts), after the registry's, in the same lock. Default false. */
  auth?: boolean;
  /** The setting the URL came from, for messages (default DATABASE_URL). */
  setting?: string;
  /** Embedded engine: let V8 optimise its WebAssembly (EMBEDDED_WASM_OPTIMIZE; pglite-memory.ts). Default false. */
  optimizeWasm?: boolean;
}

/** Applies the migration sets `opts` asks for, in order, on `session` (inside the caller's lock). */
async function migrateAll(session: MigrationSession, mlflowOwned: boolean, opts: OpenOptions, log: Logger): Promise<void> {
  if (opts.registry !== false) for (const set of migrationSets(mlflowOwned)) logApplied(log, set, await migrate(session, set));
  if (opts.auth) for (const set of await authMigrationSets((sql, params) => session.query(sql, params))) logApplied(log, set, await migrate(session, set));
}

export async function openPostgres(url: string, poolMax: number, log: Logger, opts: OpenOptions = {}): Promise<Database> {
  const pool = new pg.Pool(poolOptions(url, poolMax));
  // Idle clients whose connection breaks are removed by the pool, which reports them here.
  pool.on('error', (err) => log.warn('idle database connection failed', { reason: unavailableReason(err) ?? err.message }));

  let mlflowOwned = false;
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(`cannot connect to ${opts.setting ?? 'DATABASE_URL'}: ${(err as Error).message}`);
  }
  let startBroken: Error | undefined;
  const onStartError = (err: Error) => {
    startBroken ??= err;
  };
  client.on('error', onStartError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      mlflowOwned = await isMlflowOwned({ query: (t, p) => runOn(client, t, p) });
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
      await migrateAll(session, mlflowOwned, opts, log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.removeListener('error', onStartError);
    client.release(startBroken);
  }
  log.info('database ready', { kind: 'postgres', mlflowOwned });

  return {
    kind: 'postgres',
    mlflowOwned,
    query: (text, params, name) => runOn(pool, text, params, name),
    transaction: (fn) => pooledTransaction(pool, fn),
    close: () => pool.end(),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: poolMax }),
  };
}

export async function openPglite(dataDir: string | undefined, log: Logger, opts: OpenOptions = {}): Promise<Database> {
  // Loaded on first use: a PostgreSQL deployment never loads the embedded engine (about 40 MB of RSS).
  if (!opts.optimizeWasm) compileWasmBaselineOnly();
  const { PGlite } = await import('@electric-sql/pglite');
  const startParams = pgliteStartParams(PGlite.defaultStartParams);
  if (dataDir !== undefined) {
    fs.mkdirSync(dataDir, { recursive: true });
    if (needsInitdb(dataDir)) {
      const from = await initialiseDataDir(dataDir, startParams, !opts.optimizeWasm, log);
      log.info('initialising the embedded database', { dataDir, from });
    }
  }
  const lite = new PGlite(dataDir, { parsers: { [INT8_OID]: parseInt8 }, startParams });
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
  await migrateAll(liteSession, mlflowOwned, opts, log);
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
