/**
 * Load generation from a separate process: wrk (C, one thread, so it takes as little of the two
 * cores as possible) with wrk.lua for HTTP, and floor.ts for the bare-SQL floor.
 */
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DatasetSpec } from './dataset.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  /** milliseconds */
  latency: { mean: number; p50: number; p90: number; p95: number; p99: number; p999: number; max: number };
  /** HTTP status >= 400 (wrk counts those; MLflow and we never answer 3xx here) */
  non2xx: number;
  /** connect/read/write errors and timeouts */
  socketErrors: number;
  /** floor only: CPU seconds of the floor process and of the database's backends in the measured phase */
  clientCpuSeconds?: number;
  dbCpuSeconds?: number;
}

interface RawJson {
  requests: number;
  duration_us: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: Record<'mean' | 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max', number>;
  cpu_s?: number;
  db_cpu_s?: number;
}

function parse(stdout: string, what: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`${what}: no BENCH_JSON line in output:\n${stdout}`);
  const j = JSON.parse(line.slice('BENCH_JSON '.length)) as RawJson;
  const ms = (us: number) => us / 1000;
  const seconds = j.duration_us / 1e6;
  const extra: Partial<LoadResult> = {};
  if (j.cpu_s !== undefined) extra.clientCpuSeconds = j.cpu_s;
  if (j.db_cpu_s !== undefined) extra.dbCpuSeconds = j.db_cpu_s;
  return {
    ...extra,
    requests: j.requests,
    seconds,
    rps: seconds > 0 ? j.requests / seconds : 0,
    latency: {
      mean: ms(j.latency_us.mean),
      p50: ms(j.latency_us.p50),
      p90: ms(j.latency_us.p90),
      p95: ms(j.latency_us.p95),
      p99: ms(j.latency_us.p99),
      p999: ms(j.latency_us.p999),
      max: ms(j.latency_us.max),
    },
    non2xx: j.errors.status,
    socketErrors: j.errors.connect + j.errors.read + j.errors.write + j.errors.timeout,
  };
}

function run(cmd: string, args: string[], what: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${what} exited with ${code}:\n${err}\n${out}`));
    });
  });
}

export function wrkVersion(): string {
  try {
    execFileSync('wrk', ['--version'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    // wrk --version prints its banner and exits 1
    const out = `${(e as { stdout?: string }).stdout ?? ''}`;
    const m = /wrk (\S+)/.exec(out);
    if (m) return m[1]!;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('wrk is not installed (Debian/Ubuntu: apt-get install wrk)');
    }
  }
  return 'unknown';
}

export const WRK_THREADS = 1;

export async function runWrk(opts: {
  url: string;
  workload: string;
  connections: number;
  seconds: number;
  dataset: DatasetSpec;
  runTag: string;
}): Promise<LoadResult> {
  const args = [
    `-t${WRK_THREADS}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '10s',
    '-s',
    path.join(here, 'wrk.lua'),
    opts.url,
    '--',
    opts.workload,
    String(opts.dataset.models),
    String(opts.dataset.versionsPerModel),
    String(opts.dataset.teams),
    opts.runTag,
  ];
  const out = await run('wrk', args, `wrk ${opts.workload} c=${opts.connections}`, (opts.seconds + 30) * 1000);
  return parse(out, 'wrk');
}

export async function runFloor(opts: {
  databaseUrl: string;
  workload: string;
  connections: number;
  seconds: number;
  dataset: DatasetSpec;
  poolMax: number;
  warmupSeconds: number;
  root?: string;
}): Promise<LoadResult> {
  const arg = JSON.stringify({
    root: opts.root,
    url: opts.databaseUrl,
    workload: opts.workload,
    dataset: opts.dataset.name,
    connections: opts.connections,
    seconds: opts.seconds,
    poolMax: opts.poolMax,
    warmupSeconds: opts.warmupSeconds,
  });
  const out = await run(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'floor.ts'), arg],
    `floor ${opts.workload} c=${opts.connections}`,
    (opts.seconds + opts.warmupSeconds + 60) * 1000,
  );
  return parse(out, 'floor');
}
