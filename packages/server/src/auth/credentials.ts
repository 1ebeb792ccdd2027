/**
 * Credentials: the Authorization header parsed exactly as werkzeug 3.1 parses it for MLflow
 * (`request.authorization`, Authorization.from_header), and a bounded credential cache so that a
 * password's scrypt (tens of milliseconds by design) runs once per credential and TTL, not per request.
 */
import crypto from 'node:crypto';

export type ParsedAuthorization =
  | { scheme: 'basic'; username: string; password: string }
  /** Any other scheme whose value is a token (bearer): the token as sent, trimmed of spaces and tabs. */
  | { scheme: string; token: string }
  /** Another scheme carrying parameters (digest …): not a credential this server accepts. */
  | { scheme: string; params: true };

/** Python's base64.b64decode(s, validate=True) in 3.11: the alphabet only, padding only where due. */
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Authorization.from_header: null when the header is missing or empty, or when a Basic value is not
 * strict base64 of UTF-8 (werkzeug: None, so MLflow answers 401). The scheme is case-insensitive and
 * separated by the first space; a Basic value splits at its first colon (no colon: the whole value is the
 * username and the password is empty). A non-ASCII Basic value, on which werkzeug raises (MLflow: 500),
 * is null here.
 */
export function parseAuthorization(value: string | null | undefined): ParsedAuthorization | null {
  if (!value) return null;
  const space = value.indexOf(' ');
  const scheme = (space < 0 ? value : value.slice(0, space)).toLowerCase();
  const rest = (space < 0 ? '' : value.slice(space + 1)).replace(/^[ \t]+|[ \t]+$/g, '');
  if (scheme === 'basic') {
    if (!STRICT_BASE64.test(rest)) return null;
    let text: string;
    try {
      text = utf8.decode(Buffer.from(rest, 'base64'));
    } catch {
      return null;
    }
    const colon = text.indexOf(':');
    return colon < 0 ? { scheme, username: text, password: '' } : { scheme, username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (rest.replace(/=+$/, '').includes('=')) return { scheme, params: true };
  return { scheme, token: rest };
}

/** The Basic credentials of a header, or null (missing, another scheme, malformed). */
export function parseBasicAuthorization(value: string | null | undefined): { username: string; password: string } | null {
  const p = parseAuthorization(value);
  return p && p.scheme === 'basic' && 'username' in p ? { username: p.username, password: p.password } : null;
}

export interface CredentialCacheOptions {
  /** Most entries kept; the least recently used goes first. */
  maxEntries: number;
  /** How long a verified credential is trusted without checking the password again. */
  ttlMs: number;
  /** Clock (tests). */
  now?: () => number;
}

interface Entry<U> {
  username: string;
  value: U;
  expires: number;
}

/**
 * A bounded LRU of verified credentials, keyed by the Authorization header as sent: a warm request is one
 * digest and one lookup, with no base64 decoding or parsing. Keys are SHA-256 digests of the header
 * prefixed with a random per-process key: the plain password is never stored, and a digest read out of
 * memory is no use for an offline guess without the key. (Not HMAC: the digest is a lookup key no one can
 * query, so length extension is moot, and one-shot crypto.hash costs a quarter of an HMAC object per
 * request.) The Authenticator keeps each credential under its canonical header only (canonicalBasic).
 * Only successes are cached. invalidateUser drops every entry of a user (password or admin flag
 * changed, user deleted); other replicas call it when they hear the change on the change feed
 * (auth/changes.ts, auth/decision-cache.ts); where no feed reaches them (or it is down) the TTL bounds
 * the staleness, as in MLflow (auth_cache_ttl_seconds).
 */
export class CredentialCache<U> {
  private readonly entries = new Map<string, Entry<U>>();
  private readonly byUser = new Map<string, Set<string>>();
  // Fixed length (44 characters), so key + header cannot be read two ways.
  private readonly key = crypto.randomBytes(32).toString('base64');
  private readonly now: () => number;

  constructor(private readonly opts: CredentialCacheOptions) {
    if (!(opts.maxEntries >= 0) || !(opts.ttlMs >= 0)) throw new RangeError('maxEntries and ttlMs must be non-negative');
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.maxEntries > 0 && this.opts.ttlMs > 0;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The digest that stands for an Authorization header. */
  digest(header: string): string {
    return crypto.hash('sha256', this.key + header, 'base64');
  }

  /** The verified user of an Authorization header, while its entry lives. */
  get(header: string): U | undefined {
    if (!this.enabled) return undefined;
    const k = this.digest(header);
    const e = this.entries.get(k);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.remove(k);
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(k);
    this.entries.set(k, e);
    return e.value;
  }

  /** Keeps `value`, the user `username` that the header's credentials verified as. */
  set(header: string, username: string, value: U): void {
    if (!this.enabled) return;
    const k = this.digest(header);
    this.remove(k);
    this.entries.set(k, { username, value, expires: this.now() + this.opts.ttlMs });
    let keys = this.byUser.get(username);
    if (!keys) this.byUser.set(username, (keys = new Set()));
    keys.add(k);
    while (this.entries.size > this.opts.maxEntries) this.remove(this.entries.keys().next().value!);
  }

  /** Drops every cached credential of `username`. */
  invalidateUser(username: string): void {
    for (const k of this.byUser.get(username) ?? []) this.entries.delete(k);
    this.byUser.delete(username);
  }

  clear(): void {
    this.entries.clear();
    this.byUser.clear();
  }

  private remove(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    this.entries.delete(k);
    const keys = this.byUser.get(e.username);
    keys?.delete(k);
    if (keys && keys.size === 0) this.byUser.delete(e.username);
  }
}

/**
 * The one spelling of Basic credentials that the credential cache keeps: what clients send (requests,
 * MLflow's client), so that theirs is found by Authenticator.kept without parsing. A header without a
 * colon means an empty password, as `user:` does.
 */
export const canonicalBasic = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/** What the authenticator needs from the store (AuthStore satisfies it). */
export interface CredentialVerifier<U> {
  verifyCredentials(username: string, password: string): Promise<U | undefined>;
}

/**
 * Verifies Basic credentials through the cache. Concurrent requests with the same credentials share one
 * verification (a burst of N requests costs one scrypt, not N). Failures are never cached.
 */
export class Authenticator<U> {
  private readonly inflight = new Map<string, { username: string; promise: Promise<U | undefined> }>();
  private generation = 0;
  private readonly userGeneration = new Map<string, number>();
  private readonly listeners: ((username: string) => void)[] = [];

  constructor(
    private readonly verifier: CredentialVerifier<U>,
    readonly cache: CredentialCache<U>,
  ) {}

  /**
   * The user of a Basic Authorization header verified earlier and still cached (no promise: the warm
   * path). Only a canonical header (canonicalBasic) is found here; another spelling goes to `authenticate`.
   */
  kept(header: string): U | undefined {
    return this.cache.get(header);
  }

  /**
   * The user of Basic credentials (as parseAuthorization found them), verified unless cached. They are
   * cached under their canonical header (canonicalBasic), whatever spelling carried them: another
   * spelling of a verified credential (the scheme's case, blanks, base64's unused bits) is a hit here
   * and adds no entry, so no one can fill the cache, or cost a password check, by re-spelling one.
   */
  async authenticate(credential: { username: string; password: string }): Promise<U | undefined> {
    const { username, password } = credential;
    const header = canonicalBasic(username, password);
    const hit = this.cache.get(header);
    if (hit !== undefined) return hit;
    const key = this.cache.digest(header);
    const pending = this.inflight.get(key);
    if (pending) return pending.promise;
    const started = this.userGeneration.get(username) ?? this.generation;
    // eslint-disable-next-line prefer-const
    let p: Promise<U | undefined>;
    p = (async () => {
      try {
        const user = await this.verifier.verifyCredentials(username, password);
        // Not cached when the user changed while it was being verified (invalidate raced the check).
        if (user !== undefined && (this.userGeneration.get(username) ?? this.generation) === started) this.cache.set(header, username, user);
        return user;
      } finally {
        if (this.inflight.get(key)?.promise === p!) this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, { username, promise: p });
    return p;
  }

  /** After a password change, an admin-flag change or a deletion of `username` (on this replica or, notified, another). */
  invalidateUser(username: string): void {
    this.userGeneration.set(username, ++this.generation);
    if (this.userGeneration.size > 10_000) this.userGeneration.clear();
    this.cache.invalidateUser(username);
    for (const [k, v] of [...this.inflight]) if (v.username === username) this.inflight.delete(k);
    for (const fn of this.listeners) fn(username);
  }

  /** Also tells `fn` (the bearer-token caches: tokens.ts, oidc.ts) whenever a user is invalidated. */
  onInvalidateUser(fn: (username: string) => void): void {
    this.listeners.push(fn);
  }
}
