/**
 * Starts the server as a real process (`node --import tsx packages/server/src/main.ts`, the same entry
 * point as production) for tests of what only a process shows: signals, crashes, memory, sockets.
 * PORT=0 picks a free port; the URL is read from the 'listening' log line. The process gets only the
 * environment given here (plus PATH, HOME and TMPDIR), so a test states every setting it depends on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { specFetch } from './spec-responses.js';

const root = path.resolve(import.meta.dirname, '../..');

export interface ServerProcess {
  url: string;
  proc: ChildProcess;
  pid: number;
  /** Every line the process wrote (stdout and stderr), in order. */
  output: string[];
  /** Resolves with the exit code (null when ended by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** JSON request helper: status and parsed body (the text when it is not JSON). */
  call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Resident set size in MB, from /proc. */
  rssMb(): number;
  /** Sends the signal (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Environment of the process (PORT, HOST and LOG_LEVEL have defaults: 0, 127.0.0.1, info). */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--max-semi-space-size=4']. */
  nodeArgs?: string[];
  /** How long to wait for 'listening' (default 60 s: a busy 2-core machine starts slowly). */
  startTimeoutMs?: number;
}

/** A scratch data directory under the run's TMPDIR; the caller removes it (see removeDir). */
export function scratchDir(prefix = 'mlflow-ts-proc-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export async function startServerProcess(opts: StartOptions = {}): Promise<ServerProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TMPDIR: os.tmpdir(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  // The URL comes from the info-level 'listening' line.
  if (!['debug', 'info'].includes(env.LOG_LEVEL!)) throw new Error('startServerProcess needs LOG_LEVEL info or debug');
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'packages/server/src/main.ts'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.on('exit', (code, signal) => r({ code, signal })),
  );
  const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
    let buf = '';
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A process that did not start is not left running behind the failed test.
      proc.kill('SIGKILL');
      reject(new Error(`server did not start:\n${output.join('\n')}`));
    }, opts.startTimeoutMs ?? 60_000);
    lines(proc.stderr!, (line) => output.push(line));
    lines(proc.stdout!, (line) => {
      output.push(line);
      try {
        const j = JSON.parse(line) as { msg?: string; url?: string };
        if (j.msg === 'listening' && j.url) {
          clearTimeout(timer);
          resolve(j.url);
        }
      } catch {
        /* not a log line */
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${output.join('\n')}`));
    });
  });
  return {
    url,
    proc,
    pid: proc.pid!,
    output,
    exited,
    async call(method, p, body) {
      const res = await specFetch(url, p, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        /* not JSON */
      }
      return { status: res.status, body: parsed };
    },
    rssMb() {
      const status = fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
