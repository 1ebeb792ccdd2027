/**
 * METADATA_STORE=s3: the registry's metadata kept in an S3 bucket, with no database server.
 *
 * Each replica runs the embedded engine in memory, with the same migrations as every other mode, and
 * the bucket holds the change log (change-log.ts) that all replicas replay. So every query the registry,
 * webhooks, workspaces and history already run works unchanged here: the semantics are PostgreSQL's.
 *
 * - A read first catches up: one LIST of the log after the last entry applied here (shared by the reads
 *   waiting at that moment), and the entries found are applied. A read therefore sees every change any
 *   replica committed before it arrived.
 * - A write runs in a local transaction whose row changes a trigger captures (capture.ts). Before COMMIT
 *   they are appended to the log as the next entry, with a conditional create; if another replica took
 *   that number first, the transaction rolls back, catches up and runs again (the service's code is
 *   re-run on the new state, as after a serialisation failure). A write with no row changes ships nothing.
 *   The writes waiting for their turn commit together, as one entry (group commit, see `write`).
 * - Standalone statements run read-only; one that turns out to write (SQLSTATE 25006) is run again as a
 *   write transaction of its own.
 * - An append whose outcome is unknown (the bucket did not answer) rolls back and answers 503: the entry
 *   may exist, and then it is applied by the next catch-up, as any other replica's.
 * - Every `snapshotEvery` entries, the replica that reaches that number writes a snapshot (every table's
 *   rows); a replica starting up loads the latest one and replays only what follows it.
 */
import { MlflowError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { openPglite, type Database, type Executor, type OpenOptions } from '../db.js';
import { ChangeApplier, dumpTables, installCapture, sequenceValues, takeCaptured } from './capture.js';
import { LogConflict, type S3ChangeLog } from './change-log.js';

/** Commits tried before a write gives up with 503 (each loss means another replica committed meanwhile). */
const MAX_ATTEMPTS = 20;
/** Log entries fetched at once while catching up. */
const FETCH_CONCURRENCY = 16;
/**
 * Row changes after which the planner's statistics are refreshed (ANALYZE): the embedded engine has no
 * autovacuum, and a copy filled by replay with no statistics plans a tag search over thousands of models
 * as if the tables were empty.
 */
const ANALYZE_AFTER_ROWS = 1000;

const READ_ONLY_SQLSTATE = '25006';

const isReadOnlyViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === READ_ONLY_SQLSTATE;

/**
 * A 503 for the client, with its cause logged server-side where it is rendered (the bucket's error, or
 * an entry that cannot be applied): the client's message names neither.
 */
function unavailable(what: string, cause: unknown): MlflowError {
  const e = new MlflowError('TEMPORARILY_UNAVAILABLE', `${what}; retry later.`, { cause });
  const c = cause as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  e.report = { msg: 'metadata store unavailable', fields: { reason: what, error: `${c?.name ?? 'Error'}: ${c?.message ?? String(cause)}`, status: c?.$metadata?.httpStatusCode } };
  return e;
}

/** Writes committed together at most (one log entry). */
const MAX_GROUP = 32;

interface PendingWrite {
  fn: (tx: Executor) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Commits of it lost to another replica so far. */
  attempts: number;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs one write of a group: behind a savepoint when it shares the transaction with others, so that one
 * that fails is rolled back alone and gets its error. A write alone fails the transaction, as anywhere.
 */
async function runIsolated(tx: Executor, fn: (tx: Executor) => Promise<unknown>, shared: boolean): Promise<Outcome> {
  if (!shared) return { ok: true, value: await fn(tx) };
  await tx.query('SAVEPOINT write');
  try {
    const value = await fn(tx);
    await tx.query('RELEASE SAVEPOINT write');
    return { ok: true, value };
  } catch (error) {
    await tx.query('ROLLBACK TO SAVEPOINT write');
    return { ok: false, error };
  }
}

/** A mutual exclusion for async sections (applying entries and committing never interleave). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export interface ReplicatedOptions {
  log: S3ChangeLog;
  logger: Logger;
  open?: OpenOptions;
  /** Clock for entries' `at` (tests). */
  now?: () => number;
  /** A snapshot is written after every this many entries (S3_METADATA_SNAPSHOT_EVERY; 0: never). */
  snapshotEvery?: number;
}

export interface ReplicatedDatabase extends Database {
  /** The last log entry applied here (tests, metrics). */
  readonly position: number;
  /** Applies what the log holds beyond `position` (what every read does first). */
  catchUp(): Promise<void>;
}

export async function openReplicated(opts: ReplicatedOptions): Promise<ReplicatedDatabase> {
  const { log, logger } = opts;
  const now = opts.now ?? Date.now;
  const local = await openPglite(undefined, logger, opts.open);
  await installCapture(local);
  // Everything outside a write transaction is read-only: a statement that writes fails (25006) instead
  // of changing the local copy unseen by the log, and is then run as a write (see `query`).
  await local.query('SET default_transaction_read_only = on');

  const applier = new ChangeApplier();
  const exclusive = new Mutex();
  let position = 0;
  const known = await sequenceValues(local);
  let unanalysed = 0;
  const snapshotEvery = opts.snapshotEvery ?? 1000;
  let snapshotted = 0;
  /** The snapshot being written, if any (close waits for it). */
  let snapshotting: Promise<void> | undefined;

  /** A local transaction that may write (outside one, the engine is read-only: see above). */
  const writable = <T>(fn: (tx: Executor) => Promise<T>): Promise<T> =>
    local.transaction(async (tx) => {
      await tx.query('SET TRANSACTION READ WRITE');
      return fn(tx);
    });
  /** A writable transaction that applies shipped rows: as a replica, so neither triggers nor cascades fire. */
  const asReplica = (fn: (tx: Executor) => Promise<void>): Promise<void> =>
    writable(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await fn(tx);
    });

  /** Starts from the latest snapshot, if there is one (before any entry is applied). */
  async function loadSnapshot(): Promise<void> {
    const seq = await log.latestSnapshot();
    if (seq === 0) return;
    const snap = await log.readSnapshot(seq);
    await asReplica((tx) => applier.load(tx, snap.tables, snap.sequences));
    position = seq;
    snapshotted = seq;
    for (const [name, value] of Object.entries(snap.sequences)) known.set(name, value);
    await analyseIfDue(Number.POSITIVE_INFINITY);
    logger.info('metadata snapshot loaded', { seq });
  }

  /**
   * Writes a snapshot once `snapshotEvery` entries have passed since the last one, in the background: the
   * rows are read at one position (under `exclusive`), the upload runs after. Failures only delay it.
   */
  function snapshotIfDue(): void {
    if (snapshotEvery <= 0 || snapshotting || position - snapshotted < snapshotEvery) return;
    snapshotting = (async () => {
      try {
        const { seq, body } = await exclusive.run(async () => {
          const at = position;
          const text = await local.transaction(async (tx) => {
            const tables = await dumpTables(tx);
            const sequences = Object.fromEntries([...(await sequenceValues(tx))].filter(([, v]) => v !== null));
            return `{"format":1,"seq":${at},"at":${now()},"sequences":${JSON.stringify(sequences)},"tables":${tables}}`;
          });
          return { seq: at, body: text };
        });
        await log.writeSnapshot(seq, body);
        snapshotted = seq;
        logger.info('metadata snapshot written', { seq, bytes: body.length });
      } catch (err) {
        logger.warn('metadata snapshot failed', { reason: (err as Error).message });
      } finally {
        snapshotting = undefined;
      }
    })();
  }

  /** Refreshes the planner's statistics once enough rows changed (see ANALYZE_AFTER_ROWS). */
  async function analyseIfDue(rows: number): Promise<void> {
    unanalysed += rows;
    if (unanalysed < ANALYZE_AFTER_ROWS) return;
    unanalysed = 0;
    await writable((tx) => tx.query('ANALYZE'));
  }

  /** Applies the entries after `position` (under `exclusive`). */
  async function applyNew(): Promise<void> {
    const seqs = await log.listAfter(position);
    for (let i = 0; i < seqs.length; i += FETCH_CONCURRENCY) {
      const batch = seqs.slice(i, i + FETCH_CONCURRENCY);
      const entries = await Promise.all(batch.map((s) => log.read(s)));
      for (const entry of entries) {
        if (entry.seq !== position + 1) throw new Error(`the change log skips from ${position} to ${entry.seq}`);
        await asReplica((tx) => applier.apply(tx, entry.changes, entry.sequences));
        position = entry.seq;
        for (const [name, value] of Object.entries(entry.sequences)) known.set(name, value);
        await analyseIfDue(entry.changes.length);
      }
    }
    snapshotIfDue();
  }

  // Catch-ups are shared: a caller joins the next LIST to start, never one already under way (which
  // may have been sent before the caller's request arrived).
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  function catchUp(): Promise<void> {
    if (queued) return queued;
    const start = (): Promise<void> => exclusive.run(applyNew);
    if (!running) {
      running = start().finally(() => (running = undefined));
      return running;
    }
    queued = running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        running = start().finally(() => (running = undefined));
        return running;
      });
    return queued;
  }

  async function caughtUp(): Promise<void> {
    try {
      await catchUp();
    } catch (err) {
      throw unavailable('The metadata bucket is unavailable (catching up with the change log failed)', err);
    }
  }

  // Group commit: the writes waiting for the next turn run one after the other in ONE local transaction,
  // each behind a savepoint (one that fails is rolled back alone and gets its error), and ship as ONE log
  // entry. Their order is the order they would have had one by one; a bucket's round trips, not the
  // engine, bound the writes per second, and this way a round trip commits all that waited for it.
  const waiting: PendingWrite[] = [];
  let turnScheduled = false;

  /** Runs `fn` as a write: catch up, run, ship the captured changes as the next entry, commit. */
  function write<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      waiting.push({ fn, resolve: resolve as (value: unknown) => void, reject, attempts: 0 });
      scheduleTurn();
    });
  }

  /** Commits the writes waiting when the next turn of `exclusive` comes (at most MAX_GROUP), then schedules the rest. */
  function scheduleTurn(): void {
    if (turnScheduled) return;
    turnScheduled = true;
    void exclusive.run(async () => {
      turnScheduled = false;
      const group = waiting.splice(0, MAX_GROUP);
      if (waiting.length > 0) scheduleTurn();
      if (group.length > 0) await commitGroup(group);
    });
  }

  /** One attempt at committing `group` (under `exclusive`); each write is resolved or rejected, or queued again after a lost race. */
  async function commitGroup(group: PendingWrite[]): Promise<void> {
    try {
      await applyNew();
    } catch (err) {
      const e = unavailable('The metadata bucket is unavailable (catching up with the change log failed)', err);
      for (const w of group) w.reject(e);
      return;
    }
    const seq = position + 1;
    const outcomes: Outcome[] = [];
    let moved: Record<string, number> = {};
    let rows = 0;
    try {
      await writable(async (tx) => {
        for (const w of group) outcomes.push(await runIsolated(tx, w.fn, group.length > 1));
        const changes = await takeCaptured(tx);
        moved = {};
        for (const [name, v] of await sequenceValues(tx)) if (v !== null && v !== known.get(name)) moved[name] = v;
        if (changes.length === 0 && Object.keys(moved).length === 0) return;
        try {
          await log.append({ format: 1, seq, at: now(), changes, sequences: moved });
        } catch (err) {
          if (err instanceof LogConflict) throw err;
          throw unavailable('The metadata bucket did not confirm the change (it may or may not have been applied)', err);
        }
        position = seq;
        rows = changes.length;
      });
    } catch (err) {
      if (!(err instanceof LogConflict)) {
        for (const w of group) w.reject(err);
        return;
      }
      // Another replica committed first: run again on the newer state, ahead of later writes, after a
      // short pause that spreads out the replicas that lost together.
      const again = group.filter((w) => ++w.attempts < MAX_ATTEMPTS);
      for (const w of group) if (!again.includes(w)) w.reject(unavailable(`The change could not be committed: ${MAX_ATTEMPTS} other changes were committed first`, err));
      setTimeout(() => {
        waiting.unshift(...again);
        scheduleTurn();
      }, Math.random() * Math.min(50, 2 * (again[0]?.attempts ?? 1)));
      return;
    }
    for (const [name, v] of Object.entries(moved)) known.set(name, v);
    group.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
    await analyseIfDue(rows);
    snapshotIfDue();
  }

  logger.info('metadata store ready', { kind: 's3', log: log.description });
  const db: ReplicatedDatabase = {
    kind: 'pglite',
    mlflowOwned: false,
    get position() {
      return position;
    },
    catchUp: caughtUp,
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      await caughtUp();
      try {
        return await local.query<T>(text, params);
      } catch (err) {
        if (!isReadOnlyViolation(err)) throw err;
      }
      return write((tx) => tx.query<T>(text, params));
    },
    transaction: write,
    async close() {
      await snapshotting;
      await exclusive.run(async () => undefined);
      await local.close();
      log.close();
    },
  };
  try {
    try {
      await loadSnapshot();
    } catch (err) {
      throw unavailable('The metadata bucket is unavailable (loading the latest snapshot failed)', err);
    }
    await caughtUp();
  } catch (err) {
    await local.close().catch(() => {});
    log.close();
    throw err;
  }
  return db;
}
