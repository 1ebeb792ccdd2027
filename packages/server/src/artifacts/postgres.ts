/**
 * PostgreSQL adapter (ARTIFACTS_STORE=postgres): artifact bytes live in the metadata database itself
 * (PostgreSQL or the embedded PGlite), so replicas share artifacts with no object store. Tables:
 * postgres-schema.ts (a file row per path → a blob of fixed-size chunks).
 *
 * - Uploads stream: the body is cut into CHUNK_SIZE pieces, each inserted before the next is read, so
 *   memory holds one chunk whatever the file size and a slow database slows the client (backpressure).
 *   The chunks go under a fresh blob; one short transaction then points the file row at it. Readers
 *   therefore see the old bytes or the new ones, never a part; of concurrent uploads of one path the last
 *   to commit wins, and no file mixes chunks of two uploads.
 * - Downloads stream chunk by chunk (one keyed query each, one chunk ahead); a Range selects only the
 *   chunks it covers.
 * - A replaced or deleted blob is kept RELEASE_GRACE_MS, so downloads already under way finish, then
 *   swept (with an upload that died half way, after ABANDONED_AFTER_MS) by `sweep`, which runs in the
 *   background after writes and at start.
 * - Directories are implicit, as on S3: a directory exists while a file lies under it. Paths sort
 *   bytewise, so a directory is a key range of the primary key.
 * - Structural writes (put, delete) of one top-level directory are serialised by a transaction-scoped
 *   advisory lock, so `a` (file) and `a/b` (file under a directory `a`) cannot both be created.
 */
import { MlflowError } from '../errors.js';
import type { Database, Executor } from '../store/db.js';
import type { Logger } from '../log.js';
import { invalidPath, ROOT, type ArtifactPath } from './paths.js';
import {
  conflictError,
  isDirectoryError,
  noSuchArtifact,
  type ArtifactEntry,
  type ArtifactObject,
  type ArtifactStat,
  type ArtifactStore,
  type ByteRange,
} from './store.js';

/** Bytes per chunk: large enough that a GiB is ~1,000 rows, small enough to be cheap to hold. */
export const CHUNK_SIZE = 1024 * 1024;
/** How long replaced and deleted bytes stay readable for downloads that started before. */
export const RELEASE_GRACE_MS = 15 * 60 * 1000;
/** An upload whose blob is still unreferenced after this long is taken as dead (its process ended mid-way). */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;
/** Namespace (first key) of the advisory locks on top-level directories. */
const TREE_LOCK_NAMESPACE = 424_201;
/** Blobs removed per sweep statement (each takes its chunks with it). */
const SWEEP_BATCH = 16;

/** The database's clock in milliseconds, so replicas agree on ages. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export interface PostgresStoreOptions {
  chunkSize?: number;
  releaseGraceMs?: number;
  abandonedAfterMs?: number;
  /** Background sweep failures are logged here. */
  log?: Logger;
}

interface FileRow {
  blob_id: number;
  size: number;
  chunk_size: number;
  updated_at: number;
}

/** The key range [lo, hi) holding everything under directory `p` (not the root). */
function subtree(p: ArtifactPath): [string, string] {
  return [`${p}/`, `${p}0`]; // '0' is the byte after '/'
}

/** Proper ancestors of `p`: `a`, `a/b` for `a/b/c`. */
function ancestors(p: ArtifactPath): string[] {
  const segs = p.split('/');
  return segs.slice(1).map((_, i) => segs.slice(0, i + 1).join('/'));
}

/**
 * How chunk bytes cross the driver. node-pg sends a Buffer parameter in binary and parses bytea results
 * natively. PGlite's JS bytea (de)serialisers run at about 2 MB/s; as hex in and base64 out (Node's native
 * codecs on our side, the database's encode/decode on its side) the same chunks move 10× faster.
 */
interface ChunkCodec {
  /** SQL for the value of parameter `$n` (bytes), and the parameter itself. */
  param(n: number): string;
  toParam(bytes: Buffer): unknown;
  /** SQL selecting a bytea expression, and the bytes of the selected value. */
  select(expr: string): string;
  fromRow(v: unknown): Uint8Array;
}

const PG_CODEC: ChunkCodec = {
  param: (n) => `$${n}`,
  toParam: (bytes) => bytes,
  select: (expr) => expr,
  fromRow: (v) => (v instanceof Uint8Array ? v : new Uint8Array(v as ArrayBuffer)),
};

const PGLITE_CODEC: ChunkCodec = {
  param: (n) => `decode($${n}, 'hex')`,
  toParam: (bytes) => bytes.toString('hex'),
  select: (expr) => `encode(${expr}, 'base64')`,
  fromRow: (v) => Buffer.from(v as string, 'base64'),
};

export class PostgresArtifactStore implements ArtifactStore {
  readonly kind = 'postgres' as const;
  readonly description: string;
  private readonly chunkSize: number;
  private readonly graceMs: number;
  private readonly abandonedMs: number;
  private readonly log: Logger | undefined;
  private readonly codec: ChunkCodec;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;

  constructor(
    private readonly db: Database,
    opts: PostgresStoreOptions = {},
  ) {
    this.chunkSize = opts.chunkSize ?? CHUNK_SIZE;
    this.graceMs = opts.releaseGraceMs ?? RELEASE_GRACE_MS;
    this.abandonedMs = opts.abandonedAfterMs ?? ABANDONED_AFTER_MS;
    this.log = opts.log;
    this.codec = db.kind === 'pglite' ? PGLITE_CODEC : PG_CODEC;
    this.description = `${db.kind === 'pglite' ? 'PGlite' : 'PostgreSQL'} database (mlflow_ts_artifacts)`;
  }

  async list(dir: ArtifactPath): Promise<ArtifactEntry[]> {
    // Characters, not UTF-16 units: substr counts code points.
    const from = dir === ROOT ? 1 : [...dir].length + 2;
    const rest = `substr(path, $1::int)`;
    const select = `SELECT split_part(${rest}, '/', 1) AS name, bool_or(strpos(${rest}, '/') > 0) AS is_dir,
      max(size) FILTER (WHERE strpos(${rest}, '/') = 0) AS size FROM mlflow_ts_artifacts`;
    const rows =
      dir === ROOT
        ? await this.db.query<{ name: string; is_dir: boolean; size: number | null }>(`${select} GROUP BY 1`, [from], 'art_list_root')
        : await this.db.query<{ name: string; is_dir: boolean; size: number | null }>(
            `${select} WHERE path >= $2 AND path < $3 GROUP BY 1`,
            [from, ...subtree(dir)],
            'art_list',
          );
    return rows
      .map((r): ArtifactEntry => (r.is_dir ? { name: r.name, isDir: true } : { name: r.name, isDir: false, size: Number(r.size) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async file(p: ArtifactPath): Promise<FileRow | undefined> {
    if (p === ROOT) return undefined;
    const [row] = await this.db.query<FileRow>(
      'SELECT blob_id, size, chunk_size, updated_at FROM mlflow_ts_artifacts WHERE path = $1',
      [p],
      'art_file',
    );
    return row;
  }

  private async isDir(p: ArtifactPath): Promise<boolean> {
    if (p === ROOT) return true;
    const rows = await this.db.query('SELECT 1 FROM mlflow_ts_artifacts WHERE path >= $1 AND path < $2 LIMIT 1', subtree(p), 'art_isdir');
    return rows.length > 0;
  }

  async stat(p: ArtifactPath): Promise<ArtifactStat | undefined> {
    const f = await this.file(p);
    if (f) return { type: 'file', size: Number(f.size), lastModified: new Date(Number(f.updated_at)) };
    return (await this.isDir(p)) ? { type: 'dir' } : undefined;
  }

  async get(p: ArtifactPath, range?: (size: number) => ByteRange | undefined): Promise<ArtifactObject> {
    const f = await this.file(p);
    if (!f) throw (await this.isDir(p)) ? isDirectoryError(p) : noSuchArtifact(p);
    const size = Number(f.size);
    const r = range?.(size);
    const body = this.chunks(p, Number(f.blob_id), f.chunk_size, r?.start ?? 0, r ? r.end + 1 : size);
    return { body, size, lastModified: new Date(Number(f.updated_at)), range: r };
  }

  /** Bytes [start, end) of a blob, one chunk per query; only the chunks the window covers are read. */
  private chunks(p: ArtifactPath, blobId: number, chunkSize: number, start: number, end: number): ReadableStream<Uint8Array> {
    let seq = Math.floor(start / chunkSize);
    const last = end > start ? Math.floor((end - 1) / chunkSize) : seq - 1;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (seq > last) return controller.close();
        const from = seq === Math.floor(start / chunkSize) ? start - seq * chunkSize : 0;
        const to = seq === last ? end - seq * chunkSize : chunkSize;
        // A partial chunk (the edges of a Range) is cut by the database, which then sends only that part.
        const { select } = this.codec;
        const [row] =
          from === 0 && to === chunkSize
            ? await this.db.query<{ data: unknown }>(
                `SELECT ${select('data')} AS data FROM mlflow_ts_artifact_chunks WHERE blob_id = $1 AND seq = $2`,
                [blobId, seq],
                'art_chunk',
              )
            : await this.db.query<{ data: unknown }>(
                `SELECT ${select('substring(data FROM $3::int FOR $4::int)')} AS data FROM mlflow_ts_artifact_chunks WHERE blob_id = $1 AND seq = $2`,
                [blobId, seq, from + 1, to - from],
                'art_chunk_part',
              );
        if (!row) {
          // Swept after a replace or delete longer ago than the grace period: the download cannot complete.
          return controller.error(new MlflowError('TEMPORARILY_UNAVAILABLE', `Artifact '${p}' was replaced or deleted during the download; retry.`));
        }
        seq++;
        controller.enqueue(this.codec.fromRow(row.data));
      },
    });
  }

  /** Refuses a write where a parent is a file or the target is a directory (local store's rule). */
  private async checkTree(exec: Executor, p: ArtifactPath): Promise<void> {
    const [row] = await exec.query<{ conflict: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM mlflow_ts_artifacts WHERE path = ANY($1::text[]))
          OR EXISTS (SELECT 1 FROM mlflow_ts_artifacts WHERE path >= $2 AND path < $3) AS conflict`,
      [ancestors(p), ...subtree(p)],
      'art_tree_conflict',
    );
    if (row?.conflict) throw conflictError(p);
  }

  /** Serialises structural changes under one top-level directory until the transaction ends. */
  private async lockTree(tx: Executor, p: ArtifactPath): Promise<void> {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [TREE_LOCK_NAMESPACE, p.split('/')[0]], 'art_tree_lock');
  }

  async put(p: ArtifactPath, body: ReadableStream<Uint8Array> | null, _contentType: string): Promise<void> {
    if (p === ROOT) throw invalidPath();
    // Early, so a large upload into an impossible place fails before its bytes are sent; checked again at the swap.
    await this.checkTree(this.db, p);
    const [blob] = await this.db.query<{ id: number }>(`INSERT INTO mlflow_ts_artifact_blobs (created_at) VALUES (${NOW_MS}) RETURNING id`, [], 'art_blob_new');
    const blobId = Number(blob!.id);
    try {
      const { size, count } = await this.writeChunks(blobId, body);
      await this.db.transaction(async (tx) => {
        await this.lockTree(tx, p);
        await this.checkTree(tx, p);
        const [old] = await tx.query<{ blob_id: number }>('SELECT blob_id FROM mlflow_ts_artifacts WHERE path = $1', [p], 'art_file_blob');
        await tx.query(
          `INSERT INTO mlflow_ts_artifacts (path, blob_id, size, chunk_size, chunk_count, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, ${NOW_MS}, ${NOW_MS})
           ON CONFLICT (path) DO UPDATE SET blob_id = excluded.blob_id, size = excluded.size, chunk_size = excluded.chunk_size,
             chunk_count = excluded.chunk_count, updated_at = excluded.updated_at`,
          [p, blobId, size, this.chunkSize, count],
          'art_file_upsert',
        );
        if (old) await tx.query(`UPDATE mlflow_ts_artifact_blobs SET released_at = ${NOW_MS} WHERE id = $1`, [old.blob_id], 'art_blob_release');
      });
    } catch (err) {
      // Nothing points at the blob: drop it now (if even that fails, the sweep takes it as abandoned).
      await this.db.query('DELETE FROM mlflow_ts_artifact_blobs WHERE id = $1', [blobId], 'art_blob_drop').catch(() => undefined);
      throw err;
    }
    this.scheduleSweep();
  }

  /** Streams the body into the blob's chunks, one insert at a time; returns the byte and chunk counts. */
  private async writeChunks(blobId: number, body: ReadableStream<Uint8Array> | null): Promise<{ size: number; count: number }> {
    const buf = Buffer.allocUnsafe(this.chunkSize);
    let filled = 0;
    let size = 0;
    let count = 0;
    const flush = async () => {
      // The driver has serialised the buffer once the insert answers, so it is refilled only after that.
      await this.db.query(
        `INSERT INTO mlflow_ts_artifact_chunks (blob_id, seq, data) VALUES ($1, $2, ${this.codec.param(3)})`,
        [blobId, count, this.codec.toParam(buf.subarray(0, filled))],
        'art_chunk_insert',
      );
      count++;
      filled = 0;
    };
    if (body) {
      const reader = body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          let off = 0;
          while (off < value.length) {
            const n = Math.min(value.length - off, this.chunkSize - filled);
            buf.set(value.subarray(off, off + n), filled);
            filled += n;
            off += n;
            size += n;
            if (filled === this.chunkSize) await flush();
          }
        }
      } catch (err) {
        await reader.cancel(err).catch(() => undefined);
        throw err;
      } finally {
        reader.releaseLock();
      }
    }
    if (filled > 0) await flush();
    return { size, count };
  }

  async delete(p: ArtifactPath): Promise<void> {
    if (p === ROOT) throw invalidPath();
    await this.db.transaction(async (tx) => {
      await this.lockTree(tx, p);
      await tx.query(
        `WITH gone AS (DELETE FROM mlflow_ts_artifacts WHERE path = $1 OR (path >= $2 AND path < $3) RETURNING blob_id)
         UPDATE mlflow_ts_artifact_blobs b SET released_at = ${NOW_MS} FROM gone WHERE b.id = gone.blob_id`,
        [p, ...subtree(p)],
        'art_delete',
      );
    });
    this.scheduleSweep();
  }

  /**
   * Removes blobs released more than the grace period ago, and uploads abandoned half way, with their
   * chunks (a few blobs per statement, so no transaction grows with the data removed).
   */
  async sweep(): Promise<number> {
    let removed = 0;
    for (;;) {
      const rows = await this.db.query<{ id: number }>(
        `DELETE FROM mlflow_ts_artifact_blobs WHERE id IN (
           (SELECT id FROM mlflow_ts_artifact_blobs WHERE released_at IS NOT NULL AND released_at <= ${NOW_MS} - $1::bigint LIMIT $3)
           UNION ALL
           (SELECT id FROM mlflow_ts_artifact_blobs b WHERE released_at IS NULL AND created_at <= ${NOW_MS} - $2::bigint
              AND NOT EXISTS (SELECT 1 FROM mlflow_ts_artifacts a WHERE a.blob_id = b.id) LIMIT $3))
         RETURNING id`,
        [this.graceMs, this.abandonedMs, SWEEP_BATCH],
        'art_sweep',
      );
      removed += rows.length;
      if (rows.length === 0) return removed;
    }
  }

  /** Runs `sweep` in the background, one at a time per process (a request during a sweep queues one more). */
  scheduleSweep(): void {
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        try {
          await this.sweep();
        } catch (err) {
          this.log?.warn('artifact sweep failed', { error: err instanceof Error ? err.message : String(err) });
        }
      } while (this.sweepAgain);
      this.sweeping = undefined;
    })();
  }

  async close(): Promise<void> {
    this.sweepAgain = false;
    await this.sweeping;
  }
}
