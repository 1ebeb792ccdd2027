/**
 * The artifact-store port. Three adapters implement it: the local filesystem (local.ts), S3 (s3.ts) and PostgreSQL (postgres.ts).
 * Paths are `ArtifactPath`s (checked and normalised by paths.ts); bodies are web streams in both
 * directions and are never buffered whole.
 */
import { MlflowError } from '../errors.js';
import type { ArtifactPath } from './paths.js';

export interface ArtifactEntry {
  /** Basename of the entry. */
  name: string;
  isDir: boolean;
  /** Bytes; undefined for directories. */
  size?: number;
}

export type ArtifactStat = { type: 'file'; size: number; lastModified?: Date } | { type: 'dir' };

/** Inclusive byte range, already clamped to the object. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ArtifactObject {
  body: ReadableStream<Uint8Array>;
  /** Size of the whole object. */
  size: number;
  lastModified?: Date;
  /** The range served, when one was asked for. */
  range?: ByteRange;
}

export interface PresignedRequest {
  url: string;
  /** Headers the client must send with the request (part of the signature). */
  headers: Record<string, string>;
}

export interface MultipartCredential extends PresignedRequest {
  partNumber: number;
}

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

/** Multipart uploads with presigned part URLs (S3). */
export interface MultipartSupport {
  create(p: ArtifactPath, numParts: number, expiresInSec: number): Promise<{ uploadId: string; credentials: MultipartCredential[] }>;
  complete(p: ArtifactPath, uploadId: string, parts: CompletedPart[]): Promise<void>;
  abort(p: ArtifactPath, uploadId: string): Promise<void>;
}

/** Presigned single-object URLs (S3). */
export interface PresignSupport {
  /** A GET URL for the file, with an attachment disposition; undefined when it is not a file. */
  download(p: ArtifactPath, expiresInSec: number): Promise<(PresignedRequest & { size: number }) | undefined>;
  /** A PUT URL that writes exactly this object. */
  upload(p: ArtifactPath, expiresInSec: number): Promise<PresignedRequest>;
}

export interface ArtifactStore {
  readonly kind: 'local' | 's3' | 'postgres';
  /** Human-readable location, for logs (`/data/artifacts`, `s3://bucket/prefix`). */
  readonly description: string;
  /** Direct children of a directory, sorted by name; `[]` for a missing directory or a file. */
  list(dir: ArtifactPath): Promise<ArtifactEntry[]>;
  stat(p: ArtifactPath): Promise<ArtifactStat | undefined>;
  /**
   * Opens a file for reading. A missing file is 404 RESOURCE_DOES_NOT_EXIST "No such artifact: '<p>'",
   * a directory 400 "Artifact path refers to a directory, not a file: '<p>'".
   */
  get(p: ArtifactPath, range?: (size: number) => ByteRange | undefined): Promise<ArtifactObject>;
  /** Writes a file from a stream (null: empty), replacing any existing one. Readers never see a partial file. */
  put(p: ArtifactPath, body: ReadableStream<Uint8Array> | null, contentType: string): Promise<void>;
  /** Deletes a file or a directory tree. Missing paths are not an error (MLflow). */
  delete(p: ArtifactPath): Promise<void>;
  readonly multipart?: MultipartSupport;
  readonly presign?: PresignSupport;
  close(): Promise<void>;
}

/** MLflow's answer for a missing file (404). */
export function noSuchArtifact(p: ArtifactPath): MlflowError {
  return MlflowError.notFound(`No such artifact: '${p}'`);
}

/** MLflow's answer for downloading a directory (400). */
export function isDirectoryError(p: ArtifactPath): MlflowError {
  return MlflowError.invalid(`Artifact path refers to a directory, not a file: '${p}'`);
}

/** A write that collides with the tree (a parent is a file, or the target is a directory). */
export function conflictError(p: ArtifactPath): MlflowError {
  return MlflowError.invalid(`Cannot write artifact '${p}': the path or one of its parents is an existing file or directory of the other kind.`);
}
