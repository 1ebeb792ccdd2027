/**
 * Host and origin matching of the security middleware, against answers of MLflow 3.17.2's own
 * functions on Python 3.11 (fnmatch.fnmatch, is_allowed_host_header with get_default_allowed_hosts,
 * is_localhost_origin, should_block_cors_request). test/security/ compares whole answers with a live
 * `mlflow server` and the full fnmatch table with Python.
 */
import { pyUrlHostname } from '../python/urlparse.js';
import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import {
  compileFnmatch,
  corsBlocker,
  defaultAllowedHosts,
  fnmatch,
  hostMatcher,
  isApiEndpoint,
  isHealthEndpoint,
  isLocalhostOrigin,
  securityMiddleware,
} from './security.js';
import type { SecurityConfig } from '../config.js';

describe('fnmatch (Python 3.11 semantics)', () => {
  const cases: Array<[pattern: string, matches: string[], misses: string[]]> = [
    ['a*b*c', ['abc', 'aXbYc', 'a.bc'], ['', 'a', 'acb', 'abcd']],
    ['*.example.com', ['x.example.com', '.example.com'], ['example.com', 'x.example.com.evil', 'X.EXAMPLE.COM']],
    ['app-*.internal:*', ['app-1.internal:80', 'app-.internal:'], ['app-1.internal']],
    ['a?c*', ['abc', 'abcd'], ['ac', 'aXbYc']],
    ['*?', ['a', 'abc'], ['']],
    ['[abc]*', ['a', 'cx'], ['d', '']],
    ['[!abc]*', ['dx', '-x', ']', 'x.example.com'], ['a', 'abc', '']],
    ['[a-c]x*', ['ax', 'axb'], ['dx', 'a']],
    ['[!a-c]x*', ['dx', '-x', ']x', '[x', '\\x'], ['ax']],
    ['[]a]*', ['a', ']', ']x'], ['b', '']],
    ['[!]a]*', ['b', '-x'], ['a', ']', '']],
    ['[z-a]*', [], ['a', 'z', '-', '']], // an empty range never matches
    ['[!z-a]*', ['a', 'b', '-'], ['']], // its negation matches any character
    ['[a-]*', ['a', '-'], ['b']],
    ['[!-a]*', ['b', ']'], ['a', '-']],
    ['[*', ['[', '[x', '[::1]'], ['x']], // an unclosed '[' is literal
    ['[!]*', [], ['', 'a', '!']], // '[!]' followed by no ']' : a literal "[!]" then '*'
    ['x[a-c-e]*', ['xb', 'x-'], ['xd', 'x']],
    ['[c-a-z]*', ['-x', 'z', '-'], ['a', 'b', 'c']],
    ['[[]::1]:*', ['[::1]:8080', '[::1]:'], ['[::1]', '::1:80']],
    ['*a*a*a*a*b', ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'], ['a'.repeat(40), 'aaab']],
    ['[\\]*', ['\\x', '\\'], ['x']],
    ['*|*', ['|', 'x|y'], ['x']],
    ['(x)*', ['(x)y'], ['x']],
    ['a.b*', ['a.b', 'a.bc'], ['axb']],
    ['*$^', ['z$^'], ['z']],
    ['é*', ['é', 'éé'], ['e']],
    ['*', ['', 'a\nb', 'anything'], []],
  ];
  for (const [pattern, matches, misses] of cases) {
    it(`${pattern}`, () => {
      for (const m of matches) expect(fnmatch(m, pattern), `${JSON.stringify(m)} ~ ${pattern}`).toBe(true);
      for (const m of misses) expect(fnmatch(m, pattern), `${JSON.stringify(m)} !~ ${pattern}`).toBe(false);
    });
  }

  it('matches many patterns with one expression and stays fast on hostile input', () => {
    const re = compileFnmatch(['*a*a*a*a*a*a*b', 'x*y*z', '*.corp.example:*']);
    expect(re.test('a.corp.example:1')).toBe(true);
    expect(re.test('xAyBz')).toBe(true);
    // Python's atomic groups keep this linear; so does the lookahead form used here.
    expect(re.test('a'.repeat(20_000))).toBe(false);
  });
});

describe('Host allowlist (is_allowed_host_header)', () => {
  const defaults = hostMatcher(defaultAllowedHosts());
  const table: Array<[string, boolean]> = [
    ['localhost', true],
    ['LOCALHOST', false], // exact and case-sensitive, as in MLflow
    ['localhost:5000', true],
    ['localhost:', true],
    ['127.0.0.1', true],
    ['127.0.0.1:8000', true],
    ['[::1]', true],
    ['[::1]:5000', true],
    ['::1', false],
    ['0.0.0.0', true],
    ['0.0.0.0:80', true],
    ['192.168.1.1', true],
    ['192.168.1.1:443', true],
    ['10.0.0.1', true],
    ['10.0.0.1:5000', true],
    ['172.15.0.1', false],
    ['172.16.0.1', true],
    ['172.31.255.255:80', true],
    ['172.32.0.1', false],
    ['fc00::1', true],
    ['fd00::1', true],
    ['fd12::1', false], // fd00:* only, not all of fc00::/7
    ['[fd00::1]:5000', false], // bracketed IPv6 with a port is not matched by fd00:*
    ['rebind.attacker.example', false],
    ['localhost.attacker.example', false],
    ['127.0.0.1.nip.io', false],
    ['', false],
    ['example.com:80', false],
    ['100.64.0.1', false],
    ['169.254.169.254', false],
    // MLflow's private patterns are globs on text, not address ranges: these names pass too.
    ['10.attacker.example', true],
    ['192.168.attacker.example:80', true],
  ];
  for (const [host, allowed] of table) {
    it(`default list ${allowed ? 'allows' : 'refuses'} '${host}'`, () => expect(defaults(host)).toBe(allowed));
  }

  it('applies a configured list: exact entries, and fnmatch only for entries with *', () => {
    const m = hostMatcher(['mlflow.example.com', '*.corp.example:*', 'api.ex?mple.org', '[!x]y.test*']);
    expect(m('mlflow.example.com')).toBe(true);
    expect(m('mlflow.example.com:443')).toBe(false);
    expect(m('a.corp.example:8080')).toBe(true);
    expect(m('a.corp.example')).toBe(false);
    expect(m('api.ex?mple.org')).toBe(true); // no '*': compared literally, '?' included
    expect(m('api.example.org')).toBe(false);
    expect(m('zy.test:1')).toBe(true);
    expect(m('xy.test')).toBe(false);
    expect(m(undefined)).toBe(false);
    expect(hostMatcher(['*', 'x'])('anything')).toBe(true);
    expect(hostMatcher(['*', 'x'])('')).toBe(false);
    expect(hostMatcher([''])('')).toBe(false);
  });

  it('exempts exactly /health and /version', () => {
    expect(isHealthEndpoint('/health')).toBe(true);
    expect(isHealthEndpoint('/version')).toBe(true);
    expect(isHealthEndpoint('/health/')).toBe(false);
    expect(isHealthEndpoint('/api/2.0/health')).toBe(false);
  });
});

describe('origins', () => {
  it('reads host names as Python urlparse does', () => {
    expect(pyUrlHostname('http://LocalHost:3000/x')).toBe('localhost');
    expect(pyUrlHostname('http://[::1]:5000')).toBe('::1');
    expect(pyUrlHostname('http://user@127.0.0.1')).toBe('127.0.0.1');
    expect(pyUrlHostname('http://[fe80::1%25EtH0]')).toBe('fe80::1%25EtH0');
    expect(pyUrlHostname('localhost:3000')).toBeNull(); // "localhost" is read as the scheme
    expect(pyUrlHostname('null')).toBeNull();
    expect(() => pyUrlHostname('http://[::1')).toThrow();
    expect(() => pyUrlHostname('http://[127.0.0.1]')).toThrow();
    expect(() => pyUrlHostname('http://[v1.x]')).not.toThrow();
  });

  const localhost: Array<[string, boolean]> = [
    ['http://localhost:3000', true],
    ['http://LOCALHOST', true],
    ['https://localhost', true],
    ['ftp://127.0.0.1:21', true],
    ['http://[::1]:5000', true],
    ['http://[::1', false],
    ['http://[::2]', false],
    ['http://x[::1]', true],
    ['http://[v1.x]', false],
    ['http://[127.0.0.1]', false],
    ['http://[zz]@[::1]', false],
    ['http://evil.example', false],
    ['http://localhost.evil.example', false],
    ['http://evil@localhost', true],
    ['http://localhost@evil', false],
    ['null', false],
    ['localhost:3000', false],
    ['//localhost', true],
    ['http://127.0.0.1.evil', false],
    ['http://[::1%25eth0]', false],
    ['http://[::ffff:127.0.0.1]', false],
    ['http://[0:0:0:0:0:0:0:1]', false],
    ['HTTP://LocalHost:1', true],
    ['http://localhost\uff03@x', false],
    ['http://[::1]:abc', true],
    ['', false],
  ];
  for (const [origin, expected] of localhost) {
    it(`is_localhost_origin(${JSON.stringify(origin)}) = ${expected}`, () => expect(isLocalhostOrigin(origin)).toBe(expected));
  }

  it('blocks state-changing requests from other origins (should_block_cors_request)', () => {
    const none = corsBlocker(undefined);
    const some = corsBlocker(['https://app.example.com', 'https://*.trusted.example', 'http://exact?.example']);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect(none('http://evil.example', m)).toBe(true);
      expect(none('null', m)).toBe(true);
      expect(none('https://localhost:1', m)).toBe(false);
      expect(none('', m)).toBe(false); // no origin: not a cross-origin request
      expect(none(undefined, m)).toBe(false);
      expect(some('https://app.example.com', m)).toBe(false);
      expect(some('https://APP.example.com', m)).toBe(true); // exact, case-sensitive
      expect(some('https://a.trusted.example', m)).toBe(false);
      expect(some('https://trusted.example', m)).toBe(true);
      expect(some('http://exactX.example', m)).toBe(true); // no '*': '?' is literal
      expect(some('http://exact?.example', m)).toBe(false);
    }
    for (const m of ['GET', 'HEAD', 'OPTIONS']) expect(none('http://evil.example', m)).toBe(false);
    expect(corsBlocker(['*'])('http://evil.example', 'POST')).toBe(false);
  });

  it('knows the API paths', () => {
    expect(isApiEndpoint('/api/2.0/mlflow/registered-models/create')).toBe(true);
    expect(isApiEndpoint('/ajax-api/2.0/mlflow/registered-models/create')).toBe(true);
    expect(isApiEndpoint('/api/test')).toBe(false);
    expect(isApiEndpoint('/health')).toBe(false);
    expect(isApiEndpoint('/api')).toBe(false);
  });
});

describe('securityMiddleware on a small app', () => {
  const config = (c: Partial<SecurityConfig> = {}): SecurityConfig => ({
    disabled: false,
    allowedHosts: undefined,
    corsAllowedOrigins: undefined,
    xFrameOptions: 'SAMEORIGIN',
    ...c,
  });
  const app = (c: SecurityConfig) => {
    const a = new Hono();
    a.use(securityMiddleware(c));
    a.get('/api/2.0/x', (ctx) => ctx.json({}));
    a.get('/api/2.0/nosniff', (ctx) => ctx.body('x', 200, { 'x-content-type-options': 'nosniff', vary: 'Accept' }));
    a.post('/api/2.0/x', (ctx) => ctx.json({ changed: true }));
    a.all('/api/2.0/x', (ctx) => ctx.body('', 405, { allow: 'GET, POST' }));
    a.get('/health', (ctx) => ctx.text('OK'));
    return a;
  };
  const req = (a: Hono, method: string, path: string, headers: Record<string, string> = {}) =>
    a.request(`http://h${path}`, { method, headers: { host: 'localhost:1', ...headers } });

  it('passes everything through when disabled, except Flask-style OPTIONS', async () => {
    const a = app(config({ disabled: true }));
    const r = await req(a, 'POST', '/api/2.0/x', { host: 'evil', origin: 'http://evil' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-content-type-options')).toBeNull();
    const o = await req(a, 'OPTIONS', '/api/2.0/x');
    expect(o.status).toBe(200);
    expect(o.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
  });

  it('sets security headers once, keeps the answer own Vary, and uppercases X-Frame-Options', async () => {
    const a = app(config({ xFrameOptions: 'deny' }));
    const r = await req(a, 'GET', '/api/2.0/nosniff');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('vary')).toBe('Accept, Origin');
    const none = await req(app(config({ xFrameOptions: 'None' })), 'GET', '/api/2.0/x');
    expect(none.headers.get('x-frame-options')).toBeNull();
  });

  it('answers OPTIONS on an API route with 204 and Allow, and preflights before routing', async () => {
    const a = app(config());
    const o = await req(a, 'OPTIONS', '/api/2.0/x');
    expect(o.status).toBe(204);
    expect(await o.text()).toBe('');
    const p = await req(a, 'OPTIONS', '/nowhere', { origin: 'http://localhost:5', 'access-control-request-method': 'PATCH' });
    expect(p.status).toBe(200);
    expect(p.headers.get('access-control-allow-origin')).toBe('http://localhost:5');
  });

  it('in wildcard mode allows any origin without credentials and blocks nothing', async () => {
    const a = app(config({ corsAllowedOrigins: ['*'] }));
    const r = await req(a, 'POST', '/api/2.0/x', { origin: 'http://evil' });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('refuses to start on an origin pattern that is not a regular expression, as MLflow does', () => {
    expect(() => securityMiddleware(config({ corsAllowedOrigins: ['https://(unclosed'] }))).toThrow(/invalid regular expression/);
  });
});
