/**
 * Personal access tokens (our extension; MLflow's client sends them as `MLFLOW_TRACKING_TOKEN`, i.e.
 * `Authorization: Bearer <token>`).
 *
 * - A token is `mlrt_` + 43 base64url characters (32 random bytes): recognisable (secret scanners, the
 *   middleware tells it from a JWT by the prefix) and unguessable, so a plain SHA-256 is the right hash
 *   (no salt or slow hash is needed for 256 bits of entropy). Only the hash is stored
 *   (`mlflow_ts_access_tokens.token_hash`, unique index); the token is shown once, at creation.
 * - Verification is one indexed lookup (hash → token row joined with its user), then a constant-time
 *   comparison of the stored hash with the computed one. Expired, revoked, or of a deleted user (the row
 *   is gone with it: ON DELETE CASCADE): refused.
 * - `last_used_at` is written at most once a minute per token (not on every request).
 * - TokenAuthenticator caches verified tokens like credentials.ts caches passwords (HMAC-keyed digests,
 *   successes only, bounded LRU, TTL capped at the token's expiry). Revoking a token, or changing or
 *   deleting its user, drops the cache entries at once on this replica, and on the others as soon as they
 *   hear it on the change feed (auth/changes.ts: auth tables in the registry's PostgreSQL database).
 *   Without a feed (a separate auth database, PGlite) another replica trusts its cached entry for at most
 *   the cache TTL (MLFLOW_AUTH_CACHE_TTL_SECONDS).
 */
import crypto from 'node:crypto';
import { MlflowError } from '../errors.js';
import { authChangesOf } from './changes.js';
import type { AuthDatabase, AuthUser } from './store.js';

export const TOKEN_PREFIX = 'mlrt_';
const TOKEN_RE = /^mlrt_[A-Za-z0-9_-]{43}$/;
/** Default lifetime of a token when the request names none. */
export const DEFAULT_TOKEN_TTL_SECONDS = 30 * 86_400;
/** Longest lifetime a token may ask for (no token lives forever). */
export const MAX_TOKEN_TTL_SECONDS = 365 * 86_400;
/** Most live (unexpired, unrevoked) tokens per user. */
export const MAX_LIVE_TOKENS_PER_USER = 100;
/** Expired or revoked tokens are listed for this long, then deleted. */
const KEEP_DEAD_MS = 30 * 86_400_000;
/** How stale last_used_at may get before a use writes it again. */
const LAST_USED_GRANULARITY_MS = 60_000;
const MAX_NAME_LENGTH = 255;

/** Whether a bearer value is shaped like one of our tokens (the middleware's dispatch). */
export const looksLikeAccessToken = (token: string) => token.startsWith(TOKEN_PREFIX);

/** Hex SHA-256 of the token, as stored. */
export const hashToken = (token: string) => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export function generateToken(): string {
  return TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url');
}

/** A token as the API lists it: never the token, never its hash. */
export interface AccessToken {
  id: number;
  name: string;
  username: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

interface TokenRow {
  id: number;
  name: string;
  username: string;
  created_at: string | number;
  expires_at: string | number;
  last_used_at: string | number | null;
  revoked_at: string | number | null;
}
const num = (v: string | number) => Number(v);
const toToken = (r: TokenRow): AccessToken => ({
  id: r.id,
  name: r.name,
  username: r.username,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  lastUsedAt: r.last_used_at === null ? null : num(r.last_used_at),
  revokedAt: r.revoked_at === null ? null : num(r.revoked_at),
});

/** A verified token: its user (as the rest of the server sees users), which token it is, until when it is valid. */
export interface TokenIdentity {
  user: AuthUser;
  tokenId: number;
  expiresAt: number;
}

export class TokenStore {
  constructor(
    /** The auth tables' database (its AuthChanges announces revocations: authChangesOf). */
    private readonly db: AuthDatabase,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Creates a token for `user`. Returns the token (to be shown once) and its listing. The lifetime is
   * 1 s … MAX_TOKEN_TTL_SECONDS (default DEFAULT_TOKEN_TTL_SECONDS).
   */
  async create(user: AuthUser, name: unknown, ttlSeconds: number | undefined): Promise<{ token: string; info: AccessToken }> {
    if (typeof name !== 'string' || name.trim() === '') throw MlflowError.invalid("Missing value for required parameter 'name'.");
    if ([...name].length > MAX_NAME_LENGTH) throw MlflowError.invalid(`Token name must be at most ${MAX_NAME_LENGTH} characters.`);
    const ttl = ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      throw MlflowError.invalid(`expires_in_seconds must be an integer between 1 and ${MAX_TOKEN_TTL_SECONDS} (365 days).`);
    }
    const now = this.now();
    const token = generateToken();
    // Housekeeping of the user's dead tokens, the live-token cap and the insert in one statement; the
    // insert yields no row when the cap is reached (or the user was deleted meanwhile).
    const rows = await this.db.query<TokenRow>(
      `WITH dead AS (
         DELETE FROM mlflow_ts_access_tokens
          WHERE user_id = $1 AND COALESCE(revoked_at, expires_at) < $6
       ), live AS (
         SELECT count(*) AS n FROM mlflow_ts_access_tokens WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $4
       )
       INSERT INTO mlflow_ts_access_tokens (user_id, name, token_hash, created_at, expires_at)
       SELECT u.id, $2, $3, $4, $5 FROM users u, live WHERE u.id = $1 AND live.n < $7
       RETURNING id, name, $8::text AS username, created_at, expires_at, last_used_at, revoked_at`,
      [user.id, name, hashToken(token), now, now + ttl * 1000, now - KEEP_DEAD_MS, MAX_LIVE_TOKENS_PER_USER, user.username],
    );
    if (!rows[0]) {
      if (!(await this.db.query('SELECT 1 FROM users WHERE id = $1', [user.id]))[0]) {
        throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${user.username} not found`);
      }
      throw MlflowError.invalid(`A user may hold at most ${MAX_LIVE_TOKENS_PER_USER} live access tokens; revoke some first.`);
    }
    return { token, info: toToken(rows[0]) };
  }

  /** The tokens of user `userId` (live, expired and revoked), newest first. */
  async list(userId: number): Promise<AccessToken[]> {
    return (
      await this.db.query<TokenRow>(
        `SELECT t.id, t.name, u.username, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
           FROM mlflow_ts_access_tokens t JOIN users u ON u.id = t.user_id
          WHERE t.user_id = $1 ORDER BY t.id DESC`,
        [userId],
      )
    ).map(toToken);
  }

  /** The token `id` (any user's), or undefined. */
  async get(id: number): Promise<AccessToken | undefined> {
    const [row] = await this.db.query<TokenRow>(
      `SELECT t.id, t.name, u.username, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
         FROM mlflow_ts_access_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1`,
      [id],
    );
    return row ? toToken(row) : undefined;
  }

  /**
   * Revokes token `id` (idempotent: an already revoked token keeps its first revocation time), announced
   * in the same transaction so that the other replicas drop it from their caches (auth/changes.ts).
   */
  async revoke(id: number): Promise<AccessToken | undefined> {
    const changes = authChangesOf(this.db);
    const row = await this.db.transaction(async (tx) => {
      const [r] = await tx.query<TokenRow>(
        `UPDATE mlflow_ts_access_tokens t SET revoked_at = COALESCE(t.revoked_at, $2) FROM users u
          WHERE t.id = $1 AND u.id = t.user_id
          RETURNING t.id, t.name, u.username, t.created_at, t.expires_at, t.last_used_at, t.revoked_at`,
        [id, this.now()],
      );
      // Grants are unchanged, so nothing else is dropped here; the caller drops the token from its own cache.
      if (r) await changes.announceIn(tx, { token: id });
      return r;
    });
    return row ? toToken(row) : undefined;
  }

  /** Sets a token's expiry (tests, operators). */
  async setExpiry(id: number, expiresAt: number): Promise<void> {
    await this.db.query('UPDATE mlflow_ts_access_tokens SET expires_at = $2 WHERE id = $1', [id, expiresAt]);
  }

  /**
   * The user of a live token, or undefined: one indexed lookup by hash, the hash compared in constant time,
   * expiry and revocation checked on the row. Writes last_used_at when it is more than a minute old.
   */
  async verify(token: string): Promise<TokenIdentity | undefined> {
    if (!TOKEN_RE.test(token)) return undefined;
    const hash = hashToken(token);
    const [row] = await this.db.query<{
      id: number;
      token_hash: string;
      expires_at: string | number;
      revoked_at: string | number | null;
      last_used_at: string | number | null;
      user_id: number;
      username: string;
      is_admin: boolean | null;
    }>(
      `SELECT t.id, t.token_hash, t.expires_at, t.revoked_at, t.last_used_at, u.id AS user_id, u.username, u.is_admin
         FROM mlflow_ts_access_tokens t JOIN users u ON u.id = t.user_id
        WHERE t.token_hash = $1`,
      [hash],
      'auth_verify_token',
    );
    if (!row) return undefined;
    // The index found the row by equality; compare again in constant time before trusting it.
    const a = Buffer.from(row.token_hash, 'utf8');
    const b = Buffer.from(hash, 'utf8');
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return undefined;
    const now = this.now();
    const expiresAt = num(row.expires_at);
    if (row.revoked_at !== null || expiresAt <= now) return undefined;
    if (row.last_used_at === null || num(row.last_used_at) < now - LAST_USED_GRANULARITY_MS) {
      await this.db.query('UPDATE mlflow_ts_access_tokens SET last_used_at = $2 WHERE id = $1', [row.id, now]);
    }
    return { user: { id: row.user_id, username: row.username, isAdmin: row.is_admin === true }, tokenId: row.id, expiresAt };
  }
}

// ---------------------------------------------------------------- the cache of verified bearer credentials

export interface BearerCacheOptions {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

interface BearerEntry<V> {
  value: V;
  username: string;
  /** The token id (personal access tokens), for revocation. */
  tokenId: number | undefined;
  expires: number;
}

/**
 * A bounded LRU of verified bearer credentials (access tokens and JWTs), keyed by an HMAC of the token
 * under a per-process key (the token itself is never kept). An entry lives until the cache TTL or the
 * credential's own expiry, whichever is first. Only successes are cached.
 */
export class BearerCache<V> {
  private readonly entries = new Map<string, BearerEntry<V>>();
  private readonly key = crypto.randomBytes(32);
  private readonly now: () => number;

  constructor(private readonly opts: BearerCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.maxEntries > 0 && this.opts.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  digest(token: string): string {
    return crypto.createHmac('sha256', this.key).update(token, 'utf8').digest('base64');
  }

  get(token: string): V | undefined {
    if (!this.enabled) return undefined;
    const k = this.digest(token);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.entries.delete(k);
      return undefined;
    }
    this.entries.delete(k);
    this.entries.set(k, e);
    return e.value;
  }

  set(token: string, value: V, meta: { username: string; tokenId?: number; expiresAt: number }): void {
    if (!this.enabled) return;
    const k = this.digest(token);
    this.entries.delete(k);
    this.entries.set(k, { value, username: meta.username, tokenId: meta.tokenId, expires: Math.min(this.now() + this.opts.ttlMs, meta.expiresAt) });
    while (this.entries.size > this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Drops the entries of `username` (a scan: invalidations are rare, lookups are not). */
  invalidateUser(username: string): void {
    for (const [k, e] of this.entries) if (e.username === username) this.entries.delete(k);
  }

  invalidateToken(tokenId: number): void {
    for (const [k, e] of this.entries) if (e.tokenId === tokenId) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Verifies personal access tokens through the cache. Concurrent requests with the same token share one
 * lookup; a revocation or user change racing a lookup keeps its result out of the cache.
 */
export class TokenAuthenticator {
  private readonly inflight = new Map<string, Promise<TokenIdentity | undefined>>();
  private generation = 0;

  constructor(
    readonly store: TokenStore,
    readonly cache: BearerCache<TokenIdentity>,
  ) {}

  async authenticate(token: string): Promise<TokenIdentity | undefined> {
    const hit = this.cache.get(token);
    if (hit !== undefined) return hit;
    const key = this.cache.digest(token);
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const started = this.generation;
    const p = (async () => {
      try {
        const id = await this.store.verify(token);
        if (id !== undefined && this.generation === started) this.cache.set(token, id, { username: id.user.username, tokenId: id.tokenId, expiresAt: id.expiresAt });
        return id;
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, p);
    return p;
  }

  /** After a revocation on this replica. */
  invalidateToken(tokenId: number): void {
    this.generation++;
    this.inflight.clear();
    this.cache.invalidateToken(tokenId);
  }

  /** After a password, admin-flag change or deletion of `username`. */
  invalidateUser(username: string): void {
    this.generation++;
    this.inflight.clear();
    this.cache.invalidateUser(username);
  }
}
