/**
 * Write-path comparison of two builds of our server on PostgreSQL (docs/benchmarks-round-two.md):
 * create-model-version, set-registered-model-tag and create-registered-model throughput (wrk, the
 * harness's wrk.lua and small dataset), each build on its own fresh database, cells alternating build by
 * build, round after round, so that the shared machine's load falls on all of them alike. Only ratios
 * between builds of one run mean anything.
 *
 *   tsx scripts/bench/write-path.ts --before <git rev> [--rounds 3] [--seconds 8] [--connections 32]
 *
 * Builds: "before" (the sources at <git rev>, `git archive`), "after" (the working tree's server sources),
 * and "after, no triggers" (the same with the change triggers of migration ext/0003 dropped from its
 * database after start, to measure what they cost the write path). Each runs as `pnpm start` runs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase, dropDatabase, loadDataset, DATASETS } from './dataset.js';
import { runWrk, type LoadResult } from './load.js';
import { withCpu, type CpuResult } from './cell-cpu.js';
import { startOurs, type RunningServer } from './servers.js';
import { snapshotAt, snapshotOfWorkingTree } from './snapshot.js';
import { sideBySideArgs } from './side-by-side-args.js';

const { before, rounds, seconds, connections, adminUrl } = sideBySideArgs(3);

const WORKLOADS = ['create_mv', 'set_tag', 'create_rm'] as const;
const dataset = { ...DATASETS.small, models: 200 };

const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

const DROP_TRIGGERS = `DO $$ DECLARE t text; BEGIN
  FOREACH t IN ARRAY ARRAY['registered_models', 'model_versions', 'registered_model_tags', 'model_version_tags', 'registered_model_aliases'] LOOP
    EXECUTE format('DROP TRIGGER IF EXISTS mlflow_ts_announce_change ON %I', t);
  END LOOP; END $$`;

interface Build {
  id: string;
  root: string;
  afterStart?: (url: string) => Promise<void>;
}

async function cell(b: Build, workDir: string, workload: string, round: number): Promise<CpuResult> {
  const name = `bench_w3_${b.id.replace(/\W/g, '')}_${randomBytes(3).toString('hex')}`;
  const url = await createDatabase(adminUrl, name);
  let server: RunningServer | undefined;
  try {
    // The server creates its schema, then the dataset's models are added.
    server = await startOurs({ root: b.root, databaseUrl: url, workDir, label: `${b.id}-${round}-${workload}`.replace(/\W/g, '_') });
    await loadDataset(url, dataset);
    await b.afterStart?.(url);
    const srv = server;
    return await withCpu(srv.pid, url, () => runWrk({ url: srv.url, workload, connections, seconds, dataset, runTag: `r${round}${randomBytes(2).toString('hex')}` }));
  } finally {
    await server?.stop();
    await dropDatabase(adminUrl, name).catch(() => {});
  }
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-write-path-'));
  try {
    log(`building "${before}" and the working tree in ${workDir}`);
    const beforeRoot = await snapshotAt(before, path.join(workDir, 'before'));
    const afterRoot = await snapshotOfWorkingTree(path.join(workDir, 'after'));
    const dropTriggers = async (url: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(DROP_TRIGGERS).finally(() => c.end());
    };
    const builds: Build[] = [
      { id: 'before', root: beforeRoot },
      { id: 'after', root: afterRoot },
      { id: 'after-no-triggers', root: afterRoot, afterStart: dropTriggers },
    ];
    const results: Record<string, Record<string, CpuResult[]>> = {};
    for (let round = 1; round <= rounds; round++) {
      for (const workload of WORKLOADS) {
        // Alternate the order of the builds from round to round.
        const order = round % 2 ? builds : [...builds].reverse();
        for (const b of order) {
          const r = await cell(b, workDir, workload, round);
          ((results[workload] ??= {})[b.id] ??= []).push(r);
          log(`round ${round} ${workload} ${b.id}: ${r.rps.toFixed(0)} req/s, p99 ${r.latency.p99.toFixed(1)} ms, non-2xx ${r.non2xx}, socket errors ${r.socketErrors}, server ${r.serverCpuMsPerRequest.toFixed(3)} + db ${r.dbCpuMsPerRequest.toFixed(3)} CPU ms/req`);
        }
      }
    }
    process.stdout.write(JSON.stringify({ before, rounds, seconds, connections, models: dataset.models, results }, null, 2) + '\n');
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
