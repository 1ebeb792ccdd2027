/**
 * `@mlflow-registry/client/node`: what needs Node (the environment and the file system), kept out
 * of the main entry so that stays browser-safe.
 *
 * - {@link clientFromEnv} / {@link optionsFromEnv}: connection settings from `MLFLOW_*` variables, as
 *   MLflow's Python client reads them.
 * - {@link downloadArtifacts} / {@link downloadModel}: a whole artifact directory (or a model's
 *   artifacts, from a `models:/` URI) to disk, streamed file by file (never a whole file in memory).
 * - {@link uploadArtifacts}: a local directory to the artifact proxy, each file streamed from disk.
 *
 * @example
 * ```ts
 * import { clientFromEnv, uploadArtifacts, downloadModel } from '@mlflow-registry/client/node';
 *
 * const client = clientFromEnv(); // MLFLOW_REGISTRY_URI / MLFLOW_TRACKING_URI, token or user+password
 * await uploadArtifacts(client, { localDir: './model', artifactPath: 'models/iris/run-42' });
 * await client.registerModel({ name: 'iris', source: 'mlflow-artifacts:/models/iris/run-42' });
 * await downloadModel(client, { modelUri: 'models:/iris/latest', dstPath: './iris' });
 * ```
 *
 * @module @mlflow-registry/client/node
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { MlflowRegistryClient, type CallOptions, type MlflowRegistryClientOptions } from './client.js';

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Client options from the environment, with the Python client's rules:
 * - server: `MLFLOW_REGISTRY_URI`, else `MLFLOW_TRACKING_URI` (must be `http(s)://`; MLflow's
 *   other stores — files, databases, Databricks — are not REST servers and are refused);
 * - credentials: `MLFLOW_TRACKING_USERNAME` + `MLFLOW_TRACKING_PASSWORD` (HTTP Basic) take precedence
 *   over `MLFLOW_TRACKING_TOKEN` (bearer), as in `mlflow.utils.rest_utils`;
 * - `MLFLOW_WORKSPACE`: the workspace header; `MLFLOW_HTTP_REQUEST_TIMEOUT` (seconds) and
 *   `MLFLOW_HTTP_REQUEST_MAX_RETRIES`: the timeout and retries.
 *
 * `overrides` win over the environment.
 */
export function optionsFromEnv(env: Env = process.env, overrides: Partial<MlflowRegistryClientOptions> = {}): MlflowRegistryClientOptions {
  const get = (k: string) => {
    const v = env[k];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const baseUrl = overrides.baseUrl ?? get('MLFLOW_REGISTRY_URI') ?? get('MLFLOW_TRACKING_URI');
  if (baseUrl === undefined) {
    throw new TypeError('No MLflow server configured: set MLFLOW_REGISTRY_URI or MLFLOW_TRACKING_URI (e.g. http://localhost:5000)');
  }
  if (!/^https?:\/\//i.test(baseUrl)) {
    throw new TypeError(`The registry URI ${baseUrl} is not an http(s) server; this client talks to MLflow's REST API only`);
  }
  const username = get('MLFLOW_TRACKING_USERNAME');
  const password = get('MLFLOW_TRACKING_PASSWORD');
  const token = get('MLFLOW_TRACKING_TOKEN');
  const auth: Pick<MlflowRegistryClientOptions, 'token' | 'username' | 'password'> =
    username !== undefined && password !== undefined ? { username, password } : token !== undefined ? { token } : {};
  const out = { baseUrl, ...auth } as MlflowRegistryClientOptions;
  const workspace = get('MLFLOW_WORKSPACE');
  if (workspace !== undefined) out.workspace = workspace;
  const timeout = Number(get('MLFLOW_HTTP_REQUEST_TIMEOUT'));
  if (Number.isFinite(timeout) && timeout > 0) out.timeoutMs = timeout * 1000;
  const retries = Number(get('MLFLOW_HTTP_REQUEST_MAX_RETRIES') ?? NaN);
  if (Number.isInteger(retries) && retries >= 0) out.retries = { maxRetries: retries };
  return { ...out, ...overrides } as MlflowRegistryClientOptions;
}

/**
 * A client configured from the environment (see {@link optionsFromEnv}).
 *
 * @example
 * ```ts
 * const client = clientFromEnv({ validateResponses: true });
 * ```
 */
export function clientFromEnv(overrides: Partial<MlflowRegistryClientOptions> = {}, env: Env = process.env): MlflowRegistryClient {
  return new MlflowRegistryClient(optionsFromEnv(env, overrides));
}

/** The local file for an artifact path below `root`, refusing paths that would leave `dstPath`. */
function localPathFor(dstPath: string, root: string, artifactPath: string): string {
  const rel = root === '' ? artifactPath : artifactPath.startsWith(`${root}/`) ? artifactPath.slice(root.length + 1) : undefined;
  if (rel === undefined || rel === '' || rel.split('/').some((seg) => seg === '..' || seg === '.' || seg === '') || rel.includes('\\')) {
    throw new Error(`Refusing to write artifact '${artifactPath}': not a plain path below '${root}'`);
  }
  const out = path.resolve(dstPath, ...rel.split('/'));
  if (!out.startsWith(path.resolve(dstPath) + path.sep)) throw new Error(`Refusing to write artifact '${artifactPath}' outside ${dstPath}`);
  return out;
}

/**
 * Downloads every file below the artifact directory `artifactPath` (the whole root if empty) into
 * `dstPath`, keeping the layout, like `mlflow.artifacts.download_artifacts`. Directories are walked
 * with {@link MlflowRegistryClient.listArtifactsRecursive}; each file is streamed to disk
 * (`concurrency` at a time, default 4). Returns the local paths written. If `artifactPath` is a
 * single file, that file is downloaded into `dstPath`.
 *
 * @example
 * ```ts
 * const files = await downloadArtifacts(client, { artifactPath: 'models/iris/run-42', dstPath: './iris' });
 * ```
 */
export async function downloadArtifacts(
  client: MlflowRegistryClient,
  params: { artifactPath: string; dstPath: string; concurrency?: number },
  options?: CallOptions,
): Promise<string[]> {
  const root = params.artifactPath.replace(/^\/+|\/+$/g, '');
  const files: string[] = [];
  for await (const f of client.listArtifactsRecursive(root === '' ? {} : { path: root }, options)) files.push(f.path);
  let base = root;
  if (files.length === 0 && root !== '') {
    // MLflow lists a file as empty: download it as a single file, if it is one.
    base = root.includes('/') ? root.slice(0, root.lastIndexOf('/')) : '';
    files.push(root);
  }
  await fs.promises.mkdir(params.dstPath, { recursive: true });
  const written: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const artifact = files[next++]!;
      const local = localPathFor(params.dstPath, base, artifact);
      await fs.promises.mkdir(path.dirname(local), { recursive: true });
      const stream = await client.downloadArtifact({ path: artifact }, options);
      await pipeline(Readable.fromWeb(stream as NodeReadableStream<Uint8Array>), fs.createWriteStream(local), options?.signal ? { signal: options.signal } : {});
      written.push(local);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(params.concurrency ?? 4, files.length || 1)) }, worker));
  return written.sort();
}

/** What {@link downloadModel} downloaded. */
export interface DownloadedModel {
  /** Registered model name. */
  name: string;
  /** The version the URI resolved to. */
  version: string;
  /** The version's download URI (a `mlflow-artifacts:` URI). */
  downloadUri: string;
  /** The local paths written, sorted. */
  files: string[];
}

/**
 * Resolves a `models:/` URI (see {@link MlflowRegistryClient.resolveModelUri}) and downloads the
 * version's artifacts into `dstPath`. The artifacts must be served by the server's artifact proxy
 * (a `mlflow-artifacts:` download URI); for others (`s3://…`, …) this fails with a `TypeError`
 * naming the URI, to fetch with that store's own client.
 *
 * @example
 * ```ts
 * const { version, files } = await downloadModel(client, { modelUri: 'models:/iris@champion', dstPath: './iris' });
 * ```
 */
export async function downloadModel(
  client: MlflowRegistryClient,
  params: { modelUri: string; dstPath: string; concurrency?: number },
  options?: CallOptions,
): Promise<DownloadedModel> {
  const r = await client.resolveModelUri(params.modelUri, options);
  if (r.artifactPath === undefined) {
    throw new TypeError(`${params.modelUri} resolves to ${r.downloadUri}, which is not served by the artifact proxy of ${client.baseUrl}`);
  }
  const dl: { artifactPath: string; dstPath: string; concurrency?: number } = { artifactPath: r.artifactPath, dstPath: params.dstPath };
  if (params.concurrency !== undefined) dl.concurrency = params.concurrency;
  const files = await downloadArtifacts(client, dl, options);
  return { name: r.name, version: r.version, downloadUri: r.downloadUri, files };
}

/**
 * Uploads every file below `localDir` to the artifact directory `artifactPath`, keeping the layout,
 * like `mlflow.log_artifacts`. Each file is sent from disk as a file-backed `Blob` (`fs.openAsBlob`:
 * with a Content-Length, never read whole into memory). Returns the artifact paths written; the
 * directory's artifact URI is `mlflow-artifacts:/<artifactPath>`.
 *
 * @example
 * ```ts
 * await uploadArtifacts(client, { localDir: './model', artifactPath: 'models/iris/run-42' });
 * ```
 */
export async function uploadArtifacts(
  client: MlflowRegistryClient,
  params: { localDir: string; artifactPath: string },
  options?: CallOptions,
): Promise<string[]> {
  const root = params.artifactPath.replace(/^\/+|\/+$/g, '');
  const entries = await fs.promises.readdir(params.localDir, { recursive: true, withFileTypes: true });
  const uploaded: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const local = path.join(e.parentPath, e.name);
    const rel = path.relative(params.localDir, local).split(path.sep).join('/');
    const target = root === '' ? rel : `${root}/${rel}`;
    await client.uploadArtifact({ path: target, body: await fs.openAsBlob(local) }, options);
    uploaded.push(target);
  }
  return uploaded.sort();
}
