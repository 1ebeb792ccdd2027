/**
 * Composition of webhooks and the audit history, called by server.ts: the event sink the registry
 * writes its events through, the webhook and history services with their HTTP handlers, and the
 * delivery worker (started here, stopped by `close`).
 */
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Database } from '../store/db.js';
import type { PgListener } from '../events/listener.js';
import type { EventSink } from '../registry/events.js';
import type { Handler } from '../http/app.js';
import { withCommitHooks } from '../events/commit-hooks.js';
import { PgEventSink } from '../events/sink.js';
import { HistoryService } from '../events/history.js';
import { historyHandlers, type HistoryOperationId } from '../http/handlers/history.js';
import { webhookHandlers, type WebhookOperationId } from '../http/handlers/webhooks.js';
import { loadSecretCipher } from './secret-key.js';
import { WebhookService } from './service.js';
import { DeliveryWorker } from './worker.js';

export interface Webhooks {
  /** The database the registry must write through (its transactions wake the worker after COMMIT). */
  db: Database;
  events: EventSink;
  handlers: { [K in WebhookOperationId | HistoryOperationId]: Handler<K> };
  worker: DeliveryWorker | undefined;
  close(): Promise<void>;
}

export async function createWebhooks(db: Database, config: Config, log: Logger, listener?: PgListener): Promise<Webhooks> {
  const cfg = config.webhooks;
  const hooked = withCommitHooks(db);
  const cipher = await loadSecretCipher(db, cfg.secretEncryptionKey, log);
  const worker = cfg.deliveryEnabled ? new DeliveryWorker({ db, databaseUrl: config.databaseUrl, listener, config: cfg, cipher, log, workspacesEnabled: config.workspaces.enabled }) : undefined;
  const events = new PgEventSink({
    hooks: hooked,
    onDeliveries: worker ? () => worker.kick() : undefined,
    // Every replica on PostgreSQL announces its changes while another replica's read cache listens.
    announceChanges: db.kind === 'postgres' ? { ownListenerPid: () => listener?.pid ?? 0 } : undefined,
  });
  const service = new WebhookService(db, { config: cfg, cipher, log, workspacesEnabled: config.workspaces.enabled });
  const history = new HistoryService(db);
  worker?.start();
  if (!worker) log.warn('webhook delivery is disabled in this process (WEBHOOK_DELIVERY_ENABLED=false); events are queued');
  return {
    db: hooked,
    events,
    handlers: { ...webhookHandlers(service), ...historyHandlers(history) },
    worker,
    close: async () => {
      await worker?.stop(Math.min(5000, config.shutdownTimeoutMs));
    },
  };
}
