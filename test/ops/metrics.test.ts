/**
 * GET /metrics (METRICS_ENABLED=true): scraped after real requests and parsed with a strict Prometheus
 * text-format parser (test/ops/prom-text.ts; also with parse-prometheus-text-format when installed):
 * requests by operationId (unknown paths as one label value), method and status, latency histograms,
 * pool gauges on PostgreSQL, webhook queue depth, read-cache lookups and node's process metrics.
 * Off by default (404), and with authentication on it needs an admin.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import { parsePrometheusText, sampleValue, type Family } from './prom-text.js';

const require = createRequire(import.meta.url);
/** The npm parser, when the root package has it (a devDependency); the strict one below runs always. */
function npmParser(): ((text: string) => { name: string; type: string; metrics: unknown[] }[]) | undefined {
  try {
    return require('parse-prometheus-text-format');
  } catch {
    return undefined;
  }
}

async function scrape(s: TestServer, init?: RequestInit): Promise<{ res: Response; text: string; families: Map<string, Family> }> {
  const res = await s.fetch('/metrics', init);
  const text = await res.text();
  return { res, text, families: res.status === 200 ? parsePrometheusText(text) : new Map() };
}

describe.each(backends())('metrics (%s)', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(backend, { METRICS_ENABLED: 'true' });
  });
  afterAll(async () => s?.close());

  it('counts requests by operationId, method and status, with latency histograms, and parses strictly', async () => {
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'm1' })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=m1')).status).toBe(200);
    expect((await s.call('GET', '/ajax-api/2.0/mlflow/registered-models/get?name=nope')).status).toBe(404);
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', {})).status).toBe(400);
    for (const p of ['/no/such/path/1', '/no/such/path/2', '/api/2.0/mlflow/nothing']) expect((await s.call('GET', p)).status).toBe(404);
    expect((await s.call('PUT', '/api/2.0/mlflow/registered-models/get')).status).toBe(405);
    expect((await s.call('GET', '/health')).status).toBe(200);

    const { res, text, families: f } = await scrape(s);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const req = 'mlflow_registry_http_requests_total';
    expect(f.get(req)?.type).toBe('counter');
    expect(sampleValue(f, req, { operation: 'createRegisteredModel', method: 'POST', status: '200' })).toBe(1);
    expect(sampleValue(f, req, { operation: 'createRegisteredModel', method: 'POST', status: '400' })).toBe(1);
    expect(sampleValue(f, req, { operation: 'getRegisteredModel', method: 'GET', status: '200' })).toBe(3);
    // /ajax-api is the same operation.
    expect(sampleValue(f, req, { operation: 'getRegisteredModel', method: 'GET', status: '404' })).toBe(1);
    // Raw paths never become labels: all unmatched requests share one value.
    expect(sampleValue(f, req, { operation: 'unknown', method: 'GET', status: '404' })).toBe(3);
    expect(sampleValue(f, req, { operation: 'unknown', method: 'PUT', status: '405' })).toBe(1);
    expect(sampleValue(f, req, { operation: 'health', method: 'GET', status: '200' })).toBe(1);
    expect(text).not.toContain('/no/such/path');

    const lat = 'mlflow_registry_http_request_duration_seconds';
    expect(f.get(lat)?.type).toBe('histogram');
    const getLabels = { operation: 'getRegisteredModel', method: 'GET', status_class: '2xx' };
    expect(sampleValue(f, lat, getLabels, `${lat}_count`)).toBe(3);
    expect(sampleValue(f, lat, { ...getLabels, le: '+Inf' }, `${lat}_bucket`)).toBe(3);
    expect(sampleValue(f, lat, getLabels, `${lat}_sum`)).toBeGreaterThan(0);
    const les = f.get(lat)!.samples.filter((x) => x.name === `${lat}_bucket` && x.labels.operation === 'getRegisteredModel' && x.labels.status_class === '2xx').map((x) => x.labels.le);
    expect(les).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf']);

    // Process metrics (prom-client's defaults), the server's info, the webhook queue.
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(f.has(name), name).toBe(true);
    }
    expect(sampleValue(f, 'mlflow_registry_info', { database: backend })).toBe(1);
    expect(sampleValue(f, 'mlflow_registry_webhook_deliveries_queued', { state: 'pending' })).toBe(0);
    expect(sampleValue(f, 'mlflow_registry_webhook_deliveries_queued', { state: 'in_flight' })).toBe(0);
    expect(f.get('mlflow_registry_webhook_deliveries_total')?.type).toBe('counter');
    expect(sampleValue(f, 'mlflow_registry_webhook_deliveries_total', { outcome: 'delivered' })).toBe(0);

    // The same text through the npm parser, when installed: same families and sample counts.
    const parse = npmParser();
    if (parse) {
      const other = parse(text);
      expect(other.map((x) => x.name).sort()).toEqual([...f.keys()].sort());
    }
  });

  it('reports read-cache hits and misses, and the pool gauges on PostgreSQL', async () => {
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'cached' });
    const before = (await scrape(s)).families;
    const hit = (f: Map<string, Family>) => sampleValue(f, 'mlflow_registry_read_cache_lookups_total', { result: 'hit' }) ?? 0;
    const miss = (f: Map<string, Family>) => sampleValue(f, 'mlflow_registry_read_cache_lookups_total', { result: 'miss' }) ?? 0;
    for (let i = 0; i < 3; i++) await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=cached');
    const after = (await scrape(s)).families;
    expect(hit(after) + miss(after) - hit(before) - miss(before)).toBeGreaterThanOrEqual(3);
    if (backend === 'pglite') {
      // Embedded: this process is the only writer, the cache is live at once.
      expect(hit(after) - hit(before)).toBeGreaterThanOrEqual(2);
      expect(sampleValue(after, 'mlflow_registry_read_cache_bytes')).toBeGreaterThan(0);
      expect(sampleValue(after, 'mlflow_registry_read_cache_entries')).toBeGreaterThan(0);
      expect(after.get('mlflow_registry_db_pool_connections')?.samples ?? []).toEqual([]);
    } else {
      expect(sampleValue(after, 'mlflow_registry_db_pool_connections', { pool: 'registry', state: 'max' })).toBe(10);
      expect(sampleValue(after, 'mlflow_registry_db_pool_connections', { pool: 'registry', state: 'total' })).toBeGreaterThanOrEqual(1);
      expect(sampleValue(after, 'mlflow_registry_db_pool_waiting_requests', { pool: 'registry' })).toBe(0);
      expect(sampleValue(after, 'mlflow_registry_db_pool_connections', { pool: 'webhooks', state: 'max' })).toBe(3);
    }
  });
});

describe('metrics off by default', () => {
  it('serves no /metrics (404) and mounts nothing', async () => {
    const s = await startTestServer('pglite');
    try {
      const res = await s.fetch('/metrics');
      expect(res.status).toBe(404);
      expect(s.server.app.routes.some((r) => r.path === '/metrics')).toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe('metrics with authentication on', () => {
  let s: TestServer;
  const admin = 'Basic ' + Buffer.from('admin:metrics-Admin-pw-1').toString('base64');
  beforeAll(async () => {
    s = await startTestServer('pglite', { METRICS_ENABLED: 'true', AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'metrics-Admin-pw-1' });
  });
  afterAll(async () => s?.close());

  it('needs an admin: 401 without credentials, 403 for another user, 200 for the admin', async () => {
    expect((await s.fetch('/metrics')).status).toBe(401);
    const created = await s.fetch('/api/2.0/mlflow/users/create', {
      method: 'POST',
      headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'alice-Password-1' }),
    });
    expect(created.status).toBe(200);
    const alice = 'Basic ' + Buffer.from('alice:alice-Password-1').toString('base64');
    expect((await s.fetch('/metrics', { headers: { authorization: alice } })).status).toBe(403);
    const { res, families } = await scrape(s, { headers: { authorization: admin } });
    expect(res.status).toBe(200);
    // The refusals were counted too (the metrics middleware runs before authentication).
    expect(sampleValue(families, 'mlflow_registry_http_requests_total', { operation: '/metrics', method: 'GET', status: '401' })).toBe(1);
    expect(sampleValue(families, 'mlflow_registry_http_requests_total', { operation: '/metrics', method: 'GET', status: '403' })).toBe(1);
  });
});
