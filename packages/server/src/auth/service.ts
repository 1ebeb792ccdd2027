/**
 * MLflow 3.17.2's auth REST API (mlflow/server/auth/__init__.py: the user, role and per-user grant handlers
 * and their before-request validators), over AuthStore. Behaviour is ported, not code:
 *
 * - Parameters are read as MLflow's `_get_request_param` reads them (query for GET, JSON body otherwise):
 *   a missing one is 400 "Missing value for required parameter '<p>'. …"; integer ones go through
 *   `_coerce_int_param` ("Parameter '<p>' must be an integer. Got: <repr>").
 * - Super admins skip the validators (as MLflow's `_before_request`); everyone else meets the validator of
 *   the route first, and a refusal is MLflow's 403 text body `Permission denied`.
 * - Answers and messages are MLflow's, including the text (not JSON) 400s of create_user. Documented
 *   difference: the duplicate-user message never carries the database error (MLflow's holds the hash).
 * - A password change, an admin-flag change and a deletion drop the user's cached credentials.
 */
import { pyReprValue } from '../python/repr.js';
import { MlflowError } from '../errors.js';
import type { Authenticator } from './credentials.js';
import {
  getPermission,
  isWorkspaceAdminGrant,
  resourcePermission,
  foldGrantsForKey,
  MANAGE,
  validateResourceType,
  type Permission,
  type PermissionPolicy,
} from './permissions.js';
import type { AuthStore, AuthUser, Role, RolePermissionRow, UserRoleAssignment } from './store.js';

/** What a handler gets: the raw request parameters (query for GET, JSON body otherwise). */
export interface AuthRequest {
  method: string;
  params: Readonly<Record<string, unknown>>;
  /** The request's workspace as the HTTP edge resolved it (http/workspace.ts); `default` with workspaces off. */
  workspace?: string | undefined;
}

/** A body MLflow answers as text (make_response("…", status)), not JSON. */
export class TextAnswer {
  constructor(
    readonly status: number,
    readonly text: string,
  ) {}
}

export const PERMISSION_DENIED = new TextAnswer(403, 'Permission denied');

type Json = Record<string, unknown>;
export type AuthAnswer = Json | TextAnswer;

const userJson = (u: AuthUser) => ({ id: u.id, username: u.username, is_admin: u.isAdmin });
const rolePermissionJson = (p: RolePermissionRow) => ({
  id: p.id,
  role_id: p.roleId,
  resource_type: p.resourceType,
  resource_pattern: p.resourcePattern,
  permission: p.permission,
});
const roleJson = (r: Role) => ({ id: r.id, name: r.name, workspace: r.workspace, description: r.description, permissions: r.permissions.map(rolePermissionJson) });
const assignmentJson = (a: UserRoleAssignment) => ({ id: a.id, user_id: a.userId, role_id: a.roleId });

/** Python's int() on a JSON value (str of an optionally signed decimal integer with surrounding space, int, float, bool). */
function pyInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+(_\d+)*\s*$/.test(v)) return Number(v.replace(/_/g, '').trim());
  return undefined;
}

function param(req: AuthRequest, name: string): unknown {
  if (!Object.hasOwn(req.params, name)) {
    throw MlflowError.invalid(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);
  }
  return req.params[name];
}

function intParam(req: AuthRequest, name: string): number {
  return coerceInt(name, param(req, name));
}

function coerceInt(name: string, raw: unknown): number {
  const n = pyInt(raw);
  if (n === undefined) throw MlflowError.invalid(`Parameter '${name}' must be an integer. Got: ${pyReprValue(raw)}`);
  return n;
}

/** A string parameter as the store receives it (MLflow passes whatever JSON held; non-strings are refused here). */
function strParam(req: AuthRequest, name: string): string {
  const v = param(req, name);
  if (typeof v !== 'string') throw MlflowError.invalid(`Parameter '${name}' must be a string. Got: ${pyReprValue(v)}`);
  return v;
}

const isBlankString = (v: unknown) => typeof v !== 'string' || v.trim() === '';

/** Resource types the per-user convenience APIs resolve a single resource of (MLflow's dispatch table). */
const DISPATCH_TYPES = new Set(['experiment', 'registered_model', 'gateway_secret', 'gateway_endpoint', 'gateway_model_definition', 'mcp_server', 'scorer']);

function rejectWorkspaceResourceType(resourceType: unknown): void {
  if (resourceType === 'workspace') {
    throw MlflowError.invalid(
      "resource_type 'workspace' is not supported by the per-user permission convenience APIs. Use set_workspace_permission / delete_workspace_permission for workspace-wide grants.",
    );
  }
}

export class AuthService {
  constructor(
    private readonly store: AuthStore,
    private readonly authenticator: Pick<Authenticator<AuthUser>, 'invalidateUser'>,
    private readonly policy: PermissionPolicy,
  ) {}

  /** The workspace a request acts in: the default one with workspaces off, else the one the edge resolved. */
  private workspace(req: AuthRequest): string | undefined {
    if (!this.policy.workspacesEnabled) return this.policy.defaultWorkspace;
    return req.workspace ?? this.policy.defaultWorkspace;
  }

  // ------------------------------------------------------------------ workspace facts about a user

  private async adminWorkspaces(userId: number): Promise<Set<string>> {
    const roles = await this.store.listUserRoles(userId);
    return new Set(roles.filter((r) => r.permissions.some((p) => isWorkspaceAdminGrant(p))).map((r) => r.workspace));
  }

  private async presentWorkspaces(userId: number): Promise<Set<string>> {
    return new Set((await this.store.listUserRoles(userId)).map((r) => r.workspace));
  }

  /** `_get_role_workspace_from_request`: the workspace of role_id / role_permission_id / workspace; undefined when the role is unknown. */
  private async roleWorkspace(req: AuthRequest): Promise<string | undefined> {
    const p = req.params;
    if (Object.hasOwn(p, 'role_id')) {
      const id = coerceInt('role_id', p.role_id);
      return (await this.store.getRole(id).catch(notFoundAsUndefined))?.workspace;
    }
    if (Object.hasOwn(p, 'role_permission_id')) {
      const id = coerceInt('role_permission_id', p.role_permission_id);
      const rp = await this.store.getRolePermission(id).catch(notFoundAsUndefined);
      if (!rp) return undefined;
      return (await this.store.getRole(rp.roleId).catch(notFoundAsUndefined))?.workspace;
    }
    if (Object.hasOwn(p, 'workspace')) {
      if (isBlankString(p.workspace)) throw MlflowError.invalid("Parameter 'workspace' must be a non-empty string.");
      return p.workspace as string;
    }
    throw MlflowError.invalid('Request must include one of: role_id, role_permission_id, workspace.');
  }

  // ------------------------------------------------------------------ validators (non-admins only)

  private async canManageRoles(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    const ws = await this.roleWorkspace(req);
    return ws !== undefined && (await this.store.isWorkspaceAdmin(caller.id, ws));
  }

  private async canViewRoles(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    const ws = await this.roleWorkspace(req);
    return ws !== undefined && (await this.presentWorkspaces(caller.id)).has(ws);
  }

  /** validate_can_view_user_roles: self, or a workspace admin of a workspace the target has a role in. */
  private async canViewUser(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    const target = param(req, 'username');
    if (target === caller.username) return true;
    if (typeof target !== 'string') return false;
    const user = await this.store.findUser(target);
    if (!user) return false;
    const [mine, theirs] = await Promise.all([this.adminWorkspaces(caller.id), this.presentWorkspaces(user.id)]);
    for (const w of theirs) if (mine.has(w)) return true;
    return false;
  }

  /** Runs `check` unless the caller is a super admin; false → MLflow's 403. */
  private async gate(caller: AuthUser, check: () => Promise<boolean> | boolean): Promise<boolean> {
    if (caller.isAdmin) return true;
    return check();
  }

  // ------------------------------------------------------------------ users

  async createUser(caller: AuthUser, req: AuthRequest, isJson: boolean): Promise<AuthAnswer> {
    if (!(await this.gate(caller, async () => (await this.adminWorkspaces(caller.id)).size > 0))) return PERMISSION_DENIED;
    if (!isJson) return new TextAnswer(400, 'Invalid content type. Must be application/json');
    const username = param(req, 'username');
    const password = param(req, 'password');
    if (!username || !password) return new TextAnswer(400, 'Username and password cannot be empty.');
    if (typeof username !== 'string') throw MlflowError.invalid(`Parameter 'username' must be a string. Got: ${pyReprValue(username)}`);
    if (typeof password !== 'string') throw MlflowError.invalid('Password must be a string.');
    const user = await this.store.createUser(username, password);
    return { user: userJson(user) };
  }

  async getUser(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => param(req, 'username') === caller.username))) return PERMISSION_DENIED;
    const user = await this.store.getUser(strParam(req, 'username'));
    return { user: userJson(user) };
  }

  async listUsers(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canCreateInWorkspace(caller, req)))) return PERMISSION_DENIED;
    const all = await this.store.listUsersWithRoles();
    const admin = caller.isAdmin ? undefined : await this.adminWorkspaces(caller.id);
    return {
      users: all.map(({ user, roles }) => ({
        ...userJson(user),
        roles: (admin === undefined || user.username === caller.username ? roles : roles.filter((r) => admin.has(r.workspace))).map(roleJson),
      })),
    };
  }

  /** _can_create_in_workspace: always with workspaces off; else a workspace-wide grant that can use. */
  private async canCreateInWorkspace(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    if (!this.policy.workspacesEnabled) return true;
    const ws = this.workspace(req);
    if (ws === undefined) return false;
    const grants = await this.store.grantsFor(caller.id, ws, []);
    const p = grants.some(isWorkspaceAdminGrant) ? MANAGE : foldGrantsForKey(grants, { resourceType: 'workspace', resourceId: '*' });
    if (p !== undefined) return p.canUse;
    if (this.policy.grantDefaultWorkspaceAccess && ws === this.policy.defaultWorkspace) return getPermission(this.policy.defaultPermission).canUse;
    return false;
  }

  async getCurrentUser(caller: AuthUser): Promise<AuthAnswer> {
    const user = await this.store.getUser(caller.username);
    return { user: userJson(user), is_basic_auth: true };
  }

  private async userPermissionRows(username: string): Promise<{ isAdmin: boolean; rows: Json[] }> {
    const user = await this.store.getUser(username);
    const roles = await this.store.listUserRoles(user.id);
    const rows = roles.flatMap((r) =>
      r.permissions.map((p) => ({
        role_id: r.id,
        role_name: r.name,
        workspace: r.workspace,
        resource_type: p.resourceType,
        resource_pattern: p.resourcePattern,
        permission: p.permission,
      })),
    );
    return { isAdmin: user.isAdmin, rows };
  }

  async listCurrentUserPermissions(caller: AuthUser): Promise<AuthAnswer> {
    const { isAdmin, rows } = await this.userPermissionRows(caller.username);
    return { is_admin: isAdmin, permissions: rows };
  }

  async listUserPermissions(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canViewUser(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const { isAdmin, rows } = await this.userPermissionRows(username);
    let visible = rows;
    if (!(caller.isAdmin || caller.username === username)) {
      const admin = await this.adminWorkspaces(caller.id);
      visible = rows.filter((r) => admin.has(r.workspace as string));
    }
    return { is_admin: isAdmin, permissions: visible };
  }

  async updateUserPassword(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => param(req, 'username') === caller.username))) return PERMISSION_DENIED;
    const username = param(req, 'username');
    const password = param(req, 'password');
    if (username === caller.username) {
      const current = req.params.current_password;
      if (!current) throw MlflowError.invalid('Current password is required when changing your own password.');
      if (typeof current !== 'string' || !(await this.store.verifyCredentials(caller.username, current))) {
        throw MlflowError.invalid('Current password does not match.');
      }
      if (password === current) throw MlflowError.invalid('New password must differ from the current password.');
    }
    if (typeof username !== 'string') throw MlflowError.notFound(`User with username=${pyReprValue(username)} not found`);
    await this.store.updatePassword(username, password as string);
    this.authenticator.invalidateUser(username);
    return {};
  }

  async updateUserAdmin(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!caller.isAdmin) return PERMISSION_DENIED;
    const username = param(req, 'username');
    const isAdmin = param(req, 'is_admin');
    if (typeof username !== 'string') throw MlflowError.notFound(`User with username=${pyReprValue(username)} not found`);
    if (typeof isAdmin !== 'boolean') throw MlflowError.invalid(`Parameter 'is_admin' must be a boolean. Got: ${pyReprValue(isAdmin)}`);
    await this.store.updateAdmin(username, isAdmin);
    this.authenticator.invalidateUser(username);
    return {};
  }

  async deleteUser(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!caller.isAdmin) return PERMISSION_DENIED;
    const username = param(req, 'username');
    if (username === caller.username) {
      throw new MlflowError('BAD_REQUEST', 'Users cannot delete their own account. Ask another admin to delete this user instead.');
    }
    if (typeof username !== 'string') throw MlflowError.notFound(`User with username=${pyReprValue(username)} not found`);
    await this.store.deleteUser(username);
    this.authenticator.invalidateUser(username);
    return {};
  }

  // ------------------------------------------------------------------ roles

  async createRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const name = param(req, 'name');
    const workspace = param(req, 'workspace');
    if (isBlankString(name)) throw MlflowError.invalid('Role name cannot be empty.');
    if (isBlankString(workspace)) throw MlflowError.invalid('Workspace cannot be empty.');
    const description = req.params.description ?? null;
    if (description !== null && typeof description !== 'string') throw MlflowError.invalid('Role description must be a string or null.');
    const role = await this.store.createRole(name as string, workspace as string, description);
    return { role: roleJson(role) };
  }

  async getRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canViewRoles(caller, req)))) return PERMISSION_DENIED;
    return { role: roleJson(await this.store.getRole(intParam(req, 'role_id'))) };
  }

  async listRoles(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    const raw = req.params.workspace;
    const workspaces: unknown[] = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const ok = await this.gate(caller, async () => {
      const requested = new Set(workspaces.filter((w) => typeof w === 'string' && w.trim() !== '').map((w) => (w as string).trim()));
      if (requested.size === 0) return false;
      const present = await this.presentWorkspaces(caller.id);
      return [...requested].every((w) => present.has(w));
    });
    if (!ok) return PERMISSION_DENIED;
    for (const w of workspaces) if (isBlankString(w)) throw MlflowError.invalid("Parameter 'workspace' must be a non-empty string when provided.");
    const roles = workspaces.length > 0 ? await this.store.listRoles(workspaces as string[]) : await this.store.listRoles();
    return { roles: roles.map(roleJson) };
  }

  async updateRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const roleId = intParam(req, 'role_id');
    const name = req.params.name ?? undefined;
    const description = req.params.description ?? undefined;
    if (name === undefined && description === undefined) {
      throw MlflowError.invalid("At least one of 'name' or 'description' must be provided to update a role.");
    }
    if (name !== undefined && isBlankString(name)) throw MlflowError.invalid('Role name cannot be empty.');
    if (description !== undefined && typeof description !== 'string') throw MlflowError.invalid('Role description must be a string.');
    const role = await this.store.updateRole(roleId, { name: name as string | undefined, description: description as string | undefined });
    return { role: roleJson(role) };
  }

  async deleteRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    await this.store.deleteRole(intParam(req, 'role_id'));
    return {};
  }

  async addRolePermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const roleId = intParam(req, 'role_id');
    const rp = await this.store.addRolePermission(roleId, strParam(req, 'resource_type'), strParam(req, 'resource_pattern'), strParam(req, 'permission'));
    return { role_permission: rolePermissionJson(rp) };
  }

  async removeRolePermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    await this.store.removeRolePermission(intParam(req, 'role_permission_id'));
    return {};
  }

  async listRolePermissions(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canViewRoles(caller, req)))) return PERMISSION_DENIED;
    const perms = await this.store.listRolePermissions(intParam(req, 'role_id'));
    return { role_permissions: perms.map(rolePermissionJson) };
  }

  async updateRolePermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const id = intParam(req, 'role_permission_id');
    const rp = await this.store.updateRolePermission(id, strParam(req, 'permission'));
    return { role_permission: rolePermissionJson(rp) };
  }

  async assignRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const roleId = intParam(req, 'role_id');
    const user = await this.store.getUser(username);
    return { assignment: assignmentJson(await this.store.assignRoleToUser(user.id, roleId)) };
  }

  async unassignRole(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const roleId = intParam(req, 'role_id');
    const user = await this.store.getUser(username);
    await this.store.unassignRoleFromUser(user.id, roleId);
    return {};
  }

  async listUserRoles(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canViewUser(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const user = await this.store.getUser(username);
    let roles = await this.store.listUserRoles(user.id);
    if (!(caller.isAdmin || caller.username === username)) {
      const admin = await this.adminWorkspaces(caller.id);
      roles = roles.filter((r) => admin.has(r.workspace));
    }
    return { roles: roles.map(roleJson) };
  }

  async listRoleUsers(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageRoles(caller, req)))) return PERMISSION_DENIED;
    const assignments = await this.store.listRoleUsers(intParam(req, 'role_id'));
    return { assignments: assignments.map(assignmentJson) };
  }

  // ------------------------------------------------------------------ per-user grants

  /**
   * _resolve_user_permission_for_resource: what a request by `username` would get on (type, id), the same
   * fold the runtime check uses (workspace admin → MANAGE, DENY wins, default_permission as the floor of
   * positive grants and as the answer when there is no grant). Super-admin status is not consulted, as in MLflow.
   */
  private async resolvePermission(username: string, resourceType: string, resourceId: string, req: AuthRequest): Promise<Permission> {
    rejectWorkspaceResourceType(resourceType);
    validateResourceType(resourceType);
    let key = resourceId;
    if (resourceId !== '*') {
      if (resourceType === 'scorer') {
        if (!resourceId.includes('/')) {
          throw MlflowError.invalid("Invalid scorer resource_id. Expected '<experiment_id>/<scorer_name>'.");
        }
        key = resourceId;
      } else if (!DISPATCH_TYPES.has(resourceType)) {
        throw MlflowError.invalid(`resource_type '${resourceType}' is not supported by the per-user permission convenience APIs.`);
      }
    }
    const ws = this.workspace(req);
    if (ws === undefined) return getPermission('NO_PERMISSIONS');
    const access = await this.store.accessForResource(username, resourceType, key, ws);
    if (!access) throw MlflowError.notFound(`User with username=${username} not found`);
    return resourcePermission(access.grants, resourceType, key, ws, this.policy);
  }

  /** validate_can_manage_resource. */
  private async canManageResource(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    const resourceType = param(req, 'resource_type');
    const resourceId = param(req, 'resource_id');
    if (resourceId === '*') {
      rejectWorkspaceResourceType(resourceType);
      validateResourceType(String(resourceType));
      const ws = this.workspace(req);
      return ws !== undefined && (await this.store.isWorkspaceAdmin(caller.id, ws));
    }
    return (await this.resolvePermission(caller.username, String(resourceType), String(resourceId), req)).canManage;
  }

  async grantUserPermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageResource(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const resourceType = strParam(req, 'resource_type');
    const resourceId = strParam(req, 'resource_id');
    const permission = strParam(req, 'permission');
    await this.store.getUser(username);
    const ws = this.workspace(req);
    if (ws === undefined) throw MlflowError.invalid('No workspace is set for this request.');
    await this.store.grantUserResourcePermission(username, resourceType, resourceId, permission, ws);
    return {};
  }

  async revokeUserPermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    if (!(await this.gate(caller, () => this.canManageResource(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const resourceType = strParam(req, 'resource_type');
    const resourceId = strParam(req, 'resource_id');
    await this.store.getUser(username);
    const ws = this.workspace(req);
    if (ws === undefined) throw MlflowError.invalid('No workspace is set for this request.');
    await this.store.revokeUserResourcePermission(username, resourceType, resourceId, ws);
    return {};
  }

  /** validate_can_get_user_permission: self, or a workspace admin of the resource's workspace. */
  private async canGetUserPermission(caller: AuthUser, req: AuthRequest): Promise<boolean> {
    const target = param(req, 'username');
    if (target === caller.username) return true;
    if (typeof target !== 'string' || !(await this.store.hasUser(target))) return false;
    const resourceType = String(param(req, 'resource_type'));
    const resourceId = String(param(req, 'resource_id'));
    const ws = await this.resourceWorkspace(caller, resourceType, resourceId, req);
    return ws !== undefined && (await this.store.isWorkspaceAdmin(caller.id, ws));
  }

  /** _workspace_for_resource: only resources this server holds (registered models and prompts) can be located. */
  private async resourceWorkspace(caller: AuthUser, resourceType: string, resourceId: string, req: AuthRequest): Promise<string | undefined> {
    const ws = this.workspace(req);
    if (resourceId === '*') return ws;
    if (ws === undefined) return undefined;
    if (resourceType === 'registered_model' || resourceType === 'prompt') {
      return (await this.store.registryAccess(caller.id, ws, resourceId)).exists ? ws : undefined;
    }
    return undefined;
  }

  async getUserPermission(caller: AuthUser, req: AuthRequest): Promise<AuthAnswer> {
    rejectWorkspaceResourceType(param(req, 'resource_type'));
    if (!(await this.gate(caller, () => this.canGetUserPermission(caller, req)))) return PERMISSION_DENIED;
    const username = strParam(req, 'username');
    const resourceType = strParam(req, 'resource_type');
    const resourceId = strParam(req, 'resource_id');
    await this.store.getUser(username);
    const p = await this.resolvePermission(username, resourceType, resourceId, req);
    return { allowed: p.canUse, permission: p.name };
  }
}

function notFoundAsUndefined(err: unknown): undefined {
  if (err instanceof MlflowError && err.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
  throw err;
}
