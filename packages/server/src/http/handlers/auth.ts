/**
 * MLflow 3.17.2's basic-auth REST API (users, roles, role permissions and assignments, per-user grants),
 * bound to the auth service. With authentication off (`deps` undefined) every one of these routes answers
 * what `mlflow server` without the basic-auth app answers: no such endpoint (404 ENDPOINT_NOT_FOUND).
 */
import { unauthenticated } from '../authn.js';
import type { Context } from 'hono';
import { errorBody } from '../../errors.js';
import type { Handler, HandlerResult } from '../app.js';
import type { OperationId } from '../../gen/operations.gen.js';
import type { Req } from '../request.js';
import type { AuthStore, AuthUser } from '../../auth/store.js';
import type { Authenticator } from '../../auth/credentials.js';
import type { PermissionPolicy } from '../../auth/permissions.js';
import { AuthService, TextAnswer, type AuthAnswer, type AuthRequest } from '../../auth/service.js';
import { currentUser } from '../auth-context.js';
import { workspaceOf } from '../workspace.js';

export interface AuthDeps {
  store: AuthStore;
  authenticator: Authenticator<AuthUser>;
  policy: PermissionPolicy;
}

/** The auth API's operations (the spec's `auth` tag); with authentication off each answers 404. */
const AUTH_OPERATION_IDS = [
  'createUser',
  'getUser',
  'getCurrentUser',
  'listUsers',
  'updateUserPassword',
  'updateUserAdmin',
  'deleteUser',
  'listCurrentUserPermissions',
  'listUserPermissions',
  'grantUserPermission',
  'revokeUserPermission',
  'getUserPermission',
  'listUserRoles',
  'createRole',
  'getRole',
  'listRoles',
  'updateRole',
  'deleteRole',
  'addRolePermission',
  'removeRolePermission',
  'listRolePermissions',
  'updateRolePermission',
  'assignRole',
  'unassignRole',
  'listRoleUsers',
] as const satisfies readonly OperationId[];

export type AuthOperationId = (typeof AUTH_OPERATION_IDS)[number];

const TEXT_HEADERS = { 'content-type': 'text/html; charset=utf-8' };

function render(a: AuthAnswer): HandlerResult {
  if (a instanceof TextAnswer) return new Response(a.text, { status: a.status, headers: TEXT_HEADERS });
  return a;
}

function toAuthRequest(req: Req, c: Context): AuthRequest {
  return { method: c.req.method, params: req.raw, workspace: workspaceOf(c) };
}

/** Flask's request.is_json: application/json or any application/*+json media type. */
function isJson(c: Context): boolean {
  const ct = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return ct === 'application/json' || (ct.startsWith('application/') && ct.endsWith('+json'));
}

type AuthHandlers = { [K in AuthOperationId]: Handler<K> };

export function authHandlers(deps: AuthDeps | undefined): AuthHandlers {
  if (!deps) {
    const notFound: Handler = (_r, c) =>
      new Response(JSON.stringify(errorBody('ENDPOINT_NOT_FOUND', `No endpoint ${c.req.method} ${new URL(c.req.url).pathname}`)), {
        status: 404,
        headers: { 'content-type': 'application/json' },
      });
    return Object.fromEntries(AUTH_OPERATION_IDS.map((id) => [id, notFound])) as AuthHandlers;
  }
  const svc = new AuthService(deps.store, deps.authenticator, deps.policy);
  // MLflow's auth handlers read the raw request dict and answer dicts built the way MLflow's auth app
  // builds them (auth/service.ts), so their answers are typed as the spec's only here, by assertion.
  const bind =
    <K extends AuthOperationId>(fn: (caller: AuthUser, req: AuthRequest, c: Context) => Promise<AuthAnswer>): Handler<K> =>
    async (req, c) => {
      const caller = currentUser(c);
      if (!caller) return unauthenticated();
      return render(await fn(caller, toAuthRequest(req, c), c)) as HandlerResult<K>;
    };
  return {
    createUser: bind((u, r, c) => svc.createUser(u, r, isJson(c))),
    getUser: bind((u, r) => svc.getUser(u, r)),
    getCurrentUser: bind((u) => svc.getCurrentUser(u)),
    listUsers: bind((u, r) => svc.listUsers(u, r)),
    updateUserPassword: bind((u, r) => svc.updateUserPassword(u, r)),
    updateUserAdmin: bind((u, r) => svc.updateUserAdmin(u, r)),
    deleteUser: bind((u, r) => svc.deleteUser(u, r)),
    listCurrentUserPermissions: bind((u) => svc.listCurrentUserPermissions(u)),
    listUserPermissions: bind((u, r) => svc.listUserPermissions(u, r)),
    grantUserPermission: bind((u, r) => svc.grantUserPermission(u, r)),
    revokeUserPermission: bind((u, r) => svc.revokeUserPermission(u, r)),
    getUserPermission: bind((u, r) => svc.getUserPermission(u, r)),
    listUserRoles: bind((u, r) => svc.listUserRoles(u, r)),
    createRole: bind((u, r) => svc.createRole(u, r)),
    getRole: bind((u, r) => svc.getRole(u, r)),
    listRoles: bind((u, r) => svc.listRoles(u, r)),
    updateRole: bind((u, r) => svc.updateRole(u, r)),
    deleteRole: bind((u, r) => svc.deleteRole(u, r)),
    addRolePermission: bind((u, r) => svc.addRolePermission(u, r)),
    removeRolePermission: bind((u, r) => svc.removeRolePermission(u, r)),
    listRolePermissions: bind((u, r) => svc.listRolePermissions(u, r)),
    updateRolePermission: bind((u, r) => svc.updateRolePermission(u, r)),
    assignRole: bind((u, r) => svc.assignRole(u, r)),
    unassignRole: bind((u, r) => svc.unassignRole(u, r)),
    listRoleUsers: bind((u, r) => svc.listRoleUsers(u, r)),
  };
}
