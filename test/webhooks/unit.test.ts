/**
 * The byte-level pieces of webhooks, checked against vectors produced by Python (cryptography 's
 * Fernet, json.dumps, datetime.isoformat, hmac) and against Python's ipaddress.is_global.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Fernet } from '../../packages/server/src/webhooks/fernet.js';
import { pyIsoformatUtc, pyJsonDumps } from '../../packages/server/src/python/pyjson.js';
import { deliveryBody, deliveryHeaders, examplePayloadJson, signature } from '../../packages/server/src/webhooks/payloads.js';
import { checkHostResolvesPublic, isPublicIp } from '../../packages/server/src/webhooks/ssrf.js';
import { postJson } from '../../packages/server/src/webhooks/http.js';
import { backoffMs, parseRetryAfter } from '../../packages/server/src/webhooks/worker.js';
import { ConfigError, loadConfig } from '../../packages/server/src/config.js';

const KEY = 'Wk3c8iHkJWvJ0Qq0JY9zO4nL5mXy2bQe1R7tU6vW8xY=';

describe('Fernet (interoperable with cryptography.fernet, as MLflow uses it)', () => {
  it('decrypts tokens made by Python', () => {
    const f = new Fernet(KEY);
    expect(f.decrypt('gAAAAABrCEy7Qqg3NXiR6haaI0XFJx5KK_uyUTPTpPTQsf46fHgjKKYGLMK0YK9rdt34LzZnJb_3qT1wom0CnY8qPjj844GIvA==')).toBe('my secret é');
  });

  it('encrypts exactly as Python does for the same time and IV', () => {
    // Fernet(KEY)._encrypt_from_parts('s3cr3t é'.encode(), 1700000000, bytes(range(16)))
    const token = new Fernet(KEY).encrypt('s3cr3t é', 1_700_000_000_000, Buffer.from([...Array(16).keys()]));
    expect(token).toBe('gAAAAABlU_EAAAECAwQFBgcICQoLDA0OD-JhFs2-nAPimvizJ1vjClosioRVGu2AGwc14ZiyQngmq6G7glz8qCv7Ay4pL6VJYg==');
  });

  it('round-trips, and refuses tampered tokens and other keys', () => {
    const f = new Fernet(Fernet.generateKey());
    const t = f.encrypt('hello');
    expect(f.decrypt(t)).toBe('hello');
    expect(() => new Fernet(KEY).decrypt(t)).toThrow(/signature/);
    expect(() => f.decrypt(t.slice(0, -4) + 'AAAA')).toThrow();
    expect(() => new Fernet('short')).toThrow(/32 url-safe base64-encoded bytes/);
  });
});

describe('Python serialisations', () => {
  it('json.dumps: separators, ensure_ascii, escapes, key order', () => {
    // json.dumps({'entity':'x','data':{'a':'é😀\x7f\u2028','b':None,'c':[1,2.5,True],'d':'"\\/\n\t\x01'}})
    expect(pyJsonDumps({ entity: 'x', data: { a: 'é😀\x7f\u2028', b: null, c: [1, 2.5, true], d: '"\\/\n\t\x01' } })).toBe(
      '{"entity": "x", "data": {"a": "\\u00e9\\ud83d\\ude00\\u007f\\u2028", "b": null, "c": [1, 2.5, true], "d": "\\"\\\\/\\n\\t\\u0001"}}',
    );
  });

  it("json.dumps: floats in Python's repr (exponent form below 1e-4 and from 1e16)", () => {
    // json.dumps([0.00001, 1.5, 1e-07, 0.1, 2.5e-300, -0.0001])
    expect(pyJsonDumps([0.00001, 1.5, 1e-7, 0.1, 2.5e-300, -0.0001])).toBe('[1e-05, 1.5, 1e-07, 0.1, 2.5e-300, -0.0001]');
  });

  it('datetime.isoformat() of UTC times', () => {
    expect(pyIsoformatUtc(1_700_000_000_123)).toBe('2023-11-14T22:13:20.123000+00:00');
    expect(pyIsoformatUtc(1_700_000_000_000)).toBe('2023-11-14T22:13:20+00:00');
  });

  it('HMAC signature v1,<base64>', () => {
    // base64.b64encode(hmac.new(b'sek', b'id.123.body', hashlib.sha256).digest())
    expect(signature('sek', 'id', '123', 'body')).toBe('v1,cQqJobuPZ8BU0wNiV3T1NbpJ9ZPtw0ImGJ3fS+CE9hU=');
    const h = deliveryHeaders('id', 'body', 'sek', 123_456);
    expect(h).toEqual({
      'Content-Type': 'application/json',
      'X-MLflow-Delivery-Id': 'id',
      'X-MLflow-Timestamp': '123',
      'X-MLflow-Signature': 'v1,cQqJobuPZ8BU0wNiV3T1NbpJ9ZPtw0ImGJ3fS+CE9hU=',
    });
    expect(deliveryHeaders('id', 'body', null)).not.toHaveProperty('X-MLflow-Signature');
    expect(deliveryHeaders('id', 'body', '')).not.toHaveProperty('X-MLflow-Signature');
  });

  it('example payloads (mlflow/webhooks/types.py) and the body envelope', () => {
    expect(examplePayloadJson('model_version.created')).toBe(
      '{"name": "example_model", "version": "1", "source": "models:/123", "run_id": "abcd1234abcd5678", "tags": {"example_key": "example_value"}, "description": "An example model version"}',
    );
    expect(examplePayloadJson('budget_policy.exceeded')).toContain('"budget_amount": 100.0, "current_spend": 105.5');
    expect(examplePayloadJson('model_version.updated')).toBeUndefined();
    expect(deliveryBody('prompt_alias', 'deleted', 1_700_000_000_000, '{"name": "p"}')).toBe(
      '{"entity": "prompt_alias", "action": "deleted", "timestamp": "2023-11-14T22:13:20+00:00", "data": {"name": "p"}}',
    );
  });
});

describe('SSRF: public addresses only', () => {
  // Expected values: Python ipaddress is_global after unwrapping IPv4-mapped/6to4/NAT64 (mlflow
  // `_is_public_ip`), except multicast, which we refuse as well.
  const cases: [string, boolean][] = [
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['192.0.0.9', true],
    ['2606:4700::1', true],
    ['2001:4860::8888', true],
    ['::ffff:8.8.8.8', true],
    ['2002:808:808::1', true],
    ['127.0.0.1', false],
    ['127.255.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['0.1.2.3', false],
    ['192.0.0.170', false],
    ['198.18.0.1', false],
    ['240.0.0.1', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::', false],
    ['::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['64:ff9b::a00:1', false],
    ['2002:a00:1::', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    ['100::1', false],
    ['2001::1', false],
    ['not-an-ip', false],
  ];
  it.each(cases)('%s public: %s', (ip, expected) => {
    expect(isPublicIp(ip)).toBe(expected);
  });

  it('refuses loopback at connect time, for literals and for names resolving to it', async () => {
    const server = http.createServer((_q, r) => r.end('reached'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      await expect(postJson(`http://127.0.0.1:${port}/`, '{}', {}, { timeoutMs: 2000, allowPrivateTargets: false })).rejects.toThrow(
        'Webhook connection blocked: 127.0.0.1 is not a public IP address. This may indicate a DNS rebinding attempt.',
      );
      await expect(postJson(`http://localhost:${port}/`, '{}', {}, { timeoutMs: 2000, allowPrivateTargets: false })).rejects.toThrow(
        /Webhook connection blocked: (127\.0\.0\.1|::1) is not a public IP address/,
      );
      await expect(postJson(`http://[::ffff:127.0.0.1]:${port}/`, '{}', {}, { timeoutMs: 2000, allowPrivateTargets: false })).rejects.toThrow(
        /Webhook connection blocked/,
      );
      // Allowed by configuration (what the tests use).
      const res = await postJson(`http://127.0.0.1:${port}/`, '{}', {}, { timeoutMs: 2000, allowPrivateTargets: true });
      expect(res).toMatchObject({ status: 200, body: 'reached' });
    } finally {
      server.close();
    }
  });

  it('does not follow redirects', async () => {
    const server = http.createServer((_q, r) => {
      r.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' });
      r.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const res = await postJson(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, '{}', {}, { timeoutMs: 2000, allowPrivateTargets: true });
      expect(res.status).toBe(302);
    } finally {
      server.close();
    }
  });

  it('create-time DNS check words its refusals like MLflow', async () => {
    expect(await checkHostResolvesPublic('127.0.0.1')).toBe("Webhook URL must not resolve to a non-public IP address. '127.0.0.1' resolves to 127.0.0.1.");
    expect(await checkHostResolvesPublic('localhost')).toMatch(/^Webhook URL must not resolve to a non-public IP address\. 'localhost' resolves to (127\.0\.0\.1|::1)\.$/);
    expect(await checkHostResolvesPublic('no-such-host.invalid')).toMatch(/^Cannot resolve Webhook URL hostname 'no-such-host\.invalid': /);
    expect(await checkHostResolvesPublic('8.8.8.8')).toBeUndefined();
  });
});

describe('retry timing', () => {
  it('Retry-After in seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(Date.now() + 10_000).toUTCString())).toBeGreaterThan(8000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('999999')).toBe(3_600_000);
  });

  it('exponential backoff with a cap and up to one base of jitter', () => {
    const cfg = { retryBaseMs: 1000, retryMaxMs: 60_000 };
    expect(backoffMs(1, cfg, () => 0)).toBe(1000);
    expect(backoffMs(2, cfg, () => 0)).toBe(2000);
    expect(backoffMs(4, cfg, () => 0)).toBe(8000);
    expect(backoffMs(20, cfg, () => 0)).toBe(60_000);
    expect(backoffMs(1, cfg, () => 0.999)).toBe(1999);
  });
});

describe('configuration', () => {
  it('webhook settings and their defaults', () => {
    const c = loadConfig({}).webhooks;
    expect(c).toMatchObject({
      allowedSchemes: ['https'],
      secretEncryptionKey: undefined,
      allowPrivateTargets: false,
      requestTimeoutMs: 30_000,
      maxRetries: 10,
      pollIntervalMs: 500,
      leaseMs: 60_000,
      deliveryEnabled: true,
    });
    const d = loadConfig({
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http, https',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: KEY,
      MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS: 'true',
      MLFLOW_WEBHOOK_REQUEST_TIMEOUT: '5',
    }).webhooks;
    expect(d).toMatchObject({ allowedSchemes: ['http', 'https'], secretEncryptionKey: KEY, allowPrivateTargets: true, requestTimeoutMs: 5000, leaseMs: 35_000 });
    expect(() => loadConfig({ MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: 'nope' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_TARGETS: 'maybe' })).toThrow(ConfigError);
    expect(() => loadConfig({ MLFLOW_WEBHOOK_REQUEST_TIMEOUT: '10', WEBHOOK_CLAIM_LEASE_MS: '5000' })).toThrow(/WEBHOOK_CLAIM_LEASE_MS/);
  });
});
