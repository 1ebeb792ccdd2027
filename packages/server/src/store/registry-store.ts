/**
 * The registry's persistence port and its SQL adapter (one code path for PGlite and PostgreSQL).
 * Every read returns an entity with its tags, aliases and latest versions in ONE round trip
 * (correlated JSON aggregates), and a page of search results likewise: no N+1. Hot reads are
 * named prepared statements on PostgreSQL. Writes run inside the caller's transaction.
 */
import type { Database, Executor } from './db.js';
import { MlflowError } from '../errors.js';
import type { InlineEvents } from './inline-events.js';
import type { ModelVersionRow, RegisteredModelRow } from './rows.js';
import { DEFAULT_WORKSPACE } from './workspace.js';
import { modelVersionsReadableSql, registeredModelsReadableSql, type ReadDecision } from '../auth/search-filter.js';

export const STAGE_DELETED = 'Deleted_Internal';

export type SqlComparator = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | '<' | '<=' | '>' | '>=';
export interface SqlCondition {
  /** Column of the searched table, or `tag` for a tag condition (then `tagKey` is set). */
  column: 'name' | 'run_id' | 'source' | 'version' | 'tag';
  tagKey?: string;
  comparator: SqlComparator;
  value: string | number | string[];
}
export interface SqlOrder {
  column: 'name' | 'last_updated_time' | 'creation_time' | 'version';
  asc: boolean;
}
export interface SearchSpec {
  conditions: SqlCondition[];
  /** Exclude prompts (models whose prompt tag is 'true'). */
  excludePrompts: boolean;
  order: SqlOrder[];
  limit: number;
  offset: number;
  /**
   * What the caller may list (auth/search-filter.ts), applied in the same WHERE as the filter, so
   * that pages and page tokens count only permitted rows. Undefined: no filter (auth off, admins).
   */
  readable?: ReadDecision;
}

const TAG_AGG = (table: string, alias: string, where: string) =>
  `(SELECT json_agg(json_build_array(${alias}.key, ${alias}.value) ORDER BY ${alias}.key) FROM ${table} ${alias} WHERE ${where})`;

const MV_FIELDS = (v: string) =>
  `${v}.name, ${v}.version, ${v}.creation_time, ${v}.last_updated_time, ${v}.description, ${v}.current_stage, ` +
  `${v}.source, ${v}.storage_location, ${v}.run_id, ${v}.run_link, ${v}.status, ${v}.status_message`;

const MV_TAGS = (v: string) =>
  TAG_AGG('model_version_tags', 't', `t.workspace = ${v}.workspace AND t.name = ${v}.name AND t.version = ${v}.version`) + ' AS tags';

const MV_ALIASES = (v: string) =>
  `(SELECT json_agg(a.alias ORDER BY a.alias) FROM registered_model_aliases a ` +
  `WHERE a.workspace = ${v}.workspace AND a.name = ${v}.name AND a.version = ${v}.version) AS aliases`;

/**
 * Latest non-deleted version per stage, ordered by version, rendered by PostgreSQL as the JSON text of
 * the response's `latest_versions` (MLflow's wire format, see toModelVersion in registry/entities.ts):
 * the server splices it into responses instead of parsing and re-serialising it (for a search page,
 * most of the objects a request allocated). json_strip_nulls drops unset fields, as the proto does;
 * a tag without a value loses its `value` the same way.
 */
const RM_LATEST = `(SELECT json_agg(json_strip_nulls(json_build_object(
      'name', l.name, 'version', l.version::text, 'creation_timestamp', l.creation_time,
      'last_updated_timestamp', l.last_updated_time, 'description', l.description,
      'current_stage', coalesce(l.current_stage, 'None'), 'source', l.source, 'run_id', l.run_id, 'run_link', l.run_link,
      'status', coalesce(l.status, 'READY'), 'status_message', nullif(l.status_message, ''),
      'tags', (SELECT json_agg(json_build_object('key', t.key, 'value', t.value) ORDER BY t.key) FROM model_version_tags t
                WHERE t.workspace = l.workspace AND t.name = l.name AND t.version = l.version)
    )) ORDER BY l.version)::text
    FROM (SELECT DISTINCT ON (v.current_stage) v.* FROM model_versions v
          WHERE v.workspace = rm.workspace AND v.name = rm.name AND v.current_stage <> '${STAGE_DELETED}'
          ORDER BY v.current_stage, v.version DESC) l) AS latest`;

/** A model row (alias `rm`) with its tags, aliases and latest versions. */
const RM_COLUMNS = `rm.name, rm.creation_time, rm.last_updated_time, rm.description,
  ${TAG_AGG('registered_model_tags', 't', 't.workspace = rm.workspace AND t.name = rm.name')} AS tags,
  (SELECT json_agg(json_build_array(a.alias, a.version) ORDER BY a.alias) FROM registered_model_aliases a
     WHERE a.workspace = rm.workspace AND a.name = rm.name) AS aliases,
  ${RM_LATEST}`;

const RM_SELECT = `SELECT ${RM_COLUMNS} FROM registered_models rm`;

/**
 * LIMIT/OFFSET of a search page. The first page has no OFFSET: with it as a parameter PostgreSQL
 * re-plans the prepared search on every call (its generic-plan estimate loses); without it the
 * generic plan is kept (measured: database CPU per search 0.34 → 0.07–0.09 ms).
 */
function pageClause(params: unknown[], limit: number, offset: number): string {
  params.push(limit);
  if (offset === 0) return `LIMIT $${params.length}`;
  params.push(offset);
  return `LIMIT $${params.length - 1} OFFSET $${params.length}`;
}

const PROMPT_KEY = 'mlflow.prompt.is_prompt';
/** The model's prompt-marker tag value as of the statement's snapshot ($1 workspace, $2 name). */
const PROMPT_TAG_VALUE = `(SELECT pt.value FROM registered_model_tags pt WHERE pt.workspace = $1 AND pt.name = $2 AND pt.key = '${PROMPT_KEY}')`;

/** Whether a prompt-marker value makes the model a prompt (MLflow RegisteredModel._is_prompt). */
export const isPromptValue = (v: string | null | undefined): boolean => (v ?? 'false').toLowerCase() === 'true';
/** isPromptValue in SQL. */
const IS_PROMPT_SQL = (v: string) => `(lower(coalesce(${v}, 'false')) = 'true')`;

/**
 * CTEs `m`, `lv` of a one-statement write that references a live version ($1 workspace, $2 name, $3
 * version): the model row is locked against key changes and deletion, then the version row against
 * rename, deletion and soft delete, in the order every writer takes them (model, then version), so that
 * a rename (model row, then the cascade to its versions) cannot deadlock with us. A row a concurrent
 * writer changed is re-read when its lock is granted: renamed, deleted or soft-deleted, it no longer
 * matches (not found), instead of failing a foreign key.
 */
const LIVE_VERSION_LOCKED = `m AS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2 FOR KEY SHARE),
       lv AS (SELECT workspace, name, version FROM model_versions
               WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}' AND EXISTS (SELECT 1 FROM m)
               FOR SHARE)`;

/** How often a version creation is tried when another writer took its number first (insertModelVersion). */
const VERSION_RETRIES = 5;

/** Whether `err` (as translated by store/db.ts) is a violation of constraint `name`. */
function violates(err: unknown, name: string): boolean {
  const cause = err instanceof MlflowError ? (err.cause as { constraint?: string } | undefined) : undefined;
  return cause?.constraint === name;
}

export interface NewModelVersion {
  source: string;
  storageLocation: string;
  runId: string | null;
  runLink: string | null;
  description: string | null;
  tags: [string, string | null][];
  now: number;
}

/** A one-statement write's SQL without its events: the CTEs (defining `facts`) and the final SELECT (`{ev}` takes the events' columns). */
interface WriteShape {
  prefix: string;
  ctes: string;
  select: string;
  /** The full texts built so far, by the events' CTE text and columns (InlineEvents; a few per process). */
  texts: Map<string, Map<string, string>>;
}
const writeShape = (prefix: string, ctes: string, select: string): WriteShape => ({ prefix, ctes, select, texts: new Map() });

/** The statement of `shape` with events `ev` (their texts are the same strings every time: no text is rebuilt or rehashed). */
function writeText(shape: WriteShape, evCtes: string, evColumns: string): string {
  let byColumns = shape.texts.get(evCtes);
  if (!byColumns) shape.texts.set(evCtes, (byColumns = new Map()));
  let text = byColumns.get(evColumns);
  if (text === undefined) byColumns.set(evColumns, (text = `WITH ${shape.ctes}${evCtes}\n${shape.select.replace('{ev}', evColumns)}`));
  return text;
}

/** The floor of a new version's number: the highest written, by whichever writer (insertModelVersion). */
const MAX_MAX = `coalesce((SELECT max(version) FROM model_versions WHERE workspace = $1 AND name = $2), 0)`;

/**
 * The one-statement writes (RegistryQueries.write), less their events: module constants, so that a write
 * builds no SQL text (each statement's full text is put together once per event shape, see writeText).
 */
const W_INSERT_REGISTERED_MODEL = writeShape(
  'w_insert_registered_model',
  `rm AS (
         INSERT INTO registered_models (workspace, name, creation_time, last_updated_time, description)
         VALUES ($1, $2, $3, $3, $4) RETURNING workspace, name),
       tg AS (
         INSERT INTO registered_model_tags (workspace, name, key, value)
         SELECT rm.workspace, rm.name, t.key, t.value FROM rm, unnest($5::text[], $6::text[]) AS t(key, value)),
       facts AS (SELECT NULL::integer AS version, NULL::boolean AS prompt, NULL::jsonb AS before FROM rm)`,
  `SELECT 1 AS ok{ev} FROM facts`,
);
const W_SET_REGISTERED_MODEL_TAG = writeShape(
  'w_set_registered_model_tag',
  `m AS (SELECT workspace, name FROM registered_models WHERE workspace = $1 AND name = $2 FOR KEY SHARE),
       prev AS (SELECT value FROM registered_model_tags WHERE workspace = $1 AND name = $2 AND key = $3),
       up AS (
         INSERT INTO registered_model_tags (workspace, name, key, value)
         SELECT workspace, name, $3, $4 FROM m
         ON CONFLICT ON CONSTRAINT registered_model_tag_pk DO UPDATE SET value = EXCLUDED.value RETURNING 1),
       pr AS (SELECT CASE WHEN $3 = '${PROMPT_KEY}' THEN $4 ELSE ${PROMPT_TAG_VALUE} END AS prompt),
       facts AS (SELECT NULL::integer AS version, ${IS_PROMPT_SQL('pr.prompt')} AS prompt,
                        (SELECT jsonb_build_object('value', value) FROM prev) AS before FROM up, pr)`,
  `SELECT EXISTS (SELECT 1 FROM prev) AS had, (SELECT value FROM prev) AS previous, pr.prompt{ev} FROM facts, pr`,
);
const W_SET_ALIAS = writeShape(
  'w_set_alias',
  `${LIVE_VERSION_LOCKED}, prev AS (SELECT version FROM registered_model_aliases WHERE workspace = $1 AND name = $2 AND alias = $4),
       up AS (
         INSERT INTO registered_model_aliases (workspace, name, alias, version)
         SELECT workspace, name, $4, version FROM lv
         ON CONFLICT ON CONSTRAINT registered_model_alias_pk DO UPDATE SET version = EXCLUDED.version RETURNING 1),
       pr AS (SELECT ${PROMPT_TAG_VALUE} AS prompt),
       facts AS (SELECT NULL::integer AS version, ${IS_PROMPT_SQL('pr.prompt')} AS prompt,
                        (SELECT jsonb_build_object('version', version::text) FROM prev) AS before FROM up, pr)`,
  `SELECT (SELECT version FROM prev) AS previous, pr.prompt{ev} FROM facts, pr`,
);
const W_DELETE_ALIAS = writeShape(
  'w_delete_alias',
  `m AS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2),
       d AS (DELETE FROM registered_model_aliases WHERE workspace = $1 AND name = $2 AND alias = $3 RETURNING version),
       pr AS (SELECT ${PROMPT_TAG_VALUE} AS prompt),
       facts AS (SELECT NULL::integer AS version, ${IS_PROMPT_SQL('pr.prompt')} AS prompt,
                        (SELECT jsonb_build_object('version', version::text) FROM d) AS before FROM m, pr)`,
  `SELECT EXISTS (SELECT 1 FROM m) AS exists, (SELECT version FROM d) AS version, pr.prompt{ev} FROM pr`,
);
const W_INSERT_MODEL_VERSION = writeShape(
  'w_insert_model_version',
  `m AS (UPDATE registered_models SET last_updated_time = $3 WHERE workspace = $1 AND name = $2 RETURNING workspace, name),
           c AS (
             INSERT INTO model_version_counters AS k (workspace, name, last_version)
             SELECT m.workspace, m.name, ${MAX_MAX} + 1 FROM m
             ON CONFLICT ON CONSTRAINT model_version_counters_pk DO UPDATE SET last_version = greatest(k.last_version, ${MAX_MAX}) + 1
             RETURNING workspace, name, last_version),
           v AS (
             INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time, description, current_stage,
                                         source, storage_location, run_id, run_link, status)
             SELECT c.workspace, c.name, c.last_version, $3::bigint, $3::bigint, $4::varchar, 'None', $5::varchar, $6::varchar, $7::varchar, $8::varchar, 'READY'
               FROM c
             RETURNING *),
           t AS (
             INSERT INTO model_version_tags (workspace, name, version, key, value)
             SELECT v.workspace, v.name, v.version, tg.key, tg.value FROM v, unnest($9::text[], $10::text[]) AS tg(key, value)
             RETURNING key, value),
           facts AS (SELECT version, NULL::boolean AS prompt, NULL::jsonb AS before FROM v)`,
  `SELECT ${MV_FIELDS('v')}, (SELECT json_agg(json_build_array(t.key, t.value) ORDER BY t.key) FROM t) AS tags{ev} FROM v`,
);
const W_SET_MODEL_VERSION_TAG = writeShape(
  'w_set_model_version_tag',
  `${LIVE_VERSION_LOCKED}, prev AS (SELECT value FROM model_version_tags WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND key = $4),
       up AS (
         INSERT INTO model_version_tags (workspace, name, version, key, value)
         SELECT workspace, name, version, $4, $5 FROM lv
         ON CONFLICT ON CONSTRAINT model_version_tag_pk DO UPDATE SET value = EXCLUDED.value RETURNING 1),
       pr AS (SELECT ${PROMPT_TAG_VALUE} AS prompt),
       facts AS (SELECT NULL::integer AS version, ${IS_PROMPT_SQL('pr.prompt')} AS prompt,
                        (SELECT jsonb_build_object('value', value) FROM prev) AS before FROM up, pr)`,
  `SELECT EXISTS (SELECT 1 FROM prev) AS had, (SELECT value FROM prev) AS previous, pr.prompt{ev} FROM facts, pr`,
);

/** SQL of the registry, bound to one executor (the pool, or a transaction) and one workspace. */
export class RegistryQueries {
  constructor(
    private readonly ex: Executor,
    private readonly ws: string = DEFAULT_WORKSPACE,
    /** The transaction `ex` is, when it is one (else every statement commits on its own). */
    private readonly tx?: Executor,
  ) {}

  /**
   * A write as ONE statement with its events (InlineEvents: audit row, webhook deliveries, change
   * notification): `shape`'s CTEs (which must define `facts`, see InlineEvents) and final SELECT (whose
   * `{ev}` takes the events' columns). Outside a transaction the statement is the whole write, one round trip.
   */
  private async write<T>(ev: InlineEvents, shape: WriteShape, params: unknown[]): Promise<T | undefined> {
    const e = ev.ctes(params.length + 1);
    const text = writeText(shape, e.text, ev.columns);
    const rows = await this.ex.query<T>(text, [...params, ...e.params], statementName(shape.prefix, text));
    ev.done(rows[0] as Record<string, unknown> | undefined, this.tx);
    return rows[0];
  }

  // ---- registered models -------------------------------------------------------------------

  async getRegisteredModel(name: string): Promise<RegisteredModelRow | undefined> {
    const rows = await this.ex.query<RegisteredModelRow>(
      `${RM_SELECT} WHERE rm.workspace = $1 AND rm.name = $2`,
      [this.ws, name],
      'rm_get',
    );
    return rows[0];
  }

  /** Tag value of the prompt marker, or undefined when the model has no such tag (or does not exist). */
  async modelPromptTag(name: string): Promise<{ exists: boolean; promptTag: string | null | undefined }> {
    const rows = await this.ex.query<{ prompt: string | null; has_tag: boolean }>(
      `SELECT (SELECT t.value FROM registered_model_tags t WHERE t.workspace = rm.workspace AND t.name = rm.name AND t.key = $3) AS prompt,
              EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.workspace = rm.workspace AND t.name = rm.name AND t.key = $3) AS has_tag
         FROM registered_models rm WHERE rm.workspace = $1 AND rm.name = $2`,
      [this.ws, name, PROMPT_KEY],
      'rm_prompt_tag',
    );
    const r = rows[0];
    if (!r) return { exists: false, promptTag: undefined };
    return { exists: true, promptTag: r.has_tag ? r.prompt : undefined };
  }

  /** Creates the model with its tags and events; a taken name fails with RESOURCE_ALREADY_EXISTS (unique violation). */
  async insertRegisteredModel(name: string, description: string | null, tags: [string, string | null][], now: number, ev: InlineEvents): Promise<void> {
    await this.write(ev, W_INSERT_REGISTERED_MODEL, [this.ws, name, now, description, tags.map((t) => t[0]), tags.map((t) => t[1])]);
  }

  async updateRegisteredModelDescription(name: string, description: string, now: number): Promise<boolean> {
    const rows = await this.ex.query(
      `UPDATE registered_models SET description = $3, last_updated_time = $4 WHERE workspace = $1 AND name = $2 RETURNING name`,
      [this.ws, name, description, now],
      'w_update_registered_model_description',
    );
    return rows.length > 0;
  }

  /** Renames the model; the foreign keys cascade the name to versions, tags and aliases. */
  async renameRegisteredModel(name: string, newName: string, now: number): Promise<boolean> {
    const rows = await this.ex.query(
      `UPDATE registered_models SET name = $3, last_updated_time = $4 WHERE workspace = $1 AND name = $2 RETURNING name`,
      [this.ws, name, newName, now],
      'w_rename_registered_model',
    );
    if (rows.length === 0) return false;
    await this.ex.query(`UPDATE model_versions SET last_updated_time = $3 WHERE workspace = $1 AND name = $2`, [this.ws, newName, now], 'w_rename_registered_model_1');
    return true;
  }

  /**
   * Hard delete of the model with all its versions (soft-deleted ones too), tags and aliases. The
   * model row is locked first, so that the deleting statement runs in a snapshot that sees every
   * version a concurrent creator committed (else its foreign key would fail the delete).
   */
  async deleteRegisteredModel(name: string): Promise<boolean> {
    const locked = await this.ex.query(`SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2 FOR UPDATE`, [this.ws, name], 'w_delete_registered_model');
    if (locked.length === 0) return false;
    const rows = await this.ex.query(
      `WITH d1 AS (DELETE FROM model_version_tags WHERE workspace = $1 AND name = $2),
            d2 AS (DELETE FROM registered_model_tags WHERE workspace = $1 AND name = $2),
            d3 AS (DELETE FROM registered_model_aliases WHERE workspace = $1 AND name = $2),
            d4 AS (DELETE FROM model_versions WHERE workspace = $1 AND name = $2)
       DELETE FROM registered_models WHERE workspace = $1 AND name = $2 RETURNING name`,
      [this.ws, name],
      'w_delete_registered_model_1',
    );
    return rows.length > 0;
  }

  /** Models with everything a response needs, for any of `names` that exist (in no particular order). */
  async getRegisteredModels(names: readonly string[]): Promise<RegisteredModelRow[]> {
    return this.ex.query<RegisteredModelRow>(`${RM_SELECT} WHERE rm.workspace = $1 AND rm.name = ANY($2::text[])`, [this.ws, names], 'rm_get_many');
  }

  /** A search page, decorated in the same statement. */
  async searchRegisteredModels(spec: SearchSpec): Promise<RegisteredModelRow[]> {
    const { text, params, order } = this.registeredModelPage(spec);
    // The page is chosen first and only its rows are decorated (tags, aliases, latest versions):
    // decorating above LIMIT/OFFSET would compute them for the skipped rows too.
    const full = `SELECT ${RM_COLUMNS} FROM (${text}) rm ORDER BY ${order}`;
    return this.ex.query<RegisteredModelRow>(full, params, statementName('rm_search', full));
  }

  /** The names of a search page, in page order (for a caller that has the models cached). */
  async searchRegisteredModelNames(spec: SearchSpec): Promise<string[]> {
    const { text, params } = this.registeredModelPage(spec);
    const rows = await this.ex.query<{ name: string }>(text, params, statementName('rm_search_names', text));
    return rows.map((r) => r.name);
  }

  /** The statement choosing a search page (`SELECT rm.*` of its models, in order), and the order for an outer query. */
  private registeredModelPage(spec: SearchSpec): { text: string; params: unknown[]; order: string } {
    const params: unknown[] = [this.ws];
    const where = ['rm.workspace = $1'];
    const byTag = new Map<string, SqlCondition[]>();
    for (const c of spec.conditions) {
      if (c.column === 'tag') byTag.set(c.tagKey!, [...(byTag.get(c.tagKey!) ?? []), c]);
      else where.push(comparison(`rm.${c.column}`, c, params));
    }
    // With a tag equality and the default name order, the page is read straight off the index on
    // (workspace, key, md5(value), name): it yields that tag's models already in name order, so
    // LIMIT/OFFSET stop after the page instead of filtering every model carrying the key
    // (1 row in 20 matched in the benchmark; 1 in 1,000s on large registries).
    const nameOrder = spec.order.length === 1 && spec.order[0]!.column === 'name';
    const driveKey = nameOrder ? [...byTag].find(([, conds]) => conds.some((c) => c.comparator === '=' && typeof c.value === 'string'))?.[0] : undefined;
    let from = 'registered_models rm';
    for (const [key, conds] of byTag) {
      const alias = key === driveKey ? 'd' : 't';
      const sqlConds = conds.map((c) => comparison(`${alias}.value`, c, params));
      params.push(key);
      if (key === driveKey) {
        const eq = conds.find((c) => c.comparator === '=')!;
        params.push(eq.value);
        from = 'registered_model_tags d JOIN registered_models rm ON rm.workspace = d.workspace AND rm.name = d.name';
        where.push(`d.workspace = $1 AND d.key = $${params.length - 1} AND md5(d.value) = md5($${params.length}) AND ${sqlConds.join(' AND ')}`);
      } else {
        where.push(
          `EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.workspace = rm.workspace AND t.name = rm.name AND t.key = $${params.length} AND ${sqlConds.join(' AND ')})`,
        );
      }
    }
    if (spec.excludePrompts) {
      // The key is a constant: as a literal it lets PostgreSQL keep the generic plan.
      where.push(
        `NOT EXISTS (SELECT 1 FROM registered_model_tags p WHERE p.workspace = rm.workspace AND p.name = rm.name AND p.key = '${PROMPT_KEY}' AND p.value = 'true')`,
      );
    }
    if (spec.readable) {
      const allowed = registeredModelsReadableSql(spec.readable, { workspace: 'rm.workspace', name: 'rm.name' }, params);
      if (allowed !== 'TRUE') where.push(allowed);
    }
    // Ordering by d.name (equal to rm.name) is what lets PostgreSQL take the order from the index.
    const inner = driveKey ? orderBy('d', spec.order) : orderBy('rm', spec.order);
    const text = `SELECT rm.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${inner} ${pageClause(params, spec.limit, spec.offset)}`;
    return { text, params, order: orderBy('rm', spec.order) };
  }

  async getLatestVersions(name: string): Promise<{ exists: boolean; versions: ModelVersionRow[] }> {
    const rows = await this.ex.query<{ found: boolean; versions: ModelVersionRow[] | null }>(
      `SELECT EXISTS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2) AS found,
        (SELECT json_agg(json_build_object(
            'name', l.name, 'version', l.version, 'creation_time', l.creation_time,
            'last_updated_time', l.last_updated_time, 'description', l.description,
            'current_stage', l.current_stage, 'source', l.source, 'run_id', l.run_id, 'run_link', l.run_link,
            'status', l.status, 'status_message', l.status_message,
            'tags', ${TAG_AGG('model_version_tags', 't', 't.workspace = l.workspace AND t.name = l.name AND t.version = l.version')},
            'aliases', (SELECT json_agg(a.alias ORDER BY a.alias) FROM registered_model_aliases a
                         WHERE a.workspace = l.workspace AND a.name = l.name AND a.version = l.version)
          ) ORDER BY l.version)
          FROM (SELECT DISTINCT ON (v.current_stage) v.* FROM model_versions v
                 WHERE v.workspace = $1 AND v.name = $2 AND v.current_stage <> '${STAGE_DELETED}'
                 ORDER BY v.current_stage, v.version DESC) l) AS versions`,
      [this.ws, name],
      'mv_latest',
    );
    return { exists: rows[0]!.found, versions: rows[0]!.versions ?? [] };
  }

  /**
   * Upserts a model tag, with its events. Undefined when the model does not exist; else the previous
   * value (undefined if none) and the prompt marker after the change. The model row is locked against
   * a concurrent rename or delete (it is re-read if one commits first: then not found).
   */
  async setRegisteredModelTag(name: string, key: string, value: string | null, ev: InlineEvents): Promise<{ previous: string | null | undefined; promptTag: string | null } | undefined> {
    const r = await this.write<{ had: boolean; previous: string | null; prompt: string | null }>(ev, W_SET_REGISTERED_MODEL_TAG, [this.ws, name, key, value]);
    if (!r) return undefined;
    return { previous: r.had ? r.previous : undefined, promptTag: r.prompt };
  }

  /** Returns whether the model exists and the deleted tag (a missing key is a silent no-op), and the prompt marker after the change. */
  async deleteRegisteredModelTag(name: string, key: string): Promise<{ exists: boolean; deleted: { value: string | null } | undefined; promptTag: string | null }> {
    const rows = await this.ex.query<{ exists: boolean; value: string | null; deleted: boolean; prompt: string | null }>(
      `WITH d AS (DELETE FROM registered_model_tags WHERE workspace = $1 AND name = $2 AND key = $3 RETURNING value)
       SELECT EXISTS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2) AS exists,
              (SELECT value FROM d) AS value, EXISTS (SELECT 1 FROM d) AS deleted, ${PROMPT_TAG_VALUE} AS prompt`,
      [this.ws, name, key],
      'w_delete_registered_model_tag',
    );
    const r = rows[0]!;
    return { exists: r.exists, deleted: r.deleted ? { value: r.value } : undefined, promptTag: key === PROMPT_KEY ? null : r.prompt };
  }

  // ---- aliases -------------------------------------------------------------------------------

  /**
   * Upserts the alias onto a live version, with its events; returns the version it pointed to before
   * (null if new), or undefined if the version does not exist.
   */
  async setAlias(name: string, alias: string, version: number, ev: InlineEvents): Promise<{ previous: number | null; promptTag: string | null } | undefined> {
    const r = await this.write<{ previous: number | null; prompt: string | null }>(ev, W_SET_ALIAS, [this.ws, name, version, alias]);
    return r && { previous: r.previous, promptTag: r.prompt };
  }

  /** Deletes the alias (a missing one is a no-op), with its events when the model exists. */
  async deleteAlias(name: string, alias: string, ev: InlineEvents): Promise<{ exists: boolean; deletedVersion: number | undefined; promptTag: string | null }> {
    const r = (await this.write<{ exists: boolean; version: number | null; prompt: string | null }>(ev, W_DELETE_ALIAS, [this.ws, name, alias]))!;
    return { exists: r.exists, deletedVersion: r.version ?? undefined, promptTag: r.prompt };
  }

  async getAlias(name: string, alias: string): Promise<{ exists: boolean; version: number | undefined }> {
    const rows = await this.ex.query<{ exists: boolean; version: number | null }>(
      `SELECT EXISTS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2) AS exists,
              (SELECT version FROM registered_model_aliases WHERE workspace = $1 AND name = $2 AND alias = $3) AS version`,
      [this.ws, name, alias],
      'alias_get',
    );
    const r = rows[0]!;
    return { exists: r.exists, version: r.version ?? undefined };
  }

  // ---- model versions ------------------------------------------------------------------------

  async getModelVersion(name: string, version: number): Promise<ModelVersionRow | undefined> {
    const rows = await this.ex.query<ModelVersionRow>(
      `SELECT ${MV_FIELDS('mv')}, ${MV_TAGS('mv')}, ${MV_ALIASES('mv')} FROM model_versions mv
        WHERE mv.workspace = $1 AND mv.name = $2 AND mv.version = $3::bigint AND mv.current_stage <> '${STAGE_DELETED}'`,
      [this.ws, name, version],
      'mv_get',
    );
    return rows[0];
  }

  /** The model version by alias in one round trip: the alias' version joined to its live row. */
  async getModelVersionByAlias(name: string, alias: string): Promise<{ exists: boolean; aliasVersion: number | undefined; row: ModelVersionRow | undefined }> {
    const rows = await this.ex.query<{ exists: boolean; alias_version: number | null; mv: ModelVersionRow | null }>(
      `SELECT EXISTS (SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2) AS exists,
              a.version AS alias_version,
              (SELECT row_to_json(x) FROM (SELECT ${MV_FIELDS('mv')}, ${MV_TAGS('mv')}, ${MV_ALIASES('mv')} FROM model_versions mv
                 WHERE mv.workspace = $1 AND mv.name = $2 AND mv.version = a.version AND mv.current_stage <> '${STAGE_DELETED}') x) AS mv
         FROM (SELECT 1) one LEFT JOIN registered_model_aliases a ON a.workspace = $1 AND a.name = $2 AND a.alias = $3`,
      [this.ws, name, alias],
      'mv_by_alias',
    );
    const r = rows[0]!;
    return { exists: r.exists, aliasVersion: r.alias_version ?? undefined, row: r.mv ?? undefined };
  }

  /**
   * Creates the next version of a model, with its tags and events, in one statement; undefined when the
   * model does not exist. The model row is updated (and so locked: renames, deletes and other creators
   * wait) and then the model's counter (model_version_counters) is upserted: its ON CONFLICT DO UPDATE
   * locks the counter row and works on its latest committed value even under READ COMMITTED, so
   * concurrent creators on any number of processes get consecutive numbers. The statement's snapshot
   * (taken before those waits) only supplies the floor max(version)+1, for versions written by a writer
   * that does not keep the counter (`mlflow server`); if such a writer committed one after that snapshot
   * the insert meets its primary key and the statement is run again, with a new snapshot (MLflow
   * retries the same way on its side).
   */
  async insertModelVersion(name: string, mv: NewModelVersion, ev: InlineEvents): Promise<ModelVersionRow | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write<ModelVersionRow>(ev, W_INSERT_MODEL_VERSION, [this.ws, name, mv.now, mv.description, mv.source, mv.storageLocation, mv.runId, mv.runLink, mv.tags.map((t) => t[0]), mv.tags.map((t) => t[1])]);
      } catch (err) {
        // In a transaction the failed statement has aborted it: only a statement of its own can be retried.
        if (this.tx || attempt >= VERSION_RETRIES || !violates(err, 'model_version_pk')) throw err;
      }
    }
  }

  async updateModelVersionDescription(name: string, version: number, description: string | null, now: number): Promise<boolean> {
    const rows = await this.ex.query(
      `UPDATE model_versions SET description = $4, last_updated_time = $5
        WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}' RETURNING version`,
      [this.ws, name, version, description, now],
      'w_update_model_version_description',
    );
    return rows.length > 0;
  }

  /**
   * Moves a version to `stage`; with `archiveOthers`, every other version in that stage goes to
   * Archived. The model row is updated (and so locked) first: transitions of one model run one after
   * the other, so two concurrent "archive existing" transitions cannot both leave their version in
   * the stage.
   */
  async transitionStage(name: string, version: number, stage: string, archiveOthers: boolean, now: number): Promise<{ archived: number[] } | undefined> {
    const model = await this.ex.query(`UPDATE registered_models SET last_updated_time = $3 WHERE workspace = $1 AND name = $2 RETURNING name`, [this.ws, name, now], 'w_transition_stage');
    if (model.length === 0) return undefined;
    const rows = await this.ex.query<{ version: number }>(
      `UPDATE model_versions SET current_stage = $4, last_updated_time = $5
        WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}' RETURNING version`,
      [this.ws, name, version, stage, now],
      'w_transition_stage_1',
    );
    if (rows.length === 0) return undefined;
    let archived: number[] = [];
    if (archiveOthers) {
      const a = await this.ex.query<{ version: number }>(
        `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = $5
          WHERE workspace = $1 AND name = $2 AND version <> $3::bigint AND current_stage = $4 RETURNING version`,
        [this.ws, name, version, stage, now],
        'w_transition_stage_2',
      );
      archived = a.map((r) => r.version);
    }
    return { archived };
  }

  /** Soft delete: redacts the row, drops its aliases, keeps its tags. Returns the aliases dropped, or undefined if not found. */
  async softDeleteModelVersion(name: string, version: number, now: number): Promise<{ aliases: string[] } | undefined> {
    // Locks in the order every writer takes them: the model row (a rename waits, or we wait for
    // it), then the version row (waiting for concurrent alias and tag writers on it). The last
    // statement then runs in a snapshot that sees the aliases those writers committed.
    const model = await this.ex.query(
      `UPDATE registered_models SET last_updated_time = $3 WHERE workspace = $1 AND name = $2 RETURNING 1`,
      [this.ws, name, now],
      'w_soft_delete_model_version',
    );
    if (model.length === 0) return undefined;
    const locked = await this.ex.query(
      `SELECT 1 FROM model_versions WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}' FOR UPDATE`,
      [this.ws, name, version],
      'w_soft_delete_model_version_1',
    );
    if (locked.length === 0) return undefined;
    const rows = await this.ex.query<{ aliases: string[] | null }>(
      `WITH v AS (
         UPDATE model_versions SET current_stage = '${STAGE_DELETED}', last_updated_time = $4, description = NULL, user_id = NULL,
                source = 'REDACTED-SOURCE-PATH', run_id = 'REDACTED-RUN-ID', run_link = 'REDACTED-RUN-LINK', status_message = NULL
          WHERE workspace = $1 AND name = $2 AND version = $3::bigint RETURNING version),
       a AS (DELETE FROM registered_model_aliases WHERE workspace = $1 AND name = $2 AND version IN (SELECT version FROM v) RETURNING alias)
       SELECT (SELECT json_agg(alias ORDER BY alias) FROM a) AS aliases FROM v`,
      [this.ws, name, version, now],
      'w_soft_delete_model_version_2',
    );
    if (rows.length === 0) return undefined;
    return { aliases: rows[0]!.aliases ?? [] };
  }

  async downloadUri(name: string, version: number): Promise<string | undefined> {
    const rows = await this.ex.query<{ uri: string | null }>(
      `SELECT coalesce(nullif(storage_location, ''), source) AS uri FROM model_versions
        WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}'`,
      [this.ws, name, version],
      'mv_download_uri',
    );
    return rows.length === 0 ? undefined : (rows[0]!.uri ?? '');
  }

  /** Upserts a tag of a live version, with its events; undefined when there is no such version. */
  async setModelVersionTag(name: string, version: number, key: string, value: string | null, ev: InlineEvents): Promise<{ previous: string | null | undefined; promptTag: string | null } | undefined> {
    const r = await this.write<{ had: boolean; previous: string | null; prompt: string | null }>(ev, W_SET_MODEL_VERSION_TAG, [this.ws, name, version, key, value]);
    if (!r) return undefined;
    return { previous: r.had ? r.previous : undefined, promptTag: r.prompt };
  }

  async deleteModelVersionTag(name: string, version: number, key: string): Promise<{ exists: boolean; deleted: { value: string | null } | undefined; promptTag: string | null }> {
    const rows = await this.ex.query<{ exists: boolean; deleted: boolean; value: string | null; prompt: string | null }>(
      `WITH live AS (SELECT 1 FROM model_versions WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND current_stage <> '${STAGE_DELETED}'),
            d AS (DELETE FROM model_version_tags WHERE workspace = $1 AND name = $2 AND version = $3::bigint AND key = $4 AND EXISTS (SELECT 1 FROM live) RETURNING value)
       SELECT EXISTS (SELECT 1 FROM live) AS exists, EXISTS (SELECT 1 FROM d) AS deleted, (SELECT value FROM d) AS value, ${PROMPT_TAG_VALUE} AS prompt`,
      [this.ws, name, version, key],
      'w_delete_model_version_tag',
    );
    const r = rows[0]!;
    return { exists: r.exists, deleted: r.deleted ? { value: r.value } : undefined, promptTag: r.prompt };
  }

  async searchModelVersions(spec: SearchSpec): Promise<ModelVersionRow[]> {
    const params: unknown[] = [this.ws];
    const where = ['mv.workspace = $1', `mv.current_stage <> '${STAGE_DELETED}'`];
    const byTag = new Map<string, string[]>();
    for (const c of spec.conditions) {
      if (c.column === 'tag') {
        const list = byTag.get(c.tagKey!) ?? [];
        list.push(comparison('t.value', c, params));
        byTag.set(c.tagKey!, list);
      } else {
        where.push(comparison(`mv.${c.column}`, c, params));
      }
    }
    for (const [key, conds] of byTag) {
      params.push(key);
      where.push(
        `EXISTS (SELECT 1 FROM model_version_tags t WHERE t.workspace = mv.workspace AND t.name = mv.name AND t.version = mv.version AND t.key = $${params.length} AND ${conds.join(' AND ')})`,
      );
    }
    if (spec.excludePrompts) {
      // MLflow excludes every version of a model any of whose versions carries the prompt tag.
      // The key is a constant: as a literal it lets PostgreSQL keep the generic plan.
      where.push(
        `NOT EXISTS (SELECT 1 FROM model_version_tags p WHERE p.workspace = mv.workspace AND p.name = mv.name AND p.key = '${PROMPT_KEY}' AND p.value = 'true')`,
      );
    }
    if (spec.readable) {
      const allowed = modelVersionsReadableSql(spec.readable, { workspace: 'mv.workspace', name: 'mv.name', version: 'mv.version' }, params);
      if (allowed !== 'TRUE') where.push(allowed);
    }
    const order = orderBy('mv', spec.order);
    const text = `SELECT ${MV_FIELDS('mv')}, ${MV_TAGS('mv')} FROM (SELECT mv.* FROM model_versions mv WHERE ${where.join(' AND ')}
      ORDER BY ${order} ${pageClause(params, spec.limit, spec.offset)}) mv ORDER BY ${order}`;
    return this.ex.query<ModelVersionRow>(text, params, statementName('mv_search', text));
  }
}

function comparison(column: string, c: SqlCondition, params: unknown[]): string {
  if (c.comparator === 'IN' || c.comparator === 'NOT IN') {
    params.push(c.value);
    const any = `${column} = ANY($${params.length}::text[])`;
    // SQL's NOT IN never matches NULL; keep that (MLflow runs the same SQL).
    return c.comparator === 'IN' ? any : `${column} IS NOT NULL AND NOT (${any})`;
  }
  params.push(c.value);
  // Numbers compare as bigint: a version beyond the int4 column's range simply matches nothing.
  const p = typeof c.value === 'number' ? `$${params.length}::bigint` : `$${params.length}`;
  return `${column} ${c.comparator} ${p}`;
}

function orderBy(alias: string, order: SqlOrder[]): string {
  return order.map((o) => `${alias}.${o.column} ${o.asc ? 'ASC' : 'DESC'}`).join(', ');
}

/**
 * Search SQL varies with the filter's shape; naming each distinct text lets PostgreSQL reuse its
 * plan per connection. The name is derived from the text (bounded: a filter's shape, not its values).
 */
const names = new Map<string, string>();
function statementName(prefix: string, text: string): string | undefined {
  let n = names.get(text);
  if (n === undefined) {
    if (names.size >= 500) return undefined; // unusual shapes run unnamed rather than growing forever
    n = `${prefix}_${names.size}`;
    names.set(text, n);
  }
  return n;
}

/** Workspaces whose read queries are kept (each is two fields; a server has few workspaces). */
const MAX_KEPT_READERS = 1000;

/**
 * The store port: reads on the pool, writes in a transaction, each in the workspace it is given (the
 * request's, resolved at the HTTP edge). The SQL text and statement names are the same in every
 * workspace: the workspace is a parameter.
 */
export class RegistryStore {
  private readonly readers = new Map<string, RegistryQueries>();

  constructor(private readonly db: Database) {}

  /** The read queries of workspace `ws` on the pool. */
  read(ws: string = DEFAULT_WORKSPACE): RegistryQueries {
    let q = this.readers.get(ws);
    if (!q) {
      if (this.readers.size >= MAX_KEPT_READERS) this.readers.clear();
      q = new RegistryQueries(this.db, ws);
      this.readers.set(ws, q);
    }
    return q;
  }

  /** The queries of workspace `ws` outside a transaction: each write is one statement that commits on its own. */
  single(ws: string = DEFAULT_WORKSPACE): RegistryQueries {
    return this.read(ws);
  }

  transaction<T>(ws: string, fn: (q: RegistryQueries, tx: Executor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new RegistryQueries(tx, ws, tx), tx));
  }
}
