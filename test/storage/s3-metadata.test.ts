/**
 * METADATA_STORE=s3 (store/s3-log/): its configuration, what it writes to the bucket, and what
 * replicas sharing one bucket guarantee: a change committed through one is seen by the next read on
 * any other, concurrent writers through several lose nothing and never reuse a version number (also as
 * real processes), a replica started later replays everything, and a bucket that does not answer gives
 * 503 and changes nothing. The registry, webhook, SDK and artifact suites run in this mode too
 * (backendsWithS3, METADATA_S3_ADAPTER); this file covers what only this mode has.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../../packages/server/src/config.js';
import { S3Admin } from '../../packages/server/src/artifacts/s3-admin.js';
import { sharedS3MetadataBucket, startTestServer, TEST_FERNET_KEY, type S3MetadataBucket, type TestServer } from '../helpers/server.js';
import { removeDir, scratchDir, startServerProcess, type ServerProcess } from '../helpers/process.js';

const ENDPOINT = process.env.S3_TEST_ENDPOINT;
const KEY = { MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: TEST_FERNET_KEY };
const S3 = { S3_BUCKET: 'b', S3_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', ...KEY };

describe('METADATA_STORE configuration', () => {
  it('is the database unless asked for; s3 needs a bucket and no DATABASE_URL', () => {
    expect(loadConfig({}).metadataStore).toEqual({ kind: 'database' });
    expect(loadConfig({ ...S3, S3_PREFIX: 'artifacts', METADATA_STORE: 's3' }).metadataStore).toEqual({ kind: 's3', prefix: 'registry-metadata', snapshotEvery: 1000 });
    expect(loadConfig({ ...S3, S3_PREFIX: 'artifacts', METADATA_STORE: 's3', S3_METADATA_PREFIX: '/team/meta/', S3_METADATA_SNAPSHOT_EVERY: '0' }).metadataStore).toEqual({
      kind: 's3',
      prefix: 'team/meta',
      snapshotEvery: 0,
    });
    expect(() => loadConfig({ ...S3, S3_PREFIX: 'artifacts', METADATA_STORE: 's3', S3_METADATA_SNAPSHOT_EVERY: 'often' })).toThrow(/S3_METADATA_SNAPSHOT_EVERY must be an integer/);
    expect(() => loadConfig({ METADATA_STORE: 'mongo' })).toThrow(/METADATA_STORE must be one of database, s3/);
    expect(() => loadConfig({ METADATA_STORE: 's3' })).toThrow(/METADATA_STORE=s3 needs S3_BUCKET/);
    expect(() => loadConfig({ ...S3, S3_PREFIX: 'artifacts', METADATA_STORE: 's3', DATABASE_URL: 'postgres://u:p@h/db' })).toThrow(/unset DATABASE_URL/);
  });

  it('never lets artifact keys and metadata keys meet', () => {
    const s3 = (env: Record<string, string>) => () => loadConfig({ ...S3, METADATA_STORE: 's3', ...env });
    // Artifacts over the whole bucket, or around or inside the metadata's prefix: refused.
    expect(s3({})).toThrow(ConfigError);
    expect(s3({})).toThrow(/must not share keys; set S3_PREFIX to another prefix, e.g. S3_PREFIX=artifacts/);
    expect(s3({ S3_PREFIX: 'registry-metadata' })).toThrow(/must not share keys/);
    expect(s3({ S3_PREFIX: 'registry-metadata/artifacts' })).toThrow(/must not share keys/);
    expect(s3({ S3_PREFIX: 'team', S3_METADATA_PREFIX: 'team/meta' })).toThrow(/must not share keys/);
    // Siblings are fine, even with a common start that is not a whole segment.
    expect(s3({ S3_PREFIX: 'registry-metadata-artifacts' })().metadataStore.kind).toBe('s3');
    expect(s3({ S3_PREFIX: 'team/artifacts', S3_METADATA_PREFIX: 'team/meta' })().metadataStore.kind).toBe('s3');
    // Local artifacts never meet the bucket's keys.
    expect(s3({ ARTIFACTS_STORE: 'local' })().artifactsStore).toBe('local');
    expect(s3({ S3_PREFIX: 'artifacts', S3_METADATA_PREFIX: '/' })).toThrow(/S3_METADATA_PREFIX must name a key prefix/);
  });

  it('refuses what it cannot do yet, and turns the per-process caches off', () => {
    const env = { ...S3, S3_PREFIX: 'artifacts', METADATA_STORE: 's3' };
    expect(() => loadConfig({ ...env, ARTIFACTS_STORE: 'postgres' })).toThrow(/ARTIFACTS_STORE=postgres needs a database/);
    expect(() => loadConfig({ ...env, AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'a-long-password-1' })).toThrow(/AUTH=basic is not available with METADATA_STORE=s3 yet/);
    // No key generated and kept in the bucket beside the secrets it encrypts.
    expect(() => loadConfig({ ...env, MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: '' })).toThrow(/METADATA_STORE=s3 needs MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY/);
    // The message says how to make one; a key made that way (TEST_FERNET_KEY is) is accepted.
    expect(() => loadConfig({ ...env, MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: '' })).toThrow("randomBytes(32).toString('base64url') + '='");
    expect(loadConfig(env).webhooks.secretEncryptionKey).toBe(TEST_FERNET_KEY);
    // The read cache is invalidated by PostgreSQL's change feed, which this mode does not have.
    expect(loadConfig({ ...env, READ_CACHE_MB: '64' }).readCacheBytes).toBe(0);
    // Each webhook poll is a LIST request here.
    expect(loadConfig(env).webhooks.pollIntervalMs).toBe(10_000);
    expect(loadConfig({ ...env, WEBHOOK_POLL_INTERVAL_MS: '700' }).webhooks.pollIntervalMs).toBe(700);
  });
});

/** A TCP proxy to the S3 server that can be cut (every connection reset) and restored. */
async function cuttableProxy(target: string): Promise<{ endpoint: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const t = new URL(target);
  let open = true;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return client.destroy();
    const upstream = net.connect(Number(t.port), t.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      open = true;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe.skipIf(!ENDPOINT)('replicas on one bucket (METADATA_STORE=s3)', () => {
  let bucket: S3MetadataBucket;
  let a: TestServer;
  let b: TestServer;
  const admin = () => new S3Admin({ endpoint: ENDPOINT, accessKeyId: 'testing', secretAccessKey: 'testing' });

  beforeAll(async () => {
    bucket = await sharedS3MetadataBucket();
    a = await startTestServer('s3', {}, { s3: bucket });
    b = await startTestServer('s3', {}, { s3: bucket });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await bucket?.cleanup();
  });

  it('a change through one replica is seen by the next read through the other, for every kind of change', async () => {
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'shared', tags: [{ key: 'team', value: 'x' }] })).status).toBe(200);
    expect((await b.call('GET', '/api/2.0/mlflow/registered-models/get?name=shared')).body.registered_model.tags).toEqual([{ key: 'team', value: 'x' }]);
    const v1 = await b.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'shared', source: 's3://b/1' });
    expect(v1.body.model_version.version).toBe('1');
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'shared', alias: 'champion', version: '1' })).status).toBe(200);
    expect((await b.call('GET', '/api/2.0/mlflow/registered-models/alias?name=shared&alias=champion')).body.model_version.version).toBe('1');
    expect((await b.call('POST', '/api/2.0/mlflow/model-versions/transition-stage', { name: 'shared', version: '1', stage: 'Production' })).status).toBe(200);
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/get-latest-versions', { name: 'shared', stages: ['Production'] })).body.model_versions[0].version).toBe('1');
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/rename', { name: 'shared', new_name: 'renamed' })).status).toBe(200);
    const moved = await b.call('GET', '/api/2.0/mlflow/model-versions/search?filter=' + encodeURIComponent("name='renamed'"));
    expect(moved.body.model_versions.map((v: { version: string }) => v.version)).toEqual(['1']);
    expect((await b.call('GET', '/api/2.0/mlflow/model-versions/get?name=renamed&version=1')).body.model_version.aliases).toEqual(['champion']);
    expect((await b.call('GET', '/api/2.0/mlflow/registered-models/get?name=shared')).status).toBe(404);
    expect((await b.call('DELETE', '/api/2.0/mlflow/registered-models/delete', { name: 'renamed' })).status).toBe(200);
    expect((await a.call('GET', '/api/2.0/mlflow/registered-models/get?name=renamed')).status).toBe(404);
    expect((await a.call('GET', '/api/2.0/mlflow/model-versions/get?name=renamed&version=1')).status).toBe(404);
  });

  it('concurrent tag and alias writes through both replicas lose nothing', async () => {
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'busy' })).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await b.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'busy', source: `s3://b/${i}` })).status).toBe(200);
    const writes = await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).call('POST', '/api/2.0/mlflow/registered-models/set-tag', { name: 'busy', key: `k${i}`, value: `v${i}` })),
      ...Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? b : a).call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'busy', alias: `a${i}`, version: String((i % 3) + 1) }),
      ),
      ...Array.from({ length: 30 }, (_, i) =>
        (i % 2 ? a : b).call('POST', '/api/2.0/mlflow/model-versions/set-tag', { name: 'busy', version: '2', key: `t${i}`, value: String(i) }),
      ),
    ]);
    expect(writes.filter((w) => w.status !== 200).map((w) => `${w.status} ${JSON.stringify(w.body)}`)).toEqual([]);
    for (const s of [a, b]) {
      const m = (await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=busy')).body.registered_model;
      expect(m.tags).toHaveLength(40);
      expect(m.aliases).toHaveLength(30);
      for (const { alias, version } of m.aliases as { alias: string; version: string }[]) expect(version).toBe(String((Number(alias.slice(1)) % 3) + 1));
      expect((await s.call('GET', '/api/2.0/mlflow/model-versions/get?name=busy&version=2')).body.model_version.tags).toHaveLength(30);
    }
  });

  it('commits the writes waiting together, as one entry; a write that fails is rolled back alone', async () => {
    const s3 = admin();
    try {
      const entries = async () => (await s3.listKeys(bucket.env.S3_BUCKET!, 'registry-metadata/log/')).length;
      const before = await entries();
      const create = (name: string) => a.call('POST', '/api/2.0/mlflow/registered-models/create', { name, tags: [{ key: 'g', value: name }] });
      const results = await Promise.all([...Array.from({ length: 24 }, (_, i) => create(`group-${i}`)), ...Array.from({ length: 6 }, () => create('group-0'))]);
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((x) => x === 200)).toHaveLength(24);
      expect(results.filter((r) => r.status !== 200).map((r) => [r.status, r.body.error_code])).toEqual(Array(6).fill([400, 'RESOURCE_ALREADY_EXISTS']));
      // Fewer entries than writes: those that waited went together.
      expect((await entries()) - before).toBeLessThan(24);
      const seen = await b.call('GET', `/api/2.0/mlflow/registered-models/search?max_results=100&filter=${encodeURIComponent("name LIKE 'group-%'")}`);
      expect(seen.body.registered_models.map((m: { name: string; tags: unknown[] }) => [m.name, m.tags]).sort()).toEqual(
        Array.from({ length: 24 }, (_, i) => [`group-${i}`, [{ key: 'g', value: `group-${i}` }]]).sort(),
      );
    } finally {
      s3.close();
    }
  });

  it('keeps one JSON object per commit, numbered 1, 2, 3, … with row images', async () => {
    const s3 = admin();
    try {
      const keys = await s3.listKeys(bucket.env.S3_BUCKET!, 'registry-metadata/log/');
      expect(keys.length).toBeGreaterThan(10);
      // Nothing else but snapshots (none yet: one comes every 1,000 entries by default).
      expect(await s3.listKeys(bucket.env.S3_BUCKET!, 'registry-metadata/')).toEqual(keys);
      expect(keys.every((k) => /^registry-metadata\/log\/\d{20}\.json$/.test(k))).toBe(true);
      expect(keys.map((k) => Number(k.slice('registry-metadata/log/'.length, -5)))).toEqual(keys.map((_, i) => i + 1));
      const entries = await Promise.all(keys.map(async (k) => JSON.parse((await s3.get(bucket.env.S3_BUCKET!, k)).toString())));
      const created = entries.find((e) => e.changes.some((c: { t: string; op: string; new?: { name?: string } }) => c.t === 'registered_models' && c.op === 'I' && c.new?.name === 'busy'));
      expect(created).toMatchObject({ format: 1 });
      expect(created.changes.find((c: { t: string }) => c.t === 'registered_models').new).toMatchObject({ name: 'busy', workspace: 'default' });
      // The capture table never leaves the replica.
      expect(entries.every((e) => e.changes.every((c: { t: string }) => !c.t.startsWith('__mlflow_ts')))).toBe(true);
    } finally {
      s3.close();
    }
  });

  it('a replica started later replays the log and answers exactly as the others', async () => {
    const c = await startTestServer('s3', {}, { s3: bucket });
    try {
      const search = (s: TestServer) => s.call('GET', '/api/2.0/mlflow/registered-models/search?max_results=1000');
      const versions = (s: TestServer) => s.call('GET', '/api/2.0/mlflow/model-versions/search?max_results=1000');
      expect((await search(c)).body).toEqual((await search(a)).body);
      expect((await versions(c)).body).toEqual((await versions(b)).body);
      // It writes on top of what it replayed: the next version number, seen by the others.
      expect((await c.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'busy', source: 's3://b/3' })).body.model_version.version).toBe('4');
      expect((await a.call('GET', '/api/2.0/mlflow/model-versions/get?name=busy&version=4')).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe.skipIf(!ENDPOINT)('snapshots (METADATA_STORE=s3)', () => {
  let bucket: S3MetadataBucket;
  let a: TestServer;
  const admin = new S3Admin({ endpoint: ENDPOINT, accessKeyId: 'testing', secretAccessKey: 'testing' });

  beforeAll(async () => {
    bucket = await sharedS3MetadataBucket();
    a = await startTestServer('s3', { S3_METADATA_SNAPSHOT_EVERY: '10', METRICS_ENABLED: 'true' }, { s3: bucket });
  });
  afterAll(async () => {
    await a?.close();
    await bucket?.cleanup();
    admin.close();
  });

  it('names its store in the metrics', async () => {
    expect(await (await a.fetch('/metrics')).text()).toMatch(/^mlflow_registry_info\{version="[^"]+",database="s3"\} 1$/m);
  });

  it('a replica starting up loads the latest snapshot and replays only what follows it', { timeout: 120_000 }, async () => {
    for (let i = 0; i < 6; i++) {
      expect((await a.call('POST', '/api/2.0/mlflow/registered-models/create', { name: `snap-${i}`, tags: [{ key: 'i', value: String(i) }] })).status).toBe(200);
      expect((await a.call('POST', '/api/2.0/mlflow/model-versions/create', { name: `snap-${i}`, source: `s3://b/${i}` })).status).toBe(200);
    }
    expect((await a.call('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'snap-0', alias: 'champion', version: '1' })).status).toBe(200);
    const keys = async (sub: string) => admin.listKeys(bucket.env.S3_BUCKET!, `registry-metadata/${sub}/`);
    const numbers = async (sub: string) => (await keys(sub)).map((k) => Number(/(\d{20})\.json$/.exec(k)![1]));
    // Written in the background once 10 entries have passed.
    for (let i = 0; i < 100 && (await numbers('snapshots')).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const snaps = await numbers('snapshots');
    expect(snaps.length).toBeGreaterThan(0);
    const snapshot = JSON.parse((await admin.get(bucket.env.S3_BUCKET!, (await keys('snapshots'))[0]!)).toString());
    expect(snapshot).toMatchObject({ format: 1, seq: snaps[0] });
    expect(Object.keys(snapshot.tables)).toContain('registered_models');
    expect(Object.keys(snapshot.tables).some((t) => t.startsWith('__mlflow_ts'))).toBe(false);

    // A snapshot stands for every entry up to it: with those entries gone, a new replica must start from it.
    const latest = Math.max(...snaps);
    const gone = (await keys('log')).filter((k) => Number(/(\d{20})\.json$/.exec(k)![1]) <= latest);
    expect(gone.length).toBe(latest);
    for (const k of gone) await admin.delete(bucket.env.S3_BUCKET!, k);

    const b = await startTestServer('s3', {}, { s3: bucket });
    try {
      const search = (s: TestServer) => s.call('GET', '/api/2.0/mlflow/registered-models/search?max_results=1000');
      expect((await search(b)).body).toEqual((await search(a)).body);
      expect((await b.call('GET', '/api/2.0/mlflow/registered-models/alias?name=snap-0&alias=champion')).body.model_version.version).toBe('1');
      // Writes go on from the snapshot's state: the next version number, a new model, seen by the other.
      expect((await b.call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'snap-5', source: 's3://b/again' })).body.model_version.version).toBe('2');
      expect((await b.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'after-snapshot' })).status).toBe(200);
      expect((await a.call('GET', '/api/2.0/mlflow/registered-models/get?name=after-snapshot')).status).toBe(200);
      expect((await a.call('GET', '/api/2.0/mlflow/model-versions/get?name=snap-5&version=2')).status).toBe(200);
    } finally {
      await b.close();
    }
  });
});

describe.skipIf(!ENDPOINT)('a bucket that does not answer (METADATA_STORE=s3)', () => {
  let bucket: S3MetadataBucket;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  let s: TestServer;

  beforeAll(async () => {
    bucket = await sharedS3MetadataBucket();
    proxy = await cuttableProxy(ENDPOINT!);
    s = await startTestServer('s3', { S3_ENDPOINT_URL: proxy.endpoint }, { s3: bucket });
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
    await bucket?.cleanup();
  });

  it('answers 503 TEMPORARILY_UNAVAILABLE to reads and writes, changes nothing, and recovers', { timeout: 60_000 }, async () => {
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'before' })).status).toBe(200);
    proxy.cut();
    // The cause is logged on the server's side (the client's message does not carry it).
    const logged: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (logged.push(String(chunk)), true));
    let write: Awaited<ReturnType<TestServer['call']>>;
    let read: Awaited<ReturnType<TestServer['call']>>;
    try {
      write = await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'during' });
      read = await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=before');
    } finally {
      spy.mockRestore();
    }
    expect([write.status, write.body.error_code]).toEqual([503, 'TEMPORARILY_UNAVAILABLE']);
    expect([read.status, read.body.error_code]).toEqual([503, 'TEMPORARILY_UNAVAILABLE']);
    expect(JSON.stringify(read.body)).not.toContain('127.0.0.1');
    const reports = logged.flatMap((chunk) => chunk.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; reason?: string; error?: string }).filter((l) => l.msg === 'metadata store unavailable');
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[0]!.reason).toMatch(/^The metadata bucket is unavailable/);
    expect(reports[0]!.error).toBeTruthy();
    expect((await s.fetch('/health/ready')).status).toBe(503);
    proxy.restore();
    expect((await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=during')).status).toBe(404);
    expect((await s.call('GET', '/api/2.0/mlflow/registered-models/get?name=before')).status).toBe(200);
    expect((await s.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'during' })).status).toBe(200);
    const names = (await s.call('GET', '/api/2.0/mlflow/registered-models/search')).body.registered_models.map((m: { name: string }) => m.name);
    expect(names).toEqual(['before', 'during']);
  });
});

describe('a bucket that cannot be reached at start (METADATA_STORE=s3)', () => {
  it('stops the start with one message naming the bucket, never the credentials', { timeout: 120_000 }, async () => {
    const dir = scratchDir();
    try {
      const p = await startServerProcess({
        env: { ...S3, S3_BUCKET: 'registry-bucket', S3_PREFIX: 'artifacts', METADATA_STORE: 's3', DATA_DIR: dir, AWS_SECRET_ACCESS_KEY: 'do-not-print-me' },
        startTimeoutMs: 90_000,
      }).catch((err: Error) => err);
      expect(p).toBeInstanceOf(Error);
      const text = (p as Error).message;
      expect(text).toMatch(/^server exited with 1:/);
      expect(text).toMatch(/cannot start: The metadata bucket is unavailable \(loading the latest snapshot failed\); retry later\./);
      expect(text).not.toContain('do-not-print-me');
    } finally {
      removeDir(dir);
    }
  });
});

describe.skipIf(!ENDPOINT)('two server processes on one bucket (METADATA_STORE=s3)', () => {
  let bucket: S3MetadataBucket;
  const procs: ServerProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    bucket = await sharedS3MetadataBucket();
    for (let i = 0; i < 2; i++) {
      const dir = scratchDir();
      dirs.push(dir);
      procs.push(await startServerProcess({ env: { ...bucket.env, DATA_DIR: dir, LOG_LEVEL: 'info' }, startTimeoutMs: 120_000 }));
    }
  }, 240_000);
  afterAll(async () => {
    for (const p of procs) await p.stop();
    for (const d of dirs) removeDir(d);
    await bucket?.cleanup();
  });

  it('200 parallel version creations on one model through both give versions 1..200 exactly, with no error response', { timeout: 180_000 }, async () => {
    const [p, q] = procs as [ServerProcess, ServerProcess];
    expect((await p.call('POST', '/api/2.0/mlflow/registered-models/create', { name: 'race' })).status).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? p : q).call('POST', '/api/2.0/mlflow/model-versions/create', { name: 'race', source: `s3://b/${i}` })),
    );
    expect(results.filter((r) => r.status !== 200).map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    expect(results.map((r) => Number(r.body.model_version.version)).sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    for (const s of procs) {
      const all = await s.call('GET', '/api/2.0/mlflow/model-versions/search?max_results=1000&filter=' + encodeURIComponent("name='race'"));
      expect(all.body.model_versions).toHaveLength(200);
    }
    // Each response describes the version it created, as both processes see it.
    for (const r of results.slice(0, 20)) {
      const v = await q.call('GET', `/api/2.0/mlflow/model-versions/get?name=race&version=${r.body.model_version.version}`);
      expect(v.body.model_version.source).toBe(r.body.model_version.source);
    }
  });
});
