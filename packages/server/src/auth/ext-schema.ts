/**
 * Our own auth tables (not MLflow's): personal access tokens. A separate migration set (DRIZZLE_SET=auth-ext,
 * auth/migrations-ext, bookkeeping `__mlflow_ts_migrations_auth_ext`) applied on every auth database,
 * MLflow's basic-auth database included: the `mlflow_ts_` prefix keeps the table clear of MLflow's names,
 * and MLflow never reads it. A token dies with its user (ON DELETE CASCADE, whichever server deletes the user).
 *
 * drizzle-kit reads this file to generate auth/migrations-ext; the running server never imports it.
 */
import { bigint, foreignKey, index, integer, pgTable, serial, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { users } from './schema.js';

export const accessTokens = pgTable(
  'mlflow_ts_access_tokens',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull(),
    name: varchar('name', { length: 255 }).notNull(),
    /** Hex SHA-256 of the whole token (`mlrt_…`): the token itself is never stored. */
    tokenHash: varchar('token_hash', { length: 64 }).notNull(),
    /** Milliseconds since the epoch, as every timestamp of the API. */
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
  },
  (t) => [
    foreignKey({ name: 'mlflow_ts_access_tokens_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }).onDelete('cascade'),
    uniqueIndex('mlflow_ts_access_tokens_token_hash_key').on(t.tokenHash),
    index('mlflow_ts_access_tokens_user_id_idx').on(t.userId),
  ],
);
