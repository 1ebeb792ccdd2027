/**
 * The change feed that keeps a replica's read cache consistent with the other replicas on the same
 * PostgreSQL: on CHANGES_CHANNEL every mutation NOTIFYs the models it changed, in its own
 * transaction (events/sink.ts), and this subscriber drops them from the cache.
 *
 * The cache is used only while the feed is known to work: it goes live once LISTEN succeeds and is
 * emptied and switched off as soon as the connection fails, ends or stops answering the heartbeat
 * (events/listener.ts), until LISTEN is back.
 */
import type { ModelReadCache } from '../registry/read-cache.js';
import type { Logger } from '../log.js';
import type { PgListener } from './listener.js';
import { CHANGES_CHANNEL } from './sink.js';

export function followChanges(listener: PgListener, cache: ModelReadCache, log: Logger): void {
  listener.subscribe(CHANGES_CHANNEL, {
    notify(payload) {
      let names: string[] | null = null;
      try {
        const parsed = JSON.parse(payload ?? 'null') as unknown;
        if (Array.isArray(parsed)) names = parsed.filter((x): x is string => typeof x === 'string');
      } catch {
        /* unreadable payload: drop everything */
      }
      cache.invalidate(names);
    },
    up() {
      cache.setLive(true);
      log.debug('read cache on: listening for registry changes');
    },
    down() {
      cache.setLive(false);
      log.warn('read cache off until the change feed is back');
    },
  });
}
