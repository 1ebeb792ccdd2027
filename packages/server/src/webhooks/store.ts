/**
 * SQL of webhooks: MLflow's `webhooks`/`webhook_events` tables (mirrored in store/schema.ts) and our
 * outbox (`webhook_deliveries`, `webhook_delivery_attempts`, store/ext-schema.ts).
 */
import type { Executor } from '../store/db.js';

export interface WebhookRow {
  webhook_id: string;
  name: string;
  description: string | null;
  url: string;
  status: string;
  secret: string | null;
  creation_timestamp: number | null;
  last_updated_timestamp: number | null;
  /** Lower-case (entity, action) pairs, in insertion order. */
  events: { entity: string; action: string }[] | null;
}

const EVENTS_OF = (w: string) =>
  `(SELECT json_agg(json_build_object('entity', e.entity, 'action', e.action) ORDER BY e.ctid) FROM webhook_events e WHERE e.webhook_id = ${w}.webhook_id)`;
const WEBHOOK_FIELDS = (w: string) =>
  `${w}.webhook_id, ${w}.name, ${w}.description, ${w}.url, ${w}.status, ${w}.secret, ${w}.creation_timestamp, ${w}.last_updated_timestamp, ${EVENTS_OF(w)} AS events`;

export class WebhookQueries {
  constructor(
    private readonly ex: Executor,
    private readonly ws: string,
  ) {}

  async insert(w: {
    id: string;
    name: string;
    description: string | null;
    url: string;
    status: string;
    secret: string | null;
    now: number;
    events: { entity: string; action: string }[];
  }): Promise<void> {
    await this.ex.query(
      `WITH w AS (
         INSERT INTO webhooks (workspace, webhook_id, name, description, url, status, secret, creation_timestamp, last_updated_timestamp)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING webhook_id)
       INSERT INTO webhook_events (webhook_id, entity, action)
       SELECT w.webhook_id, x.e->>'entity', x.e->>'action'
         FROM w, jsonb_array_elements($9::jsonb) WITH ORDINALITY AS x(e, ord) ORDER BY x.ord`,
      [this.ws, w.id, w.name, w.description, w.url, w.status, w.secret, w.now, JSON.stringify(w.events)],
    );
  }

  async get(id: string, forUpdate = false): Promise<WebhookRow | undefined> {
    const rows = await this.ex.query<WebhookRow>(
      `SELECT ${WEBHOOK_FIELDS('w')} FROM webhooks w
        WHERE w.workspace = $1 AND w.webhook_id = $2 AND w.deleted_timestamp IS NULL${forUpdate ? ' FOR UPDATE' : ''}`,
      [this.ws, id],
      forUpdate ? undefined : 'webhook_get',
    );
    return rows[0];
  }

  async list(limit: number, offset: number): Promise<WebhookRow[]> {
    return this.ex.query<WebhookRow>(
      `SELECT ${WEBHOOK_FIELDS('w')} FROM webhooks w
        WHERE w.workspace = $1 AND w.deleted_timestamp IS NULL
        ORDER BY w.creation_timestamp DESC, w.webhook_id LIMIT $2 OFFSET $3`,
      [this.ws, limit, offset],
      'webhook_list',
    );
  }

  async update(
    id: string,
    set: { name?: string; description?: string; url?: string; secret?: string | null; status?: string; now: number },
    events: { entity: string; action: string }[] | undefined,
  ): Promise<void> {
    await this.ex.query(
      `UPDATE webhooks SET
          name = CASE WHEN $3::boolean THEN $4 ELSE name END,
          description = CASE WHEN $5::boolean THEN $6 ELSE description END,
          url = CASE WHEN $7::boolean THEN $8 ELSE url END,
          secret = CASE WHEN $9::boolean THEN $10 ELSE secret END,
          status = CASE WHEN $11::boolean THEN $12 ELSE status END,
          last_updated_timestamp = $13
        WHERE workspace = $1 AND webhook_id = $2`,
      [
        this.ws,
        id,
        set.name !== undefined,
        set.name ?? null,
        set.description !== undefined,
        set.description ?? null,
        set.url !== undefined,
        set.url ?? null,
        set.secret !== undefined,
        set.secret ?? null,
        set.status !== undefined,
        set.status ?? null,
        set.now,
      ],
    );
    if (events) {
      // Two statements: a DELETE and an INSERT of the same key cannot share one statement.
      await this.ex.query(`DELETE FROM webhook_events WHERE webhook_id = $1`, [id]);
      await this.ex.query(
        `INSERT INTO webhook_events (webhook_id, entity, action)
         SELECT $1, x.e->>'entity', x.e->>'action' FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS x(e, ord) ORDER BY x.ord`,
        [id, JSON.stringify(events)],
      );
    }
  }

  /** Soft delete; pending deliveries to the webhook are cancelled in the same transaction. */
  async softDelete(id: string, now: number): Promise<boolean> {
    const rows = await this.ex.query<{ n: number }>(
      `WITH d AS (
         UPDATE webhooks SET deleted_timestamp = $3, last_updated_timestamp = $3
          WHERE workspace = $1 AND webhook_id = $2 AND deleted_timestamp IS NULL RETURNING webhook_id),
       c AS (
         UPDATE webhook_deliveries SET status = 'CANCELLED', finished_at = $3, last_error = 'The webhook was deleted.'
          WHERE webhook_id IN (SELECT webhook_id FROM d) AND status = 'PENDING' RETURNING 1)
       SELECT (SELECT count(*) FROM d)::int AS n, (SELECT count(*) FROM c)::int AS c`,
      [this.ws, id, now],
    );
    return rows[0]!.n > 0;
  }
}
