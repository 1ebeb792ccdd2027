/**
 * `user …` and `token …` as a real process, then logging in with what they made on a started server:
 *   - on the embedded database (PGlite): users and a token made with the server stopped (one process
 *     at a time may open the directory), then the server started on it accepts them;
 *   - on PostgreSQL (with TEST_DATABASE_URL): against a running server (credential cache off), a
 *     password change, a revoked token and a deleted user are refused at once; with the credential cache on
 *     (an hour), a password change, an admin flag and a deletion reach the server over the change feed.
 * Passwords come from stdin or --password-env, never from the command line.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/server.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { runCli } from './cli.js';

const ADMIN_PASSWORD = 'admin-password-for-cli-tests';
const ALICE = 'alice-password-0123';
const BOB = 'bob-password-456789';
const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  dirs.forEach(removeDir);
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
async function status(url: string, authorization: string): Promise<number> {
  const res = await fetch(`${url}/api/2.0/mlflow/registered-models/search`, { headers: { authorization } });
  await res.arrayBuffer();
  return res.status;
}

async function authEnv(): Promise<Record<string, string>> {
  const dataDir = scratchDir('mlflow-cli-users-');
  dirs.push(dataDir);
  return { DATA_DIR: dataDir, AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD, LOG_LEVEL: 'warn' };
}

describe('user and token administration', { timeout: 180_000 }, () => {
  it('refuses without AUTH=basic, and refuses bad input with the API\'s messages', async () => {
    const off = await runCli(['user', 'list'], { env: { DATA_DIR: (await authEnv()).DATA_DIR } });
    expect(off.code).toBe(1);
    expect(off.stderr).toBe('mlflow-registry: user and token administration needs AUTH=basic (the configuration the server runs with)\n');

    const env = await authEnv();
    const short = await runCli(['user', 'create', 'carol'], { env, input: 'too-short\n' });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/Password must be at least 12 characters\./);
    const noPassword = await runCli(['user', 'create', 'carol'], { env });
    expect(noPassword.code).toBe(1);
    expect(noPassword.stderr).toMatch(/no password on stdin/);
    const unsetVar = await runCli(['user', 'create', 'carol', '--password-env', 'NOT_SET_HERE'], { env });
    expect(unsetVar.stderr).toMatch(/NOT_SET_HERE \(--password-env\) is not set/);
    expect((await runCli(['user', 'create', 'carol'], { env, input: `${ALICE}\n` })).code).toBe(0);
    const dup = await runCli(['user', 'create', 'carol'], { env, input: `${ALICE}\n` });
    expect(dup.code).toBe(1);
    expect(dup.stderr).toBe('mlflow-registry: User (username=carol) already exists.\n');
    expect((await runCli(['user', 'delete', 'nobody'], { env })).stderr).toBe('mlflow-registry: User with username=nobody not found\n');
    expect((await runCli(['token', 'revoke', '999'], { env })).stderr).toBe('mlflow-registry: Access token with id=999 not found\n');
    expect((await runCli(['user', 'set-admin', 'carol', 'maybe'], { env })).code).toBe(2);
  });

  it('on the embedded database: users and a token made by the CLI log in on the server started afterwards', async () => {
    const env = await authEnv();
    const created = await runCli(['user', 'create', 'alice'], { env, input: `${ALICE}\n` });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toBe('created user alice\n');
    expect((await runCli(['user', 'create', 'bob', '--admin', '--password-env', 'BOB_PASSWORD'], { env: { ...env, BOB_PASSWORD: BOB } })).stdout).toBe('created user bob  (admin)\n');
    expect((await runCli(['user', 'set-admin', 'bob', 'false'], { env })).stdout).toBe('bob is no longer an admin\n');
    const list = JSON.parse((await runCli(['user', 'list', '--json'], { env })).stdout) as { users: { username: string; is_admin: boolean }[] };
    // The admin is created at the server's first start, not by the CLI.
    expect(list.users.map((u) => [u.username, u.is_admin])).toEqual([
      ['alice', false],
      ['bob', false],
    ]);
    const made = await runCli(['token', 'create', 'alice', '--name', 'ci', '--expires-in-days', '7', '--json'], { env });
    expect(made.code, made.stderr).toBe(0);
    const { token, access_token } = JSON.parse(made.stdout) as { token: string; access_token: { id: number; expiration_timestamp: number } };
    expect(token).toMatch(/^mlrt_[A-Za-z0-9_-]{43}$/);
    expect(access_token.expiration_timestamp - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const tokens = await runCli(['token', 'list', 'alice'], { env });
    expect(tokens.stdout).toMatch(new RegExp(`^${access_token.id}  ci  live  created `));
    expect(tokens.stdout).not.toContain(token);

    const server = await startServerProcess({ env: { ...env, LOG_LEVEL: 'info' } });
    servers.push(server);
    expect(await status(server.url, basic('alice', ALICE))).toBe(200);
    expect(await status(server.url, basic('bob', BOB))).toBe(200);
    expect(await status(server.url, `Bearer ${token}`)).toBe(200);
    expect(await status(server.url, basic('alice', 'wrong-password-123'))).toBe(401);
    expect(await status(server.url, basic('admin', ADMIN_PASSWORD))).toBe(200);
    await server.stop();
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('on PostgreSQL, beside a running server: password changes, revocations and deletions apply at once', async () => {
    const env = { ...(await authEnv()), DATABASE_URL: await createTestDatabase(), MLFLOW_AUTH_CACHE_TTL_SECONDS: '0' };
    const server = await startServerProcess({ env: { ...env, LOG_LEVEL: 'info' } });
    servers.push(server);
    expect((await runCli(['user', 'create', 'alice'], { env, input: `${ALICE}\n` })).code).toBe(0);
    expect(await status(server.url, basic('alice', ALICE))).toBe(200);
    const { token, access_token } = JSON.parse((await runCli(['token', 'create', 'alice', '--name', 'ci', '--json'], { env })).stdout) as {
      token: string;
      access_token: { id: number };
    };
    expect(await status(server.url, `Bearer ${token}`)).toBe(200);

    expect((await runCli(['token', 'revoke', String(access_token.id)], { env })).stdout).toBe(`revoked token ${access_token.id} 'ci' of alice\n`);
    expect(await status(server.url, `Bearer ${token}`)).toBe(401);
    expect((await runCli(['token', 'list', 'alice'], { env })).stdout).toMatch(/ ci {2}revoked /);

    expect((await runCli(['user', 'set-password', 'alice'], { env, input: `${BOB}\n` })).stdout).toBe('password of alice changed\n');
    expect(await status(server.url, basic('alice', ALICE))).toBe(401);
    expect(await status(server.url, basic('alice', BOB))).toBe(200);

    expect((await runCli(['user', 'delete', 'alice'], { env })).stdout).toBe('deleted user alice\n');
    expect(await status(server.url, basic('alice', BOB))).toBe(401);
    await server.stop();
  });

  it.skipIf(!process.env.TEST_DATABASE_URL)('on PostgreSQL, with the credential cache on: user changes reach the running server over the change feed', async () => {
    const env = { ...(await authEnv()), DATABASE_URL: await createTestDatabase(), MLFLOW_AUTH_CACHE_TTL_SECONDS: '3600', MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' };
    const server = await startServerProcess({ env: { ...env, LOG_LEVEL: 'info' } });
    servers.push(server);
    const admin = basic('admin', ADMIN_PASSWORD);
    const create = await fetch(`${server.url}/api/2.0/mlflow/registered-models/create`, {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'guarded' }),
    });
    expect(create.status).toBe(200);
    const getModel = async (authorization: string) => {
      const res = await fetch(`${server.url}/api/2.0/mlflow/registered-models/get?name=guarded`, { headers: { authorization } });
      await res.arrayBuffer();
      return res.status;
    };
    // Polled: the notification arrives on the server's LISTEN connection shortly after the CLI's commit.
    const eventually = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 150 && !(await check()); i++) await new Promise((r) => setTimeout(r, 200));
      return check();
    };
    expect((await runCli(['user', 'create', 'alice'], { env, input: `${ALICE}\n` })).code).toBe(0);
    expect(await getModel(basic('alice', ALICE))).toBe(403); // cached: alice, no admin
    expect((await runCli(['user', 'set-admin', 'alice', 'true'], { env })).code).toBe(0);
    expect(await eventually(async () => (await getModel(basic('alice', ALICE))) === 200)).toBe(true);
    expect((await runCli(['user', 'set-password', 'alice'], { env, input: `${BOB}\n` })).code).toBe(0);
    expect(await eventually(async () => (await getModel(basic('alice', ALICE))) === 401)).toBe(true);
    expect(await getModel(basic('alice', BOB))).toBe(200);
    expect((await runCli(['user', 'delete', 'alice'], { env })).code).toBe(0);
    expect(await eventually(async () => (await getModel(basic('alice', BOB))) === 401)).toBe(true);
    await server.stop();
  });
});
