/**
 * Tables of our own (never MLflow's). Migrated separately from the MLflow-mirroring tables, so that
 * on a database created by `mlflow server` we add these without touching MLflow's tables.
 * Issue-specific tables (events, deliveries) are added here by their features.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex, varchar } from 'drizzle-orm/pg-core';

/** Marker row: which schema generation of ours is installed (also gives drizzle-kit a table to emit). */
export const registryMeta = pgTable('mlflow_ts_meta', {
  key: varchar('key', { length: 100 }).primaryKey(),
  value: varchar('value', { length: 1000 }),
  updatedAt: bigint('updated_at', { mode: 'number' }),
});

/**
 * The event log (audit history and webhook outbox): one row per registry change, written in the
 * transaction of the change itself (events/sink.ts). `name` is the model name at the time of the
 * event (for a rename, the new name; the old one is in `before.name`). `payload` holds MLflow's
 * webhook `data` serialised as Python's json.dumps would, for the events MLflow delivers.
 */
export const registryEvents = pgTable(
  'registry_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    time: bigint('time', { mode: 'number' }).notNull(),
    workspace: varchar('workspace', { length: 63 }).notNull().default(sql`'default'`),
    entity: varchar('entity', { length: 50 }).notNull(),
    action: varchar('action', { length: 50 }).notNull(),
    name: varchar('name', { length: 256 }).notNull(),
    version: integer('version'),
    alias: varchar('alias', { length: 256 }),
    data: jsonb('data').notNull(),
    before: jsonb('before'),
    actor: varchar('actor', { length: 256 }),
    webhook: boolean('webhook').notNull().default(false),
    payload: text('payload'),
  },
  (t) => [
    index('idx_registry_events_name').on(t.workspace, t.name, t.id),
    index('idx_registry_events_time').on(t.workspace, t.time, t.id),
    index('idx_registry_events_renamed_from')
      .on(t.workspace, sql`(${t.before} ->> 'name')`, t.id)
      .where(sql`${t.action} = 'renamed'`),
  ],
);

/**
 * Webhook outbox: one row per (event, subscribed webhook). `due_at` is when a PENDING row may next be
 * attempted, or when the lease of an IN_FLIGHT row expires (then another worker may take it over).
 * `delivery_id` is the X-MLflow-Delivery-Id, stable across retries.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: varchar('delivery_id', { length: 36 }).notNull(),
    eventId: bigint('event_id', { mode: 'number' })
      .notNull()
      .references(() => registryEvents.id, { onDelete: 'cascade' }),
    webhookId: varchar('webhook_id', { length: 256 }).notNull(),
    workspace: varchar('workspace', { length: 63 }).notNull().default(sql`'default'`),
    /** PENDING, IN_FLIGHT, DELIVERED, FAILED or CANCELLED. */
    status: varchar('status', { length: 20 }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    dueAt: bigint('due_at', { mode: 'number' }).notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    claimedBy: varchar('claimed_by', { length: 200 }),
    claimedAt: bigint('claimed_at', { mode: 'number' }),
    finishedAt: bigint('finished_at', { mode: 'number' }),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
  },
  (t) => [
    uniqueIndex('idx_webhook_deliveries_delivery_id').on(t.deliveryId),
    index('idx_webhook_deliveries_due')
      .on(t.dueAt, t.id)
      .where(sql`${t.status} IN ('PENDING', 'IN_FLIGHT')`),
    index('idx_webhook_deliveries_webhook').on(t.webhookId, t.id),
    index('idx_webhook_deliveries_event').on(t.eventId),
  ],
);

/** One row per delivery attempt (including attempts lost with a crashed worker), for the API. */
export const webhookDeliveryAttempts = pgTable(
  'webhook_delivery_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryRowId: bigint('delivery_row_id', { mode: 'number' })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    startedAt: bigint('started_at', { mode: 'number' }),
    finishedAt: bigint('finished_at', { mode: 'number' }).notNull(),
    responseStatus: integer('response_status'),
    responseBody: text('response_body'),
    error: text('error'),
    worker: varchar('worker', { length: 200 }),
  },
  (t) => [index('idx_webhook_delivery_attempts_delivery').on(t.deliveryRowId, t.attempt)],
);

/**
 * The read caches listening to the change feed (events/changes.ts): one row per caching replica's
 * LISTEN connection, by its backend pid. A write announces its changes only while a row other than
 * its own process's exists (events/sink.ts). Rows whose pid is no longer a cache listener in
 * pg_stat_activity are deleted by the remaining caches; one left behind costs notifications, never
 * correctness.
 */
export const registryCacheListeners = pgTable('registry_cache_listeners', {
  pid: integer('pid').primaryKey(),
  registeredAt: bigint('registered_at', { mode: 'number' }).notNull(),
});

/**
 * The last version number given out per model, so that creating a version is one statement
 * (store/registry-store.ts insertModelVersion): the counter row is upserted, and so locked and re-read
 * at its latest committed value even under READ COMMITTED, in the statement that inserts the version.
 * Derivable: a missing row starts from the model's highest version, and every increment takes the
 * greater of the counter and that highest version, so versions written by `mlflow server` (which does
 * not know this table) are never reused. A trigger (migration ext/0004, with the table) deletes a model's row when the
 * model is deleted or renamed, whoever does it; no foreign key, so MLflow's tables gain no dependency.
 */
export const modelVersionCounters = pgTable(
  'model_version_counters',
  {
    workspace: varchar('workspace', { length: 63 }).notNull(),
    name: varchar('name', { length: 256 }).notNull(),
    lastVersion: integer('last_version').notNull(),
  },
  (t) => [primaryKey({ name: 'model_version_counters_pk', columns: [t.workspace, t.name] })],
);
