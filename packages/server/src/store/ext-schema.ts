/**
 * Tables of our own (never MLflow's). Migrated separately from the MLflow-mirroring tables, so that
 * on a database created by `mlflow server` we add these without touching MLflow's tables.
 * Issue-specific tables (events, deliveries) are added here by their features.
 */
import { bigint, pgTable, varchar } from 'drizzle-orm/pg-core';

/** Marker row: which schema generation of ours is installed (also gives drizzle-kit a table to emit). */
export const registryMeta = pgTable('mlflow_ts_meta', {
  key: varchar('key', { length: 100 }).primaryKey(),
  value: varchar('value', { length: 1000 }),
  updatedAt: bigint('updated_at', { mode: 'number' }),
});
