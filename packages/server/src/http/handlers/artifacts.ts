/**
 * Thin bindings of the artifact operations to the artifact service. The HTTP concerns live here: the
 * raw `{artifact_path}` is taken from the request URL and handed, still percent-encoded, to paths.ts (the
 * one place that decodes and checks it); download bodies are streamed out as they arrive from the store;
 * upload bodies are streamed in from the request.
 */
import type { Context } from 'hono';
import type { IncomingMessage } from 'node:http';
import type { OperationId } from '../../gen/operations.gen.js';
import type { ArtifactService } from '../../artifacts/service.js';
import { invalidPath, parseDecodedPath, parseEncodedPath, decodeOnce, rawTargetHasDotDot, requireFilePath, ROOT, type ArtifactPath } from '../../artifacts/paths.js';
import type { Handler } from '../app.js';
import { checkSchema } from '../../registry/req.js';
import { artifactRequestChecks } from '../../artifacts/request-checks.js';
import type { LimitsConfig } from '../../config.js';
import { bodyStream } from '../body.js';
import { enabledWorkspaceOf } from '../workspace.js';
import { hidesWorkspacesDir, scopeToWorkspace } from '../../artifacts/workspace-paths.js';
import { WORKSPACES_DIR } from '../../workspaces/names.js';

export type ArtifactOperationId = Extract<
  OperationId,
  | 'listArtifacts'
  | 'downloadArtifact'
  | 'uploadArtifact'
  | 'deleteArtifact'
  | 'createMultipartUpload'
  | 'completeMultipartUpload'
  | 'abortMultipartUpload'
  | 'getPresignedDownloadUrl'
  | 'createDirectUpload'
  | 'completeDirectUpload'
  | 'abortDirectUpload'
  | 'getDirectDownloadUrl'
>;

/**
 * Refuses a request whose target, as the client sent it, had a `..` segment: URL parsing resolves those
 * before routing (`/artifacts/a/../b` arrives as `/artifacts/b`), and MLflow answers such a path with 400.
 */
function checkRawTarget(c: Context): void {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const target = incoming?.url ?? c.req.url;
  if (rawTargetHasDotDot(target)) throw invalidPath();
}

/**
 * The `{artifact_path}` parameter exactly as it appears in the request URL (still percent-encoded), so that
 * it is decoded once, by paths.ts, whether the client sent `a/b` or `a%2Fb`. `route` is the path after
 * `/2.0/` up to the parameter (e.g. `mlflow-artifacts/artifacts`). The authorization step (http/authn.ts)
 * judges the path this returns, so that it judges exactly what the handler serves.
 */
export function rawParam(c: Context, route: string): string {
  const url = c.req.url;
  const start = url.indexOf('/', url.indexOf('://') + 3);
  const end = url.search(/[?#]/);
  const pathname = end < 0 ? url.slice(start) : url.slice(start, end);
  const marker = `/2.0/${route}/`;
  const i = pathname.indexOf(marker);
  if (i < 0) throw invalidPath();
  return pathname.slice(i + marker.length);
}

function pathParam(c: Context, route: string): ArtifactPath {
  checkRawTarget(c);
  return scoped(c, parseEncodedPath(rawParam(c, route)));
}

/** The path as the request's workspace addresses it (artifacts/workspace-paths.ts). */
function scoped(c: Context, p: ArtifactPath): ArtifactPath {
  return scopeToWorkspace(p, enabledWorkspaceOf(c));
}

function downloadResponse(c: Context, d: Awaited<ReturnType<ArtifactService['download']>>): Response {
  const { object } = d;
  const headers = new Headers({
    'content-type': d.contentType,
    'content-disposition': d.disposition,
    'x-content-type-options': 'nosniff',
    'accept-ranges': 'bytes',
  });
  if (object.lastModified) headers.set('last-modified', object.lastModified.toUTCString());
  let status = 200;
  if (object.range) {
    status = 206;
    headers.set('content-range', `bytes ${object.range.start}-${object.range.end}/${object.size}`);
    headers.set('content-length', String(object.range.end - object.range.start + 1));
  } else {
    headers.set('content-length', String(object.size));
  }
  if (c.req.method === 'HEAD') {
    void object.body.cancel().catch(() => undefined);
    return new Response(null, { status, headers });
  }
  return new Response(object.body, { status, headers });
}

/**
 * The upload body, bounded: MAX_ARTIFACT_UPLOAD_MB (0 = any size; 413 by Content-Length up front or
 * counted while streaming) and REQUEST_BODY_TIMEOUT_MS between chunks (408). The stream errors with the
 * MlflowError to answer, also when the client goes away (CANCELLED, one request log line); the store
 * removes what it had written. A body the store never read to the end is cancelled, so it is not buffered.
 */
async function upload(svc: ArtifactService, p: ArtifactPath, c: Context, limits: LimitsConfig): Promise<Record<string, never>> {
  const body = bodyStream(c, 'Artifact upload', { maxBytes: limits.maxArtifactUploadBytes, timeoutMs: limits.bodyTimeoutMs });
  try {
    return await svc.upload(p, body);
  } catch (err) {
    if (body && !body.locked) await body.cancel().catch(() => undefined);
    throw err;
  }
}

export function artifactHandlers(svc: ArtifactService, limits: LimitsConfig): { [K in ArtifactOperationId]: Handler<K> } {
  /** MLflow's handler-level checks of a JSON artifact request (artifacts/request-checks.ts), then `h`. */
  const checked = <K extends keyof typeof artifactRequestChecks>(op: K, h: Handler<K>): Handler<K> => (r, c) => {
    checkSchema(r, artifactRequestChecks[op]);
    return h(r, c);
  };
  return {
    listArtifacts: async (r, c) => {
      checkRawTarget(c);
      const raw = r.fields.path;
      const p = raw === undefined ? ROOT : parseDecodedPath(raw);
      const out = await svc.list(scoped(c, p));
      if (!out.files || !hidesWorkspacesDir(p, enabledWorkspaceOf(c))) return out;
      // `default`'s root holds the other workspaces' trees: not listed.
      const files = out.files.filter((f) => !(f.path === WORKSPACES_DIR && f.is_dir));
      return files.length > 0 ? { files } : {};
    },
    downloadArtifact: async (_r, c) => {
      const p = pathParam(c, 'mlflow-artifacts/artifacts');
      return downloadResponse(c, await svc.download(p, c.req.header('range')));
    },
    uploadArtifact: (_r, c) => {
      checkRawTarget(c);
      const raw = rawParam(c, 'mlflow-artifacts/artifacts');
      const p = requireFilePath(decodeOnce(raw), parseEncodedPath(raw));
      return upload(svc, scoped(c, p), c, limits);
    },
    deleteArtifact: (_r, c) => {
      checkRawTarget(c);
      const p = parseEncodedPath(rawParam(c, 'mlflow-artifacts/artifacts'));
      // The root is never deleted, nor a workspace's root (which is the root of its requests).
      return svc.delete(p === ROOT ? ROOT : scoped(c, p));
    },
    createMultipartUpload: checked('createMultipartUpload', (r, c) => svc.createMultipartUpload(pathParam(c, 'mlflow-artifacts/mpu/create'), r.fields)),
    completeMultipartUpload: checked('completeMultipartUpload', (r, c) => svc.completeMultipartUpload(pathParam(c, 'mlflow-artifacts/mpu/complete'), r.fields)),
    abortMultipartUpload: checked('abortMultipartUpload', (r, c) => svc.abortMultipartUpload(pathParam(c, 'mlflow-artifacts/mpu/abort'), r.fields)),
    getPresignedDownloadUrl: (_r, c) => svc.presignedDownloadUrl(pathParam(c, 'mlflow-artifacts/presigned')),
    createDirectUpload: checked('createDirectUpload', (r, c) => svc.createDirectUpload(r.fields, (p) => scoped(c, p))),
    completeDirectUpload: checked('completeDirectUpload', (r, c) => svc.completeDirectUpload(r.fields, (p) => scoped(c, p))),
    abortDirectUpload: checked('abortDirectUpload', (r, c) => svc.abortDirectUpload(r.fields, (p) => scoped(c, p))),
    getDirectDownloadUrl: checked('getDirectDownloadUrl', (r, c) => svc.createDirectDownload(r.fields, (p) => scoped(c, p))),
  };
}
