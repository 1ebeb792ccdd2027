/** An open database (registry tables + auth tables) for the auth store suites, on PGlite or PostgreSQL. */
import { openPglite, openPostgres, type Database } from '../../packages/server/src/store/db.js';
import { migrate, type MigrationSession } from '../../packages/server/src/store/migrate.js';
import { authMigrationSets } from '../../packages/server/src/auth/migrations.js';
import { createLogger } from '../../packages/server/src/log.js';
import { createTestDatabase, type Backend } from '../helpers/server.js';

const log = createLogger('silent');

/** Applies the auth migration sets the way store/db.ts should (see the report of issue 22). */
export async function applyAuthMigrations(db: Database): Promise<string[]> {
  const session: MigrationSession = {
    exec: async (sql) => void (await db.query(sql)),
    query: (sql, params) => db.query(sql, params),
    transaction: (fn) => db.transaction((tx) => fn({ exec: async (sql) => void (await tx.query(sql)), query: (sql, params) => tx.query(sql, params) })),
  };
  const applied: string[] = [];
  for (const set of await authMigrationSets((sql, params) => db.query(sql, params))) applied.push(...(await migrate(session, set)));
  return applied;
}

export async function openAuthTestDb(backend: Backend, url?: string): Promise<Database> {
  const db = backend === 'pglite' ? await openPglite(undefined, log) : await openPostgres(url ?? (await createTestDatabase()), 4, log);
  await applyAuthMigrations(db);
  return db;
}
