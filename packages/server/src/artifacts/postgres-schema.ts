/**
 * The tables of the PostgreSQL artifact store (ARTIFACTS_STORE=postgres, postgres.ts): ours, never MLflow's.
 * A separate migration set (artifacts/migrations-pg, bookkeeping `__mlflow_ts_migrations_artifacts_pg`)
 * applied only when that store is chosen (pg-migrations.ts).
 *
 * - A blob is one upload's bytes, split into fixed-size chunks. Uploads write a new blob, then point the
 *   file row at it in one transaction, so readers see the old bytes or the new ones, never a mixture.
 * - A blob nobody points at any more (replaced, deleted, or an upload that died) gets `released_at` and is
 *   removed, with its chunks, after a grace period that lets downloads already under way finish.
 * - `path` sorts bytewise (COLLATE "C"), so a directory is a key range: `dir/` ≤ path < `dir0`.
 *
 * drizzle-kit reads this file to generate artifacts/migrations-pg; the running server never imports it.
 */
import { sql } from 'drizzle-orm';
import { bigint, bigserial, customType, foreignKey, index, integer, pgTable, primaryKey, uniqueIndex } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });
/** Text compared bytewise, whatever the database's default collation. */
const textC = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

export const artifactBlobs = pgTable(
  'mlflow_ts_artifact_blobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Milliseconds since the epoch (database clock), as every timestamp of ours. */
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    /** When the blob stopped being any file's content; null while it is one, or while it is being written. */
    releasedAt: bigint('released_at', { mode: 'number' }),
  },
  (t) => [index('mlflow_ts_artifact_blobs_released_idx').on(t.releasedAt).where(sql`${t.releasedAt} IS NOT NULL`)],
);

export const artifactChunks = pgTable(
  'mlflow_ts_artifact_chunks',
  {
    blobId: bigint('blob_id', { mode: 'number' }).notNull(),
    /** 0-based; every chunk but the last holds exactly the file's chunk_size bytes. */
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.blobId, t.seq], name: 'mlflow_ts_artifact_chunks_pkey' }),
    foreignKey({ name: 'mlflow_ts_artifact_chunks_blob_id_fkey', columns: [t.blobId], foreignColumns: [artifactBlobs.id] }).onDelete('cascade'),
  ],
);

export const artifacts = pgTable(
  'mlflow_ts_artifacts',
  {
    path: textC('path').primaryKey(),
    blobId: bigint('blob_id', { mode: 'number' }).notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    chunkSize: integer('chunk_size').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [
    uniqueIndex('mlflow_ts_artifacts_blob_id_key').on(t.blobId),
    foreignKey({ name: 'mlflow_ts_artifacts_blob_id_fkey', columns: [t.blobId], foreignColumns: [artifactBlobs.id] }),
  ],
);
