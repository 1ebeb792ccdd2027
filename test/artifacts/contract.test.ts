/**
 * The artifact-store contract, run over real HTTP against the local filesystem adapter, against a
 * real S3-protocol server (S3_TEST_ENDPOINT, e.g. moto) and against the PostgreSQL store (on PGlite, and
 * on PostgreSQL with TEST_DATABASE_URL): the mlflow-artifacts API exactly as MLflow serves it (list,
 * download, upload, delete), its headers, and the multipart and presigned-download endpoints (S3) or
 * their 501 answers (local, postgres).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ADAPTERS, METADATA_S3_ADAPTER, S3_ENDPOINT, S3_PREFIX, S3_SKIP_MESSAGE, s3Admin } from './helpers.js';
import { errorBody } from '../../packages/server/src/errors.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const A = '/api/2.0/mlflow-artifacts/artifacts';
const AJAX = '/ajax-api/2.0/mlflow-artifacts/artifacts';
const MPU = '/api/2.0/mlflow-artifacts/mpu';

if (!S3_ENDPOINT) console.log(S3_SKIP_MESSAGE);

for (const adapter of [...ADAPTERS, METADATA_S3_ADAPTER]) {
  describe.skipIf(adapter.skip)(`artifact store contract (${adapter.label})`, () => {
    let s: TestServer;
    let env: Record<string, string>;
    const pkl = randomBytes(300_000);

    const put = (p: string, body: BodyInit, headers: Record<string, string> = {}) => s.fetch(`${A}/${p}`, { method: 'PUT', body, headers });
    const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

    beforeAll(async () => {
      env = await adapter.env();
      s = await startTestServer(adapter.backend, env);
    });
    afterAll(() => s?.close());

    it('lists an empty store as {}', async () => {
      expect(await s.call('GET', A)).toEqual({ status: 200, body: {} });
      expect(await s.call('GET', `${A}?path=`)).toEqual({ status: 200, body: {} });
      expect(await s.call('GET', `${A}?path=no/such/dir`)).toEqual({ status: 200, body: {} });
    });

    it('uploads files (any content type, raw body) into nested directories and answers {}', async () => {
      const uploads: [string, BodyInit, Record<string, string>?][] = [
        ['run1/model/MLmodel', 'artifact_path: model\nflavors:\n  python_function: {}\n', { 'content-type': 'text/plain' }],
        ['run1/model/conda.yaml', 'name: env\n'],
        ['run1/model/data/model.pkl', pkl, { 'content-type': 'application/octet-stream' }],
        ['run1/model/data/deep/er/x.json', 'not json at all', { 'content-type': 'application/json' }],
        ['run1/empty.txt', ''],
        ['run1/plots/loss.png', 'png-bytes'],
        ['run1/report.html', '<b>hi</b>'],
        ['run1/archive.tar.gz', 'gz'],
      ];
      for (const [p, body, headers] of uploads) {
        const res = await put(p, body, headers);
        expect(res.status, p).toBe(200);
        expect(await res.json()).toEqual({});
      }
      // The SDK's percent-encoded form of the same kind of path.
      const enc = await s.fetch(`${A}/run1%2Fmodel%2Fenc%20name.txt`, { method: 'PUT', body: 'encoded' });
      expect(enc.status).toBe(200);
    });

    it('lists direct children by basename, with is_dir and numeric file_size (omitted for dirs and empty files)', async () => {
      const model = await s.call('GET', `${A}?path=run1/model`);
      expect(model).toEqual({
        status: 200,
        body: {
          files: [
            { path: 'MLmodel', is_dir: false, file_size: 52 },
            { path: 'conda.yaml', is_dir: false, file_size: 10 },
            { path: 'data', is_dir: true },
            { path: 'enc name.txt', is_dir: false, file_size: 7 },
          ],
        },
      });
      const run = await s.call('GET', `${A}?path=run1`);
      expect(run.body.files).toEqual([
        { path: 'archive.tar.gz', is_dir: false, file_size: 2 },
        { path: 'empty.txt', is_dir: false },
        { path: 'model', is_dir: true },
        { path: 'plots', is_dir: true },
        { path: 'report.html', is_dir: false, file_size: 9 },
      ]);
      expect((await s.call('GET', A)).body).toEqual({ files: [{ path: 'run1', is_dir: true }] });
      // Trailing and doubled slashes and `.` segments normalise to the same directory.
      expect((await s.call('GET', `${A}?path=run1/model/`)).body).toEqual(model.body);
      expect((await s.call('GET', `${A}?path=./run1//model`)).body).toEqual(model.body);
      expect((await s.call('GET', `${A}?path=run1%2Fmodel`)).body).toEqual(model.body);
      // A file is not a directory: listing it gives {} (the MLflow client relies on this).
      expect(await s.call('GET', `${A}?path=run1/model/MLmodel`)).toEqual({ status: 200, body: {} });
      // The same listing under /ajax-api.
      expect((await s.call('GET', `${AJAX}?path=run1/model`)).body).toEqual(model.body);
    });

    it('downloads bytes unchanged, with the type guessed from the name, an attachment disposition and nosniff', async () => {
      const cases: [string, string][] = [
        ['run1/model/MLmodel', 'text/plain'],
        ['run1/model/conda.yaml', 'text/plain'],
        ['run1/model/data/model.pkl', 'application/octet-stream'],
        ['run1/model/data/deep/er/x.json', 'text/plain'],
        ['run1/plots/loss.png', 'image/png'],
        ['run1/report.html', 'text/html'],
        ['run1/archive.tar.gz', 'application/x-tar'],
        ['run1/empty.txt', 'text/plain'],
      ];
      for (const [p, type] of cases) {
        const res = await s.fetch(`${A}/${p}`);
        expect(res.status, p).toBe(200);
        expect(res.headers.get('content-type'), p).toBe(type);
        expect(res.headers.get('content-disposition'), p).toBe(`attachment; filename=${p.split('/').pop()}`);
        expect(res.headers.get('x-content-type-options'), p).toBe('nosniff');
        await res.arrayBuffer();
      }
      const res = await s.fetch(`${A}/run1/model/data/model.pkl`);
      expect(res.headers.get('content-length')).toBe(String(pkl.length));
      expect((await bytes(res)).equals(pkl)).toBe(true);
      expect(await (await s.fetch(`${A}/run1/model/data/deep/er/x.json`)).text()).toBe('not json at all');
      expect(await (await s.fetch(`${A}/run1/empty.txt`)).text()).toBe('');
      expect(await (await s.fetch(`${A}/run1%2Fmodel%2Fenc%20name.txt`)).text()).toBe('encoded');
      expect((await s.fetch(`${A}/run1/model/enc%20name.txt`)).headers.get('content-disposition')).toBe('attachment; filename="enc name.txt"');
      expect(await (await s.fetch(`${AJAX}/run1/model/MLmodel`)).text()).toContain('flavors');
    });

    it('serves a single byte range', async () => {
      const res = await s.fetch(`${A}/run1/model/data/model.pkl`, { headers: { range: 'bytes=1000-1999' } });
      expect(res.status).toBe(206);
      expect(res.headers.get('content-range')).toBe(`bytes 1000-1999/${pkl.length}`);
      expect((await bytes(res)).equals(pkl.subarray(1000, 2000))).toBe(true);
      const tail = await s.fetch(`${A}/run1/model/data/model.pkl`, { headers: { range: 'bytes=-10' } });
      expect((await bytes(tail)).equals(pkl.subarray(pkl.length - 10))).toBe(true);
    });

    it('answers HEAD with the headers only', async () => {
      const res = await s.fetch(`${A}/run1/model/MLmodel`, { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe('52');
      expect(await res.text()).toBe('');
    });

    it('answers 404 for a missing file and 400 for a directory, as MLflow', async () => {
      expect(await s.call('GET', `${A}/run1/nope.txt`)).toEqual({
        status: 404,
        body: errorBody('RESOURCE_DOES_NOT_EXIST', "No such artifact: 'run1/nope.txt'"),
      });
      expect(await s.call('GET', `${A}/run1/model`)).toEqual({
        status: 400,
        body: errorBody('INVALID_PARAMETER_VALUE', "Artifact path refers to a directory, not a file: 'run1/model'"),
      });
    });

    it('refuses an upload path without a file name', async () => {
      expect(await s.call('PUT', `${A}/run1/newdir/`, 'x')).toEqual({
        status: 400,
        body: errorBody('INVALID_PARAMETER_VALUE', "Artifact path must include a filename (cannot end with '/')."),
      });
    });

    it('overwrites an existing file', async () => {
      expect((await put('run1/model/conda.yaml', 'name: env2\n')).status).toBe(200);
      expect(await (await s.fetch(`${A}/run1/model/conda.yaml`)).text()).toBe('name: env2\n');
    });

    it('deletes files and whole directories; a missing path is not an error', async () => {
      expect(await s.call('DELETE', `${A}/run1/report.html`)).toEqual({ status: 200, body: {} });
      expect((await s.fetch(`${A}/run1/report.html`)).status).toBe(404);
      expect(await s.call('DELETE', `${A}/run1/model/data`)).toEqual({ status: 200, body: {} });
      expect((await s.call('GET', `${A}?path=run1/model/data`)).body).toEqual({});
      expect((await s.call('GET', `${A}?path=run1/model`)).body.files.map((f: { path: string }) => f.path)).toEqual(['MLmodel', 'conda.yaml', 'enc name.txt']);
      expect(await s.call('DELETE', `${A}/run1/never/was`)).toEqual({ status: 200, body: {} });
      expect(await s.call('DELETE', `${AJAX}/run1/plots`)).toEqual({ status: 200, body: {} });
      expect((await s.call('GET', `${A}?path=run1`)).body.files.map((f: { path: string }) => f.path)).toEqual(['archive.tar.gz', 'empty.txt', 'model']);
    });

    it('refuses to delete the whole store', async () => {
      for (const p of ['%2F', '.%2F.', '.%2F', './/']) {
        const res = await s.call('DELETE', `${A}/${p}`);
        expect(res, p).toEqual({ status: 400, body: errorBody('INVALID_PARAMETER_VALUE', 'Invalid path') });
      }
      expect((await s.call('GET', A)).body.files).toEqual([{ path: 'run1', is_dir: true }]);
    });

    if (adapter.name !== 's3') {
      it('answers 501 NOT_IMPLEMENTED to multipart and presigned requests, so clients fall back', async () => {
        const body = { path: '/tmp/model.bin', num_parts: 2 };
        for (const op of ['create', 'complete', 'abort']) {
          for (const prefix of ['/api/2.0', '/ajax-api/2.0']) {
            const res = await s.call('POST', `${prefix}/mlflow-artifacts/mpu/${op}/run1/model`, { ...body, upload_id: 'x', parts: [] });
            expect(res, `${prefix} ${op}`).toEqual({
              status: 501,
              body: errorBody('NOT_IMPLEMENTED', 'Multipart upload is not supported for the current artifact repository'),
            });
          }
        }
        expect(await s.call('GET', '/api/2.0/mlflow-artifacts/presigned/run1/model/MLmodel')).toEqual({
          status: 501,
          body: errorBody('NOT_IMPLEMENTED', 'Multipart download is not supported for the current artifact repository'),
        });
      });
    }

    if (adapter.name === 'local') {
      it('keeps artifacts as plain files under DATA_DIR/artifacts', async () => {
        const fs = await import('node:fs');
        const path = await import('node:path');
        const file = path.join(s.config.dataDir, 'artifacts', 'run1', 'model', 'MLmodel');
        expect(fs.readFileSync(file, 'utf8')).toContain('python_function');
      });
    }

    if (adapter.name === 's3') {
      it('stores objects under s3://<bucket>/<prefix>/<path>', async () => {
        // With METADATA_STORE=s3 the bucket also holds the change log, under its own prefix.
        const metadata = adapter.backend === 's3' ? 'registry-metadata/log/' : undefined;
        if (metadata) expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'in-the-bucket' })).status).toBe(200);
        const keys = await s3Admin().listKeys(env.S3_BUCKET!);
        expect(keys).toContain(`${S3_PREFIX}/run1/model/MLmodel`);
        if (metadata) expect(keys.some((k) => k.startsWith(metadata))).toBe(true);
        expect(keys.every((k) => k.startsWith(`${S3_PREFIX}/`) || (metadata !== undefined && k.startsWith(metadata)))).toBe(true);
        expect((await s3Admin().get(env.S3_BUCKET!, `${S3_PREFIX}/run1/model/MLmodel`)).toString()).toContain('flavors');
      });

      it('multipart upload: create, PUT the parts to their presigned URLs, complete', async () => {
        const part1 = randomBytes(5 * 1024 * 1024);
        const part2 = randomBytes(12_345);
        const created = await s.call('POST', `${MPU}/create/run1/model`, { path: '/home/me/model/weights.bin', num_parts: 2 });
        expect(created.status).toBe(200);
        expect(typeof created.body.upload_id).toBe('string');
        expect(created.body.credentials.map((c: { part_number: number }) => c.part_number)).toEqual([1, 2]);
        for (const c of created.body.credentials) {
          expect(c.url).toMatch(/X-Amz-Signature=/);
          expect(c.url).not.toMatch(/x-amz-checksum|x-amz-sdk-checksum/i);
          expect(c.headers).toBeUndefined(); // MLflow leaves out an empty headers map
        }
        const parts = [];
        for (const [i, body] of [part1, part2].entries()) {
          const cred = created.body.credentials[i];
          const res = await fetch(cred.url, { method: 'PUT', body });
          expect(res.status).toBe(200);
          parts.push({ part_number: cred.part_number, etag: res.headers.get('etag'), url: cred.url });
        }
        const done = await s.call('POST', `${MPU}/complete/run1/model`, { path: '/home/me/model/weights.bin', upload_id: created.body.upload_id, parts });
        expect(done).toEqual({ status: 200, body: {} });
        const got = Buffer.from(await (await s.fetch(`${A}/run1/model/weights.bin`)).arrayBuffer());
        expect(got.equals(Buffer.concat([part1, part2]))).toBe(true);
        // Under /ajax-api too, and with a Windows client path (basename either way).
        const c2 = await s.call('POST', `/ajax-api/2.0/mlflow-artifacts/mpu/create/run1`, { path: 'C:\\Users\\me\\w.bin', num_parts: 1 });
        expect(c2.status).toBe(200);
        const r2 = await fetch(c2.body.credentials[0].url, { method: 'PUT', body: 'small' });
        const d2 = await s.call('POST', `/ajax-api/2.0/mlflow-artifacts/mpu/complete/run1`, {
          path: 'C:\\Users\\me\\w.bin',
          upload_id: c2.body.upload_id,
          parts: [{ part_number: 1, etag: r2.headers.get('etag') }],
        });
        expect(d2.status).toBe(200);
        expect(await (await s.fetch(`${A}/run1/w.bin`)).text()).toBe('small');
      });

      it('multipart upload: abort discards the upload', async () => {
        const created = await s.call('POST', `${MPU}/create/run1`, { path: 'aborted.bin', num_parts: 1 });
        await fetch(created.body.credentials[0].url, { method: 'PUT', body: 'data' });
        expect(await s.call('POST', `${MPU}/abort/run1`, { path: 'aborted.bin', upload_id: created.body.upload_id })).toEqual({ status: 200, body: {} });
        const late = await s.call('POST', `${MPU}/complete/run1`, {
          path: 'aborted.bin',
          upload_id: created.body.upload_id,
          parts: [{ part_number: 1, etag: '"x"' }],
        });
        // S3 answers NoSuchUpload (→ 404); moto 5.2 answers a 500 page (→ 503). Never a success.
        expect([404, 503]).toContain(late.status);
        expect((await s.fetch(`${A}/run1/aborted.bin`)).status).toBe(404);
      });

      it('multipart requests follow MLflow: path required, num_parts 0 gives no credentials', async () => {
        expect((await s.call('POST', `${MPU}/create/run1`, { num_parts: 1 })).body).toEqual(
          errorBody('INVALID_PARAMETER_VALUE', "Missing value for required parameter 'path'. See the API docs for more information about request parameters."),
        );
        const zero = await s.call('POST', `${MPU}/create/run1`, { path: 'z.bin', num_parts: 0 });
        expect(Object.keys(zero.body)).toEqual(['upload_id']);
        await s.call('POST', `${MPU}/abort/run1`, { path: 'z.bin', upload_id: zero.body.upload_id });
      });

      it('presigned download (MLflow /mlflow-artifacts/presigned): URL, size, and Range on it', async () => {
        const res = await s.call('GET', '/api/2.0/mlflow-artifacts/presigned/run1/model/MLmodel');
        expect(res.status).toBe(200);
        expect(res.body.file_size).toBe(52);
        expect(res.body.headers).toEqual({});
        const direct = await fetch(res.body.url);
        expect(await direct.text()).toContain('python_function');
        expect(direct.headers.get('content-disposition')).toBe('attachment; filename="MLmodel"');
        const ranged = await fetch(res.body.url, { headers: { range: 'bytes=0-12' } });
        expect(await ranged.text()).toBe('artifact_path');
        expect((await s.call('GET', '/api/2.0/mlflow-artifacts/presigned/run1/nope')).status).toBe(404);
      });
    }
  });
}

describe('artifact storage failures', () => {
  it('an unreachable S3 endpoint answers 503 TEMPORARILY_UNAVAILABLE (retryable), not a bare 500', async () => {
    const s = await startTestServer('pglite', { S3_BUCKET: 'nowhere', S3_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
    try {
      for (const [method, p] of [
        ['GET', `${A}?path=a`],
        ['PUT', `${A}/a/b.txt`],
      ]) {
        const res = await s.call(method!, p!, method === 'PUT' ? 'x' : undefined);
        expect({ method, status: res.status, code: res.body.error_code }).toEqual({ method, status: 503, code: 'TEMPORARILY_UNAVAILABLE' });
      }
    } finally {
      await s.close();
    }
  }, 90_000);

  it.skipIf(!S3_ENDPOINT)('a missing bucket answers 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const s = await startTestServer('pglite', { S3_BUCKET: 'no-such-bucket-here', S3_ENDPOINT_URL: S3_ENDPOINT!, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
    try {
      const res = await s.call('GET', `${A}?path=a`);
      expect(res.status).toBe(404);
      expect(res.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    } finally {
      await s.close();
    }
  }, 90_000);
});
