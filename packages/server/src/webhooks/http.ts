/**
 * One outbound webhook POST over node:http/https, with the properties MLflow's delivery session has
 * (mlflow/webhooks/delivery.py): SSRF protection at connect time (ssrf.ts), no redirects followed,
 * no proxy taken from the environment (node's http client never reads proxy variables), a timeout.
 */
import http from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import { blockedMessage, checkLiteralHost, isPublicIp, SsrfError, ssrfSafeLookup } from './ssrf.js';

export interface PostOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** Keep-alive agents to reuse connections (optional). */
  agents?: { http: http.Agent; https: https.Agent };
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Longest response body kept (characters beyond are dropped). */
const MAX_BODY_BYTES = 64 * 1024;

export class TimeoutError extends Error {
  constructor(ms: number) {
    super(`Read timed out. (timeout=${ms / 1000})`);
    this.name = 'Timeout';
  }
}

export function createAgents(): { http: http.Agent; https: https.Agent } {
  return {
    http: new http.Agent({ keepAlive: true, maxSockets: 50 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };
}

export function postJson(url: string, body: string, headers: Record<string, string>, opts: PostOptions): Promise<PostResult> {
  return new Promise<PostResult>((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new Error(`Invalid URL ${JSON.stringify(url)}`));
      return;
    }
    const isHttps = target.protocol === 'https:';
    if (!isHttps && target.protocol !== 'http:') {
      reject(new Error(`No connection adapters were found for ${JSON.stringify(url)}`));
      return;
    }
    const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    if (!opts.allowPrivateTargets) {
      try {
        checkLiteralHost(hostname);
      } catch (err) {
        reject(err);
        return;
      }
    }
    const payload = Buffer.from(body, 'utf8');
    const mod = isHttps ? https : http;
    const agent = opts.agents ? (isHttps ? opts.agents.https : opts.agents.http) : undefined;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const req = mod.request({
      method: 'POST',
      protocol: target.protocol,
      hostname,
      port: target.port || undefined,
      path: `${target.pathname}${target.search}`,
      headers: { ...headers, 'Content-Length': String(payload.length) },
      agent: agent ?? false,
      ...(opts.allowPrivateTargets ? {} : { lookup: ssrfSafeLookup as never }),
      ...(isHttps ? { servername: net.isIP(hostname) ? undefined : hostname } : {}),
    });
    const timer = setTimeout(() => req.destroy(new TimeoutError(opts.timeoutMs)), opts.timeoutMs);
    const onAbort = () => req.destroy(new Error('aborted: the server is shutting down'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (!opts.allowPrivateTargets) {
      // Belt and braces: judge the peer of the connected socket itself.
      req.on('socket', (socket: Socket) => {
        const check = () => {
          const peer = socket.remoteAddress;
          if (peer && !isPublicIp(peer)) req.destroy(new SsrfError(blockedMessage(peer)));
        };
        if (socket.remoteAddress) check();
        else socket.once('connect', check);
      });
    }
    req.on('error', (err) => finish(() => reject(err)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(c.subarray(0, MAX_BODY_BYTES - size));
        size += c.length;
      });
      res.on('end', () =>
        finish(() => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') })),
      );
      res.on('error', (err) => finish(() => reject(err)));
    });
    req.end(payload);
  });
}
