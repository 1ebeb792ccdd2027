/**
 * The change feed that keeps a replica's read cache consistent with the other replicas on the same
 * PostgreSQL: on CHANGES_CHANNEL every mutation NOTIFYs the models it changed, in its own
 * transaction, whenever another replica's cache listens (events/sink.ts), and this subscriber drops
 * them from the cache.
 *
 * The cache is used only while the feed is known to work: it goes live once LISTEN succeeds and is
 * emptied and switched off as soon as the connection fails, ends or stops answering the heartbeat
 * (events/listener.ts), until LISTEN is back. And before it uses a kept answer it catches up with the
 * feed (PgListener.catchUp, wired in server.ts), so a notification committed before the read arrived
 * has always been heard: replicas are exact, not merely close.
 *
 * Writers announce only while some other replica's cache is registered in registry_cache_listeners
 * (events/sink.ts). So once LISTEN is up, the cache registers its connection's pid there and then
 * waits until every transaction on this database that held an xid at that moment has ended (a
 * long transaction on another database of the cluster does not hold it back): such a writer may have
 * looked before the registration and decided not to announce, but its change is visible to the
 * cache's loads once it has ended, and every later writer sees the registration. Each caching replica
 * also deletes the rows of listeners that are gone (checked in pg_stat_activity) when it registers
 * and every minute, so that writers stop announcing to nobody.
 */
import type { ModelReadCache } from '../registry/read-cache.js';
import type { Executor } from '../store/db.js';
import type { Logger } from '../log.js';
import { CACHE_LISTENER_APPLICATION_NAME, type PgListener } from './listener.js';
import { CHANGES_CHANNEL } from './sink.js';

/** How often the wait for earlier writers looks again (they are short transactions). */
const WRITERS_POLL_MS = 10;
/** How soon a cache whose registration failed tries again. */
const GO_LIVE_RETRY_MS = 500;
/** How often a live cache deletes the registrations of listeners that are gone. */
const PRUNE_MS = 60_000;

const PRUNE_SQL = `DELETE FROM registry_cache_listeners l WHERE NOT EXISTS (
  SELECT 1 FROM pg_stat_activity a WHERE a.pid = l.pid AND a.application_name = '${CACHE_LISTENER_APPLICATION_NAME}')`;
const REGISTER_SQL = `INSERT INTO registry_cache_listeners (pid, registered_at) VALUES ($1, $2)
  ON CONFLICT (pid) DO UPDATE SET registered_at = EXCLUDED.registered_at`;

const prune = (db: Executor, log: Logger) =>
  db.query(PRUNE_SQL).catch((err: Error) => log.warn('could not prune registry_cache_listeners', { error: err.message }));

/**
 * Every process that writes on PostgreSQL deletes the registrations of cache listeners that are gone
 * every minute (a crashed replica's row would otherwise keep the writers announcing to nobody).
 */
export function pruneCacheListeners(db: Executor, log: Logger): { stop(): void } {
  const timer = setInterval(() => void prune(db, log), PRUNE_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

export interface ChangeFeed {
  /** Deletes this process's registration (before the listener stops). */
  stop(): Promise<void>;
}

export function followChanges(listener: PgListener, db: Executor, cache: ModelReadCache, log: Logger): ChangeFeed {
  // Each up() starts a generation; a down() (or the next up()) makes its pending wait moot.
  let generation = 0;
  let registered = 0;
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
      const mine = ++generation;
      const current = () => mine === generation;
      const pid = listener.pid;
      const goLive = async () => {
        await prune(db, log);
        await db.query(REGISTER_SQL, [pid, Date.now()]);
        registered = pid;
        await waitForEarlierWriters(db, current, log);
      };
      let warned = false;
      const attempt = (): void =>
        void goLive().then(
          () => {
            if (!current()) return;
            cache.setLive(true);
            log.debug('read cache on: listening for registry changes');
          },
          (err: Error) => {
            if (!current()) return;
            // The database is failing while LISTEN works (its pooled connections were lost, say): try
            // again, until it works or the LISTEN connection goes down (a later up() starts over).
            if (!warned) log.warn('read cache stays off for now: could not register with the change feed', { error: err.message });
            warned = true;
            setTimeout(() => current() && attempt(), GO_LIVE_RETRY_MS).unref();
          },
        );
      attempt();
    },
    down() {
      generation++;
      cache.setLive(false);
      log.warn('read cache off until the change feed is back');
    },
  });
  return {
    async stop() {
      generation++;
      if (registered) await db.query('DELETE FROM registry_cache_listeners WHERE pid = $1', [registered]).catch(() => {});
    },
  };
}

/**
 * Resolves once every transaction on this database that held an xid when it was called has committed
 * or aborted: it takes an xid itself (every xid below it was assigned earlier) and waits until no
 * session of this database runs an older one. (A snapshot's list of running xids would not do: it
 * omits those at or above its xmax, the latest ones; and the snapshot's xmin would wait for the
 * other databases of the cluster too. `backend_xid` is visible to every role.)
 */
async function waitForEarlierWriters(db: Executor, current: () => boolean, log: Logger): Promise<void> {
  const [mine] = await db.query<{ x: string }>(`SELECT (pg_current_xact_id()::text::numeric % 4294967296)::text AS x`);
  const started = Date.now();
  let warned = false;
  while (current()) {
    const [r] = await db.query<{ done: boolean }>(
      `SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity
                           WHERE datname = current_database() AND backend_xid IS NOT NULL
                             AND age(backend_xid) > age($1::xid)) AS done`,
      [mine!.x],
    );
    if (r!.done) return;
    if (!warned && Date.now() - started > 10_000) {
      warned = true;
      log.warn('read cache waits for transactions that were open when it started listening to end');
    }
    await new Promise((resolve) => setTimeout(resolve, WRITERS_POLL_MS));
  }
}
