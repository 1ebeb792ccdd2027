/**
 * DNS rebinding and cross-origin attacks in a real browser (Debian's /usr/bin/chromium driven by
 * playwright-core). Chromium resolves the attacker's names to 127.0.0.1 (--host-resolver-rules), so:
 *  - a page of another origin (http://attacker.example:<port>, served by a tiny local server) may send
 *    requests to the registry but cannot read the answers (no Access-Control-Allow-Origin), and its
 *    state-changing requests are refused by the server itself (403), so the model survives;
 *  - a page reached through a rebinding name (http://rebind.attacker.example:<registry port>, whose
 *    document comes from the attacker and whose later requests reach the registry) is same-origin with
 *    the registry under that name, and every request it makes is refused by Host validation (403);
 *  - with MLFLOW_SERVER_CORS_ALLOWED_ORIGINS naming the page's origin, the same page reads and writes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';


const API = '/api/2.0/mlflow/registered-models';
const PAGE = '<!doctype html><html><head><title>page</title></head><body>a page</body></html>';

/** What a fetch from the page gave: the status and body, or the error when the browser refused to share it. */
type Outcome = { status: number; body: string } | { error: string };

async function pageFetch(page: Page, url: string, init: { method?: string; json?: unknown; mode?: 'cors' | 'no-cors' } = {}): Promise<Outcome> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, {
          method: init.method ?? 'GET',
          mode: init.mode ?? 'cors',
          headers: init.json === undefined ? undefined : { 'content-type': init.mode === 'no-cors' ? 'text/plain' : 'application/json' },
          body: init.json === undefined ? undefined : JSON.stringify(init.json),
        });
        return { status: res.status, body: await res.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { url, init },
  );
}

describe.skipIf(!haveChromium)('DNS rebinding and cross-origin requests in headless Chromium', { timeout: 90_000 }, () => {
  let registry: TestServer; // default security settings
  let trusting: TestServer; // MLFLOW_SERVER_CORS_ALLOWED_ORIGINS = the attacker page's origin
  let pages: http.Server;
  let pagePort: number;
  let front: http.Server; // the rebinding: the attacker's document, then the registry
  let frontPort: number;
  let browser: Browser;
  let context: BrowserContext;

  const exists = async (s: TestServer, name: string) => (await s.call('GET', `${API}/get?name=${encodeURIComponent(name)}`)).status === 200;

  beforeAll(async () => {
    pages = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    pagePort = (pages.address() as AddressInfo).port;
    registry = await startTestServer('pglite');
    const target = new URL(registry.url);
    front = http.createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      const forwarded = http.request(
        { host: target.hostname, port: Number(target.port), method: req.method, path: req.url, headers: req.headers, setHost: false },
        (answer) => {
          res.writeHead(answer.statusCode!, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', () => res.destroy());
      req.pipe(forwarded);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    frontPort = (front.address() as AddressInfo).port;
    trusting = await startTestServer('pglite', { MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: `http://attacker.example:${pagePort}` });
    for (const s of [registry, trusting]) expect((await s.call('POST', `${API}/create`, { name: 'victim' })).status).toBe(200);

    browser = await launchChromium(['--host-resolver-rules=MAP rebind.attacker.example 127.0.0.1, MAP attacker.example 127.0.0.1']);
    context = await browser.newContext();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await registry?.close();
    await trusting?.close();
    for (const s of [pages, front]) if (s) await new Promise((r) => s.close(r));
  });

  it('a page of another origin can neither read the registry nor change it', async () => {
    const page = await context.newPage();
    await page.goto(`http://attacker.example:${pagePort}/`);
    // Reading: the browser withholds the answer (no Access-Control-Allow-Origin for this origin).
    const read = await pageFetch(page, `${registry.url}${API}/search`);
    expect(read).toMatchObject({ error: expect.stringContaining('Failed to fetch') });
    // A JSON DELETE needs a preflight, which the server refuses: the DELETE is never sent.
    const del = await pageFetch(page, `${registry.url}${API}/delete`, { method: 'DELETE', json: { name: 'victim' } });
    expect(del).toMatchObject({ error: expect.stringContaining('Failed to fetch') });
    // A "simple" POST goes out without a preflight: the server itself refuses it.
    const answer = page.waitForResponse((r) => r.url().endsWith(`${API}/rename`));
    await pageFetch(page, `${registry.url}${API}/rename`, { method: 'POST', mode: 'no-cors', json: { name: 'victim', new_name: 'pwned' } });
    const refused = await answer;
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toBe('Cross-origin request blocked');
    expect(await exists(registry, 'victim')).toBe(true);
    expect(await exists(registry, 'pwned')).toBe(false);
    await page.close();
  });

  it('a page reached through a rebinding host name can neither read nor change the registry', async () => {
    const page = await context.newPage();
    await page.goto(`http://rebind.attacker.example:${frontPort}/`);
    // Without the Host check, these same-origin requests would be answered by the registry, readable.
    const read = await pageFetch(page, `${API}/search`);
    expect(read).toEqual({ status: 403, body: 'Invalid Host header - possible DNS rebinding attack detected' });
    const webhooks = await pageFetch(page, '/api/2.0/mlflow/webhooks');
    expect(webhooks).toMatchObject({ status: 403 });
    const del = await pageFetch(page, `${API}/delete`, { method: 'DELETE', json: { name: 'victim' } });
    expect(del).toEqual({ status: 403, body: 'Invalid Host header - possible DNS rebinding attack detected' });
    expect(await exists(registry, 'victim')).toBe(true);
    await page.close();
  });

  it('a page of an allowed origin (MLFLOW_SERVER_CORS_ALLOWED_ORIGINS) reads and writes', async () => {
    const page = await context.newPage();
    await page.goto(`http://attacker.example:${pagePort}/`);
    const read = await pageFetch(page, `${trusting.url}${API}/search`);
    expect(read).toMatchObject({ status: 200 });
    expect(JSON.parse((read as { body: string }).body).registered_models.map((m: { name: string }) => m.name)).toEqual(['victim']);
    const created = await pageFetch(page, `${trusting.url}${API}/create`, { method: 'POST', json: { name: 'from-the-page' } });
    expect(created).toMatchObject({ status: 200 });
    const del = await pageFetch(page, `${trusting.url}${API}/delete`, { method: 'DELETE', json: { name: 'victim' } });
    expect(del).toMatchObject({ status: 200 });
    expect(await exists(trusting, 'from-the-page')).toBe(true);
    expect(await exists(trusting, 'victim')).toBe(false);
    await page.close();
  });
});
