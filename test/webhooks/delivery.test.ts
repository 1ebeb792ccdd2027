/**
 * Delivery of registry events to webhooks, end to end over HTTP: a real receiver checks MLflow's
 * payload and signature for every event type (model and prompt), routing to exactly the subscribed,
 * active webhooks, retries (Retry-After, backoff, give-up, timeouts, network errors), cancellation
 * when a webhook is deleted or disabled, and the delivery log of the history API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { Receiver, eventually, sleep, type Received } from './receiver.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const W = '/api/2.0/mlflow/webhooks';
const R = '/api/2.0/mlflow';
const PROMPT = { key: 'mlflow.prompt.is_prompt', value: 'true' };
const ALL_EVENTS = [
  ['REGISTERED_MODEL', 'CREATED'],
  ['MODEL_VERSION', 'CREATED'],
  ['MODEL_VERSION_TAG', 'SET'],
  ['MODEL_VERSION_TAG', 'DELETED'],
  ['MODEL_VERSION_ALIAS', 'CREATED'],
  ['MODEL_VERSION_ALIAS', 'DELETED'],
  ['PROMPT', 'CREATED'],
  ['PROMPT_VERSION', 'CREATED'],
  ['PROMPT_TAG', 'SET'],
  ['PROMPT_TAG', 'DELETED'],
  ['PROMPT_VERSION_TAG', 'SET'],
  ['PROMPT_VERSION_TAG', 'DELETED'],
  ['PROMPT_ALIAS', 'CREATED'],
  ['PROMPT_ALIAS', 'DELETED'],
].map(([entity, action]) => ({ entity, action }));

let seq = 0;
const uniq = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;

describe.each(backendsWithS3())('webhook delivery (%s)', (backend) => {
  let s: TestServer;
  let all: Receiver; // every event, signed
  let mv: Receiver; // model_version.created only, unsigned
  let off: Receiver; // DISABLED webhook
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await s.call(method, path, body);
    expect(r.status, `${method} ${path} ${JSON.stringify(r.body)}`).toBe(200);
    return r.body;
  };
  const hook = async (name: string, rx: Receiver, events: { entity: string; action: string }[], extra: Record<string, unknown> = {}) =>
    (await ok('POST', W, { name, url: `${rx.url}/${name}`, events, ...extra })).webhook.webhook_id as string;

  beforeAll(async () => {
    [all, mv, off] = await Promise.all([Receiver.start(), Receiver.start(), Receiver.start()]);
    s = await startTestServer(backend, {
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '400',
      MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES: '3',
      MLFLOW_WEBHOOK_REQUEST_TIMEOUT: '1',
      // Long on purpose: deliveries must be woken by commits and retry timers, not found by polling.
      WEBHOOK_POLL_INTERVAL_MS: '60000',
    });
    all.secret = 'all-secret';
    await hook('all', all, ALL_EVENTS, { secret: 'all-secret' });
    await hook('mv', mv, [{ entity: 'MODEL_VERSION', action: 'CREATED' }]);
    await hook('off', off, ALL_EVENTS, { status: 'DISABLED' });
  });
  afterAll(async () => {
    await s.close();
    await Promise.all([all.close(), mv.close(), off.close()]);
  });

  it('delivers every event type with MLflow\'s payload, signature and headers (models and prompts)', async () => {
    const m = uniq('model');
    const p = uniq('prompt');
    const latencies: number[] = [];
    const steps: [string, string, unknown, string | null, Record<string, unknown> | null][] = [
      ['POST', '/registered-models/create', { name: m, tags: [{ key: 'team', value: 'ml' }], description: 'd' }, 'registered_model.created', { name: m, tags: { team: 'ml' }, description: 'd' }],
      [
        'POST',
        '/model-versions/create',
        { name: m, source: 's3://bucket/m/1', run_id: 'abc123', tags: [{ key: 'k', value: 'v' }] },
        'model_version.created',
        { name: m, version: '1', source: 's3://bucket/m/1', run_id: 'abc123', tags: { k: 'v' }, description: null },
      ],
      ['POST', '/model-versions/set-tag', { name: m, version: '1', key: 'stage', value: 'é prod' }, 'model_version_tag.set', { name: m, version: '1', key: 'stage', value: 'é prod' }],
      ['DELETE', '/model-versions/delete-tag', { name: m, version: '1', key: 'stage' }, 'model_version_tag.deleted', { name: m, version: '1', key: 'stage' }],
      ['POST', '/registered-models/alias', { name: m, alias: 'champion', version: '1' }, 'model_version_alias.created', { name: m, alias: 'champion', version: '1' }],
      ['DELETE', '/registered-models/alias', { name: m, alias: 'champion' }, 'model_version_alias.deleted', { name: m, alias: 'champion' }],
      // Changes MLflow does not announce: recorded for the history, never delivered.
      ['POST', '/registered-models/set-tag', { name: m, key: 'team', value: 'ops' }, null, null],
      ['PATCH', '/registered-models/update', { name: m, description: 'new' }, null, null],
      ['POST', '/model-versions/transition-stage', { name: m, version: '1', stage: 'Staging', archive_existing_versions: false }, null, null],
      [
        'POST',
        '/registered-models/create',
        { name: p, tags: [PROMPT, { key: '_mlflow_prompt_type', value: 'text' }, { key: 'team', value: 'x' }], description: 'pd' },
        'prompt.created',
        { name: p, tags: { team: 'x' }, description: 'pd' },
      ],
      [
        'POST',
        '/model-versions/create',
        { name: p, source: 'dummy-source', tags: [PROMPT, { key: 'mlflow.prompt.text', value: 'Hello {{name}}!' }, { key: 'author', value: 'me' }], description: 'v1' },
        'prompt_version.created',
        { name: p, version: '1', template: 'Hello {{name}}!', tags: { author: 'me' }, description: 'v1' },
      ],
      ['POST', '/registered-models/set-tag', { name: p, key: 'env', value: 'dev' }, 'prompt_tag.set', { name: p, key: 'env', value: 'dev' }],
      ['DELETE', '/registered-models/delete-tag', { name: p, key: 'env' }, 'prompt_tag.deleted', { name: p, key: 'env' }],
      ['POST', '/model-versions/set-tag', { name: p, version: '1', key: 'x', value: 'y' }, 'prompt_version_tag.set', { name: p, version: '1', key: 'x', value: 'y' }],
      ['DELETE', '/model-versions/delete-tag', { name: p, version: '1', key: 'x' }, 'prompt_version_tag.deleted', { name: p, version: '1', key: 'x' }],
      ['POST', '/registered-models/alias', { name: p, alias: 'prod', version: '1' }, 'prompt_alias.created', { name: p, alias: 'prod', version: '1' }],
      ['DELETE', '/registered-models/alias', { name: p, alias: 'prod' }, 'prompt_alias.deleted', { name: p, alias: 'prod' }],
      ['POST', '/registered-models/rename', { name: m, new_name: `${m}-renamed` }, null, null],
      ['DELETE', '/model-versions/delete', { name: `${m}-renamed`, version: '1' }, null, null],
      ['DELETE', '/registered-models/delete', { name: `${m}-renamed` }, null, null],
    ];
    const seen = new Set<string>();
    for (const [method, path, body, event, data] of steps) {
      const before = all.requests.length;
      const t0 = Date.now();
      await ok(method, R + path, body);
      if (event === null) continue;
      const reqs = await all.waitFor((r) => r.length > before, 5000);
      latencies.push(reqs[before]!.at - t0);
      const got: Received = reqs[before]!;
      expect(`${got.json.entity}.${got.json.action}`).toBe(event);
      expect(got.json.data).toEqual(data);
      expect(Object.keys(got.json.data)).toEqual(Object.keys(data!)); // MLflow's key order
      expect(got.problems).toEqual([]);
      expect(Object.keys(got.json)).toEqual(['entity', 'action', 'timestamp', 'data']); // no workspace while they are off
      expect(got.signatureOk).toBe(true);
      expect(got.path).toBe('/all');
      seen.add(event);
    }
    expect(seen.size).toBe(14);
    await sleep(300);
    // Non-webhook changes delivered nothing; the DISABLED webhook got nothing; the unsigned one got
    // exactly the two version creations, without a signature header.
    expect(all.requests).toHaveLength(14);
    expect(off.requests).toHaveLength(0);
    expect(mv.requests.map((r) => `${r.json.entity}.${r.json.action}`)).toEqual(['model_version.created']);
    expect(mv.requests[0]!.headers).not.toHaveProperty('x-mlflow-signature');
    expect(mv.requests[0]!.problems).toEqual([]);
    // A delivery id is unique per (event, webhook).
    expect(new Set(all.requests.map((r) => r.deliveryId)).size).toBe(14);
    expect(all.requests[1]!.deliveryId).not.toBe(mv.requests[0]!.deliveryId);
    latencies.sort((a, b) => a - b);
    console.log(`[${backend}] commit-to-receipt latency over ${latencies.length} deliveries: p50 ${latencies[latencies.length >> 1]} ms, max ${latencies.at(-1)} ms`);
    expect(latencies.at(-1)!).toBeLessThan(5000); // far below the 60 s poll interval: woken by the commit
  });

  it('retries 503 honouring Retry-After, with the same delivery id and a fresh valid signature', async () => {
    const rx = await Receiver.start();
    try {
      rx.secret = 'retry';
      rx.answer = (_r, n) => (n <= 2 ? { status: 503, body: 'busy', headers: { 'retry-after': '1' } } : { status: 200, body: 'done' });
      const id = await hook(uniq('retry'), rx, [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }], { secret: 'retry' });
      await ok('POST', `${R}/registered-models/create`, { name: uniq('r') });
      const reqs = await rx.waitFor((r) => r.length >= 3, 8000);
      expect(new Set(reqs.map((r) => r.deliveryId)).size).toBe(1);
      expect(reqs.every((r) => r.signatureOk && r.problems.length === 0)).toBe(true);
      expect(reqs.every((r) => r.body === reqs[0]!.body)).toBe(true); // same body on every attempt
      expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(900);
      expect(reqs[2]!.at - reqs[1]!.at).toBeGreaterThanOrEqual(900);
      const d = await eventually(async () => {
        const r = await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries`);
        return r.deliveries?.[0]?.status === 'DELIVERED' ? r.deliveries[0] : undefined;
      });
      expect(d).toMatchObject({ delivery_id: reqs[0]!.deliveryId, entity: 'registered_model', action: 'created', attempt_count: 3, last_response_status: 200 });
      expect(d.attempts.map((a: { response_status: number }) => a.response_status)).toEqual([503, 503, 200]);
      expect(d.attempts[0]).toMatchObject({ attempt: 1, response_body: 'busy', error: 'HTTP 503' });
      await sleep(300);
      expect(rx.requests).toHaveLength(3);
    } finally {
      await rx.close();
    }
  });

  it('backs off exponentially on 5xx and gives up after MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES retries', async () => {
    const rx = await Receiver.start();
    try {
      rx.answer = () => ({ status: 500, body: 'nope' });
      const id = await hook(uniq('fail'), rx, [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]);
      await ok('POST', `${R}/registered-models/create`, { name: uniq('f') });
      const d = await eventually(async () => {
        const r = await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?status=FAILED`);
        return r.deliveries?.[0];
      }, 10_000);
      expect(rx.requests).toHaveLength(4); // 1 + 3 retries
      const gaps = rx.requests.slice(1).map((r, i) => r.at - rx.requests[i]!.at);
      expect(gaps[0]).toBeGreaterThanOrEqual(45);
      expect(gaps[2]).toBeGreaterThanOrEqual(190); // 50 · 2²
      expect(d).toMatchObject({ status: 'FAILED', attempt_count: 4, last_response_status: 500, last_error: 'HTTP 500; gave up after 4 attempts.' });
      expect(d.finished_timestamp).toBeGreaterThan(0);
    } finally {
      await rx.close();
    }
  });

  it('does not retry other 4xx; retries timeouts and connection errors', async () => {
    const rx = await Receiver.start();
    try {
      rx.answer = (r) => (r.json.action === 'set' ? { status: 410, body: 'gone' } : r.json.data.name === 'hang-once' && rx.requests.length === 1 ? 'hang' : { status: 204 });
      const id = await hook(uniq('mixed'), rx, [
        { entity: 'MODEL_VERSION_TAG', action: 'SET' },
        { entity: 'REGISTERED_MODEL', action: 'CREATED' },
      ]);
      const m = uniq('x');
      await ok('POST', `${R}/registered-models/create`, { name: 'hang-once' });
      await ok('POST', `${R}/registered-models/create`, { name: m });
      await ok('POST', `${R}/model-versions/create`, { name: m, source: 's3://b/k' });
      await ok('POST', `${R}/model-versions/set-tag`, { name: m, version: '1', key: 'a', value: 'b' });
      const ds = await eventually(async () => {
        const r = await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries`);
        const list = r.deliveries ?? [];
        return list.length === 3 && list.every((d: { status: string }) => d.status !== 'PENDING' && d.status !== 'IN_FLIGHT') ? list : undefined;
      }, 10_000);
      const byEvent = Object.fromEntries(ds.map((d: { entity: string; action: string }) => [`${d.entity}.${d.action}`, d]));
      const tagSet = byEvent['model_version_tag.set'];
      expect(tagSet).toMatchObject({ status: 'FAILED', attempt_count: 1, last_response_status: 410, last_error: 'HTTP 410' });
      const hung = ds.find((d: { attempts: { error?: string }[] }) => d.attempts[0]?.error?.startsWith('Read timed out'));
      expect(hung).toMatchObject({ status: 'DELIVERED', attempt_count: 2, last_response_status: 204 });

      // Connection refused: retried, then failed.
      const dead = await ok('POST', W, { name: uniq('dead'), url: 'http://127.0.0.1:1/x', events: [{ entity: 'PROMPT', action: 'CREATED' }] });
      await ok('POST', `${R}/registered-models/create`, { name: uniq('pp'), tags: [PROMPT] });
      const d = await eventually(async () => (await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${dead.webhook.webhook_id}/deliveries?status=FAILED`)).deliveries?.[0], 10_000);
      expect(d.attempt_count).toBe(4);
      expect(d.last_error).toMatch(/^ECONNREFUSED: .*gave up after 4 attempts\.$/);
    } finally {
      await rx.close();
    }
  });

  it('cancels pending deliveries when the webhook is deleted or disabled', async () => {
    const rx = await Receiver.start();
    try {
      // Long enough for the deletes below to land before the second attempt on a busy machine (1 s was not).
      rx.answer = () => ({ status: 503, headers: { 'retry-after': '6' } });
      const del = await hook(uniq('del'), rx, [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]);
      const dis = await hook(uniq('dis'), rx, [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]);
      await ok('POST', `${R}/registered-models/create`, { name: uniq('c') });
      await rx.waitFor((r) => r.length >= 2);
      const status = async (id: string) => (await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries`)).deliveries?.[0]?.status;
      await eventually(async () => (await status(del)) === 'PENDING' && (await status(dis)) === 'PENDING');
      await ok('DELETE', `${W}/${del}`);
      await ok('PATCH', `${W}/${dis}`, { status: 'DISABLED' });
      const [a, b] = await eventually(async () => {
        const x = (await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${del}/deliveries`)).deliveries?.[0];
        const y = (await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${dis}/deliveries`)).deliveries?.[0];
        // The worker cancels a delivery when it comes due (6 s after the first attempt).
        return x?.status === 'CANCELLED' && y?.status === 'CANCELLED' ? [x, y] : undefined;
      }, 20_000);
      expect(a).toMatchObject({ attempt_count: 1, last_error: 'The webhook was deleted.' });
      expect(b).toMatchObject({ attempt_count: 1, last_error: 'The webhook is disabled.' });
      // A cancelled delivery is never attempted again.
      await sleep(1300);
      expect(rx.requests).toHaveLength(2);
    } finally {
      await rx.close();
    }
  }, 60_000);

  it('lists deliveries with pagination and status filter, and validates its parameters', async () => {
    const rx = await Receiver.start();
    try {
      const id = await hook(uniq('pages'), rx, [{ entity: 'PROMPT_TAG', action: 'SET' }]);
      const p = uniq('pp');
      await ok('POST', `${R}/registered-models/create`, { name: p, tags: [PROMPT] });
      for (let i = 0; i < 5; i++) await ok('POST', `${R}/registered-models/set-tag`, { name: p, key: `k${i}`, value: String(i) });
      await rx.waitFor((r) => r.length === 5);
      await eventually(async () => (await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?status=DELIVERED`)).deliveries?.length === 5);
      const first = await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?max_results=2`);
      expect(first.deliveries).toHaveLength(2);
      expect(first.next_page_token).toBe('eyJvZmZzZXQiOiAyfQ==');
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?max_results=2${token ? `&page_token=${token}` : ''}`);
        keys.push(...r.deliveries.map((d: { delivery_id: string }) => d.delivery_id));
        token = r.next_page_token;
      } while (token);
      expect(keys).toHaveLength(5);
      expect(new Set(keys)).toEqual(new Set(rx.requests.map((r) => r.deliveryId)));
      expect(await ok('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?status=FAILED`)).toEqual({});
      const bad = await s.call('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?status=LOST`);
      expect(bad.status).toBe(400);
      expect((await s.call('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries?max_results=5000`)).body.message).toBe('max_results must be between 1 and 1000.');
      expect((await s.call('GET', `/api/2.0/mlflow-ts/history/webhooks/nope/deliveries`)).status).toBe(404);
    } finally {
      await rx.close();
    }
  });
});
