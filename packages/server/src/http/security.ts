/**
 * MLflow 3.17's security middleware, as `mlflow server` (uvicorn, the default) runs it: a Host allowlist
 * against DNS rebinding, CORS, refusal of cross-origin state changes, and security headers.
 *
 * `mlflow server` stacks two layers, and what a client sees is their sum (checked live, see
 * test/security/middleware.test.ts):
 *   1. the FastAPI app (mlflow/server/fastapi_security.py), outermost first: Host validation (403
 *      text/plain), Starlette's CORSMiddleware (answers every preflight itself, before routing; on other
 *      answers sets Access-Control-Allow-Credentials/-Expose-Headers and appends `Origin` to Vary),
 *      the cross-origin blocker (403 text/plain), then the security headers (nosniff, X-Frame-Options);
 *   2. the Flask app it mounts (mlflow/server/security.py), which serves most routes: Flask-CORS
 *      (Access-Control-Allow-Origin by its own matching rules, a second `Origin` in Vary) and the
 *      200 → 204 rewrite of OPTIONS answers on API paths. Its own Host and cross-origin hooks are the
 *      same checks as layer 1's, which has already applied them.
 * A few routes are FastAPI's own and skip layer 2 (GET /health, GET/PUT on mlflow-artifacts/artifacts/…).
 *
 * Everything that depends on the configuration only (patterns, header values) is computed once here;
 * per request the work is a few string comparisons, one precompiled regular expression at most, and
 * header writes.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { SecurityConfig } from '../config.js';
import { pyUrlHostname } from '../python/urlparse.js';

export const INVALID_HOST_MSG = 'Invalid Host header - possible DNS rebinding attack detected';
export const CORS_BLOCKED_MSG = 'Cross-origin request blocked';

const STATE_CHANGING_METHODS = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);
// MLflow's two, and our readiness probe (/health/ready), which kubelets send to the pod's address.
const HEALTH_ENDPOINTS = new Set(['/health', '/version', '/health/ready']);
const TEST_ENDPOINTS = new Set(['/test', '/api/test']);
/** MLflow skips X-Frame-Options under this path (its notebook trace renderer is meant for iframes). */
const TRACE_RENDERER_ASSET_PATH = '/static-files/lib/notebook-trace-renderer';
const LOCALHOST_VARIANTS = ['localhost', '127.0.0.1', '[::1]', '0.0.0.0'];
const CORS_LOCALHOST_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
/** MLflow's LOCALHOST_ORIGIN_PATTERNS (Python regular expressions, valid JavaScript as they are). */
const LOCALHOST_ORIGIN_PATTERNS = ['^http://localhost(:[0-9]+)?$', '^http://127\\.0\\.0\\.1(:[0-9]+)?$', '^http://\\[::1\\](:[0-9]+)?$'];

// ---------------------------------------------------------------------------------------------------
// fnmatch: Python 3.11's fnmatch.translate, ported (case-sensitive, as fnmatch.fnmatch on POSIX).

/** Escapes one character for a JavaScript regular expression with the `u` flag, outside a class. */
function escapeChar(ch: string): string {
  return '\\^$.*+?()[]{}|/'.includes(ch) ? `\\${ch}` : ch;
}

/** Escapes one character inside a character class (`u` flag). */
function escapeClassChar(ch: string): string {
  return '\\]^[-'.includes(ch) ? `\\${ch}` : ch;
}

function indexIn(chars: string[], ch: string, from: number, to: number): number {
  for (let k = from; k < to; k++) if (chars[k] === ch) return k;
  return -1;
}

const STAR = Symbol('star');

/**
 * The regular-expression source for one shell pattern, anchored by the caller. `group` is the number
 * of capturing groups already used before this source in the final expression (Python's atomic groups
 * `(?>.*?x)` become `(?=(.*?x))\N`, which needs the group's number). Returns the source and the new
 * group count.
 */
function translatePattern(pattern: string, group: number): { source: string; group: number } {
  const p = Array.from(pattern); // code points, as Python indexes str
  const n = p.length;
  const tokens: Array<string | typeof STAR> = [];
  let i = 0;
  while (i < n) {
    const c = p[i++]!;
    if (c === '*') {
      if (tokens.length === 0 || tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else if (c === '?') {
      tokens.push('.');
    } else if (c === '[') {
      let j = i;
      if (j < n && p[j] === '!') j++;
      if (j < n && p[j] === ']') j++;
      while (j < n && p[j] !== ']') j++;
      if (j >= n) {
        tokens.push('\\[');
        continue;
      }
      let chunks: string[][];
      if (indexIn(p, '-', i, j) < 0) {
        chunks = [p.slice(i, j)];
      } else {
        chunks = [];
        let k = p[i] === '!' ? i + 2 : i + 1;
        for (;;) {
          k = indexIn(p, '-', k, j);
          if (k < 0) break;
          chunks.push(p.slice(i, k));
          i = k + 1;
          k = k + 3;
        }
        const last = p.slice(i, j);
        if (last.length > 0) chunks.push(last);
        else chunks[chunks.length - 1]!.push('-');
        // Remove empty ranges (z-a), as Python does.
        for (let m = chunks.length - 1; m > 0; m--) {
          const prev = chunks[m - 1]!;
          const cur = chunks[m]!;
          if (prev[prev.length - 1]!.codePointAt(0)! > cur[0]!.codePointAt(0)!) {
            chunks[m - 1] = prev.slice(0, -1).concat(cur.slice(1));
            chunks.splice(m, 1);
          }
        }
      }
      i = j + 1;
      if (chunks.length === 1 && chunks[0]!.length === 0) {
        tokens.push('(?!)'); // empty range: never matches
      } else if (chunks.length === 1 && chunks[0]!.length === 1 && chunks[0]![0] === '!') {
        tokens.push('.'); // negated empty range: any character
      } else {
        let negate = false;
        if (chunks[0]![0] === '!') {
          negate = true;
          chunks[0] = chunks[0]!.slice(1);
        }
        // Characters inside a chunk are literal; the '-' between two chunks is a range.
        const body = chunks.map((chunk) => chunk.map(escapeClassChar).join('')).join('-');
        tokens.push(`[${negate ? '^' : ''}${body}]`);
      }
    } else {
      tokens.push(escapeChar(c));
    }
  }

  // Stars: a fixed head, then `* fixed` pairs matched lazily without backtracking, then `*` or `* fixed`.
  const out: string[] = [];
  let t = 0;
  while (t < tokens.length && tokens[t] !== STAR) out.push(tokens[t++] as string);
  while (t < tokens.length) {
    t++; // the star
    if (t === tokens.length) {
      out.push('.*');
      break;
    }
    const fixed: string[] = [];
    while (t < tokens.length && tokens[t] !== STAR) fixed.push(tokens[t++] as string);
    if (t === tokens.length) {
      out.push('.*', fixed.join(''));
    } else {
      group++;
      out.push(`(?=(.*?${fixed.join('')}))(?:\\${group})`);
    }
  }
  return { source: out.join(''), group };
}

/** A compiled matcher for several shell patterns at once (true when any matches the whole string). */
export function compileFnmatch(patterns: readonly string[]): RegExp {
  let group = 0;
  const alternatives: string[] = [];
  for (const pattern of patterns) {
    const r = translatePattern(pattern, group);
    group = r.group;
    alternatives.push(r.source);
  }
  return new RegExp(alternatives.length ? `^(?:${alternatives.join('|')})$` : '(?!)', 'su');
}

/** Python's `fnmatch.fnmatch(name, pattern)` on POSIX (compiles: for tests and one-off use). */
export function fnmatch(name: string, pattern: string): boolean {
  return compileFnmatch([pattern]).test(name);
}

// ---------------------------------------------------------------------------------------------------
// Hosts.

/** MLflow's get_default_allowed_hosts(): localhost variants (any port) and private address patterns. */
export function defaultAllowedHosts(): string[] {
  const withPort = LOCALHOST_VARIANTS.map((h) => (h.startsWith('[') ? `${h.replace('[', '[[]')}:*` : `${h}:*`));
  const private172 = Array.from({ length: 16 }, (_, k) => `172.${16 + k}.*`);
  return [...LOCALHOST_VARIANTS, ...withPort, '192.168.*', '10.*', ...private172, 'fc00:*', 'fd00:*'];
}

/**
 * MLflow's is_allowed_host_header(allowed, host), precompiled: a pattern containing `*` is an fnmatch
 * pattern (then `?` and `[...]` are special too), any other is compared exactly (case-sensitive).
 */
export function hostMatcher(allowed: readonly string[]): (host: string | undefined) => boolean {
  if (allowed.includes('*')) return (host) => !!host;
  const exact = new Set(allowed.filter((h) => !h.includes('*')));
  const globs = allowed.filter((h) => h.includes('*'));
  const re = globs.length ? compileFnmatch(globs) : undefined;
  // Hosts repeat; remember recent answers (bounded, so a stream of distinct hosts cannot grow it).
  const memo = new Map<string, boolean>();
  return (host) => {
    if (!host) return false;
    if (exact.has(host)) return true;
    if (!re) return false;
    let ok = memo.get(host);
    if (ok === undefined) {
      ok = re.test(host);
      if (memo.size >= 256) memo.clear();
      memo.set(host, ok);
    }
    return ok;
  };
}

// ---------------------------------------------------------------------------------------------------
// Origins.

/** MLflow's is_localhost_origin: the origin's host name is localhost, 127.0.0.1 or ::1, any scheme or port. */
export function isLocalhostOrigin(origin: string | undefined): boolean {
  if (!origin) return false;
  try {
    const hostname = pyUrlHostname(origin);
    return hostname !== null && CORS_LOCALHOST_HOSTS.has(hostname);
  } catch {
    return false;
  }
}

/**
 * MLflow's should_block_cors_request(origin, method, allowed_origins): a state-changing request with
 * an Origin that is neither a localhost origin nor allowed (fnmatch for entries with `*`, else exact).
 */
export function corsBlocker(allowedOrigins: readonly string[] | undefined): (origin: string | undefined, method: string) => boolean {
  const list = allowedOrigins ?? [];
  if (list.includes('*')) return () => false;
  const exact = new Set(list.filter((o) => !o.includes('*')));
  const globs = list.filter((o) => o.includes('*'));
  const re = globs.length ? compileFnmatch(globs) : undefined;
  return (origin, method) => {
    if (!origin || !STATE_CHANGING_METHODS.has(method)) return false;
    if (isLocalhostOrigin(origin)) return false;
    if (list.length === 0) return true;
    return !(exact.has(origin) || (re !== undefined && re.test(origin)));
  };
}

/** MLflow's is_api_endpoint (no static prefix): paths under /api/ and /ajax-api/. */
export function isApiEndpoint(path: string): boolean {
  return (path.startsWith('/api/') || path.startsWith('/ajax-api/')) && !TEST_ENDPOINTS.has(path);
}

/** MLflow's is_health_endpoint: exactly /health or /version (exempt from Host validation). */
export function isHealthEndpoint(path: string): boolean {
  return HEALTH_ENDPOINTS.has(path);
}

/** Routes `mlflow server` serves from FastAPI itself, which Flask-CORS never sees. */
function isFastApiRoute(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') return false;
  if (path === '/health') return method !== 'PUT';
  return path.startsWith('/api/2.0/mlflow-artifacts/artifacts/') || path.startsWith('/ajax-api/2.0/mlflow-artifacts/artifacts/');
}

/** Python's str.casefold(), close enough for origins (ß → ss, then lower case). */
function casefold(s: string): string {
  return s.toUpperCase().toLowerCase();
}

/** Flask-CORS's "probably a regular expression" test for origin strings. */
function probablyRegex(s: string): boolean {
  for (const ch of s) if ('*\\]?$^[]()'.includes(ch)) return true;
  return false;
}

interface FlaskCors {
  /** Regular-expression origins (re.IGNORECASE, matched at the start like re.match). */
  regexes: RegExp[];
  /** Literal origins, case-folded (Flask-CORS compares them case-insensitively). */
  literals: Set<string>;
  /** All origins given as literal strings (not patterns), sorted as Python sorts them. */
  sortedLiterals: string[];
  wildcard: boolean;
  credentials: boolean;
  /** Access-Control-Allow-Methods on answers to OPTIONS (Flask-CORS sorts them). */
  methods: string;
  /** Whether Flask-CORS adds `Vary: Origin` (several origins, or a pattern among them). */
  vary: boolean;
}

function flaskCors(userOrigins: readonly string[], wildcard: boolean): FlaskCors {
  if (wildcard) {
    return {
      regexes: [/.*/is],
      literals: new Set(),
      sortedLiterals: [],
      wildcard: true,
      credentials: false,
      methods: 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT',
      vary: true,
    };
  }
  const origins = [...userOrigins, ...LOCALHOST_ORIGIN_PATTERNS];
  const regexes: RegExp[] = [];
  const literals: string[] = [];
  for (const o of origins) {
    if (!probablyRegex(o)) {
      literals.push(o);
      continue;
    }
    try {
      regexes.push(new RegExp(`^(?:${o})`, 'is'));
    } catch (e) {
      // MLflow fails to start on an origin Flask-CORS cannot compile; so does this server.
      throw new Error(`MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: invalid regular expression in origin '${o}': ${(e as Error).message}`);
    }
  }
  return {
    regexes,
    literals: new Set(literals.map(casefold)),
    sortedLiterals: [...literals].sort(),
    wildcard: false,
    credentials: true,
    methods: 'DELETE, GET, OPTIONS, PATCH, POST, PUT',
    vary: origins.length > 1 || regexes.length > 0,
  };
}

/** Starlette's CORSMiddleware as MLflow configures it. */
interface StarletteCors {
  wildcard: boolean;
  /** Exact origins (allow_origins). */
  origins: Set<string>;
  /** allow_origin_regex, full match, case-sensitive. */
  regex: RegExp | undefined;
  methods: Set<string>;
  /** Headers of every preflight answer before the per-request ones. */
  preflight: Array<[string, string]>;
}

function starletteCors(userOrigins: readonly string[], wildcard: boolean): StarletteCors {
  const methods = wildcard ? ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY'] : ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
  const preflight: Array<[string, string]> = [
    ['vary', 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network'],
  ];
  if (wildcard) preflight.push(['access-control-allow-origin', '*']);
  preflight.push(['access-control-allow-methods', methods.join(', ')], ['access-control-max-age', '600']);
  if (!wildcard) preflight.push(['access-control-allow-credentials', 'true']);
  return {
    wildcard,
    origins: new Set(wildcard ? [] : userOrigins),
    regex: wildcard ? undefined : new RegExp(`^(?:${LOCALHOST_ORIGIN_PATTERNS.join('|')})$`),
    methods: new Set(methods),
    preflight,
  };
}

function starletteAllows(s: StarletteCors, origin: string): boolean {
  return s.wildcard || s.origins.has(origin) || (s.regex !== undefined && s.regex.test(origin));
}

/** Appends `Origin` to whatever Vary the answer has, as Starlette does (`Vary: Origin, Origin` is MLflow's). */
function appendVaryOrigin(headers: Headers): void {
  const vary = headers.get('vary');
  headers.set('vary', vary === null ? 'Origin' : `${vary}, Origin`);
}

/** What a request tells CORS, read once. */
interface CorsRequest {
  method: string;
  /** The Origin header; '' when present but empty, undefined when absent. */
  origin: string | undefined;
  header(name: string): string | undefined;
}

/** Flask-CORS's after_request hook on a Flask-served answer. */
function applyFlaskCors(f: FlaskCors, req: CorsRequest, headers: Headers): void {
  const { origin } = req;
  let allowOrigin: string | undefined;
  if (origin) {
    if (f.literals.has(casefold(origin)) || f.regexes.some((r) => r.test(origin))) allowOrigin = origin;
    else return;
  } else if (f.wildcard) {
    allowOrigin = '*';
  } else {
    if (f.sortedLiterals.length === 0) return;
    // Flask-CORS sets them all, then keeps the first value of each header.
    allowOrigin = f.sortedLiterals[0]!;
  }
  if (allowOrigin) headers.append('access-control-allow-origin', allowOrigin);
  if (f.credentials) headers.append('access-control-allow-credentials', 'true');
  if (req.header('access-control-request-private-network') === 'true') {
    headers.append('access-control-allow-private-network', 'false');
  }
  if (req.method === 'OPTIONS') {
    const requested = (req.header('access-control-request-method') ?? '').toUpperCase();
    // Python's `in` on the comma-separated string: a substring test.
    if (requested && f.methods.includes(requested)) {
      const requestedHeaders = req.header('access-control-request-headers');
      if (requestedHeaders) {
        const allow = requestedHeaders
          .split(',')
          .map((h) => h.trim())
          .sort(pythonSort)
          .join(', ');
        if (allow) headers.append('access-control-allow-headers', allow);
      }
      headers.append('access-control-allow-methods', f.methods);
    }
  }
  if (f.vary && allowOrigin !== '*') headers.append('vary', 'Origin');
}

/** Python's default string order (by code point), not JavaScript's (by UTF-16 unit). */
function pythonSort(a: string, b: string): number {
  if (a === b) return 0;
  const x = Array.from(a);
  const y = Array.from(b);
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    if (x[k] !== y[k]) return x[k]!.codePointAt(0)! - y[k]!.codePointAt(0)!;
  }
  return x.length - y.length;
}

/** Starlette's CORSMiddleware on an answer that went through it (not a preflight). */
function applyStarletteCors(s: StarletteCors, origin: string | undefined, headers: Headers): void {
  if (origin !== undefined) {
    if (s.wildcard) headers.set('access-control-allow-origin', '*');
    else headers.set('access-control-allow-credentials', 'true');
    headers.set('access-control-expose-headers', '*');
    if (!s.wildcard && starletteAllows(s, origin)) headers.set('access-control-allow-origin', origin);
  }
  appendVaryOrigin(headers);
}

/** Starlette's answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method). */
function preflightResponse(s: StarletteCors, req: CorsRequest): Response {
  const origin = req.origin!;
  const headers = new Headers(s.preflight);
  const failures: string[] = [];
  if (starletteAllows(s, origin)) {
    if (!s.wildcard) headers.set('access-control-allow-origin', origin);
  } else {
    failures.push('origin');
  }
  if (!s.methods.has(req.header('access-control-request-method')!)) failures.push('method');
  const requestedHeaders = req.header('access-control-request-headers');
  if (requestedHeaders !== undefined) headers.set('access-control-allow-headers', requestedHeaders);
  if (req.header('access-control-request-private-network') !== undefined) failures.push('private-network');
  headers.set('content-type', 'text/plain; charset=utf-8');
  const ok = failures.length === 0;
  return new Response(ok ? 'OK' : `Disallowed CORS ${failures.join(', ')}`, { status: ok ? 200 : 400, headers });
}

/** Flask's automatic OPTIONS answer lists the route's methods with HEAD (for GET) and OPTIONS. */
function allowWithOptions(allow: string): string {
  const methods = new Set(allow.split(',').map((m) => m.trim()).filter(Boolean));
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].join(', ');
}

/**
 * Flask answers OPTIONS on any of its routes by itself: 200, an empty body and Allow (the route's
 * methods, HEAD for GET, OPTIONS). With the security middleware on, MLflow turns that 200 into 204 on
 * API paths. This server's route table answers 405 with Allow for a method a path lacks; that answer
 * becomes Flask's.
 */
function automaticOptions(c: Context, path: string, secured: boolean): void {
  const res = c.res;
  const allow = res.headers.get('allow');
  const api = secured && isApiEndpoint(path);
  if ((res.status === 405 && allow !== null) || (res.status === 200 && api)) {
    const headers = new Headers();
    if (allow !== null) headers.set('allow', res.status === 405 ? allowWithOptions(allow) : allow);
    if (!api) headers.set('content-type', 'text/html; charset=utf-8');
    c.res = undefined; // a fresh answer, without the 405's headers
    c.res = new Response(api ? null : '', { status: api ? 204 : 200, headers });
  }
}

function mutableHeaders(c: { res: Response }): Headers {
  try {
    c.res.headers.set('x-content-type-options', 'nosniff');
    return c.res.headers;
  } catch {
    // Immutable headers (a fetched or redirect Response): copy it.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set('x-content-type-options', 'nosniff');
    return c.res.headers;
  }
}

export function securityMiddleware(config: SecurityConfig): MiddlewareHandler {
  if (config.disabled) {
    return async (c, next) => {
      await next();
      if (c.req.method === 'OPTIONS') automaticOptions(c, c.req.path, false);
    };
  }
  const userOrigins = config.corsAllowedOrigins ?? [];
  const wildcard = userOrigins.includes('*');
  const allowedHosts = config.allowedHosts ?? defaultAllowedHosts();
  const checkHost = allowedHosts.length > 0 && !allowedHosts.includes('*') ? hostMatcher(allowedHosts) : undefined;
  const shouldBlock = wildcard ? undefined : corsBlocker(userOrigins);
  const flask = flaskCors(userOrigins, wildcard);
  const starlette = starletteCors(userOrigins, wildcard);
  const upper = config.xFrameOptions.toUpperCase();
  const xFrameOptions = upper && upper !== 'NONE' ? upper : undefined;

  return async (c, next) => {
    const path = c.req.path;
    const raw = c.req.raw.headers;
    if (checkHost && !isHealthEndpoint(path) && !checkHost(raw.get('host') ?? undefined)) {
      return new Response(INVALID_HOST_MSG, { status: 403, headers: { 'content-type': 'text/plain' } });
    }
    const method = c.req.method;
    const originHeader = raw.get('origin');
    const req: CorsRequest = {
      method,
      origin: originHeader ?? undefined,
      header: (name) => raw.get(name) ?? undefined,
    };
    if (originHeader !== null && method === 'OPTIONS' && raw.has('access-control-request-method')) {
      return preflightResponse(starlette, req);
    }
    if (shouldBlock && originHeader && isApiEndpoint(path) && shouldBlock(originHeader, method)) {
      const headers = new Headers({ 'content-type': 'text/plain' });
      applyStarletteCors(starlette, originHeader, headers);
      return new Response(CORS_BLOCKED_MSG, { status: 403, headers });
    }

    await next();

    if (method === 'OPTIONS') automaticOptions(c, path, true);
    const headers = mutableHeaders(c); // sets nosniff
    if (xFrameOptions && !path.startsWith(TRACE_RENDERER_ASSET_PATH)) headers.set('x-frame-options', xFrameOptions);
    if (!isFastApiRoute(method, path)) applyFlaskCors(flask, req, headers);
    applyStarletteCors(starlette, req.origin, headers);
  };
}
