/**
 * The entities the client returns: camelCase, with MLflow's "absent means default" wire rules
 * already applied (missing tags are `{}`, missing aliases `[]`, missing latest versions `[]`).
 * The converters below are the only place that knows the wire's snake_case shapes.
 */
import type * as wire from './gen/types.gen.js';

/** A deployment stage. The server always answers with one of the four canonical names. */
export type ModelVersionStage = 'None' | 'Staging' | 'Production' | 'Archived' | (string & {});

/** Registration status of a model version (always `READY` on this server). */
export type ModelVersionStatus = wire.ModelVersionStatus;

/** One version of a registered model. */
export interface ModelVersion {
  /** Name of the registered model. */
  name: string;
  /** Version number as a decimal string (`"1"`, `"2"`, …). */
  version: string;
  /** Creation time, milliseconds since the Unix epoch. */
  creationTimestamp: number;
  /** Time of the last update, milliseconds since the Unix epoch. */
  lastUpdatedTimestamp?: number;
  /** Description: `""` when created without one, absent after an update that cleared it. */
  description?: string;
  /** Current stage: `None`, `Staging`, `Production` or `Archived`. */
  currentStage: ModelVersionStage;
  /** URI of the model artifacts, as given at creation. */
  source: string;
  /** Run that produced the model (`""` when not given). */
  runId?: string;
  /** Link to the run (`""` when not given). */
  runLink?: string;
  /** Registration status. */
  status: ModelVersionStatus;
  /** Details about `status`, if any. */
  statusMessage?: string;
  /** Tags of this version, as a key → value map. */
  tags: Record<string, string>;
  /**
   * Aliases pointing to this version. Filled in by get, get-by-alias, create, update, transition and
   * get-latest-versions; always empty in search results and in `RegisteredModel.latestVersions`
   * (MLflow's behaviour).
   */
  aliases: string[];
}

/** A registered model. */
export interface RegisteredModel {
  /** Unique name. */
  name: string;
  /** Creation time, milliseconds since the Unix epoch. */
  creationTimestamp: number;
  /** Time of the last update, milliseconds since the Unix epoch. */
  lastUpdatedTimestamp?: number;
  /** Description (absent when empty). */
  description?: string;
  /** For each stage that has versions, the highest version in that stage (without aliases). */
  latestVersions: ModelVersion[];
  /** Tags, as a key → value map (including internal ones such as `mlflow.prompt.is_prompt`). */
  tags: Record<string, string>;
  /** Aliases as an alias → version map, e.g. `{ champion: "3" }`. */
  aliases: Record<string, string>;
}

/** Kind of object a webhook event is about. */
export type WebhookEntity = wire.WebhookEntity;
/** What happened to it. */
export type WebhookAction = wire.WebhookAction;
/** `ACTIVE` webhooks receive deliveries; `DISABLED` ones do not. */
export type WebhookStatus = wire.WebhookStatus;

/** An (entity, action) pair a webhook subscribes to. */
export interface WebhookEvent {
  entity: WebhookEntity;
  action: WebhookAction;
}

/**
 * The valid events in MLflow's dotted lower-case notation (`"model_version.created"`), accepted
 * wherever a {@link WebhookEvent} is.
 */
export type WebhookEventName =
  | 'registered_model.created'
  | 'model_version.created'
  | 'model_version_tag.set'
  | 'model_version_tag.deleted'
  | 'model_version_alias.created'
  | 'model_version_alias.deleted'
  | 'prompt.created'
  | 'prompt_version.created'
  | 'prompt_tag.set'
  | 'prompt_tag.deleted'
  | 'prompt_version_tag.set'
  | 'prompt_version_tag.deleted'
  | 'prompt_alias.created'
  | 'prompt_alias.deleted';

/** A webhook subscription (the secret is never returned). */
export interface Webhook {
  /** Webhook id (a UUID). */
  webhookId: string;
  name: string;
  description?: string;
  /** URL deliveries are POSTed to. */
  url: string;
  events: WebhookEvent[];
  status: WebhookStatus;
  /** Milliseconds since the Unix epoch. */
  creationTimestamp: number;
  /** Milliseconds since the Unix epoch. */
  lastUpdatedTimestamp: number;
}

/** Outcome of a test delivery. */
export interface WebhookTestResult {
  /** True when the receiver answered with a status below 400. */
  success: boolean;
  /** HTTP status the receiver answered with. */
  responseStatus?: number;
  /** Body the receiver answered with. */
  responseBody?: string;
  /** Why the delivery failed, when it did. */
  errorMessage?: string;
}

/** One entry of an artifact directory listing. */
export interface FileInfo {
  /** Path of the entry relative to the artifact root (the listed directory joined with its name). */
  path: string;
  isDir: boolean;
  /** Size in bytes (files only). */
  fileSize?: number;
}

/** One page of a paginated listing. */
export interface Page<T> {
  items: T[];
  /** Pass back as `pageToken` to get the next page; absent on the last page. */
  nextPageToken?: string;
}

// ---------------------------------------------------------------------------------------------
// Wire → entity converters (internal)

type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

/** Copies the keys whose value is not undefined, so optional properties stay absent. */
function compact<T extends object>(o: T): T {
  const out: Partial<Defined<T>> = {};
  for (const k of Object.keys(o) as (keyof T)[]) {
    const v = o[k];
    if (v !== undefined) (out as Record<keyof T, unknown>)[k] = v;
  }
  return out as T;
}

function tagMap(tags: ReadonlyArray<{ key: string; value?: string }> | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.key, t.value ?? '']));
}

/** @internal */
export function toModelVersion(w: wire.ModelVersion): ModelVersion {
  return compact({
    name: w.name,
    version: w.version,
    creationTimestamp: w.creation_timestamp,
    lastUpdatedTimestamp: w.last_updated_timestamp,
    description: w.description,
    currentStage: w.current_stage,
    source: w.source,
    runId: w.run_id,
    runLink: w.run_link,
    status: w.status,
    statusMessage: w.status_message,
    tags: tagMap(w.tags),
    aliases: [...(w.aliases ?? [])],
  });
}

/** @internal */
export function toRegisteredModel(w: wire.RegisteredModel): RegisteredModel {
  return compact({
    name: w.name,
    creationTimestamp: w.creation_timestamp,
    lastUpdatedTimestamp: w.last_updated_timestamp,
    description: w.description,
    latestVersions: (w.latest_versions ?? []).map(toModelVersion),
    tags: tagMap(w.tags),
    aliases: Object.fromEntries((w.aliases ?? []).map((a) => [a.alias, a.version])),
  });
}

/** @internal */
export function toWebhook(w: wire.Webhook): Webhook {
  return compact({
    webhookId: w.webhook_id,
    name: w.name,
    description: w.description,
    url: w.url,
    events: w.events.map((e) => ({ entity: e.entity, action: e.action })),
    status: w.status,
    creationTimestamp: w.creation_timestamp,
    lastUpdatedTimestamp: w.last_updated_timestamp,
  });
}

/** @internal */
export function toWebhookTestResult(w: wire.WebhookTestResult): WebhookTestResult {
  return compact({
    success: w.success,
    responseStatus: w.response_status,
    responseBody: w.response_body,
    errorMessage: w.error_message,
  });
}

/** @internal */
export function toFileInfo(w: wire.FileInfo, dir: string | undefined): FileInfo {
  return compact({
    path: dir ? `${dir.replace(/\/+$/, '')}/${w.path}` : w.path,
    isDir: w.is_dir,
    fileSize: w.file_size,
  });
}

const EVENTS: Readonly<Record<WebhookEventName, WebhookEvent>> = {
  'registered_model.created': { entity: 'REGISTERED_MODEL', action: 'CREATED' },
  'model_version.created': { entity: 'MODEL_VERSION', action: 'CREATED' },
  'model_version_tag.set': { entity: 'MODEL_VERSION_TAG', action: 'SET' },
  'model_version_tag.deleted': { entity: 'MODEL_VERSION_TAG', action: 'DELETED' },
  'model_version_alias.created': { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
  'model_version_alias.deleted': { entity: 'MODEL_VERSION_ALIAS', action: 'DELETED' },
  'prompt.created': { entity: 'PROMPT', action: 'CREATED' },
  'prompt_version.created': { entity: 'PROMPT_VERSION', action: 'CREATED' },
  'prompt_tag.set': { entity: 'PROMPT_TAG', action: 'SET' },
  'prompt_tag.deleted': { entity: 'PROMPT_TAG', action: 'DELETED' },
  'prompt_version_tag.set': { entity: 'PROMPT_VERSION_TAG', action: 'SET' },
  'prompt_version_tag.deleted': { entity: 'PROMPT_VERSION_TAG', action: 'DELETED' },
  'prompt_alias.created': { entity: 'PROMPT_ALIAS', action: 'CREATED' },
  'prompt_alias.deleted': { entity: 'PROMPT_ALIAS', action: 'DELETED' },
};

/** @internal Converts `"model_version.created"` or `{entity, action}` to the wire's pair. */
export function toWireEvent(e: WebhookEvent | WebhookEventName): wire.WebhookEvent {
  if (typeof e !== 'string') return { entity: e.entity, action: e.action };
  const pair = Object.hasOwn(EVENTS, e) ? EVENTS[e] : undefined;
  if (!pair) throw new TypeError(`Unknown webhook event '${String(e)}'`);
  return { ...pair };
}
