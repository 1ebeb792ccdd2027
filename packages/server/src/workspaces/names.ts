/**
 * Workspace names as MLflow 3.17 reads them (mlflow/utils/workspace_utils.py and
 * mlflow/store/workspace/abstract_store.py WorkspaceNameValidator): Kubernetes-style names, 2–63
 * characters, a few reserved words; the header value is trimmed and a blank one means "not sent".
 */
import { MlflowError } from '../errors.js';
import { DEFAULT_WORKSPACE } from '../store/workspace.js';

export { DEFAULT_WORKSPACE };
export const WORKSPACE_HEADER = 'x-mlflow-workspace';
/** The artifact sub-tree of each non-default workspace (MLflow's WORKSPACES_DIR_NAME). */
export const WORKSPACES_DIR = 'workspaces';

const PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PATTERN_TEXT = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const MIN_LENGTH = 2;
const MAX_LENGTH = 63;
const RESERVED = new Set(['workspaces', 'api', 'ajax-api', 'static-files']);

/** `_normalize_workspace`: trimmed, or undefined when absent or blank. */
export function normalizeWorkspace(raw: string | null | undefined): string | undefined {
  const v = raw?.trim();
  return v ? v : undefined;
}

/** `WorkspaceNameValidator.validate`, with MLflow's messages. Length counts code points, as Python does. */
export function validateWorkspaceName(name: string): void {
  const length = [...name].length;
  if (length < MIN_LENGTH || length > MAX_LENGTH) {
    throw MlflowError.invalid(`Workspace name '${name}' must be between ${MIN_LENGTH} and ${MAX_LENGTH} characters.`);
  }
  // Python's re.match with `$` also matches before a final newline.
  if (!PATTERN.test(name.endsWith('\n') ? name.slice(0, -1) : name)) {
    throw MlflowError.invalid(
      `Workspace name '${name}' must match the pattern ${PATTERN_TEXT} (lowercase alphanumeric with optional internal hyphens).`,
    );
  }
  if (RESERVED.has(name)) throw MlflowError.invalid(`Workspace name '${name}' is reserved and cannot be used.`);
}
