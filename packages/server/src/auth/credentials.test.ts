import { describe, expect, it, vi } from 'vitest';
import { Authenticator, canonicalBasic, CredentialCache, parseAuthorization, parseBasicAuthorization } from './credentials.js';
import { runPython, SKIP_PYTHON } from './python.test-support.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const HEADERS = [
  `Basic ${b64('alice:secret')}`,
  `basic ${b64('alice:se:cr:et')}`,
  `BASIC ${b64('alice')}`,
  `Basic  \t${b64('a:b')} \t`,
  `Basic ${b64('ünï:cødé🔑')}`,
  `Basic ${b64(':')}`,
  'Basic',
  'Basic ',
  'Basic YQ',
  'Basic YQ=',
  'Basic YQ==',
  'Basic YQ===',
  'Basic YR==',
  'Basic YW Jj',
  'Basic =YQ==',
  'Basic YWJj\n',
  'Basic ' + Buffer.from([0xff, 0x3a, 0x61]).toString('base64'),
  'Basic ' + Buffer.from([0xed, 0xa0, 0x80]).toString('base64'),
  'Basic YWxp-2U6cw_',
  'Bearer abc.def.ghi',
  'Bearer abc==',
  'Bearer  tok ',
  'Digest username="a", realm="b"',
  'Token',
  `Basic\t${b64('a:b')}`,
];

describe('Authorization header parsing', () => {
  it('parses Basic like werkzeug', () => {
    expect(parseBasicAuthorization(`Basic ${b64('alice:se:cr:et')}`)).toEqual({ username: 'alice', password: 'se:cr:et' });
    expect(parseBasicAuthorization(`basic ${b64('alice')}`)).toEqual({ username: 'alice', password: '' });
    expect(parseBasicAuthorization('Basic YQ')).toBeNull();
    expect(parseBasicAuthorization('Bearer x')).toBeNull();
    expect(parseBasicAuthorization('')).toBeNull();
    expect(parseBasicAuthorization(undefined)).toBeNull();
    expect(parseBasicAuthorization('Basic Y\u00e9==')).toBeNull();
    expect(parseAuthorization('Bearer abc.def')).toEqual({ scheme: 'bearer', token: 'abc.def' });
    expect(parseAuthorization('Digest a="b"')).toEqual({ scheme: 'digest', params: true });
  });

  it.skipIf(SKIP_PYTHON)('agrees with werkzeug’s Authorization.from_header on tricky headers', () => {
    const py = runPython<(null | { type: string; username?: string | null; password?: string | null; token?: string | null; params: boolean })[]>(
      `
import json, sys
from werkzeug.datastructures import Authorization
out = []
for h in json.load(sys.stdin):
    a = Authorization.from_header(h)
    if a is None: out.append(None); continue
    if a.type == "basic": out.append({"type": a.type, "username": a.username, "password": a.password, "params": False})
    else: out.append({"type": a.type, "token": a.token, "params": a.token is None})
print(json.dumps(out))
`,
      HEADERS,
    );
    HEADERS.forEach((h, i) => {
      const mine = parseAuthorization(h);
      const want = py[i];
      if (want === null) return expect(mine, h).toBeNull();
      if (want.type === 'basic') return expect(mine, h).toEqual({ scheme: 'basic', username: want.username, password: want.password });
      if (want.params) return expect(mine, h).toEqual({ scheme: want.type, params: true });
      expect(mine, h).toEqual({ scheme: want.type, token: want.token });
    });
  });
});

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('CredentialCache', () => {
  it('is an LRU bounded in size, with a TTL', () => {
    let now = 0;
    const c = new CredentialCache<string>({ maxEntries: 2, ttlMs: 1000, now: () => now });
    c.set(basic('a', 'pa'), 'a', 'A');
    c.set(basic('b', 'pb'), 'b', 'B');
    expect(c.get(basic('a', 'pa'))).toBe('A'); // a becomes most recent
    c.set(basic('c', 'pc'), 'c', 'C'); // evicts b
    expect(c.get(basic('b', 'pb'))).toBeUndefined();
    expect(c.get(basic('a', 'pa'))).toBe('A');
    expect(c.get(basic('a', 'wrong'))).toBeUndefined();
    expect(c.size).toBe(2);
    now = 1000;
    expect(c.get(basic('a', 'pa'))).toBeUndefined();
  });

  it('keys on a keyed digest of the header, never the header or the password', () => {
    const c = new CredentialCache<string>({ maxEntries: 10, ttlMs: 1000 });
    const h = basic('u', 'secret-password');
    c.set(h, 'u', 'X');
    expect(c.get(h)).toBe('X');
    expect(c.get(h.replace('Basic', 'basic'))).toBeUndefined(); // another spelling: verified on its own
    const other = new CredentialCache<string>({ maxEntries: 10, ttlMs: 1000 });
    expect(c.digest(h)).not.toBe(other.digest(h));
    const kept = JSON.stringify([...(c as unknown as { entries: Map<string, unknown> }).entries]);
    expect(kept).not.toContain(h.slice('Basic '.length));
    expect(kept).not.toContain('secret-password');
  });

  it('invalidates every entry of a user', () => {
    const c = new CredentialCache<string>({ maxEntries: 10, ttlMs: 1000 });
    c.set(basic('u', 'p1'), 'u', 'U');
    c.set(basic('u', 'p2'), 'u', 'U');
    c.set(basic('v', 'p1'), 'v', 'V');
    c.invalidateUser('u');
    expect(c.get(basic('u', 'p1'))).toBeUndefined();
    expect(c.get(basic('u', 'p2'))).toBeUndefined();
    expect(c.get(basic('v', 'p1'))).toBe('V');
  });

  it('is off with a zero TTL or size (MLflow’s default auth_cache_ttl_seconds = 0)', () => {
    const c = new CredentialCache<string>({ maxEntries: 10, ttlMs: 0 });
    c.set(basic('u', 'p'), 'u', 'U');
    expect(c.get(basic('u', 'p'))).toBeUndefined();
  });
});

describe('Authenticator', () => {
  const login = <U>(auth: Authenticator<U>, u: string, p: string) => auth.authenticate({ username: u, password: p });

  it('verifies once per credential, shares concurrent checks, caches successes only', async () => {
    const verify = vi.fn(async (u: string, p: string) => {
      await new Promise((r) => setTimeout(r, 10));
      return p === 'right-password' ? { id: 1, username: u } : undefined;
    });
    const auth = new Authenticator({ verifyCredentials: verify }, new CredentialCache({ maxEntries: 100, ttlMs: 60_000 }));
    expect(auth.kept(basic('alice', 'right-password'))).toBeUndefined();
    const results = await Promise.all(Array.from({ length: 20 }, () => login(auth, 'alice', 'right-password')));
    expect(results.every((r) => r?.id === 1)).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
    expect(auth.kept(basic('alice', 'right-password'))).toEqual({ id: 1, username: 'alice' });
    await login(auth, 'alice', 'right-password');
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await login(auth, 'alice', 'wrong')).toBeUndefined();
    expect(await login(auth, 'alice', 'wrong')).toBeUndefined();
    expect(auth.kept(basic('alice', 'wrong'))).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(3);
    auth.invalidateUser('alice');
    expect(auth.kept(basic('alice', 'right-password'))).toBeUndefined();
    await login(auth, 'alice', 'right-password');
    expect(verify).toHaveBeenCalledTimes(4);
  });

  it('keeps one entry per credential, whatever spelling carried it, and checks its password once', async () => {
    const verify = vi.fn(async (u: string, p: string) => (p === 'right-password' ? { id: 1, username: u } : undefined));
    const cache = new CredentialCache<{ id: number; username: string }>({ maxEntries: 100, ttlMs: 60_000 });
    const auth = new Authenticator({ verifyCredentials: verify }, cache);
    const b64 = Buffer.from('alice:right-password').toString('base64');
    const spellings = [`basic ${b64}`, `BASIC ${b64}`, `Basic \t ${b64} \t`, `bAsIc ${b64}   `];
    for (const header of spellings) {
      const parsed = parseAuthorization(header);
      expect(parsed && 'username' in parsed ? await auth.authenticate(parsed) : undefined).toEqual({ id: 1, username: 'alice' });
      // Another spelling never hits the warm path: it is parsed, and found under the canonical header.
      expect(auth.kept(header)).toBeUndefined();
    }
    expect(verify).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
    expect(auth.kept(canonicalBasic('alice', 'right-password'))).toEqual({ id: 1, username: 'alice' });
    expect(canonicalBasic('alice', 'right-password')).toBe(`Basic ${b64}`);
    // base64's unused bits: 'Ym9iOnJpZ2g=' is 'bob:righ'; 'Ym9iOnJpZ2h=' spells the same bytes with them set.
    const even = parseAuthorization('Basic Ym9iOnJpZ2g=');
    const odd = parseAuthorization('Basic Ym9iOnJpZ2h=');
    expect(even).toEqual({ scheme: 'basic', username: 'bob', password: 'righ' });
    expect(odd).toEqual(even);
    verify.mockImplementation(async (u: string) => ({ id: 2, username: u }));
    await auth.authenticate(odd as { username: string; password: string });
    await auth.authenticate(even as { username: string; password: string });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(cache.size).toBe(2);
  });

  it('does not cache a verification that raced an invalidation', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const verify = vi.fn(async () => {
      await gate;
      return { id: 1 };
    });
    const auth = new Authenticator({ verifyCredentials: verify }, new CredentialCache({ maxEntries: 100, ttlMs: 60_000 }));
    const pending = login(auth, 'bob', 'old-password');
    auth.invalidateUser('bob');
    release();
    await pending;
    expect(auth.kept(basic('bob', 'old-password'))).toBeUndefined();
  });
});
