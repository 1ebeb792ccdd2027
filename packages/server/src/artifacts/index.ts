/** Builds the artifact store, service and location rules from the configuration (called by server.ts). */
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/db.js';
import { LocalArtifactStore } from './local.js';
import { ArtifactService } from './service.js';
import { ArtifactLocations } from './download-uri.js';
import type { ArtifactStore } from './store.js';

export interface Artifacts {
  store: ArtifactStore;
  service: ArtifactService;
  locations: ArtifactLocations;
  /**
   * URIs whose hosts are our own artifact storage (PUBLIC_URL, the S3 endpoints): model version sources
   * naming them pass MLflow's host-addressed source policy (registry/source-policy.ts).
   */
  trustedUris: string[];
  close(): Promise<void>;
}

/** `db` is the server's database: the PostgreSQL store (ARTIFACTS_STORE=postgres) keeps the bytes there. */
export async function createArtifacts(config: Config, log: Logger, db?: Database): Promise<Artifacts> {
  const a = config.artifacts;
  let store: ArtifactStore;
  if (config.artifactsStore === 'postgres') {
    if (!db) throw new Error('ARTIFACTS_STORE=postgres needs the database');
    const { migrateArtifactTables } = await import('./pg-migrations.js');
    const { PostgresArtifactStore } = await import('./postgres.js');
    await migrateArtifactTables(db, log);
    const pgStore = new PostgresArtifactStore(db, { log });
    // Bytes of uploads that died with a previous process, and releases whose grace ended while none ran.
    pgStore.scheduleSweep();
    store = pgStore;
  } else if (config.artifactsStore === 's3' && config.s3) {
    // Loaded only when used: the AWS SDK adds about 15 MB of RSS to a server that stores artifacts locally.
    const { S3ArtifactStore } = await import('./s3.js');
    store = new S3ArtifactStore({
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      region: config.s3.region,
      endpoint: config.s3.endpoint,
      presignEndpoint: a.s3PresignEndpoint,
      accessKeyId: config.s3.accessKeyId,
      secretAccessKey: config.s3.secretAccessKey,
      sessionToken: a.s3SessionToken,
    });
  } else {
    const local = new LocalArtifactStore(path.join(config.dataDir, 'artifacts'));
    await local.init();
    store = local;
  }
  log.debug('artifact store', { store: store.description, downloadUri: a.downloadUri, directTransfer: a.directTransfer });
  const service = new ArtifactService(store, { presignExpiresSec: a.presignExpiresSec, directTransfer: a.directTransfer });
  const locations = new ArtifactLocations({
    store,
    mode: a.downloadUri,
    publicUrl: a.publicUrl,
    presignExpiresSec: a.presignExpiresSec,
  });
  const trustedUris = [a.publicUrl, config.s3?.endpoint, a.s3PresignEndpoint].filter((u): u is string => u !== undefined);
  return { store, service, locations, trustedUris, close: () => store.close() };
}
