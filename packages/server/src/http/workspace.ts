/**
 * The request's workspace, resolved once at the HTTP edge (MLflow's workspace_before_request_handler,
 * mlflow/server/workspace_helpers.py) and read back by the handlers, which hand it to the services
 * explicitly. Nothing below the edge reads the header.
 *
 * - Workspaces off: a non-blank X-MLFLOW-WORKSPACE is refused with MLflow's FEATURE_DISABLED (never a
 *   silent write to `default`); every request acts in `default`.
 * - Workspaces on: the trimmed header names the workspace (validated unless it is `default`, then
 *   looked up: 404 RESOURCE_DOES_NOT_EXIST when absent); blank or absent means `default`.
 * - server-info is exempt (clients read it to learn whether workspaces are on), as in MLflow; every other
 *   route resolves it, as MLflow's before-request handler does (clients send no header to /health).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { MlflowError } from '../errors.js';
import { DEFAULT_WORKSPACE, normalizeWorkspace, validateWorkspaceName, WORKSPACE_HEADER } from '../workspaces/names.js';
import { workspaceNotFound } from '../workspaces/store.js';

const KEY = 'mlflowWorkspace';

export interface WorkspaceEdgeOptions {
  enabled: boolean;
  /** Whether workspace `name` exists (through the read cache when there is one). */
  exists: (name: string) => Promise<boolean>;
}

export const WORKSPACES_DISABLED_MESSAGE = 'Workspace APIs are not available: workspaces are not enabled on this server';

/** The request's workspace: `default` with workspaces off. */
export function workspaceOf(c: Context): string {
  return (c.get(KEY as never) as string | undefined) ?? DEFAULT_WORKSPACE;
}

/** The request's workspace when workspaces are on, else undefined (artifact paths are then not scoped). */
export function enabledWorkspaceOf(c: Context): string | undefined {
  return c.get(KEY as never) as string | undefined;
}

const isServerInfo = (path: string) => path.replace(/\/+$/, '').endsWith('/mlflow/server-info');

export function workspaceMiddleware(opts: WorkspaceEdgeOptions): MiddlewareHandler {
  return async (c, next) => {
    if (isServerInfo(c.req.path)) return next();
    const header = normalizeWorkspace(c.req.header(WORKSPACE_HEADER));
    if (!opts.enabled) {
      if (header !== undefined) throw new MlflowError('FEATURE_DISABLED', WORKSPACES_DISABLED_MESSAGE);
      return next();
    }
    const name = header ?? DEFAULT_WORKSPACE;
    if (name !== DEFAULT_WORKSPACE) {
      validateWorkspaceName(name);
      if (!(await opts.exists(name))) throw workspaceNotFound(name);
    }
    c.set(KEY as never, name as never);
    return next();
  };
}
