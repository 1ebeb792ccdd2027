/**
 * The entities the client returns: camelCase, with MLflow's "absent means default" wire rules
 * already applied (missing tags are `{}`, missing aliases `[]`, missing latest versions `[]`).
 * The converters below are the only place that knows the wire's snake_case shapes.
 */
import type * as wire from './gen/types.gen.js';

/** A deployment stage. The server always answers with one of the four canonical names. */
export type ModelVersionStage = 'None' | 'Staging' | 'Production' | 'Archived';

/**
 * A stage as a request may name it: the canonical spelling or all lower case (MLflow matches stages
 * case-insensitively and answers with the canonical spelling). A closed union: `'Prodution'` does not compile.
 */
export type ModelVersionStageInput = ModelVersionStage | Lowercase<ModelVersionStage>;

const STAGES: Readonly<Record<string, ModelVersionStage>> = { none: 'None', staging: 'Staging', production: 'Production', archived: 'Archived' };

/** @internal The canonical spelling of a stage (servers answer with it; this guards against others). */
export function canonicalStage(stage: string | undefined): ModelVersionStage {
  return STAGES[(stage ?? 'None').toLowerCase()] ?? (stage as ModelVersionStage);
}

/**
 * Registration status of a model version (always `READY` on this server).
 */
export type ModelVersionStatus = 'PENDING_REGISTRATION' | 'FAILED_REGISTRATION' | 'READY';

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

/**
 * Kind of object a webhook event is about.
 */
export type WebhookEntity = 
  | 'REGISTERED_MODEL'
  | 'MODEL_VERSION'
  | 'MODEL_VERSION_TAG'
  | 'MODEL_VERSION_ALIAS'
  | 'PROMPT'
  | 'PROMPT_VERSION'
  | 'PROMPT_TAG'
  | 'PROMPT_VERSION_TAG'
  | 'PROMPT_ALIAS'
  | 'BUDGET_POLICY';
/**
 * What happened to it.
 */
export type WebhookAction = 'CREATED' | 'UPDATED' | 'DELETED' | 'SET' | 'EXCEEDED';
/**
 * `ACTIVE` webhooks receive deliveries; `DISABLED` ones do not.
 */
export type WebhookStatus = 'ACTIVE' | 'DISABLED';

// The unions above are spelt out (so that the API reference shows them) and must stay the spec's:
// a change of openapi/openapi.yaml that is not mirrored here fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type MustBeTrue<T extends true> = T;
type _Checks = [
  MustBeTrue<Same<ModelVersionStatus, wire.ModelVersionStatus>>,
  MustBeTrue<Same<WebhookEntity, wire.WebhookEntity>>,
  MustBeTrue<Same<WebhookAction, wire.WebhookAction>>,
  MustBeTrue<Same<WebhookStatus, wire.WebhookStatus>>,
];

/** An (entity, action) pair a webhook subscribes to. */
export interface WebhookEvent {
  /** The kind of object, e.g. `MODEL_VERSION`. */
  entity: WebhookEntity;
  /** What happened to it, e.g. `CREATED`. */
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
  /** Webhook name (not unique). */
  name: string;
  /** Free-text description; absent when empty. */
  description?: string;
  /** URL deliveries are POSTed to. */
  url: string;
  /** The events it subscribes to. */
  events: WebhookEvent[];
  /** Whether it receives deliveries. */
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
  /** True for a directory (list it with `listArtifacts({ path })`). */
  isDir: boolean;
  /** Size in bytes (files only). */
  fileSize?: number;
}

/**
 * One recorded change of the registry (the history API, an extension of this server). `data` and
 * `before` are kept as recorded, in the wire's snake_case: for the events MLflow delivers to webhooks,
 * `data` is exactly the webhook payload's `data`.
 */
export interface RegistryEvent {
  /** Sequence number (increasing in the order events were recorded). */
  eventId: number;
  /** Time of the change, milliseconds since the Unix epoch. */
  timestamp: number;
  /** What changed, in lower case: `registered_model`, `model_version`, `model_version_alias`, `prompt_tag`, … */
  entity: string;
  /** How it changed, in lower case: `created`, `updated`, `renamed`, `deleted`, `set`, `stage_transitioned`, … */
  action: string;
  /** Name of the registered model at the time (for a rename, the new name). */
  name: string;
  /** Version concerned, if any. */
  version?: string;
  /** Alias concerned, if any. */
  alias?: string;
  /** The change. */
  data: Record<string, unknown>;
  /** State before the change, where it applies (previous alias version, tag value, name, stage, …). */
  before?: Record<string, unknown>;
  /** User who made the change, when known. */
  actor?: string;
  /** Whether this event is delivered to webhooks. */
  webhook: boolean;
}

/** Where an alias pointed at a given time (see `getAliasHistoryPage` with `at`). */
export interface AliasPointInTime {
  /** The time asked about, milliseconds since the Unix epoch. */
  timestamp: number;
  /** Whether the model existed at that time. */
  modelExists: boolean;
  /** The model's name at that time. */
  registeredModelName?: string;
  /** Version the alias pointed to; absent when the alias did not exist then. */
  version?: string;
  /** When the alias was set to that version. */
  setTimestamp?: number;
  /** The event that set it. */
  eventId?: number;
}

/** One page of an alias's history, with the answer for `at` when it was given. */
export interface AliasHistoryPage extends Page<RegistryEvent> {
  /** Present when `at` was given. */
  pointInTime?: AliasPointInTime;
}

/**
 * State of a webhook delivery.
 * @useDeclaredType
 */
export type WebhookDeliveryStatus = wire.WebhookDelivery['status'];

/** One attempt of a webhook delivery. */
export interface WebhookDeliveryAttempt {
  /** Attempt number, from 1. */
  attempt: number;
  /** When the request was sent (absent for an attempt lost with a stopped worker). */
  startedTimestamp?: number;
  /** When the outcome was known. */
  finishedTimestamp: number;
  /** HTTP status the receiver answered with. */
  responseStatus?: number;
  /** First 1000 characters of the receiver's answer. */
  responseBody?: string;
  /** Why the attempt did not succeed. */
  error?: string;
}

/** The delivery of one registry event to one webhook, with its attempts. */
export interface WebhookDelivery {
  /** The `X-MLflow-Delivery-Id` header (the same for every attempt). */
  deliveryId: string;
  /** The registry event delivered. */
  eventId: number;
  /** The webhook it was delivered to. */
  webhookId: string;
  /** Event entity, in lower case as in the delivery body. */
  entity: string;
  /** Event action, in lower case as in the delivery body. */
  action: string;
  /** `PENDING` (an attempt is due), `IN_FLIGHT`, `DELIVERED`, `FAILED` (given up) or `CANCELLED`. */
  status: WebhookDeliveryStatus;
  /** Attempts made so far. */
  attemptCount: number;
  /** When the event was recorded, milliseconds since the Unix epoch. */
  createdTimestamp: number;
  /** For `PENDING`, when the next attempt is due. */
  nextAttemptTimestamp?: number;
  /** When it reached a final status. */
  finishedTimestamp?: number;
  /** HTTP status of the last answer. */
  lastResponseStatus?: number;
  /** Why the last attempt did not succeed. */
  lastError?: string;
  /** Every attempt, in order (`[]` before the first). */
  attempts: WebhookDeliveryAttempt[];
}

/** A presigned URL to PUT one part of a direct upload to. */
export interface DirectUploadCredential {
  /** 1-based part number. */
  partNumber: number;
  /** Presigned URL: PUT the part's bytes to it directly (not through the registry server). */
  url: string;
  /** Headers to send with the PUT (`{}` when there are none). */
  headers: Record<string, string>;
}

/** A signed direct upload, as returned by `createDirectUpload`. */
export interface DirectUpload {
  /** The normalised artifact path that will be written. */
  path: string;
  /** Size of the file in bytes. */
  size: number;
  /** Bytes per part (the last part may be shorter); equals `size` for a single-PUT upload. */
  partSize: number;
  /** Multipart upload id, for `completeDirectUpload`/`abortDirectUpload`; absent for a single PUT. */
  uploadId?: string;
  /** One presigned PUT URL per part, in part order (exactly one for a single PUT). */
  credentials: DirectUploadCredential[];
  /** When the URLs expire, milliseconds since the Unix epoch. */
  expiresAt: number;
}

/** An uploaded part of a direct multipart upload. */
export interface DirectUploadPart {
  /** 1-based part number. */
  partNumber: number;
  /** The `ETag` header the part's PUT answered with (quotes included). */
  etag: string;
}

/** A presigned download URL, as returned by `getDirectDownloadUrl`. */
export interface DirectDownload {
  /** The normalised artifact path. */
  path: string;
  /** Presigned GET URL of the file; `Range` requests work on it. */
  url: string;
  /** Headers to send with the GET (usually `{}`). */
  headers: Record<string, string>;
  /** File size in bytes. */
  fileSize: number;
  /** When the URL expires, milliseconds since the Unix epoch. */
  expiresAt: number;
}

/** Trace archival settings of a workspace (used by MLflow's tracking server). */
export interface TraceArchivalConfig {
  /** Archive URI. */
  location?: string;
  /** `<int><unit>`, unit `m`, `h` or `d` (e.g. `30d`). */
  retention?: string;
}

/** An MLflow workspace (MLflow 3.10+, on servers with workspaces enabled). */
export interface Workspace {
  /** The workspace's name (2–63 characters of `a-z`, `0-9` and inner `-`). */
  name: string;
  /** Free text; absent when unset. */
  description?: string;
  /** Where MLflow's tracking server puts the workspace's new experiments; absent when unset. */
  defaultArtifactRoot?: string;
  /** Trace archival settings; absent when unset. */
  traceArchivalConfig?: TraceArchivalConfig;
}

/**
 * What happens to a workspace's resources when it is deleted: `RESTRICT` (the default) refuses
 * while any remain, `CASCADE` deletes them, `SET_DEFAULT` moves them to the `default` workspace.
 */
export type WorkspaceDeletionMode = 'RESTRICT' | 'CASCADE' | 'SET_DEFAULT';

/** How a server is set up (MLflow's server-info). */
export interface ServerInfo {
  /** The backend store type (e.g. `SqlStore`), when the server says. */
  storeType?: string;
  /** Whether the server has workspaces enabled (then the `workspace` option selects one). */
  workspacesEnabled: boolean;
  /** Whether the artifact proxy supports multipart uploads. */
  multipartUploadsEnabled: boolean;
  /** Whether the artifact proxy supports multipart downloads. */
  multipartDownloadsEnabled: boolean;
  /** Optional server features by name (e.g. `gateway`). */
  featuresEnabled: Record<string, boolean>;
}

/** One page of a paginated listing. */
export interface Page<T> {
  /** The page's items, in the listing's order. */
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
    currentStage: canonicalStage(w.current_stage),
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

/** @internal */
export function toRegistryEvent(w: wire.RegistryEvent): RegistryEvent {
  return compact({
    eventId: w.event_id,
    timestamp: w.timestamp,
    entity: w.entity,
    action: w.action,
    name: w.name,
    version: w.version,
    alias: w.alias,
    data: w.data,
    before: w.before,
    actor: w.actor,
    webhook: w.webhook,
  });
}

/** @internal */
export function toAliasPointInTime(w: wire.AliasPointInTime): AliasPointInTime {
  return compact({
    timestamp: w.timestamp,
    modelExists: w.model_exists,
    registeredModelName: w.registered_model_name,
    version: w.version,
    setTimestamp: w.set_timestamp,
    eventId: w.event_id,
  });
}

/** @internal */
export function toWebhookDelivery(w: wire.WebhookDelivery): WebhookDelivery {
  return compact({
    deliveryId: w.delivery_id,
    eventId: w.event_id,
    webhookId: w.webhook_id,
    entity: w.entity,
    action: w.action,
    status: w.status,
    attemptCount: w.attempt_count,
    createdTimestamp: w.created_timestamp,
    nextAttemptTimestamp: w.next_attempt_timestamp,
    finishedTimestamp: w.finished_timestamp,
    lastResponseStatus: w.last_response_status,
    lastError: w.last_error,
    attempts: (w.attempts ?? []).map((a) =>
      compact({
        attempt: a.attempt,
        startedTimestamp: a.started_timestamp,
        finishedTimestamp: a.finished_timestamp,
        responseStatus: a.response_status,
        responseBody: a.response_body,
        error: a.error,
      }),
    ),
  });
}

/** @internal */
export function toDirectUpload(w: wire.CreateDirectUploadResponse): DirectUpload {
  return compact({
    path: w.path,
    size: w.size,
    partSize: w.part_size,
    uploadId: w.upload_id,
    credentials: w.credentials.map((c) => ({ partNumber: c.part_number, url: c.url, headers: { ...c.headers } })),
    expiresAt: w.expires_at,
  });
}

/** @internal */
export function toServerInfo(w: wire.ServerInfoResponse): ServerInfo {
  return compact({
    storeType: w.store_type,
    workspacesEnabled: w.workspaces_enabled ?? false,
    multipartUploadsEnabled: w.multipart_uploads_enabled ?? false,
    multipartDownloadsEnabled: w.multipart_downloads_enabled ?? false,
    featuresEnabled: { ...w.features_enabled },
  });
}

/** @internal */
export function toWorkspace(w: wire.Workspace): Workspace {
  return compact({
    name: w.name,
    description: w.description,
    defaultArtifactRoot: w.default_artifact_root,
    traceArchivalConfig: w.trace_archival_config ? compact({ ...w.trace_archival_config }) : undefined,
  });
}

/** @internal */
export function toDirectDownload(w: wire.DirectDownloadResponse): DirectDownload {
  return { path: w.path, url: w.url, headers: { ...w.headers }, fileSize: w.file_size, expiresAt: w.expires_at };
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
