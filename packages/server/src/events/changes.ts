/**
 * The change feed that keeps a replica's read cache consistent with the other replicas on the same
 * PostgreSQL: LISTEN on CHANGES_CHANNEL (every mutation NOTIFYs the models it changed, in its own
 * transaction, see events/sink.ts) and drop those models from the cache.
 *
 * The cache is used only while the feed is known to work: it goes live once LISTEN succeeds and is
 * emptied and switched off as soon as the connection fails, ends or stops answering the heartbeat
 * (a silently dead connection would otherwise mean missed invalidations), until LISTEN is back.
 */
import pg from 'pg';
import type { Logger } from '../log.js';
import type { ModelReadCache } from '../registry/read-cache.js';
import { CHANGES_CHANNEL } from './sink.js';

/** The feed's connection is recognisable in pg_stat_activity. */
export const FEED_APPLICATION_NAME = 'mlflow-registry-change-feed';

export interface ChangeFeedOptions {
  databaseUrl: string;
  cache: ModelReadCache;
  log: Logger;
  /** Heartbeat period; the connection must answer within the same time. */
  heartbeatMs?: number;
  retryMs?: number;
}

export class ChangeFeed {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: ChangeFeedOptions) {}

  /** Resolves once the first LISTEN attempt has finished (successful or not). */
  start(): Promise<void> {
    return this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.opts.cache.setLive(false);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }

  private down(client: pg.Client, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.opts.cache.setLive(false);
    this.opts.log.warn('read cache off: change feed lost, reconnecting', { reason: why });
    clearTimeout(this.timer);
    client.end().catch(() => {});
    if (!this.stopped) this.timer = setTimeout(() => void this.connect(), this.opts.retryMs ?? 1000);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.opts.databaseUrl, keepAlive: true, application_name: FEED_APPLICATION_NAME });
    client.on('error', (err) => this.down(client, err.message));
    client.on('end', () => this.down(client, 'connection ended'));
    client.on('notification', (n) => {
      if (n.channel !== CHANGES_CHANNEL) return;
      let names: string[] | null = null;
      try {
        const parsed = JSON.parse(n.payload ?? 'null') as unknown;
        if (Array.isArray(parsed)) names = parsed.filter((x): x is string => typeof x === 'string');
      } catch {
        /* unreadable payload: drop everything */
      }
      this.opts.cache.invalidate(names);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (err) {
      this.down(client, (err as Error).message);
      return;
    }
    if (this.stopped || this.client !== client) return void client.end().catch(() => {});
    this.opts.cache.setLive(true);
    this.opts.log.debug('read cache on: listening for registry changes');
    this.heartbeat(client);
  }

  private heartbeat(client: pg.Client): void {
    const period = this.opts.heartbeatMs ?? 5000;
    this.timer = setTimeout(() => {
      if (this.client !== client) return;
      const deadline = setTimeout(() => this.down(client, 'heartbeat timed out'), period);
      client.query('SELECT 1').then(
        () => {
          clearTimeout(deadline);
          if (this.client === client) this.heartbeat(client);
        },
        (err: Error) => {
          clearTimeout(deadline);
          this.down(client, err.message);
        },
      );
    }, period);
  }
}
