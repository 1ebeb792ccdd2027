/**
 * Runs `mlflow-registry` as a real process, through its bin (packages/server/bin/mlflow-registry.js, what
 * `pnpm exec mlflow-registry` runs), in its own process group. The process gets only the environment
 * given (plus PATH, HOME, TMPDIR), so a test states every setting it depends on.
 */
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'packages/server/bin/mlflow-registry.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  proc: ChildProcess;
  stdout: string[];
  stderr: string[];
  result: Promise<CliResult>;
  /** Ends the whole process group (idempotent). */
  kill(signal?: NodeJS.Signals): void;
}

export function spawnCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): CliProcess {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    TMPDIR: os.tmpdir(),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...opts.env,
  };
  const proc = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  proc.stdout!.on('data', (c: Buffer) => stdout.push(c.toString()));
  proc.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
  proc.stdin!.end(opts.input ?? '');
  const result = new Promise<CliResult>((resolve) =>
    proc.on('close', (code, signal) => resolve({ code, signal, stdout: stdout.join(''), stderr: stderr.join('') })),
  );
  let gone = false;
  void result.then(() => (gone = true));
  return {
    proc,
    stdout,
    stderr,
    result,
    kill(signal = 'SIGKILL') {
      if (gone || proc.pid === undefined) return;
      try {
        process.kill(-proc.pid, signal);
      } catch {
        /* already gone */
      }
    },
  };
}

/** Runs the CLI to its end (killed after `timeoutMs`). */
export async function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = spawnCli(args, opts);
  const timer = setTimeout(() => p.kill(), opts.timeoutMs ?? 120_000);
  try {
    return await p.result;
  } finally {
    clearTimeout(timer);
  }
}
