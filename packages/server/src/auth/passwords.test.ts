import { describe, expect, it } from 'vitest';
import { DEFAULT_PBKDF2_ITERATIONS, genSalt, hashPassword, isSupportedHash, SALT_CHARS, verifyPassword } from './passwords.js';
import { runPython, SKIP_PYTHON } from './python.test-support.js';

const PASSWORDS = ['correct horse battery', 'pässwörd-ünïcode-🔑', 'with:colon$and$dollars', ' leading and trailing ', 'x'.repeat(200)];

describe('werkzeug password hashes', () => {
  it('hashes in werkzeug’s default format (scrypt:32768:8:1, 16-char salt, 128 hex chars)', async () => {
    const h = await hashPassword('correct horse battery');
    expect(h).toMatch(/^scrypt:32768:8:1\$[A-Za-z0-9]{16}\$[0-9a-f]{128}$/);
    expect(await verifyPassword(h, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(h, 'correct horse batterY')).toBe(false);
    expect(await verifyPassword(h, '')).toBe(false);
  });

  it('writes pbkdf2 hashes too, and reads werkzeug’s defaults for a bare method', async () => {
    const h = await hashPassword('pw-pbkdf2-0001', { method: 'pbkdf2:sha256:1000' });
    expect(h).toMatch(/^pbkdf2:sha256:1000\$[A-Za-z0-9]{16}\$[0-9a-f]{64}$/);
    expect(await verifyPassword(h, 'pw-pbkdf2-0001')).toBe(true);
    expect(DEFAULT_PBKDF2_ITERATIONS).toBe(1_000_000);
    // "scrypt" alone means scrypt:32768:8:1 (werkzeug's _hash_internal).
    const full = await hashPassword('bare-method-check');
    const [, salt, hex] = full.split('$');
    expect(await verifyPassword(`scrypt$${salt}$${hex}`, 'bare-method-check')).toBe(true);
  });

  it('refuses malformed or unsupported hashes without throwing', async () => {
    for (const bad of [null, undefined, '', 'plain', 'scrypt$abc', 'md5$salt$abc', 'scrypt:1:2$s$00', 'scrypt:3:8:1$s$00', 'scrypt:a:b:c$s$00', 'pbkdf2:nohash:10$s$00', 'pbkdf2:sha256:0$s$00', 'pbkdf2:sha256:1:2$s$00', 'scrypt:1048576:64:64$s$00']) {
      expect(await verifyPassword(bad as string, 'whatever')).toBe(false);
      expect(isSupportedHash(bad as string)).toBe(false);
    }
    const h = await hashPassword('case-sensitive-hex');
    // werkzeug compares the hex strings: upper case does not match.
    const [m, s, x] = h.split('$');
    expect(await verifyPassword(`${m}$${s}$${x!.toUpperCase()}`, 'case-sensitive-hex')).toBe(false);
    expect(await verifyPassword(`${m}$${s}$${x}é`, 'case-sensitive-hex')).toBe(false);
    // A lone surrogate is not valid Unicode (Python cannot encode it).
    expect(await verifyPassword(h, 'case-sensitive-hex\ud800')).toBe(false);
    await expect(hashPassword('\udc00abc')).rejects.toThrow(RangeError);
  });

  it('draws salts from werkzeug’s alphabet', () => {
    const s = genSalt(4000);
    expect(s).toHaveLength(4000);
    for (const c of s) expect(SALT_CHARS).toContain(c);
    expect(new Set(s).size).toBe(SALT_CHARS.length);
  });

  it('runs scrypt off the event loop', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await Promise.all([hashPassword('a-long-password-1'), hashPassword('a-long-password-2')]);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});

describe.skipIf(SKIP_PYTHON)('interop with the venv’s werkzeug (as MLflow 3.17.2 calls it)', () => {
  it('verifies hashes werkzeug made, and werkzeug verifies ours', async () => {
    const fromPython = runPython<{ method: string; password: string; hash: string }[]>(
      `
import json, sys
from werkzeug.security import generate_password_hash
cases = json.load(sys.stdin)
out = []
for c in cases:
    h = generate_password_hash(c["password"]) if c["method"] is None else generate_password_hash(c["password"], method=c["method"])
    out.append({"method": c["method"], "password": c["password"], "hash": h})
print(json.dumps(out))
`,
      [
        ...PASSWORDS.map((password) => ({ method: null, password })),
        { method: 'pbkdf2:sha256:2000', password: PASSWORDS[1] },
        { method: 'pbkdf2:sha512:1500', password: PASSWORDS[2] },
        { method: 'pbkdf2:sha1:1000', password: PASSWORDS[0] },
        { method: 'scrypt:16384:8:2', password: PASSWORDS[3] },
      ],
    );
    for (const c of fromPython) {
      if (c.method === null) expect(c.hash.startsWith('scrypt:32768:8:1$')).toBe(true);
      expect(await verifyPassword(c.hash, c.password)).toBe(true);
      expect(await verifyPassword(c.hash, `${c.password}!`)).toBe(false);
    }

    const ours = [
      ...(await Promise.all(PASSWORDS.map(async (password) => ({ password, hash: await hashPassword(password) })))),
      { password: PASSWORDS[4]!, hash: await hashPassword(PASSWORDS[4]!, { method: 'pbkdf2:sha256:3000' }) },
      { password: PASSWORDS[1]!, hash: await hashPassword(PASSWORDS[1]!, { method: 'pbkdf2:sha3_256:1000' }) },
      { password: PASSWORDS[2]!, hash: await hashPassword(PASSWORDS[2]!, { method: 'scrypt:1024:4:3', saltLength: 30 }) },
    ];
    const checked = runPython<{ ok: boolean; wrong: boolean }[]>(
      `
import json, sys
from werkzeug.security import check_password_hash
print(json.dumps([{"ok": check_password_hash(c["hash"], c["password"]), "wrong": check_password_hash(c["hash"], c["password"] + "!")} for c in json.load(sys.stdin)]))
`,
      ours,
    );
    expect(checked).toEqual(ours.map(() => ({ ok: true, wrong: false })));
  });

  it('generate_password_hash in MLflow 3.17.2’s auth store uses werkzeug’s default method', () => {
    const r = runPython<{ calls: string[] }>(
      `
import json, sys, importlib.util, pathlib
src = (pathlib.Path(importlib.util.find_spec("mlflow").origin).parent / "server/auth/sqlalchemy_store.py").read_text()
print(json.dumps({"calls": sorted(set(l.strip() for l in src.splitlines() if "generate_password_hash(" in l and "import" not in l))}))
`,
      null,
    );
    expect(r.calls).toEqual(['pwhash = generate_password_hash(password)']);
  });
});
