/**
 * Artifact bytes of a model version, from the source registry's artifact proxy into the target's, at the
 * same path, streamed file by file (a download stream is piped into the upload; no file is held in
 * memory or written to disk). Files already on the target with the source's size are skipped, so an
 * interrupted copy resumes where it stopped.
 */
import { MlflowApiError, type MlflowRegistryClient } from '@mlflow-registry/client';

/**
 * The artifact-proxy path a download URI names on the source server, or undefined when the bytes are
 * elsewhere (s3://, gs://, another server…): `mlflow-artifacts:/p`, `mlflow-artifacts://host/p`, or the
 * source's own `…/api/2.0/mlflow-artifacts/artifacts/p` URL.
 */
export function proxyPath(downloadUri: string, sourceBaseUrl: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/i.exec(downloadUri);
  let raw: string | undefined = m?.[1];
  if (raw === undefined) {
    const prefix = `${sourceBaseUrl.replace(/\/+$/, '')}/api/2.0/mlflow-artifacts/artifacts/`;
    if (downloadUri.startsWith(prefix)) raw = downloadUri.slice(prefix.length);
  }
  if (raw === undefined) return undefined;
  const p = raw.split(/[?#]/)[0]!.replace(/\/+$/, '');
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

export interface ArtifactCopy {
  files: number;
  skipped: number;
  bytes: number;
}

/** Everything below `dir` on `client` as path → size; nothing when it does not exist. */
async function listing(client: MlflowRegistryClient, dir: string): Promise<Map<string, number | undefined>> {
  const out = new Map<string, number | undefined>();
  try {
    for await (const f of client.listArtifactsRecursive({ path: dir })) out.set(f.path, f.fileSize);
  } catch (err) {
    if (!(err instanceof MlflowApiError) || err.status >= 500 || err.status === 0) throw err;
  }
  return out;
}

/** A stream that reports each chunk's size as it passes. */
function counted(stream: ReadableStream<Uint8Array>, onBytes: (n: number) => void): ReadableStream<Uint8Array> {
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        onBytes(chunk.byteLength);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Copies the files below `dir` (or `dir` itself when it is a file) from `src` to `dst`. */
export async function copyArtifacts(src: MlflowRegistryClient, dst: MlflowRegistryClient, dir: string, onBytes: (n: number) => void): Promise<ArtifactCopy> {
  const files = await listing(src, dir);
  if (files.size === 0 && dir !== '') {
    // MLflow lists a file as an empty directory: the download URI may name a single file.
    try {
      const probe = await src.downloadArtifact({ path: dir });
      await probe.cancel();
      files.set(dir, undefined);
    } catch (err) {
      if (!(err instanceof MlflowApiError) || err.status >= 500 || err.status === 0) throw err;
    }
  }
  const existing = await listing(dst, dir);
  const result: ArtifactCopy = { files: 0, skipped: 0, bytes: 0 };
  for (const [path, size] of files) {
    if (size !== undefined && existing.get(path) === size) {
      result.skipped++;
      continue;
    }
    const body = counted(await src.downloadArtifact({ path }), (n) => {
      result.bytes += n;
      onBytes(n);
    });
    // No deadline on the whole upload (a large file takes as long as it takes); the target server
    // ends an upload that stalls (REQUEST_BODY_TIMEOUT_MS).
    await dst.uploadArtifact({ path, body }, { timeoutMs: 0 });
    result.files++;
  }
  return result;
}
