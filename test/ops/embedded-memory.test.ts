/**
 * The embedded default stays small (issue 21): a first start initialises its data directory in a child
 * process (initdb touches ~600 MB of WebAssembly memory that would otherwise stay in the server for good),
 * and PGlite runs with small-server memory settings. Real server processes; the RSS bound is a generous
 * sanity limit (before: ~730 MB after a first start, ~340 MB after a restart; now ~220 MB), never a timing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite } from '../../packages/server/src/store/db.js';
import { createLogger } from '../../packages/server/src/log.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

const RSS_LIMIT_MB = 400;

describe('the embedded database keeps its memory small', () => {
  const dirs: string[] = [];
  const procs: ServerProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) removeDir(d);
  });

  it('a first start initialises the data directory in a child process and stays under the bound; so does a restart', async () => {
    const dataDir = scratchDir('mlflow-ts-embedded-mem-');
    dirs.push(dataDir);
    const env = { DATA_DIR: dataDir, AUTH: 'none' };
    const first = await startServerProcess({ env });
    procs.push(first);
    expect(first.output.some((l) => l.includes('"initialising the embedded database"'))).toBe(true);
    expect((await first.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'kept' })).status).toBe(200);
    expect(first.rssMb()).toBeLessThan(RSS_LIMIT_MB);
    await first.stop();

    const again = await startServerProcess({ env });
    procs.push(again);
    expect(again.output.some((l) => l.includes('"initialising the embedded database"'))).toBe(false);
    expect((await again.call('GET', '/api/2.0/mlflow/registered-models/get?name=kept')).status).toBe(200);
    expect(again.rssMb()).toBeLessThan(RSS_LIMIT_MB);
  }, 180_000);

  it('runs PostgreSQL with the small-server memory settings', async () => {
    const dataDir = scratchDir('mlflow-ts-embedded-mem-');
    dirs.push(dataDir);
    const db = await openPglite(dataDir, createLogger('silent'));
    try {
      const [row] = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      expect(row!.shared_buffers).toBe('16MB');
    } finally {
      await db.close();
    }
  }, 120_000);
});
