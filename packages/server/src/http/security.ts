/**
 * MLflow 3.17's security middleware (mlflow/server/security.py): Host allowlist against DNS rebinding,
 * CORS for state-changing requests, security headers. Placeholder: passes every request through.
 */
import type { MiddlewareHandler } from 'hono';
import type { SecurityConfig } from '../config.js';

export function securityMiddleware(_config: SecurityConfig): MiddlewareHandler {
  return async (_c, next) => {
    await next();
  };
}
