/**
 * Regressions of server errors (5xx) found by the bounded schemathesis run (scripts/ci/schemathesis.sh,
 * issue 15): each answered 500 INTERNAL_ERROR before its fix and must answer as MLflow does.
 *
 * 1. A webhook URL that Python's urlparse accepts but WHATWG `new URL` refuses (a port out of range or
 *    not numeric, a space or `<` in the host, `1.2.3.4.5`, a zone id…) crashed the SSRF check of create
 *    and update (webhooks/service.ts took the host from `new URL`). MLflow resolves
 *    `urlparse(url).hostname` and never looks at the port. Only IP-literal hosts here: no DNS lookups.
 * 2. Deleting an artifact path that goes through a file (`f/child`, `f` a file) on the local store: `rm`
 *    failed with ENOTDIR. MLflow finds that the path does not exist and answers 200 `{}`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, startTestServer, type TestServer } from '../helpers/server.js';

const W = '/api/2.0/mlflow/webhooks';
const EVENTS = [{ entity: 'MODEL_VERSION', action: 'CREATED' }];

describe.each(backends())('schemathesis regressions (%s)', (backend) => {
  let s: TestServer;
  beforeAll(async () => {
    // Private targets refused (the default): the path that resolves the host.
    s = await startTestServer(backend, { MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http,https', WEBHOOK_DELIVERY_ENABLED: 'false', LOG_LEVEL: 'error' });
  });
  afterAll(async () => {
    await s?.close();
  });

  const nonPublic = (host: string) => ({
    error_code: 'INVALID_PARAMETER_VALUE',
    message: `Webhook URL must not resolve to a non-public IP address. '${host}' resolves to ${host}.`,
  });

  it.each([
    ['https://[::1]:80x/hook', '::1'],
    ['https://127.0.0.1:99999/hook', '127.0.0.1'],
    ['http://127.0.0.1:abc/hook', '127.0.0.1'],
    ['https://[::1]:-1/', '::1'],
  ])('create: %s is judged by its Python hostname (400 non-public), not a 500', async (url, host) => {
    const r = await s.call('POST', W, { name: 'hook', url, events: EVENTS });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject(nonPublic(host));
  });

  it('create: a public IP host with a bad port is accepted as MLflow does (it never reads the port); /test reports the failure', async () => {
    const url = 'https://93.184.215.14:99999/hook';
    const r = await s.call('POST', W, { name: 'bad-port', url, events: EVENTS });
    expect(r.status).toBe(200);
    expect(r.body.webhook.url).toBe(url);
    const t = await s.call('POST', `${W}/${r.body.webhook.webhook_id}/test`, {});
    expect(t.status).toBe(200);
    expect(t.body.result.success).toBe(false);
    expect(t.body.result.error_message).toMatch(/^Failed to test webhook: /);
  });

  it('update: a URL new URL() refuses answers 400 INVALID_PARAMETER_VALUE, not a 500', async () => {
    const c = await s.call('POST', W, { name: 'to-update', url: 'https://93.184.215.14/hook', events: EVENTS });
    expect(c.status).toBe(200);
    const r = await s.call('PATCH', `${W}/${c.body.webhook.webhook_id}`, { url: 'https://127.0.0.1:abc/' });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject(nonPublic('127.0.0.1'));
    const g = await s.call('GET', `${W}/${c.body.webhook.webhook_id}`);
    expect(g.body.webhook.url).toBe('https://93.184.215.14/hook');
  });

  it('delete of an artifact path through a file answers 200 and deletes nothing', async () => {
    const A = '/api/2.0/mlflow-artifacts/artifacts';
    expect((await s.fetch(`${A}/regress/f`, { method: 'PUT', body: 'x' })).status).toBe(200);
    const r = await s.call('DELETE', `${A}/regress/f%2Fchild`);
    expect(r).toEqual({ status: 200, body: {} });
    expect(await (await s.fetch(`${A}/regress/f`)).text()).toBe('x');
  });
});
