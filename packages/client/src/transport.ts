/**
 * The HTTP layer under the generated client: every request the generated functions build goes
 * through {@link Transport.fetchFor}, which adds the timeout, the retries with backoff and jitter
 * (never repeating a call that may already have been applied unless it is idempotent: see
 * {@link RetryOptions}), and the translation of transport failures into {@link MlflowApiError}.
 *
 * Only web-platform APIs are used (fetch, AbortController, setTimeout), so this runs unchanged in
 * browsers, Node ≥ 20, Deno and Bun. In Node, the global fetch keeps connections alive and reuses
 * them across calls; a custom pool can be installed with undici's `setGlobalDispatcher`.
 */
import { MlflowApiError } from './errors.js';

/**
 * A fetch implementation. It is always called with a URL string and a plain init object (never a
 * `Request`), so any fetch works, including npm undici's.
 */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * Retry behaviour (exponential backoff with full jitter; `Retry-After` honoured). What is retried
 * depends on whether the call may be repeated without changing its effect:
 * - idempotent calls (reads, deletes, artifact uploads, the read-only POST `getLatestVersions`):
 *   after HTTP 429, HTTP 503, or a network error (refused or reset connection, DNS failure);
 * - all other calls (creates, renames, updates, tags, aliases, stage transitions, webhook tests,
 *   direct uploads): only when the server certainly did not act on the request: HTTP 429, or a
 *   connection that could not be established (refused, DNS failure, connect timeout: the request
 *   was never sent). A reset connection, a timeout, or any 5xx (503 included: a server may answer 503
 *   for a transaction whose commit was lost) may come after the server applied the request, so the
 *   error is thrown and the outcome is for the caller to check (e.g. with a get or a search).
 *
 * Timeouts (`DEADLINE_EXCEEDED`) and streamed request bodies are never retried.
 */
export interface RetryOptions {
  /** Retries after the first attempt (0 disables retrying). Default 2. */
  maxRetries?: number;
  /** Upper bound of the first backoff delay, in ms; it doubles with each retry. Default 200. */
  baseDelayMs?: number;
  /** Upper bound of any delay, including one asked for by `Retry-After`, in ms. Default 5000. */
  maxDelayMs?: number;
}

/** @internal How one call may be sent. */
export interface CallPolicy {
  /** The call may be repeated without changing its effect. */
  idempotent: boolean;
  /**
   * A delete: when it was retried after an attempt whose outcome is unknown (a connection reset
   * after sending), the facade takes `RESOURCE_DOES_NOT_EXIST` as success, since that attempt may
   * have deleted it.
   */
  goneMeansDone?: boolean;
  /** The request body is a one-shot stream: it is neither buffered nor replayed. */
  streamingBody?: boolean;
  /** The response body is handed to the caller as a stream: the timeout covers the headers only. */
  streamingResponse?: boolean;
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** @internal What the facade learns about a call after it was sent. */
export interface CallContext {
  method?: string;
  url?: string;
  /** The final response (the one handed to the generated client). */
  response?: Response;
  /** The call was retried after an attempt the server may have applied (a failure after sending). */
  retriedAfterUnknownOutcome?: boolean;
}

export interface TransportOptions {
  fetch?: FetchLike | undefined;
  retries?: number | RetryOptions | undefined;
  timeoutMs?: number | undefined;
}

/** Statuses after which an idempotent call is retried. */
const RETRY_STATUSES = new Set([429, 503]);
/** Statuses after which any call is retried: the server refused the request without acting on it. */
const NOT_APPLIED_STATUSES = new Set([429]);
/**
 * Error codes (Node's, as undici's fetch reports them in `cause`) of a connection that was never
 * established: the request was not sent, so even a non-idempotent call can be repeated. Runtimes that
 * do not say why a fetch failed (browsers) get no such retry.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/** @internal Whether a fetch failure says the connection was never established (walking `cause` and AggregateError's `errors`). */
export function neverSent(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every((x) => neverSent(x, depth + 1))) return true;
  return neverSent(e.cause, depth + 1);
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** @internal */
export class Transport {
  readonly #fetch: FetchLike | undefined;
  readonly #maxRetries: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timeoutMs: number;

  constructor(opts: TransportOptions) {
    const r: RetryOptions = typeof opts.retries === 'number' ? { maxRetries: opts.retries } : (opts.retries ?? {});
    this.#fetch = opts.fetch;
    this.#maxRetries = Math.max(0, Math.floor(r.maxRetries ?? 2));
    this.#baseDelayMs = Math.max(0, r.baseDelayMs ?? 200);
    this.#maxDelayMs = Math.max(0, r.maxDelayMs ?? 5000);
    this.#timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** A fetch function for the generated client that sends one call under `policy`. */
  fetchFor(policy: CallPolicy, ctx: CallContext): typeof fetch {
    return async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = input instanceof Request ? input : new Request(input, init);
      ctx.method = request.method;
      ctx.url = request.url;
      const response = await this.#send(request, policy, ctx);
      ctx.response = response;
      return response;
    };
  }

  #delay(attempt: number, retryAfter: string | null): number {
    return backoffDelay(attempt, retryAfter, this.#baseDelayMs, this.#maxDelayMs);
  }

  async #send(request: Request, policy: CallPolicy, ctx: CallContext): Promise<Response> {
    const { method, url } = request;
    const fetchImpl: FetchLike = this.#fetch ?? ((u, i) => globalThis.fetch(u, i));
    const timeoutMs = policy.timeoutMs ?? this.#timeoutMs;
    const userSignal = policy.signal;
    const headers = new Headers(request.headers);
    let body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | undefined;
    if (request.body) body = policy.streamingBody ? request.body : new Uint8Array(await request.arrayBuffer());
    // A streamed body is consumed by the first attempt: it cannot be sent again.
    const maxRetries = policy.streamingBody ? 0 : this.#maxRetries;
    const retryStatuses = policy.idempotent ? RETRY_STATUSES : NOT_APPLIED_STATUSES;

    for (let attempt = 0; ; attempt++) {
      userSignal?.throwIfAborted();
      const deadline = new Deadline(userSignal, timeoutMs);
      const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: deadline.signal, redirect: 'follow' };
      if (body !== undefined) init.body = body;
      if (body instanceof ReadableStream) init.duplex = 'half';

      const failure = (err: unknown): unknown => {
        if (userSignal?.aborted) return userSignal.reason;
        if (deadline.timedOut) {
          return new MlflowApiError({
            errorCode: 'DEADLINE_EXCEEDED',
            status: 0,
            message: `${method} ${url} timed out after ${timeoutMs} ms`,
            method,
            url,
          });
        }
        if (err instanceof MlflowApiError) return err;
        const reason = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
        return new MlflowApiError({ errorCode: 'NETWORK_ERROR', status: 0, message: `${method} ${url} failed: ${reason}`, method, url, cause: err });
      };

      let res: Response;
      try {
        res = await fetchImpl(url, init);
      } catch (err) {
        deadline.dispose();
        const e = failure(err);
        const retryable = e instanceof MlflowApiError && e.errorCode === 'NETWORK_ERROR' && (policy.idempotent || neverSent(err));
        if (retryable && attempt < maxRetries) {
          if (!neverSent(err)) ctx.retriedAfterUnknownOutcome = true;
          await sleep(this.#delay(attempt, null), userSignal);
          continue;
        }
        throw e;
      }

      if (retryStatuses.has(res.status) && attempt < maxRetries) {
        deadline.dispose();
        await res.body?.cancel().catch(() => undefined);
        await sleep(this.#delay(attempt, res.headers.get('retry-after')), userSignal);
        continue;
      }

      if (policy.streamingResponse) {
        // The caller reads the body at its own pace; its own signal still cancels it.
        deadline.stopTimer();
        return res;
      }

      // Read the whole body inside the deadline, so that the timeout bounds the entire call.
      try {
        const buf = NULL_BODY_STATUSES.has(res.status) ? null : await res.arrayBuffer();
        return new Response(buf, { status: res.status, statusText: res.statusText, headers: res.headers });
      } catch (err) {
        // The server answered: a non-idempotent request may have been applied.
        const e = failure(err);
        if (policy.idempotent && e instanceof MlflowApiError && e.errorCode === 'NETWORK_ERROR' && attempt < maxRetries) {
          ctx.retriedAfterUnknownOutcome = true;
          await sleep(this.#delay(attempt, null), userSignal);
          continue;
        }
        throw e;
      } finally {
        deadline.dispose();
      }
    }
  }
}

/**
 * @internal Delay before retry number `attempt` (0-based): the server's `Retry-After` (seconds or an
 * HTTP date) if it sent one, otherwise "full jitter", a uniform random wait in
 * [0, min(maxDelayMs, baseDelayMs · 2^attempt)]. Never more than `maxDelayMs`.
 */
export function backoffDelay(
  attempt: number,
  retryAfter: string | null,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
  now: () => number = Date.now,
): number {
  if (retryAfter) {
    const secs = Number(retryAfter);
    const ms = retryAfter.trim() !== '' && Number.isFinite(secs) ? secs * 1000 : Date.parse(retryAfter) - now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), maxDelayMs);
  }
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  return random() * ceiling;
}

/** The abort signal of one attempt: fires on the caller's signal or when the timeout expires. */
class Deadline {
  readonly #controller = new AbortController();
  readonly #user: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;

  constructor(user: AbortSignal | undefined, timeoutMs: number) {
    this.#user = user;
    if (user) user.addEventListener('abort', this.#onAbort, { once: true });
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(() => {
        this.timedOut = true;
        this.#controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
      }, timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  readonly #onAbort = (): void => {
    this.#controller.abort(this.#user?.reason);
  };

  stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  dispose(): void {
    this.stopTimer();
    this.#user?.removeEventListener('abort', this.#onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
