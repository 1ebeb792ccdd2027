/**
 * The embedded default stays small (issue 21): a first start copies its data directory from a template made by
 * initdb in a child process (initdb touches ~600 MB of WebAssembly memory that would otherwise stay in the server for good),
 * PGlite runs with small-server memory settings, and its WebAssembly gets V8's baseline code only. Real server
 * processes, run from source under tsx, which adds ~80 MB to what `pnpm start` measures. After a first start and
 * one write: ~730 MB with initdb in the server; 320 MB with V8's optimising compiler on PostgreSQL's WebAssembly;
 * 234 MB without it (150 MB from packages/server/dist). The bound lies between; never a timing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../packages/server/src/store/db.js';
import { createLogger } from '../../packages/server/src/log.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

const RSS_LIMIT_MB = 280;

describe('the embedded database keeps its memory small', () => {
  const dirs: string[] = [];
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) removeDir(d);
  });

  it('a first start initialises the data directory (a copy of the template, made by initdb in a child process) and stays under the bound; so does a restart', async () => {
    const dataDir = scratchDir('mlflow-ts-embedded-mem-');
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, AUTH: 'none' };
    const first = await startServerProcess({ env });
    procs.push(first);
    expect(first.output.some((l) => l.includes('"initialising the embedded database"') && l.includes('"from":"template"'))).toBe(true);
    expect((await first.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'kept' })).status).toBe(200);
    console.log(`embedded RSS after a first start and one write: ${first.rssMb().toFixed(0)} MB`);
    expect(first.rssMb()).toBeLessThan(RSS_LIMIT_MB);
    await first.stop();

    const again = await startServerProcess({ env });
    procs.push(again);
    expect(again.output.some((l) => l.includes('"initialising the embedded database"'))).toBe(false);
    expect((await again.call('GET', '/api/2.0/mlflow/registered-models/get?name=kept')).status).toBe(200);
    console.log(`embedded RSS after a restart and one read: ${again.rssMb().toFixed(0)} MB`);
    expect(again.rssMb()).toBeLessThan(RSS_LIMIT_MB);
  }, 180_000);

  it('runs PostgreSQL with the small-server memory settings', async () => {
    const dataDir = scratchDir('mlflow-ts-embedded-mem-');
    dirs.push(dataDir);
    const db = await openPglite(dataDir, createLogger('silent'));
    try {
      const [row] = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(row!.shared_buffers).toBe('8MB');
    } finally {
      await db.close();
    }
  }, 120_000);
});
