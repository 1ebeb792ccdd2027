/**
 * Webhook CRUD and test deliveries, with MLflow's semantics (mlflow/server/handlers.py
 * `_create_webhook` … `_test_webhook`, mlflow/store/model_registry/sqlalchemy_store.py
 * create/get/list/update/delete_webhook, mlflow/webhooks/delivery.py `test_webhook`).
 *
 * Wire format: entities and actions are protobuf enum names (`MODEL_VERSION`, `CREATED`), stored in
 * lower case as MLflow does; the secret is stored Fernet-encrypted and never returned or logged;
 * `description` is omitted when empty.
 *
 * Deliberate differences from MLflow:
 *  - an unknown or missing entity/action, or an unknown status, is a 400 (MLflow: 500, or for status
 *    silently ACTIVE), see registry/validation.ts;
 *  - a test delivery is one attempt, without MLflow's retries (the call is synchronous);
 *  - reading a webhook never decrypts its secret, so a row encrypted under another key is still
 *    listed (MLflow fails the read); only deliveries need the secret.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../store/db.js';
import type { Logger } from '../log.js';
import type { WebhookConfig } from '../config.js';
import { MlflowError } from '../errors.js';
import type { RawRequest } from '../registry/req.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import type { Webhook, WebhookAction, WebhookEntity, WebhookStatus } from '../gen/api/types.gen.js';
import { createPageToken, parsePageToken } from '../registry/search.js';
import {
  pyRepr,
  validateWebhookDescription,
  validateWebhookEvents,
  validateWebhookName,
  validateWebhookStatus,
  validateWebhookUrl,
  webhookUrlHostname,
} from '../registry/validation.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';
import { enumValues } from '../gen/enums.gen.js';
import type { Fernet } from './fernet.js';
import { WebhookQueries, type WebhookRow } from './store.js';
import { checkHostResolvesPublic } from './ssrf.js';
import { deliveryBody, deliveryHeaders, examplePayloadJson } from './payloads.js';
import { postJson, TimeoutError } from './http.js';

/**
 * Enum names by protobuf number (mlflow/protos/webhooks.proto; ParseDict accepts numbers too). The
 * spec lists each enum in proto order from 1; 0 is the proto's UNSPECIFIED default, which fails
 * validation like any unknown name (WebhookStatus has no 0 in the proto; it is refused all the same).
 */
const ENTITY_NAMES: readonly string[] = ['ENTITY_UNSPECIFIED', ...enumValues.WebhookEntity];
const ACTION_NAMES: readonly string[] = ['ACTION_UNSPECIFIED', ...enumValues.WebhookAction];
const STATUS_NAMES: readonly string[] = ['STATUS_UNSPECIFIED', ...enumValues.WebhookStatus];

const MAX_LIST_RESULTS = 1000;

type Pair = { entity: string; action: string };

/** The proto Webhook, as the spec types it. */
export type WebhookJson = Webhook;

export interface WebhookTestResultJson {
  success: boolean;
  response_status?: number;
  response_body?: string;
  error_message?: string;
}

function enumName(v: unknown, names: readonly string[]): unknown {
  return typeof v === 'number' && Number.isInteger(v) ? (names[v] ?? v) : v;
}

/** Protobuf enum numbers of an event object turned into names (values of other types left as they are). */
function eventNames(e: unknown): unknown {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return e;
  const o = e as Record<string, unknown>;
  return { ...o, entity: enumName(o.entity, ENTITY_NAMES), action: enumName(o.action, ACTION_NAMES) };
}

/**
 * A field as the request carries it: the parsed value, or the raw one when parsing stopped early
 * (then the parsed value may be partial, e.g. an event without the entity that failed to parse).
 */
function requestField<I extends object, F extends keyof I & string>(input: I, req: RawRequest, field: F): unknown {
  if (!req.parseOk && req.raw[field] !== undefined && req.raw[field] !== null) return req.raw[field];
  return input[field];
}

/** Events as the request carries them, enum numbers turned into names. */
function requestEvents(input: { events?: unknown }, req: RawRequest): unknown {
  const v = requestField(input, req, 'events');
  return Array.isArray(v) ? v.map(eventNames) : v;
}

/** Validates the (entity, action) pairs and returns them in lower case (MLflow's stored values). */
function normalisePairs(events: unknown): Pair[] {
  validateWebhookEvents(events);
  return events.map((e) => ({ entity: String(e.entity).toLowerCase(), action: String(e.action).toLowerCase() }));
}

function requestStatus(input: { status?: unknown }, req: RawRequest): unknown {
  return enumName(requestField(input, req, 'status'), STATUS_NAMES);
}

export function toWebhookJson(row: WebhookRow): WebhookJson {
  // Key order as MLflow's proto: webhook_id, name, description, url, events, status, timestamps.
  const out: WebhookJson = { webhook_id: row.webhook_id, name: row.name } as WebhookJson;
  if (row.description) out.description = row.description;
  out.url = row.url;
  // Stored in lower case, checked against the enums when written.
  out.events = (row.events ?? []).map((e) => ({ entity: e.entity.toUpperCase() as WebhookEntity, action: e.action.toUpperCase() as WebhookAction }));
  out.status = row.status as WebhookStatus;
  if (row.creation_timestamp !== null) out.creation_timestamp = row.creation_timestamp;
  if (row.last_updated_timestamp !== null) out.last_updated_timestamp = row.last_updated_timestamp;
  return out;
}

/** Python `repr()` of an exception, for "Failed to test webhook: …". */
export function pyExceptionRepr(err: unknown): string {
  if (err instanceof MlflowError) return `MlflowException(${pyRepr(err.message)})`;
  if (err instanceof TimeoutError) return `ReadTimeout(${pyRepr(err.message)})`;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && 'message' in e) {
    const name = e.name === 'SSRFProtectionError' ? 'SSRFProtectionError' : e.code ? 'ConnectionError' : (e.name ?? 'Exception');
    return `${name}(${pyRepr(String(e.message))})`;
  }
  return `Exception(${pyRepr(String(err))})`;
}

export interface WebhookServiceOptions {
  config: WebhookConfig;
  cipher: Fernet;
  log: Logger;
  now?: () => number;
  /** MLFLOW_ENABLE_WORKSPACES: test deliveries then carry the webhook's workspace, as MLflow's do. */
  workspacesEnabled?: boolean;
}

export class WebhookService {
  private readonly cfg: WebhookConfig;
  private readonly cipher: Fernet;
  private readonly now: () => number;
  private readonly workspacesEnabled: boolean;
  /** Read queries per workspace (a server has few). */
  private readonly readers = new Map<string, WebhookQueries>();

  constructor(
    private readonly db: Database,
    opts: WebhookServiceOptions,
  ) {
    this.cfg = opts.config;
    this.cipher = opts.cipher;
    this.now = opts.now ?? Date.now;
    this.workspacesEnabled = opts.workspacesEnabled ?? false;
  }

  /** The read queries of workspace `ws` (a webhook belongs to the workspace it was created in). */
  private read(ws: string): WebhookQueries {
    let q = this.readers.get(ws);
    if (!q) {
      if (this.readers.size >= 1000) this.readers.clear();
      q = new WebhookQueries(this.db, ws);
      this.readers.set(ws, q);
    }
    return q;
  }

  /** `_validate_webhook_url`: the scheme allow-list, then (unless private targets are allowed) DNS. */
  private async validateUrl(url: unknown): Promise<void> {
    validateWebhookUrl(url, this.cfg.allowedSchemes);
    if (this.cfg.allowPrivateTargets) return;
    // Python's hostname (MLflow resolves exactly that); `new URL` throws on URLs urlparse accepts.
    const problem = await checkHostResolvesPublic(webhookUrlHostname(url));
    if (problem) throw MlflowError.invalid(problem);
  }

  private encrypt(secret: string | undefined): string | null {
    return secret ? this.cipher.encrypt(secret) : null;
  }

  private static duplicateEvents(err: unknown): never {
    const e = err as MlflowError;
    if (e instanceof MlflowError && e.errorCode === 'RESOURCE_ALREADY_EXISTS') {
      // MLflow's session layer reports the IntegrityError as BAD_REQUEST.
      throw new MlflowError('BAD_REQUEST', e.message, { cause: err });
    }
    throw err;
  }

  async create(input: OperationInput<'createWebhook'>, req: RawRequest, ws: string = DEFAULT_WORKSPACE): Promise<{ webhook: WebhookJson }> {
    const rawEvents = requestEvents(input, req);
    // The handler turns each event into a WebhookEvent (pair check) before the store validates.
    if (Array.isArray(rawEvents) && rawEvents.length > 0) validateWebhookEvents(rawEvents);
    const status = requestStatus(input, req);
    const name = (input.name ?? '');
    const url = (input.url ?? '');
    validateWebhookName(name);
    await this.validateUrl(url);
    const events = normalisePairs(rawEvents);
    const description = (input.description ?? '') || null;
    validateWebhookDescription(description);
    if (status !== undefined && status !== null) validateWebhookStatus(status);
    const now = this.now();
    const id = randomUUID();
    try {
      await this.db.transaction((tx) =>
        new WebhookQueries(tx, ws).insert({
          id,
          name,
          description,
          url,
          status: (status as string | undefined) ?? 'ACTIVE',
          secret: this.encrypt((input.secret ?? '')),
          now,
          events,
        }),
      );
    } catch (err) {
      WebhookService.duplicateEvents(err);
    }
    return {
      webhook: toWebhookJson({
        webhook_id: id,
        name,
        description,
        url,
        status: (status as string | undefined) ?? 'ACTIVE',
        secret: null,
        creation_timestamp: now,
        last_updated_timestamp: now,
        events,
      }),
    };
  }

  async get(input: OperationInput<'getWebhook'>, ws: string = DEFAULT_WORKSPACE): Promise<{ webhook: WebhookJson }> {
    const id = (input.webhook_id ?? '');
    const row = await this.read(ws).get(id);
    if (!row) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
    return { webhook: toWebhookJson(row) };
  }

  async list(input: OperationInput<'listWebhooks'>, ws: string = DEFAULT_WORKSPACE): Promise<{ webhooks?: WebhookJson[]; next_page_token?: string }> {
    const maxResults = (input.max_results ?? 0) || 100;
    if (maxResults < 1 || maxResults > MAX_LIST_RESULTS) throw MlflowError.invalid('max_results must be between 1 and 1000.');
    const token = (input.page_token ?? '');
    const offset = token ? parsePageToken(token) : 0;
    const rows = await this.read(ws).list(maxResults + 1, offset);
    const out: { webhooks?: WebhookJson[]; next_page_token?: string } = {};
    const page = rows.slice(0, maxResults);
    if (page.length > 0) out.webhooks = page.map(toWebhookJson);
    if (rows.length > maxResults) out.next_page_token = createPageToken(offset + maxResults);
    return out;
  }

  async update(input: OperationInput<'updateWebhook'>, req: RawRequest, ws: string = DEFAULT_WORKSPACE): Promise<{ webhook: WebhookJson }> {
    const id = (input.webhook_id ?? '');
    const rawEvents = requestEvents(input, req);
    // Handler: only a non-empty events list is applied; its pairs are checked before the store runs.
    const hasEvents = Array.isArray(rawEvents) && rawEvents.length > 0;
    if (hasEvents) validateWebhookEvents(rawEvents);
    const status = requestStatus(input, req);
    // The store's order: the webhook must exist, then each supplied value is validated. The URL's DNS
    // check runs before the transaction, so no row lock is held while resolving.
    if (!(await this.read(ws).get(id))) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
    // name and url apply when truthy; description, secret and status whenever present (HasField).
    const name = (input.name ?? '') || undefined;
    if (name !== undefined) validateWebhookName(name);
    const url = (input.url ?? '') || undefined;
    if (url !== undefined) await this.validateUrl(url);
    const events = hasEvents ? normalisePairs(rawEvents) : undefined;
    const description = input.description;
    validateWebhookDescription(description);
    const secret = input.secret !== undefined ? this.encrypt((input.secret ?? '')) : undefined;
    if (status !== undefined && status !== null) validateWebhookStatus(status);
    const row = await this.db.transaction(async (tx) => {
      const q = new WebhookQueries(tx, ws);
      if (!(await q.get(id, true))) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
      try {
        await q.update(id, { name, description, url, secret, status: (status as string | undefined) ?? undefined, now: this.now() }, events);
      } catch (err) {
        WebhookService.duplicateEvents(err);
      }
      return (await q.get(id))!;
    });
    return { webhook: toWebhookJson(row) };
  }

  async delete(input: OperationInput<'deleteWebhook'>, ws: string = DEFAULT_WORKSPACE): Promise<Record<string, never>> {
    const id = (input.webhook_id ?? '');
    const deleted = await this.db.transaction((tx) => new WebhookQueries(tx, ws).softDelete(id, this.now()));
    if (!deleted) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
    return {};
  }

  async test(input: OperationInput<'testWebhook'>, req: RawRequest, ws: string = DEFAULT_WORKSPACE): Promise<{ result: WebhookTestResultJson }> {
    const id = (input.webhook_id ?? '');
    const rawEvent = requestField(input, req, 'event');
    const event = rawEvent === undefined || rawEvent === null ? undefined : normalisePairs([eventNames(rawEvent)])[0];
    const row = await this.read(ws).get(id);
    if (!row) throw MlflowError.notFound(`Webhook with ID ${id} not found.`);
    const testEvent = event ?? row.events?.[0];
    if (!testEvent) throw MlflowError.invalid('Webhook events cannot be empty');
    const key = `${testEvent.entity}.${testEvent.action}`;
    try {
      const data = examplePayloadJson(key);
      if (data === undefined) throw Object.assign(new Error(`Unknown event type: ${key}`), { name: 'ValueError' });
      await this.validateUrl(row.url);
      const secret = row.secret ? this.cipher.decrypt(row.secret) : null;
      const body = deliveryBody(testEvent.entity, testEvent.action, this.now(), data, this.workspacesEnabled ? ws : undefined);
      const res = await postJson(row.url, body, deliveryHeaders(randomUUID(), body, secret), {
        timeoutMs: this.cfg.requestTimeoutMs,
        allowPrivateTargets: this.cfg.allowPrivateTargets,
      });
      return { result: { success: res.status < 400, response_status: res.status, response_body: res.body } };
    } catch (err) {
      return { result: { success: false, error_message: `Failed to test webhook: ${pyExceptionRepr(err)}` } };
    }
  }
}
