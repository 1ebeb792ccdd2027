/**
 * Authentication and authorization at the HTTP edge (AUTH=basic; not mounted at all with AUTH=none).
 *
 * One middleware for every route, before the route's handler runs:
 *   1. the route is the one Hono matched (hono/route `matchedRoutes`), and its rule is the contract's
 *      `x-mlflow-permission` from the generated table (operations and routesOutsideOperations): one
 *      table for /api, /ajax-api, artifacts, webhooks, history, docs;
 *   2. `public` rules pass without login (MLflow's _UNPROTECTED_PATH_PREFIXES);
 *   3. otherwise credentials are required: HTTP Basic, checked through the credential cache (unchanged
 *      cost), or `Bearer <token>` (MLflow's MLFLOW_TRACKING_TOKEN): a personal access token (`mlrt_…`,
 *      auth/tokens.ts) or, with AUTH_OIDC_ISSUER, an OpenID Connect JWT (auth/oidc.ts), each through its
 *      own cache. Missing or wrong, whatever the scheme: 401 with MLflow's body and
 *      `WWW-Authenticate: Basic realm="mlflow"` (MLflow's answer to any credential it refuses);
 *   4. admins (users.is_admin) pass every rule, as in MLflow (validators are skipped for them);
 *   5. the rule decides, fail closed: no matched route, no rule, or a rule this code does not know is
 *      403 `Permission denied` (MLflow 3.17's MLFLOW_BASIC_AUTH_FAIL_CLOSED, on by default).
 *
 * A rule naming its resource (`name: {in, field}`) is read from the request after the same parsing the
 * handler does (http/request.ts parseRequest); the parsed request is stashed on the context and the
 * route hands that very object to its handler (no second parse). Artifact paths are canonicalised
 * exactly as the artifact handlers do (artifacts/paths.ts): what is judged is what is served.
 *
 * The permission decision reads the user's grants in the workspace from the permission-decision cache
 * (auth/grant-cache.ts: exact on this replica and, through the change feed, across replicas), and
 * whether the model exists and is a prompt through the read cache (exact by the same rules); without
 * the caches it is one SQL round trip (AuthStore.registryAccess, grantsFor). Kept answers are used once
 * the change feed has caught up since the request arrived (at most one round trip per request, none when
 * another request's catch-up already covers it); a read of a model is decided first and confirmed with
 * the catch-up its handler makes anyway (`speculative`).
 */
import { rawParam } from './handlers/artifacts.js';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { OperationId, OperationSpec, PermissionRule } from '../gen/operations.gen.js';
import type { LimitsConfig } from '../config.js';
import { registryAccessFrom, type AuthStore, type AuthUser, type RegistryAccess } from '../auth/store.js';
import { filterSelectsRun, promptMarker, sourceModelName } from '../auth/registry-extras.js';
import type { GrantCache, UserGrants } from '../auth/grant-cache.js';
import type { Authenticator } from '../auth/credentials.js';
import { parseAuthorization } from '../auth/credentials.js';
import { looksLikeAccessToken, type TokenAuthenticator } from '../auth/tokens.js';
import type { OidcVerifier } from '../auth/oidc.js';
import {
  ACTION_NOT_DENIED,
  authorize,
  canCreateInWorkspace,
  getPermission,
  resourcePermission,
  RESOURCE_TYPE,
  type Action,
  type Grant,
  type Permission,
  type PermissionPolicy,
  type Requirement,
} from '../auth/permissions.js';
import { readDecision, type ReadDecision } from '../auth/search-filter.js';
import { parseDecodedPath, parseEncodedPath, ROOT, type ArtifactPath } from '../artifacts/paths.js';
import { parseRequest, type OperationRequest, type Req } from './request.js';
import { setCurrentUser, currentUser } from './auth-context.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';
import { ANONYMOUS, type Caller } from '../registry/service.js';
import { workspaceOf } from './workspace.js';

/** Where the change feed is (events/listener.ts): marks taken when a request arrives, and catching up since. */
export interface FeedPosition {
  mark(): number;
  caughtUpSince(mark: number): boolean;
  catchUpSince(mark: number): Promise<boolean>;
}

/** Resolves true once kept answers may be used for this request (asked lazily, at most one catch-up per request). */
type Fresh = () => Promise<boolean>;
const ALWAYS_FRESH: Fresh = () => Promise.resolve(true);

/** A route the server serves, with the rule that guards it (op: undefined for the docs/spec routes). */
export interface GuardedRoute {
  rule: PermissionRule;
  op: OperationSpec | undefined;
}

/** The key of a registered route: its method and its path in Hono's syntax, as `matchedRoutes` reports them. */
export const routeKey = (method: string, honoPath: string) => `${method} ${honoPath}`;

export interface AuthnDeps {
  store: AuthStore;
  authenticator: Authenticator<AuthUser>;
  policy: PermissionPolicy;
  /**
   * Whether the auth tables live in the registry's database: then, without a decision cache,
   * AuthStore.registryAccess classifies the model and loads the grants in one statement.
   */
  sameDatabase: boolean;
  /**
   * Whether model `name` exists in workspace `ws` and is a prompt (exact: through the read cache when
   * there is one, whose kept answers it uses only when `fresh`, see `catchUp`).
   */
  classifyModel?: (ws: string, name: string, fresh?: boolean) => Promise<{ exists: boolean; isPrompt: boolean }>;
  /** classifyModel's kept answer, without waiting (the caller knows kept answers may be used); undefined when not kept. */
  keptClassification?: (ws: string, name: string) => { exists: boolean; isPrompt: boolean } | undefined;
  /** The permission-decision cache (auth/grant-cache.ts); none: every decision asks the database. */
  grantCache?: GrantCache;
  /**
   * With other replicas: the change feed's position (events/listener.ts PgListener). Kept grants and
   * classifications are used only once every change committed before the request arrived has been
   * heard ("fresh"); none: this process hears every change as it is made.
   */
  feed?: FeedPosition;
  /**
   * Changes whenever a kept grant or classification is dropped (both caches' epochs): a decision taken
   * on kept answers stands if this is unchanged once the feed has caught up (see `speculative`).
   */
  keptVersion?: () => number;
  /**
   * The audit history's names may be earlier names: the model `name` resolves to now (its current
   * name), or undefined when none does (deleted: its grants are gone, so admins only).
   */
  resolveHistoryName?: (ws: string, name: string) => Promise<string | undefined>;
  /** Personal access tokens (`Bearer mlrt_…`). */
  tokens?: TokenAuthenticator;
  /** OpenID Connect JWTs (`Bearer <jwt>`), when AUTH_OIDC_ISSUER is set. */
  oidc?: OidcVerifier;
}

export interface AuthnOptions extends AuthnDeps {
  /** Every guarded route by routeKey (http/app.ts builds it from the generated tables). */
  routes: ReadonlyMap<string, GuardedRoute>;
  limits: LimitsConfig;
}

// ---------------------------------------------------------------- responses (MLflow's, byte for byte)

const AUTH_BODY =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';

/** make_basic_auth_response: 401, Flask's text/html body, `WWW-Authenticate: Basic realm="mlflow"`. */
export function unauthenticated(): Response {
  return new Response(AUTH_BODY, {
    status: 401,
    headers: { 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Basic realm="mlflow"' },
  });
}

/** make_forbidden_response: 403 "Permission denied". */
export function forbidden(): Response {
  return new Response('Permission denied', { status: 403, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

// ---------------------------------------------------------------- what the handlers read back

const PARSED_KEY = 'mlflowParsedRequest';
const METHOD_KEY = 'mlflowAuthMethod';

/** How the caller authenticated: 'basic', 'token' (personal access token) or 'oidc'; undefined on public routes or with auth off. */
export type AuthMethod = 'basic' | 'token' | 'oidc';
export function authMethod(c: Context): AuthMethod | undefined {
  return c.get(METHOD_KEY as never) as AuthMethod | undefined;
}
const READ_KEY = 'mlflowReadDecision';

/** The request as the middleware parsed it for its decision, for the handler (parsed once). */
export function parsedRequest(c: Context): Req | undefined {
  return c.get(PARSED_KEY as never) as Req | undefined;
}

function stashParsed(c: Context, req: Req): void {
  c.set(PARSED_KEY as never, req as never);
}

/**
 * The caller for the services: the request's workspace, the authenticated user's name and, for the
 * filtered searches, what they may list. A non-admin user on a route without a read decision would be
 * a wiring error: refused rather than shown everything.
 */
export function callerOf(c: Context, filtered = false): Caller {
  const workspace = workspaceOf(c);
  const user = currentUser(c);
  if (!user) return workspace === DEFAULT_WORKSPACE ? ANONYMOUS : { workspace };
  const readable = c.get(READ_KEY as never) as ReadDecision | undefined;
  if (filtered && !user.isAdmin && readable === undefined) throw new Error('filtered route without a read decision');
  return readable === undefined ? { workspace, username: user.username } : { workspace, username: user.username, readable };
}

// ---------------------------------------------------------------- the middleware

const LEVEL_ACTION: Readonly<Record<string, Action>> = { READ: 'read', USE: 'use', EDIT: 'update', MANAGE: 'manage' };
const CAPABILITY: Readonly<Record<string, keyof Permission>> = { READ: 'canRead', USE: 'canUse', EDIT: 'canUpdate', MANAGE: 'canManage' };
/** The auth API's own resources: their rules are decided by the auth service (http/handlers/auth.ts) after login. */
const ACCOUNT_RESOURCES = new Set(['user', 'role', 'grant']);
const ACCOUNT_LEVELS = new Set(['self-or-admin', 'self-or-workspace-admin', 'workspace-admin', 'workspace-member']);
const PROMPT_TAG_KEY = 'mlflow.prompt.is_prompt';
/** The rules' `mlflow` validators whose checks go beyond the named model (auth/registry-extras.ts). */
const CREATE_VERSION_VALIDATOR = 'validate_can_create_model_version';
const SEARCH_VERSIONS_VALIDATOR = 'validate_can_search_model_versions';
/** The grant types that decide registry operations (with the workspace-wide ones). */
const REGISTRY_TYPES = ['registered_model', 'prompt', 'registered_model_version', 'prompt_version'];
const HISTORY_PREFIX = '/mlflow-ts/history/';

/**
 * The parsed request as operation `id`'s typed input, when `op` is that operation. The rules whose
 * checks read request fields (the create and search-versions validators) belong to one operation each;
 * on any other they fail closed.
 */
function requestOf<K extends OperationId>(op: OperationSpec, req: Req, id: K): OperationRequest<K> | undefined {
  // parseRequest read the fields as op's kinds (served-contract checks they are the generated input's).
  return op.operationId === id ? (req as Req as OperationRequest<K>) : undefined;
}

type RouterRoute = ReturnType<typeof matchedRoutes>[number];

/**
 * The route Hono matched for this request (the first method route; middleware and 405 fallbacks are
 * 'ALL'), with its rule: looked up by routeKey once per registered route, then by the route's object.
 */
function routeMatcher(routes: ReadonlyMap<string, GuardedRoute>): (c: Context) => { route: GuardedRoute; index: number } | undefined {
  const byRoute = new WeakMap<RouterRoute, GuardedRoute | null>();
  return (c) => {
    const matched = matchedRoutes(c);
    for (let i = 0; i < matched.length; i++) {
      const r = matched[i]!;
      if (r.method === 'ALL') continue;
      let route = byRoute.get(r);
      if (route === undefined) byRoute.set(r, (route = routes.get(routeKey(r.method, r.path)) ?? null));
      // A method route without a rule is not ours to serve unguarded.
      return route ? { route, index: i } : undefined;
    }
    return undefined;
  };
}

export function authnMiddleware(opts: AuthnOptions): MiddlewareHandler {
  const { store, authenticator, policy } = opts;
  const matchedRoute = routeMatcher(opts.routes);

  /** The parsed request, read with the matched route's path parameters (the middleware's own are none). */
  async function parse(c: Context, op: OperationSpec, index: number): Promise<Req> {
    const saved = c.req.routeIndex;
    c.req.routeIndex = index;
    try {
      const req = await parseRequest(c, op, opts.limits);
      stashParsed(c, req);
      return req;
    } finally {
      c.req.routeIndex = saved;
    }
  }

  /**
   * Whether kept answers may be used for a request that arrived at `mark`: the change feed has caught
   * up since (no round trip when another request's catch-up sent after the mark has completed, else one,
   * shared by the request's questions).
   */
  function freshSince(mark: number | undefined): Fresh {
    const feed = opts.feed;
    if (!feed || mark === undefined) return ALWAYS_FRESH;
    let answer: Promise<boolean> | undefined;
    return () => (answer ??= feed.catchUpSince(mark));
  }

  /** The user's grants in `ws` from the decision cache; undefined without one (or too many to keep). */
  async function cachedGrants(user: AuthUser, ws: string, isFresh: boolean): Promise<UserGrants | undefined> {
    const cache = opts.grantCache;
    if (!cache?.enabled) return undefined;
    return cache.grants(user.id, ws, (limit) => store.allGrantsIn(user.id, ws, limit), isFresh);
  }

  /** The user's grants in `ws` on the given types, plus the workspace-wide ones (AuthStore.grantsFor). */
  async function grantsOf(user: AuthUser, ws: string, types: readonly string[], fresh: Fresh): Promise<Grant[]> {
    const kept = opts.grantCache?.enabled ? await cachedGrants(user, ws, await fresh()) : undefined;
    return kept?.ofTypes(types) ?? store.grantsFor(user.id, ws, types);
  }

  /** The grants and classification of model `name`: from the caches, or in one round trip when the auth tables are the registry's. */
  async function registryAccess(ws: string, user: AuthUser, name: string, fresh: Fresh) {
    if (opts.sameDatabase && !opts.grantCache?.enabled) return store.registryAccess(user.id, ws, name);
    const isFresh = opts.grantCache?.enabled ? await fresh() : false;
    const [cls, grants] = await Promise.all([
      opts.classifyModel!(ws, name, isFresh),
      cachedGrants(user, ws, isFresh).then(
        async (kept) =>
          kept?.forModel(name) ??
          (await store.grantsFor(user.id, ws, REGISTRY_TYPES)).filter((g) => g.resourceType === 'workspace' || g.resourcePattern === '*' || g.resourcePattern === name),
      ),
    ]);
    return registryAccessFrom(cls.exists, cls.exists && cls.isPrompt, grants, name, ws, policy);
  }

  /**
   * registryAccess from kept answers only, without waiting (for a decision that may use them); undefined
   * when anything is not kept. A warm read is decided with no promise of its own.
   */
  function keptAccess(ws: string, user: AuthUser, name: string): RegistryAccess | undefined {
    const grants = opts.grantCache?.kept(user.id, ws)?.grants;
    const cls = grants && opts.keptClassification?.(ws, name);
    return cls ? registryAccessFrom(cls.exists, cls.exists && cls.isPrompt, grants.forModel(name), name, ws, policy) : undefined;
  }

  /** A registered_model / model_version rule on model `name` (MLflow's registry validators). */
  async function modelAllowed(ws: string, user: AuthUser, rule: PermissionRule, name: string, op: OperationSpec, req: Req, fresh: Fresh): Promise<boolean> {
    const access = await registryAccess(ws, user, name, fresh);
    if (rule.mlflow === CREATE_VERSION_VALIDATOR) {
      const create = requestOf(op, req, 'createModelVersion');
      if (!create || !(await createVersionExtrasAllowed(ws, user, create, name, access, fresh))) return false;
    }
    return modelRuleAllows(rule, name, access);
  }

  /** The rule's own check on the model's access (the validators' part that needs nothing more). */
  function modelRuleAllows(rule: PermissionRule, name: string, access: RegistryAccess): boolean {
    const level = rule.level as string;
    const action = LEVEL_ACTION[level];
    const capability = CAPABILITY[level];
    if (!action || !capability) return false;
    const versions = rule.versions;
    // _get_permission_from_registered_model_or_prompt_name: the point permission (a missing model is
    // judged on the default permission; the handler then answers 404).
    if (versions === null) return Boolean(access.permission[capability]);
    // The version-tier validators resolve the model first (_registered_model_or_prompt_target): a
    // missing model is denied.
    if (!access.exists) return false;
    const container = { resourceType: access.resourceType, resourceId: name };
    const tier = (a: Action, withFallback: boolean): Requirement => ({
      resourceType: access.versionType,
      resourceId: '*',
      action: a,
      ...(withFallback ? { fallback: [container] } : {}),
    });
    if (versions === 'not_denied') {
      // validate_can_read_model_or_prompt_version, _authorize_create_version: the level on the model,
      // and no DENY on its version tier.
      return access.authorize([{ ...container, action }, tier(ACTION_NOT_DENIED, false)]);
    }
    if (rule.resource === 'model_version') {
      // _authorize_version_action: READ on the model; the tier carries the action, falling back to the model.
      return access.authorize([{ ...container, action: 'read' }, tier(versions, true)]);
    }
    if (versions === 'delete') {
      // validate_can_delete_registered_model_or_prompt_cascade: delete on the model and on its version tier.
      return access.authorize([{ ...container, action: 'delete' }, tier('delete', true)]);
    }
    // The alias validators: the level on the model (point permission), and the tier's action.
    return Boolean(access.permission[capability]) && access.authorize([tier(versions, true)]);
  }

  /**
   * validate_can_create_model_version beyond the parent model (auth/registry-extras.ts): a prompt marker
   * disagreeing with the parent needs the other version tier not DENY'd; a `models:/<name>…` source
   * needs READ on that model, which must exist (a missing one is denied, not 404, as MLflow).
   */
  async function createVersionExtrasAllowed(ws: string, user: AuthUser, req: OperationRequest<'createModelVersion'>, name: string, parent: RegistryAccess, fresh: Fresh): Promise<boolean> {
    if (!parent.exists) return true; // denied by the version-tier rule itself
    const marker = promptMarker(req.fields.tags ?? []);
    const markedType = marker === undefined ? undefined : marker ? 'prompt_version' : 'registered_model_version';
    if (markedType !== undefined && markedType !== parent.versionType) {
      if (!parent.authorize([{ resourceType: markedType, resourceId: '*', action: ACTION_NOT_DENIED }])) return false;
    }
    const source = sourceModelName(req.fields.source);
    if (source === undefined) return true;
    const from = source === name ? parent : await registryAccess(ws, user, source, fresh);
    return from.exists && from.permission.canRead;
  }

  /** validate_can_search_model_versions: a filter selecting on `run_id` needs the run tier not DENY'd in the workspace. */
  async function searchVersionsAllowed(ws: string, user: AuthUser, req: OperationRequest<'searchModelVersions'>, fresh: Fresh): Promise<boolean> {
    if (!filterSelectsRun(req.fields.filter)) return true;
    return authorize(await grantsOf(user, ws, ['run'], fresh), [{ resourceType: 'run', resourceId: '*', action: ACTION_NOT_DENIED }], ws, policy);
  }

  /** createRegisteredModel: create in the workspace, and the created type not DENY'd for the new name. */
  async function createAllowed(ws: string, user: AuthUser, req: OperationRequest<'createRegisteredModel'>, fresh: Fresh): Promise<boolean> {
    const name = req.fields.name ?? '';
    let isPrompt = false;
    for (const t of req.fields.tags ?? []) if (t.key === PROMPT_TAG_KEY) isPrompt = (t.value ?? '').toLowerCase() === 'true';
    const type = isPrompt ? RESOURCE_TYPE.PROMPT : RESOURCE_TYPE.REGISTERED_MODEL;
    const grants = await grantsOf(user, ws, [type], fresh);
    if (!canCreateInWorkspace(grants, ws, policy)) return false;
    return authorize(grants, [{ resourceType: type, resourceId: name || '*', action: ACTION_NOT_DENIED }], ws, policy);
  }

  /** The artifact path the handler will serve, canonicalised as it does; undefined when it does not parse (denied, as MLflow). */
  function artifactPath(c: Context, op: OperationSpec, req: Req | undefined): ArtifactPath | undefined {
    const from = op.permission.name;
    try {
      if (!from) return ROOT;
      if (from.in === 'path') {
        // The handler's own reading of the parameter (as the URL has it, decoded once by paths.ts).
        const route = op.path.slice(op.path.indexOf('/2.0/') + '/2.0/'.length, op.path.indexOf('{') - 1);
        return parseEncodedPath(rawParam(c, route));
      }
      const v = req?.optStr(from.field);
      return v === undefined ? ROOT : parseDecodedPath(v);
    } catch {
      return undefined;
    }
  }

  /**
   * MLflow's artifact proxy validators (_authorize_flask_artifact_proxy): a path under
   * `<experiment_id>/` is judged on that experiment (and on the run, trace or logged-model tier its
   * next segments name); any other path on the default permission.
   */
  async function artifactAllowed(ws: string, user: AuthUser, p: ArtifactPath | undefined, level: string, fresh: Fresh): Promise<boolean> {
    if (p === undefined) return false;
    const action: 'read' | 'update' | 'manage' = level === 'READ' ? 'read' : level === 'MANAGE' ? 'manage' : 'update';
    const capability = action === 'read' ? 'canRead' : action === 'update' ? 'canUpdate' : 'canManage';
    const m = /^(?:workspaces\/[^/]+\/)?(\p{Nd}+)\//u.exec(`${p}/`);
    if (!m) return getPermission(policy.defaultPermission)[capability];
    const experimentId = m[1]!;
    const grants = await grantsOf(user, ws, ['experiment', 'run', 'trace', 'logged_model'], fresh);
    const children = artifactChildTypes(p.slice(m[0].length), action === 'manage');
    if (children.length === 0) return resourcePermission(grants, 'experiment', experimentId, ws, policy)[capability];
    const experiment = { resourceType: 'experiment', resourceId: experimentId };
    return authorize(
      grants,
      [{ ...experiment, action: 'read' }, ...children.map((t): Requirement => ({ resourceType: t, resourceId: '*', action, fallback: [experiment] }))],
      ws,
      policy,
    );
  }

  /**
   * validate_can_view_workspace: everyone with workspaces off; `default` under
   * grant_default_workspace_access; else a workspace the user has a role in.
   */
  async function canViewWorkspace(user: AuthUser, name: string): Promise<boolean> {
    if (!policy.workspacesEnabled) return true;
    if (policy.grantDefaultWorkspaceAccess && name === policy.defaultWorkspace) return true;
    return (await store.listAccessibleWorkspaceNames(user.id)).has(name);
  }

  /** The user of a `Bearer` credential: an access token by its prefix, else (OIDC configured) a JWT. */
  async function bearerUser(c: Context, cred: { scheme: string; token?: string }): Promise<AuthUser | undefined> {
    if (cred.scheme !== 'bearer' || !cred.token) return undefined;
    const token = cred.token;
    if (looksLikeAccessToken(token)) {
      const id = opts.tokens ? await opts.tokens.authenticate(token) : undefined;
      if (id) c.set(METHOD_KEY as never, 'token' as never);
      return id?.user;
    }
    if (!opts.oidc) return undefined;
    const user = await opts.oidc.authenticate(token);
    if (user) c.set(METHOD_KEY as never, 'oidc' as never);
    return user;
  }

  /**
   * A read (GET or HEAD of a READ rule on a model) decided on kept grants and classification before the
   * change feed has caught up, and confirmed once it has, before the answer leaves. The handler's own
   * read-cache lookup catches up anyway (a round trip sent after the request arrived), so one round trip
   * serves both, where deciding first cost one of its own; a handler that reads the database instead
   * leaves the confirmation one catch-up of its own. Exact: once a catch-up sent after the request
   * arrived has completed, every change committed before it has been heard, and had it dropped anything
   * the decision used, `keptVersion` would have moved and the decision is taken again on what is current.
   * Reads only: a refusal found at the confirmation replaces the answer (the handler wrote nothing).
   */
  async function speculative(c: Context, next: () => Promise<void>, mark: number, decide: (fresh: Fresh) => Promise<boolean>, kept: () => boolean | undefined): Promise<Response | void> {
    const feed = opts.feed!;
    const version = opts.keptVersion!();
    const allowed = kept() ?? (await decide(ALWAYS_FRESH));
    // A refusal is confirmed before it is answered (a grant heard on catching up may lift it).
    if (!allowed) return (await confirm(feed, mark, version, false, decide)) ? next() : forbidden();
    await next();
    // Usually the handler's own catch-up has covered the request and nothing was dropped: no promise more.
    if (feed.caughtUpSince(mark) && opts.keptVersion!() === version) return;
    if (await confirm(feed, mark, version, true, decide)) return;
    const answered = c.res;
    c.res = undefined; // not merged into the refusal (Hono copies a replaced answer's headers)
    c.res = forbidden();
    await answered.body?.cancel().catch(() => {});
  }

  /** The speculative decision once the feed has caught up since `mark`: it stands unless something it used was dropped. */
  async function confirm(feed: FeedPosition, mark: number, version: number, decided: boolean, decide: (fresh: Fresh) => Promise<boolean>): Promise<boolean> {
    const caughtUp = feed.caughtUpSince(mark) || (await feed.catchUpSince(mark));
    if (caughtUp && opts.keptVersion!() === version) return decided;
    return decide(() => Promise.resolve(caughtUp));
  }

  type Found = ReturnType<typeof matchedRoute>;
  type Next = () => Promise<void>;

  /** A caller without warm Basic credentials: verify them (Basic, token or JWT), then decide. */
  async function authenticateThenDecide(c: Context, next: Next, header: string | undefined, found: Found, mark: number | undefined): Promise<Response | void> {
    const cred = parseAuthorization(header);
    if (!cred) return unauthenticated();
    let user: AuthUser | undefined;
    if ('username' in cred) {
      user = await authenticator.authenticate(cred);
      if (!user) return unauthenticated();
      c.set(METHOD_KEY as never, 'basic' as never);
    } else {
      user = await bearerUser(c, cred);
      if (!user) return unauthenticated();
    }
    return decideFor(c, next, user, found, mark);
  }

  /** Admins pass every rule (an unknown path then answers 404/405 as usual); anyone else's rule is decided. */
  function decideFor(c: Context, next: Next, user: AuthUser, found: Found, mark: number | undefined): Promise<Response | void> {
    setCurrentUser(c, user);
    return user.isAdmin ? next() : decide(c, next, user, found, mark);
  }

  /**
   * A non-admin user's request: the matched route's rule decides, fail closed. Not async itself: each
   * kind of rule that waits for something has its own (small) async function.
   */
  function decide(c: Context, next: Next, user: AuthUser, found: Found, mark: number | undefined): Promise<Response | void> {
    const rule = found?.route.rule;
    if (!found || !rule) return Promise.resolve(forbidden());
    const level = rule.level as string;

    if (level === 'authenticated') return next();
    if (level === 'admin') return Promise.resolve(forbidden());
    if (ACCOUNT_RESOURCES.has(rule.resource)) {
      // Decided by the auth service with the auth tables (http/handlers/auth.ts).
      if (ACCOUNT_LEVELS.has(level) || (rule.resource === 'grant' && level === 'MANAGE')) return next();
      return Promise.resolve(forbidden());
    }
    if (level === 'filtered') {
      // listWorkspaces: every user may list; the handler shows them their workspaces only.
      if (rule.resource === 'workspace') return next();
      if (rule.resource !== 'registered_model' && rule.resource !== 'model_version') return Promise.resolve(forbidden());
      return decideFiltered(c, next, user, found, rule, freshSince(mark));
    }
    const { op } = found.route;
    if (!LEVEL_ACTION[level] || !op) return Promise.resolve(forbidden());
    switch (rule.resource) {
      case 'workspace':
        return decideWorkspace(c, next, user, found.index, rule, op, freshSince(mark));
      case 'registered_model':
      case 'model_version':
        return decideModel(c, next, user, found.index, rule, op, mark);
      case 'artifact':
        return decideArtifact(c, next, user, found.index, rule, op, freshSince(mark));
      default:
        // webhook, registry, server with a grant level, or a resource added later: fail closed.
        return Promise.resolve(forbidden());
    }
  }

  /** The filtered searches: what the user may list (and, for versions, a run_id filter's own check). */
  async function decideFiltered(c: Context, next: Next, user: AuthUser, found: NonNullable<Found>, rule: PermissionRule, fresh: Fresh): Promise<Response | void> {
    const ws = workspaceOf(c);
    const { op } = found.route;
    if (rule.mlflow.includes(SEARCH_VERSIONS_VALIDATOR)) {
      const search = op && requestOf(op, await parse(c, op, found.index), 'searchModelVersions');
      if (!search || !(await searchVersionsAllowed(ws, user, search, fresh))) return forbidden();
    }
    c.set(READ_KEY as never, readDecision(await grantsOf(user, ws, REGISTRY_TYPES, fresh), false, ws, policy) as never);
    return next();
  }

  /** A workspace rule: creating a model in it, viewing the workspace the path names, or using it. */
  async function decideWorkspace(c: Context, next: Next, user: AuthUser, index: number, rule: PermissionRule, op: OperationSpec, fresh: Fresh): Promise<Response | void> {
    const ws = workspaceOf(c);
    const level = rule.level as string;
    if (rule.effect === 'grant-creator-manage') {
      const create = requestOf(op, await parse(c, op, index), 'createRegisteredModel');
      return create && (await createAllowed(ws, user, create, fresh)) ? next() : forbidden();
    }
    if (rule.name) {
      // getWorkspace (validate_can_view_workspace): the workspace the path names.
      const req = await parse(c, op, index);
      const named = req.fields[rule.name.field];
      return level === 'READ' && typeof named === 'string' && (await canViewWorkspace(user, named)) ? next() : forbidden();
    }
    const grants = await grantsOf(user, ws, [], fresh);
    return canCreateInWorkspace(grants, ws, policy) && (level === 'USE' || level === 'READ') ? next() : forbidden();
  }

  /** A registered_model / model_version rule on the model the request names (a read: decided on kept answers, see `speculative`). */
  async function decideModel(c: Context, next: Next, user: AuthUser, index: number, rule: PermissionRule, op: OperationSpec, mark: number | undefined): Promise<Response | void> {
    if (!rule.name) return forbidden();
    const ws = workspaceOf(c);
    const req = await parse(c, op, index);
    // parseRequest puts path parameters among the fields too (read with the route's own parameters).
    const raw = req.fields[rule.name.field];
    let name = typeof raw === 'string' ? raw : '';
    if (op.path.includes(HISTORY_PREFIX)) {
      // History names may be earlier names: the permission is the model's that bears it now.
      const current = name && opts.resolveHistoryName ? await opts.resolveHistoryName(ws, name) : undefined;
      if (current === undefined) return forbidden();
      name = current;
    }
    const allowed = (f: Fresh) => modelAllowed(ws, user, rule, name, op, req, f);
    if (mark !== undefined && rule.level === 'READ' && isRead(c) && opts.keptVersion && opts.grantCache?.live) {
      // A read's validators need nothing beyond the model's access (createVersionExtrasAllowed is a write's).
      const kept = () => {
        const access = keptAccess(ws, user, name);
        return access && modelRuleAllows(rule, name, access);
      };
      return speculative(c, next, mark, allowed, kept);
    }
    return (await allowed(freshSince(mark))) ? next() : forbidden();
  }

  /** An artifact rule: the path the handler will serve, judged as MLflow's artifact proxy does. */
  async function decideArtifact(c: Context, next: Next, user: AuthUser, index: number, rule: PermissionRule, op: OperationSpec, fresh: Fresh): Promise<Response | void> {
    const req = rule.name && rule.name.in !== 'path' ? await parse(c, op, index) : undefined;
    return (await artifactAllowed(workspaceOf(c), user, artifactPath(c, op, req), rule.level as string, fresh)) ? next() : forbidden();
  }

  // Not async, and small: a warm admin (or public) request allocates no frame of `decide`.
  return (c, next) => {
    const found = matchedRoute(c);
    if (found?.route.rule.level === 'public') return next();
    // What this request must see: every change committed before now (taken before anything is decided).
    const mark = opts.feed?.mark();
    const header = c.req.header('authorization');
    // Warm Basic credentials: one digest and a lookup, no parsing and no promise.
    const user = header ? authenticator.kept(header) : undefined;
    if (!user) return authenticateThenDecide(c, next, header, found, mark);
    c.set(METHOD_KEY as never, 'basic' as never);
    return decideFor(c, next, user, found, mark);
  };
}

/** A request that changes nothing (its handler may run before its permission is confirmed). */
const isRead = (c: Context) => c.req.method === 'GET' || c.req.method === 'HEAD';

/**
 * _artifact_proxy_child_types: the tiers a path below `<experiment_id>/` is judged against (`rest` is
 * what follows that segment). A recursive delete of the experiment root reaches every tier.
 */
function artifactChildTypes(rest: string, recursive: boolean): string[] {
  const segments = rest.split('/').filter(Boolean);
  if (segments.length === 0) return recursive ? ['run', 'trace', 'logged_model'] : [];
  if (segments[0] === 'models') return ['logged_model'];
  if (segments[0] === 'traces') return ['trace'];
  if (segments.length > 1 && segments[1] === 'artifacts') return ['run'];
  if (/^[0-9a-f]{32}$/.test(segments[0]!)) return ['run'];
  return recursive ? ['run'] : [];
}
