/**
 * `doctor`: one line per check, `ok`, `fail` or `skip`, and exit code 1 when any check fails. Checks run
 * in order and later ones are skipped when what they need failed (no database check without a valid
 * configuration). Messages name settings and error codes, never a password, key or URL.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { failureCode } from '../http/ready.js';
import { LEGACY_DEFAULT_ADMIN_PASSWORD } from '../auth/store.js';
import { verifyPassword } from '../auth/passwords.js';
import type { Parsed } from './args.js';
import { openPlain, safeMessage } from './database.js';
import { migrationStates } from './migrate.js';
import { s3ClientConfig } from '../artifacts/s3-client-config.js';

type Outcome = { status: 'ok' | 'fail' | 'skip'; detail: string };
const ok = (detail: string): Outcome => ({ status: 'ok', detail });
const fail = (detail: string): Outcome => ({ status: 'fail', detail });
const skip = (detail: string): Outcome => ({ status: 'skip', detail });

/** A database error as its code (SQLSTATE, Node code) plus the driver's message without secrets. */
function dbFailure(err: unknown, c: Config): string {
  const code = (err as { code?: unknown })?.code;
  return `${typeof code === 'string' ? `${code}: ` : ''}${safeMessage(err, c)}`;
}

function dataDirCheck(c: Config): Outcome {
  const embedded = !c.databaseUrl && c.metadataStore.kind === 'database';
  const used = [...(embedded ? ['embedded database'] : []), ...(c.artifactsStore === 'local' ? ['local artifacts'] : [])];
  if (used.length === 0) return skip(`not used (${c.databaseUrl ? 'DATABASE_URL' : 'METADATA_STORE=s3'} and a remote artifact store are set)`);
  try {
    fs.mkdirSync(c.dataDir, { recursive: true });
    const probe = path.join(c.dataDir, `.doctor-${process.pid}`);
    fs.writeFileSync(probe, 'ok');
    fs.rmSync(probe);
    return ok(`${c.dataDir} is writable (${used.join(', ')})`);
  } catch (err) {
    return fail(`${c.dataDir} is not writable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** METADATA_STORE=s3: the change log can be listed (what every read of the server does first). */
async function changeLogCheck(c: Config, prefix: string): Promise<Outcome> {
  const { S3ChangeLog } = await import('../store/s3-log/change-log.js');
  const changes = await S3ChangeLog.open({ s3: c.s3!, prefix, sessionToken: c.artifacts.s3SessionToken });
  try {
    const entries = (await changes.listAfter(0)).length;
    return ok(`METADATA_STORE=s3: change log ${changes.description} readable, ${entries} entries (each replica applies the migrations to its own copy)`);
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
    return fail(`METADATA_STORE=s3: change log ${changes.description}: ${e.code ?? e.name ?? 'error'}${e.$metadata?.httpStatusCode ? ` ${e.$metadata.httpStatusCode}` : ''}`);
  } finally {
    changes.close();
  }
}

async function databaseCheck(c: Config): Promise<Outcome> {
  if (c.metadataStore.kind === 's3') return changeLogCheck(c, c.metadataStore.prefix);
  const what = c.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'embedded database';
  try {
    const conn = await openPlain(c.databaseUrl, c);
    let version: string;
    try {
      version = (await conn.query<{ v: string }>("SELECT current_setting('server_version') AS v", []))[0]?.v ?? '?';
    } finally {
      await conn.close();
    }
    const states = await migrationStates(c);
    const pending = states.filter((s) => !s.applied);
    if (pending.length > 0) {
      return fail(`${what} ${version} reachable, but ${pending.length} migration(s) pending (${pending.map((s) => `${s.database}/${s.set}/${s.tag}`).join(', ')}): run \`mlflow-registry migrate apply\``);
    }
    return ok(`${what} ${version} reachable, ${states.length} migrations applied`);
  } catch (err) {
    return fail(`${what}: ${dbFailure(err, c)}`);
  }
}

async function authDatabaseCheck(c: Config): Promise<Outcome> {
  if (c.auth.mode !== 'basic' || c.auth.databaseUrl === undefined) return skip('AUTH_DATABASE_URL not set');
  try {
    const conn = await openPlain(c.auth.databaseUrl, c);
    await conn.query('SELECT 1', []);
    await conn.close();
    return ok('AUTH_DATABASE_URL reachable');
  } catch (err) {
    return fail(`AUTH_DATABASE_URL: ${dbFailure(err, c)}`);
  }
}

/** HeadBucket, then a probe object written, read back (compared) and deleted. */
async function s3Check(c: Config): Promise<Outcome> {
  const s3 = c.s3;
  if (!s3) return skip('S3_BUCKET not set');
  const { S3Client, HeadBucketCommand, PutObjectCommand, GetObjectCommand, DeleteObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({ ...s3ClientConfig(s3, c.artifacts.s3SessionToken), maxAttempts: 1 });
  const key = `${s3.prefix ? `${s3.prefix}/` : ''}.mlflow-registry-doctor/${crypto.randomUUID()}`;
  const body = crypto.randomBytes(32).toString('hex');
  let step = 'HeadBucket';
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
    step = 'PutObject';
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
    step = 'GetObject';
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    const text = await got.Body?.transformToString();
    step = 'DeleteObject';
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    if (text !== body) return fail(`bucket ${s3.bucket}: the probe object read back differs from what was written`);
    return ok(`bucket ${s3.bucket} reachable; probe object written, read back and deleted`);
  } catch (err) {
    return fail(`bucket ${s3.bucket}: ${step} ${failureCode(err)}`);
  } finally {
    client.destroy();
  }
}

/** The admin password policy (checked by the configuration) and the admin user in the auth tables. */
async function authCheck(c: Config, databaseOk: boolean): Promise<Outcome> {
  if (c.auth.mode !== 'basic') return skip('AUTH=none: no authentication (loopback only unless AUTH=none is set explicitly)');
  const policy = `admin password policy met (MLFLOW_AUTH_ADMIN_PASSWORD), default permission ${c.auth.defaultPermission}`;
  if (!databaseOk) return ok(`${policy}; admin user not checked (database unavailable)`);
  try {
    const conn = await openPlain(c.auth.databaseUrl ?? c.databaseUrl, c);
    try {
      const [users] = await conn.query<{ t: string | null }>(`SELECT to_regclass('public.users')::text AS t`, []);
      if (users?.t == null) return ok(`${policy}; admin user '${c.auth.adminUsername}' will be created at first start`);
      const [admin] = await conn.query<{ password_hash: string | null; is_admin: boolean | null }>('SELECT password_hash, is_admin FROM users WHERE username = $1', [
        c.auth.adminUsername,
      ]);
      if (!admin) return ok(`${policy}; admin user '${c.auth.adminUsername}' will be created at next start`);
      if (admin.is_admin !== true) return fail(`user '${c.auth.adminUsername}' (MLFLOW_AUTH_ADMIN_USERNAME) exists but is not an admin`);
      if (await verifyPassword(admin.password_hash, LEGACY_DEFAULT_ADMIN_PASSWORD)) {
        return fail(`admin '${c.auth.adminUsername}' still has the legacy default password: it is rotated to MLFLOW_AUTH_ADMIN_PASSWORD at the next start`);
      }
      return ok(`${policy}; admin user '${c.auth.adminUsername}' exists`);
    } finally {
      await conn.close();
    }
  } catch (err) {
    return fail(`auth tables: ${dbFailure(err, c)}`);
  }
}

export async function doctor(parsed: Parsed): Promise<number> {
  const results: { check: string; status: Outcome['status']; detail: string }[] = [];
  const print = (check: string, o: Outcome) => {
    results.push({ check, ...o });
    if (!parsed.values.json) process.stdout.write(`${o.status.padEnd(4)}  ${check.padEnd(13)}  ${o.detail}\n`);
  };
  let c: Config | undefined;
  try {
    c = loadConfig();
    print('config', ok(`${c.metadataStore.kind === 's3' ? 'metadata in S3' : c.databaseUrl ? 'PostgreSQL' : 'embedded database'}, artifacts ${c.artifactsStore}, AUTH=${c.auth.mode}, listens on ${c.host}:${c.port}`));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    print('config', fail(err.message));
  }
  if (c) {
    print('data_dir', dataDirCheck(c));
    const db = await databaseCheck(c);
    print('database', db);
    print('auth_database', await authDatabaseCheck(c));
    print('s3', await s3Check(c));
    print('auth', await authCheck(c, db.status === 'ok'));
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  if (parsed.values.json) process.stdout.write(`${JSON.stringify({ ok: failed === 0, checks: results })}\n`);
  return failed === 0 ? 0 : 1;
}
