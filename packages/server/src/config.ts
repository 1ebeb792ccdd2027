/**
 * Configuration: read once from environment variables in main.ts, validated, then passed down.
 * Nothing else in the server reads process.env. Every variable is documented in the README.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogLevel } from './log.js';
import { BootstrapError, validateBootstrapPassword } from './auth/bootstrap.js';
import { isPermissionName, type PermissionName } from './auth/permissions.js';
import { isAllowedOidcUrl, OIDC_ALGORITHMS, type OidcConfig } from './auth/oidc.js';

export interface S3Config {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

/** Artifact serving (see README "Artifacts"). */
export interface ArtifactsConfig {
  /** What get-download-uri returns for sources in our store: as given, our proxy URL, or a presigned URL. */
  downloadUri: 'source' | 'proxy' | 'presigned';
  /** Public base URL of this server, for proxy download URIs and for recognising our own URLs. */
  publicUrl: string | undefined;
  /** Lifetime of presigned URLs, seconds. */
  presignExpiresSec: number;
  /** Enables the direct-transfer endpoints (/api/2.0/mlflow-ts/artifacts/…; S3 only). */
  directTransfer: boolean;
  /** Endpoint written into presigned URLs when clients reach S3 at another address than the server. */
  s3PresignEndpoint: string | undefined;
  s3SessionToken: string | undefined;
}

export interface Config {
  port: number;
  host: string;
  /** postgres:// URL; undefined means the embedded PGlite database under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /**
   * EMBEDDED_WASM_OPTIMIZE: let V8's optimising compiler recompile the embedded engine's hot WebAssembly
   * (about a quarter less CPU per request, about 80 MB more memory). Default false: baseline code only.
   */
  embeddedWasmOptimize: boolean;
  dbPoolMax: number;
  /** READ_CACHE_MB: the read cache's memory budget in bytes (0 = off). */
  readCacheBytes: number;
  /**
   * METADATA_STORE: where the registry's metadata lives. `database` (PostgreSQL at DATABASE_URL, else
   * the embedded engine under dataDir) or `s3` (a change log in the S3_* bucket, under `prefix`,
   * replayed by every replica; store/s3-log/replicated.ts).
   */
  metadataStore: { kind: 'database' } | { kind: 's3'; prefix: string; snapshotEvery: number };
  logLevel: LogLevel;
  /** S3 artifact store; undefined means local files under dataDir/artifacts. */
  s3: S3Config | undefined;
  /**
   * ARTIFACTS_STORE: where artifact bytes live. `local` (files under dataDir/artifacts), `s3` (the
   * S3_* bucket) or `postgres` (chunked in the metadata database, so replicas share them with no
   * object store). Defaults to `s3` when S3_BUCKET is set, else `local`.
   */
  artifactsStore: 'local' | 's3' | 'postgres';
  /** MLflow's workspaces (multi-tenancy), off unless MLFLOW_ENABLE_WORKSPACES is true. */
  workspaces: WorkspacesConfig;
  /** Grace period for in-flight requests on SIGTERM. */
  shutdownTimeoutMs: number;
  /** MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: model-version sources must match it. */
  sourceRegex: RegExp | undefined;
  /** MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES: source schemes that may name any host. */
  allowedHostAddressedSchemes: string[];
  /** Webhooks: URL policy, secret encryption and the delivery worker. */
  webhooks: WebhookConfig;
  /** Artifact serving: download-URI mode, public URL, presigning, direct transfers. */
  artifacts: ArtifactsConfig;
  /** Request size limits and timeouts, enforced at the HTTP edge before anything is buffered. */
  limits: LimitsConfig;
  /** MLflow's security middleware: Host allowlist (DNS rebinding), CORS, security headers. */
  security: SecurityConfig;
  /** Observability: Prometheus metrics (README "Observability"). */
  observability: ObservabilityConfig;
  /** Authentication and permissions (MLflow's basic-auth app). */
  auth: AuthConfig;
}

/**
 * Authentication (README "Authentication"): MLflow 3.17.2's basic-auth app. Environment variables win
 * over MLFLOW_AUTH_CONFIG_PATH (MLflow's basic_auth.ini, section [mlflow]), as in MLflow.
 */
export interface AuthConfig {
  /** AUTH: `none` (default) or `basic` (MLflow's `--app-name basic-auth`). */
  mode: 'none' | 'basic';
  /** MLFLOW_AUTH_ADMIN_USERNAME / admin_username (default `admin`). */
  adminUsername: string;
  /** MLFLOW_AUTH_ADMIN_PASSWORD / admin_password: required with AUTH=basic. Never logged. */
  adminPassword: string | undefined;
  /** MLFLOW_AUTH_DEFAULT_PERMISSION / default_permission (default READ). */
  defaultPermission: PermissionName;
  /**
   * MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS / grant_default_workspace_access (default false): with
   * workspaces on, users without any workspace grant get default_permission in the `default` workspace.
   */
  grantDefaultWorkspaceAccess: boolean;
  /** AUTH_DATABASE_URL / database_uri (postgres:// only): the auth tables' database; undefined = the server's. */
  databaseUrl: string | undefined;
  /** MLFLOW_AUTH_CACHE_MAX_SIZE / auth_cache_max_size: verified credentials kept (0 = no cache). */
  cacheMaxEntries: number;
  /** MLFLOW_AUTH_CACHE_TTL_SECONDS / auth_cache_ttl_seconds, as ms: how long a verified credential is trusted. */
  cacheTtlMs: number;
  /** AUTH_OIDC_*: OpenID Connect bearer tokens (README "Authentication"); undefined unless AUTH_OIDC_ISSUER is set. */
  oidc: OidcConfig | undefined;
}

/** What one request may cost (README "Limits"). */
export interface LimitsConfig {
  /** MAX_REQUEST_BODY_MB: largest body of a JSON operation, in bytes (413 beyond). */
  maxJsonBodyBytes: number;
  /** MAX_ARTIFACT_UPLOAD_MB: largest artifact upload through the proxy, in bytes (0 = no limit). */
  maxArtifactUploadBytes: number;
  /** MAX_HEADER_KB: largest request head (request line and headers), in bytes (431 beyond). */
  maxHeaderBytes: number;
  /** REQUEST_HEADERS_TIMEOUT_MS: the request head must arrive within this time (408). */
  headersTimeoutMs: number;
  /** REQUEST_BODY_TIMEOUT_MS: a JSON body must arrive, and an upload make progress, within this time (408). */
  bodyTimeoutMs: number;
}

/**
 * MLflow 3.17's security middleware (mlflow/server/security.py), with its variables. Lists are kept
 * as given (comma-separated, trimmed); http/security.ts applies MLflow's matching rules.
 */
export interface SecurityConfig {
  /** MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE=true (or 1/yes/on, as `mlflow server` reads it) turns all of it off. */
  disabled: boolean;
  /** MLFLOW_SERVER_ALLOWED_HOSTS; undefined: localhost and private addresses. */
  allowedHosts: string[] | undefined;
  /** MLFLOW_SERVER_CORS_ALLOWED_ORIGINS; undefined: localhost origins only. */
  corsAllowedOrigins: string[] | undefined;
  /** MLFLOW_SERVER_X_FRAME_OPTIONS: SAMEORIGIN (default), DENY, or NONE (no header); sent uppercased. */
  xFrameOptions: string;
}

export interface WebhookConfig {
  /** MLFLOW_WEBHOOK_ALLOWED_SCHEMES: URL schemes webhooks may use (default ['https']). */
  allowedSchemes: string[];
  /** MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: Fernet key (url-safe base64 of 32 bytes); undefined: kept in the database. */
  secretEncryptionKey: string | undefined;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS (or MLflow's MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS): allow loopback/private targets. */
  allowPrivateTargets: boolean;
  /** MLFLOW_WEBHOOK_REQUEST_TIMEOUT (seconds), as milliseconds. */
  requestTimeoutMs: number;
  /** MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES: retries after the first attempt. */
  maxRetries: number;
  /** WEBHOOK_RETRY_BASE_MS / WEBHOOK_RETRY_MAX_MS: exponential backoff base and cap. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS: concurrent deliveries per process. */
  maxWorkers: number;
  /** WEBHOOK_POLL_INTERVAL_MS: how often the worker looks for due deliveries without being woken. */
  pollIntervalMs: number;
  /** WEBHOOK_CLAIM_LEASE_MS: how long a claimed delivery stays with its worker before another may retry it. */
  leaseMs: number;
  /** WEBHOOK_DELIVERY_ENABLED: whether this process runs the delivery worker (events queue either way). */
  deliveryEnabled: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got '${raw}'`);
  return n;
}

/** A non-negative decimal number such as `16` or `0.5`. */
function decimal(env: Env, name: string, def: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || Number(raw) > max) {
    throw new ConfigError(`${name} must be a number between 0 and ${max}, got '${raw}'`);
  }
  return Number(raw.trim());
}

function readCacheBytes(env: Env): number {
  if (str(env, 'READ_CACHE_SIZE') !== undefined) {
    throw new ConfigError('READ_CACHE_SIZE (a number of answers) was replaced by READ_CACHE_MB, the read cache\'s memory budget in megabytes');
  }
  // On PostgreSQL a smaller default: there the benchmark's peak RSS stays under 100 MB with it.
  return Math.round(decimal(env, 'READ_CACHE_MB', env.DATABASE_URL ? 4 : 16, 100_000) * 1024 * 1024);
}

function str(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const v = raw.toLowerCase() as T;
  if (!values.includes(v)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got '${raw}'`);
  return v;
}

function databaseUrl(env: Env): string | undefined {
  const raw = str(env, 'DATABASE_URL');
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`DATABASE_URL is not a valid URL (expected postgres://user:password@host:5432/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must use the postgres:// or postgresql:// scheme, got '${url.protocol}'`);
  }
  return raw;
}

function fernetKey(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const b64 = raw.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || Buffer.from(b64, 'base64').length !== 32) {
    throw new ConfigError(`${name} must be a Fernet key: 32 url-safe base64-encoded bytes (e.g. from Fernet.generate_key())`);
  }
  return raw;
}

function webhookConfig(env: Env, metadata: Config['metadataStore']['kind']): WebhookConfig {
  const requestTimeoutMs = int(env, 'MLFLOW_WEBHOOK_REQUEST_TIMEOUT', 30, 1, 3600) * 1000;
  const leaseMs = int(env, 'WEBHOOK_CLAIM_LEASE_MS', requestTimeoutMs + 30_000, 1000, 86_400_000);
  if (leaseMs < requestTimeoutMs + 1000) {
    throw new ConfigError(`WEBHOOK_CLAIM_LEASE_MS must exceed the request timeout (MLFLOW_WEBHOOK_REQUEST_TIMEOUT) by at least 1000 ms, got ${leaseMs}`);
  }
  const retryBaseMs = int(env, 'WEBHOOK_RETRY_BASE_MS', 1000, 1, 3_600_000);
  return {
    allowedSchemes: (str(env, 'MLFLOW_WEBHOOK_ALLOWED_SCHEMES') ?? 'https')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    secretEncryptionKey: fernetKey(env, 'MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY'),
    allowPrivateTargets: bool(env, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', bool(env, 'MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS', false)),
    requestTimeoutMs,
    maxRetries: int(env, 'MLFLOW_WEBHOOK_REQUEST_MAX_RETRIES', 10, 0, 100),
    retryBaseMs,
    retryMaxMs: Math.max(retryBaseMs, int(env, 'WEBHOOK_RETRY_MAX_MS', 60_000, 1, 86_400_000)),
    maxWorkers: int(env, 'MLFLOW_WEBHOOK_DELIVERY_MAX_WORKERS', 10, 1, 1000),
    // With METADATA_STORE=s3 each poll is a LIST request to the bucket (a read catches up with the change
    // log), billed by the provider; deliveries are woken by their own replica's commits either way.
    pollIntervalMs: int(env, 'WEBHOOK_POLL_INTERVAL_MS', metadata === 's3' ? 10_000 : 500, 10, 3_600_000),
    leaseMs,
    deliveryEnabled: bool(env, 'WEBHOOK_DELIVERY_ENABLED', true),
  };
}

function regex(env: Env, name: string): RegExp | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  try {
    return new RegExp(raw, 'u');
  } catch (err) {
    throw new ConfigError(`${name} is not a valid regular expression: ${(err as Error).message}`);
  }
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const v = raw.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got '${raw}'`);
}

function httpUrl(env: Env, name: string): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL: '${raw}'`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new ConfigError(`${name} must be an http(s) URL without query or fragment, got '${raw}'`);
  }
  return raw;
}

function artifactsConfig(env: Env, s3: S3Config | undefined): ArtifactsConfig {
  const downloadUri = oneOf(env, 'ARTIFACTS_DOWNLOAD_URI', ['source', 'proxy', 'presigned'] as const, 'source');
  const publicUrl = httpUrl(env, 'PUBLIC_URL');
  const directTransfer = bool(env, 'ARTIFACTS_DIRECT_TRANSFER', false);
  if (downloadUri === 'proxy' && !publicUrl) {
    throw new ConfigError('ARTIFACTS_DOWNLOAD_URI=proxy needs PUBLIC_URL, the URL clients use to reach this server (e.g. https://registry.example.com)');
  }
  if (downloadUri === 'presigned' && !s3) throw new ConfigError('ARTIFACTS_DOWNLOAD_URI=presigned needs the S3 artifact store (set S3_BUCKET)');
  if (directTransfer && !s3) throw new ConfigError('ARTIFACTS_DIRECT_TRANSFER=true needs the S3 artifact store (set S3_BUCKET)');
  return {
    downloadUri,
    publicUrl,
    presignExpiresSec: int(env, 'ARTIFACTS_PRESIGN_EXPIRY_SECONDS', 900, 1, 604_800),
    directTransfer,
    s3PresignEndpoint: httpUrl(env, 'S3_PRESIGN_ENDPOINT_URL'),
    s3SessionToken: str(env, 'AWS_SESSION_TOKEN'),
  };
}

const MB = 1024 * 1024;

function limitsConfig(env: Env): LimitsConfig {
  return {
    maxJsonBodyBytes: Math.round(decimal(env, 'MAX_REQUEST_BODY_MB', 8, 1024) * MB),
    maxArtifactUploadBytes: Math.round(decimal(env, 'MAX_ARTIFACT_UPLOAD_MB', 0, 16 * 1024 * 1024) * MB),
    maxHeaderBytes: int(env, 'MAX_HEADER_KB', 16, 1, 1024) * 1024,
    headersTimeoutMs: int(env, 'REQUEST_HEADERS_TIMEOUT_MS', 30_000, 1000, 600_000),
    bodyTimeoutMs: int(env, 'REQUEST_BODY_TIMEOUT_MS', 60_000, 1000, 3_600_000),
  };
}

/** MLflow's `[h.strip() for h in value.split(",")]` of a non-empty value. */
function commaList(env: Env, name: string): string[] | undefined {
  const raw = env[name];
  return raw ? raw.split(',').map((x) => x.trim()) : undefined;
}

/** `mlflow server` reads this variable as a click boolean: these spellings, any case, else it refuses to start. */
function clickBool(env: Env, name: string): boolean {
  const raw = env[name] ?? '';
  const v = raw.trim().toLowerCase();
  if (['1', 't', 'true', 'y', 'yes', 'on'].includes(v)) return true;
  if (['', '0', 'f', 'false', 'n', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(`${name}: '${raw}' is not a valid boolean`);
}

// ---------------------------------------------------------------- workspaces (README "Workspaces")

export interface WorkspacesConfig {
  /** MLFLOW_ENABLE_WORKSPACES (MLflow's variable for `mlflow server --enable-workspaces`). */
  enabled: boolean;
}

function workspacesConfig(env: Env): WorkspacesConfig {
  return { enabled: bool(env, 'MLFLOW_ENABLE_WORKSPACES', false) };
}

/** The key prefix's segments ('' has none). */
const segments = (prefix: string) => prefix.split('/').filter(Boolean);
/** Whether one key prefix lies within the other (segment by segment; '' holds every key). */
const nested = (a: string[], b: string[]) => a.slice(0, b.length).every((x, i) => x === b[i]) || b.slice(0, a.length).every((x, i) => x === a[i]);

function metadataStore(env: Env, s3: S3Config | undefined): Config['metadataStore'] {
  const kind = oneOf(env, 'METADATA_STORE', ['database', 's3'] as const, 'database');
  if (kind === 'database') return { kind };
  if (!s3) throw new ConfigError('METADATA_STORE=s3 needs S3_BUCKET (the bucket that holds the metadata)');
  if (str(env, 'DATABASE_URL')) throw new ConfigError('METADATA_STORE=s3 keeps the metadata in S3: unset DATABASE_URL (or unset METADATA_STORE to use the database)');
  const prefix = (str(env, 'S3_METADATA_PREFIX') ?? 'registry-metadata').replace(/^\/+|\/+$/g, '');
  if (!prefix) throw new ConfigError('S3_METADATA_PREFIX must name a key prefix (the metadata never shares keys with artifacts)');
  const store = artifactsStore(env, s3);
  // Artifact keys are chosen by clients: none may ever land among the metadata's (or the reverse).
  if (store === 's3' && nested(segments(prefix), segments(s3.prefix)))
    throw new ConfigError(
      `METADATA_STORE=s3: the metadata (S3_METADATA_PREFIX=${prefix}) and the artifacts (S3_PREFIX=${s3.prefix || '(the whole bucket)'}) ` +
        'must not share keys; set S3_PREFIX to another prefix, e.g. S3_PREFIX=artifacts',
    );
  if (store === 'postgres') throw new ConfigError('ARTIFACTS_STORE=postgres needs a database: with METADATA_STORE=s3 use ARTIFACTS_STORE=s3');
  if (env.AUTH === 'basic') throw new ConfigError('AUTH=basic is not available with METADATA_STORE=s3 yet: use METADATA_STORE=database (PostgreSQL) for authentication');
  // Without it the key would be generated and kept in the metadata, that is in the bucket beside the
  // secrets it encrypts, readable by anyone who may read the bucket.
  if (!str(env, 'MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY'))
    throw new ConfigError(
      'METADATA_STORE=s3 needs MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY (a Fernet key): the bucket holds the encrypted webhook secrets, ' +
        "and a key kept beside them would not protect them. Make one with: node -e \"console.log(require('crypto').randomBytes(32).toString('base64url') + '=')\"",
    );
  // A replica starting up loads the latest snapshot and replays the entries after it (store/s3-log/replicated.ts).
  const snapshotEvery = int(env, 'S3_METADATA_SNAPSHOT_EVERY', 1000, 0, 1_000_000);
  return { kind, prefix, snapshotEvery };
}

/** ARTIFACTS_STORE, checked against the settings each store needs. */
function artifactsStore(env: Env, s3: S3Config | undefined): Config['artifactsStore'] {
  const store = oneOf(env, 'ARTIFACTS_STORE', ['local', 's3', 'postgres'] as const, s3 ? 's3' : 'local');
  if (store === 's3' && !s3) throw new ConfigError('ARTIFACTS_STORE=s3 needs S3_BUCKET');
  return store;
}

// ---------------------------------------------------------------- observability (README "Observability")

/** Metrics, readiness and request ids (http/metrics.ts, http/ready.ts, http/request-id.ts). */
export interface ObservabilityConfig {
  /**
   * STATIC_PREFIX (MLflow's `--static-prefix`): every route served under this path prefix (`/mlflow`);
   * '' serves at the root.
   */
  staticPrefix: string;
  /**
   * MLFLOW_UI_DIR: an MLflow web UI build (its `index.html` and `static-files/`) served at `/`; '' turns
   * it off. Undefined: the one inside an installed `mlflow` Python package, when found.
   */
  uiDir: string | undefined;
  /** METRICS_ENABLED=true: Prometheus metrics at GET /metrics (prom-client is loaded only then), like MLflow's --expose-prometheus. */
  metricsEnabled: boolean;
}

function observabilityConfig(env: Env): ObservabilityConfig {
  return {
    metricsEnabled: bool(env, 'METRICS_ENABLED', false),
    staticPrefix: staticPrefix(env),
    uiDir: env.MLFLOW_UI_DIR,
  };
}

/** MLflow's rule: the prefix starts with '/' and does not end with one. */
function staticPrefix(env: Env): string {
  const raw = str(env, 'STATIC_PREFIX');
  if (raw === undefined) return '';
  if (!raw.startsWith('/') || raw.endsWith('/') || !/^[A-Za-z0-9._~\/-]+$/.test(raw)) {
    throw new ConfigError(`STATIC_PREFIX must start with '/', not end with '/' and hold only URL path characters, got '${raw}'`);
  }
  return raw;
}

function securityConfig(env: Env): SecurityConfig {
  return {
    disabled: clickBool(env, 'MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE'),
    allowedHosts: commaList(env, 'MLFLOW_SERVER_ALLOWED_HOSTS'),
    corsAllowedOrigins: commaList(env, 'MLFLOW_SERVER_CORS_ALLOWED_ORIGINS'),
    xFrameOptions: env.MLFLOW_SERVER_X_FRAME_OPTIONS || 'SAMEORIGIN',
  };
}

/** MLflow's basic_auth.ini: the `[mlflow]` section's `key = value` (or `key: value`) lines, as configparser reads them. */
function readIni(file: string): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`MLFLOW_AUTH_CONFIG_PATH: cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section !== 'mlflow') continue;
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (m) out[m[1]!.toLowerCase()] = m[2]!;
  }
  return out;
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** AUTH_OIDC_*: undefined without AUTH_OIDC_ISSUER; the audience is then required (a token for another client of the issuer must not pass). */
function oidcConfig(env: Env): OidcConfig | undefined {
  const issuer = str(env, 'AUTH_OIDC_ISSUER');
  const others = ['AUTH_OIDC_AUDIENCE', 'AUTH_OIDC_JWKS_URL', 'AUTH_OIDC_USERNAME_CLAIM', 'AUTH_OIDC_ADMIN_CLAIM', 'AUTH_OIDC_ADMIN_VALUE', 'AUTH_OIDC_ALGORITHMS'];
  if (issuer === undefined) {
    const set = others.filter((n) => str(env, n) !== undefined);
    if (set.length) throw new ConfigError(`${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but AUTH_OIDC_ISSUER is not`);
    return undefined;
  }
  if (!isAllowedOidcUrl(issuer)) throw new ConfigError(`AUTH_OIDC_ISSUER must be an https:// URL (http:// only on a loopback host), got '${issuer}'`);
  const audience = (str(env, 'AUTH_OIDC_AUDIENCE') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (audience.length === 0) throw new ConfigError("AUTH_OIDC_AUDIENCE is required with AUTH_OIDC_ISSUER (the client id this server's tokens are issued for)");
  const jwksUrl = str(env, 'AUTH_OIDC_JWKS_URL');
  if (jwksUrl !== undefined && !isAllowedOidcUrl(jwksUrl)) throw new ConfigError(`AUTH_OIDC_JWKS_URL must be an https:// URL (http:// only on a loopback host), got '${jwksUrl}'`);
  const algorithms = (str(env, 'AUTH_OIDC_ALGORITHMS') ?? 'RS256,ES256').split(',').map((x) => x.trim()).filter(Boolean);
  const bad = algorithms.filter((a) => !(OIDC_ALGORITHMS as readonly string[]).includes(a));
  if (bad.length || algorithms.length === 0) {
    throw new ConfigError(`AUTH_OIDC_ALGORITHMS may name only ${OIDC_ALGORITHMS.join(', ')} (never none or HS*), got '${bad.join(',') || '(none)'}'`);
  }
  const adminValue = str(env, 'AUTH_OIDC_ADMIN_VALUE');
  const adminClaim = str(env, 'AUTH_OIDC_ADMIN_CLAIM');
  if (adminValue !== undefined && adminClaim === undefined) throw new ConfigError('AUTH_OIDC_ADMIN_VALUE needs AUTH_OIDC_ADMIN_CLAIM');
  return {
    issuer,
    audience,
    jwksUrl,
    usernameClaim: str(env, 'AUTH_OIDC_USERNAME_CLAIM') ?? 'preferred_username',
    adminClaim,
    adminValue,
    algorithms,
    clockToleranceSeconds: int(env, 'AUTH_OIDC_CLOCK_TOLERANCE_SECONDS', 30, 0, 300),
  };
}

function authConfig(env: Env, host: string): AuthConfig {
  const rawMode = str(env, 'AUTH');
  const mode = oneOf(env, 'AUTH', ['none', 'basic'] as const, 'none');
  // Secure by default: with authentication unset, only this machine may reach the server.
  if (rawMode === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `HOST=${host} would let anyone who can reach this address read, change and delete every model, because authentication is off. ` +
        'Either set AUTH=basic (with MLFLOW_AUTH_ADMIN_PASSWORD) to require logins, or set AUTH=none to serve without authentication on purpose.',
    );
  }
  const iniPath = str(env, 'MLFLOW_AUTH_CONFIG_PATH');
  const ini = iniPath !== undefined ? readIni(path.resolve(iniPath)) : {};
  // As MLflow: a variable that is set wins, even when empty (an empty injected secret must not fall back to the file).
  const pick = (name: string, key: string) => (env[name] !== undefined ? env[name]!.trim() : ini[key]?.trim()) || undefined;
  const adminUsername = pick('MLFLOW_AUTH_ADMIN_USERNAME', 'admin_username') ?? 'admin';
  // The password is used as given (not trimmed): spaces may be part of it.
  const adminPassword = (env.MLFLOW_AUTH_ADMIN_PASSWORD !== undefined ? env.MLFLOW_AUTH_ADMIN_PASSWORD : ini.admin_password) || undefined;
  const permission = (pick('MLFLOW_AUTH_DEFAULT_PERMISSION', 'default_permission') ?? 'READ').toUpperCase();
  if (!isPermissionName(permission)) {
    throw new ConfigError(`MLFLOW_AUTH_DEFAULT_PERMISSION must be one of READ, USE, EDIT, MANAGE, NO_PERMISSIONS, got '${permission}'`);
  }
  if (permission === 'DENY') throw new ConfigError('MLFLOW_AUTH_DEFAULT_PERMISSION cannot be DENY (use NO_PERMISSIONS)');
  const grantRaw = pick('MLFLOW_AUTH_GRANT_DEFAULT_WORKSPACE_ACCESS', 'grant_default_workspace_access');
  // configparser's getboolean spellings.
  const grantDefault = grantRaw === undefined ? 'false' : grantRaw.toLowerCase();
  if (!['1', 'yes', 'true', 'on', '0', 'no', 'false', 'off'].includes(grantDefault)) {
    throw new ConfigError(`grant_default_workspace_access must be a boolean (true/false, yes/no, on/off, 1/0), got '${grantRaw}'`);
  }
  const dbFromEnv = str(env, 'AUTH_DATABASE_URL');
  const dbRaw = dbFromEnv ?? ini.database_uri?.trim();
  let databaseUrl: string | undefined;
  if (dbRaw) {
    const setting = dbFromEnv !== undefined ? 'AUTH_DATABASE_URL' : `database_uri in ${iniPath}`;
    let url: URL | undefined;
    try {
      url = new URL(dbRaw);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
      throw new ConfigError(`${setting} must be a postgres:// URL (this server keeps the auth tables in PostgreSQL or in its own database)`);
    }
    databaseUrl = dbRaw;
  }
  const intSetting = (name: string, key: string, def: number, max: number) => {
    if (env[name] !== undefined && env[name]!.trim() !== '') return int(env, name, def, 0, max);
    const v = ini[key]?.trim();
    if (v === undefined || v === '') return def;
    if (!/^\d+$/.test(v) || Number(v) > max) throw new ConfigError(`${key} in ${iniPath} must be an integer between 0 and ${max}, got '${v}'`);
    return Number(v);
  };
  const cfg: AuthConfig = {
    mode,
    adminUsername,
    adminPassword,
    defaultPermission: permission,
    grantDefaultWorkspaceAccess: ['1', 'yes', 'true', 'on'].includes(grantDefault),
    databaseUrl,
    cacheMaxEntries: intSetting('MLFLOW_AUTH_CACHE_MAX_SIZE', 'auth_cache_max_size', 10_000, 10_000_000),
    cacheTtlMs: intSetting('MLFLOW_AUTH_CACHE_TTL_SECONDS', 'auth_cache_ttl_seconds', 60, 86_400) * 1000,
    oidc: oidcConfig(env),
  };
  if (cfg.oidc && mode !== 'basic') throw new ConfigError('AUTH_OIDC_ISSUER needs AUTH=basic (OIDC tokens map to the users and grants of the basic-auth app)');
  if (mode === 'basic') {
    try {
      validateBootstrapPassword(adminUsername, adminPassword);
    } catch (err) {
      if (err instanceof BootstrapError) throw new ConfigError(err.message);
      throw err;
    }
  }
  return cfg;
}

/** The metadata store's name in logs and metrics: `postgres`, `pglite` or `s3`. */
export const metadataStoreName = (c: Config): 'postgres' | 'pglite' | 's3' => (c.metadataStore.kind === 's3' ? 's3' : c.databaseUrl ? 'postgres' : 'pglite');

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const bucket = str(env, 'S3_BUCKET');
  const s3: S3Config | undefined = bucket
    ? {
        bucket,
        prefix: (str(env, 'S3_PREFIX') ?? '').replace(/^\/+|\/+$/g, ''),
        region: str(env, 'AWS_REGION') ?? 'us-east-1',
        endpoint: str(env, 'S3_ENDPOINT_URL'),
        accessKeyId: str(env, 'AWS_ACCESS_KEY_ID'),
        secretAccessKey: str(env, 'AWS_SECRET_ACCESS_KEY'),
      }
    : undefined;
  if (s3?.endpoint !== undefined) {
    try {
      new URL(s3.endpoint);
    } catch {
      throw new ConfigError(`S3_ENDPOINT_URL is not a valid URL: '${s3.endpoint}'`);
    }
  }
  const host = str(env, 'HOST') ?? '127.0.0.1';
  const metadata = metadataStore(env, s3);
  return {
    port: int(env, 'PORT', 8000, 0, 65535),
    host,
    databaseUrl: databaseUrl(env),
    dataDir: path.resolve(cwd, str(env, 'DATA_DIR') ?? 'data'),
    embeddedWasmOptimize: bool(env, 'EMBEDDED_WASM_OPTIMIZE', false),
    dbPoolMax: int(env, 'DB_POOL_MAX', 10, 1, 1000),
    readCacheBytes: metadata.kind === 's3' ? 0 : readCacheBytes(env),
    metadataStore: metadata,
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    s3,
    artifactsStore: artifactsStore(env, s3),
    workspaces: workspacesConfig(env),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    sourceRegex: regex(env, 'MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX'),
    allowedHostAddressedSchemes: (str(env, 'MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES') ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean),
    webhooks: webhookConfig(env, metadata.kind),
    artifacts: artifactsConfig(env, s3),
    limits: limitsConfig(env),
    security: securityConfig(env),
    observability: observabilityConfig(env),
    auth: authConfig(env, host),
  };
}
