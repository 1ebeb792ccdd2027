/**
 * Helpers of the artifact suites: the store adapters as environment presets (local always; S3 when
 * S3_TEST_ENDPOINT names an S3-protocol server such as moto; PostgreSQL (ARTIFACTS_STORE=postgres) on
 * PGlite always and on PostgreSQL when TEST_DATABASE_URL is set), raw HTTP requests that keep the request
 * target byte for byte (fetch would normalise `..`), and file-tree / bucket snapshots to prove that
 * nothing outside the artifact root changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { S3Admin } from '../../packages/server/src/artifacts/s3-admin.js';
import type { Backend } from '../helpers/server.js';
import { recordResponse } from '../helpers/spec-responses.js';

export const S3_ENDPOINT = process.env.S3_TEST_ENDPOINT;
export const S3_SKIP_MESSAGE =
  'S3 artifact suites skipped: set S3_TEST_ENDPOINT to an S3-protocol server (e.g. `moto_server -p 5055` → S3_TEST_ENDPOINT=http://127.0.0.1:5055; CI starts one with scripts/ci/s3.sh)';

export const S3_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };

let admin: S3Admin | undefined;

/** Bucket administration on the test S3 server (one client per test file). */
export function s3Admin(): S3Admin {
  admin ??= new S3Admin({ endpoint: S3_ENDPOINT, accessKeyId: 'testing', secretAccessKey: 'testing' });
  return admin;
}

/** A fresh bucket on the test S3 server. */
export async function createBucket(): Promise<string> {
  const name = `art-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  await s3Admin().createBucket(name);
  return name;
}

export interface AdapterEnv {
  name: 'local' | 's3' | 'postgres';
  /** The metadata database the server runs on (the postgres store keeps the bytes there too). */
  backend: Backend;
  /** For test titles: the store, and the database when the store lives in it. */
  label: string;
  /** True when the suite cannot run here (no S3 server, no TEST_DATABASE_URL). */
  skip: boolean;
  /** Server environment for this adapter (a fresh bucket for S3). */
  env(extra?: Record<string, string>): Promise<Record<string, string>>;
}

export const S3_PREFIX = 'mlflow/artifacts';

const postgresEnv = async (extra: Record<string, string> = {}) => ({ ARTIFACTS_STORE: 'postgres', ...extra });

const s3Env = async (extra: Record<string, string> = {}) => {
  const bucket = await createBucket();
  return { S3_BUCKET: bucket, S3_PREFIX, S3_ENDPOINT_URL: S3_ENDPOINT!, ...S3_CREDENTIALS, ...extra };
};

export const ADAPTERS: AdapterEnv[] = [
  { name: 'local', backend: 'pglite', label: 'local', skip: false, env: async (extra = {}) => ({ ...extra }) },
  {
    name: 's3',
    backend: 'pglite',
    label: 's3',
    skip: !S3_ENDPOINT,
    env: s3Env,
  },
  { name: 'postgres', backend: 'pglite', label: 'postgres on PGlite', skip: false, env: postgresEnv },
  { name: 'postgres', backend: 'postgres', label: 'postgres on PostgreSQL', skip: !process.env.TEST_DATABASE_URL, env: postgresEnv },
];

/** The S3 store with the metadata in the same bucket (METADATA_STORE=s3, under registry-metadata/): for the contract and traversal suites. */
export const METADATA_S3_ADAPTER: AdapterEnv = { name: 's3', backend: 's3', label: 's3, metadata in S3 too', skip: !S3_ENDPOINT, env: s3Env };

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An HTTP request whose target is sent exactly as given (no URL normalisation, no re-encoding). */
export function rawRequest(base: string, method: string, target: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: target, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const r = { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
          recordResponse({ method, path: target, status: r.status, contentType: res.headers['content-type'] ?? '', text: r.body });
          resolve(r);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Every file under `dir` with its content hash-free size and mtime, for before/after comparisons. */
export function snapshotTree(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      const rel = path.relative(dir, abs);
      if (skip(rel)) continue;
      if (e.isDirectory()) {
        out[rel + '/'] = 'dir';
        walk(abs);
      } else {
        const st = fs.lstatSync(abs);
        out[rel] = `${st.size}:${st.mtimeMs}:${fs.readFileSync(abs).toString('base64')}`;
      }
    }
  };
  walk(dir);
  return out;
}
