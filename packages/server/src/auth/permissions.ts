/**
 * MLflow 3.17.2's permission model (mlflow/server/auth/permissions.py and requirements.py), ported as
 * pure functions: no store, no request. The store loads grant rows (store.ts); these functions decide.
 *
 * Levels: NO_PERMISSIONS < READ < USE < EDIT < MANAGE, plus DENY, an explicit veto that no positive grant
 * beside it lifts (priority -1, so it never wins a max; the folds short-circuit on it first).
 *
 * Grants are rows (resource_type, resource_pattern, permission) of the roles a user is assigned to in one
 * workspace; a per-user grant is a row of the user's hidden role `__user_<id>__` in that workspace.
 *   - fold within a key (foldGrantsForKey): rows of the key's type whose pattern is "*" or the id; a DENY
 *     among them wins, otherwise the highest level; no row → undefined ("silent").
 *   - a workspace admin (a ('workspace', '*', MANAGE) row) gets MANAGE on every key, before DENY.
 *   - across keys (governingPermission): the requirement's own key first, then its fallbacks; the first
 *     key with any grant decides (tier override); none → the "absent" permission.
 *   - `default_permission` is a floor for a POSITIVE grant only: DENY and NO_PERMISSIONS are returned as
 *     they are (floorPositivePermission).
 *   - the absent permission is default_permission when workspaces are off (or the workspace is the default
 *     one and grant_default_workspace_access is on), otherwise NO_PERMISSIONS.
 */
import { MlflowError } from '../errors.js';

export const PERMISSION_NAMES = ['READ', 'USE', 'EDIT', 'MANAGE', 'NO_PERMISSIONS', 'DENY'] as const;
export type PermissionName = (typeof PERMISSION_NAMES)[number];

export interface Permission {
  readonly name: PermissionName;
  readonly canRead: boolean;
  readonly canUse: boolean;
  readonly canUpdate: boolean;
  readonly canDelete: boolean;
  readonly canManage: boolean;
}

const perm = (name: PermissionName, level: number): Permission =>
  Object.freeze({ name, canRead: level >= 1, canUse: level >= 2, canUpdate: level >= 3, canDelete: level >= 4, canManage: level >= 4 });

export const READ = perm('READ', 1);
export const USE = perm('USE', 2);
export const EDIT = perm('EDIT', 3);
export const MANAGE = perm('MANAGE', 4);
export const NO_PERMISSIONS = perm('NO_PERMISSIONS', 0);
export const DENY = perm('DENY', -1);

/** ALL_PERMISSIONS, in MLflow's order (the order its "Valid permissions are: (…)" message prints). */
export const ALL_PERMISSIONS: Readonly<Record<PermissionName, Permission>> = Object.freeze({ READ, USE, EDIT, MANAGE, NO_PERMISSIONS, DENY });

export const PERMISSION_PRIORITY: Readonly<Record<PermissionName, number>> = Object.freeze({
  DENY: -1,
  NO_PERMISSIONS: 0,
  READ: 1,
  USE: 2,
  EDIT: 3,
  MANAGE: 4,
});

export function isPermissionName(name: unknown): name is PermissionName {
  return typeof name === 'string' && Object.hasOwn(ALL_PERMISSIONS, name);
}

/** get_permission. Throws for an unknown name (MLflow: KeyError, a 500); validate first with validatePermission. */
export function getPermission(name: string): Permission {
  if (!isPermissionName(name)) throw new RangeError(`Unknown permission '${name}'`);
  return ALL_PERMISSIONS[name];
}

/** max_permission: `a` unless `b` has a strictly higher priority. Unknown names count as 0, as in MLflow. */
export function maxPermission(a: string, b: string): string {
  const pa = isPermissionName(a) ? PERMISSION_PRIORITY[a] : 0;
  const pb = isPermissionName(b) ? PERMISSION_PRIORITY[b] : 0;
  return pa >= pb ? a : b;
}

// ---- resource types ----

export const RESOURCE_TYPE = {
  EXPERIMENT: 'experiment',
  REGISTERED_MODEL: 'registered_model',
  PROMPT: 'prompt',
  SCORER: 'scorer',
  GATEWAY_SECRET: 'gateway_secret',
  GATEWAY_ENDPOINT: 'gateway_endpoint',
  GATEWAY_MODEL_DEFINITION: 'gateway_model_definition',
  MCP_SERVER: 'mcp_server',
  RUN: 'run',
  TRACE: 'trace',
  ASSESSMENT: 'assessment',
  LOGGED_MODEL: 'logged_model',
  REVIEW_QUEUE: 'review_queue',
  REGISTERED_MODEL_VERSION: 'registered_model_version',
  PROMPT_VERSION: 'prompt_version',
  SCORER_VERSION: 'scorer_version',
  MCP_SERVER_VERSION: 'mcp_server_version',
  WORKSPACE: 'workspace',
} as const;
export type ResourceType = (typeof RESOURCE_TYPE)[keyof typeof RESOURCE_TYPE];

/** The grain of each type's patterns (permissions.py TYPE): true = "*" and exact ids, false = "*" only. */
const ACCEPTS_ID: Readonly<Record<ResourceType, boolean>> = Object.freeze({
  workspace: false,
  experiment: true,
  registered_model: true,
  prompt: true,
  scorer: true,
  gateway_secret: true,
  gateway_endpoint: true,
  gateway_model_definition: true,
  mcp_server: true,
  run: false,
  trace: false,
  assessment: false,
  logged_model: false,
  review_queue: false,
  registered_model_version: false,
  prompt_version: false,
  scorer_version: false,
  mcp_server_version: false,
});

export const VALID_RESOURCE_TYPES: readonly ResourceType[] = Object.freeze(Object.keys(ACCEPTS_ID) as ResourceType[]);

export function isResourceType(t: unknown): t is ResourceType {
  return typeof t === 'string' && Object.hasOwn(ACCEPTS_ID, t);
}

export const WORKSPACE_GRANTABLE_PERMISSIONS: readonly PermissionName[] = Object.freeze(['USE', 'MANAGE']);
export const RESOURCE_GRANTABLE_PERMISSIONS: readonly PermissionName[] = Object.freeze(['READ', 'USE', 'EDIT', 'MANAGE', 'DENY']);

/** Python's repr of a tuple of strings: ('a', 'b'). */
const pyTuple = (items: readonly string[]) => (items.length === 1 ? `('${items[0]}',)` : `(${items.map((i) => `'${i}'`).join(', ')})`);
/** Python's sorted() of ASCII strings: code-point order. */
const pySorted = (items: readonly string[]) => [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** _validate_permission (MLflow's message). */
export function validatePermission(permission: string): asserts permission is PermissionName {
  if (!isPermissionName(permission)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid permission '${permission}'. Valid permissions are: ${pyTuple(Object.keys(ALL_PERMISSIONS))}`,
    );
  }
}

/** _validate_resource_type (MLflow's message). */
export function validateResourceType(resourceType: string): asserts resourceType is ResourceType {
  if (!isResourceType(resourceType)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid resource type '${resourceType}'. Valid resource types are: ${pyTuple(pySorted(VALID_RESOURCE_TYPES))}`,
    );
  }
}

/** _validate_permission_for_resource_type: workspace grants are USE or MANAGE; resource grants READ/USE/EDIT/MANAGE/DENY. */
export function validatePermissionForResourceType(permission: string, resourceType: string): void {
  validatePermission(permission);
  validateResourceType(resourceType);
  if (resourceType === RESOURCE_TYPE.WORKSPACE) {
    if (!WORKSPACE_GRANTABLE_PERMISSIONS.includes(permission)) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Invalid permission '${permission}' for resource_type='workspace'. Workspace-wide grants accept only: ${pyTuple(pySorted(WORKSPACE_GRANTABLE_PERMISSIONS))}.`,
      );
    }
    return;
  }
  if (!RESOURCE_GRANTABLE_PERMISSIONS.includes(permission)) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid permission '${permission}' for resource_type='${resourceType}'. Resource-level grants accept only: ${pyTuple(pySorted(RESOURCE_GRANTABLE_PERMISSIONS))}.`,
    );
  }
}

/** _validate_resource_pattern: "*" always; an id only where the type's grain allows it. */
export function validateResourcePattern(resourcePattern: string, resourceType: string): void {
  validateResourceType(resourceType);
  if (resourcePattern === '*') return;
  if (!ACCEPTS_ID[resourceType]) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Invalid resource_pattern '${resourcePattern}' for resource_type='${resourceType}'. This resource type supports only wildcard ('*') grants.`,
    );
  }
}

/** matches: whether a grant's pattern on `resourceType` applies to `resourceId`. */
export function matches(resourcePattern: string, resourceType: string, resourceId: string | null | undefined): boolean {
  if (!isResourceType(resourceType)) return false;
  return resourcePattern === '*' || (ACCEPTS_ID[resourceType] && resourcePattern === resourceId);
}

// ---- grants and folds (requirements.py) ----

/** One role-permission row that applies to a user (RoleGrantRow). */
export interface Grant {
  readonly resourceType: string;
  readonly resourcePattern: string;
  readonly permission: string;
}

/** A grant lookup address (GrantLoadKey): a type and an id, or "*". */
export interface GrantKey {
  readonly resourceType: string;
  readonly resourceId: string;
}

export function isWorkspaceAdminGrant(g: Grant): boolean {
  return g.resourceType === RESOURCE_TYPE.WORKSPACE && g.resourcePattern === '*' && g.permission === 'MANAGE';
}

/**
 * fold_grants_for_key: DENY among the matching rows wins, otherwise the highest; undefined when no row
 * matches (silent: the next key or the default speaks). Rows with an unknown permission name are ignored
 * here (MLflow would fail with a KeyError; the store validates every write).
 */
export function foldGrantsForKey(grants: readonly Grant[], key: GrantKey): Permission | undefined {
  let denied = false;
  let best: string | undefined;
  for (const g of grants) {
    if (g.resourceType !== key.resourceType) continue;
    if (!matches(g.resourcePattern, key.resourceType, key.resourceId)) continue;
    if (!isPermissionName(g.permission)) continue;
    if (g.permission === 'DENY') denied = true;
    else best = best === undefined ? g.permission : maxPermission(best, g.permission);
  }
  if (denied) return DENY;
  return best === undefined ? undefined : getPermission(best);
}

/** resolve_permissions: the permission at each key; a workspace admin gets MANAGE everywhere, before DENY. */
export function resolvePermissions(grants: readonly Grant[], keys: readonly GrantKey[]): (Permission | undefined)[] {
  if (grants.some(isWorkspaceAdminGrant)) return keys.map(() => MANAGE);
  return keys.map((k) => foldGrantsForKey(grants, k));
}

/** floor_positive_permission: a positive grant never resolves below `defaultPermission`; DENY and NO_PERMISSIONS are kept. */
export function floorPositivePermission(p: Permission, defaultPermission: PermissionName): Permission {
  if (p.name === 'NO_PERMISSIONS' || p.name === 'DENY') return p;
  return getPermission(maxPermission(p.name, defaultPermission));
}

/** What MLflow's auth config says about defaults (basic_auth.ini and MLFLOW_ENABLE_WORKSPACES). */
export interface PermissionPolicy {
  /** `default_permission` (basic_auth.ini ships READ). */
  defaultPermission: PermissionName;
  /** MLFLOW_ENABLE_WORKSPACES (off by default): when off, every resource lives in the default workspace. */
  workspacesEnabled: boolean;
  /** `grant_default_workspace_access` (false by default). */
  grantDefaultWorkspaceAccess: boolean;
  /** The default workspace's name ("default"). */
  defaultWorkspace: string;
}

export const DEFAULT_POLICY: Readonly<PermissionPolicy> = Object.freeze({
  defaultPermission: 'READ',
  workspacesEnabled: false,
  grantDefaultWorkspaceAccess: false,
  defaultWorkspace: 'default',
});

/** _absent_permission: what "no grant anywhere" means in `workspace`. */
export function absentPermission(policy: PermissionPolicy, workspace: string): Permission {
  const defaultApplies = !policy.workspacesEnabled || (policy.grantDefaultWorkspaceAccess && workspace === policy.defaultWorkspace);
  return defaultApplies ? getPermission(policy.defaultPermission) : NO_PERMISSIONS;
}

/**
 * The point permission on one resource, as MLflow's `_get_role_permission_or_default(_role_permission_for…)`
 * computes it for a registered model, a prompt or an experiment: workspace admin → MANAGE; else the fold
 * on (type, id); no grant → the absent permission (with workspaces off, MLflow returns None there and
 * falls through to default_permission: the same value); then the positive floor.
 *
 * `workspace` undefined means the resource's workspace could not be resolved (the resource does not exist):
 * with workspaces on that is NO_PERMISSIONS; with them off, the default workspace.
 *
 * Super admins (users.is_admin) never reach this in MLflow (validators are skipped); callers check that first.
 */
export function resourcePermission(
  grants: readonly Grant[],
  resourceType: string,
  resourceId: string,
  workspace: string | undefined,
  policy: PermissionPolicy,
): Permission {
  let role: Permission | undefined;
  if (workspace === undefined && policy.workspacesEnabled) role = NO_PERMISSIONS;
  else {
    role = grants.some(isWorkspaceAdminGrant) ? MANAGE : foldGrantsForKey(grants, { resourceType, resourceId });
    if (role === undefined) {
      if (!policy.workspacesEnabled) return getPermission(policy.defaultPermission);
      role = absentPermission(policy, workspace ?? policy.defaultWorkspace);
    }
  }
  return floorPositivePermission(role, policy.defaultPermission);
}

/**
 * Whether the user may create in `workspace` (_can_create_in_workspace): always with workspaces off;
 * otherwise a workspace-wide grant with can_use (USE or MANAGE), or, with no such grant at all, the
 * default workspace under grant_default_workspace_access with a default permission that can use.
 */
export function canCreateInWorkspace(grants: readonly Grant[], workspace: string, policy: PermissionPolicy): boolean {
  if (!policy.workspacesEnabled) return true;
  const p = grants.some(isWorkspaceAdminGrant) ? MANAGE : foldGrantsForKey(grants, { resourceType: RESOURCE_TYPE.WORKSPACE, resourceId: '*' });
  if (p !== undefined) return p.canUse;
  if (policy.grantDefaultWorkspaceAccess && workspace === policy.defaultWorkspace) return getPermission(policy.defaultPermission).canUse;
  return false;
}

// ---- requirements (requirements.py) ----

export const ACTION_NOT_DENIED = 'not_denied';
export type Action = 'read' | 'use' | 'update' | 'delete' | 'manage' | 'create' | typeof ACTION_NOT_DENIED;

/**
 * One thing an operation requires: `action` on a resource; `fallback` lists keys consulted, in order,
 * only when the caller holds no grant on the resource's own key. A fallback entry is a bare key (it
 * inherits `action`) or a requirement with its own action (and no fallback of its own).
 */
export interface Requirement {
  readonly resourceType: string;
  /** undefined for a create-in-workspace (the key's id is then "*"). */
  readonly resourceId: string | undefined;
  readonly action: Action;
  readonly fallback?: readonly (GrantKey | Requirement)[];
}

const isRequirement = (e: GrantKey | Requirement): e is Requirement => 'action' in e;

/** requirement_rungs: each key that could decide `r`, with the action it must satisfy; own key first. */
export function requirementRungs(r: Requirement): { key: GrantKey; action: Action }[] {
  const rungs = [{ key: { resourceType: r.resourceType, resourceId: r.resourceId ?? '*' }, action: r.action }];
  for (const e of r.fallback ?? []) {
    if (isRequirement(e)) {
      if (e.fallback && e.fallback.length > 0) {
        throw new Error(`Fallback requirement '${e.resourceType}' may not declare its own fallback; list every rung on the outermost requirement.`);
      }
      rungs.push({ key: { resourceType: e.resourceType, resourceId: e.resourceId ?? '*' }, action: e.action });
    } else rungs.push({ key: { resourceType: e.resourceType, resourceId: e.resourceId }, action: r.action });
  }
  return rungs;
}

/** Every key that could decide any of `requirements`, deduplicated (one store query loads them all). */
export function requirementKeys(requirements: readonly Requirement[]): GrantKey[] {
  const seen = new Map<string, GrantKey>();
  for (const r of requirements) for (const { key } of requirementRungs(r)) seen.set(`${key.resourceType}\u0000${key.resourceId}`, key);
  return [...seen.values()];
}

const CAPABILITY: Record<Exclude<Action, typeof ACTION_NOT_DENIED>, keyof Permission> = {
  read: 'canRead',
  use: 'canUse',
  update: 'canUpdate',
  delete: 'canDelete',
  manage: 'canManage',
  create: 'canUse',
};

export function actionMet(action: Action, p: Permission): boolean {
  if (action === ACTION_NOT_DENIED) return p.name !== 'DENY';
  return Boolean(p[CAPABILITY[action]]);
}

/** governing_permission_and_action: the first rung with a grant decides (floored unless DENY); none → the floored absent. */
export function governingPermission(
  r: Requirement,
  permissionAt: (key: GrantKey) => Permission | undefined,
  defaultPermission: PermissionName,
  absent: Permission,
): { permission: Permission; action: Action } {
  const rungs = requirementRungs(r);
  for (const { key, action } of rungs) {
    const g = permissionAt(key);
    if (g !== undefined) return { permission: g.name === 'DENY' ? g : floorPositivePermission(g, defaultPermission), action };
  }
  return { permission: floorPositivePermission(absent, defaultPermission), action: rungs[rungs.length - 1]!.action };
}

/**
 * authorize: every requirement met by the permission that governs it, from one set of grant rows (the
 * user's rows in the anchor's workspace). `workspace` undefined = the anchor's workspace could not be
 * resolved: denied, as MLflow does.
 */
export function authorize(grants: readonly Grant[], requirements: readonly Requirement[], workspace: string | undefined, policy: PermissionPolicy): boolean {
  if (workspace === undefined) return false;
  const admin = grants.some(isWorkspaceAdminGrant);
  const at = (key: GrantKey) => (admin ? MANAGE : foldGrantsForKey(grants, key));
  const absent = absentPermission(policy, workspace);
  return requirements.every((r) => {
    const { permission, action } = governingPermission(r, at, policy.defaultPermission, absent);
    return actionMet(action, permission);
  });
}

/** The per-row listing decision of `_role_based_read_predicate`: READ on (type, id), falling back to the workspace tier. */
export function listingRequirement(resourceType: string, resourceId: string): Requirement {
  return { resourceType, resourceId, action: 'read', fallback: [{ resourceType: RESOURCE_TYPE.WORKSPACE, resourceId: '*' }] };
}
