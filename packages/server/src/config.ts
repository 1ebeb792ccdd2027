/**
 * Configuration: read once from environment variables in main.ts, validated, then passed down.
 * Nothing else in the server reads process.env. Every variable is documented in the README.
 */
import path from 'node:path';
import type { LogLevel } from './log.js';

export interface S3Config {
  bucket: string;
  prefix: string;
  region: string;
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
}

export interface Config {
  port: number;
  host: string;
  /** postgres:// URL; undefined means the embedded PGlite database under dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  dbPoolMax: number;
  logLevel: LogLevel;
  /** S3 artifact store; undefined means local files under dataDir/artifacts. */
  s3: S3Config | undefined;
  /** Grace period for in-flight requests on SIGTERM. */
  shutdownTimeoutMs: number;
  /** MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX: model-version sources must match it. */
  sourceRegex: RegExp | undefined;
  /** MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES: source schemes that may name any host. */
  allowedHostAddressedSchemes: string[];
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

function regex(env: Env, name: string): RegExp | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  try {
    return new RegExp(raw, 'u');
  } catch (err) {
    throw new ConfigError(`${name} is not a valid regular expression: ${(err as Error).message}`);
  }
}

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
  return {
    port: int(env, 'PORT', 8000, 0, 65535),
    host: str(env, 'HOST') ?? '127.0.0.1',
    databaseUrl: databaseUrl(env),
    dataDir: path.resolve(cwd, str(env, 'DATA_DIR') ?? 'data'),
    dbPoolMax: int(env, 'DB_POOL_MAX', 10, 1, 1000),
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error', 'silent'] as const, 'info'),
    s3,
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    sourceRegex: regex(env, 'MLFLOW_CREATE_MODEL_VERSION_SOURCE_VALIDATION_REGEX'),
    allowedHostAddressedSchemes: (str(env, 'MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES') ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter(Boolean),
  };
}
