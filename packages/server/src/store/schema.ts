/**
 * Drizzle schema. The registry tables mirror MLflow's own (mlflow/store/model_registry/dbmodels/models.py,
 * alembic head of MLflow 3.17: workspace-leading composite keys), with the same table, column and
 * constraint names and types, so this server can run on a database created by `mlflow server`.
 * Tables of our own live in ext-schema.ts and are migrated separately.
 */
import { bigint, foreignKey, index, integer, pgTable, primaryKey, text, varchar } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

export { DEFAULT_WORKSPACE } from './workspace.js';
const workspace = () => varchar('workspace', { length: 63 }).notNull().default(sql`'default'`);

export const registeredModels = pgTable(
  'registered_models',
  {
    workspace: workspace(),
    name: varchar('name', { length: 256 }).notNull(),
    creationTime: bigint('creation_time', { mode: 'number' }),
    lastUpdatedTime: bigint('last_updated_time', { mode: 'number' }),
    description: varchar('description', { length: 5000 }),
  },
  (t) => [
    primaryKey({ name: 'registered_model_pk', columns: [t.workspace, t.name] }),
    index('idx_registered_models_workspace').on(t.workspace),
  ],
);

export const modelVersions = pgTable(
  'model_versions',
  {
    workspace: workspace(),
    name: varchar('name', { length: 256 }).notNull(),
    version: integer('version').notNull(),
    creationTime: bigint('creation_time', { mode: 'number' }),
    lastUpdatedTime: bigint('last_updated_time', { mode: 'number' }),
    description: varchar('description', { length: 5000 }),
    userId: varchar('user_id', { length: 256 }),
    currentStage: varchar('current_stage', { length: 20 }).default('None'),
    source: varchar('source', { length: 500 }),
    storageLocation: varchar('storage_location', { length: 500 }),
    runId: varchar('run_id', { length: 32 }),
    runLink: varchar('run_link', { length: 500 }),
    status: varchar('status', { length: 20 }).default('READY'),
    statusMessage: varchar('status_message', { length: 500 }),
  },
  (t) => [
    primaryKey({ name: 'model_version_pk', columns: [t.workspace, t.name, t.version] }),
    foreignKey({
      name: 'fk_model_versions_registered_models',
      columns: [t.workspace, t.name],
      foreignColumns: [registeredModels.workspace, registeredModels.name],
    }).onUpdate('cascade'),
    // Our additions (not in MLflow): back the run_id search and the latest-per-stage lookups.
    index('idx_model_versions_run_id').on(t.runId),
    index('idx_model_versions_stage').on(t.workspace, t.name, t.currentStage, t.version),
  ],
);

export const registeredModelTags = pgTable(
  'registered_model_tags',
  {
    workspace: workspace(),
    name: varchar('name', { length: 256 }).notNull(),
    key: varchar('key', { length: 250 }).notNull(),
    value: varchar('value', { length: 5000 }),
  },
  (t) => [
    primaryKey({ name: 'registered_model_tag_pk', columns: [t.workspace, t.key, t.name] }),
    foreignKey({
      name: 'fk_registered_model_tags_registered_models',
      columns: [t.workspace, t.name],
      foreignColumns: [registeredModels.workspace, registeredModels.name],
    }).onUpdate('cascade'),
    index('idx_registered_model_tags_workspace_name').on(t.workspace, t.name),
    // Ours, not MLflow's: tag-equality searches read their page in name order from it (registry-store.ts).
    // md5 because a btree entry of a raw varchar(5000) value would fail above about 2.7 kB.
    index('idx_registered_model_tags_key_value_md5').on(t.workspace, t.key, sql`md5(${t.value})`, t.name),
  ],
);

export const modelVersionTags = pgTable(
  'model_version_tags',
  {
    workspace: workspace(),
    name: varchar('name', { length: 256 }).notNull(),
    version: integer('version').notNull(),
    key: varchar('key', { length: 250 }).notNull(),
    value: text('value'),
  },
  (t) => [
    primaryKey({ name: 'model_version_tag_pk', columns: [t.workspace, t.key, t.name, t.version] }),
    foreignKey({
      name: 'fk_model_version_tags_model_versions',
      columns: [t.workspace, t.name, t.version],
      foreignColumns: [modelVersions.workspace, modelVersions.name, modelVersions.version],
    }).onUpdate('cascade'),
    index('idx_model_version_tags_workspace_name_version').on(t.workspace, t.name, t.version),
  ],
);

export const registeredModelAliases = pgTable(
  'registered_model_aliases',
  {
    workspace: workspace(),
    name: varchar('name', { length: 256 }).notNull(),
    alias: varchar('alias', { length: 256 }).notNull(),
    version: integer('version').notNull(),
  },
  (t) => [
    primaryKey({ name: 'registered_model_alias_pk', columns: [t.workspace, t.name, t.alias] }),
    foreignKey({
      name: 'registered_model_alias_registered_model_fkey',
      columns: [t.workspace, t.name],
      foreignColumns: [registeredModels.workspace, registeredModels.name],
    })
      .onUpdate('cascade')
      .onDelete('cascade'),
  ],
);

export const webhooks = pgTable(
  'webhooks',
  {
    workspace: workspace(),
    webhookId: varchar('webhook_id', { length: 256 }).notNull(),
    name: varchar('name', { length: 256 }).notNull(),
    description: varchar('description', { length: 1000 }),
    url: varchar('url', { length: 500 }).notNull(),
    status: varchar('status', { length: 20 }).notNull().default('ACTIVE'),
    secret: varchar('secret', { length: 1000 }),
    creationTimestamp: bigint('creation_timestamp', { mode: 'number' }),
    lastUpdatedTimestamp: bigint('last_updated_timestamp', { mode: 'number' }),
    deletedTimestamp: bigint('deleted_timestamp', { mode: 'number' }),
  },
  (t) => [
    primaryKey({ name: 'webhook_pk', columns: [t.webhookId] }),
    index('idx_webhooks_status').on(t.status),
    index('idx_webhooks_name').on(t.name),
    index('idx_webhooks_workspace').on(t.workspace),
  ],
);

export const webhookEvents = pgTable(
  'webhook_events',
  {
    webhookId: varchar('webhook_id', { length: 256 })
      .notNull()
      .references(() => webhooks.webhookId, { onDelete: 'cascade' }),
    entity: varchar('entity', { length: 50 }).notNull(),
    action: varchar('action', { length: 50 }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'webhook_event_pk', columns: [t.webhookId, t.entity, t.action] }),
    index('idx_webhook_events_entity').on(t.entity),
    index('idx_webhook_events_action').on(t.action),
    index('idx_webhook_events_entity_action').on(t.entity, t.action),
  ],
);

/**
 * MLflow's workspace catalogue (migrations 1b5f0d9ad7c1 and da6fb0208061): the workspace-aware tables
 * above carry no foreign key to it (MLflow's workspace providers may live outside the database). The
 * migration also inserts the `default` workspace, as MLflow's does.
 */
export const workspaces = pgTable(
  'workspaces',
  {
    name: varchar('name', { length: 63 }).notNull(),
    description: text('description'),
    defaultArtifactRoot: text('default_artifact_root'),
    traceArchivalLocation: text('trace_archival_location'),
    traceArchivalRetention: varchar('trace_archival_retention', { length: 32 }),
  },
  (t) => [primaryKey({ name: 'workspaces_pk', columns: [t.name] })],
);
