/**
 * The process's one LISTEN connection to PostgreSQL, shared by every channel it follows (the read
 * cache's change feed, the webhook worker's wake-ups). It reconnects after any failure and checks
 * the connection with a heartbeat, because a silently dead connection would mean missed
 * notifications. Subscribers hear when LISTEN is up (notifications may have been missed before that
 * moment) and when it is down (they are being missed now).
 */
import pg from 'pg';
import type { Logger } from '../log.js';
import { DB_CONNECT_TIMEOUT_MS } from '../store/db.js';

/** The connection is recognisable in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'mlflow-registry-listener';
/**
 * The same connection of a process whose read cache follows the change feed. Writers look for it to
 * decide whether their changes must be announced (events/sink.ts), so its name is part of the protocol.
 */
export const CACHE_LISTENER_APPLICATION_NAME = 'mlflow-registry-cache-listener';

export interface ChannelSubscriber {
  notify(payload: string | undefined): void;
  /** LISTEN is established, at start or after a reconnect. */
  up?(): void;
  /** The connection is lost; up() follows once it is back. */
  down?(): void;
}

export interface PgListenerOptions {
  databaseUrl: string;
  log: Logger;
  /** Heartbeat period; the connection must answer within the same time. */
  heartbeatMs?: number;
  retryMs?: number;
  /** pg_stat_activity's application_name of the connection (default LISTENER_APPLICATION_NAME). */
  applicationName?: string;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]*$/;
/** A catch-up that takes longer than this counts as failed (its callers fall back to the database). */
const CATCH_UP_TIMEOUT_MS = 1000;

export class PgListener {
  private readonly subscribers = new Map<string, ChannelSubscriber[]>();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  private livePid = 0;
  private readonly roundTrip = coalesced(() => this.catchUpRoundTrip());
  /** Catch-up round trips sent so far; the one in flight (its number); the highest number that completed. */
  private sent = 0;
  private inFlight: { n: number; done: Promise<boolean> } | undefined;
  private heard = 0;

  constructor(private readonly opts: PgListenerOptions) {}

  /** Follows `channel` (a constant identifier); only before start(). */
  subscribe(channel: string, subscriber: ChannelSubscriber): void {
    if (this.started) throw new Error('PgListener.subscribe after start');
    if (!CHANNEL_NAME.test(channel)) throw new Error(`invalid channel name '${channel}'`);
    this.subscribers.set(channel, [...(this.subscribers.get(channel) ?? []), subscriber]);
  }

  /** The backend pid of the connection while LISTEN is established, else 0. */
  get pid(): number {
    return this.livePid;
  }

  /**
   * Resolves true once every notification committed before the call has been handed to the
   * subscribers; false when that cannot be known (LISTEN is down, or the round trip failed or took over
   * a second). It is one empty query on the LISTEN connection: the backend sends the notifications
   * it holds before it answers any query (PostgreSQL delivers them to an idle listener as soon as they
   * are committed, and flushes any pending ones before ReadyForQuery), and the connection hands them
   * to the subscribers in order. Callers waiting at the same moment share one round trip: a call made
   * while one is in flight waits for the next, because that one may have been sent before the changes
   * the caller must hear about committed.
   */
  catchUp(): Promise<boolean> {
    return this.roundTrip();
  }

  /**
   * A mark for `caughtUpSince` and `catchUpSince`, taken when a request arrives: the changes it must
   * see are those committed before this moment.
   */
  mark(): number {
    return this.sent;
  }

  /**
   * Whether every notification committed before `mark` was taken has been heard, with no round trip of
   * its own: a catch-up sent after the mark (another request's, say) has completed since.
   */
  caughtUpSince(mark: number): boolean {
    return this.heard > mark;
  }

  /**
   * catchUp for a caller that holds a mark: true at once when caughtUpSince(mark); the round trip in
   * flight when it was sent after the mark; else the next one (as catchUp).
   */
  catchUpSince(mark: number): Promise<boolean> {
    if (this.heard > mark) return Promise.resolve(true);
    const current = this.inFlight;
    return current && current.n > mark ? current.done : this.roundTrip();
  }

  private catchUpRoundTrip(): Promise<boolean> {
    const client = this.client;
    if (!client || !this.livePid) return Promise.resolve(false);
    const n = ++this.sent;
    let timer: NodeJS.Timeout | undefined;
    const done = Promise.race([
      client.query('').then(
        () => {
          // Only a round trip answered on the connection still listening counts as heard.
          const ok = this.client === client;
          if (ok && n > this.heard) this.heard = n;
          return ok;
        },
        () => false,
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, CATCH_UP_TIMEOUT_MS, false))),
    ]).finally(() => {
      clearTimeout(timer);
      if (this.inFlight?.n === n) this.inFlight = undefined;
    });
    this.inFlight = { n, done };
    return done;
  }

  /** Resolves once the first LISTEN attempt has finished (successful or not); later attempts run on their own. */
  start(): Promise<void> {
    this.started = true;
    return this.subscribers.size > 0 ? this.connect() : Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const c = this.client;
    this.client = undefined;
    this.livePid = 0;
    if (c) this.each((s) => s.down?.());
    await c?.end().catch(() => {});
  }

  private each(fn: (s: ChannelSubscriber) => void): void {
    for (const list of this.subscribers.values()) {
      for (const s of list) {
        try {
          fn(s);
        } catch (err) {
          this.opts.log.error('LISTEN subscriber failed', { error: (err as Error).message });
        }
      }
    }
  }

  private down(client: pg.Client, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.livePid = 0;
    this.opts.log.warn('LISTEN connection lost, reconnecting', { reason: why });
    this.each((s) => s.down?.());
    clearTimeout(this.timer);
    client.end().catch(() => {});
    if (!this.stopped) this.timer = setTimeout(() => void this.connect(), this.opts.retryMs ?? 1000);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.opts.databaseUrl,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Without a limit, a connect to a host that does not answer would wait for the kernel (minutes)
      // before the next attempt; the heartbeat only runs once connected.
      connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS,
      application_name: this.opts.applicationName ?? LISTENER_APPLICATION_NAME,
    });
    client.on('error', (err) => this.down(client, err.message));
    client.on('end', () => this.down(client, 'connection ended'));
    client.on('notification', (n) => {
      for (const s of this.subscribers.get(n.channel) ?? []) s.notify(n.payload);
    });
    this.client = client;
    try {
      await client.connect();
      for (const channel of this.subscribers.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.down(client, (err as Error).message);
      return;
    }
    if (this.stopped || this.client !== client) return void client.end().catch(() => {});
    this.livePid = (client as unknown as { processID: number }).processID;
    this.opts.log.debug('listening', { channels: [...this.subscribers.keys()] });
    this.each((s) => s.up?.());
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

/**
 * Shares calls of `run` between callers: a call made while none is in flight starts one; a call made
 * while one is in flight waits for the next one, started when that one ends, and shared by every call
 * made meanwhile (the one in flight may have started before what the caller needs to be covered).
 */
export function coalesced<T>(run: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const start = (): Promise<T> => {
    const p: Promise<T> = run().finally(() => {
      if (inFlight === p) inFlight = undefined;
    });
    inFlight = p;
    return p;
  };
  return () => {
    if (queued) return queued;
    if (!inFlight) return start();
    const next = inFlight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return start();
      });
    queued = next;
    return next;
  };
}
