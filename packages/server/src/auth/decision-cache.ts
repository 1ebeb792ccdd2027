/**
 * Wires the permission-decision cache (auth/grant-cache.ts) to what keeps it exact, by deployment:
 *
 * - the embedded database (PGlite), auth tables in it: this process is the only writer; every
 *   committed auth write drops the cache (auth/changes.ts), nothing expires;
 * - PostgreSQL, auth tables in the registry's database, read cache on: the cache rides on the read
 *   cache's change feed: auth writers NOTIFY AUTH_CHANGES_CHANNEL while another replica's cache listens,
 *   this process drops everything when it hears one and whenever LISTEN goes down or comes back, is
 *   used only while the read cache is (registered and caught up), and catches up before using a kept
 *   entry. A user's password, admin flag or deletion also drops that user's cached credentials when heard;
 * - PostgreSQL without that feed (READ_CACHE_MB=0, or a database created by mlflow server, whose
 *   writers announce nothing): no decision cache; every decision reads the grants (exact, as before);
 * - the auth tables in another database (AUTH_DATABASE_URL, whose writers announce nothing): this
 *   process's own writes still drop it at once, and an entry is trusted for
 *   MLFLOW_AUTH_CACHE_TTL_SECONDS only, as the credential cache.
 *
 * Whether a model exists and is a prompt is read through the read cache when there is one (it is
 * exact by the same rules: every registry change drops its model's answers, on every replica).
 */
import type { Executor } from '../store/db.js';
import type { PgListener } from '../events/listener.js';
import { modelKey, type ModelReadCache } from '../registry/read-cache.js';
import type { AuthnDeps } from '../http/authn.js';
import { announceAuthChanges, AUTH_CHANGES_CHANNEL, changedUser, revokedToken, type RegistryDatabaseKind } from './changes.js';
import { GrantCache } from './grant-cache.js';
import type { AuthStore } from './store.js';

/** The read-cache key, under a model, of its classification for authorization. */
const CLASSIFICATION_KEY = 'auth:class';

export interface DecisionCacheParts {
  store: AuthStore;
  /** The HTTP edge's dependencies: gets the cache, and its classifyModel goes through the read cache. */
  edge: AuthnDeps;
  /** Grant rows kept (MLFLOW_AUTH_CACHE_MAX_SIZE); 0 turns the cache off. */
  maxGrants: number;
  ttlMs: number;
  /** The registry's database. */
  db: RegistryDatabaseKind;
  /** The auth tables' database (the same object as `db` when they live in it). */
  authDb: object;
  listener: PgListener | undefined;
  cache: ModelReadCache | undefined;
  /** The registry's transactions (with commit hooks): the grant effects drop the cache after they commit. */
  registryDb: object;
}

type Hooks = { afterCommit(tx: Executor, fn: () => void): boolean };
const hasHooks = (db: object): db is Hooks => typeof (db as Partial<Hooks>).afterCommit === 'function';

/** Call before the listener starts (it subscribes to AUTH_CHANGES_CHANNEL). */
export function wireDecisionCache(p: DecisionCacheParts): GrantCache {
  const { store, listener, cache } = p;
  const changes = store.changes;
  if (hasHooks(p.registryDb)) changes.afterCommit = (tx, fn) => (p.registryDb as Hooks).afterCommit(tx, fn);
  const sameDatabase = p.authDb === p.db;
  const announced = announceAuthChanges(changes, p.db, p.authDb, () => listener?.pid ?? 0);

  let grantCache: GrantCache;
  if (sameDatabase && !listener) {
    grantCache = new GrantCache({ maxGrants: p.maxGrants });
  } else if (announced && listener && cache) {
    grantCache = new GrantCache({ maxGrants: p.maxGrants, live: () => cache.live });
    const dropAll = () => grantCache.invalidate();
    listener.subscribe(AUTH_CHANGES_CHANNEL, {
      notify(payload) {
        dropAll();
        // A user's password, admin flag or existence changed on another replica: drop their credentials
        // here as soon as it is heard (the credential cache does not catch up; its TTL bounds the rest).
        const user = changedUser(payload);
        if (user !== undefined) p.edge.authenticator.invalidateUser(user);
        // An access token revoked on another replica (or with the CLI): refused here from now on.
        const token = revokedToken(payload);
        if (token !== undefined) p.edge.tokens?.invalidateToken(token);
      },
      up: dropAll,
      down: dropAll,
    });
  } else if (sameDatabase) {
    grantCache = new GrantCache({ maxGrants: 0 });
  } else {
    grantCache = new GrantCache({ maxGrants: p.maxGrants, ttlMs: p.ttlMs });
  }
  changes.onChange(() => grantCache.invalidate());
  p.edge.grantCache = grantCache;
  // Kept grants and classifications are used once the change feed has caught up since the request
  // arrived; a read may be decided on them first and confirmed then (http/authn.ts), unless either
  // cache dropped something meanwhile (both epochs only grow, so their sum moves whenever either does).
  if (listener && cache) {
    p.edge.feed = listener;
    p.edge.keptVersion = () => grantCache.epoch + cache.epoch;
  }

  // Kept under the model in the read cache, used when the decision has caught up with the change feed
  // (`fresh`, the same catch-up as the grants'); only existing models are kept (a create drops the name).
  const classify = p.edge.classifyModel;
  if (cache && classify) {
    p.edge.keptClassification = (ws, name) => cache.get<{ exists: boolean; isPrompt: boolean }>(modelKey(ws, name), CLASSIFICATION_KEY);
    p.edge.classifyModel = async (ws, name, fresh) => {
      const key = modelKey(ws, name);
      const kept = fresh ? cache.get<{ exists: boolean; isPrompt: boolean }>(key, CLASSIFICATION_KEY) : undefined;
      if (kept) return kept;
      const epoch = cache.epoch;
      const c = await classify(ws, name);
      if (c.exists) cache.put(epoch, key, CLASSIFICATION_KEY, c, 0);
      return c;
    };
  }
  return grantCache;
}
