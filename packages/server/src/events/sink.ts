/**
 * The EventSink of the registry (registry/events.ts): inside the mutation's own transaction (or, for the
 * one-statement writes, inside the mutation's own statement: `inline`), one statement inserts a `registry_events` row per event and, for the events MLflow delivers to
 * webhooks, a `webhook_deliveries` row for every ACTIVE, non-deleted webhook subscribed to exactly
 * that (entity, action). No change without its events and deliveries; no event without its change.
 * When deliveries were created, PostgreSQL listeners are notified (NOTIFY is transactional: it is
 * sent on COMMIT) and the local worker is woken after COMMIT.
 */
import type { Executor } from '../store/db.js';
import type { EventSink, InlineEvents, RegistryEvent } from '../registry/events.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';
import { pyJsonDumps } from '../python/pyjson.js';
import { DB_NOW_MS } from '../store/clock.js';
import type { CommitHooks } from './commit-hooks.js';

export const DELIVERY_CHANNEL = 'mlflow_ts_webhook_deliveries';
/**
 * Every registry change is announced here (payload: JSON array of the read cache's model keys, i.e.
 * `<workspace> NUL <name>` or the bare name in `default`, or `null` for "all").
 */
export const CHANGES_CHANNEL = 'mlflow_ts_registry_changes';
/** NOTIFY payloads must stay under 8000 bytes; a longer list becomes "everything changed". */
const MAX_CHANGES_PAYLOAD = 7000;

/**
 * Set for the transaction by every event statement of a sink that announces (announceChanges): its
 * changes are announced by this process (or need not be), so the database's change triggers
 * (store/migrations/ext/0003_change_triggers.sql), which announce every other writer's changes, skip
 * the rows changed by that statement (its triggers run at its end) and after it. The earlier statements
 * of a multi-statement write are announced by the triggers as well: a duplicate, harmless.
 */
export const ANNOUNCED_SETTING = 'mlflow_ts.announced';

/**
 * The CTEs that record events (appended to a WITH list; every name starts with `ev_`). `facts` names a
 * CTE of the change's statement with at most one row (columns `version integer`, `prompt boolean`,
 * `before jsonb`): the events are inserted only when it has a row, and an event may take from it the
 * version the statement created (`pendingVersion`), its `before` (`beforeFromChange`), or be kept only
 * when the model is (or is not) a prompt (`when`). `p(i)` is the SQL of parameter i: 1 the events, 2 the
 * time, 3 the workspace, 4 the changed keys, 5 this process's listener pid.
 *
 * The change is announced only while another process's read cache listens, i.e. has a row in
 * registry_cache_listeners (finding 9 of scripts/bench/notes.md: a notifying transaction holds
 * PostgreSQL's notification lock through its COMMIT's WAL flush, so notifying writers commit one at a
 * time). This runs in or after the change it records, so a transaction that changed anything holds an
 * xid before the listeners are looked up; a cache that registers after that look-up waits, before going
 * live, for every transaction that held an xid when it registered (events/changes.ts). So no change it
 * was not told about can escape it.
 */
const eventCtes = (p: (i: number) => string, facts: string, announce: boolean) => `
ev_rows AS (
  INSERT INTO registry_events (time, workspace, entity, action, name, version, alias, data, before, actor, webhook, payload)
  SELECT ${p(2)}::bigint, ${p(3)}, x.e->>'entity', x.e->>'action', x.e->>'name',
         CASE WHEN x.e ? 'pendingVersion' THEN f.version ELSE (x.e->>'version')::integer END, x.e->>'alias',
         CASE WHEN x.e ? 'pendingVersion' THEN jsonb_set(x.e->'data', '{version}', to_jsonb(f.version::text)) ELSE x.e->'data' END,
         CASE WHEN x.e ? 'beforeFromChange' THEN f.before ELSE NULLIF(x.e->'before', 'null'::jsonb) END,
         x.e->>'actor', (x.e->>'webhook')::boolean,
         CASE WHEN x.e ? 'pendingVersion' THEN (x.e->>'payload') || f.version::text || (x.e->>'payloadTail') ELSE x.e->>'payload' END
    FROM ${facts} f, jsonb_array_elements(${p(1)}::jsonb) WITH ORDINALITY AS x(e, ord)
   WHERE NOT x.e ? 'when' OR (x.e->>'when' = 'prompt') = coalesce(f.prompt, false)
   ORDER BY x.ord
  RETURNING id, entity, action, webhook, workspace
), ev_dl AS (
  INSERT INTO webhook_deliveries (delivery_id, event_id, webhook_id, workspace, status, attempts, due_at, created_at)
  SELECT gen_random_uuid()::text, ev.id, w.webhook_id, ev.workspace, 'PENDING', 0, ${DB_NOW_MS}, ${p(2)}::bigint
    FROM ev_rows ev
    JOIN webhook_events we ON we.entity = ev.entity AND we.action = ev.action
    JOIN webhooks w ON w.webhook_id = we.webhook_id
   WHERE ev.webhook AND w.status = 'ACTIVE' AND w.deleted_timestamp IS NULL AND w.workspace = ev.workspace
  RETURNING 1
), ev_n AS (
  SELECT pg_notify('${DELIVERY_CHANNEL}', '') AS x WHERE EXISTS (SELECT 1 FROM ev_dl)
)${
  announce
    ? `, ev_c AS (
  SELECT pg_notify('${CHANGES_CHANNEL}', ${p(4)}) AS x
   WHERE EXISTS (SELECT 1 FROM ${facts}) AND EXISTS (SELECT 1 FROM registry_cache_listeners WHERE pid <> ${p(5)}::integer)
), ev_s AS (
  SELECT set_config('${ANNOUNCED_SETTING}', 'on', true) AS x
)`
    : ''
}`;

/**
 * The columns the event CTEs add to their statement's final SELECT (which must reference them for them
 * to run). A sink that does not announce leaves the announcing to the database's triggers.
 */
const EVENT_COLUMNS = `, (SELECT count(*) FROM ev_dl)::integer AS ev_deliveries, (SELECT count(*) FROM ev_n)::integer AS ev_notified`;
const EVENT_COLUMNS_ANNOUNCE = `${EVENT_COLUMNS}, (SELECT count(*) FROM ev_c)::integer AS ev_announced, (SELECT count(*) FROM ev_s)::integer AS ev_marked`;
const eventColumns = (announce: boolean) => (announce ? EVENT_COLUMNS_ANNOUNCE : EVENT_COLUMNS);

/**
 * The event CTEs of an inline write whose parameters start at `$first`: built once per (first, announce)
 * and then the same string, so a write neither rebuilds nor rehashes it (store/registry-store.ts writeText).
 */
const inlineCtes = new Map<number, string>();
function inlineCteText(first: number, announce: boolean): string {
  const key = announce ? -first : first;
  let text = inlineCtes.get(key);
  if (text === undefined) inlineCtes.set(key, (text = `, ${eventCtes((i) => `$${first + i - 1}`, 'facts', announce)}`));
  return text;
}

/** The statement of `record`: the events of a change made by earlier statements of its transaction. */
const recordSql = (announce: boolean) => `
WITH facts AS (SELECT NULL::integer AS version, NULL::boolean AS prompt, NULL::jsonb AS before), ${eventCtes((i) => `$${i}`, 'facts', announce)}
SELECT 1 AS ok${eventColumns(announce)}`;
const RECORD_SQL = recordSql(false);
const RECORD_ANNOUNCE_SQL = recordSql(true);

/** Strings as PostgreSQL will store them (lone UTF-16 surrogates become U+FFFD, as in the registry tables). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const wellFormed = (_key: string, v: unknown) => (typeof v === 'string' ? v.replace(LONE_SURROGATE, '\uFFFD') : v);

export interface PgEventSinkOptions {
  workspace?: string;
  /** Commit hooks of the Database the registry writes through (events/commit-hooks.ts). */
  hooks?: CommitHooks;
  /** Called after the COMMIT of a transaction that created webhook deliveries. */
  onDeliveries?: () => void;
  /**
   * NOTIFY the changed model names on CHANGES_CHANNEL with each change (PostgreSQL), so that the
   * read caches of the other replicas can drop them (registry/read-cache.ts, events/changes.ts),
   * while any of them listens. `ownListenerPid` is this process's LISTEN connection (0 while there is
   * none): its own cache, if any, drops the names after COMMIT and needs no notification.
   */
  announceChanges?: { ownListenerPid(): number };
}

export class PgEventSink implements EventSink {
  private readonly ws: string;

  constructor(private readonly opts: PgEventSinkOptions = {}) {
    this.ws = opts.workspace ?? DEFAULT_WORKSPACE;
  }

  /**
   * `actor`: the authenticated user who made the change (registry/service.ts passes the request's
   * caller); null when authentication is off.
   */
  async record(tx: Executor, events: readonly RegistryEvent[], at: number, changed: readonly string[], actor: string | null = null, workspace?: string): Promise<void> {
    if (events.length === 0) return;
    const params = this.params(events, at, changed, actor, workspace);
    const res = this.opts.announceChanges
      ? await tx.query(RECORD_ANNOUNCE_SQL, params, 'events_record_announce_if_listened')
      : await tx.query(RECORD_SQL, params, 'events_record');
    this.done(res[0], tx);
  }

  inline(events: readonly RegistryEvent[], at: number, changed: readonly string[], actor: string | null = null, workspace?: string): InlineEvents {
    const params = this.params(events, at, changed, actor, workspace);
    const announce = this.opts.announceChanges !== undefined;
    return {
      ctes: (first) => ({ text: inlineCteText(first, announce), params }),
      columns: eventColumns(announce),
      done: (row, tx) => this.done(row, tx),
    };
  }

  /** The parameters of the event CTEs (eventCtes). */
  private params(events: readonly RegistryEvent[], at: number, changed: readonly string[], actor: string | null, workspace: string | undefined): unknown[] {
    const rows = events.map((e) => {
      const data = JSON.parse(JSON.stringify(e.data, wellFormed)) as Record<string, unknown>;
      const row: Record<string, unknown> = {
        entity: e.entity,
        action: e.action,
        name: e.name,
        version: e.version ?? null,
        alias: e.alias ?? null,
        data,
        before: e.before ?? null,
        actor,
        webhook: e.webhook,
        // A version the statement creates: the payload around it (payloadAroundVersion, below).
        payload: e.webhook && !e.pendingVersion ? pyJsonDumps(data) : null,
      };
      if (e.when) row.when = e.when;
      if (e.beforeFromChange) row.beforeFromChange = true;
      if (e.pendingVersion) {
        row.pendingVersion = true;
        if (e.webhook) [row.payload, row.payloadTail] = payloadAroundVersion(data);
      }
      return row;
    });
    const params: unknown[] = [JSON.stringify(rows, wellFormed), at, workspace ?? this.ws];
    if (this.opts.announceChanges) {
      const names = JSON.stringify(changed, wellFormed);
      params.push(Buffer.byteLength(names) <= MAX_CHANGES_PAYLOAD ? names : 'null', this.opts.announceChanges.ownListenerPid());
    }
    return params;
  }

  /** After the event statement: wakes the delivery worker once deliveries it created are committed. */
  private done(row: Record<string, unknown> | undefined, tx?: Executor): void {
    if (!((row?.ev_deliveries as number | undefined) ?? 0) || !this.opts.onDeliveries) return;
    const wake = this.opts.onDeliveries;
    if (!tx) setImmediate(wake);
    else if (!this.opts.hooks?.afterCommit(tx, wake)) setTimeout(wake, 10);
  }
}

/**
 * The webhook payload (Python's json.dumps of `data`) before and after the value of its `version`
 * key, which the statement fills in: `head || version || tail` is the payload with `version` as that
 * number's string.
 */
export function payloadAroundVersion(data: Record<string, unknown>): [string, string] {
  const keys = Object.keys(data);
  const at = keys.indexOf('version');
  const part = (ks: string[]) => pyJsonDumps(Object.fromEntries(ks.map((k) => [k, data[k]])));
  const before = keys.slice(0, at);
  const after = keys.slice(at + 1);
  const head = (before.length > 0 ? part(before).slice(0, -1) + ', ' : '{') + '"version": "';
  const tail = '"' + (after.length > 0 ? ', ' + part(after).slice(1) : '}');
  return [head, tail];
}
