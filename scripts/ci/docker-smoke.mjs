// Conformance-style checks against a running server (here: the container image, from scripts/ci/docker.sh).
// Plain JavaScript on the host's node (no build step, no dependencies).
//
//   node scripts/ci/docker-smoke.mjs <base URL> <model name> fresh      # registry round trip on an empty store
//   node scripts/ci/docker-smoke.mjs <base URL> <model name> persisted  # after a restart: the same data is there
//
// Prints one line per check and exits 1 if any failed.
import { createHash } from 'node:crypto';
import http from 'node:http';

const [base, name, phase] = process.argv.slice(2);
if (!base || !name || !['fresh', 'persisted'].includes(phase)) {
  console.error('usage: docker-smoke.mjs <base URL> <model name> fresh|persisted');
  process.exit(2);
}
const API = `${base}/api/2.0/mlflow`;
const ARTIFACTS = `${base}/api/2.0/mlflow-artifacts/artifacts`;
const artifactPath = `smoke/${name}/model/model.bin`;
// 256 KiB that depend only on the model name, so that the persisted phase knows what to expect.
const payload = Buffer.concat(
  Array.from({ length: 8192 }, (_, i) => createHash('sha256').update(`${name}:${i}`).digest()),
);

let passed = 0;
let failed = 0;
async function check(what, fn) {
  try {
    await fn();
    passed++;
    console.log(`  ok    ${what}`);
  } catch (err) {
    failed++;
    console.log(`  FAIL  ${what}: ${err.message}`);
  }
}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
async function call(method, url, body) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
function ok200(r) {
  expect(r.status === 200, `status ${r.status}: ${r.text.slice(0, 300)}`);
  return r.json;
}
const q = (params) => new URLSearchParams(params).toString();

/** A GET with an explicit Host header (fetch does not let one set it). */
function getWithHost(url, host) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
  });
}

await check('GET /health answers 200', async () => {
  const r = await fetch(`${base}/health`);
  expect(r.status === 200, `status ${r.status}`);
});

if (phase === 'fresh') {
  await check('GET /version, /openapi.json, /docs and a Swagger UI asset', async () => {
    expect((await fetch(`${base}/version`)).status === 200, '/version');
    const spec = ok200(await call('GET', `${base}/openapi.json`));
    expect(String(spec.openapi).startsWith('3.1'), `openapi field ${spec.openapi}`);
    const docs = await fetch(`${base}/docs`);
    expect(docs.status === 200 && (await docs.text()).includes('swagger-ui-bundle.js'), `/docs ${docs.status}`);
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status === 200 && (await bundle.arrayBuffer()).byteLength > 100_000, `/docs/swagger-ui-bundle.js ${bundle.status}`);
  });

  await check('create a registered model with a tag and a description', async () => {
    const body = ok200(
      await call('POST', `${API}/registered-models/create`, { name, description: 'container smoke', tags: [{ key: 'origin', value: 'docker' }] }),
    );
    expect(body.registered_model?.name === name, JSON.stringify(body));
  });

  await check('create the same model again: 400 RESOURCE_ALREADY_EXISTS', async () => {
    const r = await call('POST', `${API}/registered-models/create`, { name });
    expect(r.status === 400 && r.json?.error_code === 'RESOURCE_ALREADY_EXISTS', `${r.status} ${r.text.slice(0, 200)}`);
  });

  await check('create a model version from an mlflow-artifacts source', async () => {
    const body = ok200(
      await call('POST', `${API}/model-versions/create`, { name, source: `mlflow-artifacts:/smoke/${name}/model`, description: 'v1' }),
    );
    expect(body.model_version?.version === '1', JSON.stringify(body));
  });

  await check('set the alias "champion" on version 1', async () => {
    ok200(await call('POST', `${API}/registered-models/alias`, { name, alias: 'champion', version: '1' }));
  });

  await check('upload an artifact (256 KiB) through the mlflow-artifacts proxy', async () => {
    const r = await fetch(`${ARTIFACTS}/${artifactPath}`, { method: 'PUT', body: payload, headers: { 'content-type': 'application/octet-stream' } });
    expect(r.status === 200, `status ${r.status}: ${(await r.text()).slice(0, 200)}`);
  });

  await check('unknown model: 404 RESOURCE_DOES_NOT_EXIST with an MLflow error body', async () => {
    const r = await call('GET', `${API}/registered-models/get?${q({ name: `${name}-missing` })}`);
    expect(r.status === 404, `status ${r.status}`);
    expect(r.json?.error_code === 'RESOURCE_DOES_NOT_EXIST' && typeof r.json.message === 'string', r.text.slice(0, 200));
  });

  await check('unknown endpoint: JSON 404 ENDPOINT_NOT_FOUND', async () => {
    const r = await call('GET', `${API}/no-such-endpoint`);
    expect(r.status === 404 && r.json?.error_code === 'ENDPOINT_NOT_FOUND', `${r.status} ${r.text.slice(0, 200)}`);
  });

  await check('Host allowlist: a public host name gets 403, /health stays open', async () => {
    const url = new URL(`${API}/registered-models/search`);
    expect((await getWithHost(url, 'registry.example.com')) === 403, 'API with Host: registry.example.com was not refused');
    expect((await getWithHost(new URL(`${base}/health`), 'registry.example.com')) === 200, '/health refused');
  });
}

// Both phases: what was written is there (after a restart: still there).
await check('get the model: description, tag and alias', async () => {
  const m = ok200(await call('GET', `${API}/registered-models/get?${q({ name })}`)).registered_model;
  expect(m?.description === 'container smoke', `description ${m?.description}`);
  expect(m.tags?.some((t) => t.key === 'origin' && t.value === 'docker'), `tags ${JSON.stringify(m.tags)}`);
  expect(m.aliases?.some((a) => a.alias === 'champion' && a.version === '1'), `aliases ${JSON.stringify(m.aliases)}`);
});

await check('search finds the model by name and by tag', async () => {
  const byName = ok200(await call('GET', `${API}/registered-models/search?${q({ filter: `name = '${name}'` })}`));
  expect(byName.registered_models?.length === 1, JSON.stringify(byName));
  const byTag = ok200(await call('GET', `${API}/registered-models/search?${q({ filter: "tags.origin = 'docker'" })}`));
  expect(byTag.registered_models?.some((m) => m.name === name), JSON.stringify(byTag));
});

await check('get version 1 by the alias "champion"', async () => {
  const v = ok200(await call('GET', `${API}/registered-models/alias?${q({ name, alias: 'champion' })}`)).model_version;
  expect(v?.version === '1' && v.source === `mlflow-artifacts:/smoke/${name}/model`, JSON.stringify(v));
});

await check('search model versions by name', async () => {
  const body = ok200(await call('GET', `${API}/model-versions/search?${q({ filter: `name = '${name}'` })}`));
  expect(body.model_versions?.length === 1 && body.model_versions[0].version === '1', JSON.stringify(body));
});

await check('list and download the artifact: same 256 KiB', async () => {
  const list = ok200(await call('GET', `${ARTIFACTS}?${q({ path: `smoke/${name}/model` })}`));
  expect(list.files?.some((f) => f.path === 'model.bin' && Number(f.file_size) === payload.length), JSON.stringify(list));
  const r = await fetch(`${ARTIFACTS}/${artifactPath}`);
  expect(r.status === 200, `status ${r.status}`);
  const got = Buffer.from(await r.arrayBuffer());
  expect(got.equals(payload), `downloaded ${got.length} bytes that differ from the upload`);
});

console.log(`docker smoke (${phase}): ${passed} checks ok, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
