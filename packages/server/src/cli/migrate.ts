/**
 * `migrate status` and `migrate apply`. Status reads each migration set's bookkeeping table the way
 * store/migrate.ts decides what is pending (a migration is applied when its journal `when` is not later
 * than the last recorded `created_at`), on a plain connection that changes nothing; apply opens the
 * databases as the server does, which applies what is pending under the advisory lock.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import { migrationSets } from '../store/db.js';
import { readMigrations, type MigrationSet } from '../store/migrate.js';
import { authMigrationSets } from '../auth/migrations.js';
import { ARTIFACTS_PG_MIGRATIONS, migrateArtifactTables } from '../artifacts/pg-migrations.js';
import type { Parsed } from './args.js';
import { config, migrationLogger, openMigrated, openPlain, safeMessage, type Query } from './database.js';

export interface MigrationState {
  /** `registry`, `auth` (the database the set lives in). */
  database: 'registry' | 'auth';
  /** The set's folder name: mlflow, ext, migrations, migrations-ext. */
  set: string;
  tag: string;
  applied: boolean;
}

/** Whether mlflow server created the registry tables (store/db.ts decides the same way at open). */
async function mlflowOwned(query: Query): Promise<boolean> {
  const [row] = await query<{ alembic: string | null; rm: string | null }>(
    `SELECT to_regclass('alembic_version')::text AS alembic, to_regclass('registered_models')::text AS rm`,
    [],
  );
  return row?.alembic != null && row?.rm != null;
}

async function setState(query: Query, database: MigrationState['database'], set: MigrationSet): Promise<MigrationState[]> {
  const [exists] = await query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`public."${set.table}"`]);
  let last = -Infinity;
  if (exists?.t != null) {
    const [row] = await query<{ created_at: string | number | null }>(`SELECT created_at FROM "public"."${set.table}" ORDER BY created_at DESC LIMIT 1`, []);
    if (row?.created_at != null) last = Number(row.created_at);
  }
  const name = path.basename(set.folder);
  return readMigrations(set.folder).map((m) => ({ database, set: name, tag: m.tag, applied: m.when <= last }));
}

/** Every migration of every set this configuration uses, applied or pending; changes nothing. */
export async function migrationStates(c: Config): Promise<MigrationState[]> {
  const out: MigrationState[] = [];
  const auth = c.auth.mode === 'basic';
  const main = await openPlain(c.databaseUrl, c);
  try {
    for (const set of migrationSets(await mlflowOwned(main.query))) out.push(...(await setState(main.query, 'registry', set)));
    // ARTIFACTS_STORE=postgres keeps the artifact bytes in tables of their own set, in the same database.
    if (c.artifactsStore === 'postgres') out.push(...(await setState(main.query, 'registry', ARTIFACTS_PG_MIGRATIONS)));
    if (auth && c.auth.databaseUrl === undefined) for (const set of await authMigrationSets(main.query)) out.push(...(await setState(main.query, 'auth', set)));
  } finally {
    await main.close();
  }
  if (auth && c.auth.databaseUrl !== undefined) {
    const authConn = await openPlain(c.auth.databaseUrl, c);
    try {
      for (const set of await authMigrationSets(authConn.query)) out.push(...(await setState(authConn.query, 'auth', set)));
    } finally {
      await authConn.close();
    }
  }
  return out;
}

const where = (c: Config) => (c.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `the embedded database in ${path.join(c.dataDir, 'db')}`);

/** METADATA_STORE=s3 has no shared schema to migrate: each replica migrates its own copy at start. */
const S3_NOTHING = 'Nothing to migrate: with METADATA_STORE=s3 each replica applies the migrations to its own copy when it starts.\n';

export async function status(parsed: Parsed): Promise<number> {
  const c = config();
  if (c.metadataStore.kind === 's3') {
    process.stdout.write(parsed.values.json ? `${JSON.stringify({ migrations: [], pending: 0 })}\n` : S3_NOTHING);
    return 0;
  }
  let states: MigrationState[];
  try {
    states = await migrationStates(c);
  } catch (err) {
    process.stderr.write(`mlflow-registry: cannot read the migrations of ${where(c)}: ${safeMessage(err, c)}\n`);
    return 1;
  }
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify({ migrations: states, pending: states.filter((s) => !s.applied).length })}\n`);
    return 0;
  }
  const lines = [`Database: ${where(c)}${c.auth.mode === 'basic' && c.auth.databaseUrl ? '; auth tables in AUTH_DATABASE_URL' : ''}`];
  for (const s of states) lines.push(`${s.applied ? 'applied' : 'pending'}  ${s.database}/${s.set}  ${s.tag}`);
  const pending = states.filter((s) => !s.applied).length;
  lines.push(pending === 0 ? 'Up to date.' : `${pending} pending: run \`mlflow-registry migrate apply\` (or start the server).`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export async function apply(): Promise<number> {
  const c = config();
  if (c.metadataStore.kind === 's3') {
    process.stdout.write(S3_NOTHING);
    return 0;
  }
  let count = 0;
  const log = migrationLogger((line) => {
    count++;
    process.stdout.write(`${line}\n`);
  });
  try {
    const dbs = await openMigrated(c, log, { auth: c.auth.mode === 'basic' });
    try {
      if (c.artifactsStore === 'postgres') await migrateArtifactTables(dbs.db, log);
    } finally {
      await dbs.close();
    }
  } catch (err) {
    process.stderr.write(`mlflow-registry: cannot migrate ${where(c)}: ${safeMessage(err, c)}\n`);
    return 1;
  }
  process.stdout.write(count === 0 ? 'Nothing to apply: up to date.\n' : `${count} migration(s) applied.\n`);
  return 0;
}
