/**
 * X-Request-Id: accepted when sane, generated otherwise, returned on every answer (success, errors,
 * 404, 405, the security middleware's refusals, 401 with authentication on), and on the lines logged for
 * the request: the per-request line of a real process, and the server-side cause the S3 store attaches to
 * the 5xx it throws (in-process), logged where the error is rendered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createLogger } from '../../packages/server/src/log.js';
import { createServer } from '../../packages/server/src/server.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('X-Request-Id on a real process', () => {
  let proc: ServerProcess;
  const dir = scratchDir();
  beforeAll(async () => {
    proc = await startServerProcess({ env: { DATA_DIR: dir } });
  }, 90_000);
  afterAll(async () => {
    await proc?.stop('SIGKILL');
    removeDir(dir);
  });

  const get = (p: string, headers: Record<string, string> = {}, method = 'GET') => fetch(proc.url + p, { method, headers });
  /** The log lines naming `id` (parsed). */
  const linesFor = (id: string) => proc.output.flatMap((l) => (l.includes(id) ? [JSON.parse(l) as Record<string, unknown>] : []));

  it('accepts a sane id, returns it, and logs the request line with it', async () => {
    const id = 'req-abc_123.XYZ:7/=+';
    const res = await get('/api/2.0/mlflow/registered-models/search', { 'x-request-id': id });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(id);
    await new Promise((r) => setTimeout(r, 100));
    const lines = linesFor(id);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', request_id: id, status: 200, path: '/api/2.0/mlflow/registered-models/search' });
  });

  it('generates a UUID when none is sent, or when the given one is not sane', async () => {
    const none = await get('/health');
    expect(none.headers.get('x-request-id')).toMatch(UUID);
    for (const bad of ['has space', 'x'.repeat(129), 'tab\there', 'ünïcode', '']) {
      const res = await get('/health', { 'x-request-id': bad });
      expect(res.headers.get('x-request-id'), JSON.stringify(bad)).toMatch(UUID);
    }
    const max = 'y'.repeat(128);
    expect((await get('/health', { 'x-request-id': max })).headers.get('x-request-id')).toBe(max);
  });

  it('returns the id on errors, 404, 405 and security refusals, each logged with it', async () => {
    const cases: [string, Promise<Response>, number][] = [
      ['e-400', fetch(proc.url + '/api/2.0/mlflow/registered-models/create', { method: 'POST', headers: { 'x-request-id': 'e-400', 'content-type': 'application/json' }, body: '{}' }), 400],
      ['e-404-model', get('/api/2.0/mlflow/registered-models/get?name=nope', { 'x-request-id': 'e-404-model' }), 404],
      ['e-404-path', get('/no/such/path', { 'x-request-id': 'e-404-path' }), 404],
      ['e-405', get('/api/2.0/mlflow/registered-models/get', { 'x-request-id': 'e-405' }, 'PUT'), 405],
      ['e-403-cors', get('/api/2.0/mlflow/registered-models/create', { 'x-request-id': 'e-403-cors', origin: 'https://evil.example' }, 'POST'), 403],
    ];
    for (const [id, pending, status] of cases) {
      const res = await pending;
      expect(res.status, id).toBe(status);
      expect(res.headers.get('x-request-id'), id).toBe(id);
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const [id, , status] of cases) expect(linesFor(id), id).toMatchObject([{ msg: 'request', request_id: id, status }]);
  });

  it('puts request_id on every request line, and none on lines written outside a request', async () => {
    const logged = proc.output.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = logged.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(10);
    for (const l of requests) expect(typeof l.request_id).toBe('string');
    expect(logged.find((l) => l.msg === 'listening')).not.toHaveProperty('request_id');
  });
});

describe('X-Request-Id inside the request: a storage warning and the 401 of the auth middleware', () => {
  it('carries the id into the storage error behind an S3 5xx, logged with the answer', async () => {
    const lines: Record<string, unknown>[] = [];
    const dir = scratchDir();
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'info', S3_BUCKET: 'b', S3_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    const server = await createServer(config, createLogger('info', (l) => lines.push(JSON.parse(l))));
    try {
      const res = await server.app.request('/api/2.0/mlflow-artifacts/artifacts?path=x', { headers: { host: 'localhost', 'x-request-id': 's3-warn-1' } });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(res.headers.get('x-request-id')).toBe('s3-warn-1');
      const warn = lines.find((l) => l.msg === 'artifact storage error');
      expect(warn).toMatchObject({ level: 'warn', request_id: 's3-warn-1' });
      expect(lines.find((l) => l.msg === 'request')).toMatchObject({ request_id: 's3-warn-1' });
    } finally {
      await server.close();
      removeDir(dir);
    }
  }, 60_000);

  it('is returned on the 401 of the auth middleware', async () => {
    const dir = scratchDir();
    const config = loadConfig({ DATA_DIR: dir, LOG_LEVEL: 'silent', AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'rid-Admin-pw-12' });
    const server = await createServer(config, createLogger('silent'));
    try {
      const res = await server.app.request('/api/2.0/mlflow/registered-models/search', { headers: { host: 'localhost', 'x-request-id': 'auth-401' } });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-request-id')).toBe('auth-401');
      expect((await server.app.request('/api/2.0/mlflow/registered-models/search', { headers: { host: 'localhost' } })).headers.get('x-request-id')).toMatch(UUID);
    } finally {
      await server.close();
      removeDir(dir);
    }
  }, 60_000);
});
