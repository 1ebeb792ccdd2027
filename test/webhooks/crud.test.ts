/**
 * Webhook CRUD over HTTP, as MLflow answers it: validation and its messages, the secret encrypted at
 * rest and never returned, soft delete, pagination, update semantics, test deliveries, and the URL
 * policy (schemes, SSRF) when private targets are not allowed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendsWithS3, startTestServer, type TestServer } from '../helpers/server.js';
import { Fernet } from '../../packages/server/src/webhooks/fernet.js';
import { Receiver, eventually } from './receiver.js';
import { useSpecValidation } from '../helpers/spec-responses.js';

// Every response these tests receive is checked against openapi/openapi.yaml (issue 17).
useSpecValidation();

const KEY = Fernet.generateKey();
const W = '/api/2.0/mlflow/webhooks';
const EV = (entity: string, action: string) => ({ entity, action });

describe.each(backendsWithS3())('webhook CRUD (%s)', (backend) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await Receiver.start();
    s = await startTestServer(backend, {
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: KEY,
    });
  });
  afterAll(async () => {
    await s.close();
    await rx.close();
  });

  const create = (body: Record<string, unknown>) => s.call('POST', W, { name: 'hook', url: `${rx.url}/h`, events: [EV('MODEL_VERSION', 'CREATED')], ...body });

  it('creates a webhook and answers MLflow\'s shape, without the secret', async () => {
    const r = await create({
      name: 'deploy-hook',
      description: 'redeploy',
      events: [EV('MODEL_VERSION_ALIAS', 'CREATED'), EV('PROMPT_ALIAS', 'DELETED')],
      secret: 'top-secret',
    });
    expect(r.status).toBe(200);
    const w = r.body.webhook;
    expect(Object.keys(w)).toEqual(['webhook_id', 'name', 'description', 'url', 'events', 'status', 'creation_timestamp', 'last_updated_timestamp']);
    expect(w).toMatchObject({
      name: 'deploy-hook',
      description: 'redeploy',
      url: `${rx.url}/h`,
      events: [EV('MODEL_VERSION_ALIAS', 'CREATED'), EV('PROMPT_ALIAS', 'DELETED')],
      status: 'ACTIVE',
    });
    expect(w.webhook_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(w.creation_timestamp).toBe(w.last_updated_timestamp);
    expect(JSON.stringify(r.body)).not.toContain('top-secret');

    const got = await s.call('GET', `${W}/${w.webhook_id}`);
    expect(got.body).toEqual({ webhook: w });
    expect(JSON.stringify(got.body)).not.toContain('secret');

    // At rest: MLflow's column, Fernet-encrypted with the configured key, lower-case events.
    const rows = await s.server.db.query<{ secret: string; status: string }>(`SELECT secret, status FROM webhooks WHERE webhook_id = $1`, [w.webhook_id]);
    expect(rows[0]!.secret).toMatch(/^gAAAAA/);
    expect(new Fernet(KEY).decrypt(rows[0]!.secret)).toBe('top-secret');
    const events = await s.server.db.query(`SELECT entity, action FROM webhook_events WHERE webhook_id = $1 ORDER BY entity`, [w.webhook_id]);
    expect(events).toEqual([
      { entity: 'model_version_alias', action: 'created' },
      { entity: 'prompt_alias', action: 'deleted' },
    ]);
  });

  it('omits an empty description, defaults status to ACTIVE, accepts DISABLED and enum numbers', async () => {
    const a = await create({ description: '' });
    expect(a.body.webhook).not.toHaveProperty('description');
    expect(a.body.webhook.status).toBe('ACTIVE');
    const b = await create({ status: 'DISABLED', events: [{ entity: 2, action: 1 }] });
    expect(b.status).toBe(200);
    expect(b.body.webhook).toMatchObject({ status: 'DISABLED', events: [EV('MODEL_VERSION', 'CREATED')] });
    // Proto numbers (webhooks.proto): PROMPT_VERSION_TAG=8, BUDGET_POLICY=10; DELETED=3, SET=4, EXCEEDED=5; DISABLED=2.
    const c = await create({ status: 2, events: [{ entity: 10, action: 5 }, { entity: 8, action: 4 }, { entity: 4, action: 3 }] });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body.webhook).toMatchObject({ status: 'DISABLED' });
    expect(c.body.webhook.events).toEqual(
      expect.arrayContaining([EV('BUDGET_POLICY', 'EXCEEDED'), EV('PROMPT_VERSION_TAG', 'SET'), EV('MODEL_VERSION_ALIAS', 'DELETED')]),
    );
    expect(c.body.webhook.events).toHaveLength(3);
  });

  it('validates like MLflow, with its messages', async () => {
    const bad = async (body: Record<string, unknown>, message: string | RegExp) => {
      const r = await s.call('POST', W, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      if (typeof message === 'string') expect(r.body.message).toBe(message);
      else expect(r.body.message).toMatch(message);
    };
    const ok = { name: 'ok', url: `${rx.url}/h`, events: [EV('MODEL_VERSION', 'CREATED')] };
    await bad({ ...ok, name: undefined }, "Missing value for required parameter 'name'. See the API docs for more information about request parameters.");
    await bad({ ...ok, url: '' }, "Missing value for required parameter 'url'. See the API docs for more information about request parameters.");
    await bad({ ...ok, events: undefined }, "Missing value for required parameter 'events'. See the API docs for more information about request parameters.");
    await bad(
      { ...ok, name: 'bad name' },
      "Webhook name 'bad name' is invalid. It must start and end with a letter or digit, be less than 63 characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-).",
    );
    await bad({ ...ok, name: '-x' }, /^Webhook name '-x' is invalid/);
    await bad({ ...ok, name: 'a'.repeat(64) }, /is invalid/);
    await bad({ ...ok, url: 'ftp://example.com/x' }, "Invalid webhook URL scheme: 'ftp'. Allowed schemes are: http, https.");
    await bad({ ...ok, url: '   ' }, "Webhook URL cannot be empty or just whitespace: '   '");
    await bad({ ...ok, url: 'http:///path' }, "Webhook URL must include a hostname: 'http:///path'");
    await bad({ ...ok, events: [] }, 'Webhook events must be a non-empty list of WebhookEvent objects: [].');
    await bad({ ...ok, events: [EV('REGISTERED_MODEL', 'UPDATED')] }, "Invalid action 'updated' for entity 'registered_model'. Valid actions are: ['created']");
    await bad({ ...ok, events: [EV('MODEL_VERSION_TAG', 'CREATED')] }, "Invalid action 'created' for entity 'model_version_tag'. Valid actions are: ['deleted', 'set']");
    // The pair check runs in the handler, before the store's name check (as in MLflow).
    await bad({ ...ok, name: 'bad name', events: [EV('PROMPT', 'SET')] }, "Invalid action 'set' for entity 'prompt'. Valid actions are: ['created']");
    await bad({ ...ok, events: [EV('NOPE', 'CREATED')] }, /^Invalid webhook event entity: "NOPE"/);
    await bad({ ...ok, name: 5 }, "Invalid value 5 for parameter 'name' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters.");
    await bad({ ...ok, status: 'PAUSED' }, /^Invalid webhook status: "PAUSED"/);
    await bad({ ...ok, description: 'x'.repeat(1001) }, /description/);
    // Duplicate events: MLflow's integrity error, reported as BAD_REQUEST.
    const dup = await s.call('POST', W, { ...ok, events: [EV('MODEL_VERSION', 'CREATED'), EV('MODEL_VERSION', 'CREATED')] });
    expect(dup.status).toBe(400);
    expect(dup.body.error_code).toBe('BAD_REQUEST');
  });

  it('accepts budget_policy.exceeded like MLflow 3.17 (never fired here) and tests it with the float example', async () => {
    rx.reset();
    const w = (await create({ name: 'budget', events: [EV('BUDGET_POLICY', 'EXCEEDED')] })).body.webhook;
    expect(w.events).toEqual([EV('BUDGET_POLICY', 'EXCEEDED')]);
    const t = await s.call('POST', `${W}/${w.webhook_id}/test`, {});
    expect(t.body.result.success).toBe(true);
    expect(rx.requests[0]!.body).toContain('"budget_amount": 100.0, "current_spend": 105.5,');
  });

  it('404s on unknown ids, for every operation', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const msg = `Webhook with ID ${id} not found.`;
    for (const [method, path, body] of [
      ['GET', `${W}/${id}`, undefined],
      ['PATCH', `${W}/${id}`, { name: 'x' }],
      ['DELETE', `${W}/${id}`, undefined],
      ['POST', `${W}/${id}/test`, {}],
    ] as const) {
      const r = await s.call(method, path, body);
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.body).toMatchObject({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: msg });
    }
  });

  it('updates: name/url/events when truthy, description/secret/status when present; events replace', async () => {
    const w = (await create({ name: 'upd', description: 'first', secret: 's1' })).body.webhook;
    await new Promise((r) => setTimeout(r, 5));
    const u1 = await s.call('PATCH', `${W}/${w.webhook_id}`, { name: '', url: '', events: [], status: 'DISABLED' });
    expect(u1.status).toBe(200);
    expect(u1.body.webhook).toMatchObject({ name: 'upd', url: w.url, events: w.events, description: 'first', status: 'DISABLED' });
    expect(u1.body.webhook.last_updated_timestamp).toBeGreaterThan(w.last_updated_timestamp);
    expect(u1.body.webhook.creation_timestamp).toBe(w.creation_timestamp);

    const u2 = await s.call('PATCH', `${W}/${w.webhook_id}`, {
      name: 'renamed',
      url: `${rx.url}/other`,
      events: [EV('PROMPT', 'CREATED'), EV('MODEL_VERSION_TAG', 'DELETED')],
      status: 'ACTIVE',
    });
    expect(u2.body.webhook).toMatchObject({
      name: 'renamed',
      url: `${rx.url}/other`,
      events: [EV('PROMPT', 'CREATED'), EV('MODEL_VERSION_TAG', 'DELETED')],
      status: 'ACTIVE',
      description: 'first',
    });
    // An explicit empty description clears it (MLflow applies description whenever the field is set).
    const u3 = await s.call('PATCH', `${W}/${w.webhook_id}`, { description: '' });
    expect(u3.body.webhook).not.toHaveProperty('description');
    // Secrets: replaced when given, never returned.
    const u4 = await s.call('PATCH', `${W}/${w.webhook_id}`, { secret: 's2' });
    expect(JSON.stringify(u4.body)).not.toContain('s2');
    const rows = await s.server.db.query<{ secret: string }>(`SELECT secret FROM webhooks WHERE webhook_id = $1`, [w.webhook_id]);
    expect(new Fernet(KEY).decrypt(rows[0]!.secret)).toBe('s2');
    // Validation of supplied values.
    const bad = await s.call('PATCH', `${W}/${w.webhook_id}`, { url: 'gopher://x' });
    expect(bad).toMatchObject({ status: 400, body: { message: "Invalid webhook URL scheme: 'gopher'. Allowed schemes are: http, https." } });
    const badPair = await s.call('PATCH', `${W}/${w.webhook_id}`, { events: [EV('PROMPT_ALIAS', 'SET')] });
    expect(badPair.body.message).toBe("Invalid action 'set' for entity 'prompt_alias'. Valid actions are: ['created', 'deleted']");
  });

  it('soft-deletes: gone from get and list, row kept with deleted_timestamp', async () => {
    const w = (await create({ name: 'to-delete' })).body.webhook;
    const d = await s.call('DELETE', `${W}/${w.webhook_id}`);
    expect(d).toEqual({ status: 200, body: {} });
    expect((await s.call('GET', `${W}/${w.webhook_id}`)).status).toBe(404);
    expect((await s.call('DELETE', `${W}/${w.webhook_id}`)).status).toBe(404);
    const list = await s.call('GET', `${W}?max_results=1000`);
    expect(list.body.webhooks.map((x: { webhook_id: string }) => x.webhook_id)).not.toContain(w.webhook_id);
    const rows = await s.server.db.query<{ deleted_timestamp: number | null }>(`SELECT deleted_timestamp FROM webhooks WHERE webhook_id = $1`, [w.webhook_id]);
    expect(rows[0]!.deleted_timestamp).toBeGreaterThan(0);
  });

  it('lists newest first with MLflow page tokens and bounds', async () => {
    for (let i = 0; i < 5; i++) {
      await create({ name: `page-${i}` });
      await new Promise((r) => setTimeout(r, 2));
    }
    const all = (await s.call('GET', `${W}?max_results=1000`)).body.webhooks as { name: string; creation_timestamp: number }[];
    const ts = all.map((w) => w.creation_timestamp);
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await s.call('GET', `${W}?max_results=2${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.webhooks.map((w: { name: string }) => w.name));
      token = r.body.next_page_token;
      pages++;
      if (pages === 1) expect(token).toBe('eyJvZmZzZXQiOiAyfQ==');
    } while (token);
    expect(seen).toEqual(all.map((w) => w.name));
    for (const m of ['0', '-1', '1001']) {
      const r = await s.call('GET', `${W}?max_results=${m}`);
      if (m === '0') expect(r.status).toBe(200); // MLflow: `max_results or 100`
      else expect(r.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: 'max_results must be between 1 and 1000.' });
    }
    const badToken = await s.call('GET', `${W}?page_token=garbage!`);
    expect(badToken.status).toBe(400);
    expect(badToken.body.message).toMatch(/^Invalid page token/);
  });

  it('test delivery: example payload of the first (or given) event, signed; failures are results, not errors', async () => {
    rx.reset();
    rx.secret = 'sig-secret';
    rx.answer = () => ({ status: 201, body: 'thanks' });
    const w = (await create({ name: 'tested', secret: 'sig-secret', events: [EV('MODEL_VERSION_TAG', 'SET'), EV('PROMPT', 'CREATED')] })).body.webhook;
    const r1 = await s.call('POST', `${W}/${w.webhook_id}/test`, {});
    expect(r1).toEqual({ status: 200, body: { result: { success: true, response_status: 201, response_body: 'thanks' } } });
    const first = rx.requests[0]!;
    expect(first.problems).toEqual([]);
    expect(first.signatureOk).toBe(true);
    expect(first.json).toMatchObject({ entity: 'model_version_tag', action: 'set', data: { name: 'example_model', version: '1', key: 'example_key', value: 'example_value' } });

    rx.answer = () => ({ status: 500, body: 'boom' });
    const r2 = await s.call('POST', `${W}/${w.webhook_id}/test`, { event: EV('PROMPT_VERSION', 'CREATED') });
    expect(r2.body).toEqual({ result: { success: false, response_status: 500, response_body: 'boom' } });
    expect(rx.requests[1]!.json).toMatchObject({
      entity: 'prompt_version',
      action: 'created',
      data: { name: 'example_prompt', version: '1', template: 'Hello {{name}}!', tags: { example_key: 'example_value' }, description: 'An example prompt version' },
    });

    const bad = await s.call('POST', `${W}/${w.webhook_id}/test`, { event: EV('PROMPT_VERSION', 'DELETED') });
    expect(bad.status).toBe(400);

    // Unreachable receiver: success false with "Failed to test webhook: …".
    const dead = (await create({ name: 'dead', url: 'http://127.0.0.1:1/' })).body.webhook;
    const r3 = await s.call('POST', `${W}/${dead.webhook_id}/test`, {});
    expect(r3.body.result.success).toBe(false);
    expect(r3.body.result.error_message).toMatch(/^Failed to test webhook: ConnectionError\('.*ECONNREFUSED/);
    expect(r3.body.result).not.toHaveProperty('response_status');
  });
});

describe('webhook secrets are never logged', () => {
  it('keeps the secret out of every log line, at debug level, through create, update, test and delivery', async () => {
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const rx = await Receiver.start();
    let s: TestServer | undefined;
    try {
      s = await startTestServer('pglite', { LOG_LEVEL: 'debug', MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http', WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_RETRY_BASE_MS: '50' });
      rx.answer = (_r, n) => (n === 2 ? { status: 500 } : { status: 200 });
      const w = (await s.call('POST', W, { name: 'quiet', url: `${rx.url}/q`, events: [EV('REGISTERED_MODEL', 'CREATED')], secret: 'never-log-me-1' })).body.webhook;
      await s.call('PATCH', `${W}/${w.webhook_id}`, { secret: 'never-log-me-2' });
      await s.call('POST', `${W}/${w.webhook_id}/test`, {});
      await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'quiet-model' });
      await rx.waitFor((r) => r.length >= 3, 10_000);
    } finally {
      await s?.close();
      await rx.close();
      spy.mockRestore();
    }
    expect(lines.join('').length).toBeGreaterThan(0);
    expect(lines.join('')).not.toMatch(/never-log-me/);
    // A server of its own on a fresh embedded database, at debug level: about 20 s on a busy 2-core machine.
  }, 120_000);
});

describe.each(backendsWithS3())('webhook URL policy (%s)', (backend) => {
  let s: TestServer;
  let rx: Receiver;
  beforeAll(async () => {
    rx = await Receiver.start();
    s = await startTestServer(backend, { WEBHOOK_POLL_INTERVAL_MS: '50' });
  });
  afterAll(async () => {
    await s.close();
    await rx.close();
  });

  it('allows only https by default', async () => {
    const r = await s.call('POST', W, { name: 'h', url: 'http://example.com/h', events: [EV('MODEL_VERSION', 'CREATED')] });
    expect(r.body).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE', message: "Invalid webhook URL scheme: 'http'. Allowed schemes are: https." });
  });

  it('refuses URLs resolving to loopback/private addresses at create and update (MLflow 3.17)', async () => {
    const r = await s.call('POST', W, { name: 'h', url: 'https://127.0.0.1/h', events: [EV('MODEL_VERSION', 'CREATED')] });
    expect(r.body).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Webhook URL must not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1.",
    });
    const r2 = await s.call('POST', W, { name: 'h', url: 'https://169.254.169.254/latest', events: [EV('MODEL_VERSION', 'CREATED')] });
    expect(r2.body.message).toBe("Webhook URL must not resolve to a non-public IP address. '169.254.169.254' resolves to 169.254.169.254.");
    const r3 = await s.call('POST', W, { name: 'h', url: 'https://localhost:8443/h', events: [EV('MODEL_VERSION', 'CREATED')] });
    expect(r3.body.message).toMatch(/^Webhook URL must not resolve to a non-public IP address\. 'localhost' resolves to/);
  });

  it('refuses loopback at connect time (a row that got past validation, e.g. DNS rebinding)', async () => {
    // Insert the webhook as another server (or a rebinding DNS answer) might have let it in.
    const id = '11111111-1111-4111-8111-111111111111';
    const target = rx.url.replace('http://', 'https://');
    await s.server.db.query(
      `INSERT INTO webhooks (webhook_id, name, url, status, creation_timestamp, last_updated_timestamp) VALUES ($1, 'rebound', $2, 'ACTIVE', 1, 1)`,
      [id, `${target}/h`],
    );
    await s.server.db.query(`INSERT INTO webhook_events (webhook_id, entity, action) VALUES ($1, 'registered_model', 'created')`, [id]);
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'ssrf-model' })).status).toBe(200);
    const d = await eventually(async () => {
      const r = await s.call('GET', `/api/2.0/mlflow-ts/history/webhooks/${id}/deliveries`);
      return r.body.deliveries?.[0]?.status === 'FAILED' ? r.body.deliveries[0] : undefined;
    });
    expect(d.last_error).toBe('Webhook connection blocked: 127.0.0.1 is not a public IP address. This may indicate a DNS rebinding attempt.');
    expect(d.attempt_count).toBe(1); // not retried
    expect(rx.requests).toHaveLength(0);
    const t = await s.call('POST', `${W}/${id}/test`, {});
    expect(t.body.result).toEqual({
      success: false,
      error_message: `Failed to test webhook: MlflowException("Webhook URL must not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1.")`,
    });
    expect(rx.requests).toHaveLength(0);
  });
});
