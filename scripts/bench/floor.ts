/**
 * The "floor" of a read workload: the exact SQL our server runs for it (RegistryQueries, through the
 * same pg pool setup as the server: store/db.ts openPostgres, named prepared statements, same pool
 * size), called in a bare loop by `connections` concurrent callers, with no HTTP, parsing or JSON
 * rendering. Its throughput is what the database and the pg driver allow on this machine; the server
 * cannot exceed it. Run as a separate process by run.ts:
 *
 *   tsx scripts/bench/floor.ts '{"url":"postgres://…","workload":"get_rm","dataset":"small","connections":32,"seconds":5,"poolMax":10}'
 *
 * Prints one line `BENCH_JSON {...}` in the shape of wrk.lua's.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import type { openPostgres as OpenPostgres } from '../../packages/server/src/store/db.js';
import type { RegistryQueries as Queries } from '../../packages/server/src/store/registry-store.js';
import type { createLogger as CreateLogger } from '../../packages/server/src/log.js';
import { DATASETS } from './dataset.js';
import { workloadById } from './workloads.js';
import { DbCpuSampler } from './procstat.js';

interface FloorArgs {
  url: string;
  workload: string;
  dataset: 'small' | 'large';
  connections: number;
  seconds: number;
  poolMax: number;
  warmupSeconds?: number;
  /** Checkout whose server code (store SQL, pool setup) to run; default: this one. */
  root?: string;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]!) as FloorArgs;
  const w = workloadById(a.workload);
  if (!w.floor) throw new Error(`workload ${a.workload} has no floor (reads only)`);
  const d = DATASETS[a.dataset];
  const src = path.join(a.root ?? path.resolve(import.meta.dirname, '../..'), 'packages/server/src');
  const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(path.join(src, rel)).href)) as T;
  const { openPostgres } = await load<{ openPostgres: typeof OpenPostgres }>('store/db.ts');
  const { RegistryQueries } = await load<{ RegistryQueries: typeof Queries }>('store/registry-store.ts');
  const { createLogger } = await load<{ createLogger: typeof CreateLogger }>('log.ts');
  const db = await openPostgres(a.url, a.poolMax, createLogger('silent'));
  const q = new RegistryQueries(db);
  const call = w.floor;

  const run = async (seconds: number, record: boolean) => {
    const lat: number[] = [];
    let errors = 0;
    const end = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await call(q, d);
        } catch {
          errors++;
        }
        if (record) lat.push((performance.now() - t) * 1000);
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: a.connections }, worker));
    return { lat, errors, us: (performance.now() - start) * 1000 };
  };

  // The database's backends' CPU over the measured phase (a separate connection asks which they are).
  const admin = new pg.Client({ connectionString: a.url });
  await admin.connect();
  const dbName = new URL(a.url).pathname.slice(1);
  const dbCpu = new DbCpuSampler(async () =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [dbName],
      )
    ).rows.map((r) => r.pid),
  );

  if (a.warmupSeconds) await run(a.warmupSeconds, false);
  await dbCpu.begin();
  const cpu0 = process.cpuUsage();
  const { lat, errors, us } = await run(a.seconds, true);
  const cpu = process.cpuUsage(cpu0);
  const dbCpuSeconds = await dbCpu.end();
  await admin.end();
  await db.close();
  const sorted = Float64Array.from(lat).sort();
  const mean = lat.reduce((x, y) => x + y, 0) / (lat.length || 1);
  const out = {
    requests: lat.length,
    duration_us: Math.round(us),
    bytes: 0,
    cpu_s: (cpu.user + cpu.system) / 1e6,
    db_cpu_s: dbCpuSeconds,
    errors: { connect: 0, read: 0, write: 0, status: errors, timeout: 0 },
    latency_us: {
      mean,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1]! : 0,
    },
  };
  process.stdout.write(`BENCH_JSON ${JSON.stringify(out)}\n`);
}

main().catch((err) => {
  process.stderr.write(`floor: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
