/**
 * Swagger UI in a real browser: the server's /docs page, opened in headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), lists every operation of the spec, loads only
 * from the server itself with no failed request, and executes an operation with "Try it out".
 * A screenshot is saved to test-results/docs.png (git-ignored) for a person to look at.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { haveChromium, launchChromium, tryOutModelSearch } from '../helpers/chromium.js';

const root = path.resolve(import.meta.dirname, '../..');

type Spec = { paths: Record<string, Record<string, { operationId?: string; summary?: string; tags?: string[] }>> };
const spec = JSON.parse(fs.readFileSync(path.join(root, 'openapi/openapi.json'), 'utf8')) as Spec;
const operations = Object.values(spec.paths).flatMap((item) =>
  Object.entries(item)
    .filter(([m]) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
    .map(([, op]) => ({ id: op.operationId!, tag: op.tags?.[0] ?? 'default', summary: op.summary ?? '' })),
);
const registryOps = operations.filter((o) => o.tag === 'registered-models' || o.tag === 'model-versions');

describe.skipIf(!haveChromium)('Swagger UI at /docs in headless Chromium', { timeout: 60_000 }, () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  const failed: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    s = await startTestServer('pglite');
    // Something for the search to find.
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'docs-demo-model', description: 'seen in Swagger UI' });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 2000 } });
    page.on('request', (r) => requests.push(r.url()));
    page.on('requestfailed', (r) => failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('lists every operation of the spec, including all 22 model-registry operations', async () => {
    const res = await page.goto(`${s.url}/docs`, { waitUntil: 'networkidle' });
    expect(res?.status()).toBe(200);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('.info .title').innerText()).toContain('MLflow Model Registry API');

    const shown = await page.$$eval('.opblock', (els) => els.map((e) => e.id));
    expect(registryOps).toHaveLength(22);
    for (const op of operations) {
      expect(shown, op.id).toContain(`operations-${op.tag}-${op.id}`);
      const block = page.locator(`#operations-${op.tag}-${op.id}`);
      expect(await block.locator('.opblock-summary-description').innerText(), op.id).toBe(op.summary);
    }
    expect(shown).toHaveLength(operations.length);
  });

  it('executes "Try it out" on GET /api/2.0/mlflow/registered-models/search and shows the 200 response', async () => {
    const { apiResponse, op } = await tryOutModelSearch(page, 'docs-demo-model');
    expect(apiResponse.url().startsWith(`${s.url}/api/2.0/mlflow/registered-models/search?`)).toBe(true);
    expect(apiResponse.status()).toBe(200);

    const live = op.locator('.live-responses-table .response');
    await live.first().waitFor({ timeout: 10_000 });
    expect((await live.locator('.response-col_status').first().innerText()).trim()).toBe('200');
    const body = await op.locator('.live-responses-table .response-col_description pre').first().innerText();
    expect(body).toContain('docs-demo-model');
    expect(body).toContain('seen in Swagger UI');

    await op.scrollIntoViewIfNeeded();
    fs.mkdirSync(path.join(root, 'test-results'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-results/docs.png'), fullPage: false });
    expect(fs.statSync(path.join(root, 'test-results/docs.png')).size).toBeGreaterThan(10_000);
  });

  it('made no failed requests and none to any origin but the server', () => {
    expect(failed).toEqual([]);
    expect(requests.length).toBeGreaterThanOrEqual(5);
    const foreign = requests.filter((u) => !u.startsWith(`${s.url}/`) && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
