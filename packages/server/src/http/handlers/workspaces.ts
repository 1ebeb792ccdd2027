/**
 * Thin bindings of MLflow's workspace API (/api/3.0/mlflow/workspaces…) and server-info. With workspaces
 * off the workspace operations answer MLflow's 503 text (_disable_if_workspaces_disabled).
 */
import type { Context } from 'hono';
import type { Handler } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import type { WorkspaceService } from '../../workspaces/service.js';
import { currentUser } from '../auth-context.js';

export type WorkspaceOperationId = Extract<OperationId, 'listWorkspaces' | 'createWorkspace' | 'getWorkspace' | 'updateWorkspace' | 'deleteWorkspace' | 'getServerInfo'>;

export interface WorkspaceHandlerDeps {
  enabled: boolean;
  service: WorkspaceService;
  /**
   * With authentication on: the workspaces a non-admin user may see (filter_list_workspaces); undefined
   * for everything (authentication off, or an admin).
   */
  visibleTo?: (c: Context) => Promise<Set<string> | undefined>;
  /** The server-info answer. */
  serverInfo: Record<string, unknown>;
}

/** Flask's url_rule of the route, as MLflow's message names it. */
function urlRule(c: Context): string {
  const ajax = c.req.path.startsWith('/ajax-api/');
  const named = /\/workspaces\/[^/]/.test(c.req.path);
  return `/${ajax ? 'ajax-api' : 'api'}/3.0/mlflow/workspaces${named ? '/<workspace_name>' : ''}`;
}

function disabled(c: Context): Response {
  return new Response(
    `Endpoint: ${urlRule(c)} disabled because the server is running without workspaces support. To enable workspace, run \`mlflow server\` with \`--enable-workspaces\``,
    { status: 503, headers: { 'content-type': 'text/html; charset=utf-8' } },
  );
}

export function workspaceHandlers(deps: WorkspaceHandlerDeps): { [K in WorkspaceOperationId]: Handler<K> } {
  const { service } = deps;
  const on =
    <K extends WorkspaceOperationId>(h: Handler<K>): Handler<K> =>
    (r, c) =>
      deps.enabled ? h(r, c) : disabled(c);
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  return {
    getServerInfo: () => deps.serverInfo,
    listWorkspaces: on(async (_r, c) => {
      const all = await service.list();
      const visible = deps.visibleTo && currentUser(c) ? await deps.visibleTo(c) : undefined;
      if (!visible || !all.workspaces) return all;
      const workspaces = all.workspaces.filter((w) => visible.has(w.name));
      return workspaces.length > 0 ? { workspaces } : {};
    }),
    createWorkspace: on(async (r) => json(201, await service.create(r))),
    getWorkspace: on((r) => service.get(r.fields.workspace_name)),
    updateWorkspace: on((r) => service.update(r.fields.workspace_name, r)),
    deleteWorkspace: on(async (r, c) => {
      // request.args.get("mode"): the query string, whatever the body holds.
      await service.delete(r.fields.workspace_name, c.req.query('mode'));
      return new Response(null, { status: 204 });
    }),
  };
}
