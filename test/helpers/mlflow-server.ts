/**
 * A real `mlflow server` from the Python venv, for the side-by-side suites: spawned detached (its own
 * process group) with its output collected, ready when GET /health answers, stopped as a group
 * (SIGTERM, then SIGKILL after 10 s) with its scratch directory removed. What differs per suite (the
 * backend store, basic-auth's ini file, the databases, the skip rules) stays in the suite.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const VENV = process.env.VENV ?? '/root/.cache/mlflow-registry-ts/venv';
export const MLFLOW_BIN = path.join(VENV, 'bin', 'mlflow');

/** A port free on 127.0.0.1 now (the OS's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface MlflowServer {
  url: string;
  /** Everything the server wrote to stdout and stderr, in order. */
  output: string[];
  /** Stops the process group (idempotent) and removes `scratch`. */
  stop(): Promise<void>;
}

export interface MlflowServerOptions {
  /** Arguments after `server` (backend store, --app-name, --serve-artifacts …); host, port and one worker are added. */
  args: string[];
  /** Set over the parent's environment (and over MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false, PYTHONUNBUFFERED=1). */
  env?: Record<string, string>;
  /** The parent's variables not to pass on. */
  envWithout?: string[];
  /** The mlflow executable; default MLFLOW_BIN. */
  bin?: string;
  cwd?: string;
  startTimeoutMs?: number;
  /** A directory removed on stop (also when the start fails). */
  scratch?: string;
}

/** GET /health on its own connection: true on a 2xx answer. */
function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode! >= 200 && res.statusCode! < 300));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
  });
}

/** Starts `mlflow server` on a free port and waits until it answers GET /health; throws with its output if it exits or does not start in time. */
export async function startMlflowServer(opts: MlflowServerOptions): Promise<MlflowServer> {
  const { args, env = {}, envWithout = [], bin = MLFLOW_BIN, cwd, startTimeoutMs = 120_000, scratch } = opts;
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !envWithout.includes(k)) childEnv[k] = v;
  Object.assign(childEnv, { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', PYTHONUNBUFFERED: '1' }, env);
  // One worker: the machine is shared, and the suites need no more.
  const proc: ChildProcess = spawn(bin, ['server', ...args, '--host', '127.0.0.1', '--port', String(port), '--workers', '1'], {
    detached: true,
    cwd,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  let exited = false;
  const exit = new Promise<void>((r) => proc.on('exit', () => ((exited = true), r())));
  // A failed spawn (no such executable) emits 'error' and no 'exit'.
  proc.on('error', (e) => {
    output.push(String(e));
    exited = true;
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited && proc.pid !== undefined) {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, 10_000);
      await exit;
      clearTimeout(timer);
    }
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`mlflow server exited during start:\n${output.join('')}`);
    }
    if (await healthy(url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mlflow server did not start within ${startTimeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, output, stop };
}
