/**
 * The read cache on a registry much larger than its budget (docs/benchmarks-round-two.md): the per-model
 * reads (get model, get version, latest versions, alias) with the default configuration and with
 * READ_CACHE_MB=0, for two builds of our server ("before": a git revision; "after": the working tree),
 * uniform random reads over the whole set (wrk.lua), cells alternating configuration by configuration,
 * round after round, so that the shared machine's load falls on all of them alike. Only ratios between
 * configurations of one run mean anything.
 *
 *   tsx scripts/bench/read-cache.ts --before <git rev> [--models 20000] [--versions 10] [--rounds 2] [--seconds 8] [--connections 32]
 *
 * Each build has its own database with the same data (reads change nothing); each cell starts its server
 * afresh, so every configuration starts with an empty cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, loadDataset, DATASETS } from './dataset.js';
import { runWrk, type LoadResult } from './load.js';
import { withCpu, type CpuResult } from './cell-cpu.js';
import { NO_CACHE_ENV, startOurs, type RunningServer } from './servers.js';
import { snapshotAt, snapshotOfWorkingTree } from './snapshot.js';
import { arg, sideBySideArgs } from './side-by-side-args.js';

const { before, rounds, seconds, connections, adminUrl } = sideBySideArgs(2);

const dataset = { ...DATASETS.large, models: Number(arg('models', '20000')), versionsPerModel: Number(arg('versions', '10')) };
const WORKLOADS = ['get_rm', 'get_mv', 'latest', 'alias'] as const;

const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

interface Config {
  id: string;
  root: string;
  db: string;
  env: Record<string, string>;
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-read-cache-'));
  const dbs: string[] = [];
  try {
    log(`building "${before}" and the working tree in ${workDir}`);
    const beforeRoot = await snapshotAt(before, path.join(workDir, 'before'));
    const afterRoot = await snapshotOfWorkingTree(path.join(workDir, 'after'));
    // One database per build (each build migrates its own), loaded once: the server creates the schema.
    const provision = async (id: string, root: string) => {
      const name = `bench_rc_${id}_${randomBytes(3).toString('hex')}`;
      dbs.push(name);
      const url = await createDatabase(adminUrl, name);
      const s = await startOurs({ root, databaseUrl: url, workDir, label: `${id}-migrate` });
      await s.stop();
      const loaded = await loadDataset(url, dataset);
      log(`${id}: ${JSON.stringify(loaded.rows)} loaded in ${(loaded.ms / 1000).toFixed(0)} s`);
      return url;
    };
    const beforeDb = await provision('before', beforeRoot);
    const afterDb = await provision('after', afterRoot);
    const configs: Config[] = [
      { id: 'before', root: beforeRoot, db: beforeDb, env: {} },
      { id: 'before, cache off', root: beforeRoot, db: beforeDb, env: NO_CACHE_ENV },
      { id: 'after', root: afterRoot, db: afterDb, env: {} },
      { id: 'after, cache off', root: afterRoot, db: afterDb, env: NO_CACHE_ENV },
    ];
    const results: Record<string, Record<string, CpuResult[]>> = {};
    for (let round = 1; round <= rounds; round++) {
      for (const workload of WORKLOADS) {
        const order = round % 2 ? configs : [...configs].reverse();
        for (const c of order) {
          let server: RunningServer | undefined;
          try {
            server = await startOurs({ root: c.root, databaseUrl: c.db, workDir, label: `${c.id}-${round}-${workload}`.replace(/\W+/g, '_'), env: c.env });
            const srv = server;
            const r = await withCpu(srv.pid, c.db, () => runWrk({ url: srv.url, workload, connections, seconds, dataset, runTag: `r${round}` }));
            ((results[workload] ??= {})[c.id] ??= []).push(r);
            log(`round ${round} ${workload} ${c.id}: ${r.rps.toFixed(0)} req/s, p99 ${r.latency.p99.toFixed(1)} ms, non-2xx ${r.non2xx}, server ${r.serverCpuMsPerRequest.toFixed(3)} + db ${r.dbCpuMsPerRequest.toFixed(3)} CPU ms/req`);
          } finally {
            await server?.stop();
          }
        }
      }
    }
    process.stdout.write(JSON.stringify({ before, rounds, seconds, connections, dataset, results }, null, 2) + '\n');
  } finally {
    for (const name of dbs) await dropDatabase(adminUrl, name).catch(() => {});
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
