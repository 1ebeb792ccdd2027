/**
 * The artifact service: MLflow's mlflow-artifacts semantics (mlflow/server/handlers.py `_list_artifacts_
 * mlflow_artifacts`, `_download_artifact`, `_upload_artifact`, `_delete_artifact_mlflow_artifacts`,
 * `_create/_complete/_abort_multipart_upload_artifact`, `_get_presigned_download_url`, and the FastAPI
 * artifact_router.py that serves up/downloads under uvicorn), plus our direct-transfer extension, over the
 * ArtifactStore port. It takes checked ArtifactPaths and parsed requests and returns response bodies;
 * no HTTP here.
 */
import { MlflowError } from '../errors.js';
import type { OperationInput } from '../gen/inputs.gen.js';
import type { CreateDirectUploadResponse, DirectDownloadResponse } from '../gen/api/types.gen.js';
import { basename, childOf, parseDecodedPath, ROOT, type ArtifactPath } from './paths.js';
import { contentDisposition, guessMimeType } from './mime.js';
import type { ArtifactObject, ArtifactStore, ByteRange, MultipartCredential } from './store.js';

export interface ArtifactServiceOptions {
  /** Lifetime of presigned URLs, seconds. */
  presignExpiresSec: number;
  /** Our direct-transfer endpoints (/api/2.0/mlflow-ts/artifacts/…) are enabled. */
  directTransfer: boolean;
  /** Part size of direct multipart uploads when the client does not ask for one. */
  defaultPartSize?: number;
}

/** S3's limits. */
export const MAX_PARTS = 10_000;
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * 1024 * 1024;
const DEFAULT_PART_SIZE = 64 * 1024 * 1024;

export const MULTIPART_UPLOAD_UNSUPPORTED = 'Multipart upload is not supported for the current artifact repository';
export const MULTIPART_DOWNLOAD_UNSUPPORTED = 'Multipart download is not supported for the current artifact repository';

type FileInfoJson = { path: string; is_dir: boolean; file_size?: number };
type CredentialJson = { url: string; part_number: number; headers?: Record<string, string> };

export interface Download {
  object: ArtifactObject;
  contentType: string;
  disposition: string;
}

/** One `Range: bytes=…` range (the only form served; anything else is ignored, as RFC 9110 allows). */
export function parseRange(header: string | undefined): ((size: number) => ByteRange | undefined) | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  return (size) => {
    if (size === 0) return undefined;
    if (m[1] === '') {
      const n = Math.min(Number(m[2]), size);
      return n > 0 ? { start: size - n, end: size - 1 } : undefined;
    }
    const start = Number(m[1]);
    const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    return start <= end && start < size ? { start, end } : undefined;
  };
}

function credentialJson(c: MultipartCredential): CredentialJson {
  // MLflow's message_to_json leaves out an empty headers map.
  return Object.keys(c.headers).length > 0 ? { url: c.url, part_number: c.partNumber, headers: c.headers } : { url: c.url, part_number: c.partNumber };
}


/** Maps a checked path to the one the request's workspace addresses (identity with workspaces off). */
export type Scope = (p: ArtifactPath) => ArtifactPath;
const unscoped: Scope = (p) => p;

export class ArtifactService {
  constructor(
    readonly store: ArtifactStore,
    private readonly opts: ArtifactServiceOptions,
  ) {}

  // ---- the mlflow-artifacts API --------------------------------------------------------------

  /** `GET /mlflow-artifacts/artifacts?path=`: basenames, `is_dir`, `file_size` (omitted for dirs and empty files); `{}` when empty. */
  async list(dir: ArtifactPath): Promise<{ files?: FileInfoJson[] }> {
    const entries = await this.store.list(dir);
    if (entries.length === 0) return {};
    return {
      files: entries.map((e) => (e.isDir || !e.size ? { path: e.name, is_dir: e.isDir } : { path: e.name, is_dir: false, file_size: e.size })),
    };
  }

  async download(p: ArtifactPath, rangeHeader?: string): Promise<Download> {
    if (p === ROOT) throw MlflowError.invalid("Artifact path refers to a directory, not a file: ''");
    const object = await this.store.get(p, parseRange(rangeHeader));
    const name = basename(p);
    return { object, contentType: guessMimeType(name), disposition: contentDisposition(name) };
  }

  async upload(p: ArtifactPath, body: ReadableStream<Uint8Array> | null): Promise<Record<string, never>> {
    await this.store.put(p, body, guessMimeType(basename(p)));
    return {};
  }

  async delete(p: ArtifactPath): Promise<Record<string, never>> {
    // MLflow would delete the whole destination for an empty path; we refuse.
    if (p === ROOT) throw MlflowError.invalid('Invalid path');
    await this.store.delete(p);
    return {};
  }

  private multipartOr501() {
    if (!this.store.multipart) throw MlflowError.notImplemented(MULTIPART_UPLOAD_UNSUPPORTED);
    return this.store.multipart;
  }

  /** `POST /mlflow-artifacts/mpu/create/<dir>` `{path, num_parts}`: the object is `<dir>/basename(path)`. */
  async createMultipartUpload(dir: ArtifactPath, input: OperationInput<'createMultipartUpload'>): Promise<{ upload_id: string; credentials?: CredentialJson[] }> {
    const numParts = (input.num_parts ?? 0);
    if (numParts < 0 || numParts > MAX_PARTS) throw MlflowError.invalid(`num_parts must be between 0 and ${MAX_PARTS}, got ${numParts}.`);
    const mp = this.multipartOr501();
    const target = childOf(dir, (input.path ?? ''));
    const { uploadId, credentials } = await mp.create(target, numParts, this.opts.presignExpiresSec);
    return credentials.length > 0 ? { upload_id: uploadId, credentials: credentials.map(credentialJson) } : { upload_id: uploadId };
  }

  async completeMultipartUpload(dir: ArtifactPath, input: OperationInput<'completeMultipartUpload'>): Promise<Record<string, never>> {
    const mp = this.multipartOr501();
    const target = childOf(dir, (input.path ?? ''));
    await mp.complete(target, (input.upload_id ?? ''), this.parts(input));
    return {};
  }

  async abortMultipartUpload(dir: ArtifactPath, input: OperationInput<'abortMultipartUpload'>): Promise<Record<string, never>> {
    const mp = this.multipartOr501();
    await mp.abort(childOf(dir, (input.path ?? '')), (input.upload_id ?? ''));
    return {};
  }

  private parts(input: { parts?: { part_number?: number; etag?: string }[] }): { partNumber: number; etag: string }[] {
    return (input.parts ?? []).map((x) => ({ partNumber: x.part_number ?? 0, etag: x.etag ?? '' }));
  }

  /** `GET /mlflow-artifacts/presigned/<path>` (MLflow ≥ 3.10): a presigned GET for the client's chunked download. */
  async presignedDownloadUrl(p: ArtifactPath): Promise<{ url: string; headers: Record<string, string>; file_size?: number }> {
    if (!this.store.presign) throw MlflowError.notImplemented(MULTIPART_DOWNLOAD_UNSUPPORTED);
    const signed = await this.store.presign.download(p, this.opts.presignExpiresSec);
    if (!signed) throw MlflowError.notFound(`No such artifact: '${p}'`);
    return { url: signed.url, headers: signed.headers, file_size: signed.size };
  }

  // ---- direct transfers (our extension, /api/2.0/mlflow-ts/artifacts/…) -----------------------

  private direct() {
    if (!this.opts.directTransfer || !this.store.presign || !this.store.multipart) {
      throw MlflowError.notImplemented(
        'Direct transfers are not enabled on this server (they need the S3 artifact store and ARTIFACTS_DIRECT_TRANSFER=true).',
      );
    }
    return { presign: this.store.presign, multipart: this.store.multipart };
  }

  /** The `path` field, checked, then scoped to the request's workspace (artifacts/workspace-paths.ts). */
  private directPath(input: { path?: string }, scope: Scope): ArtifactPath {
    const raw = input.path ?? '';
    const p = parseDecodedPath(raw);
    if (p === ROOT || raw.endsWith('/')) throw MlflowError.invalid('Invalid path');
    return scope(p);
  }

  private expiresAt(): number {
    return Date.now() + this.opts.presignExpiresSec * 1000;
  }

  /**
   * `POST /mlflow-ts/artifacts/direct-upload/create` `{path, size, part_size?}`: one presigned PUT when the
   * file fits in one part, otherwise a multipart upload with one presigned URL per part.
   */
  async createDirectUpload(input: OperationInput<'createDirectUpload'>, scope: Scope = unscoped): Promise<CreateDirectUploadResponse> {
    const size = (input.size ?? -1);
    if (size < 0 || size > MAX_OBJECT_SIZE) throw MlflowError.invalid(`size must be between 0 and ${MAX_OBJECT_SIZE} bytes, got ${size}.`);
    const partSize = (input.part_size ?? this.opts.defaultPartSize ?? DEFAULT_PART_SIZE);
    if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
      throw MlflowError.invalid(`part_size must be between ${MIN_PART_SIZE} and ${MAX_PART_SIZE} bytes, got ${partSize}.`);
    }
    const p = this.directPath(input, scope);
    const { presign, multipart } = this.direct();
    const base = { path: p, size, expires_at: this.expiresAt() };
    if (size <= partSize) {
      const put = await presign.upload(p, this.opts.presignExpiresSec);
      return { ...base, part_size: Math.max(size, 0), credentials: [{ url: put.url, part_number: 1, headers: put.headers }] };
    }
    const numParts = Math.ceil(size / partSize);
    if (numParts > MAX_PARTS) {
      throw MlflowError.invalid(`A file of ${size} bytes needs more than ${MAX_PARTS} parts of ${partSize} bytes; ask for a larger part_size.`);
    }
    const { uploadId, credentials } = await multipart.create(p, numParts, this.opts.presignExpiresSec);
    return {
      ...base,
      upload_id: uploadId,
      part_size: partSize,
      credentials: credentials.map((c) => ({ url: c.url, part_number: c.partNumber, headers: c.headers })),
    };
  }

  /** `POST /mlflow-ts/artifacts/direct-upload/complete` `{path, upload_id, parts}`. */
  async completeDirectUpload(input: OperationInput<'completeDirectUpload'>, scope: Scope = unscoped): Promise<Record<string, never>> {
    const p = this.directPath(input, scope);
    const { multipart } = this.direct();
    await multipart.complete(p, (input.upload_id ?? ''), this.parts(input));
    return {};
  }

  /** `POST /mlflow-ts/artifacts/direct-upload/abort` `{path, upload_id}`. */
  async abortDirectUpload(input: OperationInput<'abortDirectUpload'>, scope: Scope = unscoped): Promise<Record<string, never>> {
    const p = this.directPath(input, scope);
    const { multipart } = this.direct();
    await multipart.abort(p, (input.upload_id ?? ''));
    return {};
  }

  /** `GET /mlflow-ts/artifacts/direct-download?path=`: a presigned GET (Range requests work on it). */
  async createDirectDownload(input: OperationInput<'getDirectDownloadUrl'>, scope: Scope = unscoped): Promise<DirectDownloadResponse> {
    const p = this.directPath(input, scope);
    const { presign } = this.direct();
    const signed = await presign.download(p, this.opts.presignExpiresSec);
    if (!signed) {
      const st = await this.store.stat(p);
      throw st?.type === 'dir' ? MlflowError.invalid(`Artifact path refers to a directory, not a file: '${p}'`) : MlflowError.notFound(`No such artifact: '${p}'`);
    }
    return { path: p, url: signed.url, headers: signed.headers, file_size: signed.size, expires_at: this.expiresAt() };
  }
}
