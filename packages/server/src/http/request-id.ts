/**
 * X-Request-Id: taken from the client when it is a sane token (1–128 visible ASCII characters, as
 * proxies and load balancers send them), otherwise a new random UUID; returned on every response the
 * app writes (also errors, 404s, the auth middleware's 401/403 and the security middleware's refusals:
 * this middleware is mounted first), and put on every log line written while the request is handled
 * (log.ts). Node's own answers before the app runs (431, 408 for a slow head) carry none.
 */
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { runWithLogContext, type Logger, type RequestLogContext } from '../log.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/** 1 to 128 characters from `!` to `~`: no spaces, controls or non-ASCII (they could forge log lines). */
const SANE = /^[\x21-\x7e]{1,128}$/;

/** The client's id when sane, else a new one. */
export function requestIdFor(given: string | null): string {
  return given !== null && SANE.test(given) ? given : randomUUID();
}

/** Sets the header on the response, copying a response whose headers are immutable. */
function stamp(c: Context, id: string): void {
  try {
    c.res.headers.set(REQUEST_ID_HEADER, id);
  } catch {
    const res = new Response(c.res.body, c.res);
    res.headers.set(REQUEST_ID_HEADER, id);
    c.res = undefined;
    c.res = res;
  }
}

export function requestIdMiddleware(log: Logger): MiddlewareHandler {
  // With LOG_LEVEL=silent no line is written: the id is only returned, without a log context.
  if (!log.enabled('error')) {
    return async (c, next) => {
      const id = requestIdFor(c.req.raw.headers.get(REQUEST_ID_HEADER));
      await next();
      stamp(c, id);
    };
  }
  return async (c, next) => {
    const ctx: RequestLogContext = { requestId: requestIdFor(c.req.raw.headers.get(REQUEST_ID_HEADER)), done: false };
    try {
      await runWithLogContext(ctx, next);
    } finally {
      ctx.done = true;
    }
    stamp(c, ctx.requestId);
  };
}
