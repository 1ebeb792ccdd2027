/**
 * STATIC_PREFIX=/mlflow (MLflow's --static-prefix) in headless Chromium and over HTTP:
 *  - /mlflow/docs renders every operation of the spec and "Try it out" calls /mlflow/api/…, with no
 *    failed request and nothing loaded from outside the prefix;
 *  - the same page behind a reverse proxy that adds a prefix the server never sees (/outer/mlflow/docs):
 *    every URL of the page is relative, so it still loads and "Try it out" goes through the proxy;
 *  - the API (/api and /ajax-api), /health, /health/ready, /version, /openapi.json and MLflow's UI are
 *    served under the prefix, and nothing outside it (our JSON 404).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { haveChromium, launchChromium, tryOutModelSearch } from '../helpers/chromium.js';
import { VENV } from '../helpers/mlflow-server.js';

const root = path.resolve(import.meta.dirname, '../..');
const PREFIX = '/mlflow';
const UI_BUILD = path.join(VENV, 'lib/python3.11/site-packages/mlflow/server/js/build');
const haveUi = fs.existsSync(path.join(UI_BUILD, 'index.html'));

type Spec = { paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>> };
const spec = JSON.parse(fs.readFileSync(path.join(root, 'openapi/openapi.json'), 'utf8')) as Spec;
const operations = Object.values(spec.paths).flatMap((item) =>
  Object.entries(item)
    .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
    .map(([, op]) => ({ id: op.operationId!, tag: op.tags?.[0] ?? 'default' })),
);

/** A reverse proxy that serves the server under `/outer` (the server never sees that part). */
function startProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    if (!req.url!.startsWith('/outer/')) return void res.writeHead(404).end('not proxied');
    const upstream = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url!.slice('/outer'.length), headers: { ...req.headers, host: t.host } },
      (up) => {
        res.writeHead(up.statusCode!, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/outer`,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

/** GET with the target sent exactly as given (fetch would resolve `%2e%2e` segments first). */
function rawGet(base: string, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    http.get({ host: u.hostname, port: u.port, path: target, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    }).on('error', reject);
  });
}

// One server for the file: PREFIX, and MLflow's UI when the venv has it.
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer('pglite', { STATIC_PREFIX: PREFIX, MLFLOW_UI_DIR: haveUi ? UI_BUILD : '' });
  await s.call('POST', `${PREFIX}/api/2.0/mlflow/registered-models/create`, { name: 'docs-demo-model', description: 'seen through the prefix' });
}, 60_000);
afterAll(() => s?.close());

describe('STATIC_PREFIX over HTTP', { timeout: 60_000 }, () => {
  it('serves every route under the prefix', async () => {
    expect(await (await s.fetch(`${PREFIX}/health`)).text()).toBe('OK');
    expect((await s.fetch(`${PREFIX}/health/ready`)).status).toBe(200);
    expect((await s.fetch(`${PREFIX}/version`)).status).toBe(200);
    const created = await s.call('POST', `${PREFIX}/api/2.0/mlflow/registered-models/create`, { name: 'prefixed' });
    expect(created.status).toBe(200);
    for (const api of ['api', 'ajax-api']) {
      const got = await s.call('GET', `${PREFIX}/${api}/2.0/mlflow/registered-models/get?name=prefixed`);
      expect(got.status, api).toBe(200);
      expect(got.body.registered_model.name).toBe('prefixed');
    }
    const specRes = await s.fetch(`${PREFIX}/openapi.json`);
    expect(specRes.status).toBe(200);
    // "This server" is relative to where the spec is served, so that Swagger UI keeps the prefix.
    expect(((await specRes.json()) as { servers: { url: string }[] }).servers[0]!.url).toBe('.');
    const redirect = await s.fetch(`${PREFIX}/docs/`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expect(new URL(redirect.headers.get('location')!, `${s.url}${PREFIX}/docs/`).pathname).toBe(`${PREFIX}/docs`);
  });

  it('answers outside the prefix with the JSON 404, also for lookalike prefixes', async () => {
    for (const p of ['/health', '/api/2.0/mlflow/registered-models/get?name=prefixed', '/docs', '/openapi.json', '/', '/mlflowx/health', '/static-files/index.html']) {
      const res = await s.call('GET', p);
      expect(res.status, p).toBe(404);
      expect(res.body.error_code, p).toBe('ENDPOINT_NOT_FOUND');
    }
    // A `..` cannot leave the prefix: refused before routing.
    expect(await rawGet(s.url, `${PREFIX}/%2e%2e/health`)).toBe(400);
    expect(await rawGet(s.url, `${PREFIX}/../health`)).toBe(400);
  });

  it.skipIf(!haveUi)("serves MLflow's UI under the prefix, its assets by relative URLs", async () => {
    // Without its slash, the prefix redirects to it (relatively), as Flask does: the page's URLs are relative.
    const bare = await s.fetch(PREFIX, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(new URL(bare.headers.get('location')!, `${s.url}${PREFIX}`).pathname).toBe(`${PREFIX}/`);
    for (const p of [`${PREFIX}/`]) {
      const res = await s.fetch(p);
      expect(res.status, p).toBe(200);
      const html = await res.text();
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(assets.length).toBeGreaterThanOrEqual(3);
      for (const a of assets) {
        expect(a.startsWith('/'), a).toBe(false);
        const asset = await s.fetch(new URL(a, `${s.url}${PREFIX}/`).pathname);
        expect(asset.status, a).toBe(200);
        await asset.arrayBuffer();
      }
    }
  });
});

describe.skipIf(!haveChromium)('STATIC_PREFIX: Swagger UI in headless Chromium, direct and behind a prefixing proxy', { timeout: 60_000 }, () => {
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let browser: Browser;

  beforeAll(async () => {
    proxy = await startProxy(s.url);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
  });

  /** Opens the docs at `base` + /docs, runs "Try it out" on the model search, and returns what the page requested. */
  async function tryItOut(page: Page, base: string, allOperations: boolean): Promise<{ requests: string[]; failed: string[]; apiUrl: string }> {
    const requests: string[] = [];
    const failed: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`);
    });
    page.on('pageerror', (e) => failed.push(String(e)));
    const res = await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
    expect(res?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    if (allOperations) {
      const shown = await page.$$eval('.opblock', (els) => els.map((e) => e.id));
      for (const op of operations) expect(shown, op.id).toContain(`operations-${op.tag}-${op.id}`);
      expect(shown).toHaveLength(operations.length);
    }
    const { apiResponse, op } = await tryOutModelSearch(page, 'docs-demo-model');
    expect(apiResponse.status()).toBe(200);
    const body = await op.locator('.live-responses-table .response-col_description pre').first().innerText();
    expect(body).toContain('seen through the prefix');
    return { requests, failed, apiUrl: apiResponse.url() };
  }

  it('renders every operation at /mlflow/docs and "Try it out" calls /mlflow/api/…, with no failed request', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    const { requests, failed, apiUrl } = await tryItOut(page, `${s.url}${PREFIX}`, true);
    expect(apiUrl.startsWith(`${s.url}${PREFIX}/api/2.0/mlflow/registered-models/search?`)).toBe(true);
    expect(failed).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(`${s.url}${PREFIX}/`))).toEqual([]);
    await page.close();
  });

  it.skipIf(!haveUi)("shows MLflow's UI under the prefix (/mlflow → /mlflow/#/models), every request under it", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const [search] = await Promise.all([
      page.waitForResponse((r) => r.url().split('?')[0]!.endsWith('/registered-models/search'), { timeout: 30_000 }),
      page.goto(`${s.url}${PREFIX}#/models`),
    ]);
    expect(page.url()).toBe(`${s.url}${PREFIX}/#/models`);
    expect(search.url().startsWith(`${s.url}${PREFIX}/ajax-api/2.0/mlflow/registered-models/search`)).toBe(true);
    expect(search.status()).toBe(200);
    await page.getByRole('link', { name: 'docs-demo-model', exact: true }).waitFor({ timeout: 20_000 });
    expect(requests.filter((u) => !u.startsWith(`${s.url}${PREFIX}`))).toEqual([]);
    await page.close();
  });

  it('works behind a reverse proxy that adds its own prefix (/outer/mlflow/docs)', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
    const { requests, failed, apiUrl } = await tryItOut(page, `${proxy.url}${PREFIX}`, false);
    expect(apiUrl.startsWith(`${proxy.url}${PREFIX}/api/2.0/mlflow/registered-models/search?`)).toBe(true);
    expect(failed).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(`${proxy.url}${PREFIX}/`))).toEqual([]);
    await page.close();
  });
});
