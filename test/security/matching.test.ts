/**
 * Host and origin matching, differential: every pattern × name of a table through Python 3.11's
 * fnmatch and MLflow 3.17.2's own functions (run in the venv) and through this server's port.
 */
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { corsBlocker, defaultAllowedHosts, fnmatch, hostMatcher, isLocalhostOrigin } from '../../packages/server/src/http/security.js';
import { VENV, skipMlflow } from './harness.js';

const patterns = [
  '*', 'a*', '*a', 'a*b*c', '*.example.com', 'app-*.internal:*', 'a?c*', '[abc]*', '[!abc]*', '[a-c]x*', '[!a-c]x*',
  '[]a]*', '[!]a]*', '[z-a]*', '[!z-a]*', '[a-]*', '[-a]*', '[!-a]*', '[*', '*[', '[!]*', 'x[a-c-e]*', '[c-a-z]*',
  '[!c-a-z]*', '*\\*', 'a.b*', '(x)*', '*$^', '[[]::1]:*', '192.168.*', '*a*a*a*a*b', '[\\]*', '[a\\-z]*', 'é*', '*?',
  '??*', '*|*', '[a-c-]*', '[--z]*', '[!--]*', '*[^a]', '[^a]*', '*{1}', '*a+', '[&&b]*', '[~|]*', '*[]-a]', '[b-a-c]*',
];
const names = [
  '', 'a', 'b', 'abc', 'aXbYc', 'acb', 'x.example.com', '.example.com', 'example.com', 'app-1.internal:80', 'app-1.internal',
  'abcd', 'dx', 'ax', '-x', ']', ']x', 'z', '!', '-', '[', '[x', 'x[', '[::1]:8080', '[::1]', '192.168.0.1', '192.1680',
  'a'.repeat(37) + 'b', 'a'.repeat(39), '\\x', '\\', 'x.b', 'a.bc', 'axb', '(x)y', 'z$^', 'é', 'éé', 'a\nb', 'xd', 'xb',
  'x-', 'xf', 'y', '*', 'a*', '|', 'x|y', '^', 'b^', 'a{1}', 'x{1}', 'aa+', '&', '~', 'c', 'ß', '😀', '😀x',
];
const hosts = [
  'localhost', 'LOCALHOST', 'localhost:5000', 'localhost:', '127.0.0.1', '127.0.0.1:8000', '[::1]', '[::1]:5000', '::1',
  '0.0.0.0', '0.0.0.0:80', '192.168.1.1', '10.0.0.1:5000', '172.15.0.1', '172.16.0.1', '172.31.255.255:80', '172.32.0.1',
  'fc00::1', 'fd00::1', 'fd12::1', '[fd00::1]:5000', 'rebind.attacker.example', '10.attacker.example', '', '[[::1]',
];
const origins = [
  'http://localhost:3000', 'http://LOCALHOST', 'https://localhost', 'ftp://127.0.0.1:21', 'http://[::1]:5000', 'http://[::1',
  'http://[::2]', 'http://x[::1]', 'http://[v1.x]', 'http://[v1.]', 'http://[127.0.0.1]', 'http://[zz]@[::1]', 'http://evil.example',
  'http://evil@localhost', 'http://localhost@evil', 'null', 'localhost:3000', '//localhost', 'http://[::1%25eth0]',
  'http://[::ffff:127.0.0.1]', 'http://[0:0:0:0:0:0:0:1]', 'http://[::1::]', 'http://[1:2:3:4:5:6:7:8:9]', 'http://[::01.2.3.4]',
  'HTTP://LocalHost:1', 'http://localhost\uff03@x', 'http://[::1]:abc', ' http://localhost', 'h\tttp://localhost', '1http://localhost',
  'https://app.example.com', 'https://APP.example.com', 'https://a.trusted.example', 'https://trusted.example', 'http://exactX.example', '',
];
const allowed = ['https://app.example.com', 'https://*.trusted.example', 'http://exact?.example', '[!h]*'];

const PYTHON = `
import fnmatch, json, sys
from mlflow.server.security_utils import is_allowed_host_header, get_default_allowed_hosts, is_localhost_origin, should_block_cors_request
d = json.load(sys.stdin)
print(json.dumps({
  "fnmatch": [[fnmatch.fnmatch(n, p) for n in d["names"]] for p in d["patterns"]],
  "hosts": [is_allowed_host_header(get_default_allowed_hosts(), h) for h in d["hosts"]],
  "localhost": [is_localhost_origin(o) for o in d["origins"]],
  "block": [[should_block_cors_request(o, m, d["allowed"]) for m in ["GET", "POST", "DELETE"]] for o in d["origins"]],
}))
`;

describe.skipIf(skipMlflow)('matching agrees with Python and MLflow 3.17.2', () => {
  let truth: { fnmatch: boolean[][]; hosts: boolean[]; localhost: boolean[]; block: boolean[][] };
  it('runs the reference', () => {
    const out = spawnSync(path.join(VENV, 'bin', 'python'), ['-c', PYTHON], {
      input: JSON.stringify({ patterns, names, hosts, origins, allowed }),
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(out.status, out.stderr).toBe(0);
    truth = JSON.parse(out.stdout);
  });

  it(`fnmatch: ${patterns.length} patterns × ${names.length} names`, () => {
    const diffs: string[] = [];
    patterns.forEach((p, i) =>
      names.forEach((n, j) => {
        if (fnmatch(n, p) !== truth.fnmatch[i]![j]) diffs.push(`${JSON.stringify(n)} ~ ${JSON.stringify(p)}: Python ${truth.fnmatch[i]![j]}`);
      }),
    );
    expect(diffs).toEqual([]);
  });

  it('default Host allowlist', () => {
    const m = hostMatcher(defaultAllowedHosts());
    expect(hosts.map((h) => m(h))).toEqual(truth.hosts);
  });

  it('localhost origins and cross-origin blocking', () => {
    expect(origins.map((o) => isLocalhostOrigin(o))).toEqual(truth.localhost);
    const block = corsBlocker(allowed);
    expect(origins.map((o) => ['GET', 'POST', 'DELETE'].map((m) => block(o, m)))).toEqual(truth.block);
  });
});
