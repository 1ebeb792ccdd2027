/**
 * Which auth migrations to apply, like store/db.ts `migrationSets` does for the registry tables.
 *
 * - Auth tables created by this server (our bookkeeping table `__mlflow_ts_migrations_auth` exists), or no
 *   auth tables at all: apply auth/migrations (MLflow's auth schema at 3.17.2's head, stamped in
 *   alembic_version_auth so that MLflow's basic-auth app can run on it too).
 * - Auth tables created by MLflow's basic-auth app (alembic_version_auth exists, our bookkeeping table does
 *   not): apply nothing and leave MLflow's tables untouched. Their alembic revision must be 3.17.2's head:
 *   an older auth database still keeps some grants where 3.17 no longer reads them, so starting on it
 *   would silently change who may do what; it is refused with the command that upgrades it.
 * - `users` without alembic_version_auth: an auth database of MLflow < 3.6, refused the same way.
 * - In every case (MLflow's auth database included), then: auth/migrations-ext, our own auth tables
 *   (`mlflow_ts_access_tokens`, see ext-schema.ts) with their own bookkeeping table
 *   `__mlflow_ts_migrations_auth_ext`. MLflow never reads them, and their existence does not make the
 *   database "ours" (authSchemaOwner looks at `__mlflow_ts_migrations_auth` only).
 *
 * Call it inside the migration advisory lock, on the connection that migrates.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MigrationSet } from '../store/migrate.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from the package root so that the transpiled copy in dist/ finds the SQL files in src/.
export const AUTH_MIGRATIONS_DIR = path.resolve(here, '../../src/auth/migrations');
export const AUTH_MIGRATIONS_TABLE = '__mlflow_ts_migrations_auth';
export const AUTH_EXT_MIGRATIONS_DIR = path.resolve(here, '../../src/auth/migrations-ext');
export const AUTH_EXT_MIGRATIONS_TABLE = '__mlflow_ts_migrations_auth_ext';
const AUTH_EXT_SET: MigrationSet = { folder: AUTH_EXT_MIGRATIONS_DIR, table: AUTH_EXT_MIGRATIONS_TABLE };
/** MLflow 3.17.2's auth alembic head (f1a2b3c4d5e6_promote_prompt_resource_type). */
export const MLFLOW_AUTH_HEAD = 'f1a2b3c4d5e6';

export type AuthSchemaOwner = 'ours' | 'mlflow' | 'none';

type Query = <T>(sql: string, params: unknown[]) => Promise<T[]>;

/** Who created the auth tables of this database. */
export async function authSchemaOwner(query: Query): Promise<AuthSchemaOwner> {
  const [row] = await query<{ ours: string | null; alembic: string | null; users: string | null }>(
    `SELECT to_regclass('public.${AUTH_MIGRATIONS_TABLE}')::text AS ours, to_regclass('public.alembic_version_auth')::text AS alembic, to_regclass('public.users')::text AS users`,
    [],
  );
  if (row?.ours != null) return 'ours';
  if (row?.alembic != null || row?.users != null) return 'mlflow';
  return 'none';
}

const UPGRADE_HINT =
  'Upgrade it with MLflow 3.17.2 first (`python -m mlflow.server.auth db upgrade --url <database-url>`, or start `mlflow server --app-name basic-auth` 3.17.2 on it once).';

/**
 * The auth migration sets to apply (only our own auth tables on MLflow's auth database). Throws, with a message fit for the
 * operator, on an MLflow auth database at another revision than 3.17.2's head.
 */
export async function authMigrationSets(query: Query): Promise<MigrationSet[]> {
  const owner = await authSchemaOwner(query);
  if (owner !== 'mlflow') return [{ folder: AUTH_MIGRATIONS_DIR, table: AUTH_MIGRATIONS_TABLE }, AUTH_EXT_SET];
  const hasAlembic = (await query<{ t: string | null }>(`SELECT to_regclass('public.alembic_version_auth')::text AS t`, []))[0]?.t != null;
  if (!hasAlembic) {
    throw new Error(`The auth tables of this database were created by MLflow older than 3.6 (no alembic_version_auth). ${UPGRADE_HINT}`);
  }
  const revisions = (await query<{ version_num: string }>('SELECT version_num FROM alembic_version_auth', [])).map((r) => r.version_num);
  if (revisions.length !== 1 || revisions[0] !== MLFLOW_AUTH_HEAD) {
    throw new Error(
      `The auth tables of this database are at MLflow auth revision ${revisions.join(', ') || '(none)'}; this server needs ${MLFLOW_AUTH_HEAD} (MLflow 3.17.2). ${UPGRADE_HINT}`,
    );
  }
  return [AUTH_EXT_SET];
}
