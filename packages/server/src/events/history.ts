/**
 * The audit history API (our extension, /api/2.0/mlflow-ts/history/…): reads the `registry_events`
 * log that every registry mutation writes in its own transaction (events/sink.ts), and the webhook
 * outbox (`webhook_deliveries`, `webhook_delivery_attempts`).
 *
 * Following renames. Each event row carries the model name at the time. A model's history is
 * found from a name: its latest "birth" under that name (created, or renamed *into* it) starts a
 * segment; a birth by rename continues with the previous name before that event, and so on back to
 * the creation; from the latest name, renames *away* are followed forward until the model is deleted
 * or another model takes the name. So `name` means the model that bears it now, or bore it last, and
 * its history includes what happened under all its names. A model deleted and re-created under the
 * same name is a new model with its own history.
 *
 * Point in time (`aliases?at=`): the alias state at `at` is replayed from the model's events up to
 * `at`: the last alias set or delete, a deletion of the version it pointed to (which removes the
 * alias), or the deletion of the model. When the model that bears the name now did not exist yet at
 * `at`, the question is about the model that bore the name at `at`.
 *
 * Pagination: offset page tokens (registry/search.ts), in event order (ascending ids).
 */
import type { Executor } from '../store/db.js';
import { MlflowError } from '../errors.js';
import { checkSchema, invalidValueError, type ParsedRequest } from '../registry/req.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import { createPageToken, parsePageToken } from '../registry/search.js';
import { parseModelVersion } from '../registry/validation.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';

const MAX_RESULTS = 1000;
const DEFAULT_RESULTS = 100;
const ALIAS_ENTITIES = `('model_version_alias', 'prompt_alias')`;
const BIRTH = `((entity IN ('registered_model', 'prompt') AND action = 'created') OR (entity = 'registered_model' AND action = 'renamed'))`;
const DELIVERY_STATUSES = ['PENDING', 'IN_FLIGHT', 'DELIVERED', 'FAILED', 'CANCELLED'];

interface EventRow {
  id: number;
  time: number;
  entity: string;
  action: string;
  name: string;
  version: number | null;
  alias: string | null;
  data: Record<string, unknown>;
  before: Record<string, unknown> | null;
  actor: string | null;
  webhook: boolean;
}

export interface RegistryEventJson {
  event_id: number;
  timestamp: number;
  entity: string;
  action: string;
  name: string;
  version?: string;
  alias?: string;
  data: Record<string, unknown>;
  before?: Record<string, unknown>;
  actor?: string;
  webhook: boolean;
}

export interface EventPage {
  events?: RegistryEventJson[];
  next_page_token?: string;
}

export interface AliasPointInTime {
  timestamp: number;
  model_exists: boolean;
  registered_model_name?: string;
  version?: string;
  set_timestamp?: number;
  event_id?: number;
}

/** One name a model bore: events with this name and `from <= id < to` (to undefined: no end). */
interface Segment {
  name: string;
  from: number;
  to: number | undefined;
  /** Time of the birth event (undefined: the model predates the event log). */
  since: number | undefined;
}

const EVENT_FIELDS = 'id, time, entity, action, name, version, alias, data, before, actor, webhook';

export function toEventJson(r: EventRow): RegistryEventJson {
  const out: RegistryEventJson = { event_id: r.id, timestamp: r.time, entity: r.entity, action: r.action, name: r.name } as RegistryEventJson;
  if (r.version !== null) out.version = String(r.version);
  if (r.alias !== null) out.alias = r.alias;
  out.data = r.data;
  if (r.before !== null) out.before = r.before;
  if (r.actor !== null) out.actor = r.actor;
  out.webhook = r.webhook;
  return out;
}

type HistoryRequest<K extends HistoryOperation> = ParsedRequest<OperationInput<K>>;
type HistoryOperation = 'getRegisteredModelHistory' | 'getModelVersionHistory' | 'getAliasHistory' | 'listRegistryEvents' | 'listWebhookDeliveries';

/** A string parameter as sent (query values are read as sent, whatever else failed to parse). */
function str<I extends object>(req: ParsedRequest<I>, field: keyof I & string): string {
  const v = req.raw[field];
  if (typeof v === 'string') return v;
  const parsed = req.fields[field];
  return typeof parsed === 'string' ? parsed : '';
}

/** An integer query parameter, read from the request as sent (absent or empty: undefined). */
function intParam<I extends object>(req: ParsedRequest<I>, field: keyof I & string): number | undefined {
  const v = req.raw[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  // Only integers a JSON number holds exactly (|n| < 2^53): a longer one would be read rounded.
  if (typeof v === 'string' && /^\s*[+-]?\d{1,16}\s*$/.test(v) && Number.isSafeInteger(Number(v.trim()))) return Number(v.trim());
  throw invalidValueError(field, v);
}

function pageArgs(req: ParsedRequest<{ max_results?: number; page_token?: string }>): { limit: number; offset: number } {
  checkSchema(req, { page_token: ['string'] });
  const limit = intParam(req, 'max_results') || DEFAULT_RESULTS;
  if (limit < 1 || limit > MAX_RESULTS) throw MlflowError.invalid(`max_results must be between 1 and ${MAX_RESULTS}.`);
  const token = typeof req.raw.page_token === 'string' ? req.raw.page_token : '';
  return { limit, offset: token ? parsePageToken(token) : 0 };
}

function page<T, J>(rows: T[], limit: number, offset: number, map: (r: T) => J, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rows.length > 0) out[key] = rows.slice(0, limit).map(map);
  if (rows.length > limit) out.next_page_token = createPageToken(offset + limit);
  return out;
}

export class HistoryService {
  /** The services of the other workspaces, by name (only on the `default` one that server.ts builds). */
  private readonly others = new Map<string, HistoryService>();

  constructor(
    private readonly db: Executor,
    private readonly ws: string = DEFAULT_WORKSPACE,
  ) {}

  /** The history of workspace `ws`: every query of it is scoped to that workspace. */
  in(ws: string): HistoryService {
    if (ws === this.ws) return this;
    let svc = this.others.get(ws);
    if (!svc) {
      if (this.others.size >= 1000) this.others.clear();
      svc = new HistoryService(this.db, ws);
      this.others.set(ws, svc);
    }
    return svc;
  }

  /**
   * The names of the model that bears (or last bore) `name`, oldest first: back from its latest birth
   * under that name to its creation, then forward through any renames away from it. With `timeBound`,
   * only events up to that time are considered.
   */
  private async lineage(name: string, timeBound?: number): Promise<Segment[]> {
    const bound = timeBound ?? null;
    const back: Segment[] = [];
    let cur = name;
    let hi: number | undefined;
    for (let i = 0; i < 10_000; i++) {
      const rows = await this.db.query<{ id: number; time: number; action: string; from_name: string | null }>(
        `SELECT id, time, action, before->>'name' AS from_name FROM registry_events
          WHERE workspace = $1 AND name = $2 AND ($3::bigint IS NULL OR id < $3) AND ($4::bigint IS NULL OR time <= $4) AND ${BIRTH}
          ORDER BY id DESC LIMIT 1`,
        [this.ws, cur, hi ?? null, bound],
        'history_birth',
      );
      const birth = rows[0];
      if (!birth) {
        back.push({ name: cur, from: 0, to: hi, since: undefined });
        break;
      }
      back.push({ name: cur, from: birth.id, to: hi, since: birth.time });
      if (birth.action !== 'renamed' || birth.from_name === null) break;
      cur = birth.from_name;
      hi = birth.id;
    }
    const segments = back.reverse();
    let last = segments[segments.length - 1]!;
    for (let i = 0; i < 10_000; i++) {
      // The next rename away from the current name, unless another model takes the name first.
      const rows = await this.db.query<{ id: number; time: number; name: string; action: string; from_name: string | null }>(
        `SELECT id, time, name, action, before->>'name' AS from_name FROM registry_events
          WHERE workspace = $1 AND id > $3 AND ($4::bigint IS NULL OR time <= $4)
            AND ((action = 'renamed' AND before->>'name' = $2) OR (name = $2 AND ${BIRTH}))
          ORDER BY id LIMIT 1`,
        [this.ws, last.name, last.from, bound],
        'history_next',
      );
      const next = rows[0];
      if (!next) break;
      last.to = next.id;
      if (!(next.action === 'renamed' && next.from_name === last.name && next.name !== last.name)) break;
      last = { name: next.name, from: next.id, to: undefined, since: next.time };
      segments.push(last);
    }
    return segments;
  }

  /**
   * The name the model that `name` designates bears now (see "Following renames"), or undefined when
   * that model no longer exists (deleted, or its name since taken by another model). The permission on
   * a model's history is the permission on the model it resolves to (http/authn.ts).
   */
  async currentModelName(name: string): Promise<string | undefined> {
    const segments = await this.lineage(name);
    const last = segments[segments.length - 1]!;
    if (last.to !== undefined) return undefined;
    const rows = await this.db.query('SELECT 1 FROM registered_models WHERE workspace = $1 AND name = $2', [this.ws, last.name], 'history_model_exists');
    return rows.length > 0 ? last.name : undefined;
  }

  /** SQL condition (its params appended to `params`) selecting the events of a lineage. */
  private static lineageWhere(segments: Segment[], params: unknown[]): string {
    const parts = segments.map((s) => {
      params.push(s.name, s.from);
      let cond = `(name = $${params.length - 1} AND id >= $${params.length}`;
      if (s.to !== undefined) {
        params.push(s.to);
        cond += ` AND id < $${params.length}`;
      }
      return cond + ')';
    });
    return `(${parts.join(' OR ')})`;
  }

  /** Name the model bore at `at` (segments oldest first). */
  private static nameAt(segments: Segment[], at: number): string {
    let name = segments[0]!.name;
    for (const s of segments) if (s.since === undefined || s.since <= at) name = s.name;
    return name;
  }

  private async lineageEvents(segments: Segment[], extra: string, extraParams: unknown[], limit: number, offset: number): Promise<EventRow[]> {
    const params: unknown[] = [this.ws];
    const where = HistoryService.lineageWhere(segments, params);
    let extraSql = extra;
    extraParams.forEach((p, i) => {
      params.push(p);
      extraSql = extraSql.replaceAll(`$x${i + 1}`, `$${params.length}`);
    });
    params.push(limit + 1, offset);
    return this.db.query<EventRow>(
      `SELECT ${EVENT_FIELDS} FROM registry_events WHERE workspace = $1 AND ${where}${extraSql ? ` AND ${extraSql}` : ''}
        ORDER BY id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
  }

  private static requireName(req: ParsedRequest<{ name?: string }>): string {
    checkSchema(req, { name: ['string', 'required'] });
    return str(req, 'name');
  }

  private static noHistory(name: string): MlflowError {
    return MlflowError.notFound(`No history for registered model with name=${name}`);
  }

  /** GET …/history/registered-models?name= : every event of the model, across its renames. */
  async registeredModel(req: HistoryRequest<'getRegisteredModelHistory'>): Promise<EventPage> {
    const name = HistoryService.requireName(req);
    const { limit, offset } = pageArgs(req);
    const segments = await this.lineage(name);
    const rows = await this.lineageEvents(segments, '', [], limit, offset);
    if (rows.length === 0 && offset === 0) throw HistoryService.noHistory(name);
    return page(rows, limit, offset, toEventJson, 'events') as EventPage;
  }

  /** GET …/history/model-versions?name=&version= : events of one version (including aliases moved onto or off it). */
  async modelVersion(req: HistoryRequest<'getModelVersionHistory'>): Promise<EventPage> {
    const name = HistoryService.requireName(req);
    checkSchema(req, { version: ['string', 'required'] });
    const version = parseModelVersion(str(req, 'version'));
    const { limit, offset } = pageArgs(req);
    const segments = await this.lineage(name);
    const rows = await this.lineageEvents(
      segments,
      `(version = $x1 OR (entity IN ${ALIAS_ENTITIES} AND before->>'version' = $x2))`,
      [version, String(version)],
      limit,
      offset,
    );
    if (rows.length === 0 && offset === 0) {
      throw MlflowError.notFound(`No history for model version (name=${name}, version=${version})`);
    }
    return page(rows, limit, offset, toEventJson, 'events') as EventPage;
  }

  /** The alias-affecting events: sets and deletes of it, deletions of the version it pointed to, deletion of the model. */
  private static aliasCondition(): string {
    return `((entity IN ${ALIAS_ENTITIES} AND alias = $x1)
             OR (entity = 'model_version' AND action = 'deleted' AND (data->'removed_aliases') ? $x1)
             OR (entity = 'registered_model' AND action = 'deleted'))`;
  }

  /** GET …/history/aliases?name=&alias=[&at=] : the alias's history, and which version it pointed to at `at`. */
  async alias(req: HistoryRequest<'getAliasHistory'>): Promise<EventPage & { point_in_time?: AliasPointInTime }> {
    const name = HistoryService.requireName(req);
    checkSchema(req, { alias: ['string', 'required'] });
    const alias = str(req, 'alias');
    const at = intParam(req, 'at');
    const { limit, offset } = pageArgs(req);
    const segments = await this.lineage(name);
    const rows = await this.lineageEvents(segments, HistoryService.aliasCondition(), [alias], limit, offset);
    const out: EventPage & { point_in_time?: AliasPointInTime } = page(rows, limit, offset, toEventJson, 'events') as EventPage;
    if (at !== undefined) out.point_in_time = await this.aliasAt(name, alias, at, segments);
    else if (rows.length === 0 && offset === 0 && !(await this.anyEvent(segments))) throw HistoryService.noHistory(name);
    return out;
  }

  private async anyEvent(segments: Segment[]): Promise<boolean> {
    return (await this.lineageEvents(segments, '', [], 1, 0)).length > 0;
  }

  private async aliasAt(name: string, alias: string, at: number, current: Segment[]): Promise<AliasPointInTime> {
    let segments = current;
    const created = segments[0]!.since;
    if (created !== undefined && created > at) {
      // The model bearing the name now was created after `at`: ask about the one that bore it then.
      segments = await this.lineage(name, at);
      if (HistoryService.nameAt(segments, at) !== name) return { timestamp: at, model_exists: false };
    }
    if (!(await this.anyEventBefore(segments, at))) return { timestamp: at, model_exists: false };
    const params: unknown[] = [this.ws];
    const where = HistoryService.lineageWhere(segments, params);
    params.push(alias, at);
    const cond = HistoryService.aliasCondition().replaceAll('$x1', `$${params.length - 1}`);
    const last = await this.db.query<EventRow>(
      `SELECT ${EVENT_FIELDS} FROM registry_events WHERE workspace = $1 AND ${where} AND ${cond} AND time <= $${params.length}
        ORDER BY id DESC LIMIT 1`,
      params,
    );
    const ev = last[0];
    if (ev && ev.entity === 'registered_model' && ev.action === 'deleted') return { timestamp: at, model_exists: false };
    const out: AliasPointInTime = { timestamp: at, model_exists: true, registered_model_name: HistoryService.nameAt(segments, at) };
    if (ev && ev.action === 'created' && ev.version !== null) {
      out.version = String(ev.version);
      out.set_timestamp = ev.time;
      out.event_id = ev.id;
    }
    return out;
  }

  private async anyEventBefore(segments: Segment[], at: number): Promise<boolean> {
    return (await this.lineageEvents(segments, `time <= $x1`, [at], 1, 0)).length > 0;
  }

  /** GET …/history/events?since=&until= : every registry event with since <= time < until. */
  async events(req: HistoryRequest<'listRegistryEvents'>): Promise<EventPage> {
    const since = intParam(req, 'since');
    const until = intParam(req, 'until');
    const { limit, offset } = pageArgs(req);
    const rows = await this.db.query<EventRow>(
      `SELECT ${EVENT_FIELDS} FROM registry_events
        WHERE workspace = $1 AND ($2::bigint IS NULL OR time >= $2) AND ($3::bigint IS NULL OR time < $3)
        ORDER BY id LIMIT $4 OFFSET $5`,
      [this.ws, since ?? null, until ?? null, limit + 1, offset],
      'history_events',
    );
    return page(rows, limit, offset, toEventJson, 'events') as EventPage;
  }

  /** GET …/history/webhooks/{webhook_id}/deliveries : deliveries to a webhook, newest first, with every attempt. */
  async deliveries(req: HistoryRequest<'listWebhookDeliveries'>): Promise<Record<string, unknown>> {
    checkSchema(req, { status: ['string'] });
    const id = req.fields.webhook_id;
    const rawStatus = req.parseOk ? req.fields.status : req.raw.status;
    const status = typeof rawStatus === 'string' ? rawStatus : undefined;
    if (status !== undefined && status !== '' && !DELIVERY_STATUSES.includes(status)) {
      throw MlflowError.invalid(`Invalid delivery status: '${status}'. Valid statuses are: ${DELIVERY_STATUSES.join(', ')}.`);
    }
    const { limit, offset } = pageArgs(req);
    const exists = await this.db.query(`SELECT 1 FROM webhooks WHERE workspace = $1 AND webhook_id = $2`, [this.ws, id]);
    if (exists.length === 0) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
    const rows = await this.db.query<DeliveryRow>(
      `SELECT d.delivery_id, d.event_id, d.webhook_id, e.entity, e.action, d.status, d.attempts, d.created_at, d.due_at,
              d.finished_at, d.last_status_code, d.last_error,
              (SELECT json_agg(json_build_object('attempt', a.attempt, 'started_at', a.started_at, 'finished_at', a.finished_at,
                        'response_status', a.response_status, 'response_body', a.response_body, 'error', a.error) ORDER BY a.attempt, a.id)
                 FROM webhook_delivery_attempts a WHERE a.delivery_row_id = d.id) AS log
         FROM webhook_deliveries d JOIN registry_events e ON e.id = d.event_id
        WHERE d.workspace = $1 AND d.webhook_id = $2 AND ($3::text IS NULL OR d.status = $3)
        ORDER BY d.id DESC LIMIT $4 OFFSET $5`,
      [this.ws, id, status || null, limit + 1, offset],
      'history_deliveries',
    );
    return page(rows, limit, offset, toDeliveryJson, 'deliveries');
  }
}

interface DeliveryRow {
  delivery_id: string;
  event_id: number;
  webhook_id: string;
  entity: string;
  action: string;
  status: string;
  attempts: number;
  created_at: number;
  due_at: number;
  finished_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  log:
    | { attempt: number; started_at: number | null; finished_at: number; response_status: number | null; response_body: string | null; error: string | null }[]
    | null;
}

function toDeliveryJson(r: DeliveryRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    delivery_id: r.delivery_id,
    event_id: r.event_id,
    webhook_id: r.webhook_id,
    entity: r.entity,
    action: r.action,
    status: r.status,
    attempt_count: r.attempts,
    created_timestamp: r.created_at,
  };
  if (r.status === 'PENDING') out.next_attempt_timestamp = r.due_at;
  if (r.finished_at !== null) out.finished_timestamp = r.finished_at;
  if (r.last_status_code !== null) out.last_response_status = r.last_status_code;
  if (r.last_error !== null) out.last_error = r.last_error;
  if (r.log && r.log.length > 0) {
    out.attempts = r.log.map((a) => {
      const x: Record<string, unknown> = { attempt: a.attempt };
      if (a.started_at !== null) x.started_timestamp = Number(a.started_at);
      x.finished_timestamp = Number(a.finished_at);
      if (a.response_status !== null) x.response_status = a.response_status;
      if (a.response_body !== null) x.response_body = a.response_body;
      if (a.error !== null) x.error = a.error;
      return x;
    });
  }
  return out;
}
