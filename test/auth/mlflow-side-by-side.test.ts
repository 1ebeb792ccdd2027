/**
 * Side by side with MLflow 3.17.2's basic-auth app: `mlflow server --app-name basic-auth` creates its auth
 * database on PostgreSQL and a user through its REST API; AuthStore then opens that database unchanged and
 * reads the user's password and permissions, and a user created by AuthStore logs in to MLflow.
 * Also: the schema our auth migrations create is MLflow's, column for column.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolOptions, pooledTransaction } from '../../packages/server/src/store/db.js';
import { AuthStore, type AuthDatabase } from '../../packages/server/src/auth/store.js';
import { authMigrationSets, authSchemaOwner } from '../../packages/server/src/auth/migrations.js';
import { createTestDatabase } from '../helpers/server.js';
import { startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { openAuthTestDb } from './db.js';
import { HAVE_PYTHON, PYTHON, VENV } from '../../packages/server/src/auth/python.test-support.js';

const haveFlaskWtf = (() => {
  if (!HAVE_PYTHON) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import flask_wtf'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
// MLflow's basic-auth app needs Flask-WTF (mlflow[auth]); without it (or without PostgreSQL) this suite cannot run.
const skip = !process.env.TEST_DATABASE_URL || !haveFlaskWtf;
if (skip && process.env.CI === 'true') console.warn('mlflow-side-by-side: skipped (needs TEST_DATABASE_URL and Flask-WTF in the MLflow venv)');

const sqlalchemyUrl = (url: string) => url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');

function poolExecutor(pool: pg.Pool): AuthDatabase {
  return {
    query: async (text, params) => (await pool.query({ text, values: params as unknown[] | undefined })).rows,
    transaction: (fn) => pooledTransaction(pool, fn),
  };
}

describe.skipIf(skip)('side by side with mlflow server --app-name basic-auth', () => {
  let mlflow: MlflowServer | undefined;
  let dir: string;
  let base: string;
  let authUrl: string;
  let pool: pg.Pool;
  let store: AuthStore;
  const adminPassword = `adm-${randomBytes(12).toString('hex')}`;
  const userPassword = `usr-${randomBytes(12).toString('hex')}`;
  const admin = 'Basic ' + Buffer.from(`admin:${adminPassword}`).toString('base64');
  const basic = (u: string, p: string) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

  beforeAll(async () => {
    authUrl = await createTestDatabase();
    const backendUrl = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-auth-'));
    const ini = path.join(dir, 'basic_auth.ini');
    fs.writeFileSync(
      ini,
      `[mlflow]\ndefault_permission = READ\ndatabase_uri = ${sqlalchemyUrl(authUrl)}\nadmin_username = admin\nadmin_password = ${adminPassword}\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n`,
    );
    mlflow = await startMlflowServer({
      bin: path.join(VENV, 'bin/mlflow'),
      args: ['--app-name', 'basic-auth', '--backend-store-uri', sqlalchemyUrl(backendUrl)],
      cwd: dir,
      env: {
        MLFLOW_AUTH_CONFIG_PATH: ini,
        MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(16).toString('hex'),
        MLFLOW_AUTH_ADMIN_PASSWORD: adminPassword,
      },
    });
    base = mlflow.url;
    pool = new pg.Pool(poolOptions(authUrl, 2));
    store = new AuthStore(poolExecutor(pool));
  }, 180_000);

  afterAll(async () => {
    await mlflow?.stop();
    await pool?.end();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('reads a user created through MLflow’s REST API, with its password and permissions', async () => {
    const created = await fetch(`${base}/api/2.0/mlflow/users/create`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'mlflow-made', password: userPassword }),
    });
    expect(created.status, await created.clone().text()).toBe(200);
    // The creator of a model gets MANAGE (MLflow's after-request handler).
    const rm = await fetch(`${base}/api/2.0/mlflow/registered-models/create`, {
      method: 'POST',
      headers: { authorization: basic('mlflow-made', userPassword), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'side-by-side-model' }),
    });
    expect(rm.status, await rm.clone().text()).toBe(200);

    const q = (s: string, p: unknown[]) => pool.query(s, p).then((r) => r.rows);
    expect(await authSchemaOwner(q)).toBe('mlflow');
    // MLflow's tables, at 3.17.2's head, are left untouched; only our own token table is added beside them.
    expect((await authMigrationSets(q)).map((s) => s.table)).toEqual(['__mlflow_ts_migrations_auth_ext']);

    const user = await store.verifyCredentials('mlflow-made', userPassword);
    expect(user).toMatchObject({ username: 'mlflow-made', isAdmin: false });
    expect(await store.verifyCredentials('mlflow-made', `${userPassword}x`)).toBeUndefined();
    expect(await store.verifyCredentials('admin', adminPassword)).toMatchObject({ username: 'admin', isAdmin: true });
    expect((await store.effectivePermission('mlflow-made', 'registered_model', 'side-by-side-model', 'default')).name).toBe('MANAGE');
    expect((await store.effectivePermission('mlflow-made', 'registered_model', 'someone-elses', 'default')).name).toBe('READ');
    expect(await store.listUserGrants('mlflow-made')).toEqual([
      { workspace: 'default', resourceType: 'registered_model', resourcePattern: 'side-by-side-model', permission: 'MANAGE' },
    ]);
  });

  it('a user created and granted here logs in to MLflow and gets the grant there', async () => {
    await store.createUser('ts-made', userPassword);
    await store.grantUserPermission('ts-made', 'registered_model', 'side-by-side-model', 'EDIT', 'default');
    const get = await fetch(`${base}/api/2.0/mlflow/users/get?username=ts-made`, { headers: { authorization: basic('ts-made', userPassword) } });
    expect(get.status, await get.clone().text()).toBe(200);
    expect(await get.json()).toMatchObject({ user: { username: 'ts-made', is_admin: false } });
    expect((await fetch(`${base}/api/2.0/mlflow/users/get?username=ts-made`, { headers: { authorization: basic('ts-made', 'wrong-password-1') } })).status).toBe(401);
    const upd = await fetch(`${base}/api/2.0/mlflow/registered-models/update`, {
      method: 'PATCH',
      headers: { authorization: basic('ts-made', userPassword), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'side-by-side-model', description: 'edited by a user made in TypeScript' }),
    });
    expect(upd.status, await upd.clone().text()).toBe(200);
    const del = await fetch(`${base}/api/2.0/mlflow/registered-models/delete`, {
      method: 'DELETE',
      headers: { authorization: basic('ts-made', userPassword), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'side-by-side-model' }),
    });
    expect(del.status).toBe(403); // EDIT cannot delete
  });

  it('our auth migrations create MLflow’s schema, column for column', async () => {
    const describeSchema = async (query: (s: string) => Promise<Record<string, unknown>[]>) =>
      (
        await query(
          `SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length, c.is_nullable, c.column_default
             FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name NOT LIKE '\\_\\_mlflow\\_ts%'
            ORDER BY c.table_name, c.column_name`,
        )
      ).map((r) => JSON.stringify(r));
    const constraints = async (query: (s: string) => Promise<Record<string, unknown>[]>) =>
      (
        await query(
          `SELECT conrelid::regclass::text AS t, conname, contype, pg_get_constraintdef(oid) AS def FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '\\_\\_mlflow\\_ts%' ORDER BY 1, 2`,
        )
      ).map((r) => JSON.stringify(r));
    const indexes = async (query: (s: string) => Promise<Record<string, unknown>[]>) =>
      (await query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '\\_\\_mlflow\\_ts%' ORDER BY 1`)).map((r) => JSON.stringify(r));
    const mlflowQ = (s: string) => pool.query(s).then((r) => r.rows);
    const ours = await openAuthTestDb('postgres');
    try {
      // Our test database also holds the registry tables: compare the auth tables only.
      const authTables = new Set((await mlflowQ(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`)).map((r) => r.tablename as string));
      const oursQ = async (s: string) => (await ours.query<Record<string, unknown>>(s)).filter((r) => authTables.has(String(r.table_name ?? r.t ?? (r.indexdef as string)?.match(/ON public\.(\w+)/)?.[1])));
      expect(await describeSchema(oursQ)).toEqual(await describeSchema(mlflowQ));
      expect(await constraints(oursQ)).toEqual(await constraints(mlflowQ));
      expect(await indexes(oursQ)).toEqual(await indexes(mlflowQ));
    } finally {
      await ours.close();
    }
  });
});
