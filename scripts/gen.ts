/**
 * Code generation from the contract (openapi/openapi.yaml). Run with `pnpm gen`; CI runs it and fails
 * on any difference (`pnpm check:gen`). Writes, and nobody edits by hand:
 *   openapi/openapi.json                      the bundled spec (served at /openapi.json)
 *   packages/client/src/gen/                  hey-api: types, zod schemas, sdk functions, fetch client
 *   packages/server/src/gen/api/              hey-api: types the handlers are checked against
 *   packages/server/src/gen/operations.gen.ts the route table with the request field kinds the
 *                                             MLflow-style request parser coerces to, and the
 *                                             permission rule of every operation and of every
 *                                             route served outside the operations
 *   docs/permissions.md                       the permission table, for people
 *   packages/server/src/gen/enums.gen.ts      the values of the spec's named string enums, in the
 *                                             spec's order (for the protobuf numbers, see there)
 *   packages/server/src/gen/inputs.gen.ts     per operation, the zod schema and type of its parsed
 *                                             request: what each typed handler receives
 *
 * It fails, naming the operation, when an operation or route has no `x-mlflow-permission` or an
 * invalid one (deny by default starts here: a route cannot be added without its rule).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { createClient } from '@hey-api/openapi-ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const specYaml = path.join(root, 'openapi/openapi.yaml');
const specJson = path.join(root, 'openapi/openapi.json');

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
};
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  security?: Record<string, string[]>[];
  'x-mlflow-routes-outside-operations'?: OutsideRoute[];
  components?: {
    schemas?: Record<string, Schema>;
    parameters?: Record<string, Parameter>;
    requestBodies?: Record<string, unknown>;
    securitySchemes?: Record<string, unknown>;
  };
};
type OutsideRoute = { method?: unknown; path?: unknown; summary?: unknown; 'x-mlflow-permission'?: unknown };
type Parameter = { $ref?: string; name: string; in: string; required?: boolean; schema?: Schema };
type Operation = {
  operationId?: string;
  security?: Record<string, string[]>[];
  'x-mlflow-permission'?: unknown;
  parameters?: Parameter[];
  requestBody?: { $ref?: string; content?: Record<string, { schema?: Schema }> };
};

/** Field kinds the request parser understands; mirrors the protobuf field types MLflow parses into. */
export type FieldKind =
  | { kind: 'string' }
  | { kind: 'int64' }
  | { kind: 'int32' }
  | { kind: 'bool' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'message'; fields: Record<string, FieldKind> }
  | { kind: 'repeated'; item: FieldKind };

function resolve<T>(spec: Spec, obj: T & { $ref?: string }): T {
  let cur: unknown = obj;
  for (let i = 0; i < 20 && cur && typeof cur === 'object' && '$ref' in cur && typeof (cur as { $ref: unknown }).$ref === 'string'; i++) {
    const ref = (cur as { $ref: string }).$ref;
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported: ${ref}`);
    cur = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((o, k) => (o as Record<string, unknown>)[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return cur as T;
}

function kindOf(spec: Spec, schema0: Schema, depth = 0): FieldKind {
  if (depth > 10) throw new Error('schema nesting too deep');
  const schema = resolve(spec, schema0);
  if (schema.allOf?.length === 1) return kindOf(spec, schema.allOf[0]!, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (schema.enum && (type === 'string' || type === undefined)) return { kind: 'enum', values: schema.enum.map(String) };
  switch (type) {
    case 'string':
      return { kind: 'string' };
    case 'integer':
      return { kind: schema.format === 'int32' ? 'int32' : 'int64' };
    case 'number':
      return { kind: 'int64' };
    case 'boolean':
      return { kind: 'bool' };
    case 'array':
      return { kind: 'repeated', item: kindOf(spec, schema.items ?? {}, depth + 1) };
    case 'object':
    case undefined: {
      const fields: Record<string, FieldKind> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) fields[k] = kindOf(spec, v, depth + 1);
      return { kind: 'message', fields };
    }
    default:
      throw new Error(`unsupported schema type ${String(type)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Permissions (x-mlflow-permission)
// ---------------------------------------------------------------------------------------------------

/** Levels of a grant, lowest first (MLflow's PERMISSION_PRIORITY). */
const GRANT_LEVELS = ['READ', 'USE', 'EDIT', 'MANAGE'] as const;
/** Rules that are not a level on a named resource. */
const SPECIAL_LEVELS = [
  'public',
  'authenticated',
  'admin',
  'filtered',
  'self-or-admin',
  'self-or-workspace-admin',
  'workspace-admin',
  'workspace-member',
] as const;
/** Levels about the auth API's own objects (users, roles, grants): only on resources user, role and grant. */
const ACCOUNT_LEVELS = ['self-or-admin', 'self-or-workspace-admin', 'workspace-admin', 'workspace-member'];
const RESOURCES = ['registered_model', 'model_version', 'artifact', 'webhook', 'registry', 'workspace', 'server', 'user', 'role', 'grant'] as const;
/** Resources of the auth API (users, roles, per-user grants). */
const ACCOUNT_RESOURCES = ['user', 'role', 'grant'];
/** Resources a grant level can name (the others have only special rules or, for workspace, no name). */
const NAMED_RESOURCES = ['registered_model', 'model_version', 'artifact', 'webhook', 'grant'];
const VERSION_TIER_ACTIONS = ['not_denied', 'read', 'update', 'delete'] as const;
const EFFECTS = ['grant-creator-manage', 'move-grants', 'drop-grants'] as const;
const NAME_SOURCES = ['query', 'body', 'path'] as const;
const RULE_KEYS = ['resource', 'name', 'level', 'versions', 'effect', 'mlflow', 'note'];

export interface PermissionRule {
  resource: (typeof RESOURCES)[number];
  name: { in: (typeof NAME_SOURCES)[number]; field: string } | null;
  level: (typeof GRANT_LEVELS)[number] | (typeof SPECIAL_LEVELS)[number];
  versions: (typeof VERSION_TIER_ACTIONS)[number] | null;
  effect: (typeof EFFECTS)[number] | null;
  mlflow: string;
  note: string | null;
}

/** What a rule's name source may refer to: the operation's query parameters, body fields, path parameters. */
type RequestShape = { query: string[]; body: string[]; path: string[] };

const oneOf = <T extends string>(values: readonly T[], v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);

/**
 * Checks one rule and returns it typed, or the list of what is wrong with it. `shape` is null for
 * routes outside the operation table (their rules may not read the request).
 */
function checkPermission(raw: unknown, shape: RequestShape | null, isPublicSecurity: boolean | null): PermissionRule | string[] {
  if (raw === undefined) return ['has no x-mlflow-permission (every operation must declare the permission it needs)'];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return ['x-mlflow-permission must be a mapping'];
  const r = raw as Record<string, unknown>;
  const errs: string[] = [];
  for (const k of Object.keys(r)) if (!RULE_KEYS.includes(k)) errs.push(`unknown key '${k}' (allowed: ${RULE_KEYS.join(', ')})`);
  if (!oneOf(RESOURCES, r.resource)) errs.push(`resource must be one of ${RESOURCES.join(', ')} (got ${JSON.stringify(r.resource)})`);
  if (!oneOf([...GRANT_LEVELS, ...SPECIAL_LEVELS], r.level))
    errs.push(`level must be one of ${[...GRANT_LEVELS, ...SPECIAL_LEVELS].join(', ')} (got ${JSON.stringify(r.level)})`);
  if (!('name' in r)) errs.push('name is required (null when the rule names no resource)');
  let name: PermissionRule['name'] = null;
  if (r.name !== null && r.name !== undefined) {
    const n = r.name as Record<string, unknown>;
    if (typeof n !== 'object' || Array.isArray(n) || !oneOf(NAME_SOURCES, n.in) || typeof n.field !== 'string' || !n.field || Object.keys(n).length !== 2) {
      errs.push(`name must be null or {in: ${NAME_SOURCES.join('|')}, field: <name>} (got ${JSON.stringify(r.name)})`);
    } else if (!shape) {
      errs.push('name must be null on a route outside the operation table');
    } else if (!shape[n.in].includes(n.field)) {
      errs.push(`name reads ${n.in} field '${n.field}', which the operation does not have (${n.in}: ${shape[n.in].join(', ') || 'none'})`);
    } else name = { in: n.in, field: n.field };
  }
  const level = r.level as PermissionRule['level'];
  const resource = r.resource as PermissionRule['resource'];
  if (oneOf(GRANT_LEVELS, level)) {
    if (resource === 'workspace') {
      // The request's workspace, or (the workspace API) the one named in the path.
      if (r.name !== null && !(name?.in === 'path' && level === 'READ')) {
        errs.push('a workspace rule names no resource (the workspace is the request\'s), except READ on a workspace named in the path');
      }
    } else if (!NAMED_RESOURCES.includes(resource)) errs.push(`level ${level} needs a resource with a name (${NAMED_RESOURCES.join(', ')}, or workspace)`);
    else if (r.name === null || r.name === undefined) errs.push(`level ${level} on ${resource} needs a name source`);
  }
  if (level === 'filtered' && r.name !== null) errs.push('a filtered rule names no single resource (name: null)');
  if (level === 'public' && resource !== 'server') errs.push('only server resources can be public');
  if (ACCOUNT_LEVELS.includes(level) && !ACCOUNT_RESOURCES.includes(resource)) errs.push(`level ${level} applies to ${ACCOUNT_RESOURCES.join(', ')} only`);
  if ((level === 'self-or-admin' || level === 'self-or-workspace-admin') && (r.name === null || r.name === undefined))
    errs.push(`level ${level} needs a name source (the user name compared with the caller's)`);
  if (resource === 'grant' && oneOf(GRANT_LEVELS, level) && level !== 'MANAGE') errs.push('a grant level on grant must be MANAGE (who may grant on a resource)');
  const versions = r.versions ?? null;
  if (versions !== null && !oneOf(VERSION_TIER_ACTIONS, versions)) errs.push(`versions must be one of ${VERSION_TIER_ACTIONS.join(', ')}`);
  if (versions !== null && resource !== 'registered_model' && resource !== 'model_version') errs.push('versions applies to registered_model and model_version only');
  if (versions !== null && !oneOf(GRANT_LEVELS, level)) errs.push('versions needs a grant level');
  const effect = r.effect ?? null;
  if (effect !== null && !oneOf(EFFECTS, effect)) errs.push(`effect must be one of ${EFFECTS.join(', ')}`);
  if (typeof r.mlflow !== 'string' || !r.mlflow.trim()) errs.push("mlflow must name MLflow 3.17.2's validator for this route, or be 'none'");
  const note = r.note ?? null;
  if (note !== null && (typeof note !== 'string' || !note.trim())) errs.push('note must be text');
  if (r.mlflow === 'none' && note === null) errs.push("mlflow is 'none': a note must say which MLflow rule this one is consistent with");
  if (isPublicSecurity !== null) {
    if (level === 'public' && !isPublicSecurity) errs.push('level public needs `security: []` on the operation');
    if (level !== 'public' && isPublicSecurity) errs.push('`security: []` (no login) is only for level public');
  }
  if (errs.length) return errs;
  return { resource, name, level, versions: versions as PermissionRule['versions'], effect: effect as PermissionRule['effect'], mlflow: (r.mlflow as string).trim(), note: note === null ? null : (note as string).trim() };
}

function checkTopLevelSecurity(spec: Spec): string[] {
  const schemes = Object.keys(spec.components?.securitySchemes ?? {});
  const errs: string[] = [];
  if (!spec.security?.length) errs.push('the spec needs a top-level `security` (operations inherit it unless public)');
  for (const req of spec.security ?? []) for (const k of Object.keys(req)) if (!schemes.includes(k)) errs.push(`top-level security names '${k}', which components.securitySchemes does not declare`);
  return errs;
}

function alsoAjax(p: string): string[] {
  // As the server mounts them (http/app.ts routePaths): every /api/2.0 and /api/3.0 path again under /ajax-api.
  return /^\/api\/[23]\.0\//.test(p) ? [p, p.replace(/^\/api\//, '/ajax-api/')] : [p];
}

interface RuleRow {
  id: string;
  method: string;
  path: string;
  rule: PermissionRule;
  summary?: string;
}

function nameText(n: PermissionRule['name']): string {
  return n ? `${n.in} \`${n.field}\`` : '–';
}

function permissionsDoc(ops: RuleRow[], outside: RuleRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const row = (r: RuleRow, id: string) =>
    `| ${id} | ${r.method} | ${alsoAjax(r.path).map((p) => `\`${cell(p)}\``).join('<br>')} | ${r.rule.resource} | ${nameText(r.rule.name)} | **${r.rule.level}** | ${r.rule.versions ?? '–'} | ${r.rule.effect ?? '–'} | ${r.rule.mlflow === 'none' ? '– (ours)' : `\`${cell(r.rule.mlflow)}\``} |`;
  const head = '| operation | method | path | resource | name from | level | versions | effect | MLflow 3.17.2 |\n|---|---|---|---|---|---|---|---|---|';
  const notes = [...ops, ...outside]
    .filter((r) => r.rule.note)
    .map((r) => `- **${r.id}**: ${r.rule.note}`);
  return `<!-- Generated by scripts/gen.ts from openapi/openapi.yaml (x-mlflow-permission). Do not edit; run \`pnpm gen\`. -->
# Permissions

The permission every route needs, as declared in the contract ([\`openapi/openapi.yaml\`](../openapi/openapi.yaml),
\`x-mlflow-permission\` on each operation) and generated into the server's route table. The rules are
MLflow 3.17.2's (\`mlflow/server/auth\`): the last column names the validator each one is taken from; "ours"
marks this server's extensions, whose note says which MLflow rule they follow. A route without a rule fails
\`pnpm gen\`; a request that matches no rule is refused.

- **resource**: what the permission is on. \`registered_model\` is the model the request names, judged as a
  \`prompt\` when the stored model is a prompt (so a grant on a model never opens a prompt of the same name,
  and the other way round). \`model_version\`: versions of that model, judged on the model (MLflow's
  \`registered_model_version\` / \`prompt_version\` tier, see *versions*). \`artifact\`: a file under the
  artifact root, judged as MLflow judges its proxy (the experiment its first path segment names, else the
  workspace, else the default permission). \`webhook\`, \`registry\` (all models at once), \`workspace\` (the
  request's; for getWorkspace the one the path names, READ meaning a role there), \`server\` (no registry data), and the auth API's \`user\`, \`role\` (a role, its permissions and
  assignments) and \`grant\` (a per-user grant on a resource).
- **name from**: where the resource's name is read in the request: a query parameter (GET), a field of the
  JSON body, or a path parameter, read after the same parsing the handler does.
- **level**: \`READ\` < \`USE\` < \`EDIT\` < \`MANAGE\` on that resource (MLflow's \`can_read\`, \`can_use\`,
  \`can_update\`, \`can_delete\`/\`can_manage\`); \`public\`: no login; \`authenticated\`: any logged-in user;
  \`admin\`: admins only; \`filtered\`: any logged-in user, and the results hold only what they may READ.
  On the auth API's resources (\`user\`, \`role\`, \`grant\`): \`self-or-admin\` (the user the request names
  is the caller), \`self-or-workspace-admin\` (or the caller administers a workspace the user has a role in;
  what is returned is then limited to those workspaces), \`workspace-admin\` (the caller holds
  \`('workspace', '*', MANAGE)\` in the role's workspace — read from \`role_id\`, \`role_permission_id\` or
  \`workspace\`; for \`user\`: in any workspace), \`workspace-member\` (the caller holds a role in the role's
  workspace, or in every requested one), and \`MANAGE\` on a \`grant\` (MANAGE on the
  \`(resource_type, resource_id)\` the request names; for \`*\`, a workspace admin). These are decided by the
  auth service from the auth tables and refused with MLflow's 403 \`Permission denied\`.
  Admins pass every rule.
- **versions** (MLflow ≥ 3.12 roles): the action also required on the version tier of the model
  (\`not_denied\`: no DENY; \`read\`/\`update\`/\`delete\`: that action, falling back to the model's own grant
  when there is no grant on the tier). With \`update\` or \`delete\` on a \`model_version\` rule, the model
  itself needs only READ and the tier carries the action; without version-tier grants this is *level* on
  the model.
- **effect**: what the request does to grants when it succeeds: \`grant-creator-manage\` (the creator gets
  MANAGE on the new model or prompt), \`move-grants\` (a rename moves the grants to the new name),
  \`drop-grants\` (deleting the model drops its grants).

Every \`/api/2.0\` and \`/api/3.0\` path is also served under \`/ajax-api/2.0\` and \`/ajax-api/3.0\`, with the same rule.

## Operations

${head}
${ops.map((r) => row(r, r.id)).join('\n')}

## Routes outside the operations

Served by the server itself (Swagger UI and the spec); declared under \`x-mlflow-routes-outside-operations\`.

${head}
${outside.map((r) => row(r, r.summary ?? '–')).join('\n')}

## Notes

${notes.join('\n')}
`;
}

function honoPath(p: string): string {
  // `[\s\S]+` rather than `.+`: a path with an encoded line break must still reach the path checks.
  return p.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => (name === 'artifact_path' ? `:${name}{[\\s\\S]+}` : `:${name}`));
}

function operationsModule(spec: Spec): { code: string; rules: RuleRow[]; outside: RuleRow[]; inputs: OperationInputShape[] } {
  const ops: string[] = [];
  const ids: string[] = [];
  const rules: RuleRow[] = [];
  const inputs: OperationInputShape[] = [];
  const errors: string[] = checkTopLevelSecurity(spec).map((e) => `spec: ${e}`);
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${p} has no operationId`);
      const query: Record<string, FieldKind> = {};
      const pathParams: string[] = [];
      for (const raw of [...((item as { parameters?: Parameter[] }).parameters ?? []), ...(op.parameters ?? [])]) {
        const prm = resolve(spec, raw);
        if (prm.in === 'query') query[prm.name] = kindOf(spec, prm.schema ?? { type: 'string' });
        if (prm.in === 'path') pathParams.push(prm.name);
      }
      let body: FieldKind | null = null;
      let bodyType: string | null = null;
      const rb = op.requestBody ? resolve(spec, op.requestBody) : undefined;
      if (rb?.content) {
        const [ct, media] = Object.entries(rb.content)[0]!;
        bodyType = ct;
        if (ct === 'application/json' && media.schema) body = kindOf(spec, media.schema);
      }
      const shape: RequestShape = {
        query: Object.keys(query),
        body: body?.kind === 'message' ? Object.keys(body.fields) : [],
        path: pathParams,
      };
      const isPublicSecurity = Array.isArray(op.security) && op.security.length === 0;
      if (op.security && !isPublicSecurity) errors.push(`${op.operationId} (${method.toUpperCase()} ${p}): an operation-level security other than [] is not supported; operations inherit the top-level one`);
      const permission = checkPermission(op['x-mlflow-permission'], shape, isPublicSecurity);
      if (Array.isArray(permission)) {
        for (const e of permission) errors.push(`${op.operationId} (${method.toUpperCase()} ${p}): ${e}`);
        continue;
      }
      rules.push({ id: op.operationId, method: method.toUpperCase(), path: p, rule: permission });
      ids.push(op.operationId);
      inputs.push({ id: op.operationId, method: method.toUpperCase(), path: p, pathParams, query, body });
      ops.push(
        `  ${op.operationId}: ${JSON.stringify({
          operationId: op.operationId,
          method: method.toUpperCase(),
          path: p,
          honoPath: honoPath(p),
          pathParams,
          query,
          bodyType,
          body,
          permission,
        })},`,
      );
    }
  }
  const outside: RuleRow[] = [];
  const outsideRaw = spec['x-mlflow-routes-outside-operations'] ?? [];
  if (!Array.isArray(outsideRaw)) errors.push('x-mlflow-routes-outside-operations must be a list');
  for (const [i, route] of (Array.isArray(outsideRaw) ? outsideRaw : []).entries()) {
    const where = `x-mlflow-routes-outside-operations[${i}] (${String(route?.method)} ${String(route?.path)})`;
    const method: unknown = route?.method;
    if (!oneOf(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const, method) || typeof route.path !== 'string' || !route.path.startsWith('/') || typeof route.summary !== 'string') {
      errors.push(`${where}: needs method (GET, POST, PUT, PATCH or DELETE), path (starting with /) and summary`);
      continue;
    }
    if (Object.entries(spec.paths).some(([p, item]) => p === route.path && item[method.toLowerCase()]))
      errors.push(`${where}: is also an operation of the spec`);
    const permission = checkPermission(route['x-mlflow-permission'], null, null);
    if (Array.isArray(permission)) {
      for (const e of permission) errors.push(`${where}: ${e}`);
      continue;
    }
    outside.push({ id: `${method} ${route.path}`, method, path: route.path, rule: permission, summary: route.summary } as RuleRow);
  }
  if (errors.length) throw new Error(`permission rules are missing or invalid:\n  ${errors.join('\n  ')}`);
  const code = `// Generated by scripts/gen.ts from openapi/openapi.yaml. Do not edit; run \`pnpm gen\`.
/* eslint-disable */
import type { FieldKind } from '../http/field-kind.js';

/** Grant levels, lowest first: a grant of one level holds every lower one (MLflow's PERMISSION_PRIORITY). */
export const grantLevels = ${JSON.stringify(GRANT_LEVELS)} as const;
export type GrantLevel = (typeof grantLevels)[number];

/**
 * The permission an operation needs (\`x-mlflow-permission\` in the spec; docs/permissions.md explains
 * each field). Taken from MLflow 3.17.2's auth validators; \`mlflow\` names the one it comes from.
 */
export interface PermissionRule {
  /**
   * What the permission is on. registered_model: the model \`name\` names (a prompt is judged as a
   * prompt); model_version: versions of that model, judged on the model; artifact: a path under the
   * artifact root; registry: every model at once; workspace: the request's; server: no registry data;
   * user, role, grant: the auth API's users, roles (and their permissions and assignments) and per-user
   * grants (grant: the (resource_type, resource_id) the request names).
   */
  readonly resource: ${RESOURCES.map((r) => `'${r}'`).join(' | ')};
  /** Where the resource's name is read in the parsed request; null when the rule names no resource. */
  readonly name: { readonly in: ${NAME_SOURCES.map((r) => `'${r}'`).join(' | ')}; readonly field: string } | null;
  /**
   * A grant level on the resource, or: public (no login), authenticated (any logged-in user),
   * admin (admins only), filtered (any logged-in user; results hold only what they may READ);
   * on user/role/grant: self-or-admin (the user \`name\` names is the caller), self-or-workspace-admin
   * (or a workspace admin of a workspace the user has a role in), workspace-admin (a workspace admin of
   * the role's workspace; for user: of any workspace), workspace-member (holds a role in the role's
   * workspace). These four are decided by the auth service (http/handlers/auth.ts) from the auth
   * tables; the authentication layer only requires a login for them. Admins pass every rule.
   */
  readonly level: GrantLevel | ${SPECIAL_LEVELS.map((r) => `'${r}'`).join(' | ')};
  /**
   * MLflow ≥ 3.12 roles: the action also required on the model's version tier (falling back to the
   * model's own grant when there is none on the tier). With update/delete on a model_version rule the
   * model itself needs only READ.
   */
  readonly versions: ${VERSION_TIER_ACTIONS.map((r) => `'${r}'`).join(' | ')} | null;
  /** What a successful request does to grants. */
  readonly effect: ${EFFECTS.map((r) => `'${r}'`).join(' | ')} | null;
  /** MLflow 3.17.2's validator for the route, or 'none' for this server's extensions. */
  readonly mlflow: string;
  readonly note: string | null;
}

export interface OperationSpec {
  readonly operationId: OperationId;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path as written in the spec. */
  readonly path: string;
  /** Path in Hono's syntax. */
  readonly honoPath: string;
  readonly pathParams: readonly string[];
  /** Query parameters and their kinds (GET requests). */
  readonly query: Readonly<Record<string, FieldKind>>;
  /** Request body media type, if the operation takes one. */
  readonly bodyType: string | null;
  /** Kind of the JSON request body, if any. */
  readonly body: FieldKind | null;
  /** The permission the operation needs. */
  readonly permission: PermissionRule;
}

export type OperationId =
${ids.map((i) => `  | '${i}'`).join('\n')};

export const operations: Readonly<Record<OperationId, OperationSpec>> = {
${ops.join('\n')}
};

/** A route the server serves outside the operation table (Swagger UI, the spec), with its rule. */
export interface OutsideRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly honoPath: string;
  readonly summary: string;
  readonly permission: PermissionRule;
}

/** Spec: x-mlflow-routes-outside-operations. */
export const routesOutsideOperations: readonly OutsideRoute[] = [
${outside.map((r) => `  ${JSON.stringify({ method: r.method, path: r.path, honoPath: honoPath(r.path), summary: (r as RuleRow & { summary: string }).summary, permission: r.rule })},`).join('\n')}
];
`;
  return { code, rules, outside, inputs };
}

/** What one operation's request holds, for inputs.gen.ts. */
type OperationInputShape = { id: string; method: string; path: string; pathParams: string[]; query: Record<string, FieldKind>; body: FieldKind | null };

/** The zod schema of a parsed field: what ParseDict yields for its kind (ints as numbers, enums by name or number). */
function zodOf(kind: FieldKind, indent: string): string {
  switch (kind.kind) {
    case 'string':
      return 'z.string()';
    case 'int64':
    case 'int32':
      return 'z.number()';
    case 'bool':
      return 'z.boolean()';
    case 'enum':
      return `z.union([z.enum(${JSON.stringify(kind.values)}), z.int()])`;
    case 'repeated':
      return `z.array(${zodOf(kind.item, indent)})`;
    case 'message':
      return zodObject(kind.fields, [], indent);
  }
}

/** A message: every field optional, as in proto2 (a field the client left out is absent); path parameters required. */
function zodObject(fields: Record<string, FieldKind>, required: string[], indent: string): string {
  const inner = indent + '  ';
  const lines = Object.entries(fields).map(([k, v]) => `${inner}${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${zodOf(v, inner)}${required.includes(k) ? '' : '.optional()'},`);
  return lines.length === 0 ? 'z.object({})' : `z.object({\n${lines.join('\n')}\n${indent}})`;
}

/**
 * inputs.gen.ts: for every operation, the zod schema of its parsed request (query or JSON body fields and
 * path parameters, merged into one object as MLflow's handlers see them) and its TypeScript type. The HTTP
 * edge validates each parsed request with it, so a handler receives a typed input; renaming a field in
 * the spec and regenerating breaks the typecheck wherever the field is used.
 */
function inputsModule(inputs: OperationInputShape[]): string {
  const entries = inputs.map((op) => {
    const fields: Record<string, FieldKind> = { ...op.query, ...(op.body?.kind === 'message' ? op.body.fields : {}) };
    for (const p of op.pathParams) fields[p] = { kind: 'string' };
    return `  /** ${op.method} ${op.path} */\n  ${op.id}: ${zodObject(fields, op.pathParams, '  ')},`;
  });
  return `// Generated by scripts/gen.ts from openapi/openapi.yaml. Do not edit; run \`pnpm gen\`.
/* eslint-disable */
import * as z from 'zod';
import type * as api from './api/types.gen.js';
import type { OperationId } from './operations.gen.js';

/**
 * The request of each operation after MLflow's parsing (http/request.ts): a field the client left out is
 * absent (proto2), integers are numbers (int64 beyond 2^53 too, as the parser reads them), an enum is its
 * name (or its number, as ParseDict accepts).
 * Bounds and patterns are MLflow's own checks, in the services, with MLflow's messages.
 */
export const operationInputs = {
${entries.join('\n')}
} satisfies Record<OperationId, z.ZodType>;

/** The typed input of an operation. */
export type OperationInput<K extends OperationId> = z.output<(typeof operationInputs)[K]>;

/** What each operation answers, by the spec (its responses' bodies, as hey-api types them). */
export interface OperationResults {
${inputs.map((op) => `  ${op.id}: api.${op.id[0]!.toUpperCase()}${op.id.slice(1)}Result;`).join('\n')}
}
`;
}

/**
 * The values of every named string enum in components.schemas, in the spec's order. The spec lists
 * the enums that mirror MLflow's protobuf enums in proto number order (1, 2, …), so the position of a
 * value gives its number; code that accepts numeric enum input (as ParseDict does) relies on that.
 */
function enumsModule(spec: Spec): string {
  const entries: string[] = [];
  for (const [name, schema] of Object.entries(spec.components?.schemas ?? {})) {
    if (schema.type !== 'string' || !schema.enum) continue;
    entries.push(`  ${name}: ${JSON.stringify(schema.enum.map(String))},`);
  }
  return `// Generated by scripts/gen.ts from openapi/openapi.yaml. Do not edit; run \`pnpm gen\`.
/* eslint-disable */

/**
 * The values of each named string enum of the spec (components.schemas), in the spec's order. Enums
 * that mirror MLflow's protobuf enums are listed in proto number order: the value at index i has
 * number i + 1 (0 is the proto's UNSPECIFIED default, which the spec leaves out).
 */
export const enumValues = {
${entries.join('\n')}
} as const;
`;
}

async function main() {
  const spec = parse(fs.readFileSync(specYaml, 'utf8')) as Spec;
  // Checked before anything is written: a spec with a missing or invalid rule generates nothing.
  const table = operationsModule(spec);
  fs.writeFileSync(specJson, JSON.stringify(spec, null, 2) + '\n');

  const serverGen = path.join(root, 'packages/server/src/gen');
  fs.mkdirSync(serverGen, { recursive: true });
  fs.writeFileSync(path.join(serverGen, 'operations.gen.ts'), table.code);
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'docs/permissions.md'), permissionsDoc(table.rules, table.outside));
  fs.writeFileSync(path.join(serverGen, 'enums.gen.ts'), enumsModule(spec));
  fs.writeFileSync(path.join(serverGen, 'inputs.gen.ts'), inputsModule(table.inputs));

  await createClient([
    {
      input: specJson,
      output: { path: path.join(root, 'packages/client/src/gen') },
      logs: { level: 'silent' },
      plugins: [
        // Our spec names its response schemas <Operation>Response; hey-api's per-operation response
        // types get a different suffix so neither is renamed with a '2'.
        { name: '@hey-api/typescript', responses: { response: '{{name}}Result' } },
        'zod',
        { name: '@hey-api/sdk', validator: true },
        { name: '@hey-api/client-fetch' },
      ],
    },
    {
      input: specJson,
      output: { path: path.join(serverGen, 'api') },
      logs: { level: 'silent' },
      plugins: [{ name: '@hey-api/typescript', responses: { response: '{{name}}Result' } }],
    },
  ]);
  console.log('generated: openapi/openapi.json, packages/client/src/gen, packages/server/src/gen, docs/permissions.md');
}

main().catch((err) => {
  console.error(err instanceof Error && err.message.startsWith('permission rules') ? `pnpm gen: ${err.message}` : err);
  process.exit(1);
});
