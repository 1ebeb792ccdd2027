/**
 * OpenID Connect bearer tokens (issue 22: "OIDC JWTs from a test issuer (keys generated in the test, JWKS
 * served on loopback): valid, expired, wrong audience, wrong key"). The issuer is a local HTTP server on an
 * ephemeral loopback port serving its discovery document and JWKS; its RSA and EC keys are generated here
 * with jose. A valid token logs in (the user is created just in time, with the admin flag from the claim);
 * expired, wrong audience, wrong issuer, another key, `alg: none` and HS256 key confusion are all 401.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { AuthStore } from '../../packages/server/src/auth/store.js';

const ADMIN_PW = 'the-admin-password-1';
const AUDIENCE = 'mlflow-registry';
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

interface Issuer {
  url: string;
  hits: { discovery: number; jwks: number };
  close(): Promise<void>;
}

/** The test issuer: discovery document and JWKS on 127.0.0.1, an ephemeral port. */
async function startIssuer(jwks: () => { keys: JWK[] }): Promise<Issuer> {
  const hits = { discovery: 0, jwks: 0 };
  let url = '';
  const server = http.createServer((req, res) => {
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/openid-configuration') {
      hits.discovery++;
      return send({ issuer: url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: ['RS256', 'ES256'] });
    }
    if (req.url === '/jwks') {
      hits.jwks++;
      return send(jwks());
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.each(backends())('OpenID Connect bearer tokens (%s)', (backend) => {
  let issuer: Issuer;
  let srv: TestServer;
  let rsa: Key;
  let ec: Key;
  let other: Key;
  let rsaJwk: JWK;

  const now = () => Math.floor(Date.now() / 1000);
  /** A token as the issuer would sign it; `opts` overrides claims, key, kid and alg. */
  const sign = async (claims: JWTPayload, opts: { key?: Key; kid?: string; alg?: string } = {}) => {
    const alg = opts.alg ?? 'RS256';
    const key = opts.key ?? (alg === 'ES256' ? ec : rsa);
    const kid = opts.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1');
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(claims.iss ?? issuer.url)
      .setAudience(claims.aud ?? AUDIENCE)
      .setIssuedAt(claims.iat ?? now())
      .setExpirationTime(claims.exp ?? now() + 300)
      .sign(key.privateKey);
  };
  const current = async (token: string) => {
    const res = await srv.fetch('/api/2.0/mlflow/users/current', { headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, body: res.status === 200 ? JSON.parse(text) : text, headers: res.headers };
  };
  const store = () => new AuthStore(srv.server.db);

  beforeAll(async () => {
    rsa = await generateKeyPair('RS256', { extractable: true });
    ec = await generateKeyPair('ES256', { extractable: true });
    other = await generateKeyPair('RS256', { extractable: true });
    rsaJwk = { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
    const ecJwk = { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' };
    issuer = await startIssuer(() => ({ keys: [rsaJwk, ecJwk] }));
    srv = await startTestServer(backend, {
      AUTH: 'basic',
      MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW,
      AUTH_OIDC_ISSUER: issuer.url,
      AUTH_OIDC_AUDIENCE: AUDIENCE,
      AUTH_OIDC_ADMIN_CLAIM: 'groups',
      AUTH_OIDC_ADMIN_VALUE: 'mlflow-admins',
    });
  });
  afterAll(async () => {
    await srv?.close();
    await issuer?.close();
  });

  it('a valid token logs in: the user is created on first login, admin flag from the claim', async () => {
    expect(await store().findUser('oidc-alice')).toBeUndefined();
    const r = await current(await sign({ sub: 'u-1', preferred_username: 'oidc-alice', groups: ['staff', 'mlflow-admins'] }));
    expect(r.status, String(r.body)).toBe(200);
    expect(r.body.user).toMatchObject({ username: 'oidc-alice', is_admin: true });
    expect(await store().findUser('oidc-alice')).toMatchObject({ username: 'oidc-alice', isAdmin: true });
    expect(issuer.hits.discovery).toBe(1);
    // The admin flag follows the claim at the next login.
    const demoted = await current(await sign({ sub: 'u-1', preferred_username: 'oidc-alice', groups: ['staff'] }));
    expect(demoted.body.user).toMatchObject({ username: 'oidc-alice', is_admin: false });
    expect((await store().findUser('oidc-alice'))!.isAdmin).toBe(false);
    // No password works for a user made by OIDC.
    for (const pw of ['', 'oidc-alice', ADMIN_PW]) {
      expect((await srv.fetch('/api/2.0/mlflow/users/current', { headers: { authorization: basic('oidc-alice', pw) } })).status).toBe(401);
    }
  });

  it('ES256 too; `sub` when the username claim is missing; grants apply to the OIDC user', async () => {
    const t = await sign({ sub: 'oidc-bob' }, { alg: 'ES256' });
    expect((await current(t)).body.user).toMatchObject({ username: 'oidc-bob', is_admin: false });
    const admin = basic('admin', ADMIN_PW);
    const json = { 'content-type': 'application/json' };
    expect((await srv.fetch('/api/2.0/mlflow/registered-models/create', { method: 'POST', headers: { authorization: admin, ...json }, body: JSON.stringify({ name: 'm1' }) })).status).toBe(200);
    const update = () =>
      srv.fetch('/api/2.0/mlflow/registered-models/update', { method: 'PATCH', headers: { authorization: `Bearer ${t}`, ...json }, body: JSON.stringify({ name: 'm1', description: 'x' }) });
    expect((await update()).status).toBe(403);
    const grant = await srv.fetch('/api/3.0/mlflow/users/permissions/grant', {
      method: 'POST',
      headers: { authorization: admin, ...json },
      body: JSON.stringify({ username: 'oidc-bob', resource_type: 'registered_model', resource_id: 'm1', permission: 'EDIT' }),
    });
    expect(grant.status, await grant.clone().text()).toBe(200);
    expect((await update()).status).toBe(200);
    // An OIDC user may create an access token, which then works on its own.
    const created = await srv.fetch('/api/2.0/mlflow-ts/tokens/create', { method: 'POST', headers: { authorization: `Bearer ${t}`, ...json }, body: JSON.stringify({ name: 'from-oidc' }) });
    expect(created.status).toBe(200);
    const { token } = (await created.json()) as { token: string };
    expect((await current(token)).body.user.username).toBe('oidc-bob');
  });

  it('refuses expired, not yet valid, wrong audience, wrong issuer, no exp, no usable username', async () => {
    const base = { sub: 'u-x', preferred_username: 'oidc-mallory' };
    const cases: Record<string, string> = {
      expired: await sign({ ...base, iat: now() - 3600, exp: now() - 600 }),
      'not yet valid': await sign({ ...base, nbf: now() + 600 }),
      'wrong audience': await sign({ ...base, aud: 'another-client' }),
      'wrong issuer': await sign({ ...base, iss: 'https://evil.example.com' }),
      'issuer with a trailing slash': await sign({ ...base, iss: `${issuer.url}/` }),
      'no exp': await new SignJWT({ ...base }).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).setIssuer(issuer.url).setAudience(AUDIENCE).sign(rsa.privateKey),
      'empty username and no sub': await new SignJWT({ preferred_username: '' })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .setIssuer(issuer.url)
        .setAudience(AUDIENCE)
        .setExpirationTime(now() + 60)
        .sign(rsa.privateKey),
    };
    for (const [what, token] of Object.entries(cases)) {
      const r = await current(token);
      expect(r.status, what).toBe(401);
      expect(r.body, what).toMatch(/^You are not authenticated/);
      expect(r.headers.get('www-authenticate'), what).toBe('Basic realm="mlflow"');
    }
    expect(await store().findUser('oidc-mallory')).toBeUndefined();
  });

  it('refuses a token signed by another key, alg none, and HS256 with the public key as secret', async () => {
    const claims = { sub: 'u-y', preferred_username: 'oidc-eve', groups: ['mlflow-admins'] };
    const jwksBefore = issuer.hits.jwks;
    const otherSameKid = await sign(claims, { key: other });
    const otherUnknownKid = await sign(claims, { key: other, kid: 'rogue' });
    const header = { kid: 'rsa-1', typ: 'JWT' };
    const payload = { ...claims, iss: issuer.url, aud: AUDIENCE, iat: now(), exp: now() + 300 };
    const unsigned = `${b64url({ ...header, alg: 'none' })}.${b64url(payload)}.`;
    const hmac = (secret: string) => {
      const input = `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    // The "public key as HMAC secret" confusion, with the forms a verifier might use as the secret.
    const confused = [hmac(JSON.stringify(rsaJwk)), hmac(rsaJwk.n!), hmac('')];
    // A valid signature moved onto another payload.
    const good = await sign({ sub: 'u-z', preferred_username: 'oidc-zed' });
    const [h, , s] = good.split('.');
    const spliced = `${h}.${b64url(payload)}.${s}`;
    for (const [what, token] of Object.entries({ otherSameKid, otherUnknownKid, unsigned, spliced, ...Object.fromEntries(confused.map((t, i) => [`hs256-${i}`, t])) })) {
      const r = await current(token);
      expect(r.status, what).toBe(401);
    }
    expect(await store().findUser('oidc-eve')).toBeUndefined();
    // The unknown kid made jose look at the JWKS again at most once (cooldown), not once per token.
    expect(issuer.hits.jwks - jwksBefore).toBeLessThanOrEqual(1);
    // Garbage that is not a JWT, and a JWT-shaped string with a bad header.
    for (const t of ['abc', 'a.b', 'a.b.c', `${b64url('{')}.${b64url(payload)}.x`]) expect((await current(t)).status, t).toBe(401);
  });

  it('verified tokens are cached: a burst costs no JWKS fetch', async () => {
    const t = await sign({ sub: 'u-c', preferred_username: 'oidc-cached' });
    const before = { ...issuer.hits };
    const results = await Promise.all(Array.from({ length: 20 }, () => current(t)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(issuer.hits).toEqual(before);
    expect((await srv.server.db.query('SELECT id FROM users WHERE username = $1', ['oidc-cached'])).length).toBe(1);
  });

  it('deleting an OIDC user drops it from the cache; the next login creates it again', async () => {
    const t = await sign({ sub: 'u-d', preferred_username: 'oidc-dora' });
    const first = await current(t);
    expect(first.status).toBe(200);
    const del = await srv.fetch('/api/2.0/mlflow/users/delete', {
      method: 'DELETE',
      headers: { authorization: basic('admin', ADMIN_PW), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'oidc-dora' }),
    });
    expect(del.status).toBe(200);
    const again = await current(t);
    expect(again.status).toBe(200);
    expect(again.body.user.id).not.toBe(first.body.user.id);
  });
});

describe('OIDC configuration', () => {
  const base = { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, AUTH_OIDC_ISSUER: 'https://id.example.com/realms/x', AUTH_OIDC_AUDIENCE: 'mlflow' };
  it('defaults', () => {
    expect(loadConfig(base).auth.oidc).toEqual({
      issuer: 'https://id.example.com/realms/x',
      audience: ['mlflow'],
      jwksUrl: undefined,
      usernameClaim: 'preferred_username',
      adminClaim: undefined,
      adminValue: undefined,
      algorithms: ['RS256', 'ES256'],
      clockToleranceSeconds: 30,
    });
    expect(loadConfig({ AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW }).auth.oidc).toBeUndefined();
  });
  it.each([
    [{ AUTH_OIDC_ALGORITHMS: 'HS256' }, /never none or HS/],
    [{ AUTH_OIDC_ALGORITHMS: 'RS256,none' }, /never none or HS/],
    [{ AUTH_OIDC_AUDIENCE: '' }, /AUTH_OIDC_AUDIENCE is required/],
    [{ AUTH_OIDC_ISSUER: 'http://id.example.com' }, /https:\/\//],
    [{ AUTH_OIDC_JWKS_URL: 'http://10.0.0.1/jwks' }, /https:\/\//],
    [{ AUTH_OIDC_ADMIN_VALUE: 'admins' }, /needs AUTH_OIDC_ADMIN_CLAIM/],
    [{ AUTH: 'none' }, /needs AUTH=basic/],
    [{ AUTH_OIDC_ISSUER: '' }, /set but AUTH_OIDC_ISSUER is not/],
  ])('refuses %o', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
  });
});
