/**
 * Direct transfers (our extension, /api/2.0/mlflow-ts/artifacts/…): the server signs, the bytes go
 * straight between the client and S3. Round trips against a real S3-protocol server (S3_TEST_ENDPOINT):
 * single-PUT and multipart uploads, downloads with Range, abort, path checks, limits, and the switch.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ConfigError, loadConfig } from '../../packages/server/src/config.js';
import { ADAPTERS, S3_ENDPOINT, S3_PREFIX, s3Admin } from './helpers.js';
import { errorBody } from '../../packages/server/src/errors.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const D = '/api/2.0/mlflow-ts/artifacts';
const INVALID = errorBody('INVALID_PARAMETER_VALUE', 'Invalid path');
const s3Adapter = ADAPTERS.find((a) => a.name === 's3')!;

describe('direct transfers: configuration', () => {
  it('refuses ARTIFACTS_DIRECT_TRANSFER=true without the S3 store', () => {
    expect(() => loadConfig({ ARTIFACTS_DIRECT_TRANSFER: 'true' })).toThrow(ConfigError);
    expect(() => loadConfig({ ARTIFACTS_DIRECT_TRANSFER: 'maybe', S3_BUCKET: 'b' })).toThrow(/ARTIFACTS_DIRECT_TRANSFER must be true or false/);
    expect(loadConfig({ ARTIFACTS_DIRECT_TRANSFER: 'true', S3_BUCKET: 'b' }).artifacts.directTransfer).toBe(true);
  });

  it.each(ADAPTERS.filter((a) => a.name !== 's3' && !a.skip).map((a) => [a.label, a] as const))('answers 501 on the %s store', async (_label, adapter) => {
    const s = await startTestServer(adapter.backend, await adapter.env());
    try {
      const res = await s.call('POST', `${D}/direct-upload/create`, { path: 'a/b.bin', size: 10 });
      expect(res.status).toBe(501);
      expect(res.body.error_code).toBe('NOT_IMPLEMENTED');
      expect((await s.call('GET', `${D}/direct-download?path=a/b.bin`)).status).toBe(501);
    } finally {
      await s.close();
    }
  }, 90_000);
});

describe.skipIf(!S3_ENDPOINT)('direct transfers on S3', () => {
  let s: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    env = await s3Adapter.env({ ARTIFACTS_DIRECT_TRANSFER: 'true', ARTIFACTS_PRESIGN_EXPIRY_SECONDS: '600' });
    s = await startTestServer('pglite', env);
  });
  afterAll(() => s?.close());

  it('is off unless ARTIFACTS_DIRECT_TRANSFER=true', async () => {
    const off = await startTestServer('pglite', await s3Adapter.env());
    try {
      const res = await off.call('POST', `${D}/direct-upload/create`, { path: 'a/b.bin', size: 10 });
      expect(res.status).toBe(501);
      expect(res.body.message).toMatch(/ARTIFACTS_DIRECT_TRANSFER=true/);
    } finally {
      await off.close();
    }
  }, 90_000);

  it('single-PUT upload and direct download round trip; the object is where the proxy reads it', async () => {
    const data = randomBytes(123_456);
    const started = Date.now();
    const created = await s.call('POST', `${D}/direct-upload/create`, { path: 'run1//model/./model.pkl', size: data.length });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ path: 'run1/model/model.pkl', size: data.length, part_size: data.length });
    expect(created.body.upload_id).toBeUndefined();
    expect(created.body.credentials).toHaveLength(1);
    expect(created.body.expires_at).toBeGreaterThanOrEqual(started + 600_000);
    expect(created.body.expires_at).toBeLessThan(Date.now() + 601_000);
    const cred = created.body.credentials[0];
    expect(cred.url).toMatch(/X-Amz-Expires=600/);
    expect(cred.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);
    const put = await fetch(cred.url, { method: 'PUT', body: data, headers: cred.headers });
    expect(put.status).toBe(200);

    expect((await s3Admin().get(env.S3_BUCKET!, `${S3_PREFIX}/run1/model/model.pkl`)).equals(data)).toBe(true);
    const viaProxy = Buffer.from(await (await s.fetch('/api/2.0/mlflow-artifacts/artifacts/run1/model/model.pkl')).arrayBuffer());
    expect(viaProxy.equals(data)).toBe(true);

    const dl = await s.call('GET', `${D}/direct-download?path=${encodeURIComponent('run1/model/model.pkl')}`);
    expect(dl.status).toBe(200);
    expect(dl.body).toMatchObject({ path: 'run1/model/model.pkl', file_size: data.length, headers: {} });
    const direct = await fetch(dl.body.url);
    expect(direct.headers.get('content-disposition')).toBe('attachment; filename="model.pkl"');
    expect(Buffer.from(await direct.arrayBuffer()).equals(data)).toBe(true);
    // Under /ajax-api as well.
    expect((await s.call('GET', `/ajax-api/2.0/mlflow-ts/artifacts/direct-download?path=run1/model/model.pkl`)).status).toBe(200);
  });

  it('multipart upload (parts PUT to presigned URLs, then complete) and a chunked Range download', async () => {
    const partSize = 5 * 1024 * 1024;
    const data = randomBytes(partSize * 2 + 4321);
    const created = await s.call('POST', `${D}/direct-upload/create`, { path: 'run2/weights.bin', size: data.length, part_size: partSize });
    expect(created.status).toBe(200);
    expect(created.body.part_size).toBe(partSize);
    expect(typeof created.body.upload_id).toBe('string');
    expect(created.body.credentials.map((c: { part_number: number }) => c.part_number)).toEqual([1, 2, 3]);
    const parts = await Promise.all(
      created.body.credentials.map(async (c: { part_number: number; url: string; headers: Record<string, string> }) => {
        const chunk = data.subarray((c.part_number - 1) * partSize, c.part_number * partSize);
        const res = await fetch(c.url, { method: 'PUT', body: chunk, headers: c.headers });
        expect(res.status).toBe(200);
        return { part_number: c.part_number, etag: res.headers.get('etag') };
      }),
    );
    const done = await s.call('POST', `${D}/direct-upload/complete`, { path: 'run2/weights.bin', upload_id: created.body.upload_id, parts });
    expect(done).toEqual({ status: 200, body: {} });

    const dl = await s.call('GET', `${D}/direct-download?path=run2/weights.bin`);
    expect(dl.body.file_size).toBe(data.length);
    const chunks: Buffer[] = [];
    for (let start = 0; start < data.length; start += 4 * 1024 * 1024) {
      const end = Math.min(start + 4 * 1024 * 1024, data.length) - 1;
      const res = await fetch(dl.body.url, { headers: { range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      chunks.push(Buffer.from(await res.arrayBuffer()));
    }
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('abort discards a multipart upload', async () => {
    const created = await s.call('POST', `${D}/direct-upload/create`, { path: 'run3/big.bin', size: 11 * 1024 * 1024, part_size: 5 * 1024 * 1024 });
    expect(created.body.credentials).toHaveLength(3);
    expect(await s.call('POST', `${D}/direct-upload/abort`, { path: 'run3/big.bin', upload_id: created.body.upload_id })).toEqual({ status: 200, body: {} });
    expect((await s.call('GET', `${D}/direct-download?path=run3/big.bin`)).status).toBe(404);
  });

  it('checks every path like the proxy does', async () => {
    const bad = ['../secret', 'a/../../b', '/etc/passwd', 'C:/x', 'a\\..\\b', 'a#b', 'a?b', 'a\u0000b', '%2E%2E/x', 'x/%252E%252E', '', '.', 'dir/'];
    for (const p of bad) {
      const up = await s.call('POST', `${D}/direct-upload/create`, { path: p, size: 1 });
      expect({ p, status: up.status }).toEqual({ p, status: 400 });
      if (p !== '') expect(up.body, p).toEqual(INVALID);
      const down = await s.call('GET', `${D}/direct-download?path=${encodeURIComponent(p)}`);
      expect({ p, status: down.status }).toEqual({ p, status: 400 });
      for (const op of ['complete', 'abort']) {
        const r = await s.call('POST', `${D}/direct-upload/${op}`, { path: p, upload_id: 'u', parts: [] });
        expect({ p, op, status: r.status }).toEqual({ p, op, status: 400 });
      }
    }
    expect((await s3Admin().listKeys(env.S3_BUCKET!)).every((k) => k.startsWith(`${S3_PREFIX}/`))).toBe(true);
  });

  it('validates sizes and part sizes', async () => {
    const cases: [object, RegExp][] = [
      [{ path: 'x.bin' }, /Missing value for required parameter 'size'/],
      [{ path: 'x.bin', size: -1 }, /size must be between/],
      [{ path: 'x.bin', size: 6 * 1024 ** 4 }, /size must be between/],
      [{ path: 'x.bin', size: 10, part_size: 1024 }, /part_size must be between/],
      [{ path: 'x.bin', size: 5 * 1024 ** 4, part_size: 5 * 1024 * 1024 }, /more than 10000 parts/],
    ];
    for (const [body, message] of cases) {
      const res = await s.call('POST', `${D}/direct-upload/create`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.message).toMatch(message);
    }
  });

  it('direct download: 404 for a missing file, 400 for a directory', async () => {
    expect((await s.call('GET', `${D}/direct-download?path=nope/x.bin`)).body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(await s.call('GET', `${D}/direct-download?path=run1/model`)).toEqual({
      status: 400,
      body: errorBody('INVALID_PARAMETER_VALUE', "Artifact path refers to a directory, not a file: 'run1/model'"),
    });
  });

  it('signs URLs for S3_PRESIGN_ENDPOINT_URL when clients reach S3 at another address', async () => {
    const publicEndpoint = S3_ENDPOINT!.replace('127.0.0.1', 'localhost');
    const other = await startTestServer('pglite', { ...env, S3_PRESIGN_ENDPOINT_URL: publicEndpoint });
    try {
      const dl = await other.call('GET', `${D}/direct-download?path=run1/model/model.pkl`);
      expect(dl.body.url.startsWith(`${publicEndpoint}/`)).toBe(true);
      expect((await fetch(dl.body.url)).status).toBe(200);
    } finally {
      await other.close();
    }
  }, 90_000);
});
