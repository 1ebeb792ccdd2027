/**
 * Round trips of the hot writes (issue 21): create-registered-model, create-model-version, set a model
 * or version tag, set and delete an alias each cost ONE statement round trip to the database, with their
 * audit event row, their webhook deliveries (a webhook subscribed to every event here) and their change
 * notification. Counted by a Database wrapper under the real RegistryService, store and event sink, on
 * PGlite and PostgreSQL; a transaction counts BEGIN and COMMIT as round trips too. The rows those
 * statements wrote are checked as well: same events, payloads and deliveries as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, createTestDatabase } from '../helpers/server.js';
import { createLogger } from '../../packages/server/src/log.js';
import { openPglite, openPostgres, type Database, type Executor } from '../../packages/server/src/store/db.js';
import { withCommitHooks } from '../../packages/server/src/events/commit-hooks.js';
import { PgEventSink } from '../../packages/server/src/events/sink.js';
import { RegistryStore } from '../../packages/server/src/store/registry-store.js';
import { RegistryService } from '../../packages/server/src/registry/service.js';
import { pyJsonDumps } from '../../packages/server/src/python/pyjson.js';
import { MlflowError } from '../../packages/server/src/errors.js';
import { uniq } from './util.js';

/** `db` with every statement counted (BEGIN and COMMIT of a transaction included). */
function counting(db: Database): { db: Database; count(): number; texts: string[] } {
  let n = 0;
  const texts: string[] = [];
  const wrap = (ex: Executor): Executor => ({
    query: (text, params, name) => {
      n++;
      texts.push(text);
      return ex.query(text, params, name);
    },
  });
  const counted: Database = {
    kind: db.kind,
    mlflowOwned: db.mlflowOwned,
    query: wrap(db).query,
    transaction: async (fn) => {
      n += 2;
      return db.transaction((tx) => fn(wrap(tx)));
    },
    close: () => db.close(),
  };
  return { db: counted, count: () => n, texts };
}


describe.each(backends())('one round trip per hot write (%s)', (backend) => {
  let raw: Database;
  let counter: ReturnType<typeof counting>;
  let service: RegistryService;

  beforeAll(async () => {
    const log = createLogger('error');
    raw = backend === 'postgres' ? await openPostgres(await createTestDatabase(), 4, log) : await openPglite(undefined, log);
    counter = counting(raw);
    const hooked = withCommitHooks(counter.db);
    // As in production (webhooks/index.ts): on PostgreSQL the sink announces changes to listening caches.
    const events = new PgEventSink({ hooks: hooked, announceChanges: backend === 'postgres' ? { ownListenerPid: () => 0 } : undefined });
    service = new RegistryService(new RegistryStore(hooked), { events });
    // A webhook subscribed to every event these writes record, so that each fans out a delivery.
    await raw.query(`INSERT INTO webhooks (webhook_id, name, url, status, creation_timestamp, last_updated_timestamp) VALUES ('w1', 'all', 'http://127.0.0.1:1/h', 'ACTIVE', 0, 0)`);
    await raw.query(
      `INSERT INTO webhook_events (webhook_id, entity, action) SELECT 'w1', e, a FROM (VALUES
         ('registered_model', 'created'), ('model_version', 'created'), ('model_version_tag', 'set'),
         ('model_version_alias', 'created'), ('model_version_alias', 'deleted'), ('prompt_tag', 'set'),
         ('prompt', 'created'), ('prompt_version', 'created')) AS x(e, a)`,
    );
  });
  afterAll(async () => {
    await raw?.close();
  });

  /** Runs `write` and answers how many round trips it took. */
  const roundTrips = async (write: () => Promise<unknown>): Promise<number> => {
    const before = counter.count();
    await write();
    return counter.count() - before;
  };
  const events = (name: string) =>
    raw.query<{ entity: string; action: string; version: number | null; data: any; before: any; payload: string | null; deliveries: number }>(
      `SELECT e.entity, e.action, e.version, e.data, e.before, e.payload, (SELECT count(*)::int FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries
         FROM registry_events e WHERE e.name = $1 ORDER BY e.id`,
      [name],
    );

  it('create model, create version, set tags, set and delete an alias: one statement each, events and deliveries included', async () => {
    const name = uniq('rt');
    expect(await roundTrips(() => service.createRegisteredModel({ name, tags: [{ key: 'a', value: '1' }] }))).toBe(1);
    expect(await roundTrips(() => service.createModelVersion({ name, source: 's3://b/1', tags: [{ key: 't', value: 'v' }] }))).toBe(1);
    expect(await roundTrips(() => service.createModelVersion({ name, source: 's3://b/2', run_id: 'r2', description: 'two' }))).toBe(1);
    expect(await roundTrips(() => service.setRegisteredModelTag({ name, key: 'a', value: '2' }))).toBe(1);
    expect(await roundTrips(() => service.setModelVersionTag({ name, version: '2', key: 'k', value: 'x' }))).toBe(1);
    expect(await roundTrips(() => service.setRegisteredModelAlias({ name, alias: 'champ', version: '1' }))).toBe(1);
    expect(await roundTrips(() => service.setRegisteredModelAlias({ name, alias: 'champ', version: '2' }))).toBe(1);
    expect(await roundTrips(() => service.deleteRegisteredModelAlias({ name, alias: 'champ' }))).toBe(1);

    const rows = await events(name);
    expect(rows.map((r) => [r.entity, r.action, r.version, r.before, r.deliveries])).toEqual([
      ['registered_model', 'created', null, null, 1],
      ['model_version', 'created', 1, null, 1],
      ['model_version', 'created', 2, null, 1],
      ['registered_model_tag', 'set', null, { value: '1' }, 0], // not a webhook event for models
      ['model_version_tag', 'set', 2, null, 1],
      ['model_version_alias', 'created', 1, null, 1],
      ['model_version_alias', 'created', 2, { version: '1' }, 1],
      ['model_version_alias', 'deleted', null, { version: '2' }, 1],
    ]);
    // The version the statement created is in the event's data and, byte for byte, in its payload.
    const v2 = { name, version: '2', source: 's3://b/2', run_id: 'r2', tags: {}, description: 'two' };
    expect(rows[2]!.data).toEqual(v2);
    expect(rows[2]!.payload).toBe(pyJsonDumps(v2));
    expect(rows[1]!.payload).toBe(pyJsonDumps({ name, version: '1', source: 's3://b/1', run_id: null, tags: { t: 'v' }, description: null }));
  });

  it('a prompt: its version payload and the prompt variant of a tag event', async () => {
    const name = uniq('rtp');
    const promptTags = [{ key: 'mlflow.prompt.is_prompt', value: 'true' }];
    expect(await roundTrips(() => service.createRegisteredModel({ name, tags: promptTags }))).toBe(1);
    const versionTags = [...promptTags, { key: 'mlflow.prompt.text', value: 'Hi {{x}}' }, { key: 'k', value: 'é' }];
    expect(await roundTrips(() => service.createModelVersion({ name, source: 'dummy-source', tags: versionTags }))).toBe(1);
    expect(await roundTrips(() => service.setRegisteredModelTag({ name, key: 'owner', value: 'me' }))).toBe(1);
    const rows = await events(name);
    expect(rows.map((r) => [r.entity, r.action, r.version, r.deliveries])).toEqual([
      ['prompt', 'created', null, 1],
      ['prompt_version', 'created', 1, 1],
      ['prompt_tag', 'set', null, 1],
    ]);
    expect(rows[1]!.payload).toBe(pyJsonDumps({ name, version: '1', template: 'Hi {{x}}', tags: { k: 'é' }, description: null }));
  });

  it('failures take one round trip and record nothing', async () => {
    const name = uniq('rtx');
    const fails = async (write: () => Promise<unknown>, code: string) => {
      let err: unknown;
      const n = await roundTrips(() => write().catch((e) => (err = e)));
      expect(err).toBeInstanceOf(MlflowError);
      expect((err as MlflowError).errorCode).toBe(code);
      return n;
    };
    expect(await fails(() => service.createModelVersion({ name, source: 's3://b/1' }), 'RESOURCE_DOES_NOT_EXIST')).toBe(1);
    expect(await fails(() => service.setRegisteredModelTag({ name, key: 'k', value: 'v' }), 'RESOURCE_DOES_NOT_EXIST')).toBe(1);
    expect(await fails(() => service.setModelVersionTag({ name, version: '1', key: 'k', value: 'v' }), 'RESOURCE_DOES_NOT_EXIST')).toBe(1);
    expect(await fails(() => service.setRegisteredModelAlias({ name, alias: 'a', version: '1' }), 'RESOURCE_DOES_NOT_EXIST')).toBe(1);
    expect(await fails(() => service.deleteRegisteredModelAlias({ name, alias: 'a' }), 'RESOURCE_DOES_NOT_EXIST')).toBe(1);
    await service.createRegisteredModel({ name });
    // A taken name: one failed statement, then the read that words MLflow's message.
    expect(await fails(() => service.createRegisteredModel({ name }), 'RESOURCE_ALREADY_EXISTS')).toBe(2);
    expect((await events(name)).map((r) => r.entity)).toEqual(['registered_model']);
  });

  it('version numbers stay max+1 when another writer adds versions behind the counter, and restart for a model created again', async () => {
    const name = uniq('rtn');
    await service.createRegisteredModel({ name });
    await service.createModelVersion({ name, source: 's3://b/1' });
    // A writer that does not know the counter (mlflow server, plain SQL) adds versions 2 and 3.
    await raw.query(
      `INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time, current_stage, source, status)
       SELECT 'default', $1, v, 0, 0, 'None', 's', 'READY' FROM generate_series(2, 3) v`,
      [name],
    );
    const created = (await service.createModelVersion({ name, source: 's3://b/4' })).model_version!;
    expect(created.version).toBe('4');
    // Deleted and created again (by anyone): numbering restarts at 1.
    await raw.query(`DELETE FROM model_versions WHERE name = $1`, [name]);
    await raw.query(`DELETE FROM registered_models WHERE name = $1`, [name]);
    await service.createRegisteredModel({ name });
    expect((await service.createModelVersion({ name, source: 's3://b/1' })).model_version!.version).toBe('1');
  });
});
