/**
 * The S3 side of METADATA_STORE=s3 (see replicated.ts): an append-only log of committed changes, one
 * JSON object per commit under `<prefix>/log/<seq>.json`, seq = 1, 2, 3, … with no gaps.
 *
 * The log is the only thing replicas share, and S3's conditional writes are its only lock: a commit is
 * the creation of the next key with `If-None-Match: *`, which exactly one writer wins (S3, MinIO and
 * moto answer 412 to the others). A replica that loses has missed a commit: it catches up and tries
 * again. So the commits of every replica form one order that all of them replay, and none is lost.
 * Listing is strongly consistent on S3, so a replica that lists after a commit sees it.
 *
 * Snapshots (`<prefix>/snapshots/<seq>.json`): every table's rows as of entry `seq`, written now and then
 * by any replica, so that a replica starting up loads the latest one and replays only the entries after it.
 * Entries are never deleted: the log stays the whole history.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../config.js';
import { s3ClientConfig } from '../../artifacts/s3-client-config.js';

/** A committed change: the row images a transaction wrote (capture.ts) and the sequences it moved. */
export interface LogEntry {
  format: 1;
  seq: number;
  /** When it was committed (ms since the epoch), for people reading the log. */
  at: number;
  changes: RowChange[];
  /** Sequence name → its value after the commit, for those the commit moved. */
  sequences: Record<string, number>;
}

export interface RowChange {
  /** Table name (schema public). */
  t: string;
  op: 'I' | 'U' | 'D';
  /** The row before (U, D). */
  old?: Record<string, unknown>;
  /** The row after (I, U). */
  new?: Record<string, unknown>;
}

/** The state after entry `seq`: every replicated table's rows, and the sequences' values. */
export interface Snapshot {
  format: 1;
  seq: number;
  at: number;
  tables: Record<string, Record<string, unknown>[]>;
  sequences: Record<string, number>;
}

/** Another replica committed `seq` first. */
export class LogConflict extends Error {
  constructor(readonly seq: number) {
    super(`log entry ${seq} was written by another replica first`);
  }
}

const SEQ_DIGITS = 20;
const pad = (seq: number) => String(seq).padStart(SEQ_DIGITS, '0');

export interface ChangeLogOptions {
  s3: S3Config;
  /** Key prefix of the metadata (S3_METADATA_PREFIX), without slashes at either end. */
  prefix: string;
  sessionToken?: string;
}

export class S3ChangeLog {
  readonly description: string;
  private readonly logPrefix: string;
  private readonly snapshotPrefix: string;

  private constructor(
    private readonly client: S3Client,
    private readonly sdk: typeof import('@aws-sdk/client-s3'),
    private readonly bucket: string,
    prefix: string,
  ) {
    this.logPrefix = `${prefix ? `${prefix}/` : ''}log/`;
    this.snapshotPrefix = `${prefix ? `${prefix}/` : ''}snapshots/`;
    this.description = `s3://${bucket}/${this.logPrefix}`;
  }

  /** Loads the AWS SDK (only this mode and the S3 artifact store need it). */
  static async open(opts: ChangeLogOptions): Promise<S3ChangeLog> {
    const sdk = await import('@aws-sdk/client-s3');
    const client = new sdk.S3Client(s3ClientConfig(opts.s3, opts.sessionToken));
    return new S3ChangeLog(client, sdk, opts.s3.bucket, opts.prefix.replace(/^\/+|\/+$/g, ''));
  }

  private key(seq: number): string {
    return `${this.logPrefix}${pad(seq)}.json`;
  }

  /** The numbered objects under `prefix` after number `after`, in order (one LIST per 1,000). */
  private async numbersAfter(prefix: string, after: number): Promise<number[]> {
    const out: number[] = [];
    let token: string | undefined;
    do {
      const res = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token ? { ContinuationToken: token } : { StartAfter: `${prefix}${pad(after)}.json` }),
        }),
      );
      for (const o of res.Contents ?? []) {
        const m = /^(\d{20})\.json$/.exec(o.Key!.slice(prefix.length));
        if (m) out.push(Number(m[1]));
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The sequence numbers committed after `after`, in order. */
  listAfter(after: number): Promise<number[]> {
    return this.numbersAfter(this.logPrefix, after);
  }

  /** The number of the latest snapshot, or 0 when there is none. */
  async latestSnapshot(): Promise<number> {
    return (await this.numbersAfter(this.snapshotPrefix, 0)).at(-1) ?? 0;
  }

  async readSnapshot(seq: number): Promise<Snapshot> {
    const key = `${this.snapshotPrefix}${pad(seq)}.json`;
    const res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
    const snap = JSON.parse(await res.Body!.transformToString('utf8')) as Snapshot;
    if (snap.format !== 1 || snap.seq !== seq) throw new Error(`${key} is not a snapshot of this server (format ${String(snap.format)})`);
    return snap;
  }

  /** Writes the snapshot after entry `seq` (its JSON text), unless one is there already (any replica's is as good). */
  async writeSnapshot(seq: number, body: string): Promise<void> {
    await this.create(`${this.snapshotPrefix}${pad(seq)}.json`, body);
  }

  async read(seq: number): Promise<LogEntry> {
    const res = await this.client.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.key(seq) }));
    const entry = JSON.parse(await res.Body!.transformToString('utf8')) as LogEntry;
    if (entry.format !== 1 || entry.seq !== seq) throw new Error(`${this.key(seq)} is not a change-log entry of this server (format ${String(entry.format)})`);
    return entry;
  }

  /** Commits `entry` as number entry.seq, unless another replica did first (LogConflict). */
  async append(entry: LogEntry): Promise<void> {
    if (!(await this.create(this.key(entry.seq), JSON.stringify(entry)))) throw new LogConflict(entry.seq);
  }

  /** Creates `key` unless it exists (If-None-Match: *); false when it does, or another creation of it is under way. */
  private async create(key: string, body: string): Promise<boolean> {
    try {
      await this.client.send(new this.sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', IfNoneMatch: '*' }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: taken. 409 (ConditionalRequestConflict): another conditional write of that key is in flight.
      if (status === 412 || status === 409) return false;
      throw err;
    }
  }

  /** Whether the bucket answers (readiness). */
  async check(): Promise<void> {
    await this.client.send(new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.logPrefix, MaxKeys: 1 }));
  }

  close(): void {
    this.client.destroy();
  }
}
