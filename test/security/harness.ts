/**
 * Helpers for the security suites: raw HTTP requests (any Host header, which fetch refuses to set) and
 * a real `mlflow server` from the venv to compare against.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { createTestDatabase } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';

export { VENV, MLFLOW_BIN, freePort, type MlflowServer } from '../helpers/mlflow-server.js';
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
  // One worker (the helper's): the middleware is the same in each, and the machine is shared.
  return startMlflowServer({ args: ['--backend-store-uri', backendUri], env, envWithout: SECURITY_VARS, startTimeoutMs, scratch });
}
