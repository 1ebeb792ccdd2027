/**
 * The registry service: MLflow's model-registry semantics (mlflow/server/handlers.py handlers plus
 * mlflow/store/model_registry/sqlalchemy_store.py), over the RegistryStore port. It takes parsed
 * requests and returns response bodies in MLflow's wire format. No HTTP and no SQL here.
 */
import { MlflowError } from '../errors.js';
import type { Executor } from '../store/db.js';
import type { ReadDecision } from '../auth/search-filter.js';
import { isPromptValue, type RegistryQueries, type RegistryStore, type SearchSpec, type SqlCondition } from '../store/registry-store.js';
import type {
  CreateModelVersionResponse,
  GetModelVersionDownloadUriResponse,
  SearchModelVersionsResponse,
  TransitionModelVersionStageResponse,
  UpdateModelVersionResponse,
} from '../gen/api/types.gen.js';
import { RenderedJson, registeredModelJson, toModelVersion, type ModelVersionRow, type RegisteredModelRow } from './entities.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import { MV_MAX_RESULTS, RM_MAX_RESULTS } from './request-checks.js';
import { changedModelNames, type EventSink, type InlineEvents, type RegistryEvent } from './events.js';
import { modelKey, searchesKey, type ModelReadCache } from './read-cache.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';
import {
  createPageToken,
  isQueryingPrompts,
  parseModelVersionFilter,
  parseModelVersionOrderBy,
  parsePageToken,
  parseRegisteredModelFilter,
  parseRegisteredModelOrderBy,
  PROMPT_TAG_KEY,
  type Comparison,
} from './search.js';
import {
  canonicalStage,
  parseModelVersion,
  pyRepr,
  STAGES,
  validateAliasName,
  validateAliasNameNotReserved,
  validateArchiveExistingVersions,
  validateModelName,
  validateModelVersionSource,
  validateModelVersionTag,
  validateNewModelName,
  validateRegisteredModelTag,
  validateTagName,
} from './validation.js';

type Empty = Record<string, never>;
type Tag = { key?: string; value?: string };

const PROMPT_TYPE_TAG_KEY = '_mlflow_prompt_type';
const PROMPT_TEXT_TAG_KEY = 'mlflow.prompt.text';
const ACTIVE_STAGES = ['Staging', 'Production'];

// Read-cache keys under a model's name (read-cache.ts): each answer is kept as response JSON text.
const MODEL_KEY = 'model';
const LATEST_KEY = 'latest';
const versionKey = (version: number) => `v:${version}`;
const aliasKey = (alias: string) => `a:${alias}`;

type SearchInput = OperationInput<'searchRegisteredModels' | 'searchModelVersions'>;

/**
 * The read-cache key of a search answer: the request's parameters. Parsing them is deterministic,
 * so a cached answer stands for a request that passed validation; a hit skips the parsing too.
 */
const searchKey = (kind: 'models' | 'versions', input: SearchInput, maxResults: number, readable: ReadDecision | undefined) =>
  `${kind}:${JSON.stringify([input.filter ?? null, input.order_by ?? [], maxResults, input.page_token ?? '', readable ?? null])}`;

/**
 * Who is calling, as the HTTP edge resolved it (http/authn.ts): passed down explicitly, never read
 * from headers here. Empty when authentication is off.
 */
export interface Caller {
  /**
   * The request's workspace (http/workspace.ts): every read and write of the request is scoped to it.
   * Absent: `default` (workspaces off).
   */
  readonly workspace?: string;
  /** The authenticated user's name: the `actor` of the changes they make, and the creator who gets MANAGE. */
  readonly username?: string;
  /**
   * What the caller may list (auth/search-filter.ts), for the searches: applied in their SQL.
   * Undefined: everything (authentication off, or an admin).
   */
  readonly readable?: ReadDecision;
}

export const ANONYMOUS: Caller = Object.freeze({});

const wsOf = (caller: Caller): string => caller.workspace ?? DEFAULT_WORKSPACE;

/**
 * What a registry change does to grants (MLflow's after-request hooks, here in the change's own
 * transaction): the creator of a model or prompt gets MANAGE on it, a rename moves the grants on the
 * old name to the new one, a delete drops them. Bound to the AuthStore in server.ts; absent when
 * authentication is off.
 */
export interface GrantEffects {
  created(tx: Executor, ws: string, username: string, resourceType: 'registered_model' | 'prompt', name: string): Promise<void>;
  renamed(tx: Executor, ws: string, oldName: string, newName: string): Promise<void>;
  deleted(tx: Executor, ws: string, name: string): Promise<void>;
}

/** A model's latest version per stage, rendered (get-latest-versions and the `latest` alias). */
interface LatestVersion {
  stage: string;
  version: number;
  json: string;
}


export interface RegistryServiceOptions {
  events: EventSink;
  /** Grant effects of creates, renames and deletes (authentication on). */
  grants?: GrantEffects;
  /** MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: sources must match it when set. */
  sourceRegex?: RegExp;
  /**
   * Decides whether a host-addressed source (http(s)://host/…, mlflow-artifacts://host/…, ftp, …)
   * is acceptable; MLflow refuses hosts other than its own artifact storage. Returns an error
   * message to refuse, or undefined to accept.
   */
  checkSourceHost?: (source: string) => string | undefined;
  /** Turns a stored download location into the URI handed to clients (see artifacts/download-uri.ts). */
  downloadUri?: (location: string, workspace: string | undefined) => Promise<string> | string;
  /** Cache of the per-model reads (READ_CACHE_MB); see read-cache.ts for its consistency rules. */
  cache?: ModelReadCache;
  now?: () => number;
}

/** The response of get, create, update and rename: `{registered_model}`. */
function modelResponse(row: RegisteredModelRow): RenderedJson {
  return new RenderedJson(`{"registered_model":${registeredModelJson(row)}}`);
}

function notFoundModel(name: string): MlflowError {
  return MlflowError.notFound(`Registered Model with name=${name} not found`);
}

function notFoundVersion(name: string, version: number | string): MlflowError {
  return MlflowError.notFound(`Model Version (name=${name}, version=${version}) not found`);
}

/**
 * The next page's token. With max_results = -1 MLflow queries LIMIT 0 and, getting its 0 rows,
 * answers a token for offset -1 (which it then refuses); we answer the same token rather than fail.
 */
function pageToken(offset: number): string {
  return offset < 0 ? Buffer.from(`{"offset": ${offset}}`, 'utf8').toString('base64') : createPageToken(offset);
}

/** Collapses tags by key, the last value winning (MLflow builds a dict). */
function tagDict(tags: Tag[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of tags) m.set(t.key ?? '', t.value ?? '');
  return m;
}

function isPromptTags(tags: Map<string, string>): boolean {
  return (tags.get(PROMPT_TAG_KEY) ?? 'false').toLowerCase() === 'true';
}

function toConditions(filters: Comparison[], excludePrompts: boolean): SqlCondition[] {
  const out: SqlCondition[] = [];
  for (const f of filters) {
    if (f.type === 'tag') {
      // When prompts are excluded MLflow drops conditions on the prompt tag itself.
      if (excludePrompts && f.key === PROMPT_TAG_KEY) continue;
      out.push({ column: 'tag', tagKey: f.key, comparator: f.comparator, value: f.value });
      continue;
    }
    const column = ({ name: 'name', run_id: 'run_id', source_path: 'source', version_number: 'version' } as const)[
      f.key as 'name' | 'run_id' | 'source_path' | 'version_number'
    ];
    if (!column) throw MlflowError.invalid(`Invalid attribute name: ${f.key}`);
    out.push({ column, comparator: f.comparator, value: f.value });
  }
  return out;
}

/** The parts of Python's `urllib.parse.urlsplit` the source checks use. */
function urlSplit(input: string, allowFragments = true): { scheme: string; netloc: string; path: string } {
  let url = input.replace(/^[\x00-\x20]+/, '').replace(/[\t\r\n]/g, '');
  let scheme = '';
  const i = url.indexOf(':');
  if (i > 0 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(url.slice(0, i))) {
    scheme = url.slice(0, i).toLowerCase();
    url = url.slice(i + 1);
  }
  let netloc = '';
  if (url.startsWith('//')) {
    const rest = url.slice(2);
    const m = /[/?#]/.exec(rest);
    netloc = m ? rest.slice(0, m.index) : rest;
    url = m ? rest.slice(m.index) : '';
  }
  if (allowFragments && url.includes('#')) url = url.slice(0, url.indexOf('#'));
  if (url.includes('?')) url = url.slice(0, url.indexOf('?'));
  return { scheme, netloc, path: url };
}

/** A `models:/` URI as MLflow's `_parse_model_uri` reads it. */
type ModelUri =
  | { modelId: string }
  | { name: string; version: string }
  | { name: string; stage: string }
  | { name: string; latest: true }
  | { name: string; alias: string };

/** `_parse_model_uri` (mlflow/store/artifact/utils/models.py); undefined where it raises "Not a proper models:/ URI". */
function parseModelUri(uri: string): ModelUri | undefined {
  const { scheme, path } = urlSplit(uri, false);
  if (scheme !== 'models' || !path.startsWith('/') || path.length <= 1) return undefined;
  const parts = path.replace(/^\/+/, '').split('/');
  if (parts.length > 2 || parts[0]!.trim() === '') return undefined;
  if (parts.length === 2) {
    const [name, suffix] = parts as [string, string];
    if (suffix.trim() === '') return undefined;
    if (/^\p{Nd}+$/u.test(suffix)) return { name, version: suffix };
    if (suffix.toLowerCase() === 'latest') return { name, latest: true };
    return { name, stage: suffix };
  }
  if (path.includes('@')) {
    const at = parts[0]!.lastIndexOf('@');
    const alias = parts[0]!.slice(at + 1);
    if (alias.trim() === '') return undefined;
    return { name: parts[0]!.slice(0, at), alias };
  }
  return { modelId: parts[0]! };
}

/** `_raise_invalid_model_version_source`. */
function invalidSource(source: string, idName: 'run_id' | 'model_id'): MlflowError {
  return MlflowError.invalid(
    `Invalid model version source: '${source}'. The ${idName} request parameter must identify the resource that contains the source.`,
  );
}

/**
 * MLflow's `_validate_source_run` / `_validate_source_model` (handlers.py), as far as they need no
 * tracking store: local sources are refused and non-local ones checked for relative paths
 * (validation.ts); a `runs:/<run_id>/…` source must name the request's run_id; a `models:/<model_id>`
 * source must be the request's model_id; other `models:/` forms need no id; with a model_id, a
 * `runs:/` source is refused. MLflow also checks `mlflow-artifacts` sources against the run's (or
 * logged model's) artifact root in its tracking store; this registry has no tracking store and
 * accepts them (documented difference).
 */
function validateSourceLineage(source: string, runId: string, modelId: string): void {
  validateModelVersionSource(source, { isPrompt: false, modelId: modelId || undefined, runId: runId || undefined });
  const { scheme, netloc, path } = urlSplit(source);
  if (scheme === 'models') {
    if (netloc) throw invalidSource(source, 'model_id');
    const parsed = parseModelUri(source);
    if (!parsed) throw invalidSource(source, 'model_id');
    if ('modelId' in parsed && !(modelId && parsed.modelId === modelId)) throw invalidSource(source, 'model_id');
    return;
  }
  if (scheme === 'runs') {
    if (modelId) throw invalidSource(source, 'model_id');
    if (netloc) throw invalidSource(source, 'run_id');
    const sourceRunId = path.slice(1).split('/')[0];
    if (!(runId && sourceRunId === runId)) throw invalidSource(source, 'run_id');
  }
}

export class RegistryService {
  private readonly now: () => number;

  constructor(
    private readonly store: RegistryStore,
    private readonly opts: RegistryServiceOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Runs `fn` in a transaction and records the events it returns in that same transaction, with the
   * caller as their actor.
   */
  private async write<T>(caller: Caller, fn: (q: RegistryQueries, events: RegistryEvent[], now: number, tx: Executor) => Promise<T>): Promise<T> {
    let changed: string[] = [];
    const ws = wsOf(caller);
    try {
      return await this.store.transaction(ws, async (q, tx) => {
        const events: RegistryEvent[] = [];
        const now = this.now();
        const result = await fn(q, events, now, tx);
        if (events.length > 0) {
          // Read-cache keys of the changed models (also what other replicas hear).
          changed = changedModelNames(events).map((name) => modelKey(ws, name));
          await this.opts.events.record(tx, events, now, changed, caller.username ?? null, ws);
        }
        return result;
      });
    } finally {
      // After COMMIT and before the response: this replica never serves its own write stale. Also after a
      // failure: a connection lost during COMMIT leaves the outcome unknown (the write may have landed).
      if (changed.length > 0) this.opts.cache?.invalidate(changed);
    }
  }

  /**
   * A write that is ONE statement, one round trip to the database: `run` hands `events` to the store,
   * whose statement makes the change and records them (EventSink.inline). With `then` (the grant
   * effects of a creation) both run in one transaction instead.
   */
  private async writeOne<T>(
    caller: Caller,
    now: number,
    events: RegistryEvent[],
    run: (q: RegistryQueries, ev: InlineEvents) => Promise<T>,
    then?: (tx: Executor) => Promise<void>,
  ): Promise<T> {
    const ws = wsOf(caller);
    // Read-cache keys of the changed models (also what other replicas hear).
    const changed = changedModelNames(events).map((name) => modelKey(ws, name));
    const ev = this.opts.events.inline(events, now, changed, caller.username ?? null, ws);
    try {
      if (!then) return await run(this.store.single(ws), ev);
      return await this.store.transaction(ws, async (q, tx) => {
        const result = await run(q, ev);
        await then(tx);
        return result;
      });
    } finally {
      // As in `write`: after the outcome, known or not, and before the response.
      this.opts.cache?.invalidate(changed);
    }
  }

  /**
   * Reads an answer about model `name` through the read cache, when there is one. `load` gets the
   * epoch to hand to `versionText`; `textBytes` says what the answer's own text is charged (see
   * ModelReadCache.put).
   */
  private cached<T>(ws: string, name: string, key: string, load: (epoch: number) => Promise<T | undefined>, textBytes?: (value: T) => number): Promise<T | undefined> {
    if (!this.opts.cache) return load(0);
    return this.opts.cache.getOrLoad(modelKey(ws, name), key, load, textBytes);
  }

  /** A search answer of workspace `ws`, through the read cache (kept under the workspace's search pseudo-model). */
  private cachedSearch(ws: string, key: string, load: () => Promise<string>): Promise<string | undefined> {
    if (!this.opts.cache) return load();
    return this.opts.cache.getOrLoad(searchesKey(ws), key, load);
  }

  /**
   * A version's JSON (get model version's answer), one copy of which the read cache shares between
   * that answer, the version's aliases and its model's latest versions (they render it identically).
   * A text the cache does not keep is added to `unshared`, for another answer that holds it to be charged.
   */
  private versionText(ws: string, epoch: number, row: ModelVersionRow, unshared?: { bytes: number }): string {
    const json = JSON.stringify(toModelVersion(row, true));
    const kept = this.opts.cache?.share(epoch, modelKey(ws, row.name), versionKey(row.version), json);
    if (kept !== undefined) return kept;
    if (unshared) unshared.bytes += json.length;
    return json;
  }

  /** The latest version per stage of a model, or undefined when the model does not exist. */
  private latestVersions(ws: string, name: string): Promise<LatestVersion[] | undefined> {
    const unshared = { bytes: 0 };
    return this.cached(
      ws,
      name,
      LATEST_KEY,
      async (epoch) => {
        const { exists, versions } = await this.store.read(ws).getLatestVersions(name);
        if (!exists) return undefined;
        return versions.map((v) => ({
          stage: v.current_stage ?? 'None',
          version: v.version,
          json: this.versionText(ws, epoch, { ...v, name }, unshared),
        }));
      },
      () => unshared.bytes,
    );
  }

  private async fullModel(q: RegistryQueries, name: string): Promise<RegisteredModelRow> {
    const row = await q.getRegisteredModel(name);
    if (!row) throw notFoundModel(name);
    return row;
  }

  // ---- registered models ---------------------------------------------------------------------

  async createRegisteredModel(input: OperationInput<'createRegisteredModel'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    validateModelName(name);
    const tagsIn = (input.tags ?? []);
    for (const t of tagsIn) validateRegisteredModelTag(t.key ?? '', t.value ?? '');
    const tags = tagDict(tagsIn);
    const description = (input.description ?? '');
    const isPrompt = isPromptTags(tags);
    try {
      const now = this.now();
      const publicTags = Object.fromEntries([...tags].filter(([k]) => !isPrompt || (k !== PROMPT_TAG_KEY && k !== PROMPT_TYPE_TAG_KEY)));
      const event: RegistryEvent = { entity: isPrompt ? 'prompt' : 'registered_model', action: 'created', name, data: { name, tags: publicTags, description }, webhook: true };
      const { grants } = this.opts;
      const username = caller.username;
      await this.writeOne(
        caller,
        now,
        [event],
        (q, ev) => q.insertRegisteredModel(name, description, [...tags], now, ev),
        // The creator gets MANAGE on it, in the same transaction (MLflow: set_can_manage_registered_model_permission).
        username !== undefined && grants ? (tx) => grants.created(tx, wsOf(caller), username, isPrompt ? 'prompt' : 'registered_model', name) : undefined,
      );
      return modelResponse({ name, creation_time: now, last_updated_time: now, description, tags: [...tags], aliases: null, latest: null });
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const existing = await this.store.read(wsOf(caller)).modelPromptTag(name);
        const oldEntity = existing.promptTag !== undefined ? 'Prompt' : 'Registered Model';
        const newEntity = tags.has(PROMPT_TAG_KEY) ? 'Prompt' : 'Registered Model';
        if (oldEntity !== newEntity) {
          throw MlflowError.alreadyExists(
            `Tried to create a ${newEntity.toLowerCase()} with name ${pyRepr(name)}, but the name is already taken by a ` +
              `${oldEntity.toLowerCase()}. MLflow does not allow creating a model and a prompt with the same name.`,
          );
        }
        throw MlflowError.alreadyExists(`${newEntity} (name=${name}) already exists.`);
      }
      throw err;
    }
  }

  async getRegisteredModel(input: OperationInput<'getRegisteredModel'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    validateModelName(name);
    const ws = wsOf(caller);
    const model = await this.cached(ws, name, MODEL_KEY, async () => {
      const row = await this.store.read(ws).getRegisteredModel(name);
      return row && registeredModelJson(row);
    });
    if (model === undefined) throw notFoundModel(name);
    return new RenderedJson(`{"registered_model":${model}}`);
  }

  async updateRegisteredModel(input: OperationInput<'updateRegisteredModel'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    const description = (input.description ?? '');
    validateModelName(name);
    const row = await this.write(caller, async (q, events, now) => {
      const before = await q.getRegisteredModel(name);
      if (!before) throw notFoundModel(name);
      await q.updateRegisteredModelDescription(name, description, now);
      events.push({
        entity: 'registered_model',
        action: 'updated',
        name,
        data: { name, description },
        before: { description: before.description },
        webhook: false,
      });
      return this.fullModel(q, name);
    });
    return modelResponse(row);
  }

  async renameRegisteredModel(input: OperationInput<'renameRegisteredModel'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    const newName = (input.new_name ?? '');
    validateNewModelName(newName);
    validateModelName(name);
    try {
      const row = await this.write(caller, async (q, events, now, tx) => {
        if (!(await q.renameRegisteredModel(name, newName, now))) throw notFoundModel(name);
        // Grants follow the model (MLflow: rename_registered_model_permission).
        await this.opts.grants?.renamed(tx, wsOf(caller), name, newName);
        events.push({ entity: 'registered_model', action: 'renamed', name: newName, data: { name: newName }, before: { name }, webhook: false });
        return this.fullModel(q, newName);
      });
      return modelResponse(row);
    } catch (err) {
      if (err instanceof MlflowError && err.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        throw MlflowError.alreadyExists(`Registered Model (name=${newName}) already exists. Error: ${err.message}`);
      }
      throw err;
    }
  }

  async deleteRegisteredModel(input: OperationInput<'deleteRegisteredModel'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    validateModelName(name);
    await this.write(caller, async (q, events, _now, tx) => {
      if (!(await q.deleteRegisteredModel(name))) throw notFoundModel(name);
      // A future model of the same name must not inherit them (MLflow: delete_can_manage_registered_model_permission).
      await this.opts.grants?.deleted(tx, wsOf(caller), name);
      events.push({ entity: 'registered_model', action: 'deleted', name, data: { name }, webhook: false });
    });
    return {};
  }

  async searchRegisteredModels(input: OperationInput<'searchRegisteredModels'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const maxResults = (input.max_results ?? 100);
    if (maxResults > RM_MAX_RESULTS) {
      throw MlflowError.invalid(
        `Invalid value for request parameter max_results. It must be at most ${RM_MAX_RESULTS}, but got value ${maxResults}`,
      );
    }
    const readable = caller.readable;
    const ws = wsOf(caller);
    const body = await this.cachedSearch(ws, searchKey('models', input, maxResults, readable), async () => {
      const filters = parseRegisteredModelFilter(input.filter);
      const order = parseRegisteredModelOrderBy((input.order_by ?? []));
      const token = (input.page_token ?? '');
      const offset = token ? parsePageToken(token) : 0;
      const limit = maxResults + 1;
      // PostgreSQL refuses a negative LIMIT; MLflow reports that database error as BAD_REQUEST.
      if (limit < 0) throw new MlflowError('BAD_REQUEST', 'LIMIT must not be negative');
      const excludePrompts = !isQueryingPrompts(filters);
      return this.searchRegisteredModelsJson(ws, { conditions: toConditions(filters, excludePrompts), excludePrompts, order, limit, offset, readable }, maxResults);
    });
    return new RenderedJson(body!);
  }

  /** SearchRegisteredModelsResponse as JSON text (see getRegisteredModel); both fields omitted when unset. */
  private async searchRegisteredModelsJson(ws: string, spec: SearchSpec, maxResults: number): Promise<string> {
    const { limit, offset } = spec;
    let found: number;
    let page: string[];
    // Names first, then the models through the cache (one query for those it lacks): worth it only while
    // the cache is hit; otherwise one query for the whole page (on a registry far larger than the budget
    // the two queries made searches half as fast as no cache at all).
    if (this.opts.cache?.paying) {
      const names = await this.store.read(ws).searchRegisteredModelNames(spec);
      found = names.length;
      page = await this.modelsByName(ws, names.slice(0, Math.max(0, maxResults)));
    } else {
      const rows = await this.store.read(ws).searchRegisteredModels(spec);
      found = rows.length;
      page = rows.slice(0, Math.max(0, maxResults)).map(registeredModelJson);
    }
    const fields: string[] = [];
    if (page.length > 0) fields.push(`"registered_models":[${page.join(',')}]`);
    if (found === limit) fields.push(`"next_page_token":${JSON.stringify(pageToken(offset + maxResults))}`);
    return `{${fields.join(',')}}`;
  }

  /**
   * The registered models of a search page as JSON, from the read cache, with one query for those it
   * lacks. A model deleted or renamed since the page was chosen is left out of the page (as if the
   * search had run a moment later).
   */
  private async modelsByName(ws: string, names: string[]): Promise<string[]> {
    const keys = ws === DEFAULT_WORKSPACE ? names : names.map((n) => modelKey(ws, n));
    const nameOf = (key: string) => (ws === DEFAULT_WORKSPACE ? key : key.slice(ws.length + 1));
    const page = await this.opts.cache!.getOrLoadMany(keys, MODEL_KEY, async (missing) =>
      new Map((await this.store.read(ws).getRegisteredModels(missing.map(nameOf))).map((row) => [modelKey(ws, row.name), registeredModelJson(row)])),
    );
    return page.filter((json) => json !== undefined);
  }

  async getLatestVersions(input: OperationInput<'getLatestVersions'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    validateModelName(name);
    const latest = await this.latestVersions(wsOf(caller), name);
    if (!latest) throw notFoundModel(name);
    const requested = (input.stages ?? []);
    const stages = new Set((requested.length === 0 ? STAGES : requested).map((s) => canonicalStage(s)));
    const mvs = latest.filter((v) => stages.has(v.stage)).map((v) => v.json);
    // GetLatestVersionsResponse; model_versions omitted when empty.
    return new RenderedJson(mvs.length > 0 ? `{"model_versions":[${mvs.join(',')}]}` : '{}');
  }

  async setRegisteredModelTag(input: OperationInput<'setRegisteredModelTag'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const key = (input.key ?? '');
    const value = (input.value ?? '');
    validateModelName(name);
    validateRegisteredModelTag(key, value);
    // Both variants: the statement keeps the one that applies (a prompt's tags go to webhooks).
    const event = (prompt: boolean): RegistryEvent => ({
      entity: prompt ? 'prompt_tag' : 'registered_model_tag',
      action: 'set',
      name,
      data: { name, key, value },
      beforeFromChange: true,
      webhook: prompt,
      when: prompt ? 'prompt' : 'not_prompt',
    });
    const now = this.now();
    const res = await this.writeOne(caller, now, [event(true), event(false)], (q, ev) => q.setRegisteredModelTag(name, key, value, ev));
    if (!res) throw notFoundModel(name);
    return {};
  }

  async deleteRegisteredModelTag(input: OperationInput<'deleteRegisteredModelTag'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const key = (input.key ?? '');
    validateModelName(name);
    validateTagName(key);
    await this.write(caller, async (q, events) => {
      const { exists, deleted, promptTag } = await q.deleteRegisteredModelTag(name, key);
      if (!exists) throw notFoundModel(name);
      const prompt = isPromptValue(promptTag);
      events.push({
        entity: prompt ? 'prompt_tag' : 'registered_model_tag',
        action: 'deleted',
        name,
        data: { name, key },
        before: deleted ? { value: deleted.value } : null,
        webhook: prompt,
      });
    });
    return {};
  }

  // ---- aliases -------------------------------------------------------------------------------

  async setRegisteredModelAlias(input: OperationInput<'setRegisteredModelAlias'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const alias = (input.alias ?? '');
    const versionStr = (input.version ?? '');
    validateModelName(name);
    validateAliasName(alias);
    validateAliasNameNotReserved(alias);
    const version = parseModelVersion(versionStr);
    const event = (prompt: boolean): RegistryEvent => ({
      entity: prompt ? 'prompt_alias' : 'model_version_alias',
      action: 'created',
      name,
      alias,
      version,
      data: { name, alias, version: versionStr },
      beforeFromChange: true,
      webhook: true,
      when: prompt ? 'prompt' : 'not_prompt',
    });
    const res = await this.writeOne(caller, this.now(), [event(true), event(false)], (q, ev) => q.setAlias(name, alias, version, ev));
    if (!res) throw notFoundVersion(name, version);
    return {};
  }

  async deleteRegisteredModelAlias(input: OperationInput<'deleteRegisteredModelAlias'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const alias = (input.alias ?? '');
    validateModelName(name);
    validateAliasName(alias);
    const event = (prompt: boolean): RegistryEvent => ({
      entity: prompt ? 'prompt_alias' : 'model_version_alias',
      action: 'deleted',
      name,
      alias,
      data: { name, alias },
      beforeFromChange: true,
      webhook: true,
      when: prompt ? 'prompt' : 'not_prompt',
    });
    const { exists } = await this.writeOne(caller, this.now(), [event(true), event(false)], (q, ev) => q.deleteAlias(name, alias, ev));
    if (!exists) throw notFoundModel(name);
    return {};
  }

  async getModelVersionByAlias(input: OperationInput<'getModelVersionByAlias'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    const alias = (input.alias ?? '');
    validateModelName(name);
    validateAliasName(alias);
    const ws = wsOf(caller);
    if (alias.toLowerCase() === 'latest') {
      const latest = await this.latestVersions(ws, name);
      if (!latest) throw notFoundModel(name);
      if (latest.length === 0) throw MlflowError.notFound(`Latest version not found for model ${name}.`);
      const max = latest.reduce((a, b) => (b.version > a.version ? b : a));
      return new RenderedJson(`{"model_version":${max.json}}`);
    }
    // Only a found version is cached; the three failures are answered from the database each time.
    let failure: MlflowError | undefined;
    const unshared = { bytes: 0 };
    const version = await this.cached(
      ws,
      name,
      aliasKey(alias),
      async (epoch) => {
        const { exists, aliasVersion, row } = await this.store.read(ws).getModelVersionByAlias(name, alias);
        if (!exists) failure = notFoundModel(name);
        else if (aliasVersion === undefined) failure = MlflowError.invalid(`Registered model alias ${alias} not found.`);
        else if (!row) failure = notFoundVersion(name, aliasVersion);
        return row && this.versionText(ws, epoch, row, unshared);
      },
      () => unshared.bytes,
    );
    if (version === undefined) throw failure!;
    return new RenderedJson(`{"model_version":${version}}`);
  }

  // ---- model versions ------------------------------------------------------------------------

  /**
   * MLflow's `_resolve_registered_model_source_lineage`: a `models:/<name>/<version|stage|latest>`
   * or `models:/<name>@<alias>` source is pinned to `models:/<name>/<version>` of a live version,
   * whose run_id it inherits unless the request sets one (and a run_id or model_id that the request
   * sets must match that version's); its artifacts are where that version's are (the store's
   * storage_location). Other sources are returned as they are.
   */
  private async resolveSourceLineage(
    q: RegistryQueries,
    source: string,
    runId: string,
    modelId: string,
    has: { runId: boolean; modelId: boolean },
  ): Promise<{ source: string; storageLocation: string; runId: string; modelId: string }> {
    const same = { source, storageLocation: source, runId, modelId };
    const { scheme, netloc } = urlSplit(source);
    if (scheme !== 'models') return same;
    if (netloc) {
      throw MlflowError.invalid(`Invalid model version source: '${source}'. Registered model sources must use the active model registry.`);
    }
    const parsed = parseModelUri(source);
    if (!parsed) throw invalidSource(source, 'model_id');
    // models:/<model_id> names a LoggedModel: it is checked against the request's model_id later.
    if ('modelId' in parsed) return same;
    const name = parsed.name;
    validateModelName(name);
    const prompt = await q.modelPromptTag(name);
    if (!prompt.exists) throw notFoundModel(name);
    if (isPromptValue(prompt.promptTag)) {
      throw MlflowError.invalid(`Invalid model version source: '${source}'. Prompt versions cannot be used as model version sources.`);
    }
    let version: number;
    if ('version' in parsed) {
      version = parseModelVersion(parsed.version);
    } else if ('alias' in parsed) {
      // get_model_version_by_alias, which also knows the reserved alias "latest".
      validateAliasName(parsed.alias);
      if (parsed.alias.toLowerCase() === 'latest') {
        const { versions } = await q.getLatestVersions(name);
        if (versions.length === 0) throw MlflowError.notFound(`Latest version not found for model ${name}.`);
        version = Math.max(...versions.map((v) => v.version));
      } else {
        const a = await q.getAlias(name, parsed.alias);
        if (a.version === undefined) throw MlflowError.invalid(`Registered model alias ${parsed.alias} not found.`);
        version = a.version;
      }
    } else {
      // _get_latest_model_version: the highest version, of one stage or of all. MLflow raises the
      // "No versions" error without a code (500); we answer 400 with its text.
      const stage = 'stage' in parsed ? parsed.stage : undefined;
      const canonical = stage === undefined ? undefined : canonicalStage(stage);
      const { versions } = await q.getLatestVersions(name);
      const candidates = versions.filter((v) => canonical === undefined || v.current_stage === canonical);
      if (candidates.length === 0) {
        throw MlflowError.invalid(`No versions of model with name '${name}'${stage === undefined ? '' : ` and stage '${stage}'`} found`);
      }
      version = Math.max(...candidates.map((v) => v.version));
    }
    const src = await q.getModelVersion(name, version);
    if (!src) throw notFoundVersion(name, version);
    // A version of this registry never carries a model_id.
    if ((has.runId && runId !== (src.run_id ?? '')) || (has.modelId && modelId !== '')) {
      throw MlflowError.invalid(
        `Invalid model version source: '${source}'. The run_id and model_id request parameters must match the referenced model version.`,
      );
    }
    return {
      source: `models:/${name}/${src.version}`,
      storageLocation: (src.storage_location || src.source) ?? '',
      runId: has.runId ? runId : (src.run_id ?? ''),
      modelId: has.modelId ? modelId : '',
    };
  }

  /**
   * Checks run in MLflow's order (handlers.py `_create_model_version`, then the store): source regex,
   * prompt placeholder, host-addressed schemes, `models:/` lineage (reads), the source against its
   * run_id or model_id, the model name, the tags, and finally the model's existence.
   */
  async createModelVersion(input: OperationInput<'createModelVersion'>, caller: Caller = ANONYMOUS): Promise<CreateModelVersionResponse> {
    const name = (input.name ?? '');
    const tagsIn = (input.tags ?? []);
    const tags = tagDict(tagsIn);
    const isPrompt = isPromptTags(tags);
    const requestSource = (input.source ?? '');
    const regex = this.opts.sourceRegex;
    if (isPrompt) {
      validateModelVersionSource(requestSource, { isPrompt, regex });
    } else if (requestSource && regex && !new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')).test(requestSource)) {
      throw MlflowError.invalid(`Invalid model version source: '${requestSource}'.`);
    }
    const refusal = this.opts.checkSourceHost?.(requestSource);
    if (refusal) throw MlflowError.invalid(refusal);
    const description = (input.description ?? '');
    const runLink = (input.run_link ?? '');

    const ws = wsOf(caller);
    let resolved = { source: requestSource, storageLocation: requestSource, runId: (input.run_id ?? ''), modelId: (input.model_id ?? '') };
    if (!isPrompt) {
      // Reads (for a models:/ source only), before the write's one statement.
      resolved = await this.resolveSourceLineage(this.store.read(ws), requestSource, resolved.runId, resolved.modelId, {
        runId: input.run_id !== undefined,
        modelId: input.model_id !== undefined,
      });
      validateSourceLineage(resolved.source, resolved.runId, resolved.modelId);
    }
    validateModelName(name);
    for (const t of tagsIn) validateModelVersionTag(t.key ?? '', t.value ?? '');
    // The statement fills in the version it creates (pendingVersion; `version` stays the key after `name`).
    let event: RegistryEvent;
    if (isPrompt) {
      const t = Object.fromEntries(tags);
      const template = t[PROMPT_TEXT_TAG_KEY] ?? null;
      delete t[PROMPT_TEXT_TAG_KEY];
      delete t[PROMPT_TAG_KEY];
      delete t[PROMPT_TYPE_TAG_KEY];
      event = { entity: 'prompt_version', action: 'created', name, data: { name, version: '', template, tags: t, description: description || null }, pendingVersion: true, webhook: true };
    } else {
      event = {
        entity: 'model_version',
        action: 'created',
        name,
        data: { name, version: '', source: resolved.source, run_id: resolved.runId || null, tags: Object.fromEntries(tags), description: description || null },
        pendingVersion: true,
        webhook: true,
      };
    }
    const now = this.now();
    const row = await this.writeOne(caller, now, [event], (q, ev) =>
      q.insertModelVersion(name, { source: resolved.source, storageLocation: resolved.storageLocation, runId: resolved.runId, runLink, description, tags: [...tags], now }, ev),
    );
    if (!row) throw notFoundModel(name);
    return { model_version: toModelVersion({ ...row, tags: [...tags] }, true) };
  }

  private async liveVersion(q: RegistryQueries, name: string, version: number): Promise<ModelVersionRow> {
    const row = await q.getModelVersion(name, version);
    if (!row) throw notFoundVersion(name, version);
    return row;
  }

  async updateModelVersion(input: OperationInput<'updateModelVersion'>, caller: Caller = ANONYMOUS): Promise<UpdateModelVersionResponse> {
    const name = (input.name ?? '');
    const description = input.description ?? null;
    validateModelName(name);
    const version = parseModelVersion((input.version ?? ''));
    const row = await this.write(caller, async (q, events, now) => {
      const before = await this.liveVersion(q, name, version);
      await q.updateModelVersionDescription(name, version, description, now);
      events.push({
        entity: 'model_version',
        action: 'updated',
        name,
        version,
        data: { name, version: String(version), description },
        before: { description: before.description },
        webhook: false,
      });
      return this.liveVersion(q, name, version);
    });
    return { model_version: toModelVersion(row, true) };
  }

  async transitionModelVersionStage(input: OperationInput<'transitionModelVersionStage'>, caller: Caller = ANONYMOUS): Promise<TransitionModelVersionStageResponse> {
    const name = (input.name ?? '');
    const rawStage = (input.stage ?? '');
    const stage = canonicalStage(rawStage);
    const archive = (input.archive_existing_versions === true);
    validateArchiveExistingVersions(rawStage, archive);
    validateModelName(name);
    const version = parseModelVersion((input.version ?? ''));
    const row = await this.write(caller, async (q, events, now) => {
      const before = await this.liveVersion(q, name, version);
      const res = await q.transitionStage(name, version, stage, archive && ACTIVE_STAGES.includes(stage), now);
      if (!res) throw notFoundVersion(name, version);
      events.push({
        entity: 'model_version',
        action: 'stage_transitioned',
        name,
        version,
        data: { name, version: String(version), stage, archive_existing_versions: archive, archived_versions: res.archived.map(String) },
        before: { stage: before.current_stage },
        webhook: false,
      });
      return this.liveVersion(q, name, version);
    });
    return { model_version: toModelVersion(row, true) };
  }

  async deleteModelVersion(input: OperationInput<'deleteModelVersion'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const version = parseModelVersion((input.version ?? ''));
    validateModelName(name);
    await this.write(caller, async (q, events, now) => {
      const res = await q.softDeleteModelVersion(name, version, now);
      if (!res) throw notFoundVersion(name, version);
      events.push({
        entity: 'model_version',
        action: 'deleted',
        name,
        version,
        data: { name, version: String(version), removed_aliases: res.aliases },
        webhook: false,
      });
    });
    return {};
  }

  async getModelVersion(input: OperationInput<'getModelVersion'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const name = (input.name ?? '');
    validateModelName(name);
    const version = parseModelVersion((input.version ?? ''));
    const ws = wsOf(caller);
    const json = await this.cached(ws, name, versionKey(version), async (epoch) => {
      const row = await this.store.read(ws).getModelVersion(name, version);
      return row && this.versionText(ws, epoch, row);
    });
    if (json === undefined) throw notFoundVersion(name, version);
    return new RenderedJson(`{"model_version":${json}}`);
  }

  async searchModelVersions(input: OperationInput<'searchModelVersions'>, caller: Caller = ANONYMOUS): Promise<RenderedJson> {
    const maxResults = (input.max_results ?? MV_MAX_RESULTS);
    if (maxResults < 1) {
      throw MlflowError.invalid(`Invalid value for max_results. It must be a positive integer, but got ${maxResults}`);
    }
    const readable = caller.readable;
    const ws = wsOf(caller);
    const body = await this.cachedSearch(ws, searchKey('versions', input, maxResults, readable), async () => {
      const filters = parseModelVersionFilter(input.filter);
      const order = parseModelVersionOrderBy((input.order_by ?? []));
      const token = (input.page_token ?? '');
      const offset = token ? parsePageToken(token) : 0;
      const excludePrompts = !isQueryingPrompts(filters);
      const rows = await this.store.read(ws).searchModelVersions({
        conditions: toConditions(filters, excludePrompts),
        excludePrompts,
        order,
        limit: maxResults + 1,
        offset,
        readable,
      });
      const out: SearchModelVersionsResponse = {};
      const page = rows.slice(0, maxResults);
      // Search results never carry aliases in MLflow.
      if (page.length > 0) out.model_versions = page.map((r) => toModelVersion(r, false));
      if (rows.length === maxResults + 1) out.next_page_token = createPageToken(offset + maxResults);
      return JSON.stringify(out);
    });
    return new RenderedJson(body!);
  }

  async getModelVersionDownloadUri(input: OperationInput<'getModelVersionDownloadUri'>, caller: Caller = ANONYMOUS): Promise<GetModelVersionDownloadUriResponse> {
    const name = (input.name ?? '');
    validateModelName(name);
    const version = parseModelVersion((input.version ?? ''));
    const location = await this.store.read(wsOf(caller)).downloadUri(name, version);
    if (location === undefined) throw notFoundVersion(name, version);
    const uri = this.opts.downloadUri ? await this.opts.downloadUri(location, caller.workspace) : location;
    return { artifact_uri: uri };
  }

  async setModelVersionTag(input: OperationInput<'setModelVersionTag'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const versionStr = (input.version ?? '');
    const key = (input.key ?? '');
    const value = (input.value ?? '');
    validateModelName(name);
    const version = parseModelVersion(versionStr);
    validateModelVersionTag(key, value);
    const event = (prompt: boolean): RegistryEvent => ({
      entity: prompt ? 'prompt_version_tag' : 'model_version_tag',
      action: 'set',
      name,
      version,
      data: { name, version: versionStr, key, value },
      beforeFromChange: true,
      webhook: true,
      when: prompt ? 'prompt' : 'not_prompt',
    });
    const res = await this.writeOne(caller, this.now(), [event(true), event(false)], (q, ev) => q.setModelVersionTag(name, version, key, value, ev));
    if (!res) throw notFoundVersion(name, version);
    return {};
  }

  async deleteModelVersionTag(input: OperationInput<'deleteModelVersionTag'>, caller: Caller = ANONYMOUS): Promise<Empty> {
    const name = (input.name ?? '');
    const versionStr = (input.version ?? '');
    const key = (input.key ?? '');
    validateModelName(name);
    const version = parseModelVersion(versionStr);
    validateTagName(key);
    await this.write(caller, async (q, events) => {
      const { exists, deleted, promptTag } = await q.deleteModelVersionTag(name, version, key);
      if (!exists) throw notFoundVersion(name, version);
      const prompt = isPromptValue(promptTag);
      events.push({
        entity: prompt ? 'prompt_version_tag' : 'model_version_tag',
        action: 'deleted',
        name,
        version,
        data: { name, version: versionStr, key },
        before: deleted ? { value: deleted.value } : null,
        webhook: true,
      });
    });
    return {};
  }
}
