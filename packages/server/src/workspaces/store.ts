/**
 * The workspace catalogue: MLflow's `workspaces` table (store/schema.ts) and what deleting a workspace
 * does to the tables that carry a `workspace` column (mlflow/store/workspace/sqlalchemy_store.py).
 */
import { MlflowError } from '../errors.js';
import type { Database, Executor } from '../store/db.js';
import { DEFAULT_WORKSPACE } from './names.js';
import { pyRepr } from '../python/repr.js';

export interface WorkspaceRow {
  name: string;
  description: string | null;
  default_artifact_root: string | null;
  trace_archival_location: string | null;
  trace_archival_retention: string | null;
}

/** WorkspaceDeletionMode. */
export type DeletionMode = 'RESTRICT' | 'CASCADE' | 'SET_DEFAULT';
export const DELETION_MODES: readonly DeletionMode[] = ['SET_DEFAULT', 'CASCADE', 'RESTRICT'];

/**
 * MLflow's _WORKSPACE_ROOT_MODELS, in its order, with whether the table has a `name` column (checked
 * for conflicts by SET_DEFAULT). Only the first and `webhooks` are the registry's; the others exist on
 * a database `mlflow server` created, and are counted (RESTRICT) and moved (SET_DEFAULT) there too.
 */
const ROOT_TABLES: readonly { table: string; named: boolean }[] = [
  { table: 'registered_models', named: true },
  { table: 'experiments', named: true },
  { table: 'evaluation_datasets', named: true },
  { table: 'webhooks', named: true },
  { table: 'secrets', named: false },
  { table: 'endpoints', named: true },
  { table: 'model_definitions', named: true },
  { table: 'budget_policies', named: false },
  { table: 'guardrails', named: true },
  { table: 'jobs', named: false },
  { table: 'mcp_servers', named: true },
];
/** What this server can delete itself (CASCADE): the registry's root tables. */
const REGISTRY_TABLES = new Set(['registered_models', 'webhooks']);

const FIELDS = 'name, description, default_artifact_root, trace_archival_location, trace_archival_retention';

const invalidState = (message: string) => new MlflowError('INVALID_STATE', message, { status: 400 });

export function workspaceNotFound(name: string): MlflowError {
  return new MlflowError('RESOURCE_DOES_NOT_EXIST', `Workspace '${name}' not found`);
}

export class WorkspaceStore {
  constructor(private readonly db: Database) {}

  async exists(name: string): Promise<boolean> {
    const rows = await this.db.query('SELECT 1 FROM workspaces WHERE name = $1', [name], 'ws_exists');
    return rows.length > 0;
  }

  async list(): Promise<WorkspaceRow[]> {
    return this.db.query<WorkspaceRow>(`SELECT ${FIELDS} FROM workspaces ORDER BY name`, [], 'ws_list');
  }

  async get(name: string): Promise<WorkspaceRow> {
    const [row] = await this.db.query<WorkspaceRow>(`SELECT ${FIELDS} FROM workspaces WHERE name = $1`, [name], 'ws_get');
    if (!row) throw workspaceNotFound(name);
    return row;
  }

  async create(w: WorkspaceRow): Promise<WorkspaceRow> {
    try {
      const [row] = await this.db.query<WorkspaceRow>(
        `INSERT INTO workspaces (${FIELDS}) VALUES ($1, $2, $3, $4, $5) RETURNING ${FIELDS}`,
        [w.name, w.description, w.default_artifact_root, w.trace_archival_location, w.trace_archival_retention],
      );
      return row!;
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        throw MlflowError.alreadyExists(`Workspace '${w.name}' already exists. Error: ${err.message}`);
      }
      throw err;
    }
  }

  /** Sets the fields given (undefined: unchanged); an empty default_artifact_root clears it, as MLflow. */
  async update(name: string, set: Partial<Omit<WorkspaceRow, 'name'>>): Promise<WorkspaceRow> {
    const [row] = await this.db.query<WorkspaceRow>(
      `UPDATE workspaces SET
          description = CASE WHEN $2::boolean THEN $3 ELSE description END,
          default_artifact_root = CASE WHEN $4::boolean THEN nullif($5, '') ELSE default_artifact_root END,
          trace_archival_location = CASE WHEN $6::boolean THEN $7 ELSE trace_archival_location END,
          trace_archival_retention = CASE WHEN $8::boolean THEN $9 ELSE trace_archival_retention END
        WHERE name = $1 RETURNING ${FIELDS}`,
      [
        name,
        set.description != null,
        set.description ?? null,
        set.default_artifact_root != null,
        set.default_artifact_root ?? null,
        set.trace_archival_location !== undefined && set.trace_archival_location !== null,
        set.trace_archival_location || null,
        set.trace_archival_retention !== undefined && set.trace_archival_retention !== null,
        set.trace_archival_retention || null,
      ],
    );
    if (!row) throw workspaceNotFound(name);
    return row;
  }

  /**
   * delete_workspace in one transaction; `announce` runs in it after the change (the read caches of
   * the other replicas must drop everything: events/changes.ts).
   */
  async delete(name: string, mode: DeletionMode, announce: (tx: Executor) => Promise<void>): Promise<void> {
    if (name === DEFAULT_WORKSPACE) throw invalidState(`Cannot delete the reserved '${DEFAULT_WORKSPACE}' workspace`);
    await this.db.transaction(async (tx) => {
      const locked = await tx.query('SELECT 1 FROM workspaces WHERE name = $1 FOR UPDATE', [name]);
      if (locked.length === 0) throw workspaceNotFound(name);
      const tables = await presentTables(tx);
      if (mode === 'RESTRICT') {
        for (const { table } of tables) {
          const [r] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE workspace = $1`, [name]);
          if (r!.n > 0) {
            throw invalidState(
              `Cannot delete workspace '${name}': table '${table}' still contains ${r!.n} resource(s). Remove or reassign them before deleting the workspace.`,
            );
          }
        }
      } else if (mode === 'CASCADE') {
        for (const { table } of tables) {
          if (REGISTRY_TABLES.has(table)) continue;
          const [r] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE workspace = $1`, [name]);
          if (r!.n > 0) {
            // Tracking resources have children this registry does not know; MLflow deletes them through its ORM.
            throw invalidState(
              `Cannot delete workspace '${name}' in CASCADE mode on this server: table '${table}' still contains ${r!.n} resource(s) that only mlflow server can delete.`,
            );
          }
        }
        await deleteRegistryRows(tx, name);
      } else {
        await checkSetDefaultConflicts(tx, name, tables);
        for (const { table } of tables) await tx.query(`UPDATE ${table} SET workspace = $2 WHERE workspace = $1`, [name, DEFAULT_WORKSPACE]);
        // Our own rows follow the models and webhooks they describe.
        await tx.query(`UPDATE registry_events SET workspace = $2 WHERE workspace = $1`, [name, DEFAULT_WORKSPACE]);
        await tx.query(`UPDATE webhook_deliveries SET workspace = $2 WHERE workspace = $1`, [name, DEFAULT_WORKSPACE]);
      }
      await tx.query('DELETE FROM workspaces WHERE name = $1', [name]);
      await announce(tx);
    });
  }
}

/** The root tables that exist in this database (ours has two; MLflow's all of them). */
async function presentTables(tx: Executor): Promise<{ table: string; named: boolean }[]> {
  const rows = await tx.query<{ t: string }>(`SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL`, [ROOT_TABLES.map((r) => r.table)]);
  const present = new Set(rows.map((r) => r.t));
  return ROOT_TABLES.filter((r) => present.has(r.table));
}

/**
 * CASCADE of the registry: models with their versions, tags and aliases, webhooks with their events
 * (MLflow deletes them, soft-deleted ones too), and our event log and deliveries of the workspace, so a
 * workspace created again under the name starts empty.
 */
async function deleteRegistryRows(tx: Executor, ws: string): Promise<void> {
  await tx.query(
    `WITH d1 AS (DELETE FROM model_version_tags WHERE workspace = $1),
          d2 AS (DELETE FROM registered_model_tags WHERE workspace = $1),
          d3 AS (DELETE FROM registered_model_aliases WHERE workspace = $1)
     SELECT 1`,
    [ws],
  );
  await tx.query(`DELETE FROM model_versions WHERE workspace = $1`, [ws]);
  await tx.query(`DELETE FROM registered_models WHERE workspace = $1`, [ws]);
  await tx.query(`DELETE FROM webhook_events WHERE webhook_id IN (SELECT webhook_id FROM webhooks WHERE workspace = $1)`, [ws]);
  await tx.query(`DELETE FROM webhooks WHERE workspace = $1`, [ws]);
  await tx.query(`DELETE FROM webhook_deliveries WHERE workspace = $1`, [ws]);
  await tx.query(`DELETE FROM registry_events WHERE workspace = $1`, [ws]);
}

/** `_check_set_default_conflicts`: every name that already exists in the default workspace. */
async function checkSetDefaultConflicts(tx: Executor, ws: string, tables: { table: string; named: boolean }[]): Promise<void> {
  const conflicts: string[] = [];
  for (const { table, named } of tables) {
    if (!named) continue;
    const rows = await tx.query<{ name: string }>(
      `SELECT name FROM ${table} WHERE workspace = $1 AND name IN (SELECT name FROM ${table} WHERE workspace = $2)`,
      [ws, DEFAULT_WORKSPACE],
    );
    for (const r of rows) conflicts.push(`  - ${table}: ${pyRepr(r.name)}`);
  }
  if (conflicts.length > 0) {
    throw invalidState(
      `Cannot reassign resources from workspace '${ws}' to '${DEFAULT_WORKSPACE}': the following names already exist in the default workspace and would cause conflicts:\n${conflicts.join('\n')}\nRename or remove the conflicting resources before retrying.`,
    );
  }
}
