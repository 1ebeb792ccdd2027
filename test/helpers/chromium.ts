/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium (or CHROMIUM_PATH) driven by
 * playwright-core. A machine without it skips those tests with one warning instead of failing.
 */
import fs from 'node:fs';
import type { Browser, Locator, Page, Response } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(`[test/browser] skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
}

/** Launches headless Chromium with nothing running in the background (no network beyond the test's). */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      ...extraArgs,
    ],
  });
}

/**
 * Swagger UI's "Try it out" on searchRegisteredModels with filter `name = '<model>'` (and no page token,
 * which Swagger UI would pre-fill from the spec's example): the API response and the operation's block.
 */
export async function tryOutModelSearch(page: Page, model: string): Promise<{ apiResponse: Response; op: Locator }> {
  const op = page.locator('#operations-registered-models-searchRegisteredModels');
  await op.locator('.opblock-summary').click();
  await op.locator('button.try-out__btn').click();
  await op.locator('input[placeholder="filter"]').fill(`name = '${model}'`);
  await op.locator('input[placeholder="page_token"]').fill('');
  const [apiResponse] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/registered-models/search')),
    op.locator('button.execute').click(),
  ]);
  return { apiResponse, op };
}
