/**
 * OpenID Connect bearer tokens (AUTH_OIDC_ISSUER): a JWT from the issuer, sent as
 * `Authorization: Bearer <jwt>` (MLflow's MLFLOW_TRACKING_TOKEN), is verified with `jose`:
 *
 * - signature against the issuer's JWKS (AUTH_OIDC_JWKS_URL, or `jwks_uri` of the issuer's discovery
 *   document, fetched on first use; its `issuer` must be the configured one). Keys are fetched and cached by
 *   jose's createRemoteJWKSet (5 s timeout, 10 min cache, a fetch for an unknown `kid` at most every 30 s);
 * - only the configured asymmetric algorithms (RS256 and ES256 by default): `none` and HS* are never
 *   accepted, so a token "signed" with the public key as an HMAC secret is refused;
 * - `iss`, `aud` (AUTH_OIDC_AUDIENCE), `exp` (required), `nbf`, with a small clock tolerance.
 *
 * Claims → user: the name is AUTH_OIDC_USERNAME_CLAIM (default `preferred_username`), else `sub`. A user
 * who does not exist yet is created on first login (just in time) with a random password nobody knows,
 * so that grants can name them and Basic logins are impossible. With AUTH_OIDC_ADMIN_CLAIM set, the admin
 * flag follows the claim at every login (a verification, i.e. each new token or cache expiry).
 *
 * Verified tokens are cached (tokens.ts BearerCache) until the cache TTL or the token's `exp`.
 */
import crypto from 'node:crypto';
import type { JWTPayload, JWSHeaderParameters, FlattenedJWSInput, CryptoKey } from 'jose';
import type { Logger } from '../log.js';
import type { AuthDatabase, AuthUser } from './store.js';
import { hashPassword } from './passwords.js';
import { BearerCache } from './tokens.js';

/** jose, loaded on first use: only a server with AUTH_OIDC_ISSUER verifies JWTs (loaded, it keeps ~7 MB resident). */
let joseModule: Promise<typeof import('jose')> | undefined;
const jose = () => (joseModule ??= import('jose'));

export interface OidcConfig {
  /** AUTH_OIDC_ISSUER: the `iss` every token must carry, and where discovery is read. */
  issuer: string;
  /** AUTH_OIDC_AUDIENCE (comma-separated): the token's `aud` must contain one of them. */
  audience: string[];
  /** AUTH_OIDC_JWKS_URL; undefined: `jwks_uri` from `<issuer>/.well-known/openid-configuration`. */
  jwksUrl: string | undefined;
  /** AUTH_OIDC_USERNAME_CLAIM (default `preferred_username`; `sub` when the token lacks it). */
  usernameClaim: string;
  /** AUTH_OIDC_ADMIN_CLAIM (a dotted path, e.g. `groups` or `realm_access.roles`); undefined: the admin flag is left alone. */
  adminClaim: string | undefined;
  /** AUTH_OIDC_ADMIN_VALUE: the value (or list member) that makes an admin; undefined: the claim must be `true`. */
  adminValue: string | undefined;
  /** AUTH_OIDC_ALGORITHMS (default RS256,ES256): asymmetric JWS algorithms only. */
  algorithms: string[];
  /** AUTH_OIDC_CLOCK_TOLERANCE_SECONDS (default 30). */
  clockToleranceSeconds: number;
}

/** The asymmetric JWS algorithms AUTH_OIDC_ALGORITHMS may name (never `none`, never HS*). */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const FETCH_TIMEOUT_MS = 5000;
const DISCOVERY_RETRY_MS = 10_000;
const MAX_USERNAME_LENGTH = 255;
/** A compact JWS: three base64url parts. */
const JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer value is shaped like a JWT (the middleware's dispatch). */
export const looksLikeJwt = (token: string) => JWT_RE.test(token);

/** https://, or http:// on a loopback host (a local issuer in development and tests). */
export function isAllowedOidcUrl(raw: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  const h = u.hostname.replace(/^\[|\]$/g, '');
  return u.protocol === 'http:' && (h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h));
}

/** The value at a dotted path of the claims (`realm_access.roles`), or undefined. */
function claimAt(payload: JWTPayload, dotted: string): unknown {
  if (Object.prototype.hasOwnProperty.call(payload, dotted)) return payload[dotted];
  let v: unknown = payload;
  for (const part of dotted.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Whether the claims make an admin (undefined when no admin claim is configured). */
export function adminFromClaims(payload: JWTPayload, cfg: Pick<OidcConfig, 'adminClaim' | 'adminValue'>): boolean | undefined {
  if (!cfg.adminClaim) return undefined;
  const v = claimAt(payload, cfg.adminClaim);
  if (cfg.adminValue === undefined) return v === true;
  if (Array.isArray(v)) return v.some((x) => x === cfg.adminValue);
  if (typeof v === 'string') return v === cfg.adminValue || v.split(/\s+/).includes(cfg.adminValue);
  return false;
}

/** The user name the claims carry, or undefined (missing, not a string, empty, too long). */
export function usernameFromClaims(payload: JWTPayload, claim: string): string | undefined {
  for (const c of [claim, 'sub']) {
    const v = claimAt(payload, c);
    if (typeof v === 'string' && v.trim() !== '' && [...v].length <= MAX_USERNAME_LENGTH) return v;
  }
  return undefined;
}

type KeyResolver = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

export interface OidcVerifierOptions {
  log: Logger;
  cache: BearerCache<AuthUser>;
  /** Called when a login changed a user's admin flag (the credential caches drop the user). */
  onUserChanged: (username: string) => void;
}

/** Verifies OIDC JWTs and maps them to local users (created just in time). */
export class OidcVerifier {
  private jwks: KeyResolver | undefined;
  private discovering: Promise<KeyResolver> | undefined;
  private lastDiscoveryFailure = 0;
  private readonly inflight = new Map<string, Promise<AuthUser | undefined>>();

  constructor(
    private readonly cfg: OidcConfig,
    private readonly db: AuthDatabase,
    private readonly opts: OidcVerifierOptions,
  ) {}

  get cache(): BearerCache<AuthUser> {
    return this.opts.cache;
  }

  private async remote(url: string): Promise<KeyResolver> {
    const { createRemoteJWKSet } = await jose();
    return createRemoteJWKSet(new URL(url), { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }

  /** The key resolver: the configured JWKS URL, or the discovery document's (read once; retried after a failure). */
  private async keys(): Promise<KeyResolver> {
    if (this.jwks) return this.jwks;
    if (!this.discovering) {
      if (Date.now() - this.lastDiscoveryFailure < DISCOVERY_RETRY_MS) throw new Error('OIDC discovery failed recently');
      this.discovering = this.discover().then(
        (k) => (this.jwks = k),
        (err: unknown) => {
          this.lastDiscoveryFailure = Date.now();
          this.discovering = undefined;
          this.opts.log.warn('OIDC discovery failed', { issuer: this.cfg.issuer, error: (err as Error).message });
          throw err;
        },
      );
    }
    return this.discovering;
  }

  private async discover(): Promise<KeyResolver> {
    if (this.cfg.jwksUrl) return this.remote(this.cfg.jwksUrl);
    const url = `${this.cfg.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the document's issuer must be the one it was read for.
    if (doc.issuer !== this.cfg.issuer) throw new Error(`the discovery document's issuer ${JSON.stringify(doc.issuer)} is not ${this.cfg.issuer}`);
    if (typeof doc.jwks_uri !== 'string' || !isAllowedOidcUrl(doc.jwks_uri)) throw new Error('the discovery document has no usable jwks_uri (https:// required)');
    return this.remote(doc.jwks_uri);
  }

  /** The local user of a valid JWT, or undefined. Never throws for a bad token. */
  async authenticate(token: string): Promise<AuthUser | undefined> {
    if (!looksLikeJwt(token)) return undefined;
    const hit = this.opts.cache.get(token);
    if (hit !== undefined) return hit;
    const key = this.opts.cache.digest(token);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.verify(token).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async verify(token: string): Promise<AuthUser | undefined> {
    const { jwtVerify, errors: joseErrors } = await jose();
    let payload: JWTPayload;
    try {
      const keys = await this.keys();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        algorithms: this.cfg.algorithms,
        clockTolerance: this.cfg.clockToleranceSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      // Bad tokens are the caller's problem (401); an unreachable JWKS is the operator's: say so, without the token.
      if (!(err instanceof joseErrors.JOSEError) || err instanceof joseErrors.JWKSTimeout || err.code === 'ERR_JOSE_GENERIC') {
        this.opts.log.warn('OIDC token not verified', { error: (err as Error).message });
      }
      return undefined;
    }
    const username = usernameFromClaims(payload, this.cfg.usernameClaim);
    if (username === undefined) return undefined;
    const user = await this.login(username, adminFromClaims(payload, this.cfg));
    this.opts.cache.set(token, user, { username, expiresAt: (payload.exp ?? 0) * 1000 });
    return user;
  }

  /** The local user `username`, created when missing; its admin flag set from the claim when one is configured. */
  private async login(username: string, isAdmin: boolean | undefined): Promise<AuthUser> {
    type Row = { id: number; username: string; is_admin: boolean | null };
    let [row] = await this.db.query<Row>('SELECT id, username, is_admin FROM users WHERE username = $1', [username], 'auth_find_user');
    if (!row) {
      // A werkzeug scrypt hash of 32 random bytes nobody keeps: MLflow and this server read it, nobody can log in with it.
      const hash = await hashPassword(crypto.randomBytes(32).toString('base64url'));
      [row] = await this.db.query<Row>(
        'INSERT INTO users (username, password_hash, is_admin) VALUES ($1, $2, $3) ON CONFLICT (username) DO NOTHING RETURNING id, username, is_admin',
        [username, hash, isAdmin ?? false],
      );
      if (row) this.opts.log.info('OIDC user created', { username, isAdmin: row.is_admin === true });
      else [row] = await this.db.query<Row>('SELECT id, username, is_admin FROM users WHERE username = $1', [username], 'auth_find_user');
      if (!row) throw new Error('OIDC user vanished while being created');
    }
    if (isAdmin !== undefined && (row.is_admin === true) !== isAdmin) {
      const [updated] = await this.db.query<Row>('UPDATE users SET is_admin = $2 WHERE id = $1 RETURNING id, username, is_admin', [row.id, isAdmin]);
      if (updated) row = updated;
      this.opts.log.info('OIDC admin flag changed', { username, isAdmin });
      this.opts.onUserChanged(username);
    }
    return { id: row.id, username: row.username, isAdmin: row.is_admin === true };
  }
}
