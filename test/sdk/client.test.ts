/**
 * SDK unit tests: retries, backoff, timeouts, cancellation, auth, error mapping, response
 * validation, connection reuse and request encoding, each against a small node:http server started
 * here that answers as the test scripts it (a real server over real sockets, not a mocked client).
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MlflowApiError, MlflowRegistryClient, type MlflowRegistryClientOptions } from '../../packages/client/src/index.js';
import { backoffDelay, neverSent } from '../../packages/client/src/transport.js';

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Scripted {
  url: string;
  requests: Recorded[];
  /** TCP connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

type Reply = (req: Recorded, res: ServerResponse, n: number) => void;

const servers: Scripted[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Starts a server whose n-th request (0-based) is answered by `reply`. */
async function scripted(reply: Reply): Promise<Scripted> {
  const requests: Recorded[] = [];
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server = http.createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Recorded = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      requests.push(rec);
      reply(rec, res, requests.length - 1);
    });
  });
  server.on('connection', (sock) => {
    state.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s: Scripted = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const sock of sockets) sock.destroy();
        server.close(() => r());
      }),
  };
  servers.push(s);
  return s;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

const MODEL = { name: 'iris', creation_timestamp: 1732000000000, last_updated_timestamp: 1732000000001 };
const VERSION = {
  name: 'iris',
  version: '1',
  creation_timestamp: 1732000000000,
  last_updated_timestamp: 1732000000000,
  current_stage: 'None',
  source: 's3://b/p',
  status: 'READY',
};
const unavailable = (res: ServerResponse, extra: Record<string, string> = {}) =>
  json(res, 503, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'try later' }, extra);

function makeClient(s: Scripted, opts: Partial<MlflowRegistryClientOptions> = {}): MlflowRegistryClient {
  return new MlflowRegistryClient({ baseUrl: s.url, retries: { maxRetries: 3, baseDelayMs: 10, maxDelayMs: 100 }, validateResponses: true, ...opts } as MlflowRegistryClientOptions);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

describe('retries', () => {
  it('retries an idempotent GET after 503 and 429, then returns the result', async () => {
    const s = await scripted((_r, res, n) => {
      if (n === 0) return unavailable(res);
      if (n === 1) return json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' });
      json(res, 200, { registered_model: MODEL });
    });
    const m = await makeClient(s).getRegisteredModel({ name: 'iris' });
    expect(m.name).toBe('iris');
    expect(s.requests).toHaveLength(3);
  });

  it('gives up after maxRetries and throws the last error', async () => {
    const s = await scripted((_r, res) => unavailable(res));
    const err = await rejection(makeClient(s, { retries: { maxRetries: 2, baseDelayMs: 1 } }).getModelVersion({ name: 'iris', version: 1 }));
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).toMatchObject({ errorCode: 'TEMPORARILY_UNAVAILABLE', status: 503, message: 'try later', method: 'GET' });
    expect(s.requests).toHaveLength(3);
  });

  it('retries PUT and DELETE, and the read-only POST get-latest-versions', async () => {
    const s = await scripted((r, res, n) => {
      if (n % 2 === 0) return unavailable(res);
      if (r.url.includes('get-latest-versions')) return json(res, 200, { model_versions: [VERSION] });
      json(res, 200, {});
    });
    const c = makeClient(s, { validateResponses: false });
    await c.deleteRegisteredModelTag({ name: 'iris', key: 'k' });
    await c.uploadArtifact({ path: 'a/b.txt', body: 'hello' });
    expect(await c.getLatestVersions({ name: 'iris' })).toHaveLength(1);
    expect(s.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'PUT', 'PUT', 'POST', 'POST']);
    // The replayed request is identical, body included.
    expect(s.requests[3]!.body).toBe('hello');
    expect(s.requests[5]!.body).toBe(s.requests[4]!.body);
  });

  it('never retries a non-idempotent POST or PATCH', async () => {
    const s = await scripted((_r, res) => unavailable(res));
    const c = makeClient(s);
    expect(await rejection(c.createRegisteredModel({ name: 'iris' }))).toMatchObject({ status: 503 });
    expect(await rejection(c.updateModelVersion({ name: 'iris', version: 1, description: 'x' }))).toMatchObject({ status: 503 });
    expect(await rejection(c.setRegisteredModelAlias({ name: 'iris', alias: 'a', version: 1 }))).toMatchObject({ status: 503 });
    expect(s.requests.map((r) => r.method)).toEqual(['POST', 'PATCH', 'POST']);
  });

  it('does not retry other statuses (500, 502, 400, 404)', async () => {
    for (const status of [500, 502, 400, 404]) {
      const s = await scripted((_r, res) => json(res, status, { error_code: 'X', message: 'no' }));
      await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }));
      expect(s.requests, String(status)).toHaveLength(1);
    }
  });

  it('does not retry a streamed upload body (it cannot be replayed)', async () => {
    const s = await scripted((_r, res) => unavailable(res));
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('once'));
        c.close();
      },
    });
    expect(await rejection(makeClient(s).uploadArtifact({ path: 'x.bin', body }))).toMatchObject({ status: 503 });
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]!.body).toBe('once');
  });

  it('retries network errors (connection reset) on idempotent calls only', async () => {
    const s = await scripted((r, res, n) => {
      if (n === 0 || r.method === 'POST') return res.socket!.destroy();
      json(res, 200, { registered_model: MODEL });
    });
    const c = makeClient(s);
    expect((await c.getRegisteredModel({ name: 'iris' })).name).toBe('iris');
    const err = await rejection(c.renameRegisteredModel({ name: 'iris', newName: 'iris2' }));
    expect(err).toMatchObject({ errorCode: 'NETWORK_ERROR', status: 0, method: 'POST' });
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
  });

  it('reports an unreachable server as NETWORK_ERROR after the retries', async () => {
    const s = await scripted((_r, res) => json(res, 200, {}));
    const url = s.url;
    await s.close();
    const c = new MlflowRegistryClient({ baseUrl: url, retries: { maxRetries: 2, baseDelayMs: 1 } });
    const err = await rejection(c.getRegisteredModel({ name: 'iris' }));
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).toMatchObject({ errorCode: 'NETWORK_ERROR', status: 0 });
    expect((err as Error).message).toMatch(/ECONNREFUSED|fetch failed/);
  });

  it('backs off exponentially with jitter, capped by maxDelayMs', async () => {
    const s = await scripted((_r, res, n) => (n < 5 ? unavailable(res) : json(res, 200, { registered_model: MODEL })));
    const base = 40;
    await makeClient(s, { retries: { maxRetries: 5, baseDelayMs: base, maxDelayMs: 120 } }).getRegisteredModel({ name: 'iris' });
    const gaps = s.requests.slice(1).map((r, i) => r.at - s.requests[i]!.at);
    expect(gaps).toHaveLength(5);
    // Full jitter: each wait is random in [0, min(cap, base * 2^attempt)], plus request overhead
    // (generous slack: CI machines are busy).
    const ceilings = [40, 80, 120, 120, 120];
    gaps.forEach((g, i) => expect(g, `gap ${i}`).toBeLessThan(ceilings[i]! + 250));
    expect(gaps.reduce((a, b) => a + b, 0)).toBeLessThan(480 + 600);
  });

  it('computes exponential ceilings with full jitter, and Retry-After in seconds or as a date', () => {
    const top = (attempt: number) => backoffDelay(attempt, null, 200, 5000, () => 1);
    expect([0, 1, 2, 3, 4, 5, 6].map(top)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoffDelay(3, null, 200, 5000, () => 0)).toBe(0);
    expect(backoffDelay(3, null, 200, 5000, () => 0.5)).toBe(800);
    const samples = Array.from({ length: 200 }, () => backoffDelay(2, null, 100, 5000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThanOrEqual(400);
    expect(new Set(samples.map((x) => Math.round(x))).size).toBeGreaterThan(20); // jittered, not fixed
    expect(backoffDelay(0, '2', 200, 5000)).toBe(2000);
    expect(backoffDelay(0, '120', 200, 5000)).toBe(5000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(backoffDelay(0, 'Thu, 01 Jan 2026 00:00:03 GMT', 200, 5000, Math.random, () => now)).toBe(3000);
    expect(backoffDelay(0, 'Wed, 31 Dec 2025 23:00:00 GMT', 200, 5000, Math.random, () => now)).toBe(0);
    expect(backoffDelay(1, 'soon', 200, 5000, () => 1)).toBe(400); // unparseable: ignored
  });

  it('honours Retry-After (seconds), capped by maxDelayMs', async () => {
    const s = await scripted((_r, res, n) =>
      n === 0 ? json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'x' }, { 'retry-after': '0.15' }) : json(res, 200, { registered_model: MODEL }),
    );
    await makeClient(s, { retries: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1000 } }).getRegisteredModel({ name: 'iris' });
    expect(s.requests[1]!.at - s.requests[0]!.at).toBeGreaterThanOrEqual(140);

    const capped = await scripted((_r, res, n) =>
      n === 0 ? unavailable(res, { 'retry-after': '3600' }) : json(res, 200, { registered_model: MODEL }),
    );
    const t0 = performance.now();
    await makeClient(capped, { retries: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 50 } }).getRegisteredModel({ name: 'iris' });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('can be switched off with retries: 0', async () => {
    const s = await scripted((_r, res) => unavailable(res));
    await rejection(makeClient(s, { retries: 0 }).getRegisteredModel({ name: 'iris' }));
    expect(s.requests).toHaveLength(1);
  });
});

describe('retries of calls that are not idempotent (creates)', () => {
  const created = (res: ServerResponse) => json(res, 200, { model_version: VERSION });

  it('does not retry a create whose connection was reset after the request was sent', async () => {
    const s = await scripted((_r, res) => res.socket!.destroy());
    const c = makeClient(s);
    expect(await rejection(c.createModelVersion({ name: 'iris', source: 's3://b/p' }))).toMatchObject({ errorCode: 'NETWORK_ERROR', status: 0 });
    expect(await rejection(c.createRegisteredModel({ name: 'iris' }))).toMatchObject({ errorCode: 'NETWORK_ERROR', status: 0 });
    // The server saw each request once: a second attempt could have registered a duplicate version.
    expect(s.requests.map((r) => r.url)).toEqual(['/api/2.0/mlflow/model-versions/create', '/api/2.0/mlflow/registered-models/create']);
  });

  it('does not retry a create whose response broke off after the headers (the server acted on it)', async () => {
    const s = await scripted((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"model_version": {');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect(await rejection(makeClient(s).createModelVersion({ name: 'iris', source: 's3://b/p' }))).toMatchObject({ errorCode: 'NETWORK_ERROR' });
    expect(s.requests).toHaveLength(1);
  });

  it('does not retry a create after 500, 502, 503 (with or without Retry-After) or 504', async () => {
    const replies: [number, Record<string, string>][] = [[500, {}], [502, {}], [503, {}], [503, { 'retry-after': '0' }], [504, {}]];
    for (const [status, headers] of replies) {
      const s = await scripted((_r, res) => json(res, status, { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'may or may not be applied' }, headers));
      const err = await rejection(makeClient(s).createModelVersion({ name: 'iris', source: 's3://b/p' }));
      expect(err, `${status} ${JSON.stringify(headers)}`).toMatchObject({ status });
      expect(s.requests, `${status} ${JSON.stringify(headers)}`).toHaveLength(1);
    }
  });

  it('retries a create after 429 (refused without acting on it), honouring Retry-After', async () => {
    const s = await scripted((_r, res, n) =>
      n === 0 ? json(res, 429, { error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'slow down' }, { 'retry-after': '0' }) : created(res),
    );
    const mv = await makeClient(s).createModelVersion({ name: 'iris', source: 's3://b/p' });
    expect(mv.version).toBe('1');
    expect(s.requests).toHaveLength(2);
    expect(s.requests[1]!.body).toBe(s.requests[0]!.body);
  });

  it('retries a create whose connection was refused (the request was never sent)', async () => {
    // A port nothing listens on; after the first attempt fails, a server starts listening there.
    const probe = await scripted((_r, res) => created(res));
    const { port } = new URL(probe.url);
    await probe.close();
    servers.splice(servers.indexOf(probe), 1);
    const received: string[] = [];
    let attempts = 0;
    let refusal: unknown;
    const fetchThenListen = async (url: string, init: RequestInit): Promise<Response> => {
      attempts++;
      try {
        return await fetch(url, init);
      } catch (err) {
        refusal ??= err;
        const late = http.createServer((req, res) => {
          req.resume();
          req.on('end', () => (received.push(req.url!), created(res)));
        });
        await new Promise<void>((r) => late.listen(Number(port), '127.0.0.1', r));
        servers.push({ url: probe.url, requests: [], connections: 0, close: () => new Promise<void>((r) => (late.closeAllConnections(), late.close(() => r()))) });
        throw err;
      }
    };
    const c = new MlflowRegistryClient({ baseUrl: probe.url, fetch: fetchThenListen, retries: { maxRetries: 2, baseDelayMs: 1 } });
    const mv = await c.createModelVersion({ name: 'iris', source: 's3://b/p' });
    expect(mv.version).toBe('1');
    expect(attempts).toBe(2);
    expect(received).toEqual(['/api/2.0/mlflow/model-versions/create']);
    expect(neverSent(refusal)).toBe(true);
  });

  it('tells a connection never established from one that broke after sending', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(neverSent(new TypeError('fetch failed', { cause: refused }))).toBe(true);
    expect(neverSent(new TypeError('fetch failed', { cause: new AggregateError([refused, refused]) }))).toBe(true);
    expect(neverSent(new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }) }))).toBe(true);
    expect(neverSent(new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }))).toBe(false);
    expect(neverSent(new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }))).toBe(false);
    expect(neverSent(new TypeError('Failed to fetch'))).toBe(false); // a browser says nothing: not retried
  });

  it('retries an idempotent read whose response broke off after the headers', async () => {
    const s = await scripted((_r, res, n) => {
      if (n > 0) return json(res, 200, { registered_model: MODEL });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"registered_model": {');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect((await makeClient(s).getRegisteredModel({ name: 'iris' })).name).toBe('iris');
    expect(s.requests).toHaveLength(2);
  });

  it('takes RESOURCE_DOES_NOT_EXIST as success for a delete retried after a reset the server had applied', async () => {
    let deleted = false;
    const gone = (res: ServerResponse) => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=iris not found' });
    const s = await scripted((_r, res) => {
      if (deleted) return gone(res);
      deleted = true; // applied, then the connection breaks before the answer
      res.socket!.destroy();
    });
    const c = makeClient(s);
    await c.deleteRegisteredModel({ name: 'iris' });
    expect(s.requests.map((r) => r.method)).toEqual(['DELETE', 'DELETE']);
    // Without an attempt of unknown outcome, deleting what does not exist is still an error.
    const err = await rejection(c.deleteRegisteredModel({ name: 'iris' }));
    expect(err).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', status: 404 });
    // And after a 503 (not applied), a 404 on the retry is an error too.
    const s2 = await scripted((_r, res, n) => (n === 0 ? unavailable(res) : gone(res)));
    expect(await rejection(makeClient(s2).deleteModelVersion({ name: 'iris', version: 1 }))).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST' });
    expect(s2.requests).toHaveLength(2);
  });
});

describe('timeouts and cancellation', () => {
  it('fails with DEADLINE_EXCEEDED when the server is too slow to answer (no retry)', async () => {
    const s = await scripted((_r, res) => setTimeout(() => json(res, 200, { registered_model: MODEL }), 1500));
    const t0 = performance.now();
    const err = await rejection(makeClient(s, { timeoutMs: 100 }).getRegisteredModel({ name: 'iris' }));
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED', status: 0 });
    expect(performance.now() - t0).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 300));
    expect(s.requests.length).toBeLessThanOrEqual(1); // not retried
  });

  it('counts the time to read the body too', async () => {
    const s = await scripted((_r, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"registered_model":');
      setTimeout(() => res.end(JSON.stringify(MODEL) + '}'), 1500);
    });
    const err = await rejection(makeClient(s, { timeoutMs: 150 }).getRegisteredModel({ name: 'iris' }));
    expect(err).toMatchObject({ errorCode: 'DEADLINE_EXCEEDED' });
  });

  it('takes a per-call timeout that overrides the client default', async () => {
    const s = await scripted((_r, res) => setTimeout(() => json(res, 200, { registered_model: MODEL }), 300));
    const c = makeClient(s, { timeoutMs: 50 });
    expect((await c.getRegisteredModel({ name: 'iris' }, { timeoutMs: 5000 })).name).toBe('iris');
    await expect(c.getRegisteredModel({ name: 'iris' })).rejects.toMatchObject({ errorCode: 'DEADLINE_EXCEEDED' });
  });

  it('rejects with the AbortSignal reason when the caller aborts, during a request or a backoff wait', async () => {
    const slow = await scripted((_r, res) => setTimeout(() => json(res, 200, { registered_model: MODEL }), 2000));
    const ac = new AbortController();
    const p = makeClient(slow).getRegisteredModel({ name: 'iris' }, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 50);
    expect(await rejection(p)).toEqual(new Error('user cancelled'));

    // The server asks for a 60 s wait; the caller aborts once that answer is out, during the wait
    // (a wait that ignored the signal would outlast the test's timeout).
    const ac2 = new AbortController();
    const busy = await scripted((_r, res) => {
      unavailable(res, { 'retry-after': '60' });
      res.on('finish', () => setTimeout(() => ac2.abort(), 20));
    });
    const p2 = makeClient(busy, { retries: { maxRetries: 5, maxDelayMs: 60_000 } }).getRegisteredModel({ name: 'iris' }, { signal: ac2.signal });
    const err = await rejection(p2);
    expect((err as Error).name).toBe('AbortError');
    expect(busy.requests).toHaveLength(1);
  });
});

describe('requests', () => {
  it('sends bearer tokens, basic credentials (UTF-8) and custom headers', async () => {
    const s = await scripted((_r, res) => json(res, 200, { registered_model: MODEL }));
    await makeClient(s, { token: 't0k3n', headers: { 'x-team': 'ml' } }).getRegisteredModel({ name: 'iris' }, { headers: { 'x-call': '1' } });
    await makeClient(s, { username: 'jürgen', password: 'p:w' }).getRegisteredModel({ name: 'iris' });
    expect(s.requests[0]!.headers).toMatchObject({ authorization: 'Bearer t0k3n', 'x-team': 'ml', 'x-call': '1' });
    expect(s.requests[1]!.headers.authorization).toBe(`Basic ${Buffer.from('jürgen:p:w', 'utf8').toString('base64')}`);
  });

  it('sends the workspace header (trimmed; per call overridable), but not with the workspace administration calls', async () => {
    const s = await scripted((r, res) =>
      r.url.startsWith('/api/3.0/mlflow/workspaces') ? json(res, 200, { workspaces: [{ name: 'default' }] }) : json(res, 200, { registered_model: MODEL }),
    );
    const c = makeClient(s, { workspace: ' team-a ', token: 't' });
    expect(c.workspace).toBe('team-a');
    await c.getRegisteredModel({ name: 'iris' });
    await c.getRegisteredModel({ name: 'iris' }, { workspace: 'team-b' });
    await c.withWorkspace('team-c').getRegisteredModel({ name: 'iris' });
    await c.withWorkspace(undefined).getRegisteredModel({ name: 'iris' });
    await makeClient(s, { workspace: '  ' }).getRegisteredModel({ name: 'iris' });
    expect(await c.listWorkspaces()).toEqual([{ name: 'default' }]);
    expect(s.requests.map((r) => r.headers['x-mlflow-workspace'])).toEqual(['team-a', 'team-b', 'team-c', undefined, undefined, undefined]);
    // withWorkspace keeps everything else (here: the token).
    expect(s.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t', 'Bearer t', 'Bearer t', 'Bearer t', undefined, 'Bearer t']);
  });

  it("encodes MLflow's wire format: snake_case JSON bodies (DELETE included), repeated query keys, string versions", async () => {
    const s = await scripted((r, res) => {
      if (r.url.startsWith('/api/2.0/mlflow/model-versions/search')) return json(res, 200, {});
      if (r.url.startsWith('/api/2.0/mlflow/webhooks')) {
        return json(res, 200, { webhook: { webhook_id: 'w1', name: 'h', url: 'https://x', events: JSON.parse(r.body).events, status: 'ACTIVE', creation_timestamp: 1, last_updated_timestamp: 1 } });
      }
      if (r.url.includes('model-versions/create') || r.url.includes('transition-stage')) return json(res, 200, { model_version: VERSION });
      json(res, 200, {});
    });
    const c = makeClient(s);
    await c.searchModelVersionsPage({ filter: "name = 'iris' AND tags.k = 'a b'", orderBy: ['version_number DESC', 'name'], maxResults: 5, pageToken: 'tok' });
    await c.deleteModelVersion({ name: 'iris', version: 7 });
    await c.createModelVersion({ name: 'iris', source: 's3://b/p', runId: 'r1', tags: { a: '1' } });
    await c.transitionModelVersionStage({ name: 'iris', version: 1, stage: 'Staging' });
    await c.createWebhook({ name: 'h', url: 'https://x', events: ['model_version_alias.deleted', { entity: 'PROMPT', action: 'CREATED' }] });

    const [search, del, create, transition, hook] = s.requests;
    const q = new URL(search!.url, s.url).searchParams;
    expect(q.getAll('order_by')).toEqual(['version_number DESC', 'name']);
    expect([q.get('filter'), q.get('max_results'), q.get('page_token')]).toEqual(["name = 'iris' AND tags.k = 'a b'", '5', 'tok']);
    expect([del!.method, del!.headers['content-type'], JSON.parse(del!.body)]).toEqual(['DELETE', 'application/json', { name: 'iris', version: '7' }]);
    expect(JSON.parse(create!.body)).toEqual({ name: 'iris', source: 's3://b/p', run_id: 'r1', tags: [{ key: 'a', value: '1' }] });
    expect(JSON.parse(transition!.body)).toEqual({ name: 'iris', version: '1', stage: 'Staging', archive_existing_versions: false });
    expect(JSON.parse(hook!.body).events).toEqual([
      { entity: 'MODEL_VERSION_ALIAS', action: 'DELETED' },
      { entity: 'PROMPT', action: 'CREATED' },
    ]);
  });

  it('calls a custom fetch as fetch(url, init), so fetches that reject Request objects work', async () => {
    const s = await scripted((_r, res) => json(res, 200, { registered_model: MODEL }));
    const seen: string[] = [];
    const strictFetch = (url: string, init: RequestInit) => {
      if (typeof url !== 'string') throw new TypeError('Failed to parse URL from [object Request]');
      seen.push(`${init.method} ${url}`);
      return fetch(url, init);
    };
    await makeClient(s, { fetch: strictFetch }).getRegisteredModel({ name: 'a b' });
    expect(seen).toEqual([`GET ${s.url}/api/2.0/mlflow/registered-models/get?name=a%20b`]);
  });

  it('reuses keep-alive connections across calls with the global fetch', async () => {
    const s = await scripted((_r, res) => json(res, 200, { registered_model: MODEL }));
    const c = makeClient(s);
    for (let i = 0; i < 20; i++) await c.getRegisteredModel({ name: 'iris' });
    expect(s.requests).toHaveLength(20);
    // Node's fetch (undici) keeps sockets open and takes turns between at most two of them for
    // back-to-back requests; without reuse this would be 20.
    expect(s.connections).toBeLessThanOrEqual(2);
  });

  it('accepts a base URL with a path prefix and a trailing slash', async () => {
    const s = await scripted((_r, res) => json(res, 200, { registered_model: MODEL }));
    await new MlflowRegistryClient({ baseUrl: `${s.url}/mlflow/` }).getRegisteredModel({ name: 'iris' });
    expect(s.requests[0]!.url).toBe('/mlflow/api/2.0/mlflow/registered-models/get?name=iris');
  });
});

describe('errors and validation', () => {
  it("carries the server's error_code, HTTP status and message", async () => {
    const s = await scripted((_r, res) => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=iris not found' }));
    const err = await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }));
    expect(err).toBeInstanceOf(MlflowApiError);
    expect(err).toBeInstanceOf(Error);
    expect(MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST')).toBe(true);
    expect(MlflowApiError.is(err, 'RESOURCE_ALREADY_EXISTS')).toBe(false);
    expect(err).toMatchObject({ name: 'MlflowApiError', errorCode: 'RESOURCE_DOES_NOT_EXIST', status: 404, message: 'Registered Model with name=iris not found' });
  });

  it("passes a code the client does not know through rawErrorCode, with errorCode 'UNKNOWN_ERROR_CODE'", async () => {
    const s = await scripted((_r, res) => json(res, 400, { error_code: 'SOME_NEWER_MLFLOW_CODE', message: 'new' }));
    const err = await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }));
    expect(err).toMatchObject({ errorCode: 'UNKNOWN_ERROR_CODE', rawErrorCode: 'SOME_NEWER_MLFLOW_CODE', status: 400, message: 'new' });
    expect(MlflowApiError.hasCode(err, 'SOME_NEWER_MLFLOW_CODE')).toBe(true);
    expect(MlflowApiError.is(err, 'UNKNOWN_ERROR_CODE')).toBe(true);
    expect(MlflowApiError.is(err, 'BAD_REQUEST')).toBe(false);
    const known = await rejection(makeClient(await scripted((_r, res) => json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'x' }))).getRegisteredModel({ name: 'iris' }));
    expect(known).toMatchObject({ errorCode: 'RESOURCE_DOES_NOT_EXIST', rawErrorCode: 'RESOURCE_DOES_NOT_EXIST' });
  });

  it('derives a code from the status when the error body is not MLflow JSON', async () => {
    const s = await scripted((_r, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    const err = await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }));
    expect(err).toMatchObject({ errorCode: 'INTERNAL_ERROR', status: 502 });
    expect((err as Error).message).toContain('Bad Gateway');
  });

  it('fails with INVALID_RESPONSE when a response drifts from the spec, and passes it through when validation is off', async () => {
    const drifted = { registered_model: { name: 'iris', creation_timestamp: 'yesterday' } };
    const s = await scripted((_r, res) => json(res, 200, drifted));
    const err = await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }));
    expect(err).toMatchObject({ errorCode: 'INVALID_RESPONSE', status: 200 });
    expect((err as Error).message).toMatch(/registered_model\.creation_timestamp/);
    const loose = await makeClient(s, { validateResponses: false }).getRegisteredModel({ name: 'iris' });
    expect(loose.name).toBe('iris');

    const badEnum = await scripted((_r, res) => json(res, 200, { model_version: { ...VERSION, status: 'MAYBE' } }));
    expect(await rejection(makeClient(badEnum).getModelVersion({ name: 'iris', version: 1 }))).toMatchObject({ errorCode: 'INVALID_RESPONSE' });
  });

  it('fails with INVALID_RESPONSE on a 200 that is not JSON', async () => {
    const s = await scripted((_r, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>login page</html>');
    });
    expect(await rejection(makeClient(s).getRegisteredModel({ name: 'iris' }))).toMatchObject({ errorCode: 'INVALID_RESPONSE', status: 200 });
  });
});

describe('pagination', () => {
  it('follows next_page_token until it is absent', async () => {
    const s = await scripted((r, res) => {
      const token = new URL(r.url, 'http://x').searchParams.get('page_token');
      const page = token === null ? 0 : Number(token);
      json(res, 200, { registered_models: [{ ...MODEL, name: `m${page}` }], ...(page < 2 ? { next_page_token: String(page + 1) } : {}) });
    });
    const names: string[] = [];
    for await (const m of makeClient(s).searchRegisteredModels({ maxResults: 1 })) names.push(m.name);
    expect(names).toEqual(['m0', 'm1', 'm2']);
    expect(s.requests.map((r) => new URL(r.url, 'http://x').searchParams.get('max_results'))).toEqual(['1', '1', '1']);
  });

  it('stops instead of looping forever when the server repeats a token', async () => {
    const s = await scripted((_r, res) => json(res, 200, { model_versions: [VERSION], next_page_token: 'same' }));
    await expect(makeClient(s).searchModelVersions().toArray()).rejects.toThrow(/page token 'same' twice/);
    expect(s.requests.length).toBeLessThanOrEqual(3);
  });

  it('sends nothing until iterated, and stops fetching when the consumer breaks', async () => {
    const s = await scripted((_r, res) => json(res, 200, { model_versions: [VERSION, VERSION], next_page_token: `t${Math.random()}` }));
    const it = makeClient(s).searchModelVersions();
    expect(s.requests).toHaveLength(0);
    expect(await it.toArray(3)).toHaveLength(3);
    expect(s.requests).toHaveLength(2);
  });
});

describe('coverage of the spec', () => {
  it('has a method for every registry, webhook and workspace operation of the spec, and for the artifact operations', () => {
    const spec = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../openapi/openapi.json'), 'utf8')) as {
      paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
    };
    // Operations served by one method under another name.
    const aliases: Record<string, string> = { getLatestVersionsGet: 'getLatestVersions' };
    const covered = new Set(['registered-models', 'model-versions', 'webhooks', 'workspaces']);
    const ops = Object.values(spec.paths)
      .flatMap((item) => Object.values(item))
      .filter((op) => op.operationId && covered.has(op.tags?.[0] ?? ''))
      .map((op) => op.operationId!);
    expect(ops.length).toBeGreaterThanOrEqual(33);
    const client = new MlflowRegistryClient({ baseUrl: 'http://127.0.0.1:1' });
    const methods = new Set(Object.getOwnPropertyNames(MlflowRegistryClient.prototype));
    const missing = [...ops, 'uploadArtifact', 'downloadArtifact', 'listArtifacts', 'deleteArtifact'].filter(
      (id) => !methods.has(aliases[id] ?? id) || typeof (client as unknown as Record<string, unknown>)[aliases[id] ?? id] !== 'function',
    );
    expect(missing).toEqual([]);
  });
});
