/**
 * Database faults under write load, with real processes on a private PostgreSQL cluster
 * (test/helpers/pg-cluster.ts; the shared TEST_DATABASE_URL server is never restarted):
 *  - two server processes (replicas A and B) on one database, 20 concurrent writer loops creating model
 *    versions (and setting model and version tags);
 *  - during the load, every PostgreSQL connection of the servers is terminated 5 times
 *    (pg_terminate_backend), and PostgreSQL is stopped (fast mode) and started again once.
 * Then: both processes are alive; every acknowledged write is in the database; no version lacks its
 * event row (nor an event its version); the only answers were 2xx and 503 TEMPORARILY_UNAVAILABLE (with
 * Retry-After, and without the database's address or password); the first success came within 2 s of
 * PostgreSQL accepting connections again; a webhook created before the faults gets an event created
 * after them; and a read through one replica after a write through the other is fresh, with both read
 * caches following the change feed again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgCluster, skipWithoutPostgres } from '../helpers/pg-cluster.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { Receiver, eventually, sleep } from '../webhooks/receiver.js';
import { Fernet } from '../../packages/server/src/webhooks/fernet.js';

const WRITERS = 20;
const MODELS = ['fm0', 'fm1', 'fm2', 'fm3'];
const TERMINATIONS = 5;
/** After how many terminations PostgreSQL is restarted. */
const RESTART_AFTER = 3;
const DB = 'registry';
const API = '/api/2.0/mlflow';

interface Answer {
  server: 'A' | 'B';
  op: string;
  status: number;
  start: number;
  end: number;
  body: any;
  retryAfter: string | null;
}

async function call(server: ServerProcess, method: string, p: string, body?: unknown): Promise<{ status: number; body: any; retryAfter: string | null }> {
  const res = await fetch(server.url + p, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
}

describe.skipIf(skipWithoutPostgres())('database faults under write load (private PostgreSQL cluster)', () => {
  let cluster: PgCluster | undefined;
  let receiver: Receiver | undefined;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    cluster = await PgCluster.create();
    await cluster.start();
    await cluster.withClient((c) => c.query(`CREATE DATABASE ${DB}`));
    receiver = await Receiver.start();
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) {
      const killer = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
      await s.stop('SIGTERM');
      clearTimeout(killer);
    }
    await receiver?.close();
    await cluster?.cleanup();
  }, 60_000);

  it('survives terminated connections and a restart: 0 lost writes, no 500, back within 2 s', async () => {
    const c = cluster!;
    const env = {
      DATABASE_URL: c.url(DB),
      MLFLOW_WEBHOOK_ALLOWED_SCHEMES: 'http',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: Fernet.generateKey(),
      WEBHOOK_POLL_INTERVAL_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '2000',
      READ_CACHE_MB: '4',
    };
    const a = await startServerProcess({ env });
    servers.push(a);
    const b = await startServerProcess({ env: { ...env, WEBHOOK_DELIVERY_ENABLED: 'false' } });
    servers.push(b);
    const byName = { A: a, B: b } as const;

    for (const name of MODELS) expect((await call(a, 'POST', `${API}/registered-models/create`, { name })).status).toBe(200);
    const hook = await call(a, 'POST', `${API}/webhooks`, {
      name: 'after-outage',
      url: `${receiver!.url}/hook`,
      events: [{ entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' }],
    });
    expect(hook.status).toBe(200);

    // --- load ---------------------------------------------------------------------------------------
    const answers: Answer[] = [];
    const acked = {
      versions: [] as { name: string; version: string; description: string }[],
      modelTags: [] as { name: string; key: string; value: string }[],
      versionTags: [] as { name: string; version: string; key: string; value: string }[],
    };
    let stop = false;
    const writer = async (i: number) => {
      const which = i % 2 === 0 ? 'A' : 'B';
      const server = byName[which];
      const name = MODELS[i % MODELS.length]!;
      let lastVersion: string | undefined;
      for (let n = 0; !stop; n++) {
        const kind = n % 5 === 2 ? 'model-tag' : n % 5 === 4 && lastVersion ? 'version-tag' : 'create';
        const start = Date.now();
        let res: { status: number; body: any; retryAfter: string | null };
        try {
          if (kind === 'create') {
            const description = `w${i}-${n}`;
            res = await call(server, 'POST', `${API}/model-versions/create`, { name, source: `mlflow-artifacts:/faults/${i}/${n}`, description });
            if (res.status === 200) {
              lastVersion = String(res.body.model_version.version);
              acked.versions.push({ name, version: lastVersion, description });
            }
          } else if (kind === 'model-tag') {
            const tag = { name, key: `w${i}_${n}`, value: String(n) };
            res = await call(server, 'POST', `${API}/registered-models/set-tag`, tag);
            if (res.status === 200) acked.modelTags.push(tag);
          } else {
            const tag = { name, version: lastVersion!, key: `w${i}_${n}`, value: String(n) };
            res = await call(server, 'POST', `${API}/model-versions/set-tag`, tag);
            if (res.status === 200) acked.versionTags.push(tag);
          }
        } catch (err) {
          res = { status: 0, body: String(err), retryAfter: null };
        }
        answers.push({ server: which, op: kind, status: res.status, start, end: Date.now(), body: res.body, retryAfter: res.retryAfter });
        if (res.status !== 200) await sleep(50);
      }
    };
    const loadStarted = Date.now();
    const writers = Array.from({ length: WRITERS }, (_, i) => writer(i));

    // --- faults -------------------------------------------------------------------------------------
    const faults: { kind: string; at: number; terminated?: number }[] = [];
    let readyAt = 0;
    await sleep(1500);
    for (let k = 1; k <= TERMINATIONS; k++) {
      const terminated = await c.terminateBackends(`datname = '${DB}'`);
      faults.push({ kind: `terminate #${k}`, at: Date.now(), terminated });
      await sleep(1200);
      if (k === RESTART_AFTER) {
        const stopAt = Date.now();
        await c.stop('fast');
        faults.push({ kind: 'stop (fast)', at: stopAt });
        await sleep(1000);
        await c.start(); // pg_ctl -w: returns once PostgreSQL accepts connections
        readyAt = Date.now();
        expect(c.isReady()).toBe(true);
        faults.push({ kind: 'started', at: readyAt });
        await sleep(1500);
      }
    }
    await sleep(1500);
    stop = true;
    await Promise.all(writers);
    const loadEnded = Date.now();

    // --- the processes survived ---------------------------------------------------------------------
    expect(a.proc.exitCode, a.output.slice(-30).join('\n')).toBeNull();
    expect(b.proc.exitCode, b.output.slice(-30).join('\n')).toBeNull();
    const crashes = [...a.output, ...b.output].filter((l) => /Unhandled 'error' event|uncaught|unhandled error/i.test(l));
    expect(crashes.length, crashes.slice(0, 3).join('\n')).toBe(0);

    // --- answers ------------------------------------------------------------------------------------
    const byStatus: Record<string, number> = {};
    for (const x of answers) byStatus[x.status] = (byStatus[x.status] ?? 0) + 1;
    const firstSuccessAfter = (t: number) => {
      const ok = answers.filter((x) => x.status === 200 && x.end >= t).map((x) => x.end);
      return ok.length ? Math.min(...ok) - t : Infinity;
    };
    const timeToFirstSuccess = firstSuccessAfter(readyAt);
    console.log(
      `database faults: ${answers.length} requests in ${loadEnded - loadStarted} ms by status ${JSON.stringify(byStatus)}; ` +
        `acknowledged: ${acked.versions.length} versions, ${acked.modelTags.length} model tags, ${acked.versionTags.length} version tags`,
    );
    for (const f of faults) console.log(`  ${f.kind}${f.terminated !== undefined ? ` (${f.terminated} connections)` : ''}: first success ${firstSuccessAfter(f.at)} ms after`);
    console.log(`  time to first success after PostgreSQL was back (pg_ctl start returned): ${timeToFirstSuccess} ms`);

    const odd = answers.filter((x) => x.status !== 200 && x.status !== 503);
    expect(odd.slice(0, 5).map((x) => ({ status: x.status, op: x.op, body: x.body }))).toEqual([]);
    const unavailable = answers.filter((x) => x.status === 503);
    expect(unavailable.length).toBeGreaterThan(0); // the faults were felt
    for (const x of unavailable) {
      expect(x.body?.error_code).toBe('TEMPORARILY_UNAVAILABLE');
      expect(x.retryAfter).toBe('1');
      const text = JSON.stringify(x.body);
      for (const leak of [c.password, `:${c.port}`, '127.0.0.1', 'postgres://']) expect(text).not.toContain(leak);
    }
    console.log(`  503 messages: ${JSON.stringify([...new Set(unavailable.map((x) => x.body.message))])}`);
    expect(readyAt).toBeGreaterThan(0);
    expect(timeToFirstSuccess).toBeLessThanOrEqual(2000);
    for (const f of faults.filter((f) => f.terminated !== undefined)) expect(f.terminated).toBeGreaterThan(0);

    // --- every acknowledged write is there, and no change lacks its event -----------------------------
    const db = await c.withClient(async (pgc) => ({
      versions: (await pgc.query<{ name: string; version: number; description: string }>(`SELECT name, version, description FROM model_versions`)).rows,
      modelTags: (await pgc.query<{ name: string; key: string; value: string }>(`SELECT name, key, value FROM registered_model_tags`)).rows,
      versionTags: (await pgc.query<{ name: string; version: number; key: string; value: string }>(`SELECT name, version, key, value FROM model_version_tags`)).rows,
      versionsWithoutEvent: (
        await pgc.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM model_versions mv WHERE NOT EXISTS (
             SELECT 1 FROM registry_events e WHERE e.entity = 'model_version' AND e.action = 'created'
                AND e.name = mv.name AND e.version = mv.version AND e.workspace = mv.workspace)`,
        )
      ).rows[0]!.n,
      eventsWithoutVersion: (
        await pgc.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM registry_events e WHERE e.entity = 'model_version' AND e.action = 'created' AND NOT EXISTS (
             SELECT 1 FROM model_versions mv WHERE mv.name = e.name AND mv.version = e.version AND mv.workspace = e.workspace)`,
        )
      ).rows[0]!.n,
      tagsWithoutEvent: (
        await pgc.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM registered_model_tags t WHERE t.key LIKE 'w%' AND NOT EXISTS (
             SELECT 1 FROM registry_events e WHERE e.entity = 'registered_model_tag' AND e.name = t.name AND e.data->>'key' = t.key)`,
        )
      ).rows[0]!.n,
    }), DB);
    const versions = new Map(db.versions.map((v) => [`${v.name}/${v.version}`, v.description]));
    const modelTags = new Map(db.modelTags.map((t) => [`${t.name}/${t.key}`, t.value]));
    const versionTags = new Map(db.versionTags.map((t) => [`${t.name}/${t.version}/${t.key}`, t.value]));
    const lost = [
      ...acked.versions.filter((v) => versions.get(`${v.name}/${v.version}`) !== v.description).map((v) => `version ${v.name}/${v.version}`),
      ...acked.modelTags.filter((t) => modelTags.get(`${t.name}/${t.key}`) !== t.value).map((t) => `model tag ${t.name}/${t.key}`),
      ...acked.versionTags.filter((t) => versionTags.get(`${t.name}/${t.version}/${t.key}`) !== t.value).map((t) => `version tag ${t.key}`),
    ];
    console.log(
      `  lost writes: ${lost.length}; versions in the database: ${db.versions.length} (acknowledged ${acked.versions.length}; ` +
        `the others answered 503 with an unknown outcome); versions without their event: ${db.versionsWithoutEvent}; ` +
        `events without their version: ${db.eventsWithoutVersion}; model tags without their event: ${db.tagsWithoutEvent}`,
    );
    expect(lost).toEqual([]);
    expect(acked.versions.length).toBeGreaterThan(0);
    expect(db.versionsWithoutEvent).toBe(0);
    expect(db.eventsWithoutVersion).toBe(0);
    expect(db.tagsWithoutEvent).toBe(0);

    // --- webhook delivery resumed: a webhook created before the faults gets an event created after -----
    const alias = await call(b, 'POST', `${API}/registered-models/alias`, { name: MODELS[0], alias: 'after_outage', version: '1' });
    expect(alias.status).toBe(200);
    const delivered = Date.now();
    const got = await receiver!.waitFor((r) => r.some((x) => x.json.data?.alias === 'after_outage'), 20_000);
    console.log(`  webhook: event after the faults delivered in ${Date.now() - delivered} ms`);
    expect(got.find((x) => x.json.data?.alias === 'after_outage')!.json).toMatchObject({
      entity: 'model_version_alias',
      action: 'created',
      data: { name: MODELS[0], alias: 'after_outage', version: '1' },
    });

    // --- both read caches follow the change feed again, and reads across replicas are fresh -----------
    await eventually(
      () =>
        c.withClient(async (pgc) => {
          const { rows } = await pgc.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM registry_cache_listeners l JOIN pg_stat_activity s ON s.pid = l.pid
              WHERE s.application_name = 'mlflow-registry-cache-listener' AND s.datname = current_database()`,
          );
          return rows[0]!.n >= 2;
        }, DB),
      15_000,
      100,
    );
    for (let k = 0; k < 10; k++) {
      const [reader, writer2] = k % 2 === 0 ? [b, a] : [a, b];
      const get = () => call(reader, 'GET', `${API}/model-versions/get?name=${MODELS[1]}&version=1`);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200); // kept by the cache now
      expect((await call(writer2, 'PATCH', `${API}/model-versions/update`, { name: MODELS[1], version: '1', description: `fresh-${k}` })).status).toBe(200);
      const after = await get();
      expect(after.status).toBe(200);
      expect(after.body.model_version.description).toBe(`fresh-${k}`);
    }
  }, 240_000);
});
