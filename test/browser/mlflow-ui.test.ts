/**
 * MLflow's own web UI (the build inside the venv's MLflow 3.17.2, MLFLOW_UI_DIR) served by this server and
 * driven in headless Chromium: the model list, a model page, a version page with its schema pane (read
 * through GET /model-versions/get-artifact from the version's MLmodel in our artifact store), editing a
 * version tag, a model tag and an alias through the UI, and the prompt pages. Every request the pages make
 * is collected: none to a registry endpoint may fail.
 *
 * The pages also call a few endpoints of MLflow's tracking server, which this registry does not serve.
 * They are listed in KNOWN_TRACKING_FAILURES with the reason each one is harmless; the test checks that
 * the pages work all the same. (Compared with `mlflow server` 3.17.2 on the same pages: the registry
 * requests are the same, see docs/ui-and-prefix.md.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { haveChromium, launchChromium } from '../helpers/chromium.js';
import { VENV } from '../helpers/mlflow-server.js';

const UI_BUILD = path.join(VENV, 'lib/python3.11/site-packages/mlflow/server/js/build');
const haveUi = fs.existsSync(path.join(UI_BUILD, 'index.html'));
if (!haveUi) console.warn(`[test/browser] MLflow UI test skipped: no UI build at ${UI_BUILD}`);

/** Endpoints of MLflow's tracking server the UI calls on these pages; none is a registry endpoint. */
const KNOWN_TRACKING_FAILURES: { path: RegExp; why: string }[] = [
  {
    path: /^\/ajax-api\/3\.0\/mlflow\/assistant\/(config|providers)$/,
    why: 'MLflow Assistant (an AI chat over tracking data) is a tracking-server feature; without its config the UI shows the panel with nothing to configure',
  },
  {
    path: /^\/ajax-api\/3\.0\/mlflow\/ui-telemetry$/,
    why: "the UI's usage telemetry, collected by MLflow's tracking server; unanswered, the UI sends nothing more",
  },
  {
    path: /^\/ajax-api\/2\.0\/mlflow\/runs\/get$/,
    why: "a version registered from a run: the version page looks the run up for its 'Source Run' link; there is no tracking store here, so the link stays empty and the page works",
  },
  {
    path: /^\/ajax-api\/2\.0\/mlflow\/users\/current$/,
    why: 'with authentication off MLflow answers 404 too (the route belongs to its basic-auth app); the UI then shows no user menu',
  },
];

/** Pages whose uncaught errors are known: the UI does not catch its failed run lookup (runs/get above). */
const KNOWN_PAGE_ERRORS: { page: RegExp; why: string }[] = [
  { page: /#\/models\/iris\/versions\/2$/, why: 'the version registered from a run: the failed runs/get is an unhandled rejection in the UI; the page still renders' },
];

const MLMODEL = `artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.pyfunc.model
    python_version: 3.11.0
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "double", "name": "petal_width", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
`;

describe.skipIf(!haveChromium || !haveUi)("MLflow's web UI (MLflow 3.17.2's build) in headless Chromium", { timeout: 60_000 }, () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  const requests: { method: string; path: string; status: number }[] = [];
  const failed: { method: string; path: string; what: string }[] = [];
  const pageErrors: string[] = [];

  const api = (method: string, p: string, body?: unknown) => s.call(method, `/api/2.0/mlflow/${p}`, body);
  const ok = async (method: string, p: string, body?: unknown) => {
    const res = await api(method, p, body);
    expect(res.status, `${method} ${p}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    s = await startTestServer('pglite', { MLFLOW_UI_DIR: UI_BUILD });
    // A version whose artifacts (in our store) hold an MLmodel with a signature: the schema pane's source.
    const put = await s.fetch('/api/2.0/mlflow-artifacts/artifacts/models/iris/1/MLmodel', { method: 'PUT', body: MLMODEL });
    expect(put.status).toBe(200);
    await ok('POST', 'registered-models/create', { name: 'iris', description: 'Iris classifier', tags: [{ key: 'team', value: 'ml' }] });
    await ok('POST', 'model-versions/create', { name: 'iris', source: 'mlflow-artifacts:/models/iris/1', description: 'first' });
    await ok('POST', 'registered-models/alias', { name: 'iris', alias: 'champion', version: '1' });
    // Registered from a run, as mlflow.register_model does: the version page also asks for the run.
    await ok('POST', 'model-versions/create', { name: 'iris', source: 'mlflow-artifacts:/models/iris/1', run_id: '0123456789abcdef0123456789abcdef' });
    await ok('POST', 'registered-models/create', { name: 'wine' });
    // A prompt, as mlflow.genai.register_prompt stores it.
    const promptTag = { key: 'mlflow.prompt.is_prompt', value: 'true' };
    await ok('POST', 'registered-models/create', { name: 'greeting', tags: [promptTag] });
    await ok('POST', 'model-versions/create', {
      name: 'greeting',
      source: 'dummy-source',
      description: 'first',
      tags: [promptTag, { key: 'mlflow.prompt.text', value: 'Hello {{name}}, welcome!' }, { key: '_mlflow_prompt_type', value: 'text' }],
    });

    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const local = (url: string) => (url.startsWith(s.url) ? url.slice(s.url.length) : url);
    page.on('response', (r) => {
      const p = local(r.url()).split('?')[0]!;
      requests.push({ method: r.request().method(), path: p, status: r.status() });
      if (r.status() >= 400) failed.push({ method: r.request().method(), path: p, what: `HTTP ${r.status()}` });
    });
    page.on('requestfailed', (r) => failed.push({ method: r.method(), path: local(r.url()).split('?')[0]!, what: r.failure()?.errorText ?? 'failed' }));
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.stack ?? String(e)}`.slice(0, 600)));
    // The UI's one-time promotion of its new registry view covers the page whenever it pops up: accept it.
    await page.addLocatorHandler(page.getByRole('button', { name: 'Try it now' }), (b) => b.click());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  /** Waits for the response to a request whose path ends with `suffix`, while `action` runs. */
  async function answered(suffix: string, action: () => Promise<unknown>, method = 'GET') {
    const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === method && r.url().split('?')[0]!.endsWith(suffix), { timeout: 20_000 }), action()]);
    return res;
  }

  it('shows the model list', async () => {
    const res = await answered('/ajax-api/2.0/mlflow/registered-models/search', () => page.goto(`${s.url}/#/models`));
    expect(res.status()).toBe(200);
    await page.getByRole('link', { name: 'iris', exact: true }).waitFor({ timeout: 20_000 });
    await page.getByRole('link', { name: 'wine', exact: true }).waitFor();
    // Prompts are not models.
    expect(await page.getByRole('link', { name: 'greeting', exact: true }).count()).toBe(0);
  });

  it('shows a model page with its versions and edits a model tag', async () => {
    const res = await answered('/ajax-api/2.0/mlflow/model-versions/search', () => page.getByRole('link', { name: 'iris', exact: true }).click());
    expect(res.status()).toBe(200);
    await page.getByRole('link', { name: 'Version 1', exact: true }).first().waitFor({ timeout: 20_000 });
    await page.getByText('Iris classifier').first().waitFor();

    await page.getByPlaceholder('Name').fill('owner');
    await page.getByPlaceholder('Value').fill('alice');
    const set = await answered('/ajax-api/2.0/mlflow/registered-models/set-tag', () => page.getByTestId('add-tag-button').click(), 'POST');
    expect(set.status()).toBe(200);
    const model = await ok('GET', 'registered-models/get?name=iris');
    expect(model.registered_model.tags).toContainEqual({ key: 'owner', value: 'alice' });
  });

  it('shows a version page with its schema pane, read from the MLmodel through get-artifact', async () => {
    const res = await answered('/model-versions/get-artifact', () => page.getByRole('link', { name: 'Version 1', exact: true }).first().click());
    expect(res.status()).toBe(200);
    expect(res.url()).toContain('path=MLmodel');
    await page.getByText('Inputs (2)').click();
    await page.getByText('sepal_length').waitFor({ timeout: 10_000 });
    await page.getByText('petal_width').waitFor();
    await page.getByText('Outputs (1)').waitFor();
  });

  it('edits a version tag through the UI', async () => {
    // The tags pane is folded while the version has none.
    if (!(await page.getByPlaceholder('Name').isVisible())) await page.getByText('Tags', { exact: true }).first().click();
    await page.getByPlaceholder('Name').fill('validated');
    await page.getByPlaceholder('Value').fill('yes');
    const set = await answered('/ajax-api/2.0/mlflow/model-versions/set-tag', () => page.getByTestId('add-tag-button').click(), 'POST');
    expect(set.status()).toBe(200);
    await page.getByText('validated', { exact: true }).waitFor();
    const mv = await ok('GET', 'model-versions/get?name=iris&version=1');
    expect(mv.model_version.tags).toContainEqual({ key: 'validated', value: 'yes' });
  });

  it('adds an alias through the UI', async () => {
    await page.getByTitle('Edit aliases').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('combobox').fill('challenger');
    await page.keyboard.press('Enter');
    const set = await answered('/ajax-api/2.0/mlflow/registered-models/alias', () => dialog.getByRole('button', { name: 'Save aliases' }).click(), 'POST');
    expect(set.status()).toBe(200);
    // On the page itself: the dialog (a portal outside #root) may still show the chip while it closes.
    await page.locator('#root').getByText('@ challenger').waitFor();
    const byAlias = await ok('GET', 'registered-models/alias?name=iris&alias=challenger');
    expect(byAlias.model_version.version).toBe('1');
    expect(byAlias.model_version.aliases.sort()).toEqual(['challenger', 'champion']);
  });

  it('shows the page of a version registered from a run (whose run is not here) with its schema', async () => {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().split('?')[0]!.endsWith('/ajax-api/2.0/mlflow/runs/get'), { timeout: 20_000 }),
      page.goto(`${s.url}/#/models/iris/versions/2`),
    ]);
    expect(res.status()).toBe(404);
    await page.getByText('Version 2', { exact: true }).first().waitFor({ timeout: 20_000 });
    await page.getByText('Inputs (2)').waitFor({ timeout: 20_000 });
  });

  it('shows the prompt list and a prompt page', async () => {
    await answered('/ajax-api/2.0/mlflow/registered-models/search', () => page.goto(`${s.url}/#/prompts`));
    await page.getByRole('link', { name: 'greeting' }).waitFor({ timeout: 20_000 });
    const res = await answered('/ajax-api/2.0/mlflow/model-versions/search', () => page.getByRole('link', { name: 'greeting' }).click());
    expect(res.status()).toBe(200);
    await page.getByText('Hello {{name}}, welcome!').first().waitFor({ timeout: 20_000 });
  });

  it('made no failed request to a registry endpoint (only the known tracking-side ones failed)', () => {
    const unexpected = failed.filter((f) => !KNOWN_TRACKING_FAILURES.some((k) => k.path.test(f.path)));
    expect(unexpected).toEqual([]);
    const registry = requests.filter((r) => /\/(registered-models|model-versions)\//.test(r.path) || r.path.endsWith('/server-info'));
    expect(registry.length).toBeGreaterThanOrEqual(10);
    expect(registry.filter((r) => r.status >= 400)).toEqual([]);
    // The UI's shell and bundles came from the build.
    expect(requests.some((r) => r.path.startsWith('/static-files/static/js/main.') && r.status === 200)).toBe(true);
    expect(pageErrors.filter((e) => !KNOWN_PAGE_ERRORS.some((k) => k.page.test(e.slice(0, e.indexOf(': ')))))).toEqual([]);
  });
});
