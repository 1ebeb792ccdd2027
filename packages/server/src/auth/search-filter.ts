/**
 * Search filtered in SQL by what the caller may READ, with MLflow 3.17.2's listing semantics
 * (`filter_search_registered_models` / `filter_search_model_versions`, `_role_based_read_predicate`):
 *
 * - a super admin (users.is_admin) or a workspace admin sees everything (no filter);
 * - a row is classified by its own `mlflow.prompt.is_prompt` tag (true, case-insensitive): a prompt is
 *   decided on the 'prompt' grants, anything else on the 'registered_model' grants; a model version by
 *   the version's tag, on its model's name;
 * - per row: READ on (type, name), falling back to the workspace-wide grant, then to the absent
 *   permission (default_permission with workspaces off), with default_permission as the floor of
 *   positive grants and DENY winning within a key (permissions.ts `authorize` decides, so a row is listed
 *   exactly when its point route would allow READ by this rule);
 * - model versions also need the version tier ('registered_model_version' / 'prompt_version', '*') not
 *   denied.
 *
 * The grants are few and already loaded (AuthStore.grantsFor), so the decision per type is folded here
 * into "everything except these names" or "only these names": a constant plus one `name = ANY($n)` per
 * type, which the planner serves from the primary key and which keeps pages and page tokens exact (no
 * post-filtering).
 */
import {
  ACTION_NOT_DENIED,
  authorize,
  isWorkspaceAdminGrant,
  listingRequirement,
  RESOURCE_TYPE,
  type Grant,
  type PermissionPolicy,
} from './permissions.js';

export const IS_PROMPT_TAG_KEY = 'mlflow.prompt.is_prompt';

/** The listing decision for one type: `allow` for every name, except `except`. */
export interface TypeDecision {
  allow: boolean;
  except: string[];
}

export interface ReadDecision {
  /** No filter at all (super admin or workspace admin). */
  all: boolean;
  registeredModel: TypeDecision;
  prompt: TypeDecision;
  /** Whether model versions of each family may be listed at all (the version tier is not denied). */
  registeredModelVersions: boolean;
  promptVersions: boolean;
}

/** A name no pattern can equal (patterns are checked against it only when no grant names it). */
const UNNAMED = '\u0000';

function decideType(grants: readonly Grant[], resourceType: string, workspace: string, policy: PermissionPolicy): TypeDecision {
  const named = new Set<string>();
  for (const g of grants) if (g.resourceType === resourceType && g.resourcePattern !== '*') named.add(g.resourcePattern);
  const allow = authorize(grants, [listingRequirement(resourceType, UNNAMED)], workspace, policy);
  const except = [...named].filter((n) => authorize(grants, [listingRequirement(resourceType, n)], workspace, policy) !== allow).sort();
  return { allow, except };
}

/**
 * What `grants` (the user's grants in `workspace`, all patterns, for registered_model, prompt, both
 * version tiers and the workspace) let the user list. `isAdmin` is users.is_admin.
 */
export function readDecision(grants: readonly Grant[], isAdmin: boolean, workspace: string, policy: PermissionPolicy): ReadDecision {
  const everything: TypeDecision = { allow: true, except: [] };
  if (isAdmin || grants.some(isWorkspaceAdminGrant)) {
    return { all: true, registeredModel: everything, prompt: everything, registeredModelVersions: true, promptVersions: true };
  }
  const notDenied = (resourceType: string) => authorize(grants, [{ resourceType, resourceId: '*', action: ACTION_NOT_DENIED }], workspace, policy);
  return {
    all: false,
    registeredModel: decideType(grants, RESOURCE_TYPE.REGISTERED_MODEL, workspace, policy),
    prompt: decideType(grants, RESOURCE_TYPE.PROMPT, workspace, policy),
    registeredModelVersions: notDenied(RESOURCE_TYPE.REGISTERED_MODEL_VERSION),
    promptVersions: notDenied(RESOURCE_TYPE.PROMPT_VERSION),
  };
}

/** The decision for a single row, as the SQL below computes it (for tests and for point checks on listed rows). */
export function rowReadable(d: ReadDecision, name: string, isPrompt: boolean, isVersion = false): boolean {
  if (d.all) return true;
  if (isVersion && !(isPrompt ? d.promptVersions : d.registeredModelVersions)) return false;
  const t = isPrompt ? d.prompt : d.registeredModel;
  return t.except.includes(name) ? !t.allow : t.allow;
}

function typeSql(t: TypeDecision, nameCol: string, params: unknown[]): string {
  if (t.except.length === 0) return t.allow ? 'TRUE' : 'FALSE';
  params.push(t.except);
  const inList = `${nameCol} = ANY($${params.length}::text[])`;
  return t.allow ? `NOT (${inList})` : inList;
}

function combine(rm: string, prompt: string, isPromptSql: string): string {
  if (rm === prompt) return rm;
  return `(CASE WHEN ${isPromptSql} THEN ${prompt} ELSE ${rm} END)`;
}

export interface ModelColumns {
  /** SQL of the registered model's workspace and name, e.g. `rm.workspace`, `rm.name`. */
  workspace: string;
  name: string;
}

export interface VersionColumns extends ModelColumns {
  /** SQL of the version number, e.g. `mv.version`. */
  version: string;
}

/**
 * A WHERE fragment for registered_models rows (`cols` names their columns); pushes its parameters on
 * `params` and numbers them after the ones already there. 'TRUE' when nothing is filtered.
 */
export function registeredModelsReadableSql(d: ReadDecision, cols: ModelColumns, params: unknown[]): string {
  if (d.all) return 'TRUE';
  const isPrompt = `EXISTS (SELECT 1 FROM registered_model_tags auth_pt WHERE auth_pt.workspace = ${cols.workspace} AND auth_pt.name = ${cols.name} AND auth_pt.key = '${IS_PROMPT_TAG_KEY}' AND lower(auth_pt.value) = 'true')`;
  return combine(typeSql(d.registeredModel, cols.name, params), typeSql(d.prompt, cols.name, params), isPrompt);
}

/** A WHERE fragment for model_versions rows (classified by the version's own prompt tag). */
export function modelVersionsReadableSql(d: ReadDecision, cols: VersionColumns, params: unknown[]): string {
  if (d.all) return 'TRUE';
  const isPrompt = `EXISTS (SELECT 1 FROM model_version_tags auth_pt WHERE auth_pt.workspace = ${cols.workspace} AND auth_pt.name = ${cols.name} AND auth_pt.version = ${cols.version} AND auth_pt.key = '${IS_PROMPT_TAG_KEY}' AND lower(auth_pt.value) = 'true')`;
  const rm = d.registeredModelVersions ? typeSql(d.registeredModel, cols.name, params) : 'FALSE';
  const prompt = d.promptVersions ? typeSql(d.prompt, cols.name, params) : 'FALSE';
  return combine(rm, prompt, isPrompt);
}
