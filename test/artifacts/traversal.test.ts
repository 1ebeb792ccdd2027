/**
 * Path traversal: every pattern from MLflow's artifact advisories (CVE-2023-1177, -2780/-2356, -30172,
 * -3765, -6909, CVE-2024-3848, -2928, CVE-2023-6831 → CVE-2024-1560, CVE-2026-2651), sent byte for byte
 * to every artifact route (download, upload, delete, the three multipart routes, presigned download)
 * under /api/2.0 and /ajax-api/2.0, and as the `path` of listings and multipart bodies. Each answers
 * 400 {"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid path"}; afterwards nothing outside the
 * artifact root was read (no response carries a secret), written or deleted (file tree / bucket
 * unchanged; the postgres store's rows unchanged). Runs on the local adapter, on S3 with S3_TEST_ENDPOINT, and on
 * the PostgreSQL store (PGlite; PostgreSQL with TEST_DATABASE_URL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADAPTERS, METADATA_S3_ADAPTER, rawRequest, S3_PREFIX, s3Admin, snapshotTree, type RawResponse } from './helpers.js';
import { errorBody } from '../../packages/server/src/errors.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const INVALID = errorBody('INVALID_PARAMETER_VALUE', 'Invalid path');

/** `{artifact_path}` values, exactly as they go on the wire. */
const PATH_PATTERNS = [
  // encoded `..` with encoded separators (the route sees one parameter)
  '..%2F..%2F..%2F..%2Fetc%2Fpasswd',
  '..%2f..%2fsecret.txt',
  '%2E%2E%2F%2E%2E%2Fsecret.txt',
  '%2e%2e%2f%2e%2e%2fsecret.txt',
  'run%2F..%2F..%2Fsecret.txt',
  'run/..%2F..%2Fsecret.txt',
  '..%2F',
  // double and triple encoding (CVE-2023-6831 → CVE-2024-1560: DELETE …/artifacts/%252E%252E…)
  '%252E%252E%252F%252E%252E%252Fsecret.txt',
  '%252E%252E',
  '%252e%252e%252fsecret.txt',
  '..%252F..%252Fsecret.txt',
  '%25252E%25252E%25252Fsecret.txt',
  'run%252F..%252F..%252Fsecret.txt',
  // absolute and drive paths (CVE-2023-3765: ?path=C:/)
  '%2Fetc%2Fpasswd',
  '%2F%2Fetc%2Fpasswd',
  'C:%2FWindows%2Fwin.ini',
  'C:',
  'c:secret.txt',
  'file:%2F%2F%2Fetc%2Fpasswd',
  'FILE:%2Fetc%2Fpasswd',
  // backslashes (CVE-2023-2780: \..\)
  '..%5C..%5Csecret.txt',
  'run%5C..%5C..%5Csecret.txt',
  '%5C%5Cserver%5Cshare%5Cx',
  // fragments and queries (CVE-2023-6909 / CVE-2024-3848 / CVE-2024-2928: /?/../ and #)
  'run%23%2F..%2F..%2Fsecret.txt',
  'x%23y',
  'run%3F%2F..%2F..%2Fsecret.txt',
  'x%3Fy',
  // NUL and control characters
  'secret.txt%00.png',
  '..%00%2Fsecret.txt',
  'a%7Fb',
  // malformed encodings (overlong UTF-8 dots, bad escapes)
  '%C0%AE%C0%AE%2Fsecret.txt',
  'a%E0%A4%A',
  'a%ZZb',
];

/**
 * Raw `..` segments. URL parsing resolves them before routing (RFC 3986 §5.2.4), so the HTTP edge checks the
 * raw request target first and answers 400 like MLflow, whether or not the resolved URL is still an
 * artifact route. The store is never reached.
 */
const RAW_DOT_IN_ROUTE = ['run/../secret.txt', 'run/%2e%2e/secret.txt', 'run/sub/.%2E/model/MLmodel', 'run/sub/%2E./model/MLmodel'];
const RAW_DOT_OUT_OF_API = [
  'run/../../../../../etc/passwd',
  '../../../secret.txt',
  '%2e%2e/%2e%2e/%2e%2e/secret.txt',
  '.%2e/.%2e/.%2e/.%2e/secret.txt',
];

/** Line terminators (encoded): routed like any other character, then refused by the path checks. */
const UNROUTABLE_PATTERNS = ['run%0A..%2F..%2Fsecret.txt', 'a%0Db', 'a%0A'];

/** `?path=` values (URL-encoded once in the query string, as clients send them). */
const LIST_PATTERNS = [
  '../../etc',
  '..',
  'run/../..',
  '/etc',
  '//etc',
  'C:/',
  'C:\\',
  'c:',
  '..\\..\\secret.txt',
  '\\\\server\\share',
  'run#/../..',
  'run?/../..',
  'run\u0000',
  'file:///etc',
  '%2E%2E%2F%2E%2E', // arrives once-decoded as %2E%2E%2F%2E%2E: double-encoded
  '%252E%252E',
];

/** `path` of multipart bodies: only the basename names the object; it must be a plain name. */
const MPU_BODY_PATTERNS = ['..', '/tmp/..', 'x/..', '.', '', 'a\u0000b', 'a#b', 'a?b', '%2E%2E', 'x/%252E%252E'];

const ROUTES: { method: string; route: string; body?: string }[] = [
  { method: 'GET', route: 'mlflow-artifacts/artifacts' },
  { method: 'PUT', route: 'mlflow-artifacts/artifacts', body: 'pwned' },
  { method: 'DELETE', route: 'mlflow-artifacts/artifacts' },
  { method: 'POST', route: 'mlflow-artifacts/mpu/create', body: JSON.stringify({ path: 'x.bin', num_parts: 1 }) },
  { method: 'POST', route: 'mlflow-artifacts/mpu/complete', body: JSON.stringify({ path: 'x.bin', upload_id: 'u', parts: [] }) },
  { method: 'POST', route: 'mlflow-artifacts/mpu/abort', body: JSON.stringify({ path: 'x.bin', upload_id: 'u' }) },
  { method: 'GET', route: 'mlflow-artifacts/presigned' },
];
const PREFIXES = ['/api/2.0', '/ajax-api/2.0'];

for (const adapter of [...ADAPTERS, METADATA_S3_ADAPTER]) {
  describe.skipIf(adapter.skip)(`artifact path traversal (${adapter.label})`, () => {
    let s: TestServer;
    let env: Record<string, string>;
    const secret = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
    let outside: string;
    let before: Record<string, string>;
    let beforeOutside: Record<string, string>;
    let beforeKeys: string[];
    let beforeRows: unknown[];
    /** The postgres store's file rows (path → blob), to prove that nothing was written or deleted there. */
    const rows = () => s.server.db.query('SELECT path, blob_id, size FROM mlflow_ts_artifacts ORDER BY path');
    const responses: RawResponse[] = [];

    const send = async (method: string, target: string, body?: string) => {
      const res = await rawRequest(s.url, method, target, body, body !== undefined && method === 'PUT' ? { 'content-type': 'text/plain' } : {});
      responses.push(res);
      return res;
    };
    const snapshot = () => snapshotTree(s.config.dataDir, (rel) => rel === 'db' || rel.startsWith(`db${path.sep}`));

    beforeAll(async () => {
      env = await adapter.env();
      outside = fs.mkdtempSync(path.join(os.tmpdir(), 'traversal-outside-'));
      fs.writeFileSync(path.join(outside, 'secret.txt'), secret);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'traversal-data-'));
      // Secrets beside the artifact root, including a sibling whose name extends the root's.
      fs.writeFileSync(path.join(dataDir, 'secret.txt'), secret);
      fs.mkdirSync(path.join(dataDir, 'artifacts-evil'));
      fs.writeFileSync(path.join(dataDir, 'artifacts-evil', 'secret.txt'), secret);
      s = await startTestServer(adapter.backend, env, { dataDir });
      // A legitimate tree inside the root.
      for (const p of ['run/model/MLmodel', 'run/sub/model/MLmodel', 'secret.txt.keep']) {
        expect((await s.fetch(`/api/2.0/mlflow-artifacts/artifacts/${p}`, { method: 'PUT', body: 'inside' })).status).toBe(200);
      }
      if (adapter.name === 's3') {
        const admin = s3Admin();
        for (const k of ['secret.txt', 'mlflow/secret.txt', `${S3_PREFIX}-evil/secret.txt`, 'etc/passwd']) await admin.put(env.S3_BUCKET!, k, secret);
        beforeKeys = await admin.listKeys(env.S3_BUCKET!);
      }
      if (adapter.name === 'postgres') beforeRows = await rows();
      before = snapshot();
      beforeOutside = snapshotTree(outside);
    });

    afterAll(async () => {
      await s?.close();
      fs.rmSync(outside, { recursive: true, force: true });
      if (s) fs.rmSync(s.config.dataDir, { recursive: true, force: true });
    });

    for (const prefix of PREFIXES) {
      for (const { method, route, body } of ROUTES) {
        it(`${method} ${prefix}/${route}/<pattern> answers 400 Invalid path for every encoded pattern`, async () => {
          const wrong = [];
          for (const pattern of PATH_PATTERNS) {
            const res = await send(method, `${prefix}/${route}/${pattern}`, body);
            const got = { pattern, status: res.status, body: JSON.parse(res.body) };
            if (JSON.stringify(got) !== JSON.stringify({ pattern, status: 400, body: INVALID })) wrong.push(got);
          }
          expect(wrong).toEqual([]);
        });

        it(`${method} ${prefix}/${route}/<line break> answers 400 Invalid path`, async () => {
          for (const pattern of UNROUTABLE_PATTERNS) {
            const res = await send(method, `${prefix}/${route}/${pattern}`, body);
            expect({ pattern, status: res.status, body: JSON.parse(res.body) }).toEqual({ pattern, status: 400, body: INVALID });
          }
        });

        it(`${method} ${prefix}/${route}/<raw ..> never reaches the store`, async () => {
          for (const pattern of RAW_DOT_IN_ROUTE) {
            const res = await send(method, `${prefix}/${route}/${pattern}`, body);
            expect({ pattern, status: res.status, body: JSON.parse(res.body) }).toEqual({ pattern, status: 400, body: INVALID });
          }
          for (const pattern of RAW_DOT_OUT_OF_API) {
            const res = await send(method, `${prefix}/${route}/${pattern}`, body);
            expect({ pattern, status: res.status, body: JSON.parse(res.body) }).toEqual({ pattern, status: 400, body: INVALID });
          }
        });
      }

      it(`GET ${prefix}/mlflow-artifacts/artifacts?path=<pattern> answers 400 Invalid path`, async () => {
        for (const pattern of LIST_PATTERNS) {
          const res = await send('GET', `${prefix}/mlflow-artifacts/artifacts?path=${encodeURIComponent(pattern)}`);
          expect({ pattern, status: res.status, body: JSON.parse(res.body) }).toEqual({ pattern, status: 400, body: INVALID });
        }
      });

      it(`POST ${prefix}/mlflow-artifacts/mpu/* with an unsafe body path answers 400 (local: after the path check, 501 never leaks a write)`, async () => {
        for (const op of ['create', 'complete', 'abort']) {
          for (const p of MPU_BODY_PATTERNS) {
            const res = await send('POST', `${prefix}/mlflow-artifacts/mpu/${op}/run`, JSON.stringify({ path: p, num_parts: 1, upload_id: 'u', parts: [] }));
            if (adapter.name !== 's3') {
              // MLflow order: path parameter, then the body schema, then 501 for a store without multipart.
              expect([400, 501], `${op} ${JSON.stringify(p)}`).toContain(res.status);
            } else {
              expect(res.status, `${op} ${JSON.stringify(p)}`).toBe(400);
            }
          }
        }
      });
    }

    if (adapter.name === 'local') {
      it('refuses symlinks that lead out of the root, for reads, writes, listings and deletes', async () => {
        const root = path.join(s.config.dataDir, 'artifacts');
        fs.symlinkSync(outside, path.join(root, 'link'));
        const outsideErr = errorBody('INVALID_PARAMETER_VALUE', 'Invalid path: resolved path is outside the artifact directory');
        for (const [method, target, body] of [
          ['GET', '/api/2.0/mlflow-artifacts/artifacts/link/secret.txt'],
          ['PUT', '/api/2.0/mlflow-artifacts/artifacts/link/new.txt', 'pwned'],
          ['PUT', '/api/2.0/mlflow-artifacts/artifacts/link/deep/new.txt', 'pwned'],
          ['DELETE', '/api/2.0/mlflow-artifacts/artifacts/link/secret.txt'],
          ['GET', '/api/2.0/mlflow-artifacts/artifacts?path=link'],
        ] as [string, string, string?][]) {
          const res = await send(method, target, body);
          expect({ target, method, status: res.status, body: JSON.parse(res.body) }).toEqual({ target, method, status: 400, body: outsideErr });
        }
        // Deleting the link itself removes the link, not what it points to.
        expect((await send('DELETE', '/api/2.0/mlflow-artifacts/artifacts/link')).status).toBe(200);
        expect(fs.existsSync(path.join(root, 'link'))).toBe(false);
        expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe(secret);
      });
    }

    it('read, wrote and deleted nothing outside the artifact root (and nothing inside either)', async () => {
      expect(responses.length).toBeGreaterThan(500);
      for (const r of responses) expect(r.body).not.toContain(secret);
      expect(snapshot()).toEqual(before);
      expect(snapshotTree(outside)).toEqual(beforeOutside);
      if (adapter.name === 's3') {
        const admin = s3Admin();
        expect(await admin.listKeys(env.S3_BUCKET!)).toEqual(beforeKeys);
        for (const k of ['secret.txt', 'mlflow/secret.txt', `${S3_PREFIX}-evil/secret.txt`, 'etc/passwd']) {
          expect((await admin.get(env.S3_BUCKET!, k)).toString()).toBe(secret);
        }
      }
      if (adapter.name === 'postgres') {
        expect(beforeRows).toHaveLength(3);
        expect(await rows()).toEqual(beforeRows);
      }
      // The legitimate tree still reads back.
      expect(await (await s.fetch('/api/2.0/mlflow-artifacts/artifacts/run/model/MLmodel')).text()).toBe('inside');
    });
  });
}
