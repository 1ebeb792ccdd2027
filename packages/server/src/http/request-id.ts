/**
 * X-Request-Id: taken from the client when it is a sane token (1–128 visible ASCII characters, as
 * proxies and load balancers send them), otherwise a new random UUID; returned on every response the
 * app writes (also errors, 404s, the auth middleware's 401/403 and the security middleware's refusals:
 * this middleware is mounted first), and put on the lines the HTTP layer logs for the request (`requestLog`;
 * log.ts). Node's own answers before the app runs (431, 408 for a slow head) carry none.
 */
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { withFields, type Logger } from '../log.js';

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

const REQUEST_ID_KEY = 'requestId';

/** The id of request `c` (set by requestIdMiddleware; undefined before it ran). */
export function requestIdOf(c: Context): string | undefined {
  return c.get(REQUEST_ID_KEY as never) as string | undefined;
}

/** `log`, whose lines name request `c` (its request_id) when it has one. */
export function requestLog(c: Context | undefined, log: Logger): Logger {
  const id = c && requestIdOf(c);
  return id === undefined ? log : withFields(log, { request_id: id });
}

export function requestIdMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    const id = requestIdFor(c.req.raw.headers.get(REQUEST_ID_HEADER));
    c.set(REQUEST_ID_KEY as never, id as never);
    await next();
    stamp(c, id);
  };
}
