/**
 * The delivery worker: reads the outbox (`webhook_deliveries`, written in the transaction of each
 * change by events/sink.ts) and POSTs each delivery to its webhook.
 *
 * - Claiming: `SELECT … FOR UPDATE SKIP LOCKED` picks due rows no other worker is claiming, and the
 *   same statement marks them IN_FLIGHT with a lease (`due_at = now + lease`, by the database clock).
 *   Several replicas therefore never take the same delivery at once; if a worker dies, its leases
 *   expire and another worker (or it, restarted) retries: at-least-once across crashes and restarts.
 *   The outcome is written only while the claim is still ours (same attempt number and worker).
 * - Sending: MLflow's body and headers (payloads.ts), the delivery id stable across retries, the
 *   signature computed per attempt (its timestamp is the time of sending), SSRF checks at connect
 *   time, no redirects, no proxy, a timeout (http.ts).
 * - Retrying: 429, any 5xx and network errors are retried with exponential backoff plus jitter,
 *   honouring Retry-After, up to MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES retries. Other statuses, an SSRF
 *   refusal, a URL whose scheme is no longer allowed or a secret that cannot be decrypted are final.
 *   Deliveries to a webhook deleted or disabled since the event are cancelled.
 * - Waking: after the COMMIT of a change that created deliveries (in-process), on PostgreSQL
 *   notifications from other replicas (LISTEN), and by polling every WEBHOOK_POLL_INTERVAL_MS.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { isUnavailable, pooledTransaction, poolOptions, type Database, type Executor } from '../store/db.js';
import type { Logger } from '../log.js';
import type { WebhookConfig } from '../config.js';
import { validateWebhookUrl } from '../registry/validation.js';
import { MlflowError } from '../errors.js';
import { DELIVERY_CHANNEL } from '../events/sink.js';
import type { PgListener } from '../events/listener.js';
import type { Fernet } from './fernet.js';
import { deliveryBody, deliveryHeaders } from './payloads.js';
import { createAgents, postJson, TimeoutError, type WebhookAgents } from './http.js';
import { DB_NOW_MS } from '../store/clock.js';

const MAX_RETRY_AFTER_MS = 3_600_000;
const MAX_STORED_BODY = 1000;
/** While the database is unavailable, how often the outcome of a finished attempt is tried again (doubling up to the cap). */
const RECORD_RETRY_MS = 100;
const RECORD_RETRY_MAX_MS = 2_000;

interface ClaimedRow {
  id: number;
  delivery_id: string;
  event_id: number;
  webhook_id: string;
  attempts: number;
  entity: string;
  action: string;
  time: number;
  payload: string | null;
  url: string | null;
  secret: string | null;
  webhook_status: string | null;
  deleted_timestamp: number | null;
  workspace: string | null;
}

type Outcome = {
  status: 'DELIVERED' | 'PENDING' | 'FAILED' | 'CANCELLED';
  retryInMs?: number;
  responseStatus?: number;
  responseBody?: string;
  error?: string;
  /** Whether an HTTP attempt was made (and so is logged in webhook_delivery_attempts). */
  attempted: boolean;
  startedAt?: number;
};

const CLAIM_SQL = `
WITH due AS (
  SELECT id, status AS old_status FROM webhook_deliveries
   WHERE status IN ('PENDING', 'IN_FLIGHT') AND due_at <= ${DB_NOW_MS}
   ORDER BY due_at, id
   LIMIT $1
   FOR UPDATE SKIP LOCKED
), upd AS (
  UPDATE webhook_deliveries d
     SET status = 'IN_FLIGHT', attempts = d.attempts + 1, due_at = ${DB_NOW_MS} + $2::bigint, claimed_by = $3, claimed_at = ${DB_NOW_MS}
    FROM due
   WHERE d.id = due.id
  RETURNING d.id, d.delivery_id, d.event_id, d.webhook_id, d.attempts, due.old_status
), lost AS (
  INSERT INTO webhook_delivery_attempts (delivery_row_id, attempt, started_at, finished_at, error, worker)
  SELECT id, attempts - 1, NULL, ${DB_NOW_MS}, 'Lease expired: the worker that claimed this attempt stopped before recording its outcome.', NULL
    FROM upd WHERE old_status = 'IN_FLIGHT'
  RETURNING 1
)
SELECT upd.id, upd.delivery_id, upd.event_id, upd.webhook_id, upd.attempts,
       e.entity, e.action, e.time, e.payload,
       w.url, w.secret, w.status AS webhook_status, w.deleted_timestamp, w.workspace,
       (SELECT count(*) FROM lost)::integer AS lost
  FROM upd
  JOIN registry_events e ON e.id = upd.event_id
  LEFT JOIN webhooks w ON w.webhook_id = upd.webhook_id
 ORDER BY upd.id`;

const FINISH_SQL = `
WITH upd AS (
  UPDATE webhook_deliveries
     SET status = $4::text,
         attempts = CASE WHEN $11::boolean THEN attempts ELSE attempts - 1 END,
         due_at = CASE WHEN $4::text = 'PENDING' THEN ${DB_NOW_MS} + $5::bigint ELSE due_at END,
         finished_at = CASE WHEN $4::text = 'PENDING' THEN NULL ELSE $7::bigint END,
         last_status_code = $8::integer,
         last_error = $9::text
   WHERE id = $1 AND attempts = $2 AND claimed_by = $3 AND status = 'IN_FLIGHT'
  RETURNING id
), att AS (
  INSERT INTO webhook_delivery_attempts (delivery_row_id, attempt, started_at, finished_at, response_status, response_body, error, worker)
  SELECT $1, $2, $6::bigint, $7::bigint, $8::integer, $10::text, $9::text, $3 WHERE $11::boolean
  RETURNING 1
)
SELECT (SELECT count(*) FROM upd)::integer AS updated, (SELECT count(*) FROM att)::integer AS logged`;

/** `Retry-After`: delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Math.min(Number(t) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(t);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), MAX_RETRY_AFTER_MS);
}

/** Backoff before retry number `attempt` (1-based count of attempts made so far), with jitter. */
export function backoffMs(attempt: number, cfg: Pick<WebhookConfig, 'retryBaseMs' | 'retryMaxMs'>, random: () => number = Math.random): number {
  const exp = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp + random() * Math.min(1000, cfg.retryBaseMs));
}

const origin = (url: string | null): string | undefined => {
  try {
    return url ? new URL(url).origin : undefined;
  } catch {
    return undefined;
  }
};

export interface DeliveryWorkerOptions {
  db: Database;
  /** PostgreSQL URL of the worker's own pool; unset on PGlite. */
  databaseUrl?: string;
  /** The process's LISTEN connection (PostgreSQL), for wake-ups from other replicas; polling covers any gap. */
  listener?: PgListener;
  config: WebhookConfig;
  cipher: Fernet;
  log: Logger;
  workerId?: string;
  /** MLFLOW_ENABLE_WORKSPACES: deliveries then carry the webhook's workspace, as MLflow's do. */
  workspacesEnabled?: boolean;
}

export class DeliveryWorker {
  readonly id: string;
  /** Where the worker's statements run: its own small pool on PostgreSQL, else the shared database. */
  private readonly db: Executor;
  private readonly pool: pg.Pool | undefined;
  private readonly cfg: WebhookConfig;
  private readonly log: Logger;
  private readonly cipher: Fernet;
  private readonly agents: WebhookAgents;
  private readonly inflight = new Map<number, { done: Promise<void>; abort: AbortController }>();
  private stopped = true;
  private kicked = false;
  private backlog = false;
  private wakeUp: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;
  /** Wake-ups for the retries this worker scheduled (polling finds them too, later). */
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  /** The last claim failed (logged once per outage). */
  private claimFailing = false;
  /** Attempts finished since start, by outcome (metrics): delivered, retry, failed, cancelled, unrecorded. */
  readonly outcomes: Record<string, number> = { delivered: 0, retry: 0, failed: 0, cancelled: 0, unrecorded: 0 };

  constructor(private readonly opts: DeliveryWorkerOptions) {
    if (opts.databaseUrl) {
      // Its own connections, so that request load does not delay deliveries, and each statement in a
      // transaction with asynchronous commit (SET LOCAL: nothing leaks to other sessions, even through
      // a transaction-pooling proxy): claims and outcomes need no fsync of their own. A database crash
      // may then lose the last claims or outcomes, and those deliveries are repeated (at-least-once holds).
      const pool = new pg.Pool(poolOptions(opts.databaseUrl, 3));
      // Idle clients whose connection broke are dropped by the pool; checked-out ones are guarded by pooledTransaction.
      pool.on('error', (err) => this.log.debug('webhook delivery: idle connection failed', { error: err.message }));
      this.pool = pool;
      this.db = {
        query: <T,>(text: string, params?: readonly unknown[], name?: string) =>
          pooledTransaction(pool, async (tx) => {
            await tx.query('SET LOCAL synchronous_commit TO off');
            return tx.query<T>(text, params, name);
          }),
      };
    } else {
      this.db = opts.db;
    }
    this.cfg = opts.config;
    this.log = opts.log;
    this.cipher = opts.cipher;
    // Pooled connections; an attempt's connect may take its whole timeout, as before.
    this.agents = createAgents(opts.config.requestTimeoutMs);
    // Another replica created deliveries; after a reconnect some may have been announced unheard.
    opts.listener?.subscribe(DELIVERY_CHANNEL, { notify: () => this.kick(), up: () => this.kick() });
    this.id = opts.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`.slice(0, 200);
  }

  /** The worker's own pool now (PostgreSQL; metrics). */
  poolStats(): { total: number; idle: number; waiting: number; max: number } | undefined {
    const p = this.pool;
    return p && { total: p.totalCount, idle: p.idleCount, waiting: p.waitingCount, max: 3 };
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loopDone = this.loop();
  }

  /** Wakes the worker: new deliveries may be due. */
  kick(): void {
    this.kicked = true;
    this.wakeUp?.();
  }

  /** Stops claiming, lets in-flight deliveries finish for up to `graceMs`, then aborts the rest (they are retried later). */
  async stop(graceMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wakeUp?.();
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    await this.loopDone;
    if (this.inflight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all([...this.inflight.values()].map((f) => f.done)),
        new Promise<void>((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
      for (const f of this.inflight.values()) f.abort.abort();
      await Promise.all([...this.inflight.values()].map((f) => f.done));
    }
    await this.agents.destroy();
    await this.pool?.end().catch(() => {});
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.kicked = false;
      const free = this.cfg.maxWorkers - this.inflight.size;
      let full = false;
      if (free > 0) {
        let rows: ClaimedRow[] = [];
        try {
          rows = await this.db.query<ClaimedRow>(CLAIM_SQL, [free, this.cfg.leaseMs, this.id], 'webhook_claim');
          if (this.claimFailing) {
            this.claimFailing = false;
            this.log.info('webhook delivery: claiming deliveries again');
          }
        } catch (err) {
          // Once per outage at warn level (the loop tries again every poll interval, and when LISTEN is back).
          if (!this.stopped) {
            const level = this.claimFailing && isUnavailable(err) ? 'debug' : 'warn';
            this.log[level]('webhook delivery: cannot claim deliveries', { error: (err as Error).message });
            this.claimFailing = true;
          }
        }
        for (const row of rows) this.dispatch(row);
        full = rows.length === free;
      } else {
        full = true; // every slot busy: more may be due, look again when one frees up
      }
      this.backlog = full;
      if (this.stopped) break;
      if (this.kicked || (full && this.inflight.size < this.cfg.maxWorkers)) continue;
      await this.sleep(this.cfg.pollIntervalMs);
    }
  }

  private dispatch(row: ClaimedRow): void {
    const abort = new AbortController();
    const claimedAt = Date.now();
    const done = this.deliver(row, abort.signal, claimedAt)
      .catch((err) =>
        isUnavailable(err)
          ? this.log.warn('webhook delivery: could not record the outcome (the database is unavailable); the delivery is retried once its lease expires', {
              delivery_id: row.delivery_id,
              error: (err as Error).message,
            })
          : this.log.error('webhook delivery: unexpected failure', { delivery_id: row.delivery_id, error: (err as Error).stack }),
      )
      .finally(() => {
        this.inflight.delete(row.id);
        if (this.backlog && !this.stopped) this.kick();
      });
    this.inflight.set(row.id, { done, abort });
  }

  private maxAttempts(): number {
    return this.cfg.maxRetries + 1;
  }

  private async attempt(row: ClaimedRow, signal: AbortSignal): Promise<Outcome> {
    if (row.url === null || row.deleted_timestamp !== null) return { status: 'CANCELLED', error: 'The webhook was deleted.', attempted: false };
    if (row.webhook_status !== 'ACTIVE') return { status: 'CANCELLED', error: 'The webhook is disabled.', attempted: false };
    if (row.attempts > this.maxAttempts()) {
      return { status: 'FAILED', error: `Gave up after ${this.maxAttempts()} attempts.`, attempted: false };
    }
    try {
      validateWebhookUrl(row.url, this.cfg.allowedSchemes);
    } catch (err) {
      return { status: 'FAILED', error: err instanceof MlflowError ? err.message : String(err), attempted: false };
    }
    let secret: string | null = null;
    try {
      secret = row.secret ? this.cipher.decrypt(row.secret) : null;
    } catch (err) {
      return {
        status: 'FAILED',
        error: `Cannot decrypt the webhook secret (${(err as Error).message}); was it encrypted with another MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY?`,
        attempted: false,
      };
    }
    const body = deliveryBody(row.entity, row.action, row.time, row.payload ?? '{}', this.opts.workspacesEnabled ? (row.workspace ?? undefined) : undefined);
    const startedAt = Date.now();
    const retryable = row.attempts < this.maxAttempts();
    try {
      const res = await postJson(row.url, body, deliveryHeaders(row.delivery_id, body, secret), {
        timeoutMs: this.cfg.requestTimeoutMs,
        allowPrivateTargets: this.cfg.allowPrivateTargets,
        agents: this.agents,
        signal,
      });
      const base = { responseStatus: res.status, responseBody: res.body.slice(0, MAX_STORED_BODY), attempted: true, startedAt };
      if (res.status >= 200 && res.status < 300) return { status: 'DELIVERED', ...base };
      if (res.status === 429 || res.status >= 500) {
        if (!retryable) return { status: 'FAILED', error: `HTTP ${res.status}; gave up after ${row.attempts} attempts.`, ...base };
        const retryInMs = parseRetryAfter(res.headers['retry-after']) ?? backoffMs(row.attempts, this.cfg);
        return { status: 'PENDING', retryInMs, error: `HTTP ${res.status}`, ...base };
      }
      if (res.status >= 300 && res.status < 400) return { status: 'FAILED', error: `HTTP ${res.status} (redirects are not followed)`, ...base };
      return { status: 'FAILED', error: `HTTP ${res.status}`, ...base };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const message = e instanceof TimeoutError ? e.message : e.code ? `${e.code}: ${e.message}` : e.message;
      if (e.name === 'SSRFProtectionError') return { status: 'FAILED', error: message, attempted: true, startedAt };
      if (signal.aborted) return { status: 'PENDING', retryInMs: 0, error: message, attempted: true, startedAt };
      if (!retryable) return { status: 'FAILED', error: `${message}; gave up after ${row.attempts} attempts.`, attempted: true, startedAt };
      return { status: 'PENDING', retryInMs: backoffMs(row.attempts, this.cfg), error: message, attempted: true, startedAt };
    }
  }

  /**
   * Records an attempt's outcome. While the database is unavailable it tries again (100 ms doubling up to
   * 2 s) until the claim's lease would have run out, so that an outage shorter than the lease neither
   * loses the outcome nor delays the delivery's retry until the lease expires. (Past the lease another
   * worker may have taken the delivery over, and FINISH_SQL would not record anything anyway.)
   */
  private async record(params: unknown[], claimedAt: number): Promise<{ updated: number }[]> {
    const deadline = claimedAt + this.cfg.leaseMs;
    for (let wait = RECORD_RETRY_MS; ; wait = Math.min(wait * 2, RECORD_RETRY_MAX_MS)) {
      try {
        return await this.db.query<{ updated: number }>(FINISH_SQL, params, 'webhook_finish');
      } catch (err) {
        if (this.stopped || !isUnavailable(err) || Date.now() + wait >= deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait).unref());
      }
    }
  }

  private async deliver(row: ClaimedRow, signal: AbortSignal, claimedAt: number): Promise<void> {
    const outcome = await this.attempt(row, signal);
    const finishedAt = Date.now();
    const res = await this.record(
      [
        row.id,
        row.attempts,
        this.id,
        outcome.status,
        outcome.retryInMs ?? 0,
        outcome.startedAt ?? null,
        finishedAt,
        outcome.responseStatus ?? null,
        outcome.error ?? null,
        outcome.responseBody ?? null,
        outcome.attempted,
      ],
      claimedAt,
    );
    const fields = {
      delivery_id: row.delivery_id,
      webhook_id: row.webhook_id,
      event: `${row.entity}.${row.action}`,
      attempt: row.attempts,
      target: origin(row.url),
      status: outcome.responseStatus,
      ms: outcome.startedAt ? finishedAt - outcome.startedAt : undefined,
    };
    if (outcome.status === 'PENDING' && res[0]?.updated !== 0 && !this.stopped) {
      const t = setTimeout(() => {
        this.retryTimers.delete(t);
        this.kick();
      }, (outcome.retryInMs ?? 0) + 5);
      t.unref();
      this.retryTimers.add(t);
    }
    const counted = res[0]?.updated === 0 ? 'unrecorded' : outcome.status === 'PENDING' ? 'retry' : outcome.status.toLowerCase();
    this.outcomes[counted] = (this.outcomes[counted] ?? 0) + 1;
    if (res[0]?.updated === 0) {
      this.log.warn('webhook delivery: claim expired before the outcome was recorded (the delivery may be repeated)', fields);
    } else if (outcome.status === 'DELIVERED') {
      this.log.debug('webhook delivered', fields);
    } else {
      this.log.warn(`webhook delivery ${outcome.status === 'PENDING' ? 'will be retried' : outcome.status.toLowerCase()}`, {
        ...fields,
        error: outcome.error,
        retry_in_ms: outcome.retryInMs,
      });
    }
  }
}
