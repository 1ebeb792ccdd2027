/**
 * Helpers for the security suites: raw HTTP requests (any Host header, which fetch refuses to set) and
 * a real `mlflow server` from the venv to compare against.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { createTestDatabase } from '../helpers/server.js';

export const VENV = process.env.VENV ?? '/root/.cache/mlflow-registry-ts/venv';
export const MLFLOW_BIN = path.join(VENV, 'bin', 'mlflow');
export const haveMlflow = fs.existsSync(MLFLOW_BIN);
/** The MLflow side is skipped only on a machine without the venv, never in CI. */
export const skipMlflow = !haveMlflow && process.env.CI !== 'true';
if (skipMlflow) console.warn(`[test/security] MLflow side skipped: no ${MLFLOW_BIN} (set VENV)`);

export interface RawResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ', ' (as node does). */
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  path: string;
  /** Host header; undefined: `127.0.0.1:<port>`. */
  host?: string;
  headers?: Record<string, string>;
  /** JSON body, sent with Content-Length and Content-Type. */
  json?: unknown;
}

/** One request on its own connection, with exactly the Host header given. */
export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const u = new URL(baseUrl);
  const body = r.json === undefined ? undefined : Buffer.from(JSON.stringify(r.json));
  const headers: Record<string, string> = {
    Host: r.host ?? u.host,
    Connection: 'close',
    ...(body ? { 'Content-Type': 'application/json', 'Content-Length': String(body.length) } : {}),
    ...r.headers,
  };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: Number(u.port), method: r.method, path: r.path, headers, setHost: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode!, headers: h, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

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
  output: string[];
  stop(): Promise<void>;
}

const SECURITY_VARS = [
  'MLFLOW_SERVER_ALLOWED_HOSTS',
  'MLFLOW_SERVER_CORS_ALLOWED_ORIGINS',
  'MLFLOW_SERVER_X_FRAME_OPTIONS',
  'MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE',
];

/**
 * Starts `mlflow server` (uvicorn, its default) on a fresh database: one from createTestDatabase when
 * TEST_DATABASE_URL is set, else SQLite in the run's scratch directory. `env` holds the security
 * variables (others of the parent's are removed, so each server sees exactly its own).
 */
export async function startMlflow(env: Record<string, string>, startTimeoutMs = 120_000): Promise<MlflowServer> {
  let backendUri: string;
  let scratch: string | undefined;
  if (process.env.TEST_DATABASE_URL) {
    backendUri = (await createTestDatabase()).replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');
  } else {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-sec-'));
    backendUri = `sqlite:///${path.join(scratch, 'mlflow.db')}`;
  }
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SECURITY_VARS.includes(k)) childEnv[k] = v;
  Object.assign(childEnv, { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', PYTHONUNBUFFERED: '1' }, env);
  // One worker: the middleware is the same in each, and the machine is shared.
  const proc: ChildProcess = spawn(
    MLFLOW_BIN,
    ['server', '--backend-store-uri', backendUri, '--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
    { detached: true, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  proc.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  let exited = false;
  const exit = new Promise<void>((r) => proc.on('exit', () => ((exited = true), r())));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (!exited) {
      try {
        process.kill(-proc.pid!, 'SIGTERM');
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
    try {
      const res = await rawRequest(url, { method: 'GET', path: '/health' });
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mlflow server did not start within ${startTimeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { url, output, stop };
}
