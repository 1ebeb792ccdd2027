/**
 * Test harness: starts the real server in-process on an ephemeral port, on PGlite (always) or on
 * a fresh database of the PostgreSQL server named by TEST_DATABASE_URL (when set). Requests go over
 * real HTTP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../packages/server/src/config.js';
import { createLogger } from '../../packages/server/src/log.js';
import { createServer, type Server } from '../../packages/server/src/server.js';
import { listen } from '../../packages/server/src/http/listen.js';
import { recordFetchResponse } from './spec-responses.js';

/** Where a test server keeps its metadata: the embedded engine, PostgreSQL, or S3 (METADATA_STORE=s3). */
export type Backend = DatabaseBackend | 's3';
export type DatabaseBackend = 'pglite' | 'postgres';

/** Backends to run database suites on: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function backends(): DatabaseBackend[] {
  return process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/**
 * Backends of the suites that also run with the metadata in S3: backends(), plus `s3` when
 * S3_TEST_ENDPOINT names an S3-protocol server (CI starts moto; scripts/ci/s3.sh).
 */
export function backendsWithS3(): Backend[] {
  return process.env.S3_TEST_ENDPOINT ? [...backends(), 's3'] : backends();
}

export type S3MetadataBucket = Awaited<ReturnType<typeof s3MetadataEnv>>;

/** The webhook secrets' key of test servers with METADATA_STORE=s3 (which needs one); made per run. */
export const TEST_FERNET_KEY = randomBytes(32).toString('base64url') + '=';

/** A bucket that several test servers share with METADATA_STORE=s3 (replicas); `cleanup` empties it. */
export const sharedS3MetadataBucket = (): Promise<S3MetadataBucket> => s3MetadataEnv();

/** A fresh bucket for a server with METADATA_STORE=s3, and the environment that points it there (artifacts too). */
async function s3MetadataEnv(): Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }> {
  const endpoint = process.env.S3_TEST_ENDPOINT;
  if (!endpoint) throw new Error('S3_TEST_ENDPOINT is not set');
  const { S3Admin } = await import('../../packages/server/src/artifacts/s3-admin.js');
  const admin = new S3Admin({ endpoint, accessKeyId: 'testing', secretAccessKey: 'testing' });
  const bucket = `meta-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await admin.createBucket(bucket);
  return {
    env: {
      METADATA_STORE: 's3',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: TEST_FERNET_KEY,
      S3_BUCKET: bucket,
      S3_PREFIX: 'artifacts',
      S3_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    },
    cleanup: async () => {
      await admin.empty(bucket).catch(() => {});
      admin.close();
    },
  };
}

/**
 * Creates an empty database on the TEST_DATABASE_URL server and returns its URL. Its name carries
 * the run's id, so the run's teardown (global-setup.ts) drops it.
 */
export async function createTestDatabase(): Promise<string> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error('TEST_DATABASE_URL is not set');
  const runId = process.env.TEST_RUN_ID;
  if (!runId) throw new Error('TEST_RUN_ID is not set: run the tests with vitest, whose global setup sets it');
  const name = `t_${runId}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestServer {
  url: string;
  backend: Backend;
  server: Server;
  config: Config;
  /** fetch relative to the server. */
  fetch(p: string, init?: RequestInit): Promise<Response>;
  /** JSON request helper: returns status and parsed body. */
  call(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
  opts: {
    databaseUrl?: string;
    dataDir?: string;
    /** Backend s3: the bucket to share with other servers (the caller cleans it up); else a fresh one. */
    s3?: Promise<S3MetadataBucket> | S3MetadataBucket;
  } = {},
): Promise<TestServer> {
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ts-test-'));
  const databaseUrl = backend === 'postgres' ? (opts.databaseUrl ?? (await createTestDatabase())) : undefined;
  // Backend s3 with S3_BUCKET in `env`: the metadata goes to that bucket too (the caller's, who cleans it up).
  const callersBucket = env.S3_BUCKET ? { env: { METADATA_STORE: 's3', MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: TEST_FERNET_KEY }, cleanup: async () => {} } : undefined;
  const s3 = backend === 's3' ? await (opts.s3 ?? callersBucket ?? s3MetadataEnv()) : undefined;
  const config = loadConfig({ LOG_LEVEL: 'warn', ...s3?.env, ...env, DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) });
  const server = await createServer(config, createLogger(config.logLevel));
  // The listener main.ts uses, so that socket-level limits and timeouts are those of production.
  const { server: http, port } = await listen(server.app, { port: 0, host: '127.0.0.1', limits: config.limits });
  const url = `http://127.0.0.1:${port}`;
  // Every response is checked against the spec when the suite validates responses (spec-responses.ts).
  const f = async (p: string, init?: RequestInit) => {
    const res = await fetch(url + p, init);
    await recordFetchResponse(init?.method ?? 'GET', p, res);
    return res;
  };
  return {
    url,
    backend,
    server,
    config,
    fetch: f,
    async call(method, p, body) {
      const init: RequestInit = { method };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        init.headers = { 'content-type': 'application/json' };
      }
      return statusAndBody(await f(p, init));
    },
    async close() {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await server.close();
      // A data directory the caller passed in may be reopened; one made here is this server's alone.
      if (ownDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (!opts.s3) await s3?.cleanup();
    },
  };
}

/** A response's status and body: parsed JSON, or the text when it is not JSON. */
export async function statusAndBody(res: Response): Promise<{ status: number; body: any }> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}
