/**
 * The benchmark harness: `pnpm bench` (see docs/benchmarks.md, "Reproduce").
 *
 * For each dataset (small by default; large with --large): two fresh databases on the local
 * PostgreSQL, the registry schema created by each server's own means (our migrations; `mlflow db
 * upgrade`), the same rows bulk-loaded into both with SQL; then our server and `mlflow server`
 * (default workers, and --workers 2) on them, and every workload × connection count run by wrk
 * against each in turn (interleaved, so background noise hits all alike), with a bare-SQL floor row
 * per read workload. Results go to a JSON file and the markdown report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, DATASETS, dropDatabase, loadDataset, type DatasetSpec } from './dataset.js';
import { DbCpuSampler, TreeSampler, machineCpu, type CellResources } from './procstat.js';
import { NO_CACHE_ENV, mlflowDbUpgrade, mlflowVersion, startCommand, startMlflow, startOurs, type RunningServer } from './servers.js';
import { runFloor, runWrk, WRK_THREADS, wrkVersion, type LoadResult } from './load.js';
import { WORKLOADS, workloadById, type WorkloadId } from './workloads.js';
import { buildServer } from '../build.js';
import { renderReport, type BenchMeta, type CellResult, type RunResults, type ServerSummary } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');

export type ServerId = 'ours' | 'ours-nocache' | 'ours-alt' | 'mlflow' | 'mlflow-w2';
const ALL_SERVERS: ServerId[] = ['ours', 'ours-nocache', 'mlflow', 'mlflow-w2'];
const KNOWN_SERVERS: ServerId[] = ['ours', 'ours-nocache', 'ours-alt', 'mlflow', 'mlflow-w2'];
/** 'ours-nocache': our server (same code as 'ours', own database) with the read cache off (README, "Read cache"). */
type OurId = 'ours' | 'ours-nocache' | 'ours-alt';
const OUR_IDS: readonly OurId[] = ['ours', 'ours-nocache', 'ours-alt'];
const isOurs = (id: ServerId): id is OurId => (OUR_IDS as readonly string[]).includes(id);

interface Options {
  smoke: boolean;
  sets: DatasetSpec['name'][];
  servers: ServerId[];
  workloads: WorkloadId[];
  connections: number[];
  seconds: number;
  warmup: number;
  floor: boolean;
  poolMax: number;
  report: string | undefined;
  json: string | undefined;
  keepDb: boolean;
  adminUrl: string;
  cpuProf: string | undefined;
  oursEnv: Record<string, string>;
  oursRoot: string;
  /** Re-render the report from a results file instead of measuring. */
  render: string | undefined;
  altEnv: Record<string, string>;
  altRoot: string;
  /** Our servers all read one database (ours's): A/B of read workloads without two copies' cache states. */
  sharedDb: boolean;
}

const HELP = `pnpm bench [options]        benchmark this server against mlflow server (docs/benchmarks.md)

  --smoke                 a few seconds: small set, ours only, get_rm + mixed at 8 connections, 1 s each,
                          report to a temporary file (unless --report); exits 1 if a request failed
  --large                 also run the large set (100,000 models, 1,000,000 versions)
  --sets small,large      datasets to run (default: small)
  --servers ours,ours-nocache,mlflow,mlflow-w2
                          servers (default: these four; ours-nocache = ours with READ_CACHE_MB=0, on its own
                          database; mlflow = its default 4 workers)
  --workloads a,b         default: all (${WORKLOADS.map((w) => w.id).join(', ')})
  --connections 1,8,32,64 concurrent connections (default: 1,8,32,64)
  --duration S            seconds per measured cell (default: 5)
  --warmup S              unmeasured seconds per workload and server before its first cell (default: 1)
  --no-floor              skip the bare-SQL floor rows
  --shared-db             our servers (ours, ours-nocache, ours-alt) all use ours's database instead of a copy
                          each, so an A/B of reads is not skewed by which copy PostgreSQL and the OS have
                          cached (on the large set they cannot hold both); read workloads only
  --pool N                DB_POOL_MAX of our server and of the floor's pool (default: 10, the server's default)
  --report PATH           markdown report (default: docs/benchmarks.md; with --smoke: a temporary file)
  --json PATH             raw results (default: beside the report's working files, printed at the end)
  --keep-db               keep the benchmark databases (their names are printed)
  --cpu-prof DIR          run our server with node --cpu-prof, profiles written to DIR at exit
  --ours-env K=V          extra environment for our server (repeatable), for A/B experiments
  --ours-root DIR         run our server (and the floor's SQL) from another checkout, for A/B experiments
  --alt-root DIR, --alt-env K=V
                          a second instance of our server ('ours-alt' in --servers; own database), from another
                          checkout and/or with other settings, measured interleaved with 'ours' (A/B)
  --render RESULTS.json   only re-render the report (e.g. after editing scripts/bench/notes.md) from a run's raw results
  --admin-url URL         PostgreSQL server to create databases on (default: $BENCH_DATABASE_URL,
                          $TEST_DATABASE_URL, or postgres://postgres:postgres@127.0.0.1:5432/postgres)

Environment: VENV (default .venv) is the virtualenv with mlflow; scripts/python-env.sh creates it if missing.`;

/**
 * The order of the servers in one row of the matrix (a workload at a connection count): our configurations
 * swap places from one row to the next, MLflow's come after them. Whichever of two of ours ran first measured
 * a few percent slower, in either order (scripts/bench/notes.md), so a fixed order would favour the second.
 */
function rowOrder<T>(servers: [ServerId, T][], row: number): [ServerId, T][] {
  const ours = servers.filter(([id]) => isOurs(id));
  const others = servers.filter(([id]) => !isOurs(id));
  return [...(row % 2 === 1 ? ours.reverse() : ours), ...others];
}

function parseArgs(argv: string[]): Options {
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
  let smoke = false;
  let sets: Options['sets'] | undefined;
  let servers: ServerId[] | undefined;
  let workloads: WorkloadId[] | undefined;
  let connections: number[] | undefined;
  let seconds: number | undefined;
  let warmup: number | undefined;
  let floor = true;
  let sharedDb = false;
  let poolMax = 10;
  let report: string | undefined;
  let json: string | undefined;
  let keepDb = false;
  let cpuProf: string | undefined;
  let render: string | undefined;
  const oursEnv: Record<string, string> = {};
  let oursRoot = ROOT;
  const altEnv: Record<string, string> = {};
  let altRoot: string | undefined;
  let adminUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--':
        break;
      case '-h':
      case '--help':
        process.stdout.write(HELP + '\n');
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      case '--smoke':
        smoke = true;
        break;
      case '--large':
        sets = ['small', 'large'];
        break;
      case '--sets':
        sets = list(val()).map((s) => {
          if (s !== 'small' && s !== 'large') throw new Error(`unknown set '${s}'`);
          return s;
        });
        break;
      case '--servers':
        servers = list(val()).map((s) => {
          if (!KNOWN_SERVERS.includes(s as ServerId)) throw new Error(`unknown server '${s}' (${KNOWN_SERVERS.join(', ')})`);
          return s as ServerId;
        });
        break;
      case '--workloads':
        workloads = list(val()).map((w) => workloadById(w).id);
        break;
      case '--connections':
        connections = list(val()).map((c) => {
          const n = Number(c);
          if (!Number.isInteger(n) || n < 1) throw new Error(`bad connection count '${c}'`);
          return n;
        });
        break;
      case '--duration':
        seconds = Number(val());
        if (!Number.isInteger(seconds) || seconds < 1) throw new Error('--duration must be a whole number of seconds >= 1');
        break;
      case '--warmup':
        warmup = Number(val());
        if (!Number.isInteger(warmup) || warmup < 0) throw new Error('--warmup must be a whole number of seconds >= 0');
        break;
      case '--no-floor':
        floor = false;
        break;
      case '--shared-db':
        sharedDb = true;
        break;
      case '--pool':
        poolMax = Number(val());
        break;
      case '--report':
        report = path.resolve(val());
        break;
      case '--json':
        json = path.resolve(val());
        break;
      case '--keep-db':
        keepDb = true;
        break;
      case '--cpu-prof':
        cpuProf = path.resolve(val());
        break;
      case '--ours-env':
      case '--alt-env': {
        const kv = val();
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new Error(`${a} needs K=V, got '${kv}'`);
        (a === '--ours-env' ? oursEnv : altEnv)[kv.slice(0, eq)] = kv.slice(eq + 1);
        break;
      }
      case '--alt-root':
        altRoot = path.resolve(val());
        break;
      case '--ours-root':
        oursRoot = path.resolve(val());
        break;
      case '--render':
        render = path.resolve(val());
        break;
      case '--admin-url':
        adminUrl = val();
        break;
      default:
        throw new Error(`unknown option '${a}' (see --help)`);
    }
  }
  return {
    smoke,
    sets: sets ?? ['small'],
    servers: servers ?? (smoke ? ['ours'] : ALL_SERVERS),
    workloads: workloads ?? (smoke ? ['get_rm', 'mixed'] : WORKLOADS.map((w) => w.id)),
    connections: connections ?? (smoke ? [8] : [1, 8, 32, 64]),
    seconds: seconds ?? (smoke ? 1 : 5),
    warmup: warmup ?? (smoke ? 0 : 1),
    floor,
    poolMax,
    report: report ?? (smoke ? undefined : path.join(ROOT, 'docs', 'benchmarks.md')),
    json,
    keepDb,
    adminUrl,
    cpuProf,
    oursEnv,
    oursRoot,
    render,
    altEnv,
    altRoot: altRoot ?? oursRoot,
    sharedDb,
  };
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f0 = (n: number) => n.toFixed(0);
const f2 = (n: number) => n.toFixed(2);

function ensureVenv(): string {
  const venv = path.resolve(ROOT, process.env.VENV ?? '.venv');
  if (!fs.existsSync(path.join(venv, 'bin', 'mlflow'))) {
    log(`no mlflow in ${venv}: running scripts/python-env.sh`);
    execFileSync('bash', [path.join(ROOT, 'scripts', 'python-env.sh')], {
      cwd: ROOT,
      env: { ...process.env, VENV: venv },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return venv;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

async function collectMeta(o: Options, venv: string | undefined): Promise<BenchMeta> {
  const cpuModel = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const client = new pg.Client({ connectionString: o.adminUrl });
  await client.connect();
  const pgVersion = (await client.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v.split(' on ')[0]!;
  const pgSettings = (
    await client.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN ('max_connections', 'shared_buffers', 'synchronous_commit', 'fsync', 'work_mem')`,
    )
  ).rows.map((r) => `${r.name}=${r.setting}${r.unit ? ` ${r.unit}` : ''}`);
  await client.end();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'packages/server/package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
  const dirty = sh('git', ['-C', ROOT, 'status', '--porcelain']);
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpuModel.trim(),
      cores: os.cpus().length,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      kernel: `${os.type()} ${os.release()}`,
      loadAvgAtStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    },
    versions: {
      server: pkg.version,
      commit: `${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'])}${dirty && dirty !== 'unknown' ? ' (with uncommitted changes)' : ''}`,
      node: process.version,
      hono: pkg.dependencies.hono ?? '?',
      pg: pkg.dependencies.pg ?? '?',
      postgres: pgVersion,
      wrk: wrkVersion(),
      mlflow: venv ? mlflowVersion(venv) : undefined,
      python: venv ? sh(path.join(venv, 'bin', 'python'), ['--version']).replace('Python ', '') : undefined,
    },
    settings: {
      sets: o.sets,
      servers: o.servers,
      workloads: o.workloads,
      connections: o.connections,
      seconds: o.seconds,
      warmup: o.warmup,
      wrkThreads: WRK_THREADS,
      poolMax: o.poolMax,
      oursEnv: o.oursEnv,
      noCacheEnv: NO_CACHE_ENV,
      start: startCommand(o.oursRoot),
      oursRoot: o.oursRoot === ROOT ? undefined : o.oursRoot,
      alt: o.servers.includes('ours-alt') ? { root: o.altRoot === ROOT ? undefined : o.altRoot, env: o.altEnv } : undefined,
      postgres: pgSettings,
      smoke: o.smoke,
    },
  };
}

interface Provisioned {
  set: DatasetSpec;
  /** The database of each of our configurations that runs. */
  ourDbs: Partial<Record<OurId, { name: string; url: string }>>;
  mlflowDb?: { name: string; url: string; sqlalchemy: string };
}

/** Every database provisioned for a set (kept with --keep-db, dropped otherwise). */
const databasesOf = (p: Provisioned): string[] => [...new Set([...Object.values(p.ourDbs), p.mlflowDb].flatMap((d) => (d ? [d.name] : [])))];

/**
 * A copy of the server's sources (and of the spec it serves) in the run's working directory, with the
 * installed node_modules linked in. Our server and the floor run from it, so that edits to the working
 * tree while a run is in progress (other people work in it too) cannot mix two versions in one report.
 */
async function snapshotServer(root: string, dest: string): Promise<string> {
  const server = path.join(dest, 'packages', 'server');
  fs.mkdirSync(server, { recursive: true });
  fs.cpSync(path.join(root, 'packages', 'server', 'src'), path.join(server, 'src'), {
    recursive: true,
    filter: (src) => !src.endsWith('.test.ts'),
  });
  for (const f of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(root, 'packages', 'server', f), path.join(server, f));
  fs.cpSync(path.join(root, 'openapi'), path.join(dest, 'openapi'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.base.json']) fs.copyFileSync(path.join(root, f), path.join(dest, f));
  fs.symlinkSync(path.join(root, 'packages', 'server', 'node_modules'), path.join(server, 'node_modules'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dest, 'node_modules'));
  await buildServer(dest); // the server runs as plain JavaScript, as `pnpm start` runs it
  return dest;
}

/**
 * Waits (at most a minute) until the machine has used under a quarter of a core for two half-second
 * intervals in a row, so that no cell starts while a server is still starting up.
 */
async function waitForQuietMachine(setName: string): Promise<void> {
  const t0 = Date.now();
  let quiet = 0;
  let last = machineCpu();
  let lastAt = Date.now();
  while (quiet < 2 && Date.now() - t0 < 60_000) {
    await sleep(500);
    const now = machineCpu();
    const at = Date.now();
    const cores = (now.busy - last.busy) / ((at - lastAt) / 1000);
    quiet = cores < 0.25 ? quiet + 1 : 0;
    last = now;
    lastAt = at;
  }
  log(`[${setName}] machine ${quiet >= 2 ? 'quiet' : 'still busy'} after ${((Date.now() - t0) / 1000).toFixed(1)} s; measuring`);
}

function dbName(set: string, who: string): string {
  const ts = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `bench_${set}_${who}_${ts}_${randomBytes(2).toString('hex')}`;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.render) {
    const results = JSON.parse(fs.readFileSync(o.render, 'utf8')) as RunResults;
    const reportPath = o.report ?? path.join(path.dirname(o.render), 'benchmarks.md');
    fs.writeFileSync(reportPath, renderReport(results, fs.readFileSync(path.join(here, 'notes.md'), 'utf8')));
    log(`report: ${reportPath}`);
    return;
  }
  if (o.sharedDb) {
    const writing = o.workloads.filter((id) => WORKLOADS.find((w) => w.id === id)?.kind !== 'read');
    if (writing.length > 0) throw new Error(`--shared-db is for read workloads only; these write: ${writing.join(', ')}`);
    if (!o.servers.includes('ours')) throw new Error("--shared-db shares ours's database: include 'ours' in --servers");
  }
  const version = wrkVersion(); // fails early with a clear message when wrk is missing
  const needsMlflow = o.servers.some((s) => s === 'mlflow' || s === 'mlflow-w2');
  const venv = needsMlflow ? ensureVenv() : undefined;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-registry-bench-'));
  log(`working directory ${workDir} (server logs, raw results); wrk ${version}`);
  const meta = await collectMeta(o, venv);
  const ourCode = new Map<string, string>();
  const snapshot = async (root: string) => {
    let dir = ourCode.get(root);
    if (!dir) {
      dir = await snapshotServer(root, path.join(workDir, `server-code-${ourCode.size}`));
      ourCode.set(root, dir);
    }
    return dir;
  };
  if (o.servers.includes('ours') || o.servers.includes('ours-nocache')) o.oursRoot = await snapshot(o.oursRoot);
  if (o.servers.includes('ours-alt')) o.altRoot = await snapshot(o.altRoot);

  const cells: CellResult[] = [];
  const summaries: ServerSummary[] = [];
  const provisioned: Provisioned[] = [];
  const running: RunningServer[] = [];
  let interrupted = false;

  const cleanup = async () => {
    for (const s of running.splice(0)) await s.stop().catch(() => {});
    if (o.keepDb) {
      for (const p of provisioned) log(`kept databases: ${databasesOf(p).join(', ')}`);
      return;
    }
    for (const p of provisioned.splice(0)) {
      for (const name of databasesOf(p)) await dropDatabase(o.adminUrl, name).catch(() => {});
    }
  };
  const onSignal = (sig: string) => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: stopping servers and dropping databases`);
    void cleanup().then(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const admin = new pg.Client({ connectionString: o.adminUrl });
  await admin.connect();
  const backends = (datname: string) => async () =>
    (
      await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
        [datname],
      )
    ).rows.map((r) => r.pid);

  const started = Date.now();
  try {
    for (const setName of o.sets) {
      const set = DATASETS[setName];
      const p: Provisioned = { set, ourDbs: {} };
      provisioned.push(p);

      // ---- provision ------------------------------------------------------------------------
      for (const id of OUR_IDS) {
        if (!o.servers.includes(id)) continue;
        if (o.sharedDb && id !== 'ours') {
          p.ourDbs[id] = p.ourDbs.ours; // one database, dropped once (databasesOf)
          continue;
        }
        const name = dbName(setName, id === 'ours' ? 'ours' : id.slice('ours-'.length));
        const db = { name, url: await createDatabase(o.adminUrl, name) };
        p.ourDbs[id] = db;
        log(`[${setName}] ${name}: our server applies its migrations`);
        const root = id === 'ours-alt' ? o.altRoot : o.oursRoot;
        const s = await startOurs({ root, databaseUrl: db.url, workDir, label: `${id}-${setName}-migrate` });
        await s.stop();
        const r = await loadDataset(db.url, set);
        log(`[${setName}] ${name}: loaded ${JSON.stringify(r.rows)} in ${f0(r.ms)} ms`);
      }
      if (needsMlflow) {
        const name = dbName(setName, 'mlflow');
        const url = await createDatabase(o.adminUrl, name);
        const u = new URL(url);
        u.protocol = 'postgresql+psycopg2:';
        p.mlflowDb = { name, url, sqlalchemy: u.toString() };
        log(`[${setName}] ${name}: mlflow db upgrade`);
        mlflowDbUpgrade(venv!, p.mlflowDb.sqlalchemy, path.join(workDir, `mlflow-${setName}-upgrade.log`));
        const r = await loadDataset(url, set);
        log(`[${setName}] ${name}: loaded ${JSON.stringify(r.rows)} in ${f0(r.ms)} ms`);
      }

      // ---- start the servers ------------------------------------------------------------------
      const servers = new Map<ServerId, RunningServer>();
      for (const id of o.servers) {
        log(`[${setName}] starting ${id}`);
        let s: RunningServer;
        if (isOurs(id)) {
          if (o.cpuProf) fs.mkdirSync(o.cpuProf, { recursive: true });
          s = await startOurs({
            root: id === 'ours-alt' ? o.altRoot : o.oursRoot,
            databaseUrl: p.ourDbs[id]!.url,
            workDir,
            label: `${id}-${setName}`,
            poolMax: o.poolMax,
            nodeFlags: o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(o.cpuProf, id)}`] : [],
            env: id === 'ours' ? o.oursEnv : id === 'ours-nocache' ? { ...o.oursEnv, ...NO_CACHE_ENV } : { ...o.oursEnv, ...o.altEnv },
          });
        } else {
          s = await startMlflow({
            venv: venv!,
            backendUri: p.mlflowDb!.sqlalchemy,
            workDir,
            label: `${id}-${setName}`,
            workers: id === 'mlflow-w2' ? 2 : undefined,
          });
        }
        servers.set(id, s);
        running.push(s);
        // MLflow's workers initialise their stores on their first requests: let every server reach its
        // steady state before anything is measured.
        if (o.warmup > 0) {
          await runWrk({ url: s.url, workload: 'mixed', connections: 8, seconds: Math.max(2, 2 * o.warmup), dataset: set, runTag: `s${randomBytes(3).toString('hex')}` });
        }
      }
      // MLflow's start-up (4 workers, its job runner and huey consumers) keeps both cores busy for a while
      // after it answers: measuring before it settles slowed the first cells of whichever server ran then.
      if (!o.smoke) await waitForQuietMachine(setName);
      const peak = new Map<ServerId, { rss: number; hwm: number; http: number }>();

      // ---- the matrix ---------------------------------------------------------------------------
      let cellNo = 0;
      let rowNo = 0;
      for (const wid of o.workloads) {
        const w = workloadById(wid);
        const warmed = new Set<ServerId>();
        for (const c of o.connections) {
          for (const [id, s] of rowOrder([...servers], rowNo++)) {
            if (interrupted) return;
            if (o.warmup > 0 && !warmed.has(id)) {
              warmed.add(id);
              await runWrk({ url: s.url, workload: wid, connections: Math.min(8, c), seconds: o.warmup, dataset: set, runTag: `w${cellNo}${randomBytes(2).toString('hex')}` });
            }
            const runTag = `${(cellNo++).toString(36)}${randomBytes(3).toString('hex')}`;
            const sampler = new TreeSampler(s.pid, () => s.httpRoot());
            const dbCpu = new DbCpuSampler(backends((isOurs(id) ? p.ourDbs[id] : p.mlflowDb)!.name));
            await dbCpu.begin();
            sampler.start();
            const r = await runWrk({ url: s.url, workload: wid, connections: c, seconds: o.seconds, dataset: set, runTag });
            const res = sampler.stop(r.requests);
            const dbSeconds = await dbCpu.end();
            if (r.requests > 0) res.dbCpuMsPerRequest = (dbSeconds * 1000) / r.requests;
            res.dbCores = dbSeconds / r.seconds;
            cells.push({ dataset: setName, workload: wid, server: id, connections: c, ...r, resources: res });
            const pk = peak.get(id) ?? { rss: 0, hwm: 0, http: 0 };
            peak.set(id, { rss: Math.max(pk.rss, res.peakRssMb), hwm: Math.max(pk.hwm, res.hwmMb), http: Math.max(pk.http, res.peakHttpRssMb ?? 0) });
            log(`[${setName}] ${wid.padEnd(13)} c=${String(c).padStart(2)} ${id.padEnd(9)} ${line(r, res)}`);
            // MLflow answers slow searches long after wrk has gone (on the large set, sequential scans of
            // 1,000,000 versions queued behind 64 connections), and its workers start the requests still
            // queued in them as earlier ones end: cancel what it runs until its database has been quiet for half
            // a second (at most a minute), or the next cell (the floor among them) would share the machine with it.
            if (!isOurs(id)) {
              let cancelled = 0;
              for (let quiet = 0, t0 = Date.now(); quiet < 3 && Date.now() - t0 < 60_000; ) {
                const n = (
                  await admin.query<{ n: number }>(
                    `SELECT count(pg_cancel_backend(pid))::int AS n FROM pg_stat_activity
                      WHERE datname = $1 AND backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()`,
                    [p.mlflowDb!.name],
                  )
                ).rows[0]!.n;
                cancelled += n;
                quiet = n === 0 ? quiet + 1 : 0;
                if (quiet < 3) await sleep(250);
              }
              if (cancelled > 0) log(`[${setName}] ${wid.padEnd(13)} c=${String(c).padStart(2)} ${id}: cancelled ${cancelled} queries still running after the cell`);
            } else {
              await sleep(o.smoke ? 100 : 500);
            }
          }
          if (o.floor && w.floor && p.ourDbs.ours) {
            const sampler = new TreeSampler(process.pid);
            sampler.start();
            const r = await runFloor({
              databaseUrl: p.ourDbs.ours.url,
              workload: wid,
              connections: c,
              seconds: o.seconds,
              dataset: set,
              poolMax: o.poolMax,
              warmupSeconds: o.smoke ? 0 : Math.min(1, o.warmup),
              root: o.oursRoot,
            });
            const res = sampler.stop();
            const fr: Partial<CellResources> = { machineCores: res.machineCores };
            if (r.clientCpuSeconds !== undefined && r.requests > 0) {
              fr.serverCores = r.clientCpuSeconds / r.seconds;
              fr.cpuMsPerRequest = (r.clientCpuSeconds * 1000) / r.requests;
            }
            if (r.dbCpuSeconds !== undefined && r.requests > 0) {
              fr.dbCores = r.dbCpuSeconds / r.seconds;
              fr.dbCpuMsPerRequest = (r.dbCpuSeconds * 1000) / r.requests;
            }
            cells.push({ dataset: setName, workload: wid, server: 'floor', connections: c, ...r, resources: fr });
            log(`[${setName}] ${wid.padEnd(13)} c=${String(c).padStart(2)} floor     ${line(r, fr)}`);
          }
        }
      }

      // ---- stop ---------------------------------------------------------------------------------
      for (const [id, s] of servers) {
        const pk = peak.get(id) ?? { rss: 0, hwm: 0, http: 0 };
        summaries.push({ dataset: setName, server: id, peakRssMb: pk.rss, hwmMb: pk.hwm, peakHttpRssMb: pk.http || undefined });
        await s.stop();
        running.splice(running.indexOf(s), 1);
      }
      if (!o.keepDb) {
        for (const name of databasesOf(p)) await dropDatabase(o.adminUrl, name);
        provisioned.splice(provisioned.indexOf(p), 1);
      }
    }
  } finally {
    if (!interrupted) await cleanup();
    await admin.end().catch(() => {});
  }

  const results: RunResults = { meta: { ...meta, totalSeconds: Math.round((Date.now() - started) / 1000) }, cells, summaries };
  const jsonPath = o.json ?? path.join(workDir, 'results.json');
  fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2));
  log(`raw results: ${jsonPath}`);
  const reportPath = o.report ?? path.join(workDir, 'benchmarks.md');
  fs.mkdirSync(path.dirname(reportPath), { recursive: true });
  fs.writeFileSync(reportPath, renderReport(results, fs.readFileSync(path.join(here, 'notes.md'), 'utf8')));
  log(`report: ${reportPath}`);
  if (o.cpuProf) log(`CPU profiles: ${o.cpuProf}`);

  // The smoke run gates on the harness working, never on numbers.
  // (MLflow may legitimately complete nothing in a short cell; that is a measurement, not a harness failure.)
  const broken = cells.filter((c) => isOurs(c.server as ServerId) && (c.requests === 0 || c.non2xx + c.socketErrors > 0));
  const brokenFloor = cells.filter((c) => c.server === 'floor' && (c.requests === 0 || c.non2xx > 0));
  if (broken.length + brokenFloor.length > 0) {
    for (const c of [...broken, ...brokenFloor]) {
      log(`FAILED: ${c.dataset} ${c.workload} c=${c.connections} ${c.server}: ${c.requests} requests, ${c.non2xx} HTTP errors, ${c.socketErrors} socket errors`);
    }
    process.exitCode = 1;
  }
}

function line(r: LoadResult, res?: Partial<CellResources>): string {
  let s = `${f0(r.rps).padStart(6)} req/s  p50 ${f2(r.latency.p50)} ms  p99 ${f2(r.latency.p99)} ms  errors ${r.non2xx + r.socketErrors}`;
  if (res?.cpuMsPerRequest !== undefined) s += `  cpu ${f2(res.serverCores ?? 0)} cores ${res.cpuMsPerRequest.toFixed(3)} ms/req`;
  if (res?.httpCpuMsPerRequest !== undefined) s += ` (http ${res.httpCpuMsPerRequest.toFixed(3)})`;
  if (res?.dbCpuMsPerRequest !== undefined) s += `  db ${f2(res.dbCores ?? 0)} cores ${res.dbCpuMsPerRequest.toFixed(3)} ms/req`;
  if (res?.peakRssMb !== undefined) s += `  rss ${f0(res.peakRssMb)} MB`;
  if (res?.machineCores !== undefined) s += `  box ${f2(res.machineCores)} cores`;
  return s;
}

main().catch((err) => {
  log(`failed: ${(err as Error).stack ?? err}`);
  process.exit(1);
});
