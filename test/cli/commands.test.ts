/**
 * The CLI's surface, as a real process (its bin): `--help` on every command (and its text in
 * docs/cli.md), usage errors with exit code 2, `migrate status|apply` on a fresh PGlite directory and on
 * a scratch PostgreSQL database (with TEST_DATABASE_URL), and `doctor` passing, and failing on a bad
 * configuration and an unreachable database without printing the password.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../packages/server/src/cli/specs.js';
import { helpText } from '../../packages/server/src/cli/args.js';
import { createTestDatabase, TEST_FERNET_KEY } from '../helpers/server.js';
import { removeDir, scratchDir } from '../helpers/process.js';
import { S3_CREDENTIALS, S3_ENDPOINT, S3_SKIP_MESSAGE, createBucket, s3Admin } from '../artifacts/helpers.js';
import { ROOT, runCli } from './cli.js';

const dirs: string[] = [];
const dir = () => {
  const d = scratchDir('mlflow-cli-');
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach(removeDir));

const ADMIN_PASSWORD = 'admin-password-for-cli-tests';

describe('help and usage errors', { timeout: 120_000 }, () => {
  it('prints the command list on --help, and each command its options on --help', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    for (const c of COMMANDS) expect(main.stdout).toContain(`  ${c.spec.name} `);
    // Every command's help is its spec's text, and docs/cli.md carries it verbatim.
    const docs = fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
    for (const c of COMMANDS) {
      const res = await runCli([...c.spec.name.split(' '), '--help']);
      expect(res.code, c.spec.name).toBe(0);
      expect(res.stdout).toBe(helpText(c.spec));
      expect(res.stdout).toMatch(new RegExp(`^Usage: mlflow-registry ${c.spec.name}`));
      expect(docs, `docs/cli.md lacks the help of ${c.spec.name}`).toContain(res.stdout.trimEnd());
    }
    for (const group of ['migrate', 'user', 'token']) {
      const res = await runCli([group, '--help']);
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(new RegExp(`^Usage: mlflow-registry ${group} <command>`));
    }
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['user'], /missing command after 'user' \(one of: create, list, set-password, set-admin, delete\)/],
    [['migrate', 'sideways'], /unknown command 'migrate sideways' \(one of: status, apply\)/],
    [['migrate', 'status', '--verbose'], /Unknown option '--verbose'/],
    [['user', 'create'], /missing argument <username>/],
    [['user', 'delete', 'a', 'b'], /unexpected argument 'b'/],
    [['copy', '--concurrency', 'lots', '--from', 'http://127.0.0.1:1', '--to', 'http://127.0.0.1:1'], /--concurrency must be an integer between 1 and 64/],
    [['copy', '--to', 'http://127.0.0.1:1'], /no source: pass --from <url>/],
    [['token', 'create', 'alice'], /--name is required/],
  ])('%j is a usage error: one message, exit code 2', async (args, message) => {
    const res = await runCli(args, { env: { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD, DATA_DIR: dir() } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
    expect(res.stderr).toMatch(/^mlflow-registry: .*\nRun 'mlflow-registry --help' for usage\.\n$/);
    expect(res.stdout).toBe('');
  });
});

describe('migrate', { timeout: 120_000 }, () => {
  const databases: [string, () => Promise<Record<string, string>>][] = [
    ['a fresh PGlite directory', async () => ({ DATA_DIR: dir() })],
    ...(process.env.TEST_DATABASE_URL ? [['a scratch PostgreSQL database', async () => ({ DATA_DIR: dir(), DATABASE_URL: await createTestDatabase() })] as [string, () => Promise<Record<string, string>>]] : []),
  ];

  it.each(databases)('status lists pending migrations, apply applies them once, on %s (with the auth tables)', async (_name, make) => {
    const env = { ...(await make()), AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD };
    const before = await runCli(['migrate', 'status', '--json'], { env });
    expect(before.code, before.stderr).toBe(0);
    const states = JSON.parse(before.stdout) as { migrations: { database: string; set: string; tag: string; applied: boolean }[]; pending: number };
    expect(states.pending).toBe(states.migrations.length);
    const sets = [...new Set(states.migrations.map((m) => `${m.database}/${m.set}`))];
    expect(sets).toEqual(['registry/mlflow', 'registry/ext', 'auth/migrations', 'auth/migrations-ext']);

    const apply = await runCli(['migrate', 'apply'], { env });
    expect(apply.code, apply.stderr).toBe(0);
    const applied = apply.stdout.split('\n').filter((l) => l.startsWith('applied '));
    expect(applied).toHaveLength(states.migrations.length);
    expect(apply.stdout).toContain(`${states.migrations.length} migration(s) applied.`);

    const after = await runCli(['migrate', 'status'], { env });
    expect(after.code).toBe(0);
    expect(after.stdout).not.toMatch(/^pending/m);
    expect(after.stdout.split('\n').filter((l) => l.startsWith('applied '))).toHaveLength(states.migrations.length);
    expect(after.stdout).toMatch(/Up to date\.\n$/);

    const again = await runCli(['migrate', 'apply'], { env });
    expect(again.stdout).toBe('Nothing to apply: up to date.\n');
  });
});

describe('doctor', { timeout: 120_000 }, () => {
  it('passes on a migrated database, one line per check', async () => {
    const env = { DATA_DIR: dir(), AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD };
    expect((await runCli(['migrate', 'apply'], { env })).code).toBe(0);
    const res = await runCli(['doctor'], { env });
    expect(res.code, res.stdout).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ok config', 'ok data_dir', 'ok database', 'skip auth_database', 'skip s3', 'ok auth']);
    expect(res.stdout).toMatch(/admin user 'admin' will be created at next start/);
    expect(res.stdout).not.toContain(ADMIN_PASSWORD);
  });

  it('fails on pending migrations, an unreachable database and a bad configuration, never printing the password', async () => {
    const fresh = await runCli(['doctor'], { env: { DATA_DIR: dir() } });
    expect(fresh.code).toBe(1);
    expect(fresh.stdout).toMatch(/^fail\s+database\s+embedded database .* migration\(s\) pending .*run `mlflow-registry migrate apply`$/m);

    const secret = 'not-the-real-password-42';
    const down = await runCli(['doctor', '--json'], { env: { DATA_DIR: dir(), DATABASE_URL: `postgres://someone:${secret}@127.0.0.1:9/registry` } });
    expect(down.code).toBe(1);
    const report = JSON.parse(down.stdout) as { ok: boolean; checks: { check: string; status: string; detail: string }[] };
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'database')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/ECONNREFUSED/) });
    expect(down.stdout + down.stderr).not.toContain(secret);

    if (process.env.TEST_DATABASE_URL) {
      const url = new URL(process.env.TEST_DATABASE_URL);
      url.password = secret;
      const wrong = await runCli(['doctor'], { env: { DATA_DIR: dir(), DATABASE_URL: url.toString() } });
      expect(wrong.code).toBe(1);
      expect(wrong.stdout).toMatch(/^fail\s+database\s+PostgreSQL \(DATABASE_URL\): 28P01: password authentication failed/m);
      expect(wrong.stdout + wrong.stderr).not.toContain(secret);
    }

    const bad = await runCli(['doctor'], { env: { DATA_DIR: dir(), AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'short' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^fail\s+config\s+The configured password for the admin user 'admin' is invalid: Password must be at least 12 characters/m);
    expect(bad.stdout).not.toMatch(/short/);
  });

  it.skipIf(!S3_ENDPOINT)('checks S3: the bucket, and a probe object written, read back and deleted', async () => {
    const bucket = await createBucket();
    const env = { DATA_DIR: dir(), S3_BUCKET: bucket, S3_ENDPOINT_URL: S3_ENDPOINT!, ...S3_CREDENTIALS };
    expect((await runCli(['migrate', 'apply'], { env })).code).toBe(0);
    const res = await runCli(['doctor'], { env });
    expect(res.stdout).toMatch(new RegExp(`^ok\\s+s3\\s+bucket ${bucket} reachable; probe object written, read back and deleted$`, 'm'));
    expect(res.code).toBe(0);
    expect(await s3Admin().listKeys(bucket)).toEqual([]);
    const missing = await runCli(['doctor'], { env: { ...env, S3_BUCKET: `${bucket}-missing` } });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^fail\s+s3\s+bucket .*-missing: HeadBucket failed \(NotFound 404\)$/m);
  });
  it.skipIf(!S3_ENDPOINT)('with METADATA_STORE=s3: checks the change log instead of a database; nothing to migrate', async () => {
    const bucket = await createBucket();
    const env = { DATA_DIR: dir(), METADATA_STORE: 's3', MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: TEST_FERNET_KEY, S3_BUCKET: bucket, S3_PREFIX: 'artifacts', S3_ENDPOINT_URL: S3_ENDPOINT!, ...S3_CREDENTIALS };
    const status = await runCli(['migrate', 'status'], { env });
    expect([status.code, status.stdout]).toEqual([0, 'Nothing to migrate: with METADATA_STORE=s3 each replica applies the migrations to its own copy when it starts.\n']);
    expect(JSON.parse((await runCli(['migrate', 'status', '--json'], { env })).stdout)).toEqual({ migrations: [], pending: 0 });
    expect((await runCli(['migrate', 'apply'], { env })).code).toBe(0);
    const res = await runCli(['doctor'], { env });
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['ok config', 'skip data_dir', 'ok database', 'skip auth_database', 'ok s3', 'skip auth']);
    expect(res.stdout).toMatch(new RegExp(`^ok\\s+database\\s+METADATA_STORE=s3: change log s3://${bucket}/registry-metadata/log/ readable, 0 entries`, 'm'));
    expect(res.code).toBe(0);
    const missing = await runCli(['doctor'], { env: { ...env, S3_BUCKET: `${bucket}-missing` } });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/^fail\s+database\s+METADATA_STORE=s3: change log s3:\/\/.*-missing\/registry-metadata\/log\/: NoSuchBucket 404$/m);
  });
  if (!S3_ENDPOINT) console.warn(`[test/cli/commands] doctor's S3 check: ${S3_SKIP_MESSAGE}`);
});
