/**
 * MlflowRegistryClient: the hand-written facade over the generated layer in ./gen. Methods are
 * named after the Python `MlflowClient`, take camelCase option objects, send MLflow's wire format
 * through the generated functions, and return camelCase entities.
 */
import { createClient, createConfig, type Client } from './gen/client/index.js';
import type * as wire from './gen/types.gen.js';
import { ops, validatorFor, type OpOptions, type OpResult } from './ops.js';
import {
  toAliasPointInTime,
  toDirectDownload,
  toDirectUpload,
  toFileInfo,
  toModelVersion,
  toRegisteredModel,
  toRegistryEvent,
  toWebhook,
  toWebhookDelivery,
  toWebhookTestResult,
  toWireEvent,
  toWorkspace,
  toServerInfo,
  type AliasHistoryPage,
  type AliasPointInTime,
  type DirectDownload,
  type DirectUpload,
  type DirectUploadPart,
  type FileInfo,
  type ModelVersion,
  type ModelVersionStageInput,
  type Page,
  type RegisteredModel,
  type RegistryEvent,
  type Webhook,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookEvent,
  type WebhookEventName,
  type WebhookStatus,
  type WebhookTestResult,
  type TraceArchivalConfig,
  type Workspace,
  type WorkspaceDeletionMode,
  type ServerInfo,
} from './entities.js';
import { MlflowApiError } from './errors.js';
import { PageIterator } from './pagination.js';
import { parseModelUri, proxyArtifactPath } from './uri.js';
import { Transport, type CallContext, type CallPolicy, type FetchLike, type RetryOptions } from './transport.js';

// ---------------------------------------------------------------------------------------------
// Options

/** Credentials: a bearer token, or a user name and password (HTTP Basic), or none. */
export type AuthOptions =
  | {
      /** No credentials. */
      token?: undefined;
      /** No credentials. */
      username?: undefined;
      /** No credentials. */
      password?: undefined;
    }
  | {
      /** Sent as `Authorization: Bearer <token>` (like `MLFLOW_TRACKING_TOKEN`). */
      token: string;
      /** Not with a token. */
      username?: undefined;
      /** Not with a token. */
      password?: undefined;
    }
  | {
      /** Not with Basic credentials. */
      token?: undefined;
      /** Sent with `password` as `Authorization: Basic …` (like `MLFLOW_TRACKING_USERNAME`). */
      username: string;
      /** The password for `username` (like `MLFLOW_TRACKING_PASSWORD`). */
      password: string;
    };

/** Options of {@link MlflowRegistryClient}. */
export type MlflowRegistryClientOptions = AuthOptions & {
  /** Server root, e.g. `http://localhost:8000` or `https://example.com/mlflow` (without `/api/2.0`). */
  baseUrl: string;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /**
   * The MLflow workspace to act in (MLflow 3.10+ servers with workspaces enabled): sent as the
   * `X-MLFLOW-WORKSPACE` header with every request except the workspace administration calls
   * (which name their workspace in the path), as MLflow's Python client does for `MLFLOW_WORKSPACE`
   * or `mlflow.set_workspace`. Surrounding blanks are trimmed; empty means none. Without it, a server
   * with workspaces enabled uses its default workspace (`default`). See also
   * {@link MlflowRegistryClient.withWorkspace} and {@link CallOptions.workspace}.
   */
  workspace?: string;
  /**
   * fetch implementation. Default: the global `fetch`, looked up at each call (so in Node a pool set
   * with undici's `setGlobalDispatcher` is used). It is called as `fetch(url, init)`.
   */
  fetch?: FetchLike;
  /** Per-attempt timeout in ms (default 60000; 0 disables). For downloads it covers the response headers. */
  timeoutMs?: number;
  /**
   * Retries with exponential backoff and full jitter (honouring `Retry-After`). Calls that are safe to
   * repeat (reads, deletes, uploads) are retried after HTTP 429, HTTP 503 or a network error; the others
   * (creates, updates, …) only when the server certainly did not act on them (HTTP 429, or a connection
   * never established): see {@link RetryOptions}. A number sets `maxRetries`. Default `{ maxRetries: 2 }`.
   */
  retries?: number | RetryOptions;
  /**
   * Check every response against the API's zod schemas (generated from the OpenAPI spec) and fail
   * with `INVALID_RESPONSE` on any mismatch. Costs some CPU per call. Default false.
   */
  validateResponses?: boolean;
};

/** Per-call options, accepted by every method as its last argument. */
export interface CallOptions {
  /** Cancels the call (including retries and backoff waits); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number;
  /** Extra headers for this call. */
  headers?: Record<string, string>;
  /** The workspace for this call, instead of the client's `workspace` option. */
  workspace?: string;
}

/** Tags as a key → value map. */
export type Tags = Readonly<Record<string, string>>;

/** A version number: `3` or `"3"`. */
export type VersionNumber = string | number;

/** Identifies a model version. */
export interface ModelVersionRef {
  /** Registered model name. */
  name: string;
  /** Version number. */
  version: VersionNumber;
}

/** Where a `models:/` URI points, as {@link MlflowRegistryClient.resolveModelUri} resolves it. */
export interface ResolvedModelUri {
  /** Registered model name. */
  name: string;
  /** The resolved version number. */
  version: string;
  /** The resolved version, with its tags and aliases. */
  modelVersion: ModelVersion;
  /** The server's download URI for the version's artifacts (`getModelVersionDownloadUri`). */
  downloadUri: string;
  /**
   * The artifact path under this server's artifact proxy, when `downloadUri` is a `mlflow-artifacts:`
   * URI it serves; absent for other stores (`s3://…`, …).
   */
  artifactPath?: string;
}

/** Parameters of a search. */
export interface SearchParams {
  /** Filter, e.g. `"name LIKE 'iris%'"` or `"tags.team = 'ml'"` (MLflow's grammar: comparisons joined by AND). */
  filter?: string;
  /** Sort keys, e.g. `['name ASC']` or `['version_number DESC']`. */
  orderBy?: readonly string[];
  /** Page size (server defaults: 100 for models, 200000 for versions). */
  maxResults?: number;
}

/** Parameters of a single-page search. */
export interface SearchPageParams extends SearchParams {
  /** `nextPageToken` of the previous page; absent for the first page. */
  pageToken?: string;
}

/** A point in time: milliseconds since the Unix epoch, or a `Date`. */
export type Timestamp = number | Date;

/** Parameters of a history listing (page size 1 … 1000, server default 100). */
export interface HistoryParams {
  /** Page size, 1 … 1000 (server default 100). */
  maxResults?: number;
}

/** Parameters of one page of a history listing. */
export interface HistoryPageParams extends HistoryParams {
  /** `nextPageToken` of the previous page; absent for the first page. */
  pageToken?: string;
}

/** Body of an artifact upload. Streams are sent as they are read (not buffered, so not retried). */
export type ArtifactBody = ReadableStream<Uint8Array> | Blob | Uint8Array | ArrayBuffer | string;

// ---------------------------------------------------------------------------------------------
// Internals

const ARTIFACT_URL: wire.UploadArtifactData['url'] & wire.DownloadArtifactData['url'] = '/api/2.0/mlflow-artifacts/artifacts/{artifact_path}';

function isZodError(err: unknown): err is Error & { issues: { path: PropertyKey[]; message: string }[] } {
  return err instanceof Error && err.name === 'ZodError' && Array.isArray((err as { issues?: unknown }).issues);
}

function base64Utf8(s: string): string {
  let bin = '';
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin);
}

function wireTags(tags: Tags | undefined): { key: string; value: string }[] | undefined {
  return tags === undefined ? undefined : Object.entries(tags).map(([key, value]) => ({ key, value }));
}

const str = (v: VersionNumber): string => String(v);

/** MLflow's `_normalize_workspace`: trimmed, and empty means none. */
const normalizeWorkspace = (w: string | undefined): string | undefined => (w?.trim() ? w.trim() : undefined);

/** How the facade sends one call: the transport's policy, and whether the workspace header goes with it. */
type FacadePolicy = Omit<CallPolicy, 'signal' | 'timeoutMs'> & {
  /** Workspace administration: the workspace is in the path, so the header is not sent (as MLflow's client). */
  noWorkspaceHeader?: boolean;
};

const millis = (t: Timestamp | undefined): number | undefined => (t instanceof Date ? t.getTime() : t);

function eventPage(data: wire.RegistryEventsResponse): Page<RegistryEvent> {
  const page: Page<RegistryEvent> = { items: (data.events ?? []).map(toRegistryEvent) };
  if (data.next_page_token) page.nextPageToken = data.next_page_token;
  return page;
}

// ---------------------------------------------------------------------------------------------

/**
 * A typed client for the MLflow Model Registry REST API (any server speaking it: this project's
 * server or `mlflow server`).
 *
 * @example
 * ```ts
 * import { MlflowRegistryClient } from '@mlflow-registry/client';
 *
 * const client = new MlflowRegistryClient({ baseUrl: 'http://localhost:8000' });
 * await client.createRegisteredModel({ name: 'iris' });
 * const mv = await client.createModelVersion({ name: 'iris', source: 's3://models/iris/1' });
 * await client.setRegisteredModelAlias({ name: 'iris', alias: 'champion', version: mv.version });
 * const champion = await client.getModelVersionByAlias({ name: 'iris', alias: 'champion' });
 * ```
 */
export class MlflowRegistryClient {
  readonly #client: Client;
  readonly #transport: Transport;
  readonly #validate: boolean;
  readonly #options: MlflowRegistryClientOptions;
  /** The server root this client talks to. */
  readonly baseUrl: string;
  /** The workspace this client acts in (the `X-MLFLOW-WORKSPACE` header), if any. */
  readonly workspace: string | undefined;

  /**
   * Creates a client. No request is sent until a method is called.
   *
   * @example
   * ```ts
   * const client = new MlflowRegistryClient({
   *   baseUrl: 'https://mlflow.example.com',
   *   token: process.env.MLFLOW_TRACKING_TOKEN!,
   *   timeoutMs: 10_000,
   *   retries: { maxRetries: 4, baseDelayMs: 250 },
   * });
   * ```
   */
  constructor(options: MlflowRegistryClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || options.baseUrl === '') {
      throw new TypeError('MlflowRegistryClient: baseUrl is required, e.g. "http://localhost:8000"');
    }
    this.#options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.workspace = normalizeWorkspace(options.workspace);
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    else if (options.username !== undefined) headers.authorization = `Basic ${base64Utf8(`${options.username}:${options.password}`)}`;
    this.#client = createClient(createConfig({ baseUrl: this.baseUrl, headers }));
    this.#transport = new Transport({ fetch: options.fetch, retries: options.retries, timeoutMs: options.timeoutMs });
    this.#validate = options.validateResponses ?? false;
  }

  /**
   * A client like this one (same server, credentials, fetch, retries, timeouts and validation) that
   * acts in workspace `name` (`undefined`: no workspace header). This client is unchanged.
   *
   * @example
   * ```ts
   * const teamA = client.withWorkspace('team-a');
   * await teamA.createRegisteredModel({ name: 'iris' }); // iris in team-a
   * ```
   */
  withWorkspace(name: string | undefined): MlflowRegistryClient {
    return new MlflowRegistryClient({ ...this.#options, workspace: name } as MlflowRegistryClientOptions);
  }

  /** Sends one generated call and returns its data, or throws MlflowApiError. */
  async #invoke<T>(policy: FacadePolicy, call: CallOptions | undefined, send: (o: OpOptions) => Promise<OpResult<T>>): Promise<T> {
    const ctx: CallContext = {};
    const { noWorkspaceHeader, ...transportPolicy } = policy;
    const workspace = noWorkspaceHeader ? undefined : call?.workspace !== undefined ? normalizeWorkspace(call.workspace) : this.workspace;
    const headers = workspace === undefined ? call?.headers : { 'X-MLFLOW-WORKSPACE': workspace, ...call?.headers };
    const o: OpOptions = {
      client: this.#client,
      fetch: this.#transport.fetchFor({ ...transportPolicy, signal: call?.signal, timeoutMs: call?.timeoutMs }, ctx),
      headers,
      validate: this.#validate,
    };
    let result: OpResult<T>;
    try {
      result = await send(o);
    } catch (err) {
      throw this.#invalidResponse(err, ctx);
    }
    const { response, request } = result;
    const data = result.data;
    if (response?.ok && data !== undefined) {
      if (this.#validate && !policy.streamingResponse) {
        const type = response.headers.get('content-type') ?? '';
        // An empty body (MLflow answers an artifact upload with 200 and no content, a workspace deletion
        // with 204) is `{}`, as in MLflow's client.
        const empty = response.status === 204 || response.headers.get('content-length') === '0';
        if (!empty && !/^application\/json\b/i.test(type)) {
          throw new MlflowApiError({
            errorCode: 'INVALID_RESPONSE',
            status: response.status,
            message: `${request.method} ${request.url}: expected an application/json response, got '${type}'`,
            method: request.method,
            url: request.url,
          });
        }
      }
      return data;
    }
    const err = result.error;
    const failure = err instanceof MlflowApiError || !response ? err : MlflowApiError.fromResponse(response, err, request.method, request.url);
    // A delete retried after an attempt that may have been applied: "does not exist" is the outcome asked for.
    // Deletes return nothing, so no data is needed.
    if (policy.goneMeansDone && ctx.retriedAfterUnknownOutcome && MlflowApiError.is(failure, 'RESOURCE_DOES_NOT_EXIST')) return undefined as T;
    throw failure;
  }

  #invalidResponse(err: unknown, ctx: CallContext): unknown {
    const res = ctx.response;
    if (!res || !(isZodError(err) || err instanceof SyntaxError)) return err;
    const detail = isZodError(err)
      ? err.issues
          .slice(0, 5)
          .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
          .join('; ')
      : err.message;
    return new MlflowApiError({
      errorCode: 'INVALID_RESPONSE',
      status: res.status,
      message: `The response to ${ctx.method} ${ctx.url} does not match the API contract: ${detail}`,
      method: ctx.method,
      url: ctx.url,
      cause: err,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Registered models

  /**
   * Creates a registered model (with no versions). Fails with `RESOURCE_ALREADY_EXISTS` (HTTP 400) if
   * the name is taken.
   *
   * @example
   * ```ts
   * const model = await client.createRegisteredModel({
   *   name: 'iris',
   *   description: 'Iris classifier',
   *   tags: { team: 'ml' },
   * });
   * ```
   */
  async createRegisteredModel(
    params: { name: string; tags?: Tags; description?: string },
    options?: CallOptions,
  ): Promise<RegisteredModel> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.createRegisteredModel({ ...o, body: { name: params.name, tags: wireTags(params.tags), description: params.description } }),
    );
    return toRegisteredModel(data.registered_model);
  }

  /**
   * Returns a registered model with its latest versions per stage, tags and aliases. Fails with
   * `RESOURCE_DOES_NOT_EXIST` (HTTP 404) if there is none.
   *
   * @example
   * ```ts
   * const model = await client.getRegisteredModel({ name: 'iris' });
   * console.log(model.aliases.champion, model.tags.team);
   * ```
   */
  async getRegisteredModel(params: { name: string }, options?: CallOptions): Promise<RegisteredModel> {
    const data = await this.#invoke({ idempotent: true }, options, (o) => ops.getRegisteredModel({ ...o, query: { name: params.name } }));
    return toRegisteredModel(data.registered_model);
  }

  /**
   * Renames a registered model; its versions, tags and aliases move with it. Unknown model →
   * `RESOURCE_DOES_NOT_EXIST`; a taken new name → `RESOURCE_ALREADY_EXISTS`; an empty one →
   * `INVALID_PARAMETER_VALUE`. Not retried after a failure that may have reached the server.
   *
   * @example
   * ```ts
   * const renamed = await client.renameRegisteredModel({ name: 'iris', newName: 'iris-v2' });
   * ```
   */
  async renameRegisteredModel(params: { name: string; newName: string }, options?: CallOptions): Promise<RegisteredModel> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.renameRegisteredModel({ ...o, body: { name: params.name, new_name: params.newName } }),
    );
    return toRegisteredModel(data.registered_model);
  }

  /**
   * Sets a registered model's description (and its `lastUpdatedTimestamp`). MLflow always overwrites
   * the description, so `description` is required: pass `null` (or `''`) to clear it, as MLflow does
   * for an absent description. Unknown model → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * await client.updateRegisteredModel({ name: 'iris', description: 'Iris classifier, v2 features' });
   * await client.updateRegisteredModel({ name: 'iris', description: null }); // clears it
   * ```
   */
  async updateRegisteredModel(params: { name: string; description: string | null }, options?: CallOptions): Promise<RegisteredModel> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.updateRegisteredModel({ ...o, body: { name: params.name, description: params.description ?? undefined } }),
    );
    return toRegisteredModel(data.registered_model);
  }

  /**
   * Deletes a registered model with all its versions, tags and aliases (a hard delete). Unknown model →
   * `RESOURCE_DOES_NOT_EXIST`, except on a retry after an attempt that may have deleted it.
   *
   * @example
   * ```ts
   * await client.deleteRegisteredModel({ name: 'iris' });
   * ```
   */
  async deleteRegisteredModel(params: { name: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true, goneMeansDone: true }, options, (o) => ops.deleteRegisteredModel({ ...o, body: { name: params.name } }));
  }

  /**
   * Searches registered models; iterate the result to get every match, page by page. `filter` takes
   * MLflow's grammar (`name`, `tags.<key>`; `=`, `!=`, `LIKE`, `ILIKE`; comparisons joined by `AND`;
   * build it safely with {@link where}); `maxResults` is the page size (MLflow: default 100, at most
   * 1000); the default order is by name.
   *
   * @example
   * ```ts
   * for await (const model of client.searchRegisteredModels({ filter: "name LIKE 'iris%'", orderBy: ['name'] })) {
   *   console.log(model.name);
   * }
   * ```
   */
  searchRegisteredModels(params: SearchParams = {}, options?: CallOptions): PageIterator<RegisteredModel> {
    return new PageIterator((pageToken) => this.searchRegisteredModelsPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of registered models matching the search.
   *
   * @example
   * ```ts
   * const first = await client.searchRegisteredModelsPage({ maxResults: 10 });
   * if (first.nextPageToken) {
   *   const second = await client.searchRegisteredModelsPage({ maxResults: 10, pageToken: first.nextPageToken });
   * }
   * ```
   */
  async searchRegisteredModelsPage(params: SearchPageParams = {}, options?: CallOptions): Promise<Page<RegisteredModel>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.searchRegisteredModels({
        ...o,
        query: {
          filter: params.filter,
          max_results: params.maxResults,
          order_by: params.orderBy ? [...params.orderBy] : undefined,
          page_token: params.pageToken,
        },
      }),
    );
    const page: Page<RegisteredModel> = { items: (data.registered_models ?? []).map(toRegisteredModel) };
    if (data.next_page_token) page.nextPageToken = data.next_page_token;
    return page;
  }

  /**
   * Returns, for each requested stage (default: all four), the highest version in that stage (deleted
   * versions excluded; stages match case-insensitively). Unknown model → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * const [prod] = await client.getLatestVersions({ name: 'iris', stages: ['Production'] });
   * ```
   */
  async getLatestVersions(params: { name: string; stages?: readonly ModelVersionStageInput[] }, options?: CallOptions): Promise<ModelVersion[]> {
    // A read-only POST (the form MLflow's Python client uses): safe to retry.
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getLatestVersions({ ...o, body: { name: params.name, stages: params.stages ? [...params.stages] : undefined } }),
    );
    return (data.model_versions ?? []).map(toModelVersion);
  }

  /**
   * Sets (or overwrites) a tag on a registered model. Unknown model → `RESOURCE_DOES_NOT_EXIST`; an
   * invalid or too long key or value (MLflow: key ≤ 250, value ≤ 5000 characters) → `INVALID_PARAMETER_VALUE`.
   *
   * @example
   * ```ts
   * await client.setRegisteredModelTag({ name: 'iris', key: 'team', value: 'ml' });
   * ```
   */
  async setRegisteredModelTag(params: { name: string; key: string; value: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: false }, options, (o) =>
      ops.setRegisteredModelTag({ ...o, body: { name: params.name, key: params.key, value: params.value } }),
    );
  }

  /**
   * Deletes a tag from a registered model (no error if the tag does not exist).
   *
   * @example
   * ```ts
   * await client.deleteRegisteredModelTag({ name: 'iris', key: 'team' });
   * ```
   */
  async deleteRegisteredModelTag(params: { name: string; key: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true }, options, (o) =>
      ops.deleteRegisteredModelTag({ ...o, body: { name: params.name, key: params.key } }),
    );
  }

  /**
   * Points an alias at a model version (moving it if it already exists). `latest` (any case) and
   * `v<digits>` are reserved, like names with characters outside MLflow's alias pattern
   * (`INVALID_PARAMETER_VALUE`); an unknown model or version → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * await client.setRegisteredModelAlias({ name: 'iris', alias: 'champion', version: 3 });
   * ```
   */
  async setRegisteredModelAlias(params: { name: string; alias: string; version: VersionNumber }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: false }, options, (o) =>
      ops.setRegisteredModelAlias({ ...o, body: { name: params.name, alias: params.alias, version: str(params.version) } }),
    );
  }

  /**
   * Deletes an alias (no error if it does not exist).
   *
   * @example
   * ```ts
   * await client.deleteRegisteredModelAlias({ name: 'iris', alias: 'champion' });
   * ```
   */
  async deleteRegisteredModelAlias(params: { name: string; alias: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true }, options, (o) =>
      ops.deleteRegisteredModelAlias({ ...o, body: { name: params.name, alias: params.alias } }),
    );
  }

  /**
   * Resolves `name@alias` to a model version. An unknown alias fails with `INVALID_PARAMETER_VALUE`
   * (HTTP 400, as in MLflow). The alias `latest` resolves to the latest version.
   *
   * @example
   * ```ts
   * const champion = await client.getModelVersionByAlias({ name: 'iris', alias: 'champion' });
   * console.log(champion.version, champion.source);
   * ```
   */
  async getModelVersionByAlias(params: { name: string; alias: string }, options?: CallOptions): Promise<ModelVersion> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getModelVersionByAlias({ ...o, query: { name: params.name, alias: params.alias } }),
    );
    return toModelVersion(data.model_version);
  }

  // ---------------------------------------------------------------------------------------------
  // Model versions

  /**
   * Registers a new version of an existing registered model (unknown model → `RESOURCE_DOES_NOT_EXIST`).
   * Version numbers count up from 1 and are never reused (deleted versions count). Never sent twice by
   * the client: a failure that may have reached the server (connection reset, timeout, 5xx) is thrown,
   * so check (e.g. with `searchModelVersions` on `run_id`) before registering again. Use
   * {@link registerModel} to also create the model and wait until the version is `READY`.
   *
   * @example
   * ```ts
   * const mv = await client.createModelVersion({
   *   name: 'iris',
   *   source: 's3://models/iris/artifacts',
   *   runId: 'a1b2c3d4',
   *   tags: { framework: 'sklearn' },
   * });
   * console.log(mv.version); // "1"
   * ```
   */
  async createModelVersion(
    params: { name: string; source: string; runId?: string; runLink?: string; description?: string; tags?: Tags },
    options?: CallOptions,
  ): Promise<ModelVersion> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.createModelVersion({
        ...o,
        body: {
          name: params.name,
          source: params.source,
          run_id: params.runId,
          run_link: params.runLink,
          description: params.description,
          tags: wireTags(params.tags),
        },
      }),
    );
    return toModelVersion(data.model_version);
  }

  /**
   * Returns a model version with its tags and aliases. Fails with `RESOURCE_DOES_NOT_EXIST` if there
   * is none (or it was deleted).
   *
   * @example
   * ```ts
   * const mv = await client.getModelVersion({ name: 'iris', version: 1 });
   * ```
   */
  async getModelVersion(params: ModelVersionRef, options?: CallOptions): Promise<ModelVersion> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getModelVersion({ ...o, query: { name: params.name, version: str(params.version) } }),
    );
    return toModelVersion(data.model_version);
  }

  /**
   * Sets a model version's description (and its `lastUpdatedTimestamp`). MLflow always overwrites the
   * description, so `description` is required: pass `null` (or `''`) to clear it. Unknown or deleted
   * version → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * await client.updateModelVersion({ name: 'iris', version: 1, description: 'retrained on May data' });
   * await client.updateModelVersion({ name: 'iris', version: 1, description: null }); // clears it
   * ```
   */
  async updateModelVersion(params: ModelVersionRef & { description: string | null }, options?: CallOptions): Promise<ModelVersion> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.updateModelVersion({ ...o, body: { name: params.name, version: str(params.version), description: params.description ?? undefined } }),
    );
    return toModelVersion(data.model_version);
  }

  /**
   * Moves a model version to a stage (`None`, `Staging`, `Production`, `Archived`, any case), optionally
   * archiving the versions currently in that stage (only for `Staging` and `Production`, else
   * `INVALID_PARAMETER_VALUE`). Stages are deprecated in MLflow in favour of aliases.
   *
   * @example
   * ```ts
   * await client.transitionModelVersionStage({
   *   name: 'iris',
   *   version: 2,
   *   stage: 'Production',
   *   archiveExistingVersions: true,
   * });
   * ```
   */
  async transitionModelVersionStage(
    params: ModelVersionRef & { stage: ModelVersionStageInput; archiveExistingVersions?: boolean },
    options?: CallOptions,
  ): Promise<ModelVersion> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.transitionModelVersionStage({
        ...o,
        body: {
          name: params.name,
          version: str(params.version),
          stage: params.stage,
          archive_existing_versions: params.archiveExistingVersions ?? false,
        },
      }),
    );
    return toModelVersion(data.model_version);
  }

  /**
   * Deletes a model version (its number is never reused; its aliases are removed). Unknown version →
   * `RESOURCE_DOES_NOT_EXIST`, except on a retry after an attempt that may have deleted it.
   *
   * @example
   * ```ts
   * await client.deleteModelVersion({ name: 'iris', version: 1 });
   * ```
   */
  async deleteModelVersion(params: ModelVersionRef, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true, goneMeansDone: true }, options, (o) =>
      ops.deleteModelVersion({ ...o, body: { name: params.name, version: str(params.version) } }),
    );
  }

  /**
   * Searches model versions; iterate the result to get every match, page by page. Versions in search
   * results carry no aliases (MLflow's behaviour; use {@link getModelVersion} for them).
   *
   * @example
   * ```ts
   * for await (const mv of client.searchModelVersions({ filter: "name = 'iris'", orderBy: ['version_number DESC'] })) {
   *   console.log(mv.version, mv.currentStage);
   * }
   * ```
   */
  searchModelVersions(params: SearchParams = {}, options?: CallOptions): PageIterator<ModelVersion> {
    return new PageIterator((pageToken) => this.searchModelVersionsPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of model versions matching the search (filter fields: `name`, `run_id`,
   * `source_path`, `version_number`, `tags.<key>`; see {@link where}).
   *
   * @example
   * ```ts
   * const { items, nextPageToken } = await client.searchModelVersionsPage({ filter: "name = 'iris'", maxResults: 20 });
   * ```
   */
  async searchModelVersionsPage(params: SearchPageParams = {}, options?: CallOptions): Promise<Page<ModelVersion>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.searchModelVersions({
        ...o,
        query: {
          filter: params.filter,
          max_results: params.maxResults,
          order_by: params.orderBy ? [...params.orderBy] : undefined,
          page_token: params.pageToken,
        },
      }),
    );
    const page: Page<ModelVersion> = { items: (data.model_versions ?? []).map(toModelVersion) };
    if (data.next_page_token) page.nextPageToken = data.next_page_token;
    return page;
  }

  /**
   * Returns the URI the version's artifacts can be downloaded from (its storage location, else its
   * source). A `mlflow-artifacts:` URI is served by the server's artifact proxy (see
   * {@link resolveModelUri}). Unknown version → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * const uri = await client.getModelVersionDownloadUri({ name: 'iris', version: 1 });
   * ```
   */
  async getModelVersionDownloadUri(params: ModelVersionRef, options?: CallOptions): Promise<string> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getModelVersionDownloadUri({ ...o, query: { name: params.name, version: str(params.version) } }),
    );
    return data.artifact_uri;
  }

  /**
   * Sets (or overwrites) a tag on a model version. Unknown or deleted version →
   * `RESOURCE_DOES_NOT_EXIST`; an invalid key or value → `INVALID_PARAMETER_VALUE`.
   *
   * @example
   * ```ts
   * await client.setModelVersionTag({ name: 'iris', version: 1, key: 'validated', value: 'true' });
   * ```
   */
  async setModelVersionTag(params: ModelVersionRef & { key: string; value: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: false }, options, (o) =>
      ops.setModelVersionTag({ ...o, body: { name: params.name, version: str(params.version), key: params.key, value: params.value } }),
    );
  }

  /**
   * Deletes a tag from a model version (no error if the tag does not exist).
   *
   * @example
   * ```ts
   * await client.deleteModelVersionTag({ name: 'iris', version: 1, key: 'validated' });
   * ```
   */
  async deleteModelVersionTag(params: ModelVersionRef & { key: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true }, options, (o) =>
      ops.deleteModelVersionTag({ ...o, body: { name: params.name, version: str(params.version), key: params.key } }),
    );
  }


  // ---------------------------------------------------------------------------------------------
  // Helpers with the Python client's semantics

  /**
   * Registers `source` as a new version of model `name`, as `mlflow.register_model` does: creates
   * the registered model first (an existing one, `RESOURCE_ALREADY_EXISTS` or `ALREADY_EXISTS`, is
   * fine), creates the version, then polls it every `pollIntervalMs` (default 3 s, as MLflow) until
   * its status leaves `PENDING_REGISTRATION`, for at most `awaitRegistrationForMs` (default 300 s;
   * 0 returns the version as created). A version that ends `FAILED_REGISTRATION`, or is still pending
   * at the deadline, fails with an `MlflowApiError` (`INVALID_STATE` resp. `DEADLINE_EXCEEDED`, status 0).
   *
   * @example
   * ```ts
   * const mv = await client.registerModel({ name: 'iris', source: 'mlflow-artifacts:/models/iris/run-42', tags: { framework: 'sklearn' } });
   * console.log(mv.version, mv.status); // "1" "READY"
   * ```
   */
  async registerModel(
    params: {
      name: string;
      source: string;
      runId?: string;
      runLink?: string;
      description?: string;
      tags?: Tags;
      awaitRegistrationForMs?: number;
      pollIntervalMs?: number;
    },
    options?: CallOptions,
  ): Promise<ModelVersion> {
    try {
      await this.createRegisteredModel({ name: params.name }, options);
    } catch (err) {
      if (!MlflowApiError.is(err, 'RESOURCE_ALREADY_EXISTS', 'ALREADY_EXISTS')) throw err;
    }
    const create: Parameters<MlflowRegistryClient['createModelVersion']>[0] = { name: params.name, source: params.source };
    if (params.runId !== undefined) create.runId = params.runId;
    if (params.runLink !== undefined) create.runLink = params.runLink;
    if (params.description !== undefined) create.description = params.description;
    if (params.tags !== undefined) create.tags = params.tags;
    let mv = await this.createModelVersion(create, options);
    const waitMs = params.awaitRegistrationForMs ?? 300_000;
    if (waitMs <= 0) return mv;
    const poll = params.pollIntervalMs ?? 3_000;
    const deadline = Date.now() + waitMs;
    while (mv.status === 'PENDING_REGISTRATION') {
      if (Date.now() > deadline) {
        throw new MlflowApiError({
          errorCode: 'DEADLINE_EXCEEDED',
          status: 0,
          message: `Exceeded max wait time for model name: ${mv.name} version: ${mv.version} to become READY. Status: ${mv.status} Wait Time: ${waitMs} ms`,
        });
      }
      await new Promise((r) => setTimeout(r, poll));
      options?.signal?.throwIfAborted();
      mv = await this.getModelVersion({ name: mv.name, version: mv.version }, options);
    }
    if (mv.status !== 'READY') {
      throw new MlflowApiError({
        errorCode: 'INVALID_STATE',
        status: 0,
        message: `Model version creation failed for model name: ${mv.name} version: ${mv.version} with status: ${mv.status} and message: ${mv.statusMessage ?? ''}`,
      });
    }
    return mv;
  }

  /**
   * Resolves a `models:/` URI to a model version and where its artifacts are, as MLflow's
   * `models:/` artifact repository does: `models:/name/<version>` is that version,
   * `models:/name@alias` the alias's version, `models:/name/<stage>` the highest version in that
   * stage (any case) and `models:/name/latest` the highest version of all (both through
   * `getLatestVersions`; none → `RESOURCE_DOES_NOT_EXIST`, status 0). `downloadUri` is the server's
   * download URI; `artifactPath` is set when those artifacts are served by this server's artifact
   * proxy (`mlflow-artifacts:` URIs), so that {@link listArtifactsRecursive} and
   * {@link downloadArtifact} (or `downloadArtifacts` from `@mlflow-registry/client/node`) reach them.
   * A malformed URI throws a `TypeError`.
   *
   * @example
   * ```ts
   * const { modelVersion, downloadUri } = await client.resolveModelUri('models:/iris@champion');
   * console.log(modelVersion.version, downloadUri);
   * ```
   */
  async resolveModelUri(uri: string, options?: CallOptions): Promise<ResolvedModelUri> {
    const parsed = parseModelUri(uri);
    let modelVersion: ModelVersion;
    if (parsed.kind === 'alias') {
      modelVersion = await this.getModelVersionByAlias({ name: parsed.name, alias: parsed.alias }, options);
    } else if (parsed.kind === 'version') {
      modelVersion = await this.getModelVersion({ name: parsed.name, version: parsed.version }, options);
    } else {
      const stage = parsed.kind === 'stage' ? parsed.stage : undefined;
      const body: { name: string; stages?: ModelVersionStageInput[] } = { name: parsed.name };
      // MLflow passes the stage through as written; the server matches it case-insensitively.
      if (stage !== undefined) body.stages = [stage as ModelVersionStageInput];
      const latest = await this.getLatestVersions(body, options);
      if (latest.length === 0) {
        throw new MlflowApiError({
          errorCode: 'RESOURCE_DOES_NOT_EXIST',
          status: 0,
          message: `No versions of model with name '${parsed.name}'${stage === undefined ? '' : ` and stage '${stage}'`} found`,
        });
      }
      const top = latest.reduce((a, b) => (Number(b.version) > Number(a.version) ? b : a));
      modelVersion = await this.getModelVersion({ name: parsed.name, version: top.version }, options);
    }
    const downloadUri = await this.getModelVersionDownloadUri({ name: modelVersion.name, version: modelVersion.version }, options);
    const artifactPath = proxyArtifactPath(downloadUri, this.baseUrl);
    const out: ResolvedModelUri = {
      name: modelVersion.name,
      version: modelVersion.version,
      modelVersion,
      downloadUri,
    };
    if (artifactPath !== undefined) out.artifactPath = artifactPath;
    return out;
  }

  /**
   * Lists every file below an artifact directory (the root by default), directory by directory, calling
   * {@link listArtifacts} once per directory (each call lists one level). Yields files only, with
   * paths relative to the artifact root. A `path` that is a file yields nothing (MLflow lists a file
   * as empty).
   *
   * @example
   * ```ts
   * for await (const f of client.listArtifactsRecursive({ path: 'models/iris' })) console.log(f.path, f.fileSize);
   * ```
   */
  async *listArtifactsRecursive(params: { path?: string } = {}, options?: CallOptions): AsyncGenerator<FileInfo, void, undefined> {
    const pending: (string | undefined)[] = [params.path];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const dir = pending.shift();
      for (const f of await this.listArtifacts(dir === undefined ? {} : { path: dir }, options)) {
        if (f.isDir) {
          if (seen.has(f.path) || f.path === dir) continue; // a server listing a directory in itself
          seen.add(f.path);
          pending.push(f.path);
        } else {
          yield f;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Artifacts (the mlflow-artifacts proxy)

  /**
   * Uploads one file to the server's artifact store (overwriting it). `body` may be a stream (sent
   * as it is read; in browsers prefer a `Blob`/`File`, since most browsers cannot stream request
   * bodies over HTTP/1.1), a Blob, bytes or a string.
   *
   * @example
   * ```ts
   * await client.uploadArtifact({ path: 'iris/1/MLmodel', body: 'flavors: {}\n', contentType: 'text/plain' });
   * // Node: stream a file from disk
   * // import { Readable } from 'node:stream'; import fs from 'node:fs';
   * // await client.uploadArtifact({ path: 'iris/1/model.pkl', body: Readable.toWeb(fs.createReadStream('model.pkl')) as ReadableStream<Uint8Array> });
   * ```
   */
  async uploadArtifact(params: { path: string; body: ArtifactBody; contentType?: string }, options?: CallOptions): Promise<void> {
    const streaming = params.body instanceof ReadableStream;
    // Node's Request needs duplex: 'half' for a stream body (not yet in TypeScript's RequestInit).
    const streamInit = streaming ? { duplex: 'half' } : {};
    await this.#invoke({ idempotent: true, streamingBody: streaming }, options, ({ validate, ...o }) =>
      this.#client.put<wire.UploadArtifactResponses, wire.UploadArtifactErrors, false>({
        ...o,
        ...streamInit,
        parseAs: 'json',
        ...(validate ? { responseValidator: validatorFor('zUploadArtifactResponse2') } : {}),
        url: ARTIFACT_URL,
        path: { artifact_path: params.path },
        body: params.body,
        bodySerializer: null,
        headers: { 'content-type': params.contentType ?? 'application/octet-stream', ...o.headers },
      }),
    );
  }

  /**
   * Downloads one artifact file as a stream of bytes (the timeout covers the response headers; read or
   * cancel the stream). A missing file → `RESOURCE_DOES_NOT_EXIST` (HTTP 404).
   *
   * @example
   * ```ts
   * const stream = await client.downloadArtifact({ path: 'iris/1/MLmodel' });
   * const text = await new Response(stream).text();
   * ```
   */
  async downloadArtifact(params: { path: string }, options?: CallOptions): Promise<ReadableStream<Uint8Array>> {
    const body = await this.#invoke({ idempotent: true, streamingResponse: true }, options, ({ validate: _validate, ...o }) =>
      this.#client.get<{ 200: ReadableStream<Uint8Array> | null }, wire.DownloadArtifactErrors, false>({
        ...o,
        url: ARTIFACT_URL,
        path: { artifact_path: params.path },
        parseAs: 'stream',
      }),
    );
    return body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  }

  /**
   * Lists the files and directories directly inside an artifact directory (the root by default).
   * Each entry's `path` is relative to the artifact root (the listed directory joined with its name).
   *
   * @example
   * ```ts
   * for (const f of await client.listArtifacts({ path: 'iris/1' })) {
   *   console.log(f.isDir ? 'dir ' : 'file', f.path, f.fileSize ?? '');
   * }
   * ```
   */
  async listArtifacts(params: { path?: string } = {}, options?: CallOptions): Promise<FileInfo[]> {
    const data = await this.#invoke({ idempotent: true }, options, (o) => ops.listArtifacts({ ...o, query: { path: params.path } }));
    return (data.files ?? []).map((f) => toFileInfo(f, params.path));
  }

  /**
   * Deletes an artifact file, or a directory and everything below it.
   *
   * @example
   * ```ts
   * await client.deleteArtifact({ path: 'iris/1' });
   * ```
   */
  async deleteArtifact(params: { path: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true, goneMeansDone: true }, options, (o) => ops.deleteArtifact({ ...o, path: { artifact_path: params.path } }));
  }

  // ---------------------------------------------------------------------------------------------
  // Webhooks

  /**
   * Registers a webhook. Events can be written as `{ entity, action }` or `'model_version.created'`.
   *
   * @example
   * ```ts
   * const hook = await client.createWebhook({
   *   name: 'deploy-on-champion',
   *   url: 'https://ci.example.com/hooks/mlflow',
   *   events: ['model_version_alias.created', { entity: 'MODEL_VERSION', action: 'CREATED' }],
   *   secret: 'shared-secret',
   * });
   * ```
   */
  async createWebhook(
    params: {
      name: string;
      url: string;
      events: ReadonlyArray<WebhookEvent | WebhookEventName>;
      description?: string;
      secret?: string;
      status?: WebhookStatus;
    },
    options?: CallOptions,
  ): Promise<Webhook> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.createWebhook({
        ...o,
        body: {
          name: params.name,
          url: params.url,
          events: params.events.map(toWireEvent),
          description: params.description,
          secret: params.secret,
          status: params.status,
        },
      }),
    );
    return toWebhook(data.webhook);
  }

  /**
   * Lists webhooks, newest first; iterate the result to get all of them.
   *
   * @example
   * ```ts
   * for await (const hook of client.listWebhooks()) console.log(hook.name, hook.status);
   * ```
   */
  listWebhooks(params: { maxResults?: number } = {}, options?: CallOptions): PageIterator<Webhook> {
    return new PageIterator((pageToken) => this.listWebhooksPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of webhooks.
   *
   * @example
   * ```ts
   * const { items, nextPageToken } = await client.listWebhooksPage({ maxResults: 10 });
   * ```
   */
  async listWebhooksPage(params: { maxResults?: number; pageToken?: string } = {}, options?: CallOptions): Promise<Page<Webhook>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.listWebhooks({ ...o, query: { max_results: params.maxResults, page_token: params.pageToken } }),
    );
    const page: Page<Webhook> = { items: (data.webhooks ?? []).map(toWebhook) };
    if (data.next_page_token) page.nextPageToken = data.next_page_token;
    return page;
  }

  /**
   * Returns one webhook (never its secret).
   *
   * @example
   * ```ts
   * const hook = await client.getWebhook({ webhookId: '0b7f…' });
   * ```
   */
  async getWebhook(params: { webhookId: string }, options?: CallOptions): Promise<Webhook> {
    const data = await this.#invoke({ idempotent: true }, options, (o) => ops.getWebhook({ ...o, path: { webhook_id: params.webhookId } }));
    return toWebhook(data.webhook);
  }

  /**
   * Updates the given fields of a webhook (absent or empty fields are left unchanged; `events`
   * replaces the whole list).
   *
   * @example
   * ```ts
   * await client.updateWebhook({ webhookId: hook.webhookId, status: 'DISABLED' });
   * ```
   */
  async updateWebhook(
    params: {
      webhookId: string;
      name?: string;
      url?: string;
      events?: ReadonlyArray<WebhookEvent | WebhookEventName>;
      description?: string;
      secret?: string;
      status?: WebhookStatus;
    },
    options?: CallOptions,
  ): Promise<Webhook> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.updateWebhook({
        ...o,
        path: { webhook_id: params.webhookId },
        body: {
          name: params.name,
          url: params.url,
          events: params.events?.map(toWireEvent),
          description: params.description,
          secret: params.secret,
          status: params.status,
        },
      }),
    );
    return toWebhook(data.webhook);
  }

  /**
   * Deletes a webhook (its deliveries stay listable). Unknown webhook → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * await client.deleteWebhook({ webhookId: hook.webhookId });
   * ```
   */
  async deleteWebhook(params: { webhookId: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true, goneMeansDone: true }, options, (o) => ops.deleteWebhook({ ...o, path: { webhook_id: params.webhookId } }));
  }

  /**
   * Sends a signed test delivery for `event` (default: the webhook's first event) and reports how
   * the receiver answered. Delivery failures are reported in the result, not thrown.
   *
   * @example
   * ```ts
   * const result = await client.testWebhook({ webhookId: hook.webhookId, event: 'model_version.created' });
   * if (!result.success) console.error(result.errorMessage ?? result.responseStatus);
   * ```
   */
  async testWebhook(
    params: { webhookId: string; event?: WebhookEvent | WebhookEventName },
    options?: CallOptions,
  ): Promise<WebhookTestResult> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.testWebhook({
        ...o,
        path: { webhook_id: params.webhookId },
        body: params.event === undefined ? {} : { event: toWireEvent(params.event) },
      }),
    );
    return toWebhookTestResult(data.result);
  }

  // ---------------------------------------------------------------------------------------------
  // History (an extension of this server, /api/2.0/mlflow-ts/history; not in `mlflow server`)

  /**
   * Every recorded change of a registered model (or prompt), oldest first: creation, updates,
   * renames, tags, aliases, versions and their stages, deletion. `name` may be the model's current
   * name or any earlier one: the history follows renames. Unknown name → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * for await (const e of client.getRegisteredModelHistory({ name: 'iris' })) {
   *   console.log(new Date(e.timestamp).toISOString(), e.entity, e.action, e.version ?? '', e.alias ?? '');
   * }
   * ```
   */
  getRegisteredModelHistory(params: { name: string } & HistoryParams, options?: CallOptions): PageIterator<RegistryEvent> {
    return new PageIterator((pageToken) => this.getRegisteredModelHistoryPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of a registered model's history (see {@link getRegisteredModelHistory}).
   *
   * @example
   * ```ts
   * const { items, nextPageToken } = await client.getRegisteredModelHistoryPage({ name: 'iris', maxResults: 50 });
   * ```
   */
  async getRegisteredModelHistoryPage(params: { name: string } & HistoryPageParams, options?: CallOptions): Promise<Page<RegistryEvent>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getRegisteredModelHistory({ ...o, query: { name: params.name, max_results: params.maxResults, page_token: params.pageToken } }),
    );
    return eventPage(data);
  }

  /**
   * The recorded changes of one model version, oldest first: creation, description and stage
   * changes, tags, aliases moved onto or away from it, deletion. No recorded event for that version →
   * `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * const stages = (await client.getModelVersionHistory({ name: 'iris', version: 3 }).toArray())
   *   .filter((e) => e.action === 'stage_transitioned');
   * ```
   */
  getModelVersionHistory(params: ModelVersionRef & HistoryParams, options?: CallOptions): PageIterator<RegistryEvent> {
    return new PageIterator((pageToken) => this.getModelVersionHistoryPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of a model version's history (see {@link getModelVersionHistory}).
   *
   * @example
   * ```ts
   * const page = await client.getModelVersionHistoryPage({ name: 'iris', version: 3, maxResults: 20 });
   * ```
   */
  async getModelVersionHistoryPage(params: ModelVersionRef & HistoryPageParams, options?: CallOptions): Promise<Page<RegistryEvent>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getModelVersionHistory({
        ...o,
        query: { name: params.name, version: str(params.version), max_results: params.maxResults, page_token: params.pageToken },
      }),
    );
    return eventPage(data);
  }

  /**
   * The changes of one alias, oldest first: each time it was set (moved) or deleted, deletions of the
   * version it pointed to, and the deletion of the model. Unknown model → `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * for await (const e of client.getAliasHistory({ name: 'iris', alias: 'champion' })) {
   *   console.log(e.action, e.version, 'was', e.before?.version);
   * }
   * ```
   */
  getAliasHistory(params: { name: string; alias: string } & HistoryParams, options?: CallOptions): PageIterator<RegistryEvent> {
    return new PageIterator((pageToken) => this.getAliasHistoryPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of an alias's history; with `at`, also `pointInTime`: which version the alias
   * pointed to at that moment (see {@link getAliasAt}).
   *
   * @example
   * ```ts
   * const page = await client.getAliasHistoryPage({ name: 'iris', alias: 'champion', at: Date.parse('2025-01-01T00:00:00Z') });
   * console.log(page.items.length, page.pointInTime?.version);
   * ```
   */
  async getAliasHistoryPage(
    params: { name: string; alias: string; at?: Timestamp } & HistoryPageParams,
    options?: CallOptions,
  ): Promise<AliasHistoryPage> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.getAliasHistory({
        ...o,
        query: { name: params.name, alias: params.alias, at: millis(params.at), max_results: params.maxResults, page_token: params.pageToken },
      }),
    );
    const page: AliasHistoryPage = eventPage(data);
    if (data.point_in_time) page.pointInTime = toAliasPointInTime(data.point_in_time);
    return page;
  }

  /**
   * Answers "which version did this alias point to at time `at`?", replaying the model's events up
   * to then, across renames. `version` is absent when the alias did not exist at that time, and
   * `modelExists` is false when no such model existed then.
   *
   * @example
   * ```ts
   * const then = await client.getAliasAt({ name: 'iris', alias: 'champion', at: new Date('2025-01-01T00:00:00Z') });
   * console.log(then.modelExists ? (then.version ?? 'no alias then') : 'no model then');
   * ```
   */
  async getAliasAt(params: { name: string; alias: string; at: Timestamp }, options?: CallOptions): Promise<AliasPointInTime> {
    const page = await this.getAliasHistoryPage({ name: params.name, alias: params.alias, at: params.at, maxResults: 1 }, options);
    if (!page.pointInTime) {
      throw new MlflowApiError({
        errorCode: 'INVALID_RESPONSE',
        status: 200,
        message: 'The alias history response has no point_in_time although `at` was given',
      });
    }
    return page.pointInTime;
  }

  /**
   * Every recorded registry change with `since <= timestamp < until` (both optional), in the order
   * they were recorded: audit the whole registry, or feed another system.
   *
   * @example
   * ```ts
   * const dayAgo = Date.now() - 24 * 3600_000;
   * for await (const e of client.listRegistryEvents({ since: dayAgo, maxResults: 500 })) {
   *   console.log(e.eventId, e.name, e.entity, e.action);
   * }
   * ```
   */
  listRegistryEvents(params: { since?: Timestamp; until?: Timestamp } & HistoryParams = {}, options?: CallOptions): PageIterator<RegistryEvent> {
    return new PageIterator((pageToken) => this.listRegistryEventsPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of registry events (see {@link listRegistryEvents}).
   *
   * @example
   * ```ts
   * const { items, nextPageToken } = await client.listRegistryEventsPage({ since: new Date('2025-01-01'), maxResults: 100 });
   * ```
   */
  async listRegistryEventsPage(
    params: { since?: Timestamp; until?: Timestamp } & HistoryPageParams = {},
    options?: CallOptions,
  ): Promise<Page<RegistryEvent>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.listRegistryEvents({
        ...o,
        query: { since: millis(params.since), until: millis(params.until), max_results: params.maxResults, page_token: params.pageToken },
      }),
    );
    return eventPage(data);
  }

  /**
   * The deliveries of registry events to one webhook (also a deleted one), newest first, each with
   * its attempts; optionally only those with a given `status`. Unknown webhook →
   * `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * for await (const d of client.listWebhookDeliveries({ webhookId: hook.webhookId, status: 'FAILED' })) {
   *   console.log(d.entity, d.action, d.attemptCount, d.lastError);
   * }
   * ```
   */
  listWebhookDeliveries(
    params: { webhookId: string; status?: WebhookDeliveryStatus } & HistoryParams,
    options?: CallOptions,
  ): PageIterator<WebhookDelivery> {
    return new PageIterator((pageToken) => this.listWebhookDeliveriesPage({ ...params, pageToken }, options));
  }

  /**
   * Returns one page of a webhook's deliveries (see {@link listWebhookDeliveries}).
   *
   * @example
   * ```ts
   * const { items } = await client.listWebhookDeliveriesPage({ webhookId: hook.webhookId, maxResults: 10 });
   * ```
   */
  async listWebhookDeliveriesPage(
    params: { webhookId: string; status?: WebhookDeliveryStatus } & HistoryPageParams,
    options?: CallOptions,
  ): Promise<Page<WebhookDelivery>> {
    const data = await this.#invoke({ idempotent: true }, options, (o) =>
      ops.listWebhookDeliveries({
        ...o,
        path: { webhook_id: params.webhookId },
        query: { status: params.status, max_results: params.maxResults, page_token: params.pageToken },
      }),
    );
    const page: Page<WebhookDelivery> = { items: (data.deliveries ?? []).map(toWebhookDelivery) };
    if (data.next_page_token) page.nextPageToken = data.next_page_token;
    return page;
  }

  // ---------------------------------------------------------------------------------------------
  // Workspaces (MLflow 3.10+, /api/3.0/mlflow/workspaces; servers started with workspaces enabled,
  // otherwise they answer 503 TEMPORARILY_UNAVAILABLE). These calls name the workspace in the path
  // and send no X-MLFLOW-WORKSPACE header.

  /**
   * How the server is set up (MLflow's server-info): whether workspaces are enabled, which artifact
   * transfer modes the proxy offers. MLflow's Python client asks this before it sends a workspace.
   *
   * @example
   * ```ts
   * const { workspacesEnabled } = await client.getServerInfo();
   * const scoped = workspacesEnabled ? client.withWorkspace('team-a') : client;
   * ```
   */
  async getServerInfo(options?: CallOptions): Promise<ServerInfo> {
    const data = await this.#invoke({ idempotent: true, noWorkspaceHeader: true }, options, (o) => ops.getServerInfo(o));
    return toServerInfo(data);
  }

  /**
   * Every workspace, in name order. A server without workspaces enabled answers HTTP 503
   * (`TEMPORARILY_UNAVAILABLE`).
   *
   * @example
   * ```ts
   * for (const ws of await client.listWorkspaces()) console.log(ws.name, ws.description ?? '');
   * ```
   */
  async listWorkspaces(options?: CallOptions): Promise<Workspace[]> {
    const data = await this.#invoke({ idempotent: true, noWorkspaceHeader: true }, options, (o) => ops.listWorkspaces(o));
    return (data.workspaces ?? []).map(toWorkspace);
  }

  /**
   * Creates a workspace. `name`: 2–63 characters of `a-z`, `0-9` and inner `-` (`default` and a few
   * reserved names are refused with `INVALID_PARAMETER_VALUE`); a taken name fails with
   * `RESOURCE_ALREADY_EXISTS`. `defaultArtifactRoot` must be a URI or an absolute path. Not retried
   * after a failure that may have reached the server.
   *
   * @example
   * ```ts
   * const ws = await client.createWorkspace({ name: 'team-a', description: 'Team A models' });
   * ```
   */
  async createWorkspace(
    params: { name: string; description?: string; defaultArtifactRoot?: string; traceArchivalConfig?: TraceArchivalConfig },
    options?: CallOptions,
  ): Promise<Workspace> {
    const data = await this.#invoke({ idempotent: false, noWorkspaceHeader: true }, options, (o) =>
      ops.createWorkspace({
        ...o,
        body: {
          name: params.name,
          description: params.description,
          default_artifact_root: params.defaultArtifactRoot,
          trace_archival_config: params.traceArchivalConfig,
        },
      }),
    );
    return toWorkspace(data.workspace);
  }

  /**
   * Returns one workspace; an unknown name fails with `RESOURCE_DOES_NOT_EXIST` (HTTP 404).
   *
   * @example
   * ```ts
   * const ws = await client.getWorkspace({ name: 'team-a' });
   * ```
   */
  async getWorkspace(params: { name: string }, options?: CallOptions): Promise<Workspace> {
    const data = await this.#invoke({ idempotent: true, noWorkspaceHeader: true }, options, (o) =>
      ops.getWorkspace({ ...o, path: { workspace_name: params.name } }),
    );
    return toWorkspace(data.workspace);
  }

  /**
   * Sets the given fields of a workspace (absent fields are left unchanged; an empty
   * `defaultArtifactRoot` clears it). At least one field is required (else `INVALID_PARAMETER_VALUE`).
   *
   * @example
   * ```ts
   * await client.updateWorkspace({ name: 'team-a', description: 'Team A, all models' });
   * ```
   */
  async updateWorkspace(
    params: { name: string; description?: string; defaultArtifactRoot?: string; traceArchivalConfig?: TraceArchivalConfig },
    options?: CallOptions,
  ): Promise<Workspace> {
    const data = await this.#invoke({ idempotent: false, noWorkspaceHeader: true }, options, (o) =>
      ops.updateWorkspace({
        ...o,
        path: { workspace_name: params.name },
        body: {
          description: params.description,
          default_artifact_root: params.defaultArtifactRoot,
          trace_archival_config: params.traceArchivalConfig,
        },
      }),
    );
    return toWorkspace(data.workspace);
  }

  /**
   * Deletes a workspace. `mode` (default `RESTRICT`) decides what happens to its resources: `RESTRICT`
   * refuses while any remain (`INVALID_STATE`), `CASCADE` deletes them, `SET_DEFAULT` moves them to
   * the `default` workspace. The `default` workspace cannot be deleted.
   *
   * @example
   * ```ts
   * await client.deleteWorkspace({ name: 'team-a', mode: 'CASCADE' });
   * ```
   */
  async deleteWorkspace(params: { name: string; mode?: WorkspaceDeletionMode }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: true, goneMeansDone: true, noWorkspaceHeader: true }, options, (o) =>
      ops.deleteWorkspace({ ...o, path: { workspace_name: params.name }, query: params.mode === undefined ? undefined : { mode: params.mode } }),
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Direct transfers (an extension of this server, /api/2.0/mlflow-ts/artifacts; needs its S3 store
  // and ARTIFACTS_DIRECT_TRANSFER=true, otherwise NOT_IMPLEMENTED): the bytes go between the caller
  // and S3 over presigned URLs, never through the registry server.

  /**
   * Signs an upload of `size` bytes to the artifact `path`. A file of at most `partSize` bytes
   * (default 64 MiB) gets one URL and no `uploadId`: PUT the whole file to it and you are done. A
   * larger file gets a multipart upload: PUT bytes `[(n-1)·partSize, n·partSize)` to the URL of part
   * `n`, keep each answer's `ETag`, then call {@link completeDirectUpload} (or
   * {@link abortDirectUpload}). Not retried.
   *
   * @example
   * ```ts
   * const bytes = new TextEncoder().encode('flavors: {}\n');
   * const up = await client.createDirectUpload({ path: 'iris/1/MLmodel', size: bytes.length });
   * const [cred] = up.credentials;
   * await fetch(cred!.url, { method: 'PUT', body: bytes, headers: cred!.headers });
   * ```
   */
  async createDirectUpload(params: { path: string; size: number; partSize?: number }, options?: CallOptions): Promise<DirectUpload> {
    const data = await this.#invoke({ idempotent: false }, options, (o) =>
      ops.createDirectUpload({ ...o, body: { path: params.path, size: params.size, part_size: params.partSize } }),
    );
    return toDirectUpload(data);
  }

  /**
   * Assembles the uploaded parts of a multipart direct upload into the artifact `path`. An unknown
   * upload → `RESOURCE_DOES_NOT_EXIST`; a missing or wrong part → `INVALID_PARAMETER_VALUE`.
   *
   * @example
   * ```ts
   * const data = new Uint8Array(12 * 1024 * 1024);
   * const up = await client.createDirectUpload({ path: 'iris/1/weights.bin', size: data.length, partSize: 5 * 1024 * 1024 });
   * const parts = await Promise.all(
   *   up.credentials.map(async (c) => {
   *     const chunk = data.subarray((c.partNumber - 1) * up.partSize, c.partNumber * up.partSize);
   *     const res = await fetch(c.url, { method: 'PUT', body: chunk, headers: c.headers });
   *     return { partNumber: c.partNumber, etag: res.headers.get('etag')! };
   *   }),
   * );
   * await client.completeDirectUpload({ path: up.path, uploadId: up.uploadId!, parts });
   * ```
   */
  async completeDirectUpload(
    params: { path: string; uploadId: string; parts: readonly DirectUploadPart[] },
    options?: CallOptions,
  ): Promise<void> {
    await this.#invoke({ idempotent: false }, options, (o) =>
      ops.completeDirectUpload({
        ...o,
        body: { path: params.path, upload_id: params.uploadId, parts: params.parts.map((p) => ({ part_number: p.partNumber, etag: p.etag })) },
      }),
    );
  }

  /**
   * Aborts a multipart direct upload and discards its parts. An unknown upload →
   * `RESOURCE_DOES_NOT_EXIST`.
   *
   * @example
   * ```ts
   * const up = await client.createDirectUpload({ path: 'iris/1/weights.bin', size: 12 * 1024 * 1024, partSize: 5 * 1024 * 1024 });
   * await client.abortDirectUpload({ path: up.path, uploadId: up.uploadId! });
   * ```
   */
  async abortDirectUpload(params: { path: string; uploadId: string }, options?: CallOptions): Promise<void> {
    await this.#invoke({ idempotent: false }, options, (o) =>
      ops.abortDirectUpload({ ...o, body: { path: params.path, upload_id: params.uploadId } }),
    );
  }

  /**
   * Returns a presigned GET URL for the artifact file `path`, so that the bytes come straight from
   * S3; `Range` requests work on it. A missing file → `RESOURCE_DOES_NOT_EXIST`; a directory →
   * `INVALID_PARAMETER_VALUE`.
   *
   * @example
   * ```ts
   * const dl = await client.getDirectDownloadUrl({ path: 'iris/1/MLmodel' });
   * const text = await (await fetch(dl.url, { headers: dl.headers })).text();
   * ```
   */
  async getDirectDownloadUrl(params: { path: string }, options?: CallOptions): Promise<DirectDownload> {
    const data = await this.#invoke({ idempotent: true }, options, (o) => ops.getDirectDownloadUrl({ ...o, query: { path: params.path } }));
    return toDirectDownload(data);
  }
}
