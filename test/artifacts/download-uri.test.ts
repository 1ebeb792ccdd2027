/**
 * The hybrid store and `get-download-uri` modes: sources that point into our artifact store
 * (`mlflow-artifacts:/…`, our own proxy URLs, `s3://<our bucket>/<prefix>/…`) are recognised, and the
 * download URI is the source as given (default), our proxied URL, or a presigned HTTPS URL, each of
 * which a client can read without a tracking server. Sources elsewhere are never rewritten.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { ConfigError, loadConfig } from '../../packages/server/src/config.js';
import { ADAPTERS, S3_ENDPOINT, S3_PREFIX } from './helpers.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const PUBLIC = 'http://registry.example.test:8000';
const A = '/api/2.0/mlflow-artifacts/artifacts';
const s3Adapter = ADAPTERS.find((a) => a.name === 's3')!;

let counter = 0;
/** Registers a model with one version on `source`; returns get-download-uri's answer. */
async function downloadUri(s: TestServer, source: string, runId?: string): Promise<string> {
  const name = `m${++counter}`;
  expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name })).status).toBe(200);
  const mv = await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name, source, ...(runId ? { run_id: runId } : {}) });
  expect(mv.status, JSON.stringify(mv.body)).toBe(200);
  expect(mv.body.model_version.source).toBe(source); // the stored source is never rewritten
  const res = await s.call('GET', `/api/2.0/mlflow/model-versions/get-download-uri?name=${name}&version=${mv.body.model_version.version}`);
  expect(res.status).toBe(200);
  return res.body.artifact_uri;
}

/** Reads a proxied URL through the test server (its public host name is not resolvable here). */
function viaServer(s: TestServer, url: string): Promise<Response> {
  expect(url.startsWith(`${PUBLIC}/`)).toBe(true);
  return s.fetch(url.slice(PUBLIC.length));
}

async function uploadModel(s: TestServer, dir: string): Promise<void> {
  for (const [f, body] of [
    ['MLmodel', 'artifact_path: model\n'],
    ['model.pkl', 'pickle-bytes'],
    ['data/x.txt', 'x'],
  ]) {
    expect((await s.fetch(`${A}/${dir}/${f}`, { method: 'PUT', body })).status).toBe(200);
  }
}

describe('download-URI configuration', () => {
  it('defaults to the source as given', () => {
    expect(loadConfig({}).artifacts.downloadUri).toBe('source');
  });
  it('needs PUBLIC_URL for proxy mode and the S3 store for presigned mode', () => {
    expect(() => loadConfig({ ARTIFACTS_DOWNLOAD_URI: 'proxy' })).toThrow(/needs PUBLIC_URL/);
    expect(() => loadConfig({ ARTIFACTS_DOWNLOAD_URI: 'presigned' })).toThrow(/needs the S3 artifact store/);
    expect(() => loadConfig({ ARTIFACTS_DOWNLOAD_URI: 'sometimes' })).toThrow(ConfigError);
    expect(() => loadConfig({ PUBLIC_URL: 'ftp://x' })).toThrow(/PUBLIC_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ ARTIFACTS_PRESIGN_EXPIRY_SECONDS: '0' })).toThrow(/ARTIFACTS_PRESIGN_EXPIRY_SECONDS/);
    expect(loadConfig({ ARTIFACTS_DOWNLOAD_URI: 'Proxy', PUBLIC_URL: PUBLIC }).artifacts).toMatchObject({ downloadUri: 'proxy', publicUrl: PUBLIC });
  });
});

describe('get-download-uri: source mode (default, like MLflow)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer('pglite');
  });
  afterAll(() => s?.close());

  it('returns every source as given', async () => {
    for (const src of ['mlflow-artifacts:/1/abc/artifacts/model', 's3://bucket/models/iris/3', 'runs:/abc123/model']) {
      expect(await downloadUri(s, src, 'abc123')).toBe(src);
    }
  });

  it('refuses a source naming a foreign host (MLflow 3.17 host policy) but accepts our public URL', async () => {
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'hosty' });
    const res = await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'hosty', source: 'http://evil.example/api/2.0/mlflow-artifacts/artifacts/x' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/'source' cannot use the 'http' scheme/);
  });
});

for (const adapter of ADAPTERS.filter((a) => a.name !== 's3')) {
  describe.skipIf(adapter.skip)(`get-download-uri: proxy mode (${adapter.label})`, () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(
        adapter.backend,
        await adapter.env({ ARTIFACTS_DOWNLOAD_URI: 'proxy', PUBLIC_URL: PUBLIC, MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES: 'https' }),
      );
      await uploadModel(s, '1/abc/artifacts/model');
    });
    afterAll(() => s?.close());

    it('turns sources in our store into our absolute proxy URL', async () => {
      const proxied = `${PUBLIC}${A}/1/abc/artifacts/model`;
      expect(await downloadUri(s, 'mlflow-artifacts:/1/abc/artifacts/model')).toBe(proxied);
      expect(await downloadUri(s, 'mlflow-artifacts:///1/abc/artifacts/model/')).toBe(proxied);
      expect(await downloadUri(s, 'mlflow-artifacts://registry.example.test:8000/1/abc/artifacts/model')).toBe(proxied);
      expect(await downloadUri(s, `${PUBLIC}${A}/1/abc/artifacts/model`)).toBe(proxied);
      expect(await downloadUri(s, `${PUBLIC}/ajax-api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model`)).toBe(proxied);
    });

    it('leaves everything else alone', async () => {
      for (const src of ['runs:/abc123/model', 's3://bucket/models/iris/3', 'https://elsewhere.example/api/2.0/mlflow-artifacts/artifacts/x', 'gs://b/m']) {
        expect(await downloadUri(s, src, 'abc123')).toBe(src);
      }
    });

    it('the proxy URL reads like MLflow HttpArtifactRepository expects: list at the root, files below it', async () => {
      const uri = await downloadUri(s, 'mlflow-artifacts:/1/abc/artifacts/model');
      // HttpArtifactRepository.list_artifacts: split at /mlflow-artifacts/artifacts, list ?path=<tail>.
      const tail = uri.split('/mlflow-artifacts/artifacts')[1]!.replace(/^\//, '');
      const list = await s.call('GET', `${A}?path=${encodeURIComponent(tail)}`);
      expect(list.body.files.map((f: { path: string }) => f.path)).toEqual(['MLmodel', 'data', 'model.pkl']);
      expect(await (await viaServer(s, `${uri}/model.pkl`)).text()).toBe('pickle-bytes');
      expect(await (await viaServer(s, `${uri}/data/x.txt`)).text()).toBe('x');
    });
  });
}

describe('get-download-uri: proxy mode under a path prefix', () => {
  it('keeps the prefix of PUBLIC_URL', async () => {
    const s = await startTestServer('pglite', { ARTIFACTS_DOWNLOAD_URI: 'proxy', PUBLIC_URL: 'https://gw.example.test/mlflow/' });
    try {
      expect(await downloadUri(s, 'mlflow-artifacts:/7/r/artifacts/m')).toBe('https://gw.example.test/mlflow/api/2.0/mlflow-artifacts/artifacts/7/r/artifacts/m');
      expect(await downloadUri(s, 'https://gw.example.test/mlflow/api/2.0/mlflow-artifacts/artifacts/7/r')).toBe(
        'https://gw.example.test/mlflow/api/2.0/mlflow-artifacts/artifacts/7/r',
      );
    } finally {
      await s.close();
    }
  }, 90_000);
});

describe.skipIf(!S3_ENDPOINT)('get-download-uri on S3', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    env = await s3Adapter.env();
  });

  it('proxy mode recognises s3://<our bucket>/<our prefix>/… sources', async () => {
    const s = await startTestServer('pglite', { ...env, ARTIFACTS_DOWNLOAD_URI: 'proxy', PUBLIC_URL: PUBLIC });
    try {
      expect(await downloadUri(s, `s3://${env.S3_BUCKET}/${S3_PREFIX}/5/run/artifacts/model`)).toBe(`${PUBLIC}${A}/5/run/artifacts/model`);
      expect(await downloadUri(s, `s3://${env.S3_BUCKET}/elsewhere/model`)).toBe(`s3://${env.S3_BUCKET}/elsewhere/model`);
      expect(await downloadUri(s, `s3://other-bucket/${S3_PREFIX}/model`)).toBe(`s3://other-bucket/${S3_PREFIX}/model`);
    } finally {
      await s.close();
    }
  }, 90_000);

  it('presigned mode: a presigned HTTPS GET for a file; a directory falls back to the proxy URL or the source', async () => {
    const s = await startTestServer('pglite', { ...env, ARTIFACTS_DOWNLOAD_URI: 'presigned', PUBLIC_URL: PUBLIC });
    try {
      await uploadModel(s, '9/run/artifacts/model');
      const file = await downloadUri(s, 'mlflow-artifacts:/9/run/artifacts/model/model.pkl');
      expect(file).toMatch(/X-Amz-Signature=/);
      expect(file.startsWith(`${S3_ENDPOINT}/${env.S3_BUCKET}/${S3_PREFIX}/9/run/artifacts/model/model.pkl?`)).toBe(true);
      expect(await (await fetch(file)).text()).toBe('pickle-bytes');
      const fromS3Source = await downloadUri(s, `s3://${env.S3_BUCKET}/${S3_PREFIX}/9/run/artifacts/model/MLmodel`);
      expect(await (await fetch(fromS3Source)).text()).toBe('artifact_path: model\n');
      // A directory (the usual MLflow model) cannot be one presigned URL.
      expect(await downloadUri(s, 'mlflow-artifacts:/9/run/artifacts/model')).toBe(`${PUBLIC}${A}/9/run/artifacts/model`);
      expect(await downloadUri(s, 'runs:/r1/model', 'r1')).toBe('runs:/r1/model');
    } finally {
      await s.close();
    }
    const bare = await startTestServer('pglite', { ...env, ARTIFACTS_DOWNLOAD_URI: 'presigned' });
    try {
      expect(await downloadUri(bare, 'mlflow-artifacts:/9/run/artifacts/model')).toBe('mlflow-artifacts:/9/run/artifacts/model');
    } finally {
      await bare.close();
    }
  }, 90_000);
});
