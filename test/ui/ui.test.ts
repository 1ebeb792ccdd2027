/**
 * MLflow's web UI over HTTP (the browser suite is test/browser/mlflow-ui.test.ts): the static files of a
 * build (types, caching, validators, and nothing outside the build however the path is spelled), the
 * build's discovery (MLFLOW_UI_DIR, or an installed `mlflow` package), GET /model-versions/get-artifact
 * with MLflow's answers, and the routes' permissions with AUTH=basic.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';
import { VENV } from '../helpers/mlflow-server.js';
import { createLogger } from '../../packages/server/src/log.js';
import { ConfigError } from '../../packages/server/src/config.js';
import { findUiDir } from '../../packages/server/src/http/ui-discovery.js';
import { prefixedGetPath } from '../../packages/server/src/http/prefix.js';

const log = createLogger('silent');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** GET with the target sent exactly as given (fetch would normalise `..` and `%2e%2e`). */
function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(base);
    http
      .get({ host: u.hostname, port: u.port, path: target, agent: false }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** A small UI build, with a secret beside it and a symlink out of it. */
function fakeBuild(): { root: string; build: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ui-test-'));
  const build = path.join(root, 'build');
  const files: Record<string, string> = {
    'index.html': '<!doctype html><script defer src="static-files/static/js/main.1.js"></script>',
    'static/js/main.1.js': 'console.log(1)',
    'static/css/main.1.css': 'body{}',
    'static/media/icon.svg': '<svg/>',
    'static/media/font.woff2': 'wOF2',
    'manifest.json': '{}',
    'favicon.ico': 'ico',
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(build, name)), { recursive: true });
    fs.writeFileSync(path.join(build, name), body);
  }
  fs.writeFileSync(path.join(root, 'secret.txt'), 'SECRET');
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(build, 'static', 'leak.txt'));
  fs.symlinkSync(root, path.join(build, 'static', 'up'));
  return { root, build };
}

describe('prefixedGetPath (STATIC_PREFIX routing)', () => {
  const route = (prefix: string, url: string) => prefixedGetPath(prefix)!(new Request(`http://h${url}`));
  it('strips the prefix, and routes anything outside it nowhere', () => {
    expect(route('', '/api/2.0/x?y=1')).toBe('/api/2.0/x');
    expect(route('/mlflow', '/mlflow')).toBe('/');
    expect(route('/mlflow', '/mlflow/')).toBe('/');
    expect(route('/mlflow', '/mlflow/api/2.0/x?y=1')).toBe('/api/2.0/x');
    expect(route('/a/b', '/a/b/health')).toBe('/health');
    for (const outside of ['/api/2.0/x', '/mlflowx/health', '/', '/mlflo', '/x/mlflow/health']) {
      expect(route('/mlflow', outside), outside).not.toMatch(/^\/(api|health|$)/);
      expect(route('/mlflow', outside)).toContain('\u0000');
    }
  });
});

describe('UI build discovery', () => {
  it("'' turns the UI off; a directory without index.html stops the start", async () => {
    expect(await findUiDir('', log)).toBeUndefined();
    await expect(findUiDir('/nonexistent/ui', log)).rejects.toBeInstanceOf(ConfigError);
    await expect(findUiDir(os.tmpdir(), log)).rejects.toThrow(/MLFLOW_UI_DIR must name an MLflow UI build/);
  });

  it('finds nothing on a PATH without mlflow or python3', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ui-path-'));
    try {
      expect(await findUiDir(undefined, log, { searchPath: empty })).toBeUndefined();
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it.skipIf(!fs.existsSync(path.join(VENV, 'bin', 'mlflow')))("finds the build of the venv's mlflow through the `mlflow` on PATH", async () => {
    const dir = await findUiDir(undefined, log, { searchPath: path.join(VENV, 'bin') });
    expect(dir).toMatch(/site-packages\/mlflow\/server\/js\/build$/);
    expect(fs.existsSync(path.join(dir!, 'index.html'))).toBe(true);
  });
});

describe.each(backends())('the UI and get-artifact over HTTP (AUTH=none, %s)', { timeout: 60_000 }, (backend) => {
  let s: TestServer;
  let dirs: { root: string; build: string };

  beforeAll(async () => {
    dirs = fakeBuild();
    s = await startTestServer(backend, { MLFLOW_UI_DIR: dirs.build });
    const put = await s.fetch('/api/2.0/mlflow-artifacts/artifacts/models/iris/MLmodel', { method: 'PUT', body: 'artifact_path: model\n' });
    expect(put.status).toBe(200);
    await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'iris' });
    expect((await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: 'mlflow-artifacts:/models/iris' })).status).toBe(200);
    expect((await s.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'iris', source: 's3://someone-elses-bucket/iris' })).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await s?.close();
    fs.rmSync(dirs.root, { recursive: true, force: true });
  });

  it('serves index.html at / (never cached) and the files at /static-files/ with their types, cached for 28 days', async () => {
    const index = await s.fetch('/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('static-files/static/js/main.1.js');
    const types: Record<string, string> = {
      'static/js/main.1.js': 'text/javascript; charset=utf-8',
      'static/css/main.1.css': 'text/css; charset=utf-8',
      'static/media/icon.svg': 'image/svg+xml',
      'static/media/font.woff2': 'font/woff2',
      'manifest.json': 'application/json',
      'favicon.ico': 'image/vnd.microsoft.icon',
    };
    for (const [file, type] of Object.entries(types)) {
      const res = await s.fetch(`/static-files/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toBe(type);
      expect(res.headers.get('cache-control'), file).toBe('public, max-age=2419200');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(fs.readFileSync(path.join(dirs.build, file), 'utf8'));
    }
    // Percent-encoded names are decoded once.
    expect((await s.fetch('/static-files/static/js/main%2E1.js')).status).toBe(200);
  });

  it('answers 304 to a current ETag, and HEAD without a body', async () => {
    const first = await s.fetch('/static-files/static/js/main.1.js');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    await first.arrayBuffer();
    const again = await s.fetch('/static-files/static/js/main.1.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const head = await s.fetch('/static-files/static/js/main.1.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String('console.log(1)'.length));
  });

  it('reads nothing outside the build, however the path is spelled', async () => {
    const attempts = [
      '/static-files/../secret.txt',
      '/static-files/%2e%2e/secret.txt',
      '/static-files/static/%2E%2E/%2e%2e/secret.txt',
      '/static-files/..%2fsecret.txt',
      '/static-files/static%2f..%2f..%2fsecret.txt',
      '/static-files/static%5c..%5c..%5csecret.txt',
      '/static-files/%2fetc%2fpasswd',
      '/static-files//etc/passwd',
      '/static-files/static/leak.txt', // a symlink out of the build
      '/static-files/static/up/secret.txt', // a directory symlink out of the build
      '/static-files/index.html%00.js',
      '/static-files/static', // a directory
      '/static-files/',
    ];
    for (const target of attempts) {
      const res = await rawGet(s.url, target);
      expect([400, 404], `${target}: ${res.status}`).toContain(res.status);
      expect(res.body, target).not.toContain('SECRET');
      expect(res.body, target).not.toContain('root:');
      expect(JSON.parse(res.body).error_code, target).toMatch(/ENDPOINT_NOT_FOUND|INVALID_PARAMETER_VALUE/);
    }
  });

  it('GET /model-versions/get-artifact serves a file of the version as MLflow does', async () => {
    const res = await s.fetch('/model-versions/get-artifact?name=iris&version=1&path=MLmodel');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=MLmodel');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe('artifact_path: model\n');
  });

  it('GET /model-versions/get-artifact answers bad requests with MLflow errors', async () => {
    const cases: [string, number, string, RegExp][] = [
      ['name=iris&version=1', 400, 'INVALID_PARAMETER_VALUE', /Missing value for required parameter 'path'/],
      ['name=iris&version=1&path=../x', 400, 'INVALID_PARAMETER_VALUE', /^Invalid path$/],
      ['name=iris&version=1&path=/etc/passwd', 400, 'INVALID_PARAMETER_VALUE', /^Invalid path$/],
      ['name=iris&version=1&path=nope', 404, 'RESOURCE_DOES_NOT_EXIST', /nope/],
      ['name=iris&version=9&path=MLmodel', 404, 'RESOURCE_DOES_NOT_EXIST', /Model Version \(name=iris, version=9\) not found/],
      ['name=nope&version=1&path=MLmodel', 404, 'RESOURCE_DOES_NOT_EXIST', /not found/],
      ['name=iris&version=x&path=MLmodel', 400, 'INVALID_PARAMETER_VALUE', /version/],
      // A location outside this server's store: no artifact repository for it here.
      ['name=iris&version=2&path=MLmodel', 404, 'RESOURCE_DOES_NOT_EXIST', /not in this server's artifact store/],
    ];
    for (const [q, status, code, message] of cases) {
      const res = await s.call('GET', `/model-versions/get-artifact?${q}`);
      expect(res.status, q).toBe(status);
      expect(res.body.error_code, q).toBe(code);
      expect(res.body.message, q).toMatch(message);
    }
  });

  it('answers users/current with 404 when authentication is off, as MLflow does (the UI then shows no user)', async () => {
    const res = await s.call('GET', '/ajax-api/2.0/mlflow/users/current');
    expect(res.status).toBe(404);
  });
});

describe('the UI routes with AUTH=basic', { timeout: 60_000 }, () => {
  const ADMIN_PW = 'ui-Admin-password-1';
  let s: TestServer;
  let dirs: { root: string; build: string };

  beforeAll(async () => {
    dirs = fakeBuild();
    s = await startTestServer('pglite', { MLFLOW_UI_DIR: dirs.build, AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PW, MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' });
    const admin = { authorization: basic('admin', ADMIN_PW), 'content-type': 'application/json' };
    const post = (p: string, body: unknown) => s.fetch(p, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    expect((await s.fetch('/api/2.0/mlflow-artifacts/artifacts/models/iris/MLmodel', { method: 'PUT', headers: { authorization: admin.authorization }, body: 'x' })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/registered-models/create', { name: 'iris' })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/model-versions/create', { name: 'iris', source: 'mlflow-artifacts:/models/iris' })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/users/create', { username: 'reader', password: 'reader-password-12' })).status).toBe(200);
    expect((await post('/api/2.0/mlflow/users/create', { username: 'stranger', password: 'stranger-password-1' })).status).toBe(200);
    const grant = { username: 'reader', resource_type: 'registered_model', resource_id: 'iris', permission: 'READ' };
    expect((await post('/api/3.0/mlflow/users/permissions/grant', grant)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await s?.close();
    fs.rmSync(dirs.root, { recursive: true, force: true });
  });

  it("serves the static files without login, the page to any user, and a version's files by READ on it", async () => {
    expect((await s.fetch('/static-files/static/js/main.1.js')).status).toBe(200);
    expect((await s.fetch('/')).status).toBe(401);
    expect((await s.fetch('/', { headers: { authorization: basic('stranger', 'stranger-password-1') } })).status).toBe(200);
    const artifact = '/model-versions/get-artifact?name=iris&version=1&path=MLmodel';
    expect((await s.fetch(artifact)).status).toBe(401);
    expect((await s.fetch(artifact, { headers: { authorization: basic('stranger', 'stranger-password-1') } })).status).toBe(403);
    const read = await s.fetch(artifact, { headers: { authorization: basic('reader', 'reader-password-12') } });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('x');
  });
});
