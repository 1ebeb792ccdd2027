/**
 * Starting and stopping the servers under test, each in its own process group (so the harness
 * stops exactly the processes it started): ours with `node packages/server/dist/main.js` (built by scripts/build.ts)
 * on PostgreSQL, and `mlflow server` from the virtualenv on a SQL backend.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { processTree } from './procstat.js';

/**
 * How `pnpm start` in that checkout's package.json runs the server (its environment assignments and
 * node flags), so the benchmark runs the server as it is started.
 */
export function startCommand(root: string): { env: Record<string, string>; flags: string[] } {
  const start = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const m = /((?:[A-Z_]+=\S+ )*)node ((?:--[\w-]+(?:=\S+)? )*)packages\/server\/dist\/main\.js/.exec(start);
  const words = (s: string | undefined) => (s ?? '').trim().split(' ').filter(Boolean);
  const env = Object.fromEntries(words(m?.[1]).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
  return { env, flags: words(m?.[2]) };
}

/** The environment of the "ours, read cache off" configuration (README, "Read cache"). */
export const NO_CACHE_ENV: Record<string, string> = { READ_CACHE_MB: '0' };

export interface RunningServer {
  label: string;
  url: string;
  pid: number;
  /** Root of the HTTP-serving subtree when it is not the whole tree (MLflow's uvicorn master). */
  httpRoot(): number | undefined;
  logFile: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(`server exited (code ${exited}) before it was healthy; log ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** SIGTERM to the process group, then SIGKILL to whatever of the tree is left after `graceMs`. */
async function stopGroup(child: ChildProcess, graceMs = 15_000): Promise<void> {
  const pid = child.pid!;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const tree = processTree(pid);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  // Children that outlive the parent (MLflow's job runner) get the same treatment, by pid.
  const deadline = Date.now() + graceMs;
  for (;;) {
    const alive = tree.filter((p) => {
      try {
        process.kill(p, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (alive.length === 0) return;
    if (Date.now() > deadline) {
      for (const p of alive) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface OursOptions {
  root: string;
  databaseUrl: string;
  workDir: string;
  label?: string;
  poolMax?: number;
  logLevel?: string;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof']. */
  nodeFlags?: string[];
  env?: Record<string, string>;
}

export async function startOurs(o: OursOptions): Promise<RunningServer> {
  const port = await freePort();
  const label = o.label ?? 'ours';
  const logFile = path.join(o.workDir, `${label}.log`);
  const out = fs.openSync(logFile, 'a');
  const dataDir = path.join(o.workDir, `${label}-data`);
  const start = startCommand(o.root);
  const child = spawn(process.execPath, [...start.flags, ...(o.nodeFlags ?? []), 'packages/server/dist/main.js'], {
    cwd: o.root,
    env: {
      ...process.env,
      ...start.env,
      DATABASE_URL: o.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: o.logLevel ?? 'warn',
      DATA_DIR: dataDir,
      ...(o.poolMax ? { DB_POOL_MAX: String(o.poolMax) } : {}),
      ...o.env,
    },
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const server: RunningServer = {
    label,
    url,
    pid: child.pid!,
    httpRoot: () => undefined,
    logFile,
    stop: () => stopGroup(child),
  };
  try {
    await waitHealthy(url, child, logFile, 60_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

export interface MlflowOptions {
  venv: string;
  /** SQLAlchemy URL (postgresql+psycopg2://…). */
  backendUri: string;
  workDir: string;
  label: string;
  /** undefined: MLflow's default (4 uvicorn workers). */
  workers?: number;
}

export function mlflowVersion(venv: string): string {
  return execFileSync(path.join(venv, 'bin', 'python'), ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim();
}

export function mlflowDbUpgrade(venv: string, backendUri: string, logFile: string): void {
  const out = fs.openSync(logFile, 'a');
  try {
    execFileSync(path.join(venv, 'bin', 'mlflow'), ['db', 'upgrade', backendUri], { stdio: ['ignore', out, out] });
  } catch {
    throw new Error(`mlflow db upgrade failed; log ${logFile}:\n${tail(logFile)}`);
  } finally {
    fs.closeSync(out);
  }
}

export async function startMlflow(o: MlflowOptions): Promise<RunningServer> {
  const port = await freePort();
  const logFile = path.join(o.workDir, `${o.label}.log`);
  const cwd = path.join(o.workDir, `${o.label}-cwd`); // ./mlartifacts lands here
  fs.mkdirSync(cwd, { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const args = ['server', '--backend-store-uri', o.backendUri, '--host', '127.0.0.1', '--port', String(port)];
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  const child = spawn(path.join(o.venv, 'bin', 'mlflow'), args, {
    cwd,
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', out, out],
    detached: true,
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const server: RunningServer = {
    label: o.label,
    url,
    pid: child.pid!,
    httpRoot: () => {
      for (const pid of processTree(child.pid!)) {
        try {
          const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
          if (/uvicorn|gunicorn|waitress/.test(cmd)) return pid;
        } catch {
          /* gone */
        }
      }
      return undefined;
    },
    logFile,
    stop: () => stopGroup(child),
  };
  try {
    await waitHealthy(url, child, logFile, 180_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
