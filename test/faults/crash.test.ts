/**
 * SIGKILL under write load: a server process (node --import tsx main.ts) takes 20 concurrent writer
 * loops creating model versions, and is killed with SIGKILL while requests are in flight, twice; it is
 * restarted on the same data each time. Every write that was acknowledged (200) before the kill must be
 * there afterwards, and the data opens again (the restarted process serves reads and writes).
 * On the embedded database (PGlite, DATA_DIR a scratch directory) always, and on PostgreSQL (a database
 * of the TEST_DATABASE_URL server) when that is set.
 */
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/server.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { sleep } from '../webhooks/receiver.js';

const WRITERS = 20;
const KILLS = 2;
const MODEL = 'crash-model';
const API = '/api/2.0/mlflow';
const backends = process.env.TEST_DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

interface Acked {
  version: string;
  description: string;
}

/** Writer loops until the process stops answering; returns what was acknowledged. */
async function load(server: ServerProcess, cycle: number, acked: Acked[], statuses: Record<string, number>): Promise<void> {
  const writer = async (i: number) => {
    for (let n = 0; ; n++) {
      const description = `c${cycle}-w${i}-${n}`;
      let status: number;
      try {
        const res = await fetch(`${server.url}${API}/model-versions/create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: MODEL, source: `mlflow-artifacts:/crash/${cycle}/${i}/${n}`, description }),
          signal: AbortSignal.timeout(30_000),
        });
        status = res.status;
        const body = (await res.json()) as { model_version?: { version: string } };
        if (status === 200) acked.push({ version: String(body.model_version!.version), description });
      } catch {
        return; // the process is gone: this request's outcome is unknown, as for any client
      }
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status !== 200) await sleep(50);
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)));
}

describe.each(backends)('SIGKILL under write load (%s)', (backend) => {
  it(
    'loses no acknowledged write, and the data opens again',
    async () => {
      const dataDir = scratchDir('mlflow-ts-crash-');
      const databaseUrl = backend === 'postgres' ? await createTestDatabase() : undefined;
      const env: Record<string, string> = { DATA_DIR: dataDir, SHUTDOWN_TIMEOUT_MS: '2000', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
      let server: ServerProcess | undefined;
      const acked: Acked[] = [];
      const statuses: Record<string, number> = {};
      try {
        for (let cycle = 1; cycle <= KILLS; cycle++) {
          server = await startServerProcess({ env });
          if (cycle === 1) expect((await server.call('POST', `${API}/registered-models/create`, { name: MODEL })).status).toBe(200);
          const before = acked.length;
          const writing = load(server, cycle, acked, statuses);
          // Kill mid-load: once enough writes were acknowledged (or after 3 s on a slow machine).
          const deadline = Date.now() + 3000;
          while (acked.length - before < 150 && Date.now() < deadline) await sleep(20);
          await sleep(Math.floor(Math.random() * 50));
          const killedAt = acked.length;
          const exit = await server.stop('SIGKILL');
          expect(exit.signal).toBe('SIGKILL');
          await writing;
          console.log(`crash (${backend}) kill #${cycle}: ${killedAt - before} writes acknowledged before SIGKILL, ${acked.length - killedAt} answers read as it died`);
        }

        server = await startServerProcess({ env });
        const missing: string[] = [];
        for (let i = 0; i < acked.length; i += 10) {
          await Promise.all(
            acked.slice(i, i + 10).map(async (v) => {
              const res = await server!.call('GET', `${API}/model-versions/get?name=${MODEL}&version=${v.version}`);
              if (res.status !== 200 || res.body.model_version.description !== v.description) missing.push(`${v.version} (${res.status})`);
            }),
          );
        }
        console.log(`crash (${backend}): ${acked.length} acknowledged writes over ${KILLS} SIGKILLs, lost ${missing.length}; answers ${JSON.stringify(statuses)}`);
        expect(missing).toEqual([]);
        expect(acked.length).toBeGreaterThan(0);
        expect(Object.keys(statuses).filter((s) => s !== '200')).toEqual([]);
        // The data opens again and takes writes.
        const after = await server.call('POST', `${API}/model-versions/create`, { name: MODEL, source: 'mlflow-artifacts:/crash/after' });
        expect(after.status).toBe(200);
        expect(Number(after.body.model_version.version)).toBeGreaterThan(Math.max(...acked.map((v) => Number(v.version))));
      } finally {
        if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
          const killer = setTimeout(() => server!.proc.kill('SIGKILL'), 10_000);
          await server.stop('SIGTERM');
          clearTimeout(killer);
        }
        removeDir(dataDir);
      }
    },
    240_000,
  );
});
