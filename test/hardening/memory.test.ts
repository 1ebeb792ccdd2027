/**
 * Memory under oversized bodies, measured on a real server process (RSS from /proc): a 1 GB JSON body
 * streamed at the server must be refused with 413 while the process stays within 20 MB of its idle RSS,
 * and four concurrent 300 MB bodies must stay bounded too. Bodies are generated as they are written. On the
 * embedded default (PGlite) and, when TEST_DATABASE_URL is set, PostgreSQL. Peak figures are printed.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { createTestDatabase } from '../helpers/server.js';
import { MB, sampleMax, sendStreamed } from './helpers.js';

const API = '/api/2.0/mlflow';
const GB = 1024 * MB;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const configs: { name: string; env: () => Promise<Record<string, string>> }[] = [
  { name: 'embedded', env: async () => ({}) },
  ...(process.env.TEST_DATABASE_URL ? [{ name: 'postgres', env: async () => ({ DATABASE_URL: await createTestDatabase() }) }] : []),
];

describe.each(configs)('memory under oversized bodies ($name)', ({ name, env }) => {
  let srv: ServerProcess;
  let dir: string;

  beforeAll(async () => {
    dir = scratchDir();
    // Default limits (MAX_REQUEST_BODY_MB=8).
    srv = await startServerProcess({ env: { DATA_DIR: dir, LOG_LEVEL: 'info', ...(await env()) }, startTimeoutMs: 120_000 });
    // Warm up the code paths (parsing, errors, the database) with small requests only: no large body
    // has been read before the idle figure is taken.
    expect((await srv.call('POST', `${API}/registered-models/create`, { name: 'keep' })).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      await srv.call('GET', `${API}/registered-models/search`);
      await srv.call('POST', `${API}/registered-models/create`, { name: 'keep' });
    }
  }, 180_000);

  afterAll(async () => {
    await srv?.stop();
    if (dir) removeDir(dir);
  });

  /** RSS once the process has settled (start-up memory is still being returned for a while): up to 20 s. */
  async function idleMb(): Promise<number> {
    let last = srv.rssMb();
    for (let i = 0; i < 40; i++) {
      await sleep(500);
      const now = srv.rssMb();
      if (Math.abs(now - last) < 1) return Math.max(now, last);
      last = now;
    }
    return last;
  }

  test('a 1 GB JSON body (chunked, declared, and as a GET body) is refused with 413 within +20 MB of idle RSS', async () => {
    const variants = [
      { label: 'POST chunked', method: 'POST', headers: { 'content-type': 'application/json' } },
      { label: 'POST Content-Length', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': GB } },
      { label: 'GET chunked', method: 'GET', headers: { 'transfer-encoding': 'chunked' } },
    ];
    for (const v of variants) {
      const idle = await idleMb();
      const sampler = sampleMax(() => srv.rssMb());
      const r = await sendStreamed(srv.url, { method: v.method, path: `${API}/registered-models/${v.method === 'GET' ? 'search' : 'create'}`, headers: v.headers, head: '{"name": "huge", "description": "', size: GB, tail: '"}' });
      await sleep(300);
      const peak = sampler.stop();
      console.log(`[${name}] 1 GB body, ${v.label}: ${r.status} after ${(r.written / MB).toFixed(1)} MB written; idle RSS ${idle.toFixed(1)} MB, peak ${peak.toFixed(1)} MB (+${(peak - idle).toFixed(1)} MB)`);
      expect(r.status).toBe(413);
      expect(r.body.error_code).toBe('RESOURCE_EXHAUSTED');
      expect(peak - idle).toBeLessThanOrEqual(20);
    }
    // Nothing was stored, and the server still answers.
    const search = await srv.call('GET', `${API}/registered-models/search`);
    expect(search.body.registered_models.map((m: { name: string }) => m.name)).toEqual(['keep']);
  }, 240_000);

  test('4 × 300 MB concurrent bodies stay bounded (at most 4 × the 8 MB limit above idle, plus 20 MB)', async () => {
    const idle = await idleMb();
    const sampler = sampleMax(() => srv.rssMb());
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        sendStreamed(srv.url, { method: 'POST', path: `${API}/registered-models/create`, headers: { 'content-type': 'application/json' }, head: `{"name": "c${i}", "description": "`, size: 300 * MB, tail: '"}' }),
      ),
    );
    await sleep(300);
    const peak = sampler.stop();
    console.log(`[${name}] 4 × 300 MB concurrent: ${results.map((r) => r.status).join(', ')}; idle RSS ${idle.toFixed(1)} MB, peak ${peak.toFixed(1)} MB (+${(peak - idle).toFixed(1)} MB)`);
    for (const r of results) expect(r.status).toBe(413);
    expect(peak - idle).toBeLessThanOrEqual(4 * 8 + 20);
    expect((await srv.call('GET', `${API}/registered-models/get?name=keep`)).status).toBe(200);
  }, 180_000);
});
