/**
 * One outbound webhook POST through undici, with the properties MLflow's delivery session has
 * (mlflow/webhooks/delivery.py): SSRF protection at connect time (ssrf.ts), no redirects followed
 * (undici follows none unless given its redirect interceptor), no proxy taken from the environment
 * (a plain `Agent` never reads proxy variables), a timeout.
 *
 * Connections are pooled per origin in a keep-alive `Agent` (createAgents), one for refused private
 * targets and one for allowed ones, so a connection opened under one rule is never reused under the other.
 */
import type { Agent, buildConnector, Dispatcher } from 'undici';
import { blockedMessage, checkLiteralHost, isPublicIp, SsrfError, ssrfSafeLookup } from './ssrf.js';

/** undici is loaded on the first delivery: it adds about 5 MB to an idle server's RSS that sends none. */
let undiciModule: Promise<typeof import('undici')> | undefined;
const undici = () => (undiciModule ??= import('undici'));

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Pooled agents to reuse connections (optional: without them the call opens and closes its own). */
  agents?: WebhookAgents;
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  headers: ResponseHeaders;
  body: string;
}

/** Longest response body kept (bytes beyond are not read). */
const MAX_BODY_BYTES = 64 * 1024;
/** Connections per origin (node's agent had maxSockets 50 before). */
const CONNECTIONS_PER_ORIGIN = 50;

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`Read timed out. (timeout=${ms / 1000})`);
    this.name = 'Timeout';
  }
}

/**
 * A connector that refuses non-public targets: IP-literal hosts before connecting (node connects to
 * them without calling `lookup`), names through `ssrfSafeLookup` (the addresses checked are the ones
 * connected to, so DNS rebinding has nothing to exploit), and, belt and braces, the socket's peer.
 */
function ssrfSafeConnector(build: typeof buildConnector, connectTimeoutMs: number): buildConnector.connector {
  const base = build({ timeout: connectTimeoutMs, lookup: ssrfSafeLookup as never });
  return (options, callback) => {
    try {
      checkLiteralHost(options.hostname);
    } catch (err) {
      callback(err as Error, null);
      return;
    }
    base(options, (...args) => {
      const [err, socket] = args;
      if (err) return callback(err, null);
      const peer = socket!.remoteAddress;
      if (peer && !isPublicIp(peer)) {
        socket!.destroy();
        return callback(new SsrfError(blockedMessage(peer)), null);
      }
      callback(null, socket!);
    });
  };
}

/** The pooled agents of a delivery worker, created on first use; `destroy` on shutdown. */
export class WebhookAgents {
  private strict: Agent | undefined;
  private open: Agent | undefined;

  constructor(private readonly connectTimeoutMs: number) {}

  async get(allowPrivateTargets: boolean): Promise<Agent> {
    const { Agent, buildConnector } = await undici();
    if (allowPrivateTargets) {
      this.open ??= new Agent({ connections: CONNECTIONS_PER_ORIGIN, connect: { timeout: this.connectTimeoutMs } });
      return this.open;
    }
    this.strict ??= new Agent({ connections: CONNECTIONS_PER_ORIGIN, connect: ssrfSafeConnector(buildConnector, this.connectTimeoutMs) });
    return this.strict;
  }

  /** Closes every connection at once (requests still running fail); a later `get` starts new agents. */
  async destroy(): Promise<void> {
    const agents = [this.strict, this.open];
    this.strict = this.open = undefined;
    await Promise.all(agents.map((a) => a?.destroy()));
  }
}

/** Agents whose connect timeout is `timeoutMs`, the whole budget of one attempt (as before: one timer for all). */
export function createAgents(timeoutMs = 30_000): WebhookAgents {
  return new WebhookAgents(timeoutMs);
}

/** undici's own timeouts (a backstop: the attempt's deadline normally fires first) read as ours. */
const UNDICI_TIMEOUTS = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export async function postJson(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new Error(`Invalid URL ${JSON.stringify(url)}`);
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new Error(`No connection adapters were found for ${JSON.stringify(url)}`);
  }
  // Refused before any connection is opened (the connector checks again).
  if (!opts.allowPrivateTargets) checkLiteralHost(target.hostname);

  const own = opts.agents ? undefined : createAgents(opts.timeoutMs);
  const dispatcher = await (opts.agents ?? own!).get(opts.allowPrivateTargets);
  // One deadline for the whole attempt (connect, headers and body), and the caller's abort (shutdown).
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new TimeoutError(opts.timeoutMs)), opts.timeoutMs);
  const onAbort = () => deadline.abort(new Error('aborted: the server is shutting down'));
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const payload = Buffer.from(body, 'utf8');
    const res = await dispatcher.request({
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(payload.length) },
      body: payload,
      signal: deadline.signal,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    return { status: res.statusCode, headers: res.headers, body: await readBounded(res.body) };
  } catch (err) {
    if (deadline.signal.aborted) throw deadline.signal.reason;
    if (UNDICI_TIMEOUTS.has((err as NodeJS.ErrnoException).code ?? '')) throw new TimeoutError(opts.timeoutMs);
    throw err;
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    await own?.destroy();
  }
}

/**
 * The first MAX_BODY_BYTES of a response body. A longer body is not read further: the stream is
 * destroyed, which closes its connection (undici would not reuse it unread anyway).
 */
async function readBounded(stream: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Destroying the stream before its end makes undici emit an abort error: expected here, not a failure.
  stream.on('error', () => {});
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
    size += chunk.length;
    if (size >= MAX_BODY_BYTES) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
