/**
 * S3 adapter (@aws-sdk/client-s3, lib-storage, s3-request-presigner), for AWS and S3-compatible servers.
 * Objects live under `s3://<bucket>/<prefix>/<artifact path>`, the layout of MLflow's S3ArtifactRepository,
 * so a bucket written by `mlflow server --artifacts-destination s3://bucket/prefix` reads the same here.
 *
 * - Streaming: uploads go through lib-storage's `Upload` (parts of PART_SIZE, QUEUE_SIZE in flight, so
 *   memory stays flat for any size); downloads hand S3's response stream straight to the HTTP response.
 * - Non-AWS endpoints (S3_ENDPOINT_URL): path-style addressing and `WHEN_REQUIRED` checksums. With the
 *   SDK's default (`WHEN_SUPPORTED`) streamed bodies are sent `aws-chunked` with a trailing CRC32, which
 *   some servers store inside the object (silent corruption) and others reject.
 * - Presigning always uses `WHEN_REQUIRED`: otherwise the SDK signs a checksum of the *empty* body into
 *   PUT URLs, and every real upload through them fails. An optional separate endpoint for presigned URLs
 *   (S3_PRESIGN_ENDPOINT_URL) serves deployments where the server reaches S3 on an internal address.
 * - S3 errors become MlflowErrors here (MLflow's BOTO_TO_MLFLOW_ERROR mapping, plus 503 for an
 *   unreachable or failing store); nothing from the SDK leaks to the client as a bare 500.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MlflowError } from '../errors.js';
import { basename, ROOT, type ArtifactPath } from './paths.js';
import { guessMimeType } from './mime.js';
import {
  isDirectoryError,
  noSuchArtifact,
  type ArtifactEntry,
  type ArtifactObject,
  type ArtifactStat,
  type ArtifactStore,
  type ByteRange,
  type CompletedPart,
  type MultipartCredential,
  type MultipartSupport,
  type PresignedRequest,
  type PresignSupport,
} from './store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
  region: string;
  endpoint?: string;
  /** Endpoint written into presigned URLs, when clients reach S3 elsewhere than the server does. */
  presignEndpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** lib-storage part size and concurrency: peak buffer ≈ PART_SIZE × (QUEUE_SIZE + 1). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

const UNAVAILABLE_NAMES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'TimeoutError',
  'RequestTimeout',
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
]);

/** Translates an SDK error into the server's error type (MLflow's BOTO_TO_MLFLOW_ERROR, s3_artifact_repo.py). */
export function s3Error(err: unknown, p?: ArtifactPath): MlflowError {
  if (err instanceof MlflowError) return err;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  const name = e.name ?? e.Code ?? e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = e.message || name || 'S3 request failed';
  if (name === 'NoSuchKey' || name === 'NotFound') return p !== undefined ? noSuchArtifact(p) : MlflowError.notFound(message);
  if (name === 'NoSuchBucket') return MlflowError.notFound(`Artifact storage bucket does not exist: ${message}`);
  if (name === 'NoSuchUpload') return MlflowError.notFound(`No such multipart upload: ${message}`);
  if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'EntityTooLarge', 'MalformedXML', 'KeyTooLongError', 'InvalidArgument'].includes(name)) {
    return MlflowError.invalid(message);
  }
  if (name === 'AccessDenied' || status === 403) return new MlflowError('PERMISSION_DENIED', `Artifact storage denied access: ${message}`);
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new MlflowError('UNAUTHENTICATED', `Artifact storage rejected the server's credentials: ${message}`);
  }
  if (UNAVAILABLE_NAMES.has(name) || (status !== undefined && status >= 500) || (status === undefined && e.code !== undefined)) {
    return new MlflowError('TEMPORARILY_UNAVAILABLE', `Artifact storage is unavailable: ${message}`, { cause: err });
  }
  return new MlflowError('INTERNAL_ERROR', `Artifact storage error: ${message}`, { cause: err });
}

/** MLflow's `_attachment_content_disposition` (s3_artifact_repo.py), signed into presigned GET URLs. */
function s3AttachmentDisposition(filename: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/^[\u0020-\u007e]*$/.test(filename)) return `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`;
  return `attachment; filename="${filename.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export class S3ArtifactStore implements ArtifactStore, MultipartSupport, PresignSupport {
  readonly kind = 's3' as const;
  readonly description: string;
  readonly multipart: MultipartSupport = this;
  readonly presign: PresignSupport = this;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly presigner: S3Client;

  constructor(opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.prefix = opts.prefix.replace(/^\/+|\/+$/g, '');
    this.description = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    const base: S3ClientConfig = {
      region: opts.region,
      ...(opts.accessKeyId && opts.secretAccessKey
        ? { credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey, sessionToken: opts.sessionToken } }
        : {}),
    };
    const custom = (endpoint: string | undefined): S3ClientConfig =>
      endpoint ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {};
    this.client = new S3Client({ ...base, ...custom(opts.endpoint) });
    const presignEndpoint = opts.presignEndpoint ?? opts.endpoint;
    this.presigner = new S3Client({
      ...base,
      ...custom(presignEndpoint),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  /** The object key of an artifact path. */
  key(p: ArtifactPath): string {
    if (!this.prefix) return p;
    return p === ROOT ? this.prefix : `${this.prefix}/${p}`;
  }

  /** The key prefix of a directory's children ('' for the bucket root). */
  private dirPrefix(p: ArtifactPath): string {
    const k = this.key(p);
    return k ? `${k}/` : '';
  }

  /** The MlflowError for an SDK error; a server-side failure carries its cause, logged where it is rendered. */
  private fail(err: unknown, p?: ArtifactPath): MlflowError {
    const e = s3Error(err, p);
    if (e.status >= 500 && !(err instanceof MlflowError)) {
      e.report = { msg: 'artifact storage error', fields: { store: this.description, path: p, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } };
    }
    return e;
  }

  private async send<T>(fn: () => Promise<T>, p?: ArtifactPath): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.fail(err, p);
    }
  }

  async list(dir: ArtifactPath): Promise<ArtifactEntry[]> {
    const prefix = this.dirPrefix(dir);
    const out: ArtifactEntry[] = [];
    let token: string | undefined;
    do {
      const res = await this.send(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })),
      );
      for (const cp of res.CommonPrefixes ?? []) {
        const name = (cp.Prefix ?? '').slice(prefix.length).replace(/\/$/, '');
        if (name) out.push({ name, isDir: true });
      }
      for (const obj of res.Contents ?? []) {
        const name = (obj.Key ?? '').slice(prefix.length);
        // Zero-byte keys ending in '/' are directory markers (MLflow's _file_is_directory_marker).
        if (!name || name.endsWith('/')) continue;
        out.push({ name, isDir: false, size: Number(obj.Size ?? 0) });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private async isDir(p: ArtifactPath): Promise<boolean> {
    const res = await this.send(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.dirPrefix(p), MaxKeys: 1 })));
    return (res.KeyCount ?? res.Contents?.length ?? 0) > 0 || (res.Contents?.length ?? 0) > 0;
  }

  private async head(p: ArtifactPath): Promise<{ size: number; lastModified?: Date } | undefined> {
    if (p === ROOT) return undefined;
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(p) }));
      return { size: Number(res.ContentLength ?? 0), lastModified: res.LastModified };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.fail(err, p);
    }
  }

  async stat(p: ArtifactPath): Promise<ArtifactStat | undefined> {
    const file = await this.head(p);
    if (file) return { type: 'file', ...file };
    return (await this.isDir(p)) ? { type: 'dir' } : undefined;
  }

  async get(p: ArtifactPath, range?: (size: number) => ByteRange | undefined): Promise<ArtifactObject> {
    let r: ByteRange | undefined;
    if (range) {
      const h = await this.head(p);
      if (!h) throw (await this.isDir(p)) ? isDirectoryError(p) : noSuchArtifact(p);
      r = range(h.size);
    }
    let res;
    try {
      res = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p), Range: r ? `bytes=${r.start}-${r.end}` : undefined }),
      );
    } catch (err) {
      if (isNotFound(err)) throw (await this.isDir(p)) ? isDirectoryError(p) : noSuchArtifact(p);
      throw this.fail(err, p);
    }
    const total = r ? Number(/\/(\d+)$/.exec(res.ContentRange ?? '')?.[1] ?? NaN) : Number(res.ContentLength ?? 0);
    const body = res.Body ? (res.Body.transformToWebStream() as ReadableStream<Uint8Array>) : new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    return { body, size: Number.isFinite(total) ? total : 0, lastModified: res.LastModified, range: r };
  }

  async put(p: ArtifactPath, body: ReadableStream<Uint8Array> | null, contentType: string): Promise<void> {
    // A body that fails (too large, too slow, client gone: an MlflowError from http/body.ts) is the answer,
    // whatever lib-storage makes of it; the object is written only once the whole body has arrived (one
    // PUT, or a multipart upload that is aborted on error), so nothing partial is left behind.
    let bodyError: unknown;
    const stream = body ? Readable.fromWeb(body as NodeWebReadableStream) : undefined;
    stream?.on('error', (err) => (bodyError ??= err));
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.key(p),
        Body: stream ?? Buffer.alloc(0),
        ContentType: contentType,
      },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      if (bodyError instanceof MlflowError) throw bodyError;
      throw this.fail(err, p);
    } finally {
      if (stream && !stream.destroyed) stream.destroy();
    }
  }

  async delete(p: ArtifactPath): Promise<void> {
    if (p === ROOT) throw MlflowError.invalid('Invalid path');
    await this.send(() => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(p) })), p);
    const prefix = this.dirPrefix(p);
    let token: string | undefined;
    do {
      const res = await this.send(() => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token })));
      const keys = (res.Contents ?? []).map((o) => ({ Key: o.Key! })).filter((k) => k.Key.startsWith(prefix));
      if (keys.length > 0) {
        const del = await this.send(() => this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } })));
        if (del.Errors && del.Errors.length > 0) {
          throw new MlflowError('INTERNAL_ERROR', `Could not delete ${del.Errors.length} object(s) under '${p}': ${del.Errors[0]?.Message ?? ''}`);
        }
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  // ---- multipart (MultipartSupport) --------------------------------------------------------------

  async create(p: ArtifactPath, numParts: number, expiresInSec: number): Promise<{ uploadId: string; credentials: MultipartCredential[] }> {
    const key = this.key(p);
    const res = await this.send(
      () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: guessMimeType(basename(p)) })),
      p,
    );
    const uploadId = res.UploadId!;
    const credentials: MultipartCredential[] = [];
    for (let i = 1; i <= numParts; i++) {
      const url = await getSignedUrl(this.presigner, new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: i }), {
        expiresIn: expiresInSec,
      });
      credentials.push({ partNumber: i, url, headers: {} });
    }
    return { uploadId, credentials };
  }

  async complete(p: ArtifactPath, uploadId: string, parts: CompletedPart[]): Promise<void> {
    await this.send(
      () =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.bucket,
            Key: this.key(p),
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((x) => ({ PartNumber: x.partNumber, ETag: x.etag })) },
          }),
        ),
      p,
    );
  }

  async abort(p: ArtifactPath, uploadId: string): Promise<void> {
    await this.send(() => this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key(p), UploadId: uploadId })), p);
  }

  // ---- presigned single-object URLs (PresignSupport) -------------------------------------------

  async download(p: ArtifactPath, expiresInSec: number): Promise<(PresignedRequest & { size: number }) | undefined> {
    const h = await this.head(p);
    if (!h) return undefined;
    const url = await getSignedUrl(
      this.presigner,
      new GetObjectCommand({ Bucket: this.bucket, Key: this.key(p), ResponseContentDisposition: s3AttachmentDisposition(basename(p)) }),
      { expiresIn: expiresInSec },
    );
    return { url, headers: {}, size: h.size };
  }

  async upload(p: ArtifactPath, expiresInSec: number): Promise<PresignedRequest> {
    const contentType = guessMimeType(basename(p));
    const url = await getSignedUrl(this.presigner, new PutObjectCommand({ Bucket: this.bucket, Key: this.key(p), ContentType: contentType }), {
      expiresIn: expiresInSec,
    });
    // As MLflow's create_presigned_upload_url: the client sends the guessed type, which S3 stores with the object.
    return { url, headers: { 'Content-Type': contentType } };
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.presigner.destroy();
  }
}
