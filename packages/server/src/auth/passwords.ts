/**
 * Password hashes in the format of werkzeug.security (werkzeug 3.1, as MLflow 3.17.2's auth store calls
 * it: `generate_password_hash(password)` with its defaults and `check_password_hash(stored, password)`),
 * so that users created by MLflow's basic-auth app log in here unchanged, and the reverse.
 *
 *   <method>$<salt>$<hex digest>
 *   scrypt:32768:8:1$<16 salt chars>$<128 hex chars>      werkzeug's default (what MLflow writes)
 *   pbkdf2:sha256:1000000$<salt>$<64 hex chars>           werkzeug's other method
 *
 * As werkzeug: the salt is used as its UTF-8 bytes (not decoded), the digest is compared as a lowercase
 * hex string in constant time, `scrypt` with no parameters means 32768:8:1, `pbkdf2` with no parameters
 * means sha256 and 1,000,000 iterations, and scrypt's key length is 64 bytes (hashlib's default).
 * Both key derivations run on libuv's thread pool (node:crypto's asynchronous functions), never on the
 * event loop.
 *
 * Where werkzeug raises (an unknown method, malformed parameters, a digest with non-ASCII characters, a
 * password that is not valid Unicode), verification here answers false: a stored hash this server cannot
 * check never lets anyone in, and never turns into a 500.
 */
import crypto from 'node:crypto';

/** werkzeug's SALT_CHARS. */
export const SALT_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** werkzeug 3.1's DEFAULT_PBKDF2_ITERATIONS. */
export const DEFAULT_PBKDF2_ITERATIONS = 1_000_000;
/** werkzeug's default scrypt parameters (n, r, p). */
export const DEFAULT_SCRYPT = { n: 2 ** 15, r: 8, p: 1 } as const;
/** werkzeug's default salt length. */
export const DEFAULT_SALT_LENGTH = 16;
/** hashlib.scrypt's default dklen. */
const SCRYPT_KEYLEN = 64;
/**
 * Upper bound on the memory one scrypt verification may take (stored parameters are trusted, as in
 * werkzeug, but a row with absurd ones must not take the process down). werkzeug's default needs 32 MiB.
 */
const MAX_SCRYPT_MEMORY = 512 * 1024 * 1024;
/** Upper bound on stored pbkdf2 iterations (werkzeug's default is 1e6): bounds one verification's CPU time. */
const MAX_PBKDF2_ITERATIONS = 50_000_000;

/** A lone UTF-16 surrogate: Python's `str.encode()` refuses it (UnicodeEncodeError); Buffer.from would replace it. */
const LONE_SURROGATE = /\p{Cs}/u;

type Kdf =
  | { kind: 'scrypt'; n: number; r: number; p: number; method: string }
  | { kind: 'pbkdf2'; digest: string; iterations: number; method: string };

const DIGITS = /^[0-9]+$/;

/** hashlib names werkzeug accepts for pbkdf2 (the common ones) → node:crypto's names. */
const PBKDF2_DIGESTS: Record<string, string> = {
  md5: 'md5',
  sha1: 'sha1',
  sha224: 'sha224',
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
  sha3_224: 'sha3-224',
  sha3_256: 'sha3-256',
  sha3_384: 'sha3-384',
  sha3_512: 'sha3-512',
};

/** Parses a werkzeug method string ("scrypt", "scrypt:n:r:p", "pbkdf2", "pbkdf2:hash", "pbkdf2:hash:iterations"). */
function parseMethod(method: string): Kdf | undefined {
  const [name, ...args] = method.split(':');
  if (name === 'scrypt') {
    if (args.length === 0) return { kind: 'scrypt', ...DEFAULT_SCRYPT, method: `scrypt:${DEFAULT_SCRYPT.n}:${DEFAULT_SCRYPT.r}:${DEFAULT_SCRYPT.p}` };
    if (args.length !== 3 || !args.every((a) => DIGITS.test(a))) return undefined;
    const [n, r, p] = args.map(Number) as [number, number, number];
    // OpenSSL's (and so hashlib's) constraints: n a power of two above 1, r and p positive.
    if (!(n > 1 && Number.isSafeInteger(n) && (n & (n - 1)) === 0 && r >= 1 && p >= 1)) return undefined;
    if (scryptMemory(n, r, p) > MAX_SCRYPT_MEMORY) return undefined;
    return { kind: 'scrypt', n, r, p, method: `scrypt:${n}:${r}:${p}` };
  }
  if (name === 'pbkdf2') {
    if (args.length > 2) return undefined;
    const digest = args[0] ?? 'sha256';
    if (!Object.hasOwn(PBKDF2_DIGESTS, digest)) return undefined;
    let iterations = DEFAULT_PBKDF2_ITERATIONS;
    if (args.length === 2) {
      if (!DIGITS.test(args[1]!)) return undefined;
      iterations = Number(args[1]);
    }
    if (!(iterations >= 1 && iterations <= MAX_PBKDF2_ITERATIONS)) return undefined;
    return { kind: 'pbkdf2', digest, iterations, method: `pbkdf2:${digest}:${iterations}` };
  }
  return undefined;
}

/** The memory OpenSSL's scrypt needs: B (128·r·p) plus V (128·r·(n+2)), as its maxmem check counts it. */
function scryptMemory(n: number, r: number, p: number): number {
  return 128 * r * p + 128 * r * (n + 2);
}

function derive(kdf: Kdf, password: Buffer, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, key: Buffer) => (err ? reject(err) : resolve(key));
    if (kdf.kind === 'scrypt') {
      // werkzeug passes maxmem = 132·n·r·p; node:crypto's default (32 MiB) is just below what n=2^15, r=8
      // needs, so give it what OpenSSL will actually allocate, with some slack.
      const maxmem = Math.max(132 * kdf.n * kdf.r * kdf.p, scryptMemory(kdf.n, kdf.r, kdf.p)) + 64 * 1024;
      crypto.scrypt(password, salt, SCRYPT_KEYLEN, { N: kdf.n, r: kdf.r, p: kdf.p, maxmem }, done);
    } else {
      const digest = PBKDF2_DIGESTS[kdf.digest]!;
      crypto.pbkdf2(password, salt, kdf.iterations, digestSize(digest), digest, done);
    }
  });
}

/** hashlib.pbkdf2_hmac's default dklen: the digest size of the hash. */
function digestSize(digest: string): number {
  return crypto.createHash(digest).digest().length;
}

/** werkzeug's gen_salt: `length` characters drawn uniformly from SALT_CHARS by a CSPRNG. */
export function genSalt(length: number = DEFAULT_SALT_LENGTH): string {
  if (!Number.isInteger(length) || length <= 0) throw new RangeError('Salt length must be at least 1.');
  let out = '';
  for (let i = 0; i < length; i++) out += SALT_CHARS[crypto.randomInt(SALT_CHARS.length)];
  return out;
}

export interface HashOptions {
  /** werkzeug method string: "scrypt" (default), "scrypt:n:r:p", "pbkdf2", "pbkdf2:<hash>", "pbkdf2:<hash>:<iterations>". */
  method?: string;
  saltLength?: number;
}

/**
 * generate_password_hash: `<method>$<salt>$<hex>`. Throws a RangeError for an unsupported method or a
 * password that is not valid Unicode (a lone surrogate), where werkzeug raises too.
 */
export async function hashPassword(password: string, options: HashOptions = {}): Promise<string> {
  const kdf = parseMethod(options.method ?? 'scrypt');
  if (!kdf) throw new RangeError('Invalid hash method.');
  if (LONE_SURROGATE.test(password)) throw new RangeError('The password is not valid Unicode.');
  const salt = genSalt(options.saltLength ?? DEFAULT_SALT_LENGTH);
  const key = await derive(kdf, Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'));
  return `${kdf.method}$${salt}$${key.toString('hex')}`;
}

/**
 * check_password_hash: whether `password` matches `stored`. False (never an exception) for a missing,
 * malformed or unsupported hash. The hex digests are compared in constant time; only their length may
 * leak, as with werkzeug's hmac.compare_digest.
 */
export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (typeof stored !== 'string' || typeof password !== 'string') return false;
  // pwhash.split("$", 2): the method, the salt, and the rest (which may hold further "$").
  const first = stored.indexOf('$');
  if (first < 0) return false;
  const second = stored.indexOf('$', first + 1);
  if (second < 0) return false;
  const method = stored.slice(0, first);
  const salt = stored.slice(first + 1, second);
  const expected = stored.slice(second + 1);
  const kdf = parseMethod(method);
  if (!kdf || LONE_SURROGATE.test(password) || LONE_SURROGATE.test(salt)) return false;
  // compare_digest on str needs ASCII on both sides (TypeError otherwise).
  if (!/^[\x00-\x7f]*$/.test(expected)) return false;
  let key: Buffer;
  try {
    key = await derive(kdf, Buffer.from(password, 'utf8'), Buffer.from(salt, 'utf8'));
  } catch {
    return false;
  }
  const actual = Buffer.from(key.toString('hex'), 'latin1');
  const want = Buffer.from(expected, 'latin1');
  if (actual.length !== want.length) {
    // Still spend a comparison, so that the timing of a wrong length differs only by its length.
    crypto.timingSafeEqual(actual, actual);
    return false;
  }
  return crypto.timingSafeEqual(actual, want);
}

/** Whether `stored` names a method and parameters this module can verify (for diagnostics, never for auth). */
export function isSupportedHash(stored: string | null | undefined): boolean {
  if (typeof stored !== 'string') return false;
  const parts = stored.split('$');
  return parts.length >= 3 && parseMethod(parts[0]!) !== undefined;
}
