/**
 * Personal access tokens (issue 22: "Tokens: issue, use, expire, revoke"), over real HTTP with AUTH=basic:
 * issue (shown once, stored as a SHA-256 hash only), use as `Authorization: Bearer` (what
 * MLFLOW_TRACKING_TOKEN sends; the official Python client too when it is installed), expire, revoke
 * (refused at once on the replica that revokes), listing (never the secret; another user's tokens are the
 * admin's business), a deleted user's tokens, and no token in the logs.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backends, createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { TokenStore } from '../../packages/server/src/auth/tokens.js';
import { HAVE_PYTHON, PYTHON } from '../../packages/server/src/auth/python.test-support.js';

const ADMIN_PW = 'the-admin-password-1';
const PW = 'a-user-password-12';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const bearer = (t: string) => `Bearer ${t}`;
const ADMIN = basic('admin', ADMIN_PW);

describe.each(backends())('personal access tokens (%s)', (backend) => {
  let srv: TestServer;
  const logged: string[] = [];
  const spies: ReturnType<typeof vi.spyOn>[] = [];

  const req = async (auth: string | undefined, method: string, p: string, body?: unknown) => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await srv.fetch(p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, body: json, headers: res.headers };
  };
  const createToken = (auth: string | undefined, body: unknown) => req(auth, 'POST', '/api/2.0/mlflow-ts/tokens/create', body);
  const tokenStore = () => new TokenStore(srv.server.db);

  beforeAll(async () => {
    // Everything the server logs, whatever the stream, to check no token is ever in it.
    for (const stream of [process.stdout, process.stderr]) {
      const orig = stream.write.bind(stream);
      spies.push(
        vi.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
          logged.push(String(chunk));
          return (orig as (...a: unknown[]) => boolean)(chunk, ...rest);
        }) as never),
      );
    }
    srv = await startTestServer(backend, { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, LOG_LEVEL: 'debug' });
    for (const u of ['alice', 'bob', 'carol']) expect((await req(ADMIN, 'POST', '/api/2.0/mlflow/users/create', { username: u, password: PW })).status).toBe(200);
    expect((await req(basic('alice', PW), 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'alice-model' })).status).toBe(200);
  });
  afterAll(async () => {
    for (const s of spies) s.mockRestore();
    await srv?.close();
  });

  it('issues a token once, stores only its SHA-256, and the token acts as its user', async () => {
    const created = await createToken(basic('alice', PW), { name: 'ci', expires_in_seconds: 3600 });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const { token, access_token: info } = created.body;
    expect(token).toMatch(/^mlrt_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ name: 'ci', username: 'alice', id: expect.any(Number) });
    expect(info.expiration_timestamp - info.creation_timestamp).toBe(3600_000);
    expect(info).not.toHaveProperty('revoked_timestamp');

    // The database holds the hash, never the token.
    const rows = await srv.server.db.query<Record<string, unknown>>('SELECT * FROM mlflow_ts_access_tokens WHERE id = $1', [info.id]);
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token.slice(5));

    const me = await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current');
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ username: 'alice', is_admin: false });
    // Alice's grants: MANAGE on her model; READ (the default) on another's, not EDIT.
    expect((await req(bearer(token), 'PATCH', '/api/2.0/mlflow/registered-models/update', { name: 'alice-model', description: 'by token' })).status).toBe(200);
    expect((await req(ADMIN, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'admin-model' })).status).toBe(200);
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/registered-models/get?name=admin-model')).status).toBe(200);
    const denied = await req(bearer(token), 'PATCH', '/api/2.0/mlflow/registered-models/update', { name: 'admin-model', description: 'x' });
    expect(denied.status).toBe(403);
    // The history records the token's user as the actor.
    const hist = await req(ADMIN, 'GET', '/api/2.0/mlflow-ts/history/registered-models?name=alice-model');
    expect(JSON.stringify(hist.body)).toContain('"actor":"alice"');
    // Under /ajax-api too, and the scheme is case-insensitive.
    expect((await req(`bearer ${token}`, 'GET', '/ajax-api/2.0/mlflow/users/current')).status).toBe(200);
  });

  it('refuses anything else as a bearer token with 401 and MLflow’s body', async () => {
    const good = (await createToken(basic('alice', PW), { name: 'x' })).body.token as string;
    const flipped = good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A');
    for (const t of ['', 'mlrt_', flipped, `${good}x`, 'not-a-token', 'a.b.c', good.replace('mlrt_', 'mlrx_')]) {
      const r = await req(`Bearer ${t}`, 'GET', '/api/2.0/mlflow/users/current');
      expect(r.status, t).toBe(401);
      expect(r.body).toMatch(/^You are not authenticated/);
      expect(r.headers.get('www-authenticate')).toContain('Basic realm="mlflow"');
    }
    // Token as a Basic password: not a password.
    expect((await req(basic('alice', good), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
  });

  it('validates name and expiry: default 30 days, at most 365 days', async () => {
    const a = basic('alice', PW);
    const def = await createToken(a, { name: 'default' });
    expect(def.body.access_token.expiration_timestamp - def.body.access_token.creation_timestamp).toBe(30 * 86_400_000);
    expect((await createToken(a, { name: '' })).status).toBe(400);
    expect((await createToken(a, {})).status).toBe(400);
    expect((await createToken(a, { name: 'long', expires_in_seconds: 366 * 86_400 })).status).toBe(400);
    expect((await createToken(a, { name: 'zero', expires_in_seconds: 0 })).status).toBe(400);
    expect((await createToken(a, { name: 'neg', expires_in_seconds: -5 })).status).toBe(400);
    expect((await createToken(a, { name: 'x'.repeat(256) })).status).toBe(400);
    expect((await createToken(undefined, { name: 'anon' })).status).toBe(401);
  });

  it('expires: a short expiry, and an expiry in the past', async () => {
    const short = await createToken(basic('bob', PW), { name: 'short', expires_in_seconds: 1 });
    const token = short.body.token as string;
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(200);
    // Cached after that use, but never beyond the token's own expiry.
    await new Promise((r) => setTimeout(r, 1100 - (Date.now() - short.body.access_token.creation_timestamp)));
    await new Promise((r) => setTimeout(r, 50));
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);

    const long = await createToken(basic('bob', PW), { name: 'to-expire' });
    await tokenStore().setExpiry(long.body.access_token.id, Date.now() - 1000);
    expect((await req(bearer(long.body.token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
  });

  it('revokes: refused at once on this replica (despite the cache), idempotent, owner or admin only', async () => {
    const created = await createToken(basic('bob', PW), { name: 'to-revoke' });
    const { token, access_token: info } = created.body;
    // Warm the cache.
    for (let i = 0; i < 3; i++) expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(200);
    // Another user cannot revoke it (nor learn that it exists).
    const other = await req(basic('alice', PW), 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: info.id });
    expect(other.status).toBe(404);
    expect(other.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await req(basic('alice', PW), 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: 99_999_999 })).status).toBe(404);
    expect((await req(basic('alice', PW), 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: 1e15 })).status).toBe(404);
    expect((await req(basic('alice', PW), 'POST', '/api/2.0/mlflow-ts/tokens/revoke', {})).status).toBe(400);
    // The owner revokes it with the token itself: the very next request is refused.
    const revoked = await req(bearer(token), 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: info.id });
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body.access_token.revoked_timestamp).toEqual(expect.any(Number));
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
    // Again (by an admin): unchanged.
    const again = await req(ADMIN, 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: info.id });
    expect(again.status).toBe(200);
    expect(again.body.access_token.revoked_timestamp).toBe(revoked.body.access_token.revoked_timestamp);

    // An admin revokes anyone's token.
    const t2 = (await createToken(basic('bob', PW), { name: 'admin-revokes' })).body;
    expect((await req(bearer(t2.token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(200);
    expect((await req(ADMIN, 'POST', '/api/2.0/mlflow-ts/tokens/revoke', { id: t2.access_token.id })).status).toBe(200);
    expect((await req(bearer(t2.token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
  });

  it('a token cannot create tokens', async () => {
    const { token } = (await createToken(basic('bob', PW), { name: 'parent' })).body;
    const r = await createToken(bearer(token), { name: 'child' });
    expect(r.status).toBe(403);
    expect(r.body.error_code).toBe('PERMISSION_DENIED');
  });

  it('lists without secrets: your own; another user’s only as an admin', async () => {
    const { token } = (await createToken(basic('carol', PW), { name: 'listed' })).body;
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(200);
    const mine = await req(basic('carol', PW), 'GET', '/api/2.0/mlflow-ts/tokens/list');
    expect(mine.status).toBe(200);
    expect(mine.body.access_tokens).toHaveLength(1);
    expect(mine.body.access_tokens[0]).toMatchObject({ name: 'listed', username: 'carol', last_used_timestamp: expect.any(Number) });
    expect(Object.keys(mine.body.access_tokens[0]).sort()).toEqual(['creation_timestamp', 'expiration_timestamp', 'id', 'last_used_timestamp', 'name', 'username']);
    const text = JSON.stringify(mine.body);
    expect(text).not.toContain(token);
    expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow-ts/tokens/list?username=carol')).status).toBe(200);
    expect((await req(basic('carol', PW), 'GET', '/api/2.0/mlflow-ts/tokens/list?username=alice')).status).toBe(403);
    const byAdmin = await req(ADMIN, 'GET', '/api/2.0/mlflow-ts/tokens/list?username=carol');
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.access_tokens.map((t: { name: string }) => t.name)).toEqual(['listed']);
    expect((await req(ADMIN, 'GET', '/api/2.0/mlflow-ts/tokens/list?username=nobody')).status).toBe(404);
    expect(await req(ADMIN, 'GET', '/api/2.0/mlflow-ts/tokens/list')).toMatchObject({ status: 200, body: {} });
    expect((await req(undefined, 'GET', '/api/2.0/mlflow-ts/tokens/list')).status).toBe(401);
  });

  it('a deleted user’s tokens die with them (at once, despite the cache)', async () => {
    expect((await req(ADMIN, 'POST', '/api/2.0/mlflow/users/create', { username: 'dave', password: PW })).status).toBe(200);
    const { token, access_token: info } = (await createToken(basic('dave', PW), { name: 'doomed' })).body;
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(200);
    expect((await req(ADMIN, 'DELETE', '/api/2.0/mlflow/users/delete', { username: 'dave' })).status).toBe(200);
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
    expect(await srv.server.db.query('SELECT id FROM mlflow_ts_access_tokens WHERE id = $1', [info.id])).toEqual([]);
    // A new user of the same name does not inherit them.
    expect((await req(ADMIN, 'POST', '/api/2.0/mlflow/users/create', { username: 'dave', password: PW })).status).toBe(200);
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).status).toBe(401);
  });

  it('an admin flag change reaches a cached token at once', async () => {
    const { token } = (await createToken(basic('carol', PW), { name: 'promoted' })).body;
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).body.user.is_admin).toBe(false);
    expect((await req(ADMIN, 'PATCH', '/api/2.0/mlflow/users/update-admin', { username: 'carol', is_admin: true })).status).toBe(200);
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).body.user.is_admin).toBe(true);
    expect((await req(ADMIN, 'PATCH', '/api/2.0/mlflow/users/update-admin', { username: 'carol', is_admin: false })).status).toBe(200);
    expect((await req(bearer(token), 'GET', '/api/2.0/mlflow/users/current')).body.user.is_admin).toBe(false);
  });

  it.skipIf(!HAVE_PYTHON)('the official MLflow client authenticates with MLFLOW_TRACKING_TOKEN', async () => {
    const { token } = (await createToken(basic('alice', PW), { name: 'python' })).body;
    const script = [
      'from mlflow import MlflowClient',
      'c = MlflowClient()',
      'print(c.get_registered_model("alice-model").name)',
      'c.set_registered_model_tag("alice-model", "via", "token")',
      'print(c.get_registered_model("alice-model").tags["via"])',
    ].join('\n');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        PYTHON,
        ['-c', script],
        { env: { ...process.env, MLFLOW_TRACKING_URI: srv.url, MLFLOW_TRACKING_TOKEN: token, MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0' }, timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(out.trim().split('\n')).toEqual(['alice-model', 'token']);
  }, 150_000);

  it('never logs a token', async () => {
    const tokens = (await srv.server.db.query<{ id: number }>('SELECT id FROM mlflow_ts_access_tokens')).length;
    expect(tokens).toBeGreaterThan(5);
    const all = logged.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toMatch(/mlrt_[A-Za-z0-9_-]{20,}/);
  });
});

/**
 * On an auth database created by MLflow's basic-auth app (AUTH_DATABASE_URL), MLflow's tables are left as
 * they are and only our token table is added: tokens work there too, and die with a user MLflow deletes.
 */
describe.skipIf(!process.env.TEST_DATABASE_URL || !HAVE_PYTHON)('access tokens on MLflow’s own auth database', () => {
  let srv: TestServer;
  let authUrl: string;
  const runPy = (code: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(PYTHON, ['-c', code], { timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );

  beforeAll(async () => {
    authUrl = await createTestDatabase();
    const sa = authUrl.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
    // MLflow 3.17.2's own auth migrations, to its head, as `mlflow server --app-name basic-auth` runs them.
    await runPy(`from sqlalchemy import create_engine\nfrom mlflow.server.auth.db.utils import migrate\nmigrate(create_engine(${JSON.stringify(sa)}), "head")`);
    srv = await startTestServer('postgres', { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, AUTH_DATABASE_URL: authUrl });
  }, 180_000);
  afterAll(async () => srv?.close());

  it('issues and uses tokens, which die with a user MLflow deletes; MLflow’s tables stay MLflow’s', async () => {
    const pgq = async (sql: string) => {
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: authUrl });
      await c.connect();
      try {
        return (await c.query(sql)).rows;
      } finally {
        await c.end();
      }
    };
    const tables = (await pgq(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).map((r) => r.tablename as string);
    expect(tables).toContain('mlflow_ts_access_tokens');
    expect(tables).toContain('__mlflow_ts_migrations_auth_ext');
    expect(tables).not.toContain('__mlflow_ts_migrations_auth');
    const auth = { authorization: basic('admin', ADMIN_PW), 'content-type': 'application/json' };
    expect((await srv.fetch('/api/2.0/mlflow/users/create', { method: 'POST', headers: auth, body: JSON.stringify({ username: 'erin', password: PW }) })).status).toBe(200);
    const created = await srv.fetch('/api/2.0/mlflow-ts/tokens/create', {
      method: 'POST',
      headers: { authorization: basic('erin', PW), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'on-mlflow-db' }),
    });
    expect(created.status).toBe(200);
    const { token } = (await created.json()) as { token: string };
    const me = await srv.fetch('/api/2.0/mlflow/users/current', { headers: { authorization: bearer(token) } });
    expect(me.status).toBe(200);
    // MLflow's store deletes the user (a plain DELETE FROM users): the token goes with it.
    await pgq(`DELETE FROM users WHERE username = 'erin'`);
    expect(await pgq('SELECT id FROM mlflow_ts_access_tokens')).toEqual([]);
  });
});
