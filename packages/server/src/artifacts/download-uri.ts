/**
 * The hybrid store: which model version sources point into our own artifact store, and what
 * `get-download-uri` hands to clients for them. (MLflow's policy on host-addressed sources is
 * registry/source-policy.ts; our public URL and S3 endpoints are its trusted hosts, see index.ts.)
 *
 * A location is ours when it is
 *  - `mlflow-artifacts:/<p>` (or `mlflow-artifacts://<our host>/<p>`),
 *  - `<PUBLIC_URL>/api/2.0/mlflow-artifacts/artifacts/<p>` (also under /ajax-api), or
 *  - `s3://<our bucket>/<our prefix>/<p>` when the S3 store is configured;
 * and its path `<p>` passes paths.ts. Anything else (runs:/, models:/, other buckets, …) is never
 * rewritten.
 *
 * Download-URI modes (ARTIFACTS_DOWNLOAD_URI):
 *  - `source` (default, MLflow's behaviour): the stored location as given;
 *  - `proxy`: our absolute `<PUBLIC_URL>/api/2.0/mlflow-artifacts/artifacts/<p>` URL, which the MLflow
 *    client reads with HttpArtifactRepository, with no tracking server and no storage credentials;
 *  - `presigned`: a presigned HTTPS GET URL for a single-file artifact on S3. A presigned URL names one
 *    object, so a directory (the usual MLflow model) falls back to the proxy URL when PUBLIC_URL is set,
 *    else to the location as given.
 */
import { decodeOnce, parseDecodedPath, parseEncodedPath, type ArtifactPath } from './paths.js';
import { scopeToWorkspace } from './workspace-paths.js';
import type { ArtifactStore } from './store.js';
import type { S3ArtifactStore } from './s3.js';
import { hostTargets } from '../registry/source-policy.js';

export type DownloadUriMode = 'source' | 'proxy' | 'presigned';

export const DOWNLOAD_URI_MODES: readonly DownloadUriMode[] = ['source', 'proxy', 'presigned'];

export interface ArtifactLocationsOptions {
  store: ArtifactStore;
  mode: DownloadUriMode;
  /** Public base URL of this server (`https://registry.example.com`, maybe with a path prefix). */
  publicUrl?: string;
  presignExpiresSec: number;
}

const PROXY_ROUTE = /^\/(?:api|ajax-api)\/2\.0\/mlflow-artifacts\/artifacts(?:\/(.*))?$/;

/** Python's `urlparse` as far as MLflow's checks need it: scheme, netloc, path (raw). */
export interface UriParts {
  scheme: string;
  netloc: string;
  path: string;
  query: string;
  fragment: string;
  hasNetloc: boolean;
}

export function splitUri(uri: string): UriParts {
  let rest = uri;
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let netloc = '';
  let hasNetloc = false;
  if (rest.startsWith('//')) {
    hasNetloc = true;
    const end = rest.indexOf('/', 2);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, end);
    rest = end < 0 ? '' : rest.slice(end);
  }
  return { scheme, netloc, path: rest, query, fragment, hasNetloc };
}

export class ArtifactLocations {
  private readonly publicUrl: URL | undefined;
  private readonly trusted: Set<string>;

  constructor(private readonly opts: ArtifactLocationsOptions) {
    this.publicUrl = opts.publicUrl ? new URL(opts.publicUrl) : undefined;
    this.trusted = new Set(opts.publicUrl ? (hostTargets(opts.publicUrl) ?? []) : []);
  }

  /** `<PUBLIC_URL>` without a trailing slash. */
  private base(): string | undefined {
    return this.publicUrl ? this.publicUrl.href.replace(/\/+$/, '') : undefined;
  }

  /**
   * The proxied URL of a path in our store, or undefined without PUBLIC_URL. The path goes in as is, the
   * way MLflow's client builds these URLs from `mlflow-artifacts:` URIs: HttpArtifactRepository lists a
   * directory by sending the URL's tail as the `path` query parameter, so a percent-encoded tail (`my%20model`)
   * would arrive double-encoded and be refused. Python's requests (and WHATWG URL parsers) encode spaces and
   * non-ASCII characters when they send the request.
   */
  proxyUrl(p: ArtifactPath): string | undefined {
    const base = this.base();
    return base === undefined ? undefined : `${base}/api/2.0/mlflow-artifacts/artifacts${p ? `/${p}` : ''}`;
  }

  /** The artifact path inside our store that `uri` designates, or undefined when it is not ours (or unsafe). */
  resolve(uri: string): ArtifactPath | undefined {
    const u = splitUri(uri);
    if (u.query || u.fragment || uri.includes('#') || uri.includes('?')) return undefined;
    try {
      if (u.scheme === 'mlflow-artifacts') {
        if (u.netloc && !this.isOurHost(uri)) return undefined;
        return parseEncodedPath(u.path.replace(/^\/+/, ''));
      }
      if (u.scheme === 'http' || u.scheme === 'https') {
        const base = this.publicUrl;
        if (!base || `${u.scheme}:` !== base.protocol || !this.isOurHost(uri)) return undefined;
        const basePath = base.pathname.replace(/\/+$/, '');
        if (basePath && !u.path.startsWith(`${basePath}/`)) return undefined;
        const m = PROXY_ROUTE.exec(u.path.slice(basePath.length));
        if (!m) return undefined;
        return parseEncodedPath(m[1] ?? '');
      }
      if (u.scheme === 's3' && this.opts.store.kind === 's3') {
        const s3 = this.opts.store as S3ArtifactStore;
        if (decodeOnce(u.netloc) !== s3.bucket) return undefined;
        // S3 URIs carry the key verbatim (MLflow's S3ArtifactRepository does not decode it).
        const key = u.path.replace(/^\/+/, '');
        if (!s3.prefix) return parseDecodedPath(key);
        if (key === s3.prefix || key === `${s3.prefix}/`) return parseDecodedPath('');
        if (!key.startsWith(`${s3.prefix}/`)) return undefined;
        return parseDecodedPath(key.slice(s3.prefix.length + 1));
      }
    } catch {
      return undefined; // unsafe path: not something we serve
    }
    return undefined;
  }

  private isOurHost(uri: string): boolean {
    const targets = hostTargets(uri);
    return targets !== undefined && [...targets].some((t) => this.trusted.has(t));
  }

  /**
   * RegistryServiceOptions.downloadUri: the URI `get-download-uri` returns for a stored location, in
   * workspace `workspace` (undefined: workspaces off). Our paths are the workspace's
   * (artifacts/workspace-paths.ts): a presigned or proxy URL names the object the workspace's own
   * artifact requests address, and a source naming another workspace's tree is returned as given.
   */
  async downloadUri(location: string, workspace?: string): Promise<string> {
    if (this.opts.mode === 'source') return location;
    const resolved = this.resolve(location);
    if (resolved === undefined) return location;
    let p: ArtifactPath;
    try {
      p = scopeToWorkspace(resolved, workspace);
    } catch {
      return location;
    }
    if (this.opts.mode === 'presigned' && this.opts.store.presign && p !== '') {
      const signed = await this.opts.store.presign.download(p, this.opts.presignExpiresSec);
      if (signed) return signed.url;
    }
    return this.proxyUrl(p) ?? location;
  }
}
