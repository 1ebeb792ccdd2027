/**
 * The EventSink of the registry (registry/events.ts): inside the mutation's own transaction, one
 * statement inserts a `registry_events` row per event and, for the events MLflow delivers to
 * webhooks, a `webhook_deliveries` row for every ACTIVE, non-deleted webhook subscribed to exactly
 * that (entity, action). No change without its events and deliveries; no event without its change.
 * When deliveries were created, PostgreSQL listeners are notified (NOTIFY is transactional: it is
 * sent on COMMIT) and the local worker is woken after COMMIT.
 */
import type { Executor } from '../store/db.js';
import type { EventSink, RegistryEvent } from '../registry/events.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';
import { pyJsonDumps } from '../webhooks/pyjson.js';
import { DB_NOW_MS } from '../webhooks/store.js';
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
 * The change is announced only while another process's read cache listens, i.e. has a row in
 * registry_cache_listeners (finding 9 of scripts/bench/notes.md: a notifying transaction holds
 * PostgreSQL's notification lock through its COMMIT's WAL flush, so notifying writers commit one at a
 * time). This statement runs after the change it records (RegistryService.write), so a transaction that
 * changed anything holds an xid before this statement's snapshot is taken; a cache that registers after that snapshot
 * waits, before going live, for every transaction that held an xid when it registered
 * (events/changes.ts). So no change it was not told about can escape it.
 */
const recordSql = (announce: boolean) => `
WITH ev AS (
  INSERT INTO registry_events (time, workspace, entity, action, name, version, alias, data, before, actor, webhook, payload)
  SELECT $2::bigint, $3, x.e->>'entity', x.e->>'action', x.e->>'name', (x.e->>'version')::integer, x.e->>'alias',
         x.e->'data', NULLIF(x.e->'before', 'null'::jsonb), x.e->>'actor', (x.e->>'webhook')::boolean, x.e->>'payload'
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord)
   ORDER BY x.ord
  RETURNING id, entity, action, webhook, workspace
), dl AS (
  INSERT INTO webhook_deliveries (delivery_id, event_id, webhook_id, workspace, status, attempts, due_at, created_at)
  SELECT gen_random_uuid()::text, ev.id, w.webhook_id, ev.workspace, 'PENDING', 0, ${DB_NOW_MS}, $2::bigint
    FROM ev
    JOIN webhook_events we ON we.entity = ev.entity AND we.action = ev.action
    JOIN webhooks w ON w.webhook_id = we.webhook_id
   WHERE ev.webhook AND w.status = 'ACTIVE' AND w.deleted_timestamp IS NULL AND w.workspace = ev.workspace
  RETURNING 1
), n AS (
  SELECT pg_notify('${DELIVERY_CHANNEL}', '') AS x WHERE EXISTS (SELECT 1 FROM dl)
)${
  announce
    ? `, c AS (
  SELECT pg_notify('${CHANGES_CHANNEL}', $4) AS x WHERE EXISTS (SELECT 1 FROM registry_cache_listeners WHERE pid <> $5::integer)
)`
    : ''
}
SELECT (SELECT count(*) FROM dl)::integer AS deliveries, (SELECT count(*) FROM n)::integer AS notified${
  announce ? ', (SELECT count(*) FROM c)::integer AS announced' : ''
}`;
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
    const rows = events.map((e) => {
      const data = JSON.parse(JSON.stringify(e.data, wellFormed)) as Record<string, unknown>;
      return {
        entity: e.entity,
        action: e.action,
        name: e.name,
        version: e.version ?? null,
        alias: e.alias ?? null,
        data,
        before: e.before ?? null,
        actor,
        webhook: e.webhook,
        payload: e.webhook ? pyJsonDumps(data) : null,
      };
    });
    const params: unknown[] = [JSON.stringify(rows, wellFormed), at, workspace ?? this.ws];
    if (this.opts.announceChanges) {
      const names = JSON.stringify(changed, wellFormed);
      params.push(Buffer.byteLength(names) <= MAX_CHANGES_PAYLOAD ? names : 'null', this.opts.announceChanges.ownListenerPid());
    }
    const res = this.opts.announceChanges
      ? await tx.query<{ deliveries: number }>(RECORD_ANNOUNCE_SQL, params, 'events_record_announce_if_listened')
      : await tx.query<{ deliveries: number }>(RECORD_SQL, params, 'events_record');
    if ((res[0]?.deliveries ?? 0) > 0 && this.opts.onDeliveries) {
      const wake = this.opts.onDeliveries;
      if (!this.opts.hooks?.afterCommit(tx, wake)) setTimeout(wake, 10);
    }
  }
}
