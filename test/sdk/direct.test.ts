/**
 * Direct transfers through the SDK (createDirectUpload, completeDirectUpload, abortDirectUpload,
 * getDirectDownloadUrl) against the real server with response validation on: the bytes go between
 * the test and a real S3-protocol server (S3_TEST_ENDPOINT, e.g. moto started by scripts/ci/s3.sh)
 * over the presigned URLs, never through the registry server. Without S3_TEST_ENDPOINT only the
 * "not enabled" case runs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADAPTERS, S3_ENDPOINT, S3_SKIP_MESSAGE } from '../artifacts/helpers.js';
import { MlflowRegistryClient, type DirectUploadPart } from '../../packages/client/src/index.js';
import { apiError } from './util.js';

if (!S3_ENDPOINT) console.log(S3_SKIP_MESSAGE);

const s3Adapter = ADAPTERS.find((a) => a.name === 's3')!;

describe('SDK direct transfers: not enabled', () => {
  it('fails with NOT_IMPLEMENTED (501) on the local artifact store', async () => {
    const s = await startTestServer('pglite');
    try {
      const client = new MlflowRegistryClient({ baseUrl: s.url, validateResponses: true, retries: 0 });
      for (const call of [
        () => client.createDirectUpload({ path: 'a/b.bin', size: 10 }),
        () => client.completeDirectUpload({ path: 'a/b.bin', uploadId: 'u', parts: [{ partNumber: 1, etag: '"e"' }] }),
        () => client.abortDirectUpload({ path: 'a/b.bin', uploadId: 'u' }),
        () => client.getDirectDownloadUrl({ path: 'a/b.bin' }),
      ]) {
        const e = await apiError(call());
        expect([e.errorCode, e.status]).toEqual(['NOT_IMPLEMENTED', 501]);
      }
    } finally {
      await s.close();
    }
  }, 90_000);
});

describe.skipIf(!S3_ENDPOINT)('SDK direct transfers on S3', () => {
  let s: TestServer;
  let client: MlflowRegistryClient;

  beforeAll(async () => {
    s = await startTestServer('pglite', await s3Adapter.env({ ARTIFACTS_DIRECT_TRANSFER: 'true', ARTIFACTS_PRESIGN_EXPIRY_SECONDS: '600' }));
    client = new MlflowRegistryClient({ baseUrl: s.url, validateResponses: true, retries: 0 });
  });
  afterAll(() => s?.close());

  it('uploads with one PUT and downloads over the presigned URLs; the proxy serves the same bytes', async () => {
    const data = randomBytes(100_000);
    const started = Date.now();
    const up = await client.createDirectUpload({ path: 'sdk//one/./model.pkl', size: data.length });
    expect(up).toMatchObject({ path: 'sdk/one/model.pkl', size: data.length, partSize: data.length });
    expect(up).not.toHaveProperty('uploadId');
    expect(up.expiresAt).toBeGreaterThanOrEqual(started + 600_000);
    expect(up.credentials).toHaveLength(1);
    const [cred] = up.credentials;
    expect(cred).toMatchObject({ partNumber: 1, headers: {} });
    expect((await fetch(cred!.url, { method: 'PUT', body: data, headers: cred!.headers })).status).toBe(200);

    const dl = await client.getDirectDownloadUrl({ path: 'sdk/one/model.pkl' });
    expect(dl).toMatchObject({ path: 'sdk/one/model.pkl', fileSize: data.length, headers: {} });
    expect(dl.expiresAt).toBeGreaterThanOrEqual(started + 600_000);
    const direct = await fetch(dl.url, { headers: dl.headers });
    expect(Buffer.from(await direct.arrayBuffer()).equals(data)).toBe(true);
    const proxied = await new Response(await client.downloadArtifact({ path: 'sdk/one/model.pkl' })).arrayBuffer();
    expect(Buffer.from(proxied).equals(data)).toBe(true);
  });

  it('uploads in parts, completes, and downloads in Range chunks', async () => {
    const partSize = 5 * 1024 * 1024;
    const data = randomBytes(partSize * 2 + 1234);
    const up = await client.createDirectUpload({ path: 'sdk/multi/weights.bin', size: data.length, partSize });
    expect(up.partSize).toBe(partSize);
    expect(up.uploadId).toBeTypeOf('string');
    expect(up.credentials.map((c) => c.partNumber)).toEqual([1, 2, 3]);
    const parts: DirectUploadPart[] = await Promise.all(
      up.credentials.map(async (c) => {
        const chunk = data.subarray((c.partNumber - 1) * up.partSize, c.partNumber * up.partSize);
        const res = await fetch(c.url, { method: 'PUT', body: chunk, headers: c.headers });
        expect(res.status).toBe(200);
        return { partNumber: c.partNumber, etag: res.headers.get('etag')! };
      }),
    );
    // A wrong ETag is refused; the upload stays open and completes with the right ones.
    const wrong = await apiError(
      client.completeDirectUpload({ path: up.path, uploadId: up.uploadId!, parts: [{ partNumber: 1, etag: '"0123"' }, ...parts.slice(1)] }),
    );
    expect([wrong.errorCode, wrong.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
    await expect(client.completeDirectUpload({ path: up.path, uploadId: up.uploadId!, parts })).resolves.toBeUndefined();

    const dl = await client.getDirectDownloadUrl({ path: 'sdk/multi/weights.bin' });
    expect(dl.fileSize).toBe(data.length);
    const chunks: Buffer[] = [];
    for (let start = 0; start < data.length; start += 4 * 1024 * 1024) {
      const end = Math.min(start + 4 * 1024 * 1024, data.length) - 1;
      const res = await fetch(dl.url, { headers: { ...dl.headers, range: `bytes=${start}-${end}` } });
      expect(res.status).toBe(206);
      chunks.push(Buffer.from(await res.arrayBuffer()));
    }
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('aborts a multipart upload; then the file does not exist and the upload is unknown to abort', async () => {
    const up = await client.createDirectUpload({ path: 'sdk/aborted.bin', size: 11 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
    expect(up.credentials).toHaveLength(3);
    await expect(client.abortDirectUpload({ path: up.path, uploadId: up.uploadId! })).resolves.toBeUndefined();
    const gone = await apiError(client.getDirectDownloadUrl({ path: 'sdk/aborted.bin' }));
    expect([gone.errorCode, gone.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    const again = await apiError(client.abortDirectUpload({ path: up.path, uploadId: up.uploadId! }));
    expect([again.errorCode, again.status]).toEqual(['RESOURCE_DOES_NOT_EXIST', 404]);
    // (Completing an unknown upload is not checked here: moto answers it with an HTML page, not S3's NoSuchUpload.)
  });

  it('refuses unsafe paths, bad sizes and directories with INVALID_PARAMETER_VALUE', async () => {
    for (const call of [
      () => client.createDirectUpload({ path: '../secret', size: 1 }),
      () => client.getDirectDownloadUrl({ path: '/etc/passwd' }),
      () => client.abortDirectUpload({ path: 'a/../../b', uploadId: 'u' }),
    ]) {
      const e = await apiError(call());
      expect([e.errorCode, e.status, e.message]).toEqual(['INVALID_PARAMETER_VALUE', 400, 'Invalid path']);
    }
    const size = await apiError(client.createDirectUpload({ path: 'x.bin', size: -1 }));
    expect([size.errorCode, size.status]).toEqual(['INVALID_PARAMETER_VALUE', 400]);
    expect(size.message).toMatch(/size must be between/);
    const dir = await apiError(client.getDirectDownloadUrl({ path: 'sdk/one' }));
    expect([dir.errorCode, dir.message]).toEqual(['INVALID_PARAMETER_VALUE', "Artifact path refers to a directory, not a file: 'sdk/one'"]);
  });
});
