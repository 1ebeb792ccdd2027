/**
 * Readiness at GET /health/ready, beside the liveness check GET /health (which never looks at anything).
 *
 * Ready means every dependency a request needs answers now: the database (`SELECT 1`, through the
 * request pool, so a pool that cannot hand out a connection is not ready either), the separate auth
 * database when AUTH_DATABASE_URL is set, and the S3 bucket (HeadBucket) when artifacts are on S3. All
 * checks run at once, each bounded by READY_TIMEOUT_MS, so an answer never takes longer than that
 * (a database host that does not answer would otherwise hold the probe for the 5 s connect timeout).
 * Probes arriving while one runs share its answer.
 *
 * 200 {"status": "ready", "checks": {"database": "ok", …}} or 503 {"status": "not ready", "checks":
 * {"database": "unavailable (ECONNREFUSED)", …}}: a failure is named by its check and a code (a Node
 * error code, SQLSTATE, S3 error name or "timeout"), never by the driver's message, which may carry a
 * host, user or bucket.
 */
import type { S3Config } from '../config.js';
import { MlflowError } from '../errors.js';

export const READY_PATH = '/health/ready';
/** The longest a check may take (probes should allow 2 s: `timeoutSeconds: 2`). */
export const READY_TIMEOUT_MS = 1_500;

export interface ReadyCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or is abandoned at the timeout) otherwise. */
  run(signal: AbortSignal): Promise<unknown>;
}

export interface Readiness {
  /** The checks' outcome now (or the one under way). */
  evaluate(): Promise<{ ready: boolean; checks: Record<string, string> }>;
  handler(): Promise<Response>;
}

class Timeout extends Error {}

/** A code for a failure fit for an unauthenticated client: never a message. */
export function failureCode(err: unknown): string {
  if (err instanceof Timeout) return 'timeout';
  if (err instanceof MlflowError) {
    // The database layer's TEMPORARILY_UNAVAILABLE names its cause by code only: "… (ECONNREFUSED); retry later."
    const m = /\(([A-Za-z0-9 _:.-]{1,60})\)/.exec(err.message);
    return err.errorCode === 'TEMPORARILY_UNAVAILABLE' ? `unavailable${m ? ` (${m[1]})` : ''}` : err.errorCode;
  }
  const e = err as { code?: unknown; name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  if (e && typeof e.code === 'string' && /^[A-Z0-9_]{2,40}$/.test(e.code)) return `failed (${e.code})`;
  if (e && typeof e.name === 'string' && /^[A-Za-z]{2,60}$/.test(e.name) && e.name !== 'Error') {
    const status = e.$metadata?.httpStatusCode;
    return `failed (${e.name}${typeof status === 'number' ? ` ${status}` : ''})`;
  }
  return 'failed';
}

export function createReadiness(checks: ReadyCheck[], timeoutMs = READY_TIMEOUT_MS): Readiness {
  let running: Promise<{ ready: boolean; checks: Record<string, string> }> | undefined;

  const one = async (check: ReadyCheck): Promise<string> => {
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.run(abort.signal),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Timeout()), timeoutMs);
        }),
      ]);
      return 'ok';
    } catch (err) {
      abort.abort();
      return failureCode(err);
    } finally {
      clearTimeout(timer);
    }
  };

  const evaluate = () =>
    (running ??= (async () => {
      try {
        const results = await Promise.all(checks.map(one));
        const out: Record<string, string> = {};
        checks.forEach((c, i) => (out[c.name] = results[i]!));
        return { ready: results.every((r) => r === 'ok'), checks: out };
      } finally {
        running = undefined;
      }
    })());

  return {
    evaluate,
    async handler() {
      const { ready, checks: out } = await evaluate();
      return new Response(JSON.stringify({ status: ready ? 'ready' : 'not ready', checks: out }), {
        status: ready ? 200 : 503,
        headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    },
  };
}

/**
 * HeadBucket on the artifact bucket, with a client of its own (one attempt, no SDK retries: the probe
 * has its own deadline; aborting the request at the deadline closes its connection). The AWS SDK is already loaded when S3 is configured.
 */
export async function s3ReadyCheck(s3: S3Config, sessionToken: string | undefined): Promise<ReadyCheck & { close(): void }> {
  const { S3Client, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: s3.region,
    maxAttempts: 1,
    ...(s3.accessKeyId && s3.secretAccessKey ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, sessionToken } } : {}),
    ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
  });
  return {
    name: 's3',
    run: (signal) => client.send(new HeadBucketCommand({ Bucket: s3.bucket }), { abortSignal: signal }),
    close: () => client.destroy(),
  };
}
