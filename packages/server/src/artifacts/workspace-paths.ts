/**
 * Artifact paths per workspace (MLflow's _get_workspace_scoped_repo_path_if_enabled, handlers.py): with
 * workspaces on, a request of workspace `ws` addresses `workspaces/<ws>/<path>` under the artifact root;
 * `default` keeps the legacy layout (the root itself) but may not enter `workspaces/`. A path that already
 * names `workspaces/<ws>/` is left as is, and one naming another workspace is refused: one workspace can
 * never read, write or list another's artifacts through the artifact endpoints.
 *
 * Stricter than MLflow: `default` may not list `workspaces` itself (MLflow lets it, which reveals the other
 * workspaces' names), and the root listing of `default` leaves that directory out (artifacts/service.ts).
 */
import { MlflowError } from '../errors.js';
import { DEFAULT_WORKSPACE, WORKSPACES_DIR } from '../workspaces/names.js';
import { ROOT, type ArtifactPath } from './paths.js';

/** `p` (checked by paths.ts) as workspace `ws` addresses it; `ws` undefined means workspaces are off. */
export function scopeToWorkspace(p: ArtifactPath, ws: string | undefined): ArtifactPath {
  if (ws === undefined) return p;
  if (p === ROOT) return ws === DEFAULT_WORKSPACE ? p : (`${WORKSPACES_DIR}/${ws}` as ArtifactPath);
  const slash = p.indexOf('/');
  const first = slash < 0 ? p : p.slice(0, slash);
  if (first !== WORKSPACES_DIR) return ws === DEFAULT_WORKSPACE ? p : (`${WORKSPACES_DIR}/${ws}/${p}` as ArtifactPath);
  if (slash < 0) throw MlflowError.invalid(`Artifact paths prefixed with '${WORKSPACES_DIR}/' must include a workspace name.`);
  const rest = p.slice(slash + 1);
  const requested = rest.includes('/') ? rest.slice(0, rest.indexOf('/')) : rest;
  if (requested !== ws) {
    throw MlflowError.invalid(`Artifact path targets workspace '${requested}' but the workspace specified in the request is '${ws}'.`);
  }
  return p;
}

/** Whether a root listing of workspace `ws` must leave out the `workspaces` directory (the other workspaces' trees). */
export function hidesWorkspacesDir(p: ArtifactPath, ws: string | undefined): boolean {
  return ws === DEFAULT_WORKSPACE && p === ROOT;
}
