/**
 * Applies the PostgreSQL artifact store's own migration set (artifacts/migrations-pg, bookkeeping table
 * `__mlflow_ts_migrations_artifacts_pg`), only when ARTIFACTS_STORE=postgres: a server that keeps its
 * artifacts elsewhere never creates these tables. Runs on the server's Database after store/db.ts has
 * migrated the registry, in one transaction under its own advisory lock (PostgreSQL), so replicas
 * starting together apply it exactly once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database, Executor } from '../store/db.js';
import { migrate, type MigrationSession, type MigrationSet } from '../store/migrate.js';
import type { Logger } from '../log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from the package root so that the transpiled copy in dist/ finds the SQL files in src/.
export const ARTIFACTS_PG_MIGRATIONS: MigrationSet = {
  folder: path.resolve(here, '../../src/artifacts/migrations-pg'),
  table: '__mlflow_ts_migrations_artifacts_pg',
};
/** Arbitrary constant key, beside store/db.ts's registry migration lock (4_242_017_001). */
const LOCK_KEY = 4_242_017_002;

export async function migrateArtifactTables(db: Database, log: Logger): Promise<void> {
  const applied = await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    return migrate(session(tx), ARTIFACTS_PG_MIGRATIONS);
  });
  if (applied.length > 0) log.info('migrations applied', { set: 'artifacts-pg', migrations: applied });
}

/** The migrator's session on one open transaction (its statements are one per call). */
function session(tx: Executor): MigrationSession {
  const s: MigrationSession = {
    exec: async (sql) => void (await tx.query(sql)),
    query: (sql, params) => tx.query(sql, params),
    transaction: (fn) => fn(s),
  };
  return s;
}
