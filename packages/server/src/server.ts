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
import { ChangeFeed } from './events/changes.js';

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
  const webhooks = await createWebhooks(db, config, log);
  const { cache, feed } = await createReadCache(db, config, log);
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
    ...artifactHandlers(artifacts.service),
    health: text('OK'),
    version: text(VERSION),
  };

  const app = createApp({ handlers, log, specPath: SPEC_PATH });
  return {
    app,
    db,
    close: async () => {
      await feed?.stop();
      await artifacts.close();
      await webhooks.close();
      await db.close();
    },
  };
}

/**
 * The get-registered-model cache (READ_CACHE_SIZE). On PostgreSQL it is consistent across replicas
 * through the change feed; on a database created by mlflow server it stays off, because MLflow's own
 * writes announce nothing.
 */
async function createReadCache(db: Database, config: Config, log: Logger): Promise<{ cache?: ModelReadCache; feed?: ChangeFeed }> {
  if (config.readCacheSize === 0) return {};
  if (db.mlflowOwned) {
    log.warn('READ_CACHE_SIZE is ignored: this database was created by mlflow server, whose writes would not reach the cache');
    return {};
  }
  if (db.kind === 'pglite' || !config.databaseUrl) return { cache: new ModelReadCache(config.readCacheSize, true) };
  const cache = new ModelReadCache(config.readCacheSize, false);
  const feed = new ChangeFeed({ databaseUrl: config.databaseUrl, cache, log });
  await feed.start();
  return { cache, feed };
}
