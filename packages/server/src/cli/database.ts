/**
 * The databases the CLI works on, from the server's configuration: the registry database (DATABASE_URL,
 * else the embedded PGlite database under DATA_DIR/db) and, with AUTH=basic, the auth database
 * (AUTH_DATABASE_URL, else the registry database).
 *
 * - `openPlain`: a connection that changes nothing (no migrations), for `migrate status` and `doctor`.
 * - `openMigrated`: the database as the server opens it (pending migrations applied under the advisory
 *   lock), for `migrate apply` and the user/token commands.
 */
import path from 'node:path';
import pg from 'pg';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { Logger } from '../log.js';
import { DB_CONNECT_TIMEOUT_MS, openPglite, openPostgres, type Database } from '../store/db.js';
import { CliError } from './args.js';

export type Query = <T>(sql: string, params: unknown[]) => Promise<T[]>;

export interface PlainConnection {
  kind: 'postgres' | 'pglite';
  query: Query;
  close(): Promise<void>;
}

/** The configuration as the server reads it; a bad value is a CliError naming it. */
export function config(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`invalid configuration: ${err.message}`);
    throw err;
  }
}

export const pgliteDir = (c: Config) => path.join(c.dataDir, 'db');

/** One connection to `url` (PostgreSQL) or to the embedded database, without migrating anything. */
export async function openPlain(url: string | undefined, c: Config): Promise<PlainConnection> {
  if (url !== undefined) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS });
    // A connection that breaks while idle must not end the process with an unhandled 'error'.
    client.on('error', () => {});
    await client.connect();
    return { kind: 'postgres', query: async (sql, params) => (await client.query(sql, params)).rows, close: () => client.end() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const lite = new PGlite(pgliteDir(c));
  await lite.waitReady;
  return { kind: 'pglite', query: async <T>(sql: string, params: unknown[]) => (await lite.query<T>(sql, params)).rows, close: () => lite.close() };
}

/** A logger for the database layer that prints only the migrations applied (and warnings, on stderr) as plain lines. */
export function migrationLogger(print: (line: string) => void): Logger {
  const problem = (level: string) => (msg: string) => void process.stderr.write(`${level}: ${msg}\n`);
  return {
    debug: () => {},
    info: (msg, fields) => {
      if (msg !== 'migrations applied') return;
      for (const m of (fields?.migrations as string[] | undefined) ?? []) print(`applied  ${String(fields?.set)}  ${m}`);
    },
    warn: problem('warning'),
    error: problem('error'),
    enabled: (level) => level !== 'debug',
  };
}

/** The registry database and the auth database (the same object unless AUTH_DATABASE_URL is set), migrated. */
export async function openMigrated(c: Config, log: Logger, opts: { auth: boolean }): Promise<{ db: Database; authDb: Database | undefined; close(): Promise<void> }> {
  const authInMain = opts.auth && c.auth.databaseUrl === undefined;
  const db = c.databaseUrl ? await openPostgres(c.databaseUrl, 2, log, { auth: authInMain }) : await openPglite(pgliteDir(c), log, { auth: authInMain, optimizeWasm: c.embeddedWasmOptimize });
  let authDb: Database | undefined = authInMain ? db : undefined;
  try {
    if (opts.auth && !authInMain) authDb = await openPostgres(c.auth.databaseUrl!, 2, log, { registry: false, auth: true, setting: 'AUTH_DATABASE_URL' });
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    db,
    authDb,
    close: async () => {
      if (authDb && authDb !== db) await authDb.close();
      await db.close();
    },
  };
}

/** An error from a driver, as a message that never carries a URL's password. */
export function safeMessage(err: unknown, c?: Config): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (const url of [c?.databaseUrl, c?.auth.databaseUrl]) {
    if (!url) continue;
    try {
      const pw = decodeURIComponent(new URL(url).password);
      if (pw) msg = msg.split(pw).join('***');
    } catch {
      /* not a URL: nothing to hide */
    }
    msg = msg.split(url).join('<database url>');
  }
  return msg;
}
