/**
 * Foundation: the server serves the contract (every spec operation is routed, and nothing else
 * under the API prefixes), the docs page and its assets come from the server itself, health and
 * version answer, embedded data survives a restart, and bad configuration fails clearly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/server.js';
import { operations, routesOutsideOperations } from '../packages/server/src/gen/operations.gen.js';
import { routePaths } from '../packages/server/src/http/app.js';
import { ConfigError, loadConfig } from '../packages/server/src/config.js';

const root = path.resolve(import.meta.dirname, '..');
const spec = JSON.parse(fs.readFileSync(path.join(root, 'openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { operationId: string }>>;
};

describe('contract and route table', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s.close());

  it('routes exactly the operations of the spec, under /api/2.0 and /ajax-api/2.0', () => {
    const fromSpec = new Set<string>();
    for (const [p, item] of Object.entries(spec.paths)) {
      for (const m of Object.keys(item)) if (['get', 'post', 'put', 'patch', 'delete'].includes(m)) fromSpec.add(`${m.toUpperCase()} ${p}`);
    }
    const fromOps = new Set(Object.values(operations).map((o) => `${o.method} ${o.path}`));
    expect([...fromOps].sort()).toEqual([...fromSpec].sort());

    // Hono's own route table: every operation under each prefix, with a handler, and no API route the spec lacks.
    const outside = new Set(routesOutsideOperations.map((r) => `${r.method} ${r.honoPath}`));
    const routes = s.server.app.routes.filter((r) => r.method !== 'ALL' && !outside.has(`${r.method} ${r.path}`));
    const served = new Set(routes.map((r) => `${r.method} ${r.path}`));
    const expected = new Set(Object.values(operations).flatMap((o) => routePaths(o).map((p) => `${o.method} ${p}`)));
    expect([...served].sort()).toEqual([...expected].sort());
  });

  it('serves the spec at /openapi.json', async () => {
    const res = await s.fetch('/openapi.json');
    expect(res.status).toBe(200);
    const body = (await res.json()) as typeof spec;
    expect(Object.keys(body.paths).length).toBe(Object.keys(spec.paths).length);
    expect(body.paths['/api/2.0/mlflow/registered-models/search']?.get?.operationId).toBe('searchRegisteredModels');
  });

  it('serves Swagger UI with its own assets (no CDN)', async () => {
    const res = await s.fetch('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.length).toBeGreaterThanOrEqual(4);
    for (const src of srcs) {
      // Relative links (so /docs also works under STATIC_PREFIX or a proxy's prefix), same origin only.
      const url = new URL(src, `${s.url}/docs`);
      expect(url.origin).toBe(s.url);
      const asset = await s.fetch(url.pathname);
      expect(asset.status, src).toBe(200);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it('answers /health and /version', async () => {
    expect(await (await s.fetch('/health')).text()).toBe('OK');
    const v = await s.fetch('/version');
    expect(v.status).toBe(200);
    expect(await v.text()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('renders unknown endpoints and wrong methods as MLflow-style JSON errors', async () => {
    const nf = await s.call('GET', '/api/2.0/mlflow/nope');
    expect(nf.status).toBe(404);
    expect(nf.body.error_code).toBe('ENDPOINT_NOT_FOUND');
    const wm = await s.call('PUT', '/api/2.0/mlflow/registered-models/create', {});
    expect(wm.status).toBe(405);
    expect(wm.body.error_code).toBe('BAD_REQUEST');
  });

  it('answers not-yet-built operations with 501 NOT_IMPLEMENTED, never a fake success', async () => {
    for (const [method, p] of [['GET', '/api/2.0/mlflow/webhooks']] as const) {
      const r = await s.call(method, p);
      if (r.status !== 200) {
        expect(r.status).toBe(501);
        expect(r.body.error_code).toBe('NOT_IMPLEMENTED');
      }
    }
  });

  it('answers an empty search with {}', async () => {
    const r = await s.call('GET', '/api/2.0/mlflow/registered-models/search');
    expect(r).toEqual({ status: 200, body: {} });
  });
});

describe('embedded data persists across restarts', () => {
  it('keeps a registered model after the server is restarted on the same DATA_DIR', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ts-persist-'));
    const a = await startTestServer('pglite', {}, { dataDir });
    const created = await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'persisted', description: 'kept' });
    expect(created.status).toBe(200);
    await a.close();
    const b = await startTestServer('pglite', {}, { dataDir });
    try {
      const got = await b.call('GET', '/api/2.0/mlflow/registered-models/get?name=persisted');
      expect(got.status).toBe(200);
      expect(got.body.registered_model.description).toBe('kept');
    } finally {
      await b.close();
    }
  });
});

describe('configuration', () => {
  it('rejects bad values with one clear message', () => {
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x/y' })).toThrow(/postgres:\/\//);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/);
    expect(loadConfig({}).port).toBe(8000);
  });

  it('EMBEDDED_WASM_OPTIMIZE is off unless asked for, and must be a boolean', () => {
    expect(loadConfig({}).embeddedWasmOptimize).toBe(false);
    expect(loadConfig({ EMBEDDED_WASM_OPTIMIZE: 'true' }).embeddedWasmOptimize).toBe(true);
    expect(() => loadConfig({ EMBEDDED_WASM_OPTIMIZE: 'fast' })).toThrow(/EMBEDDED_WASM_OPTIMIZE/);
  });

  it('READ_CACHE_MB is a budget in megabytes: 16 by default with the embedded database, 4 on PostgreSQL', () => {
    expect(loadConfig({}).readCacheBytes).toBe(16 * 1024 * 1024);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h/db' }).readCacheBytes).toBe(4 * 1024 * 1024);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h/db', READ_CACHE_MB: '0' }).readCacheBytes).toBe(0);
    expect(loadConfig({ DATABASE_URL: 'postgres://u:p@h/db', READ_CACHE_MB: '0.5' }).readCacheBytes).toBe(512 * 1024);
    expect(() => loadConfig({ READ_CACHE_MB: '-1' })).toThrow(/READ_CACHE_MB must be a number between 0 and 100000, got '-1'/);
    expect(() => loadConfig({ READ_CACHE_MB: '16MB' })).toThrow(/READ_CACHE_MB must be a number/);
    // The old setting counted answers; silently ignoring it would leave a deployment without its cache.
    expect(() => loadConfig({ READ_CACHE_SIZE: '20000' })).toThrow(/READ_CACHE_SIZE .* was replaced by READ_CACHE_MB/);
  });

  const runMain = (env: Record<string, string>) =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'packages/server/src/main.ts')], {
        env: { ...process.env, LOG_LEVEL: 'warn', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });

  it('exits with a clear message on an unparseable DATABASE_URL', { timeout: 60_000 }, async () => {
    const r = await runMain({ DATABASE_URL: '::nope::' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/invalid configuration: DATABASE_URL is not a valid URL/);
  });

  // Spawns a second server process (tsx + PGlite start-up): slow on a loaded 2-core machine.
  it('exits with a clear message when the port is in use', { timeout: 120_000 }, async () => {
    const s = await startTestServer('pglite');
    try {
      const port = new URL(s.url).port;
      const r = await runMain({ PORT: port, HOST: '127.0.0.1', DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ts-port-')) });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/port is already in use/);
    } finally {
      await s.close();
    }
  });
});
