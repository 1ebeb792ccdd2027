/**
 * The HTTP edge. Routes come from the generated operation table (the spec decides every path and
 * method); each is bound to a thin handler by operationId, under /api/2.0 and /ajax-api/2.0.
 * Errors of every kind are rendered here and only here.
 */
import fs from 'node:fs';
import { Hono, type Context } from 'hono';
import { errorBody, MlflowError } from '../errors.js';
import { RenderedJson } from '../registry/entities.js';
import { rawTargetHasDotDot } from '../artifacts/paths.js';
import type { Logger } from '../log.js';
import { operations, routesOutsideOperations, type OperationId, type OperationSpec } from '../gen/operations.gen.js';
import { parseRequest, type OperationRequest } from './request.js';
import type { OperationResults } from '../gen/inputs.gen.js';
import { authnMiddleware, parsedRequest, routeKey, type AuthnDeps, type GuardedRoute } from './authn.js';
import { mountDocs } from './docs.js';
import { prefixedGetPath } from './prefix.js';
import { mountUi } from './ui.js';
import { securityMiddleware } from './security.js';
import { requestIdMiddleware, requestIdOf, requestLog } from './request-id.js';
import { workspaceMiddleware, type WorkspaceEdgeOptions } from './workspace.js';
import type { Metrics } from './metrics.js';
import { READY_PATH } from './ready.js';
import type { LimitsConfig, SecurityConfig } from '../config.js';

/**
 * What the handler of operation K answers: its response body as the spec types it (serialised here), a
 * body the service already serialised (read-cache text), or a complete Response (downloads, redirects,
 * MLflow's HTML answers).
 */
export type HandlerResult<K extends OperationId = OperationId> = OperationResults[K] | RenderedJson | Response;
/** The handler of operation K: its request as the parser read it, typed (gen/inputs.gen.ts), in; its typed response out. */
export type Handler<K extends OperationId = OperationId> = (req: OperationRequest<K>, c: Context) => Promise<HandlerResult<K>> | HandlerResult<K>;
export type Handlers = { readonly [K in OperationId]: Handler<K> };

export interface AppOptions {
  handlers: Handlers;
  log: Logger;
  /** Bundled spec served at /openapi.json. */
  specPath: string;
  /** Body limits and timeouts applied while parsing requests. */
  limits: LimitsConfig;
  /** Host allowlist, CORS and security headers (MLflow's security middleware). */
  security: SecurityConfig;
  /** The request's workspace (http/workspace.ts), resolved before authentication as in MLflow. Absent: workspaces off. */
  workspaces?: WorkspaceEdgeOptions;
  /** AUTH=basic: authentication and the contract's permissions on every route (http/authn.ts). Undefined: not mounted. */
  auth?: AuthnDeps;
  /** GET /health/ready (http/ready.ts): the dependencies' checks. */
  ready?: () => Promise<Response>;
  /** METRICS_ENABLED=true: request metrics and GET /metrics (http/metrics.ts). Undefined: nothing mounted. */
  metrics?: Metrics;
  /** STATIC_PREFIX (http/prefix.ts): every route under this path prefix; '' or absent: at the root. */
  staticPrefix?: string;
  /** An MLflow web UI build served at `/` and `/static-files/` (http/ui.ts). Absent: no UI. */
  uiDir?: string;
}

export const METRICS_PATH = '/metrics';

/**
 * The operation label of each route for the metrics, by routeKey: the operationId, or the spec path of a
 * route outside the operations. Bounded by the route table, whatever paths clients send.
 */
export function operationLabels(): Map<string, string> {
  const labels = new Map<string, string>();
  for (const op of Object.values(operations) as OperationSpec[]) for (const p of routePaths(op)) labels.set(routeKey(op.method, p), op.operationId);
  for (const r of routesOutsideOperations) labels.set(routeKey(r.method, r.honoPath), r.path);
  return labels;
}

/** Every route the app serves, by routeKey, with the contract's rule: the operations and the routes outside them. */
export function guardedRoutes(): Map<string, GuardedRoute> {
  const routes = new Map<string, GuardedRoute>();
  for (const op of Object.values(operations) as OperationSpec[]) {
    for (const p of routePaths(op)) routes.set(routeKey(op.method, p), { rule: op.permission, op });
  }
  for (const r of routesOutsideOperations) routes.set(routeKey(r.method, r.honoPath), { rule: r.permission, op: undefined });
  return routes;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** Every /api/2.0 and /api/3.0 route is served again under /ajax-api/2.0 and /ajax-api/3.0, as MLflow does for its UI. */
export function routePaths(op: OperationSpec): string[] {
  return /^\/api\/[23]\.0\//.test(op.honoPath) ? [op.honoPath, op.honoPath.replace(/^\/api\//, '/ajax-api/')] : [op.honoPath];
}

export function renderError(err: unknown, appLog: Logger, c?: Context): Response {
  const log = requestLog(c, appLog);
  if (err instanceof MlflowError) {
    if (err.report) log.warn(err.report.msg, err.report.fields);
    // A database outage is brief (the pools reconnect by themselves): tell clients when to retry.
    const headers = err.status === 503 ? { ...JSON_HEADERS, 'retry-after': '1' } : JSON_HEADERS;
    return new Response(JSON.stringify(err.toJSON()), { status: err.status, headers });
  }
  log.error('unhandled error', {
    method: c?.req.method,
    path: c ? new URL(c.req.url).pathname : undefined,
    error: err instanceof Error ? err.stack ?? err.message : String(err),
  });
  return new Response(JSON.stringify(errorBody('INTERNAL_ERROR', 'Internal server error')), {
    status: 500,
    headers: JSON_HEADERS,
  });
}

export function createApp(opts: AppOptions): Hono {
  const { handlers, log } = opts;
  const app = new Hono({ getPath: prefixedGetPath(opts.staticPrefix ?? '') });

  // First, so that every answer below carries the id (also the refusals of the middleware after it)
  // and the lines logged for the request can name it.
  app.use(requestIdMiddleware());
  if (opts.metrics) app.use(opts.metrics.middleware);

  if (log.enabled('info')) {
    app.use(async (c, next) => {
      const start = performance.now();
      await next();
      // The id as a field of the line itself: no per-request logger (requestLog) on this path.
      log.info('request', {
        request_id: requestIdOf(c),
        method: c.req.method,
        path: new URL(c.req.url).pathname,
        status: c.res.status,
        ms: Math.round((performance.now() - start) * 100) / 100,
      });
    });
  }

  app.use(securityMiddleware(opts.security));

  // URL parsing resolves `..` segments before routing, so `/artifacts/a/../../x` would quietly reach
  // another route. Refuse any request whose raw target has one, before routing (MLflow: 400).
  app.use(async (c, next) => {
    const raw = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
    if (raw !== undefined && rawTargetHasDotDot(raw)) {
      return c.body(JSON.stringify(errorBody('INVALID_PARAMETER_VALUE', 'Invalid path')), 400, JSON_HEADERS);
    }
    await next();
  });

  // Which workspace the request acts in (MLflow resolves it before its auth app's checks).
  app.use(workspaceMiddleware(opts.workspaces ?? { enabled: false, exists: async () => false }));

  // Who is calling and whether they may: before any handler, on every route (not mounted with AUTH=none).
  if (opts.auth) app.use(authnMiddleware({ ...opts.auth, routes: guardedRoutes(), limits: opts.limits }));

  const byPath = new Map<string, Set<string>>();
  for (const op of Object.values(operations)) {
    const handler = handlers[op.operationId] as Handler;
    for (const p of routePaths(op)) {
      byPath.set(p, (byPath.get(p) ?? new Set()).add(op.method));
      app.on(op.method, p, async (c) => {
        // Parsed once: by the authorization step when its rule needed the request, else here.
        const req = (parsedRequest(c) as OperationRequest<OperationId> | undefined) ?? (await parseRequest(c, op, opts.limits));
        const out = await handler(req, c);
        if (out instanceof Response) return out;
        if (out instanceof RenderedJson) return c.body(out.text, 200, JSON_HEADERS);
        return c.body(JSON.stringify(out), 200, JSON_HEADERS);
      });
    }
  }
  // A known path with another method: 405 with an MLflow-style body (Flask answers 405 too).
  for (const [p, methods] of byPath) {
    app.all(p, (c) => {
      if (methods.has(c.req.method)) return c.notFound();
      return c.body(
        JSON.stringify(errorBody('BAD_REQUEST', `The method ${c.req.method} is not allowed for the requested URL.`)),
        405,
        { ...JSON_HEADERS, allow: [...methods].join(', ') },
      );
    });
  }

  // Routes outside the operations are served only with their rule in the contract
  // (x-mlflow-routes-outside-operations): the auth middleware refuses a route it has no rule for.
  const declared = new Set(routesOutsideOperations.map((r) => routeKey(r.method, r.honoPath)));
  const outside = (path: string, handler: () => Promise<Response>) => {
    if (declared.has(routeKey('GET', path))) app.get(path, () => handler());
    else log.warn('route not served: the contract declares no permission for it (x-mlflow-routes-outside-operations)', { route: `GET ${path}` });
  };
  if (opts.ready) outside(READY_PATH, opts.ready);
  if (opts.metrics) {
    const { handler } = opts.metrics;
    outside(METRICS_PATH, () => handler());
  }

  mountDocs(app, fs.readFileSync(opts.specPath, 'utf8'));
  mountUi(app, opts.uiDir);

  app.notFound((c) =>
    c.body(
      JSON.stringify(errorBody('ENDPOINT_NOT_FOUND', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}`)),
      404,
      JSON_HEADERS,
    ),
  );
  app.onError((err, c) => renderError(err, log, c));
  return app;
}
