/**
 * MLflow's security middleware, side by side: the same requests (Host headers, Origins × methods,
 * preflights, health endpoints) go to a real `mlflow server` 3.17.2 (its default uvicorn mode) and to
 * this server, each configured with the same MLFLOW_SERVER_* variables, and the answers must agree in
 * status, security and CORS headers, and the body of every answer the middleware writes itself.
 *
 * A few cases differ on purpose; each says why in `differs` and states this server's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rawRequest, skipMlflow, startMlflow, type MlflowServer, type RawRequest, type RawResponse } from './harness.js';

const SEARCH = '/api/2.0/mlflow/registered-models/search';
const CREATE = '/api/2.0/mlflow/registered-models/create';
const DELETE = '/api/2.0/mlflow/registered-models/delete';
const UPDATE = '/api/2.0/mlflow/registered-models/update';

/** Headers compared on every answer (absent on one side must be absent on the other). */
const COMPARED = [
  'x-content-type-options',
  'x-frame-options',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
  'access-control-allow-private-network',
  'vary',
];

interface Case extends RawRequest {
  name: string;
  /** A deliberate difference: this server's expected status instead of MLflow's. */
  differs?: { status: number; why: string };
}

/** Origins × the registry's methods, plus a preflight and a plain OPTIONS for each origin. */
function originMatrix(origins: Array<string | undefined>, host?: string): Case[] {
  const cases: Case[] = [];
  for (const origin of origins) {
    const headers: Record<string, string> = origin === undefined ? {} : { Origin: origin };
    const o = origin === undefined ? 'no Origin' : `Origin '${origin}'`;
    cases.push(
      { name: `${o}: GET search`, method: 'GET', path: SEARCH, host, headers },
      { name: `${o}: POST create`, method: 'POST', path: CREATE, host, headers, json: {} },
      { name: `${o}: DELETE model`, method: 'DELETE', path: DELETE, host, headers, json: { name: 'no-such-model' } },
      { name: `${o}: PATCH model`, method: 'PATCH', path: UPDATE, host, headers, json: { name: 'no-such-model' } },
      {
        name: `${o}: preflight for DELETE`,
        method: 'OPTIONS',
        path: DELETE,
        host,
        headers: { ...headers, 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'Content-Type,x-Custom' },
      },
      { name: `${o}: plain OPTIONS`, method: 'OPTIONS', path: CREATE, host, headers },
    );
  }
  return cases;
}

function preflightExtras(origin: string, host?: string): Case[] {
  const h = { Origin: origin };
  return [
    { name: `preflight for HEAD (not an allowed method)`, method: 'OPTIONS', path: CREATE, host, headers: { ...h, 'Access-Control-Request-Method': 'HEAD' } },
    { name: `preflight for lower-case post`, method: 'OPTIONS', path: CREATE, host, headers: { ...h, 'Access-Control-Request-Method': 'post' } },
    {
      name: `preflight asking for private network access`,
      method: 'OPTIONS',
      path: CREATE,
      host,
      headers: { ...h, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Private-Network': 'true' },
    },
    { name: `preflight on an unknown path`, method: 'OPTIONS', path: '/no/such/path', host, headers: { ...h, 'Access-Control-Request-Method': 'POST' } },
    { name: `preflight on /health`, method: 'OPTIONS', path: '/health', host, headers: { ...h, 'Access-Control-Request-Method': 'GET' } },
    {
      name: `OPTIONS without Origin but with Access-Control-Request-*`,
      method: 'OPTIONS',
      path: CREATE,
      host,
      headers: { 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'X-B,content-type' },
    },
    { name: `plain OPTIONS on a GET route`, method: 'OPTIONS', path: SEARCH, host, headers: h },
    { name: `GET /health`, method: 'GET', path: '/health', host, headers: h },
    { name: `GET /version`, method: 'GET', path: '/version', host, headers: h },
    { name: `POST /health (not an API path: not blocked)`, method: 'POST', path: '/health', host, headers: h },
    { name: `GET an unknown path`, method: 'GET', path: '/no/such/path', host, headers: h },
    { name: `GET a missing model (error answer)`, method: 'GET', path: '/api/2.0/mlflow/registered-models/get?name=zz', host, headers: h },
    { name: `GET search under /ajax-api`, method: 'GET', path: SEARCH.replace('/api/', '/ajax-api/'), host, headers: h },
    { name: `POST create under /ajax-api`, method: 'POST', path: CREATE.replace('/api/', '/ajax-api/'), host, headers: h, json: {} },
  ];
}

function hostCases(hosts: string[], paths: string[] = [SEARCH]): Case[] {
  return paths.flatMap((p) => hosts.map((host) => ({ name: `Host '${host}': GET ${p}`, method: 'GET', path: p, host })));
}

interface Config {
  name: string;
  env: Record<string, string>;
  cases: Case[];
}

const ATTACKER = 'rebind.attacker.example';

const configs: Config[] = [
  {
    name: 'no variables set (defaults)',
    env: {},
    cases: [
      ...hostCases([
        'localhost',
        'localhost:5000',
        'LOCALHOST',
        '127.0.0.1',
        '[::1]',
        '[::1]:5000',
        '0.0.0.0:80',
        '192.168.1.5:5000',
        '10.1.2.3',
        '172.15.0.1',
        '172.16.0.1',
        '172.31.255.1:8080',
        '172.32.0.1',
        '[fd00::1]:5000',
        '100.64.0.1',
        '169.254.169.254',
        ATTACKER,
        `${ATTACKER}:5000`,
        'localhost.attacker.example',
        '127.0.0.1.nip.io',
        '',
      ]),
      ...hostCases([ATTACKER], ['/health', '/version', '/health/', '/no/such/path', CREATE]),
      {
        name: `Host 'fd00::1' (unbracketed IPv6)`,
        method: 'GET',
        path: SEARCH,
        host: 'fd00::1',
        differs: { status: 400, why: '@hono/node-server refuses a Host that is not a URL authority before any middleware (MLflow: allowed by fd00:*)' },
      },
      { name: `attacker Host with a localhost Origin`, method: 'POST', path: CREATE, host: ATTACKER, headers: { Origin: 'http://localhost:3000' }, json: {} },
      { name: `attacker Host, preflight`, method: 'OPTIONS', path: CREATE, host: ATTACKER, headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' } },
      ...originMatrix([
        undefined,
        'http://localhost:3000',
        'http://LOCALHOST:3000',
        'https://localhost:3000',
        'http://127.0.0.1:9',
        'http://[::1]:9',
        'http://evil.example',
        `http://${ATTACKER}`,
        'null',
        '',
      ]),
      ...preflightExtras('http://localhost:3000'),
      ...preflightExtras('http://evil.example'),
    ],
  },
  {
    name: 'allowed hosts, two literal origins and a pattern, X-Frame-Options deny',
    env: {
      MLFLOW_SERVER_ALLOWED_HOSTS: 'mlflow.example.com,*.corp.example:*, api.ex?mple.org ,[!x]y.test*,10.0.0.[0-9]*',
      MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: 'https://b.example, https://app.example.com,https://*.trusted.example',
      MLFLOW_SERVER_X_FRAME_OPTIONS: 'deny',
    },
    cases: [
      ...hostCases([
        'mlflow.example.com',
        'mlflow.example.com:80',
        'MLFLOW.example.com',
        'a.corp.example:8080',
        'a.corp.example',
        'api.example.org',
        'zy.test:1',
        'xy.test',
        '10.0.0.7:1',
        '10.0.0.x',
        'localhost',
        '127.0.0.1',
        ATTACKER,
      ]),
      ...hostCases([ATTACKER], ['/health', '/version']),
      {
        name: `Host 'api.ex?mple.org' (allowed literally: no '*' in the entry, so no wildcards)`,
        method: 'GET',
        path: SEARCH,
        host: 'api.ex?mple.org',
        differs: { status: 400, why: '@hono/node-server refuses a Host with "?" before any middleware (MLflow: 200)' },
      },
      ...originMatrix(
        [
          undefined,
          'https://app.example.com',
          'https://APP.example.com',
          'https://b.example',
          'https://a.trusted.example',
          'https://xtrusted.example',
          'http://localhost:3000',
          'https://evil.example',
          '',
        ],
        'mlflow.example.com',
      ),
      ...preflightExtras('https://app.example.com', 'mlflow.example.com'),
    ],
  },
  {
    name: 'wildcards: any origin, any host, X-Frame-Options none',
    env: { MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: '*', MLFLOW_SERVER_ALLOWED_HOSTS: '*', MLFLOW_SERVER_X_FRAME_OPTIONS: 'none' },
    cases: [
      ...hostCases([ATTACKER, '']),
      ...originMatrix([undefined, 'https://evil.example', 'http://localhost:3000', '']),
      ...preflightExtras('https://evil.example'),
    ],
  },
  {
    name: 'empty variables (as unset), X-Frame-Options empty',
    env: { MLFLOW_SERVER_ALLOWED_HOSTS: '', MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: '', MLFLOW_SERVER_X_FRAME_OPTIONS: '' },
    cases: [...hostCases(['localhost:1', ATTACKER]), ...originMatrix([undefined, 'http://localhost:3000', 'http://evil.example'])],
  },
  {
    name: 'security middleware disabled',
    env: { MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE: 'true' },
    cases: [...hostCases([ATTACKER]), ...originMatrix([undefined, 'http://evil.example'], ATTACKER)],
  },
];

/** Parsed JSON, or undefined when the text is not JSON. */
function json(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What must agree between the two answers. */
function comparable(res: RawResponse, c: Case) {
  const headers: Record<string, string | undefined> = {};
  for (const h of COMPARED) headers[h] = res.headers[h];
  const type = res.headers['content-type'] ?? '';
  // The middleware's own answers are text/plain: content type and body exactly (GET /health's "OK" is
  // the handler's). Handlers' answers are compared by status and headers; bodies of unknown paths are
  // HTML in MLflow and JSON here.
  const own = type.startsWith('text/plain') && !(c.method === 'GET' && (c.path === '/health' || c.path === '/version'));
  const allow = c.method === 'OPTIONS' && res.headers.allow ? res.headers.allow.split(', ').sort().join(', ') : undefined;
  return { status: res.status, headers, contentType: own ? type : undefined, body: own ? res.body : undefined, allow, errorCode: json(res.body)?.error_code };
}

describe.skipIf(skipMlflow)('security middleware side by side with mlflow server 3.17.2', { timeout: 180_000 }, () => {
  // Start every MLflow server at once: their start-up is the slow part of this suite.
  const mlflows = new Map<string, Promise<MlflowServer>>();
  beforeAll(() => {
    for (const cfg of configs) {
      const p = startMlflow(cfg.env);
      p.catch(() => {}); // reported by the suite that awaits it
      mlflows.set(cfg.name, p);
    }
  });
  afterAll(async () => {
    await Promise.all([...mlflows.values()].map((p) => p.then((m) => m.stop(), () => {})));
  }, 60_000);

  for (const cfg of configs) {
    describe(cfg.name, () => {
      let mlflow: MlflowServer;
      let ours: TestServer;
      beforeAll(async () => {
        ours = await startTestServer('pglite', cfg.env);
        mlflow = await mlflows.get(cfg.name)!;
      }, 180_000);
      afterAll(async () => {
        await ours?.close();
      });

      it(`answers ${cfg.cases.length} requests as MLflow does`, async () => {
        const mismatches: string[] = [];
        for (const c of cfg.cases) {
          const [theirs, mine] = await Promise.all([rawRequest(mlflow.url, c), rawRequest(ours.url, c)]);
          if (c.differs) {
            if (mine.status !== c.differs.status) mismatches.push(`${c.name}: expected our ${c.differs.status} (${c.differs.why}), got ${mine.status}`);
            continue;
          }
          const a = comparable(theirs, c);
          const b = comparable(mine, c);
          // A JSON error code is compared when both answers carry one.
          if (a.errorCode === undefined || b.errorCode === undefined) a.errorCode = b.errorCode = undefined;
          try {
            expect(b).toEqual(a);
          } catch {
            mismatches.push(`${c.name}:\n  mlflow ${JSON.stringify(a)}\n  ours   ${JSON.stringify(b)}`);
          }
        }
        expect(mismatches.join('\n')).toBe('');
      });
    });
  }
});

/** Literal expectations (recorded from mlflow server 3.17.2), checked even where MLflow is not installed. */
describe('security middleware: headline answers', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(async () => {
    await s?.close();
  });

  it('refuses a rebinding Host with 403 text/plain, but not on /health and /version', async () => {
    const r = await rawRequest(s.url, { method: 'GET', path: SEARCH, host: ATTACKER });
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.body).toBe('Invalid Host header - possible DNS rebinding attack detected');
    expect(r.headers['x-content-type-options']).toBeUndefined();
    expect((await rawRequest(s.url, { method: 'GET', path: '/health', host: ATTACKER })).status).toBe(200);
    expect((await rawRequest(s.url, { method: 'GET', path: '/version', host: ATTACKER })).status).toBe(200);
    expect((await rawRequest(s.url, { method: 'GET', path: SEARCH, host: '' })).status).toBe(403);
    expect((await rawRequest(s.url, { method: 'GET', path: SEARCH, host: 'localhost:1' })).status).toBe(200);
  });

  it('refuses state changes from another origin with 403, and lets localhost origins through', async () => {
    const r = await rawRequest(s.url, { method: 'POST', path: CREATE, headers: { Origin: 'http://evil.example' }, json: { name: 'x' } });
    expect(r.status).toBe(403);
    expect(r.body).toBe('Cross-origin request blocked');
    expect(r.headers).toMatchObject({ 'content-type': 'text/plain', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': '*', vary: 'Origin' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const get = await rawRequest(s.url, { method: 'GET', path: SEARCH, headers: { Origin: 'http://evil.example' } });
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    const local = await rawRequest(s.url, { method: 'GET', path: SEARCH, headers: { Origin: 'http://localhost:3000' } });
    expect(local.headers).toMatchObject({ 'access-control-allow-origin': 'http://localhost:3000', vary: 'Origin, Origin' });
  });

  it('answers preflights before routing, and sets the security headers', async () => {
    const ok = await rawRequest(s.url, { method: 'OPTIONS', path: CREATE, headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('OK');
    expect(ok.headers['access-control-allow-methods']).toBe('GET, POST, PUT, DELETE, OPTIONS, PATCH');
    const bad = await rawRequest(s.url, { method: 'OPTIONS', path: '/x', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'PUT' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toBe('Disallowed CORS origin');
    const plain = await rawRequest(s.url, { method: 'OPTIONS', path: CREATE });
    expect(plain.status).toBe(204);
    const res = await rawRequest(s.url, { method: 'GET', path: SEARCH });
    expect(res.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', vary: 'Origin' });
  });
});
