/**
 * MLflow 3.17.2's auth REST API (users, roles, role permissions, assignments, per-user grants), side by side:
 * the same sequence of requests, as the admin, as plain users and anonymously, is sent to a live
 * `mlflow server --app-name basic-auth` and to our app, and every answer (status, body) must be the same,
 * modulo the documented difference (MLflow's duplicate-user message carries the database error and the new
 * user's password hash; ours ends at "already exists.").
 *
 * Our side: the auth handlers (http/handlers/auth.ts) over AuthStore, behind a minimal Basic-auth test
 * middleware (setCurrentUser) until the authentication middleware (http/authn.ts) is wired in server.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type Handler, type Handlers } from '../../packages/server/src/http/app.js';
import { operations, type OperationId } from '../../packages/server/src/gen/operations.gen.js';
import { authHandlers } from '../../packages/server/src/http/handlers/auth.js';
import { setCurrentUser } from '../../packages/server/src/http/auth-context.js';
import { AuthStore, type AuthUser } from '../../packages/server/src/auth/store.js';
import { Authenticator, CredentialCache, parseBasicAuthorization } from '../../packages/server/src/auth/credentials.js';
import { bootstrapAdmin } from '../../packages/server/src/auth/bootstrap.js';
import { DEFAULT_POLICY } from '../../packages/server/src/auth/permissions.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createLogger } from '../../packages/server/src/log.js';
import type { Database } from '../../packages/server/src/store/db.js';
import { createTestDatabase } from '../helpers/server.js';
import { freePort, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { openAuthTestDb } from './db.js';
import { HAVE_PYTHON, PYTHON, VENV } from '../../packages/server/src/auth/python.test-support.js';

const haveFlaskWtf = (() => {
  if (!HAVE_PYTHON) return false;
  try {
    execFileSync(PYTHON, ['-c', 'import flask_wtf'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !process.env.TEST_DATABASE_URL || !haveFlaskWtf;

const sqlalchemyUrl = (url: string) => url.replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://');

const ADMIN_PASSWORD = `adm-${randomBytes(12).toString('hex')}`;
const PASSWORDS: Record<string, string> = {
  admin: ADMIN_PASSWORD,
  alice: 'alice-password-1',
  bob: 'bob-password-123',
  carol: 'carol-password-1',
};

type Who = 'admin' | 'alice' | 'bob' | 'carol' | 'anon' | 'wrong';
interface Step {
  as: Who;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** Sent as is (raw text), e.g. a non-JSON body. */
  raw?: { text: string; contentType?: string };
  query?: [string, string][];
  /** A password change: later steps use the new password. */
  newPassword?: [string, string];
}

interface Answer {
  status: number;
  body: unknown;
}

function headersFor(who: Who, passwords: Record<string, string>): Record<string, string> {
  if (who === 'anon') return {};
  const [u, p] = who === 'wrong' ? ['alice', 'not-the-password'] : [who, passwords[who]!];
  return { authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') };
}

async function send(base: string, step: Step, passwords: Record<string, string>): Promise<Answer> {
  const url = new URL(base + step.path);
  for (const [k, v] of step.query ?? []) url.searchParams.append(k, v);
  const headers: Record<string, string> = headersFor(step.as, passwords);
  let body: string | undefined;
  if (step.raw) {
    body = step.raw.text;
    if (step.raw.contentType) headers['content-type'] = step.raw.contentType;
  } else if (step.body !== undefined) {
    body = JSON.stringify(step.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, { method: step.method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      /* text */
    }
  }
  return { status: res.status, body: normalize(parsed) };
}

/**
 * What is compared modulo: (1) the documented difference: MLflow appends the database error (SQL, parameters,
 * and for users the new password hash) to its "already exists." messages, ours end there; (2) the ids of
 * synthetic per-user roles `__user_<id>__` (a sequence value: PostgreSQL spends one on every
 * INSERT … ON CONFLICT DO NOTHING, so they need not match); (3) the order of users/list (MLflow's query has
 * no ORDER BY).
 */
function normalize(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(normalize);
  if (!body || typeof body !== 'object') return body;
  const b: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) b[k] = normalize(v);
  if (typeof b.message === 'string') b.message = b.message.replace(/^(.* already exists\.) Error: [\s\S]*$/, '$1');
  const synthetic = (n: unknown) => typeof n === 'string' && /^__user_\d+__$/.test(n);
  if (synthetic(b.name) && 'permissions' in b) b.id = '<synthetic role id>';
  if (synthetic(b.role_name)) b.role_id = '<synthetic role id>';
  if (Array.isArray(b.users)) b.users = [...b.users].sort((x, y) => (x as { id: number }).id - (y as { id: number }).id);
  return b;
}

const U = '/api/2.0/mlflow/users';
const U3 = '/api/3.0/mlflow/users';
const R3 = '/api/3.0/mlflow/roles';

/** The scenario: every auth operation, allowed and refused, valid and invalid. Role ids follow creation order on both servers. */
const steps: Step[] = [
  // authentication
  { as: 'anon', method: 'GET', path: `${U}/current` },
  { as: 'wrong', method: 'GET', path: `${U}/current` },
  // users
  { as: 'admin', method: 'GET', path: `${U}/current` },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: 'alice', password: PASSWORDS.alice } },
  { as: 'admin', method: 'POST', path: `/ajax-api/2.0/mlflow/users/create`, body: { username: 'bob', password: PASSWORDS.bob } },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: 'carol', password: PASSWORDS.carol } },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: 'alice', password: 'another-password-1' } },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: 'dave', password: 'short' } },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: '', password: 'long-enough-password' } },
  { as: 'admin', method: 'POST', path: `${U}/create`, body: { username: 'dave' } },
  // (Not compared: a create-user body that is not JSON. MLflow answers the text "Invalid content type. Must be
  // application/json"; our request parser refuses it first, as for every POST: 400 INVALID_PARAMETER_VALUE
  // "Bad Request. Content-Type must be one of ['application/json']." A documented difference.)
  { as: 'alice', method: 'POST', path: `${U}/create`, body: { username: 'eve', password: 'long-enough-password' } },
  { as: 'alice', method: 'GET', path: `${U}/current` },
  { as: 'alice', method: 'GET', path: `${U}/get`, query: [['username', 'alice']] },
  { as: 'alice', method: 'GET', path: `${U}/get`, query: [['username', 'bob']] },
  { as: 'admin', method: 'GET', path: `${U}/get`, query: [['username', 'bob']] },
  { as: 'admin', method: 'GET', path: `${U}/get`, query: [['username', 'nobody']] },
  { as: 'admin', method: 'GET', path: `${U}/get` },
  { as: 'alice', method: 'GET', path: `${U}/list` },
  { as: 'admin', method: 'GET', path: `/ajax-api/2.0/mlflow/users/list` },
  // roles
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: 'readers', workspace: 'default', description: 'read all' } },
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: 'readers', workspace: 'default' } },
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: '  ', workspace: 'default' } },
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: 'x', workspace: '' } },
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: '__user_9__', workspace: 'default' } },
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: 'x', workspace: 'default', description: 5 } },
  { as: 'alice', method: 'POST', path: `${R3}/create`, body: { name: 'mine', workspace: 'default' } },
  { as: 'alice', method: 'POST', path: `${R3}/create`, body: { name: 'mine' } },
  { as: 'admin', method: 'GET', path: `${R3}/get`, query: [['role_id', '1']] },
  { as: 'admin', method: 'GET', path: `${R3}/get`, query: [['role_id', 'abc']] },
  { as: 'admin', method: 'GET', path: `${R3}/get`, query: [['role_id', '999']] },
  { as: 'alice', method: 'GET', path: `${R3}/get`, query: [['role_id', '1']] },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'registered_model', resource_pattern: '*', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'registered_model', resource_pattern: '*', permission: 'EDIT' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'model', resource_pattern: '*', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'prompt', resource_pattern: '*', permission: 'SUPER' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'workspace', resource_pattern: '*', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 1, resource_type: 'registered_model_version', resource_pattern: 'x', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 999, resource_type: 'prompt', resource_pattern: '*', permission: 'READ' } },
  { as: 'admin', method: 'GET', path: `${R3}/permissions/list`, query: [['role_id', '1']] },
  { as: 'admin', method: 'PATCH', path: `${R3}/permissions/update`, body: { role_permission_id: 1, permission: 'EDIT' } },
  { as: 'admin', method: 'PATCH', path: `${R3}/permissions/update`, body: { role_permission_id: 1, permission: 'NOPE' } },
  { as: 'admin', method: 'PATCH', path: `${R3}/permissions/update`, body: { role_permission_id: 999, permission: 'EDIT' } },
  { as: 'admin', method: 'PATCH', path: `${R3}/update`, body: { role_id: 1 } },
  { as: 'admin', method: 'PATCH', path: `${R3}/update`, body: { role_id: 1, name: 'editors' } },
  { as: 'admin', method: 'PATCH', path: `${R3}/update`, body: { role_id: 1, description: 7 } },
  { as: 'admin', method: 'POST', path: `${R3}/assign`, body: { username: 'alice', role_id: 1 } },
  { as: 'admin', method: 'POST', path: `${R3}/assign`, body: { username: 'alice', role_id: 1 } },
  { as: 'admin', method: 'POST', path: `${R3}/assign`, body: { username: 'nobody', role_id: 1 } },
  { as: 'admin', method: 'POST', path: `${R3}/assign`, body: { username: 'alice', role_id: 999 } },
  { as: 'alice', method: 'GET', path: `${R3}/get`, query: [['role_id', '1']] },
  { as: 'alice', method: 'GET', path: `${R3}/permissions/list`, query: [['role_id', '1']] },
  { as: 'alice', method: 'GET', path: `${R3}/list`, query: [['workspace', 'default']] },
  { as: 'bob', method: 'GET', path: `${R3}/list`, query: [['workspace', 'default']] },
  { as: 'alice', method: 'GET', path: `${R3}/list` },
  { as: 'admin', method: 'GET', path: `${R3}/list` },
  { as: 'admin', method: 'GET', path: `/ajax-api/3.0/mlflow/roles/list`, query: [['workspace', 'default']] },
  { as: 'alice', method: 'PATCH', path: `${R3}/update`, body: { role_id: 1, name: 'mine' } },
  { as: 'alice', method: 'GET', path: `${R3}/users/list`, query: [['role_id', '1']] },
  { as: 'admin', method: 'GET', path: `${R3}/users/list`, query: [['role_id', '1']] },
  { as: 'alice', method: 'GET', path: `${U3}/roles/list`, query: [['username', 'alice']] },
  { as: 'alice', method: 'GET', path: `${U3}/roles/list`, query: [['username', 'bob']] },
  { as: 'admin', method: 'GET', path: `${U3}/roles/list`, query: [['username', 'alice']] },
  { as: 'admin', method: 'GET', path: `${U3}/roles/list`, query: [['username', 'nobody']] },
  // a workspace admin (role 2 with workspace MANAGE) may manage roles of its workspace, create users, see members
  { as: 'admin', method: 'POST', path: `${R3}/create`, body: { name: 'ws-admins', workspace: 'default' } },
  { as: 'admin', method: 'POST', path: `${R3}/permissions/add`, body: { role_id: 2, resource_type: 'workspace', resource_pattern: '*', permission: 'MANAGE' } },
  { as: 'admin', method: 'POST', path: `${R3}/assign`, body: { username: 'bob', role_id: 2 } },
  { as: 'bob', method: 'POST', path: `${R3}/create`, body: { name: 'bob-made', workspace: 'default' } },
  { as: 'bob', method: 'POST', path: `${R3}/create`, body: { name: 'elsewhere', workspace: 'other' } },
  { as: 'bob', method: 'GET', path: `${R3}/users/list`, query: [['role_id', '1']] },
  { as: 'bob', method: 'POST', path: `${U}/create`, body: { username: 'dave', password: 'dave-password-12' } },
  { as: 'bob', method: 'GET', path: `${U3}/roles/list`, query: [['username', 'alice']] },
  { as: 'bob', method: 'GET', path: `${U3}/permissions/list`, query: [['username', 'alice']] },
  { as: 'bob', method: 'GET', path: `${U}/list` },
  { as: 'carol', method: 'GET', path: `${U3}/permissions/list`, query: [['username', 'alice']] },
  // per-user grants
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'carol', resource_type: 'registered_model', resource_id: 'iris', permission: 'MANAGE' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'carol', resource_type: 'registered_model', resource_id: 'iris', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'carol', resource_type: 'workspace', resource_id: '*', permission: 'USE' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'carol', resource_type: 'prompt', resource_id: 'p1', permission: 'MEGA' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'nobody', resource_type: 'prompt', resource_id: 'p1', permission: 'READ' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'carol', resource_type: 'prompt', resource_id: 'p1' } },
  { as: 'carol', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'alice', resource_type: 'registered_model', resource_id: 'iris', permission: 'READ' } },
  { as: 'carol', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'alice', resource_type: 'prompt', resource_id: 'p1', permission: 'READ' } },
  { as: 'carol', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'alice', resource_type: 'prompt', resource_id: '*', permission: 'READ' } },
  { as: 'bob', method: 'POST', path: `${U3}/permissions/grant`, body: { username: 'alice', resource_type: 'prompt', resource_id: '*', permission: 'DENY' } },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'alice'], ['resource_type', 'registered_model'], ['resource_id', 'iris']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'alice'], ['resource_type', 'prompt'], ['resource_id', 'p2']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'alice'], ['resource_type', 'prompt'], ['resource_id', '*']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'carol'], ['resource_type', 'registered_model'], ['resource_id', 'iris']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'carol'], ['resource_type', 'workspace'], ['resource_id', '*']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'carol'], ['resource_type', 'run'], ['resource_id', 'r1']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'carol'], ['resource_type', 'bogus'], ['resource_id', 'r1']] },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'nobody'], ['resource_type', 'prompt'], ['resource_id', 'p1']] },
  { as: 'carol', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'carol'], ['resource_type', 'registered_model'], ['resource_id', 'iris']] },
  { as: 'carol', method: 'GET', path: `${U3}/permissions/get`, query: [['username', 'alice'], ['resource_type', 'registered_model'], ['resource_id', 'iris']] },
  { as: 'alice', method: 'GET', path: `${U3}/current/permissions` },
  { as: 'admin', method: 'GET', path: `${U3}/permissions/list`, query: [['username', 'carol']] },
  { as: 'carol', method: 'POST', path: `${U3}/permissions/revoke`, body: { username: 'alice', resource_type: 'registered_model', resource_id: 'iris' } },
  { as: 'carol', method: 'POST', path: `${U3}/permissions/revoke`, body: { username: 'alice', resource_type: 'registered_model', resource_id: 'iris' } },
  { as: 'alice', method: 'POST', path: `${U3}/permissions/revoke`, body: { username: 'carol', resource_type: 'registered_model', resource_id: 'iris' } },
  { as: 'admin', method: 'POST', path: `${U3}/permissions/revoke`, body: { username: 'carol', resource_type: 'workspace', resource_id: '*' } },
  // role teardown
  { as: 'admin', method: 'DELETE', path: `${R3}/permissions/remove`, body: { role_permission_id: 1 } },
  { as: 'admin', method: 'DELETE', path: `${R3}/permissions/remove`, body: { role_permission_id: 1 } },
  { as: 'admin', method: 'DELETE', path: `${R3}/unassign`, body: { username: 'alice', role_id: 1 } },
  { as: 'admin', method: 'DELETE', path: `${R3}/unassign`, body: { username: 'alice', role_id: 1 } },
  { as: 'alice', method: 'DELETE', path: `${R3}/delete`, body: { role_id: 1 } },
  { as: 'admin', method: 'DELETE', path: `${R3}/delete`, body: { role_id: 1 } },
  { as: 'admin', method: 'DELETE', path: `${R3}/delete`, body: { role_id: 1 } },
  // passwords, admin flag, deletion
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'bob', password: 'new-password-123' } },
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'alice', password: 'new-password-123' } },
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'alice', password: 'new-password-123', current_password: 'wrong-password-1' } },
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'alice', password: PASSWORDS.alice, current_password: PASSWORDS.alice } },
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'alice', password: 'short', current_password: PASSWORDS.alice } },
  { as: 'alice', method: 'PATCH', path: `${U}/update-password`, body: { username: 'alice', password: 'alice-new-password', current_password: PASSWORDS.alice }, newPassword: ['alice', 'alice-new-password'] },
  { as: 'alice', method: 'GET', path: `${U}/current` },
  { as: 'admin', method: 'PATCH', path: `${U}/update-password`, body: { username: 'bob', password: 'bob-new-password1' }, newPassword: ['bob', 'bob-new-password1'] },
  { as: 'admin', method: 'PATCH', path: `${U}/update-password`, body: { username: 'nobody', password: 'long-enough-password' } },
  { as: 'admin', method: 'PATCH', path: `${U}/update-password`, body: { username: 'bob', password: 'short' } },
  { as: 'bob', method: 'GET', path: `${U}/current` },
  { as: 'alice', method: 'PATCH', path: `${U}/update-admin`, body: { username: 'alice', is_admin: true } },
  { as: 'admin', method: 'PATCH', path: `${U}/update-admin`, body: { username: 'alice', is_admin: true } },
  { as: 'alice', method: 'GET', path: `${U}/current` },
  { as: 'alice', method: 'GET', path: `${U}/get`, query: [['username', 'bob']] },
  { as: 'admin', method: 'PATCH', path: `${U}/update-admin`, body: { username: 'alice', is_admin: false } },
  { as: 'alice', method: 'GET', path: `${U}/get`, query: [['username', 'bob']] },
  { as: 'admin', method: 'PATCH', path: `${U}/update-admin`, body: { username: 'nobody', is_admin: true } },
  { as: 'admin', method: 'PATCH', path: `${U}/update-admin`, body: { username: 'alice' } },
  { as: 'alice', method: 'DELETE', path: `${U}/delete`, body: { username: 'bob' } },
  { as: 'admin', method: 'DELETE', path: `${U}/delete`, body: { username: 'admin' } },
  { as: 'admin', method: 'DELETE', path: `${U}/delete`, body: { username: 'carol' } },
  { as: 'admin', method: 'DELETE', path: `${U}/delete`, body: { username: 'carol' } },
  { as: 'carol', method: 'GET', path: `${U}/current` },
  { as: 'admin', method: 'GET', path: `${U}/list` },
];

describe.skipIf(skip)('auth API side by side with mlflow server --app-name basic-auth', () => {
  let mlflowStarting: Promise<MlflowServer> | undefined;
  let mlflow: MlflowServer | undefined;
  let dir: string;
  let mlflowBase: string;
  let ours: { base: string; close(): Promise<void> } | undefined;
  let db: Database | undefined;

  beforeAll(async () => {
    const authUrl = await createTestDatabase();
    const backendUrl = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-auth-api-'));
    const ini = path.join(dir, 'basic_auth.ini');
    fs.writeFileSync(
      ini,
      `[mlflow]\ndefault_permission = READ\ndatabase_uri = ${sqlalchemyUrl(authUrl)}\nadmin_username = admin\nadmin_password = ${ADMIN_PASSWORD}\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n`,
    );
    // Started now, awaited once our side is up: MLflow's start-up is the slow part.
    mlflowStarting = startMlflowServer({
      bin: path.join(VENV, 'bin/mlflow'),
      args: ['--app-name', 'basic-auth', '--backend-store-uri', sqlalchemyUrl(backendUrl)],
      cwd: dir,
      env: {
        MLFLOW_AUTH_CONFIG_PATH: ini,
        MLFLOW_FLASK_SERVER_SECRET_KEY: randomBytes(16).toString('hex'),
        MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      },
    });
    mlflowStarting.catch(() => {}); // reported by the await below

    // Our side, on its own database.
    db = await openAuthTestDb('postgres');
    const store = new AuthStore(db);
    await bootstrapAdmin(db, { username: 'admin', password: ADMIN_PASSWORD });
    const authenticator = new Authenticator<AuthUser>(store, new CredentialCache<AuthUser>({ maxEntries: 100, ttlMs: 60_000 }));
    const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dir });
    const notBuilt: Handler = () => new Response('{}', { status: 501 });
    const handlers = {
      ...Object.fromEntries(Object.keys(operations).map((id) => [id, notBuilt])),
      ...authHandlers({ store, authenticator, policy: DEFAULT_POLICY }),
    } as Record<OperationId, Handler> as Handlers;
    const app = createApp({ handlers, log: createLogger('silent'), specPath: path.resolve(import.meta.dirname, '../../openapi/openapi.json'), limits: config.limits, security: config.security });
    const outer = new Hono();
    // Until http/authn.ts is wired: Basic credentials → the current user; none or wrong → MLflow's 401.
    outer.use(async (c, next) => {
      const header = c.req.header('authorization');
      const creds = parseBasicAuthorization(header);
      const user = creds ? await authenticator.authenticate(creds) : undefined;
      if (!user) {
        return new Response(
          'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.',
          { status: 401, headers: { 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Basic realm="mlflow"' } },
        );
      }
      setCurrentUser(c, user);
      await next();
    });
    outer.route('/', app);
    const { serve } = await import('@hono/node-server');
    const ourPort = await freePort();
    const http = serve({ fetch: outer.fetch, port: ourPort, hostname: '127.0.0.1' });
    ours = {
      base: `http://127.0.0.1:${ourPort}`,
      close: () => new Promise<void>((r) => http.close(() => r())),
    };

    mlflow = await mlflowStarting;
    mlflowBase = mlflow.url;
  }, 180_000);

  afterAll(async () => {
    await (mlflow ?? (await mlflowStarting?.catch(() => undefined)))?.stop();
    await ours?.close();
    await db?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('answers every step of the scenario as MLflow does', async () => {
    const theirPasswords = { ...PASSWORDS };
    const ourPasswords = { ...PASSWORDS };
    const diffs: string[] = [];
    for (const [i, step] of steps.entries()) {
      const theirs = await send(mlflowBase, step, theirPasswords);
      const mine = await send(ours!.base, step, ourPasswords);
      if (step.newPassword) {
        if (theirs.status === 200) theirPasswords[step.newPassword[0]] = step.newPassword[1];
        if (mine.status === 200) ourPasswords[step.newPassword[0]] = step.newPassword[1];
      }
      try {
        expect(mine).toEqual(theirs);
      } catch {
        diffs.push(`#${i} ${step.as} ${step.method} ${step.path} ${JSON.stringify(step.query ?? step.body ?? step.raw ?? '')}\n  mlflow: ${JSON.stringify(theirs)}\n  ours:   ${JSON.stringify(mine)}`);
      }
    }
    expect(diffs, diffs.join('\n')).toEqual([]);
  }, 120_000);

  it('never echoes a password hash in the duplicate-user error', async () => {
    const res = await fetch(`${ours!.base}${U}/create`, {
      method: 'POST',
      headers: { ...headersFor('admin', PASSWORDS), 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bob', password: 'whatever-password-1' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error_code: string; message: string };
    expect(body).toMatchObject({ error_code: 'RESOURCE_ALREADY_EXISTS', message: 'User (username=bob) already exists.' });
    expect(JSON.stringify(body)).not.toMatch(/scrypt|pbkdf2|INSERT|password_hash/i);
  });
});

describe('auth API with authentication off', () => {
  it('answers 404 ENDPOINT_NOT_FOUND for every auth operation, as mlflow server without the basic-auth app', async () => {
    const h = authHandlers(undefined);
    const ids = Object.keys(h);
    expect(ids.length).toBe(25);
    for (const id of ids) {
      const op = operations[id as OperationId];
      const c = { req: { method: op.method, url: `http://x${op.path}` } } as never;
      const res = (await h[id as keyof typeof h]({} as never, c)) as Response;
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error_code: 'ENDPOINT_NOT_FOUND' });
    }
  });
});
