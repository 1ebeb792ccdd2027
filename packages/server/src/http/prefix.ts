/**
 * STATIC_PREFIX, as MLflow's `--static-prefix` (handlers.py `_add_static_prefix`): every route is served
 * under the prefix and nowhere else. The app keeps its routes unprefixed: Hono routes on the path this
 * function returns (its `getPath` option), so the route table, the contract's permission rules and
 * `c.req.path` stay those of the spec, while `c.req.url` (logs, 404 messages, raw-target checks) keeps what
 * the client sent.
 *
 * `/mlflow` and `/mlflow/…` route as `/` and `/…`; any other path (also `/mlflowx`) routes to a path no
 * route has, so it gets the app's JSON 404 after the usual middleware (request id, security headers).
 */
import type { Hono } from 'hono';
import { getPath } from 'hono/utils/url';

/** A path that matches no route: it holds a character no registered path has. */
const OUTSIDE = '/\u0000outside-static-prefix';

export type GetPath = NonNullable<ConstructorParameters<typeof Hono>[0]>['getPath'];

/** Hono's `getPath` for STATIC_PREFIX `prefix` ('' = none: Hono's own). */
export function prefixedGetPath(prefix: string): GetPath {
  if (prefix === '') return getPath;
  return (request) => {
    const path = getPath(request);
    if (path === prefix) return '/';
    if (path.startsWith(prefix) && path[prefix.length] === '/') return path.slice(prefix.length);
    return OUTSIDE;
  };
}
