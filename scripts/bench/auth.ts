/**
 * What authentication costs a read (docs/benchmarks-auth.md): get-registered-model throughput, uniform
 * random over the small dataset's 1,000 models, with AUTH off, as an admin, and as a non-admin holding a
 * READ grant on each model (default_permission NO_PERMISSIONS), on the working tree; and the non-admin on
 * a git revision without the permission-decision cache ("before"). All servers stay up (warm credential,
 * read and decision caches); cells alternate configuration by configuration, round after round, so that
 * the shared machine's load falls on all of them alike. Only ratios between cells of one run mean anything.
 *
 *   tsx scripts/bench/auth.ts [--before <git rev>] [--after <git rev>] [--rounds 3] [--seconds 8] [--connections 32] [--cpu-prof DIR]
 *
 * --after measures a revision instead of the working tree (whose other uncommitted edits may be half done).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, loadDataset, DATASETS, modelName } from './dataset.js';
import { startOurs, type RunningServer } from './servers.js';
import { snapshotAt, snapshotOfWorkingTree } from './snapshot.js';
import { arg, sideBySideArgs } from './side-by-side-args.js';

const { before, rounds, seconds, connections, adminUrl } = sideBySideArgs(3);
const after = arg('after', '');
/** Profile each measured server (node --cpu-prof, written to DIR/<cell> when it stops; profile-summary.ts reads them). */
const cpuProf = arg('cpu-prof', '');
import { processTree, sampleTree } from './procstat.js';

const dataset = DATASETS.small;
const here = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_PW = 'bench-admin-password';
const READER_PW = 'bench-reader-password';
const AUTH_ENV = { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' };
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);

interface Cell {
  id: string;
  server: RunningServer;
  authorization?: string;
}

/**
 * The server's user-mode CPU seconds (its process tree, /proc/<pid>/stat utime). Reported beside utime +
 * stime: on a loaded machine the kernel's share (mostly loopback socket writes to PostgreSQL and to wrk)
 * swings with the other load by several times from one cell to the next, while user time is our code.
 */
function userSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      ticks += Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[11]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100; // USER_HZ
}

/** wrk, one thread, the get_rm workload of wrk.lua, with an Authorization header; requests per second. */
function wrk(url: string, authorization: string | undefined, secs: number): Promise<{ rps: number; non2xx: number; p50: number; p99: number }> {
  const args = ['-t1', `-c${connections}`, `-d${secs}s`, '--timeout', '10s', '-s', path.join(here, 'wrk.lua')];
  if (authorization) args.push('-H', `Authorization: ${authorization}`);
  args.push(url, '--', 'get_rm', String(dataset.models), String(dataset.versionsPerModel), String(dataset.teams), 'auth');
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (code !== 0 || !line) return reject(new Error(`wrk exited with ${code}: ${out}`));
      const j = JSON.parse(line.slice('BENCH_JSON '.length)) as { requests: number; duration_us: number; errors: { status: number }; latency_us: { p50: number; p99: number } };
      resolve({ rps: j.requests / (j.duration_us / 1e6), non2xx: j.errors.status, p50: j.latency_us.p50 / 1000, p99: j.latency_us.p99 / 1000 });
    });
  });
}

async function call(url: string, method: string, p: string, body: unknown, authorization: string): Promise<void> {
  const res = await fetch(url + p, { method, headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-auth-'));
  const dbs: string[] = [];
  const servers: RunningServer[] = [];
  try {
    log(`building "${before}" and the working tree in ${workDir}`);
    const beforeRoot = await snapshotAt(before, path.join(workDir, 'before'));
    const afterRoot = after ? await snapshotAt(after, path.join(workDir, 'after')) : await snapshotOfWorkingTree(path.join(workDir, 'after'));
    // One database per build (each migrates its own): the dataset, the reader and its READ grants.
    const provision = async (id: string, root: string) => {
      const name = `bench_auth_${id}_${randomBytes(3).toString('hex')}`;
      dbs.push(name);
      const url = await createDatabase(adminUrl, name);
      const s = await startOurs({ root, databaseUrl: url, workDir, label: `${id}-migrate`, env: AUTH_ENV });
      await s.stop();
      await loadDataset(url, dataset);
      const admin = await startOurs({ root, databaseUrl: url, workDir, label: `${id}-grants`, env: AUTH_ENV });
      try {
        const a = basic('admin', ADMIN_PW);
        await call(admin.url, 'POST', '/api/2.0/mlflow/users/create', { username: 'reader', password: READER_PW }, a);
        for (let i = 1; i <= dataset.models; i++) {
          await call(admin.url, 'POST', '/api/3.0/mlflow/users/permissions/grant', { username: 'reader', resource_type: 'registered_model', resource_id: modelName(i), permission: 'READ' }, a);
        }
      } finally {
        await admin.stop();
      }
      return url;
    };
    const beforeDb = await provision('before', beforeRoot);
    const afterDb = await provision('after', afterRoot);
    const start = async (id: string, root: string, db: string, env: Record<string, string>) => {
      const nodeFlags = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(cpuProf, id)}`] : [];
      const s = await startOurs({ root, databaseUrl: db, workDir, label: id, env, nodeFlags });
      servers.push(s);
      return s;
    };
    const cells: Cell[] = [
      { id: 'auth off', server: await start('off', afterRoot, afterDb, { AUTH: 'none' }) },
      { id: 'admin', server: await start('admin', afterRoot, afterDb, AUTH_ENV), authorization: basic('admin', ADMIN_PW) },
      { id: 'non-admin READ', server: await start('reader', afterRoot, afterDb, AUTH_ENV), authorization: basic('reader', READER_PW) },
      { id: `non-admin READ (${before})`, server: await start('reader-before', beforeRoot, beforeDb, AUTH_ENV), authorization: basic('reader', READER_PW) },
    ];
    // Warm every cache of every server (credentials, read cache, decisions).
    for (const c of cells) await wrk(c.server.url, c.authorization, 3);
    const results = new Map<string, number[]>(cells.map((c) => [c.id, []]));
    // Server CPU per request (the server's process tree): steadier than throughput on a shared machine.
    const cpu = new Map<string, number[]>(cells.map((c) => [c.id, []]));
    const user = new Map<string, number[]>(cells.map((c) => [c.id, []]));
    for (let r = 0; r < rounds; r++) {
      for (const c of cells) {
        const before = sampleTree(processTree(c.server.pid)).cpuSeconds;
        const userBefore = userSeconds(processTree(c.server.pid));
        const res = await wrk(c.server.url, c.authorization, seconds);
        const used = sampleTree(processTree(c.server.pid)).cpuSeconds - before;
        user.get(c.id)!.push(((userSeconds(processTree(c.server.pid)) - userBefore) / (res.rps * seconds)) * 1e6);
        if (res.non2xx > 0) throw new Error(`${c.id}: ${res.non2xx} answers were not 2xx`);
        results.get(c.id)!.push(res.rps);
        cpu.get(c.id)!.push((used / (res.rps * seconds)) * 1e6);
        log(`round ${r + 1} ${c.id}: ${res.rps.toFixed(0)} req/s (p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms), ${cpu.get(c.id)!.at(-1)!.toFixed(0)} µs CPU/request (${user.get(c.id)!.at(-1)!.toFixed(0)} user)`);
      }
    }
    const off = results.get('auth off')!;
    const offCpu = cpu.get('auth off')!;
    const offUser = user.get('auth off')!;
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `| configuration | req/s per round | throughput ratio to auth off (per round) | median | server CPU µs/request (median) | CPU ratio to auth off (median) | user CPU µs/request (median) | user CPU ratio to auth off (per round) | median |\n|---|---|---|---|---|---|---|---|---|`,
    );
    for (const [id, rps] of results) {
      const ratios = rps.map((x, i) => x / off[i]!);
      const c = cpu.get(id)!;
      const u = user.get(id)!;
      const userRatios = u.map((x, i) => x / offUser[i]!);
      console.log(
        `| ${id} | ${rps.map((x) => x.toFixed(0)).join(', ')} | ${ratios.map((x) => x.toFixed(2)).join(', ')} | ${median(ratios).toFixed(2)} | ${median(c).toFixed(0)} | ${median(c.map((x, i) => x / offCpu[i]!)).toFixed(2)} | ${median(u).toFixed(0)} | ${userRatios.map((x) => x.toFixed(2)).join(', ')} | ${median(userRatios).toFixed(2)} |`,
      );
    }
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    for (const d of dbs) await dropDatabase(adminUrl, d).catch(() => {});
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
