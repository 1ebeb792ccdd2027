/**
 * Composition root: builds the database, stores, services, handlers and the Hono app from a
 * validated Config. main.ts calls it for the real process; tests call it to run in-process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import { MlflowError } from './errors.js';
import { openPglite, openPostgres, type Database } from './store/db.js';
import { RegistryStore } from './store/registry-store.js';
import { RegistryService } from './registry/service.js';
import { refuseHostAddressedSource } from './registry/source-policy.js';
import { createApp, type Handler, type Handlers } from './http/app.js';
import { registryHandlers } from './http/handlers/registry.js';
import { artifactHandlers } from './http/handlers/artifacts.js';
import { createWebhooks } from './webhooks/index.js';
import { createArtifacts } from './artifacts/index.js';
import { ModelReadCache } from './registry/read-cache.js';
import { followChanges, pruneCacheListeners, type ChangeFeed } from './events/changes.js';
import { CACHE_LISTENER_APPLICATION_NAME, LISTENER_APPLICATION_NAME, PgListener } from './events/listener.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SPEC_PATH = path.resolve(here, '../../../openapi/openapi.json');
export const VERSION: string = (JSON.parse(fs.readFileSync(path.resolve(here, '../package.json'), 'utf8')) as { version: string }).version;

export interface Server {
  app: Hono;
  db: Database;
  close(): Promise<void>;
}

const notBuilt =
  (what: string): Handler =>
  () => {
    throw MlflowError.notImplemented(`${what} is not available on this server yet.`);
  };

export async function createServer(config: Config, log: Logger): Promise<Server> {
  const db = config.databaseUrl
    ? await openPostgres(config.databaseUrl, config.dbPoolMax, log)
    : await openPglite(path.join(config.dataDir, 'db'), log);

  const artifacts = await createArtifacts(config, log);
  const sourcePolicy = { trustedUris: artifacts.trustedUris, allowedSchemes: config.allowedHostAddressedSchemes };
  // One LISTEN connection per process on PostgreSQL, for the webhook worker and the read cache; its
  // name tells the other replicas whether a cache listens (they announce their changes only then).
  const caching = readCacheWanted(db, config, log);
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
  const pruner = db.kind === 'postgres' && !db.mlflowOwned ? pruneCacheListeners(db, log) : undefined;
  await listener?.start();
  const registry = new RegistryService(new RegistryStore(webhooks.db), {
    cache,
    events: webhooks.events,
    downloadUri: (location) => artifacts.locations.downloadUri(location),
    sourceRegex: config.sourceRegex,
    checkSourceHost: (source) => refuseHostAddressedSource(source, sourcePolicy),
  });

  const text = (body: string) => () => new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const handlers: Handlers = {
    ...registryHandlers(registry),
    ...webhooks.handlers,
    ...artifactHandlers(artifacts.service, config.limits),
    health: text('OK'),
    version: text(VERSION),
  };

  const app = createApp({ handlers, log, specPath: SPEC_PATH, limits: config.limits, security: config.security });
  return {
    app,
    db,
    close: async () => {
      pruner?.stop();
      await feed?.stop();
      await listener?.stop();
      await artifacts.close();
      await webhooks.close();
      await db.close();
    },
  };
}

/**
 * Whether this process keeps a read cache (READ_CACHE_MB > 0): not on a database created by mlflow
 * server, because MLflow's own writes announce nothing.
 */
function readCacheWanted(db: Database, config: Config, log: Logger): boolean {
  if (config.readCacheBytes === 0) return false;
  if (db.mlflowOwned) {
    log.info('read cache off: this database was created by mlflow server, whose writes would not reach the cache');
    return false;
  }
  return true;
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
