/**
 * Deny by default starts in the route table (issue 22): every operation of the contract declares the
 * permission it needs (`x-mlflow-permission`, generated into operations.gen.ts), every route the
 * server answers maps to an operation or to a declared route outside the operations, each with a rule,
 * and the rules of the MLflow routes are MLflow 3.17.2's (mlflow/server/auth/__init__.py, hard-coded
 * below so that a wrong level in the spec fails here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  grantLevels,
  operations,
  routesOutsideOperations,
  type OperationId,
  type OperationSpec,
  type PermissionRule,
} from '../packages/server/src/gen/operations.gen.js';
import { routePaths } from '../packages/server/src/http/app.js';
import { loadConfig } from '../packages/server/src/config.js';
import { createLogger } from '../packages/server/src/log.js';
import { createServer, type Server } from '../packages/server/src/server.js';

const root = path.resolve(import.meta.dirname, '..');
type SpecOp = { operationId: string; security?: unknown[]; 'x-mlflow-permission'?: Record<string, unknown> };
const spec = JSON.parse(fs.readFileSync(path.join(root, 'openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, SpecOp>>;
  security?: Record<string, unknown>[];
  components: { securitySchemes?: Record<string, { type: string; scheme: string }> };
};

const ops = Object.values(operations) as OperationSpec[];
const ACCOUNT = ['self-or-admin', 'self-or-workspace-admin', 'workspace-admin', 'workspace-member'];
const SPECIAL = ['public', 'authenticated', 'admin', 'filtered', ...ACCOUNT];
const NAMED = ['registered_model', 'model_version', 'artifact', 'webhook', 'grant'];

/** What is wrong with a rule, checked on the generated table (scripts/gen.ts checks the spec). */
function ruleProblems(rule: PermissionRule | undefined, op?: OperationSpec): string[] {
  if (!rule) return ['no permission rule'];
  const errs: string[] = [];
  if (![...grantLevels, ...SPECIAL].includes(rule.level)) errs.push(`bad level ${rule.level}`);
  const isGrant = (grantLevels as readonly string[]).includes(rule.level);
  if (isGrant && rule.resource !== 'workspace' && (!NAMED.includes(rule.resource) || !rule.name)) errs.push('a grant level needs a named resource');
  if (rule.level === 'public' && rule.resource !== 'server') errs.push('only server resources are public');
  if (rule.level === 'filtered' && rule.name) errs.push('filtered rules name no resource');
  if (ACCOUNT.includes(rule.level) && !['user', 'role', 'grant'].includes(rule.resource)) errs.push('account levels are for user, role and grant');
  if (rule.versions && !['registered_model', 'model_version'].includes(rule.resource)) errs.push('versions on a non-model resource');
  if (!rule.mlflow) errs.push('no MLflow validator named');
  if (rule.mlflow === 'none' && !rule.note) errs.push('an extension rule must say what it follows');
  if (rule.name) {
    if (!op) errs.push('a route outside the operations cannot read the request');
    else {
      const fields =
        rule.name.in === 'query' ? Object.keys(op.query) : rule.name.in === 'path' ? op.pathParams : op.body?.kind === 'message' ? Object.keys(op.body.fields) : [];
      if (!fields.includes(rule.name.field)) errs.push(`name reads ${rule.name.in} '${rule.name.field}', which the operation does not have`);
    }
  }
  return errs;
}

/** A Hono app as far as this test reads it ('hono' is the server package's dependency, not the root's). */
type App = Server['app'];

/** The routes of a Hono app that no rule covers (the same test the real app is put to below). */
function routesWithoutRule(app: App): string[] {
  const byPath = new Map<string, OperationSpec[]>();
  for (const op of ops) for (const p of routePaths(op)) byPath.set(p, [...(byPath.get(p) ?? []), op]);
  const outside = new Map(routesOutsideOperations.map((r) => [`${r.method} ${r.honoPath}`, r]));
  const bad: string[] = [];
  for (const r of app.routes) {
    // Middleware (app.use without a path): runs for every route, answers none by itself.
    if (r.method === 'ALL' && (r.path === '/*' || r.path === '*')) continue;
    const atPath = byPath.get(r.path) ?? [];
    // The 405 answer of a known path (http/app.ts): only for the methods no operation serves there.
    if (r.method === 'ALL' && atPath.length) continue;
    const op = atPath.find((o) => o.method === r.method);
    const rule = op ? op.permission : outside.get(`${r.method} ${r.path}`)?.permission;
    const problems = ruleProblems(rule, op);
    if (problems.length) bad.push(`${r.method} ${r.path}: ${problems.join('; ')}`);
  }
  return bad;
}

describe('every operation declares its permission', () => {
  it('each operation of the generated table has a valid rule', () => {
    const bad = ops.flatMap((op) => ruleProblems(op.permission, op).map((e) => `${op.operationId}: ${e}`));
    expect(bad).toEqual([]);
    expect(ops.length).toBeGreaterThan(40);
  });

  it('the generated rules are the spec’s (no stale table) and public operations, only they, need no login', () => {
    const schemes = spec.components.securitySchemes ?? {};
    expect(Object.values(schemes).map((s) => `${s.type}/${s.scheme}`).sort()).toEqual(['http/basic', 'http/bearer']);
    expect((spec.security ?? []).flatMap((r) => Object.keys(r)).sort()).toEqual(Object.keys(schemes).sort());
    for (const [p, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const gen = operations[op.operationId as OperationId];
        expect(gen, `${method} ${p}`).toBeDefined();
        const raw = op['x-mlflow-permission']!;
        expect({ resource: gen.permission.resource, name: gen.permission.name, level: gen.permission.level }, op.operationId).toEqual({
          resource: raw.resource,
          name: raw.name,
          level: raw.level,
        });
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        expect(isPublic, `${op.operationId}: security [] exactly when public`).toBe(gen.permission.level === 'public');
      }
    }
  });

  it('each route served outside the operations has a valid rule', () => {
    const bad = routesOutsideOperations.flatMap((r) => ruleProblems(r.permission).map((e) => `${r.method} ${r.path}: ${e}`));
    expect(bad).toEqual([]);
  });
});

describe('every route the server serves has a rule', () => {
  let server: Server;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ts-perm-'));
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, METRICS_ENABLED: 'true' });
    server = await createServer(config, createLogger('silent'));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('maps each route of the app (incl. /ajax-api and the docs) to an operation or declared route with a rule', () => {
    expect(routesWithoutRule(server.app)).toEqual([]);
  });

  it('serves every route the table declares (the declared list is not stale)', () => {
    const served = new Set(server.app.routes.map((r) => `${r.method} ${r.path}`));
    const declared = [
      ...ops.flatMap((op) => routePaths(op).map((p) => `${op.method} ${p}`)),
      ...routesOutsideOperations.map((r) => `${r.method} ${r.honoPath}`),
    ];
    expect(declared.filter((d) => !served.has(d))).toEqual([]);
  });

  it('catches a route added without a rule', () => {
    const app = new (server.app.constructor as new () => App)();
    app.use(async (_c, next) => next());
    app.get('/api/2.0/mlflow/registered-models/get', (c) => c.text('ok'));
    app.post('/api/2.0/mlflow-artifacts/mpu/create/:artifact_path{[\\s\\S]+}', (c) => c.text('ok'));
    app.post('/api/2.0/mlflow/registered-models/search', (c) => c.text('wrong method'));
    app.get('/api/2.0/mlflow-ts/secret', (c) => c.text('new route'));
    app.get('/debug/vars', (c) => c.text('new route'));
    expect(routesWithoutRule(app)).toEqual([
      'POST /api/2.0/mlflow/registered-models/search: no permission rule',
      'GET /api/2.0/mlflow-ts/secret: no permission rule',
      'GET /debug/vars: no permission rule',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------
// MLflow 3.17.2's decisions, from mlflow/server/auth/__init__.py: BEFORE_REQUEST_HANDLERS (registry),
// AFTER_REQUEST_PATH_HANDLERS (search filters, grant effects), WEBHOOK_BEFORE_REQUEST_HANDLERS,
// _get_proxy_artifact_validator / _is_proxy_artifact_path (mlflow-artifacts incl. mpu/* and
// presigned/), _UNPROTECTED_PATH_PREFIXES and (SERVER_VERSION, "GET"): _allow_authenticated.
// Levels: can_read = READ, can_use = USE, can_update = EDIT, can_delete / can_manage = MANAGE.
// ---------------------------------------------------------------------------------------------------
type Expected = Pick<PermissionRule, 'resource' | 'level' | 'versions' | 'effect' | 'mlflow'> & { name: string | null };
const e = (resource: Expected['resource'], name: string | null, level: Expected['level'], mlflow: string, versions: Expected['versions'] = null, effect: Expected['effect'] = null): Expected => ({
  resource,
  name,
  level,
  versions,
  effect,
  mlflow,
});
const READ_MODEL = '_validate_can_read_registered_model_or_prompt';
const UPDATE_MODEL = '_validate_can_update_registered_model_or_prompt';
const READ_VERSION = 'validate_can_read_model_or_prompt_version';
const UPDATE_VERSION = 'validate_can_update_model_or_prompt_version';
const DELETE_VERSION = 'validate_can_delete_model_or_prompt_version';
const ART_READ = 'validate_can_read_experiment_artifact_proxy';
const ART_UPDATE = 'validate_can_update_experiment_artifact_proxy';
const ART_DELETE = 'validate_can_delete_experiment_artifact_proxy';

const MLFLOW: Partial<Record<OperationId, Expected>> = {
  // Registry: `name` is _get_request_param("name"): the query string on GET, the JSON body otherwise.
  createRegisteredModel: e('workspace', null, 'USE', 'validate_can_create_registered_model', null, 'grant-creator-manage'),
  getRegisteredModel: e('registered_model', 'query.name', 'READ', READ_MODEL),
  renameRegisteredModel: e('registered_model', 'body.name', 'EDIT', UPDATE_MODEL, null, 'move-grants'),
  updateRegisteredModel: e('registered_model', 'body.name', 'EDIT', UPDATE_MODEL),
  deleteRegisteredModel: e('registered_model', 'body.name', 'MANAGE', 'validate_can_delete_registered_model_or_prompt_cascade', 'delete', 'drop-grants'),
  searchRegisteredModels: e('registered_model', null, 'filtered', 'filter_search_registered_models'),
  getLatestVersions: e('model_version', 'body.name', 'READ', READ_VERSION, 'not_denied'),
  getLatestVersionsGet: e('model_version', 'query.name', 'READ', READ_VERSION, 'not_denied'),
  setRegisteredModelTag: e('registered_model', 'body.name', 'EDIT', UPDATE_MODEL),
  deleteRegisteredModelTag: e('registered_model', 'body.name', 'EDIT', UPDATE_MODEL),
  setRegisteredModelAlias: e('registered_model', 'body.name', 'EDIT', 'validate_can_set_model_or_prompt_version_alias', 'read'),
  deleteRegisteredModelAlias: e('registered_model', 'body.name', 'MANAGE', 'validate_can_delete_model_or_prompt_version_alias', 'read'),
  getModelVersionByAlias: e('model_version', 'query.name', 'READ', READ_VERSION, 'not_denied'),
  createModelVersion: e('model_version', 'body.name', 'EDIT', 'validate_can_create_model_version', 'not_denied'),
  getModelVersion: e('model_version', 'query.name', 'READ', READ_VERSION, 'not_denied'),
  updateModelVersion: e('model_version', 'body.name', 'EDIT', UPDATE_VERSION, 'update'),
  transitionModelVersionStage: e('model_version', 'body.name', 'EDIT', UPDATE_VERSION, 'update'),
  deleteModelVersion: e('model_version', 'body.name', 'MANAGE', DELETE_VERSION, 'delete'),
  searchModelVersions: e('model_version', null, 'filtered', 'validate_can_search_model_versions + filter_search_model_versions'),
  getModelVersionDownloadUri: e('model_version', 'query.name', 'READ', READ_VERSION, 'not_denied'),
  setModelVersionTag: e('model_version', 'body.name', 'EDIT', UPDATE_VERSION, 'update'),
  deleteModelVersionTag: e('model_version', 'body.name', 'MANAGE', DELETE_VERSION, 'delete'),
  // Webhooks: every route sender_is_admin.
  listWebhooks: e('webhook', null, 'admin', 'sender_is_admin'),
  createWebhook: e('webhook', null, 'admin', 'sender_is_admin'),
  getWebhook: e('webhook', 'path.webhook_id', 'admin', 'sender_is_admin'),
  updateWebhook: e('webhook', 'path.webhook_id', 'admin', 'sender_is_admin'),
  deleteWebhook: e('webhook', 'path.webhook_id', 'admin', 'sender_is_admin'),
  testWebhook: e('webhook', 'path.webhook_id', 'admin', 'sender_is_admin'),
  // mlflow-artifacts: GET read, PUT and POST (mpu/*) update, DELETE manage; the path is
  // view_args["artifact_path"] or, for the listing, the `path` query parameter.
  listArtifacts: e('artifact', 'query.path', 'READ', ART_READ),
  downloadArtifact: e('artifact', 'path.artifact_path', 'READ', ART_READ),
  uploadArtifact: e('artifact', 'path.artifact_path', 'EDIT', ART_UPDATE),
  deleteArtifact: e('artifact', 'path.artifact_path', 'MANAGE', ART_DELETE),
  createMultipartUpload: e('artifact', 'path.artifact_path', 'EDIT', ART_UPDATE),
  completeMultipartUpload: e('artifact', 'path.artifact_path', 'EDIT', ART_UPDATE),
  abortMultipartUpload: e('artifact', 'path.artifact_path', 'EDIT', ART_UPDATE),
  getPresignedDownloadUrl: e('artifact', 'path.artifact_path', 'READ', ART_READ),
  health: e('server', null, 'public', '_UNPROTECTED_PATH_PREFIXES'),
  version: e('server', null, 'authenticated', '_allow_authenticated'),
  // The auth API (BEFORE_REQUEST_VALIDATORS' "Auth-related routes" and "Role management routes (RBAC)").
  createUser: e('user', null, 'workspace-admin', 'validate_can_create_user'),
  getUser: e('user', 'query.username', 'self-or-admin', 'validate_can_read_user'),
  getCurrentUser: e('user', null, 'authenticated', 'lambda: True (any authenticated user)'),
  listUsers: e('workspace', null, 'USE', 'validate_can_list_users'),
  updateUserPassword: e('user', 'body.username', 'self-or-admin', 'validate_can_update_user_password'),
  updateUserAdmin: e('user', null, 'admin', 'validate_can_update_user_admin'),
  deleteUser: e('user', null, 'admin', 'validate_can_delete_user'),
  listCurrentUserPermissions: e('user', null, 'authenticated', 'lambda: True (any authenticated user)'),
  listUserPermissions: e('user', 'query.username', 'self-or-workspace-admin', 'validate_can_view_user_roles'),
  listUserRoles: e('user', 'query.username', 'self-or-workspace-admin', 'validate_can_view_user_roles'),
  grantUserPermission: e('grant', 'body.resource_id', 'MANAGE', 'validate_can_manage_resource'),
  revokeUserPermission: e('grant', 'body.resource_id', 'MANAGE', 'validate_can_manage_resource'),
  getUserPermission: e('grant', 'query.username', 'self-or-workspace-admin', 'validate_can_get_user_permission'),
  createRole: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  getRole: e('role', null, 'workspace-member', 'validate_can_view_roles'),
  listRoles: e('role', null, 'workspace-member', 'validate_can_list_roles'),
  updateRole: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  deleteRole: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  addRolePermission: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  removeRolePermission: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  listRolePermissions: e('role', null, 'workspace-member', 'validate_can_view_roles'),
  updateRolePermission: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  assignRole: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  unassignRole: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  listRoleUsers: e('role', null, 'workspace-admin', 'validate_can_manage_roles'),
  // The web UI's artifact route (get_model_version_artifact_handler).
  getModelVersionArtifact: e('model_version', 'query.name', 'READ', 'validate_can_read_model_version_artifact', 'not_denied'),
  // Workspaces: ListWorkspaces has no validator (filter_list_workspaces afterwards), the changes are
  // sender_is_admin, GetWorkspace validate_can_view_workspace on the workspace the path names.
  getServerInfo: e('server', null, 'public', 'unprotected (server-info is served without login)'),
  listWorkspaces: e('workspace', null, 'filtered', 'filter_list_workspaces'),
  createWorkspace: e('workspace', null, 'admin', 'sender_is_admin'),
  getWorkspace: e('workspace', 'path.workspace_name', 'READ', 'validate_can_view_workspace'),
  updateWorkspace: e('workspace', null, 'admin', 'sender_is_admin'),
  deleteWorkspace: e('workspace', null, 'admin', 'sender_is_admin'),
};

// Our extensions (no MLflow validator): the rule of the MLflow route for the same data (see each note).
const OURS: Partial<Record<OperationId, Expected>> = {
  createDirectUpload: e('artifact', 'body.path', 'EDIT', 'none'),
  completeDirectUpload: e('artifact', 'body.path', 'EDIT', 'none'),
  abortDirectUpload: e('artifact', 'body.path', 'EDIT', 'none'),
  getDirectDownloadUrl: e('artifact', 'query.path', 'READ', 'none'),
  getRegisteredModelHistory: e('registered_model', 'query.name', 'READ', 'none', 'not_denied'),
  getModelVersionHistory: e('model_version', 'query.name', 'READ', 'none', 'not_denied'),
  getAliasHistory: e('model_version', 'query.name', 'READ', 'none', 'not_denied'),
  listRegistryEvents: e('registry', null, 'admin', 'none'),
  listWebhookDeliveries: e('webhook', 'path.webhook_id', 'admin', 'none'),
  // Personal access tokens: the caller's own (the handler refuses another user's unless admin).
  createAccessToken: e('user', null, 'authenticated', 'none'),
  listAccessTokens: e('user', 'query.username', 'self-or-admin', 'none'),
  revokeAccessToken: e('user', null, 'authenticated', 'none'),
};

const actual = (op: OperationSpec): Expected => ({
  resource: op.permission.resource,
  name: op.permission.name ? `${op.permission.name.in}.${op.permission.name.field}` : null,
  level: op.permission.level,
  versions: op.permission.versions,
  effect: op.permission.effect,
  mlflow: op.permission.mlflow,
});

describe("the rules are MLflow 3.17.2's", () => {
  it.each(Object.entries(MLFLOW))('%s', (id, expected) => {
    expect(actual(operations[id as OperationId])).toEqual(expected);
  });

  it.each(Object.entries(OURS))('%s (our extension)', (id, expected) => {
    expect(actual(operations[id as OperationId])).toEqual(expected);
  });

  it('every operation is in one of the two tables: a new operation needs its expected rule here', () => {
    const known = new Set([...Object.keys(MLFLOW), ...Object.keys(OURS)]);
    expect(ops.map((o) => o.operationId).filter((id) => !known.has(id))).toEqual([]);
    // An operation that names an MLflow validator is one MLflow has; 'none' only for ours.
    expect(ops.filter((o) => o.permission.mlflow === 'none').map((o) => o.operationId).sort()).toEqual(Object.keys(OURS).sort());
  });

  it('the routes outside the operations: public as MLflow serves its static files and /health, metrics for admins', () => {
    expect(routesOutsideOperations.map((r) => `${r.method} ${r.path} ${r.permission.level}`)).toEqual([
      'GET /openapi.json public',
      'GET /docs public',
      'GET /docs/ public',
      'GET /docs/{file} public',
      'GET /favicon.ico public',
      'GET /health/ready public',
      'GET /metrics admin',
      'GET / authenticated',
      'GET /static-files/{artifact_path} public',
    ]);
  });
});
