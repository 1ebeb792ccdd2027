/**
 * Composition root: builds the database, stores, services, handlers and the Hono app from a
 * validated Config. main.ts calls it for the real process; tests call it to run in-process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { metadataStoreName, type Config } from './config.js';
import type { Logger } from './log.js';
import { MlflowError } from './errors.js';
import { openPglite, openPostgres, type Database } from './store/db.js';
import { isPromptValue, RegistryStore } from './store/registry-store.js';
import { RegistryService, type GrantEffects } from './registry/service.js';
import { refuseHostAddressedSource } from './registry/source-policy.js';
import { createApp, type Handler, type Handlers } from './http/app.js';
import { registryHandlers } from './http/handlers/registry.js';
import { artifactHandlers } from './http/handlers/artifacts.js';
import { uiHandlers } from './http/handlers/ui.js';
import { findUiDir } from './http/ui-discovery.js';
import { createWebhooks } from './webhooks/index.js';
import { createArtifacts } from './artifacts/index.js';
import { ModelReadCache } from './registry/read-cache.js';
import { followChanges, pruneCacheListeners, type ChangeFeed } from './events/changes.js';
import { CACHE_LISTENER_APPLICATION_NAME, LISTENER_APPLICATION_NAME, PgListener } from './events/listener.js';
import type { AuthStore, AuthUser } from './auth/store.js';
import type { GrantCache } from './auth/grant-cache.js';
import { DEFAULT_POLICY, type PermissionPolicy } from './auth/permissions.js';
import { HistoryService } from './events/history.js';
import { authHandlers, type AuthDeps } from './http/handlers/auth.js';
import type { AuthnDeps } from './http/authn.js';
import { tokenHandlers, type TokenDeps } from './http/handlers/tokens.js';
import type { TokenIdentity } from './auth/tokens.js';
import { DEFAULT_WORKSPACE } from './store/workspace.js';
import { operationLabels } from './http/app.js';
import { createReadiness, s3ReadyCheck, type ReadyCheck } from './http/ready.js';
import type { Metrics } from './http/metrics.js';
import type { DeliveryWorker } from './webhooks/worker.js';
import type { Context } from 'hono';
import { WORKSPACES } from './registry/read-cache.js';
import { CHANGES_CHANNEL } from './events/sink.js';
import { currentUser } from './http/auth-context.js';
import type { WorkspaceEdgeOptions } from './http/workspace.js';
import { workspaceHandlers } from './http/handlers/workspaces.js';
import { WorkspaceService } from './workspaces/service.js';
import { WorkspaceStore } from './workspaces/store.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = path.resolve(here, '../../../openapi/openapi.json');
export const VERSION: string = (JSON.parse(fs.readFileSync(path.resolve(here, '../package.json'), 'utf8')) as { version: string }).version;

export interface Server {
  app: Hono;
  db: Database;
  /** The permission-decision cache (AUTH=basic; its counters for metrics and tests). */
  grantCache?: GrantCache;
  close(): Promise<void>;
}

const notBuilt =
  (what: string): Handler =>
  () => {
    throw MlflowError.notImplemented(`${what} is not available on this server yet.`);
  };

/** The metadata database of METADATA_STORE: PostgreSQL, the embedded engine, or the embedded engine replicated through S3. */
async function openMetadata(config: Config, log: Logger, auth: boolean): Promise<Database> {
  const m = config.metadataStore;
  if (m.kind === 's3') {
    const [{ S3ChangeLog }, { openReplicated }] = await Promise.all([import('./store/s3-log/change-log.js'), import('./store/s3-log/replicated.js')]);
    const changes = await S3ChangeLog.open({ s3: config.s3!, prefix: m.prefix, sessionToken: config.artifacts.s3SessionToken });
    return openReplicated({ log: changes, logger: log, snapshotEvery: m.snapshotEvery, open: { auth, optimizeWasm: config.embeddedWasmOptimize } });
  }
  return config.databaseUrl
    ? openPostgres(config.databaseUrl, config.dbPoolMax, log, { auth })
    : openPglite(path.join(config.dataDir, 'db'), log, { auth, optimizeWasm: config.embeddedWasmOptimize });
}

export async function createServer(config: Config, log: Logger): Promise<Server> {
  // First: a bad MLFLOW_UI_DIR stops the start before anything is opened.
  const uiDir = await findUiDir(config.observability.uiDir, log);
  const authOn = config.auth.mode === 'basic';
  // The auth tables live in the server's database (migrated after the registry's, in the same lock)
  // unless AUTH_DATABASE_URL names another one.
  const authInMain = authOn && config.auth.databaseUrl === undefined;
  const db = await openMetadata(config, log, authInMain);
  let authDb: Database | undefined;
  let auth: { deps: AuthDeps; edge: AuthnDeps; grants: GrantEffects; tokens: TokenDeps; store: AuthStore; policy: PermissionPolicy } | undefined;
  try {
    if (authOn) {
      authDb = authInMain
        ? db
        : await openPostgres(config.auth.databaseUrl!, Math.min(config.dbPoolMax, 4), log, { registry: false, auth: true, setting: 'AUTH_DATABASE_URL' });
      auth = await createAuth(config, log, authDb, db, authInMain);
    }
  } catch (err) {
    if (authDb && authDb !== db) await authDb.close().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }

  const artifacts = await createArtifacts(config, log, db);
  const sourcePolicy = { trustedUris: artifacts.trustedUris, allowedSchemes: config.allowedHostAddressedSchemes };
  // One LISTEN connection per process on PostgreSQL, for the webhook worker and the read cache; its
  // name tells the other replicas whether a cache listens (they announce their changes only then). The read
  // cache is on also on a database mlflow server created: the registry tables' triggers (ext migration
  // 0003_change_triggers) announce every writer's changes, MLflow's included.
  const caching = config.readCacheBytes > 0;
  const listener =
    db.kind === 'postgres' && config.databaseUrl
      ? new PgListener({
          databaseUrl: config.databaseUrl,
          log,
          applicationName: caching ? CACHE_LISTENER_APPLICATION_NAME : LISTENER_APPLICATION_NAME,
        })
      : undefined;
  const webhooks = await createWebhooks(db, config, log, listener);
  const { cache, feed } = caching ? createReadCache(db, config, log, listener) : {};
  const pruner = db.kind === 'postgres' ? pruneCacheListeners(db, log) : undefined;
  // The permission-decision cache follows the same change feed (subscribed before the listener starts).
  const grantCache = auth
    ? (await import('./auth/decision-cache.js')).wireDecisionCache({
        store: auth.store,
        edge: auth.edge,
        maxGrants: config.auth.cacheMaxEntries,
        ttlMs: config.auth.cacheTtlMs,
        // Announced (and kept across replicas) as the CLI's changes: auth/changes.ts announceAuthChanges.
        db,
        authDb: authDb!,
        listener,
        cache,
        registryDb: webhooks.db,
      })
    : undefined;
  await listener?.start();
  const registry = new RegistryService(new RegistryStore(webhooks.db), {
    cache,
    events: webhooks.events,
    // Our artifact paths are the request's workspace's (artifacts/workspace-paths.ts) when workspaces are on.
    downloadUri: (location, ws) => artifacts.locations.downloadUri(location, config.workspaces.enabled ? ws : undefined),
    sourceRegex: config.sourceRegex,
    checkSourceHost: (source) => refuseHostAddressedSource(source, sourcePolicy),
    grants: auth?.grants,
  });

  const workspaces = createWorkspaces(db, config, log, { cache, listener, auth, multipart: artifacts.store.multipart !== undefined });

  const text = (body: string) => () => new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const handlers: Handlers = {
    ...workspaces.handlers,
    ...registryHandlers(registry),
    ...webhooks.handlers,
    ...artifactHandlers(artifacts.service, config.limits),
    ...uiHandlers({ registry, artifacts }),
    ...authHandlers(auth?.deps),
    ...tokenHandlers(auth?.tokens),
    health: text('OK'),
    version: text(VERSION),
  };

  const ops = await createOps(config, log, { db, authDb, worker: webhooks.worker, cache });
  const app = createApp({
    handlers,
    log,
    specPath: SPEC_PATH,
    limits: config.limits,
    security: config.security,
    staticPrefix: config.observability.staticPrefix,
    uiDir,
    workspaces: workspaces.edge,
    auth: auth?.edge,
    ...ops.app,
  });
  return {
    app,
    db,
    grantCache,
    close: async () => {
      ops.close();
      pruner?.stop();
      await feed?.stop();
      await listener?.stop();
      await artifacts.close();
      await webhooks.close();
      if (authDb && authDb !== db) await authDb.close();
      await db.close();
    },
  };
}

/**
 * AUTH=basic: the auth store over the auth tables, the first admin (created from
 * MLFLOW_AUTH_ADMIN_PASSWORD when missing; never a default password), the credential cache, and what
 * the HTTP edge and the registry need from them. Its modules are loaded here, only when auth is on.
 */
async function createAuth(
  config: Config,
  log: Logger,
  authDb: Database,
  registryDb: Database,
  sameDatabase: boolean,
): Promise<{ deps: AuthDeps; edge: AuthnDeps; grants: GrantEffects; tokens: TokenDeps; store: AuthStore; policy: PermissionPolicy }> {
  const policy: PermissionPolicy = {
    ...DEFAULT_POLICY,
    defaultPermission: config.auth.defaultPermission,
    workspacesEnabled: config.workspaces.enabled,
    grantDefaultWorkspaceAccess: config.auth.grantDefaultWorkspaceAccess,
  };
  const [{ AuthStore }, { Authenticator, CredentialCache }, { bootstrapAdmin }, { BearerCache, TokenAuthenticator, TokenStore }] = await Promise.all([
    import('./auth/store.js'),
    import('./auth/credentials.js'),
    import('./auth/bootstrap.js'),
    import('./auth/tokens.js'),
  ]);
  const store = new AuthStore(authDb, policy);
  const outcome = await bootstrapAdmin(authDb, { username: config.auth.adminUsername, password: config.auth.adminPassword });
  if (outcome !== 'exists') log.info(outcome === 'created' ? 'admin user created' : 'admin password rotated from the legacy default', { username: config.auth.adminUsername });
  const authenticator = new Authenticator<AuthUser>(store, new CredentialCache<AuthUser>({ maxEntries: config.auth.cacheMaxEntries, ttlMs: config.auth.cacheTtlMs }));
  // Bearer credentials: personal access tokens always, OIDC JWTs with AUTH_OIDC_ISSUER; each has its own
  // cache (same size and TTL as the password cache), dropped for a user whenever the user changes here.
  const cacheOpts = { maxEntries: config.auth.cacheMaxEntries, ttlMs: config.auth.cacheTtlMs };
  const tokenStore = new TokenStore(authDb);
  const tokenAuth = new TokenAuthenticator(tokenStore, new BearerCache<TokenIdentity>(cacheOpts));
  authenticator.onInvalidateUser((username) => tokenAuth.invalidateUser(username));
  const oidc = config.auth.oidc
    ? new (await import('./auth/oidc.js')).OidcVerifier(config.auth.oidc, authDb, {
        log,
        cache: new BearerCache<AuthUser>(cacheOpts),
        onUserChanged: (username) => authenticator.invalidateUser(username),
      })
    : undefined;
  if (oidc) authenticator.onInvalidateUser((username) => oidc.cache.invalidateUser(username));
  const registryStore = new RegistryStore(registryDb);
  const history = new HistoryService(registryDb);
  const edge: AuthnDeps = {
    store,
    authenticator,
    policy,
    sameDatabase,
    classifyModel: async (ws, name) => {
      const { exists, promptTag } = await registryStore.read(ws).modelPromptTag(name);
      return { exists, isPrompt: isPromptValue(promptTag) };
    },
    resolveHistoryName: (ws, name) => history.in(ws).currentModelName(name),
    tokens: tokenAuth,
    oidc,
  };
  // In the registry change's own transaction when the auth tables are in the same database; otherwise
  // on the auth database as the change runs (MLflow runs them after the response, on its own database).
  const on = (tx: Database | Parameters<GrantEffects['created']>[0]) => (sameDatabase ? tx : authDb);
  const grants: GrantEffects = {
    created: (tx, ws, username, type, name) => store.grantUserPermission(username, type, name, 'MANAGE', ws, on(tx)),
    renamed: async (tx, ws, oldName, newName) => {
      for (const type of ['registered_model', 'prompt']) await store.renameGrantsForResource(type, oldName, newName, ws, on(tx));
    },
    deleted: async (tx, ws, name) => {
      for (const type of ['registered_model', 'prompt']) await store.deleteGrantsForResource(type, name, ws, on(tx));
    },
  };
  log.info('authentication on', {
    mode: 'basic',
    defaultPermission: policy.defaultPermission,
    authDatabase: sameDatabase ? 'server' : 'AUTH_DATABASE_URL',
    bearer: oidc ? 'access tokens, OIDC' : 'access tokens',
    ...(config.auth.oidc ? { oidcIssuer: config.auth.oidc.issuer } : {}),
  });
  return { deps: { store, authenticator, policy }, edge, grants, tokens: { store, tokens: tokenStore, authenticator: tokenAuth }, store, policy };
}

/**
 * Workspaces (MLFLOW_ENABLE_WORKSPACES): the catalogue, the HTTP edge's resolution (existence through the
 * read cache, which a deleted workspace empties on every replica), the workspace API and server-info.
 */
function createWorkspaces(
  db: Database,
  config: Config,
  log: Logger,
  parts: {
    cache: ModelReadCache | undefined;
    listener: PgListener | undefined;
    auth: { store: AuthStore; policy: PermissionPolicy } | undefined;
    multipart: boolean;
  },
): { edge: WorkspaceEdgeOptions; handlers: ReturnType<typeof workspaceHandlers> } {
  const { cache, listener, auth } = parts;
  const store = new WorkspaceStore(db);
  const exists = cache
    ? async (name: string) => (await cache.getOrLoad(WORKSPACES, name, async () => ((await store.exists(name)) ? true : undefined))) === true
    : (name: string) => store.exists(name);
  // Other replicas drop everything they keep (a null change) when a workspace goes, in its transaction.
  const announces = db.kind === 'postgres';
  const service = new WorkspaceService(store, {
    refuseHost: (uri) =>
      refuseHostAddressedSource(uri, { trustedUris: [config.artifacts.publicUrl, config.s3?.endpoint].filter((u): u is string => u !== undefined), allowedSchemes: config.allowedHostAddressedSchemes }) !== undefined,
    announceDelete: async (tx) => {
      if (!announces) return;
      await tx.query(`SELECT pg_notify($1, 'null') FROM (SELECT 1) one WHERE EXISTS (SELECT 1 FROM registry_cache_listeners WHERE pid <> $2::integer)`, [
        CHANGES_CHANNEL,
        listener?.pid ?? 0,
      ]);
    },
    afterDelete: async (name) => {
      cache?.invalidate(null);
      // MLflow's _cleanup_workspace_permissions: after the deletion, logged rather than failed.
      await auth?.store.deleteRolesForWorkspace(name).catch((err: Error) => log.error('could not delete the roles of a deleted workspace', { workspace: name, error: err.message }));
    },
  });
  const visibleTo = auth
    ? async (c: Context): Promise<Set<string> | undefined> => {
        const user = currentUser(c);
        if (!user || user.isAdmin) return undefined;
        const names = await auth.store.listAccessibleWorkspaceNames(user.id);
        if (auth.policy.grantDefaultWorkspaceAccess) names.add(DEFAULT_WORKSPACE);
        return names;
      }
    : undefined;
  const serverInfo = {
    store_type: 'SqlStore',
    workspaces_enabled: config.workspaces.enabled,
    trace_archival_enabled: false,
    multipart_uploads_enabled: parts.multipart,
    multipart_downloads_enabled: parts.multipart,
    presigned_upload_run_id_supported: false,
    presigned_upload_model_id_supported: false,
    features_enabled: { gateway: false },
  };
  if (config.workspaces.enabled) log.info('workspaces on', { header: 'X-MLFLOW-WORKSPACE' });
  return {
    edge: { enabled: config.workspaces.enabled, exists },
    handlers: workspaceHandlers({ enabled: config.workspaces.enabled, service, visibleTo, serverInfo }),
  };
}

/**
 * The read cache. On PostgreSQL it follows the other replicas' changes through the change feed (it
 * is unused until the feed listens, and catches up with it before each use of a kept answer); on the
 * embedded database this process is the only writer.
 */
function createReadCache(db: Database, config: Config, log: Logger, listener: PgListener | undefined): { cache: ModelReadCache; feed?: ChangeFeed } {
  if (!listener) return { cache: new ModelReadCache(config.readCacheBytes, true) };
  const cache = new ModelReadCache(config.readCacheBytes, false, () => listener.catchUp());
  return { cache, feed: followChanges(listener, db, cache, log) };
}

// ---------------------------------------------------------------- observability (README "Observability")

/**
 * Readiness (GET /health/ready: the database, the separate auth database, the S3 bucket) and, with
 * METRICS_ENABLED=true, the metrics (prom-client is loaded only then).
 */
async function createOps(
  config: Config,
  log: Logger,
  parts: { db: Database; authDb: Database | undefined; worker: DeliveryWorker | undefined; cache: ModelReadCache | undefined },
): Promise<{ app: { ready: () => Promise<Response>; metrics?: Metrics }; close(): void }> {
  const { db, authDb, worker, cache } = parts;
  const checks: ReadyCheck[] = [{ name: 'database', run: () => db.query('SELECT 1') }];
  if (authDb && authDb !== db) checks.push({ name: 'auth_database', run: () => authDb.query('SELECT 1') });
  const s3 = config.s3 ? await s3ReadyCheck(config.s3, config.artifacts.s3SessionToken) : undefined;
  if (s3) checks.push(s3);
  const readiness = createReadiness(checks);
  let metrics: Metrics | undefined;
  if (config.observability.metricsEnabled) {
    const { createMetrics } = await import('./http/metrics.js');
    const pools = [
      { name: 'registry', stats: () => db.poolStats?.() },
      ...(authDb && authDb !== db ? [{ name: 'auth', stats: () => authDb.poolStats?.() }] : []),
      ...(worker ? [{ name: 'webhooks', stats: () => worker.poolStats() }] : []),
    ];
    metrics = await createMetrics(
      { version: VERSION, database: metadataStoreName(config), pools, queueDb: db, deliveries: worker && (() => worker.outcomes), cache },
      operationLabels(),
    );
    log.info('metrics enabled', { path: '/metrics' });
  }
  return { app: { ready: () => readiness.handler(), metrics }, close: () => s3?.close() };
}
