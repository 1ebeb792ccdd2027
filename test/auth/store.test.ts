import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../packages/server/src/store/db.js';
import { AuthStore, syntheticRoleName } from '../../packages/server/src/auth/store.js';
import { bootstrapAdmin, BootstrapError } from '../../packages/server/src/auth/bootstrap.js';
import { authSchemaOwner, MLFLOW_AUTH_HEAD } from '../../packages/server/src/auth/migrations.js';
import { hashPassword } from '../../packages/server/src/auth/passwords.js';
import { DEFAULT_POLICY, RESOURCE_TYPE } from '../../packages/server/src/auth/permissions.js';
import { modelVersionsReadableSql, registeredModelsReadableSql, rowReadable } from '../../packages/server/src/auth/search-filter.js';
import { MlflowError } from '../../packages/server/src/errors.js';
import { backends } from '../helpers/server.js';
import { applyAuthMigrations, openAuthTestDb } from './db.js';

const PW = 'a-strong-password';
const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return `${(e as MlflowError).errorCode}: ${(e as Error).message}`;
  }
  return 'ok';
};

describe.each(backends())('AuthStore on %s', (backend) => {
  let db: Database;
  let store: AuthStore;
  beforeAll(async () => {
    db = await openAuthTestDb(backend);
    store = new AuthStore(db);
  });
  afterAll(async () => db?.close());

  it('migrates once, stamped at MLflow 3.17.2’s auth head, and owns its tables', async () => {
    expect(await applyAuthMigrations(db)).toEqual([]);
    expect(await db.query('SELECT version_num FROM alembic_version_auth')).toEqual([{ version_num: MLFLOW_AUTH_HEAD }]);
    expect(await authSchemaOwner((s, p) => db.query(s, p))).toBe('ours');
  });

  it('users: create, get, list, password and admin updates, MLflow’s messages and validation', async () => {
    const u = await store.createUser('alice', PW);
    expect(u).toEqual({ id: expect.any(Number), username: 'alice', isAdmin: false });
    const [row] = await db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [u.id]);
    expect(row!.password_hash).toMatch(/^scrypt:32768:8:1\$/);
    expect(await code(store.createUser('alice', PW))).toBe('RESOURCE_ALREADY_EXISTS: User (username=alice) already exists.');
    expect(await code(store.createUser('', PW))).toBe('INVALID_PARAMETER_VALUE: Username cannot be empty.');
    expect(await code(store.createUser('bob', 'a'.repeat(11)))).toBe('INVALID_PARAMETER_VALUE: Password must be at least 12 characters.');
    // Python's len() counts code points: 11 emoji are 22 UTF-16 units and still too short.
    expect(await code(store.createUser('bob', '🔑'.repeat(11)))).toMatch(/^INVALID_PARAMETER_VALUE/);
    expect(await code(store.getUser('nobody'))).toBe('RESOURCE_DOES_NOT_EXIST: User with username=nobody not found');
    expect(await store.verifyCredentials('alice', PW)).toEqual(u);
    expect(await store.verifyCredentials('alice', `${PW}x`)).toBeUndefined();
    expect(await store.verifyCredentials('nobody', PW)).toBeUndefined();
    await store.updatePassword('alice', 'another-strong-pw');
    expect(await store.verifyCredentials('alice', PW)).toBeUndefined();
    expect(await store.verifyCredentials('alice', 'another-strong-pw')).toMatchObject({ username: 'alice' });
    expect((await store.updateAdmin('alice', true)).isAdmin).toBe(true);
    await store.updateAdmin('alice', false);
    expect((await store.listUsers()).map((x) => x.username)).toContain('alice');
  });

  it('refuses the legacy default password on an admin account', async () => {
    await db.query('INSERT INTO users (username, password_hash, is_admin) VALUES ($1, $2, true)', ['legacy', await hashPassword('password1234')]);
    expect(await store.verifyCredentials('legacy', 'password1234')).toBeUndefined();
    await store.updateAdmin('legacy', false);
    expect(await store.verifyCredentials('legacy', 'password1234')).toMatchObject({ username: 'legacy' });
  });

  it('roles: CRUD, reserved prefix, permissions validated, assignments', async () => {
    const r = await store.createRole('readers', 'default', 'can read');
    expect(r).toMatchObject({ name: 'readers', workspace: 'default', description: 'can read', permissions: [] });
    expect(await code(store.createRole('readers', 'default'))).toBe('RESOURCE_ALREADY_EXISTS: Role (name=readers, workspace=default) already exists.');
    expect(await code(store.createRole('__user_x', 'default'))).toMatch(/reserved '__user_' prefix/);
    const p = await store.addRolePermission(r.id, 'registered_model', '*', 'READ');
    expect(await code(store.addRolePermission(r.id, 'registered_model', '*', 'EDIT'))).toBe(
      'RESOURCE_ALREADY_EXISTS: Role permission (role_id=' + r.id + ', resource_type=registered_model, resource_pattern=*) already exists.',
    );
    expect(await code(store.addRolePermission(r.id, 'workspace', '*', 'READ'))).toMatch(/Workspace-wide grants accept only/);
    expect(await code(store.addRolePermission(r.id, 'registered_model_version', 'm', 'READ'))).toMatch(/supports only wildcard/);
    expect((await store.updateRolePermission(p.id, 'EDIT')).permission).toBe('EDIT');
    expect((await store.getRole(r.id)).permissions).toEqual([{ ...p, permission: 'EDIT' }]);
    const other = await store.createRole('other', 'default');
    expect(await code(store.updateRole(other.id, { name: 'readers' }))).toBe('RESOURCE_ALREADY_EXISTS: Role with name=readers already exists in workspace=default');
    expect((await store.updateRole(other.id, { name: 'renamed', description: 'd' })).name).toBe('renamed');
    const carol = await store.createUser('carol', PW);
    await store.assignRoleToUser(carol.id, r.id);
    expect(await code(store.assignRoleToUser(carol.id, r.id))).toBe(`RESOURCE_ALREADY_EXISTS: User role assignment (user_id=${carol.id}, role_id=${r.id}) already exists`);
    expect(await code(store.assignRoleToUser(999_999, r.id))).toBe('RESOURCE_DOES_NOT_EXIST: User with id=999999 not found');
    expect((await store.listUserRoles(carol.id)).map((x) => x.name)).toEqual(['readers']);
    expect((await store.listRoleUsers(r.id)).map((x) => x.userId)).toEqual([carol.id]);
    expect((await store.listRoles(['default'])).map((x) => x.name)).toEqual(expect.arrayContaining(['readers', 'renamed']));
    expect(await store.listRoles([])).toEqual([]);
    await store.deleteRole(other.id);
    expect(await code(store.getRole(other.id))).toBe(`RESOURCE_DOES_NOT_EXIST: Role with id=${other.id} not found`);
    await store.unassignRoleFromUser(carol.id, r.id);
    expect(await code(store.unassignRoleFromUser(carol.id, r.id))).toMatch(/^RESOURCE_DOES_NOT_EXIST/);
  });

  it('per-user grants live on the synthetic role; rename and delete follow the model', async () => {
    await store.createUser('dave', PW);
    await store.grantUserPermission('dave', 'registered_model', 'm1', 'MANAGE', 'default');
    await store.grantUserPermission('dave', 'registered_model', 'm1', 'EDIT', 'default'); // upsert
    expect(await code(store.grantUserResourcePermission('dave', 'registered_model', 'm1', 'READ', 'default'))).toBe(
      'RESOURCE_ALREADY_EXISTS: Permission for user=dave on resource_type=registered_model, resource_id=m1 already exists.',
    );
    await store.grantUserResourcePermission('dave', 'prompt', 'p1', 'READ', 'default');
    expect(await code(store.grantUserResourcePermission('dave', 'workspace', '*', 'USE', 'default'))).toMatch(/not supported by the per-user permission/);
    const dave = await store.getUser('dave');
    expect((await store.listUserRoles(dave.id)).map((r) => r.name)).toEqual([syntheticRoleName(dave.id)]);
    expect(await store.listUserGrants('dave')).toEqual([
      { workspace: 'default', resourceType: 'registered_model', resourcePattern: 'm1', permission: 'EDIT' },
      { workspace: 'default', resourceType: 'prompt', resourcePattern: 'p1', permission: 'READ' },
    ]);
    await store.renameGrantsForResource('registered_model', 'm1', 'm2', 'default');
    expect(await store.effectivePermission('dave', 'registered_model', 'm2', 'default')).toMatchObject({ name: 'EDIT' });
    await store.deleteGrantsForResource('registered_model', 'm2', 'default');
    expect(await store.effectivePermission('dave', 'registered_model', 'm2', 'default')).toMatchObject({ name: 'READ' }); // default_permission
    await store.revokeUserResourcePermission('dave', 'prompt', 'p1', 'default');
    expect(await code(store.revokeUserResourcePermission('dave', 'prompt', 'p1', 'default'))).toBe(
      'RESOURCE_DOES_NOT_EXIST: Permission for user=dave on resource_type=prompt, resource_id=p1 not found.',
    );
    await store.setWorkspacePermission('default', 'dave', 'MANAGE');
    expect(await store.isWorkspaceAdmin(dave.id, 'default')).toBe(true);
    await store.deleteWorkspacePermission('default', 'dave');
    expect(await store.isWorkspaceAdmin(dave.id, 'default')).toBe(false);
  });

  it('effectivePermission: creator MANAGE, roles, DENY, floor, super admin — one statement', async () => {
    const erin = await store.createUser('erin', PW);
    const role = await store.createRole('no-secret', 'default');
    await store.addRolePermission(role.id, 'registered_model', 'secret', 'DENY');
    await store.addRolePermission(role.id, 'registered_model', '*', 'EDIT');
    await store.assignRoleToUser(erin.id, role.id);
    await store.grantUserPermission('erin', 'registered_model', 'mine', 'MANAGE', 'default');
    expect((await store.effectivePermission('erin', 'registered_model', 'mine', 'default')).name).toBe('MANAGE');
    expect((await store.effectivePermission('erin', 'registered_model', 'other', 'default')).name).toBe('EDIT');
    expect((await store.effectivePermission('erin', 'registered_model', 'secret', 'default')).name).toBe('DENY');
    expect((await store.effectivePermission('erin', 'registered_model', 'other', 'team')).name).toBe('READ'); // no role there: default
    expect((await store.effectivePermission('nobody', 'registered_model', 'x', 'default')).name).toBe('NO_PERMISSIONS');
    await store.updateAdmin('erin', true);
    expect((await store.effectivePermission('erin', 'registered_model', 'secret', 'default')).name).toBe('MANAGE');
    await store.updateAdmin('erin', false);
    const strict = new AuthStore(db, { ...DEFAULT_POLICY, defaultPermission: 'NO_PERMISSIONS', workspacesEnabled: true });
    expect((await strict.effectivePermission('erin', 'registered_model', 'other', 'team')).name).toBe('NO_PERMISSIONS');
  });

  it('registryAccess classifies prompts by their tag in the same statement', async () => {
    const frank = await store.createUser('frank', PW);
    await db.query(`INSERT INTO registered_models (workspace, name, creation_time, last_updated_time) VALUES ('default', 'ra-model', 1, 1), ('default', 'ra-prompt', 1, 1)`);
    await db.query(`INSERT INTO registered_model_tags (workspace, name, key, value) VALUES ('default', 'ra-prompt', 'mlflow.prompt.is_prompt', 'TRUE')`);
    await store.grantUserPermission('frank', 'prompt', 'ra-prompt', 'EDIT', 'default');
    await store.grantUserPermission('frank', 'registered_model_version', '*', 'DENY', 'default');
    const p = await store.registryAccess(frank.id, 'default', 'ra-prompt');
    expect(p).toMatchObject({ exists: true, resourceType: 'prompt', versionType: 'prompt_version' });
    expect(p.permission.name).toBe('EDIT');
    const m = await store.registryAccess(frank.id, 'default', 'ra-model');
    expect(m).toMatchObject({ exists: true, resourceType: 'registered_model' });
    expect(m.permission.name).toBe('READ');
    // Reading a version: container READ and the version tier not denied.
    const readVersion = [
      { resourceType: 'registered_model', resourceId: 'ra-model', action: 'read' as const },
      { resourceType: 'registered_model_version', resourceId: '*', action: 'not_denied' as const },
    ];
    expect(m.authorize(readVersion)).toBe(false);
    const missing = await store.registryAccess(frank.id, 'default', 'nope');
    expect(missing).toMatchObject({ exists: false, resourceType: 'registered_model' });
  });

  it('search filter in SQL returns exactly the readable models and versions (240 models, mixed grants)', async () => {
    const names = Array.from({ length: 240 }, (_, i) => `sf-${String(i).padStart(3, '0')}`);
    const isPrompt = (i: number) => i % 7 === 0;
    await db.query(
      `INSERT INTO registered_models (workspace, name, creation_time, last_updated_time) SELECT 'default', n, 1, 1 FROM unnest($1::text[]) n`,
      [names],
    );
    await db.query(
      `INSERT INTO registered_model_tags (workspace, name, key, value) SELECT 'default', n, 'mlflow.prompt.is_prompt', 'true' FROM unnest($1::text[]) n`,
      [names.filter((_, i) => isPrompt(i))],
    );
    await db.query(
      `INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time, current_stage, status) SELECT 'default', n, 1, 1, 1, 'None', 'READY' FROM unnest($1::text[]) n`,
      [names],
    );
    await db.query(
      `INSERT INTO model_version_tags (workspace, name, version, key, value) SELECT 'default', n, 1, 'mlflow.prompt.is_prompt', 'true' FROM unnest($1::text[]) n`,
      [names.filter((_, i) => isPrompt(i))],
    );
    // Users with different shapes of grants.
    const setups: Record<string, (u: string, id: number) => Promise<void>> = {
      plain: async () => {},
      denyAll: async (u) => store.grantUserPermission(u, 'registered_model', '*', 'DENY', 'default'),
      someDenied: async (u) => {
        for (const n of names.slice(0, 30)) await store.grantUserPermission(u, 'registered_model', n, 'DENY', 'default');
      },
      promptsOnlyListed: async (u) => {
        await store.grantUserPermission(u, 'registered_model', '*', 'DENY', 'default');
        await store.grantUserPermission(u, 'registered_model_version', '*', 'DENY', 'default');
      },
      wsAdmin: async (u) => store.setWorkspacePermission('default', u, 'MANAGE'),
      roleMixed: async (_u, id) => {
        const role = await store.createRole(`mixed-${id}`, 'default');
        await store.addRolePermission(role.id, 'prompt', '*', 'DENY');
        await store.addRolePermission(role.id, 'registered_model', names[1]!, 'DENY');
        await store.assignRoleToUser(id, role.id);
        await store.grantUserPermission(`sf-roleMixed`, 'registered_model', names[2]!, 'MANAGE', 'default');
      },
    };
    const strict = new AuthStore(db, { ...DEFAULT_POLICY, defaultPermission: 'NO_PERMISSIONS' });
    for (const [label, setup] of Object.entries(setups)) {
      const u = await store.createUser(`sf-${label}`, PW);
      await setup(u.username, u.id);
      if (label === 'plain') await store.grantUserPermission(u.username, 'registered_model', names[3]!, 'READ', 'default');
      for (const s of [store, strict]) {
        const d = await s.readDecision(u, 'default');
        const params: unknown[] = ['default', 'sf-%'];
        const where = registeredModelsReadableSql(d, { workspace: 'rm.workspace', name: 'rm.name' }, params);
        const got = (await db.query<{ name: string }>(`SELECT rm.name FROM registered_models rm WHERE rm.workspace = $1 AND rm.name LIKE $2 AND ${where} ORDER BY rm.name`, params)).map((r) => r.name);
        const want = names.filter((n, i) => rowReadable(d, n, isPrompt(i)));
        expect(got, `${label} models`).toEqual(want);
        // The SQL decision is the point decision of each row.
        for (const [i, n] of names.entries()) {
          const type = isPrompt(i) ? RESOURCE_TYPE.PROMPT : RESOURCE_TYPE.REGISTERED_MODEL;
          const access = await s.accessForResource(u.username, type, n, 'default');
          const point = (await s.effectivePermission(u.username, type, n, 'default')).canRead;
          // Listing falls back to the workspace tier (MLflow lists with workspace USE but a point read needs a grant).
          if (!access!.grants.some((g) => g.resourceType === 'workspace')) expect(want.includes(n), `${label} ${n}`).toBe(point);
          if (i > 20) break;
        }
        const vparams: unknown[] = ['default'];
        const vwhere = modelVersionsReadableSql(d, { workspace: 'mv.workspace', name: 'mv.name', version: 'mv.version' }, vparams);
        const gotV = (await db.query<{ name: string }>(`SELECT mv.name FROM model_versions mv WHERE mv.workspace = $1 AND ${vwhere} ORDER BY mv.name`, vparams)).map((r) => r.name);
        expect(gotV, `${label} versions`).toEqual(names.filter((n, i) => rowReadable(d, n, isPrompt(i), true)));
      }
    }
  });

  it('deleteUser removes the user, its synthetic roles, assignments and legacy rows', async () => {
    const g = await store.createUser('gina', PW);
    await store.grantUserPermission('gina', 'registered_model', 'x', 'EDIT', 'default');
    await store.grantUserPermission('gina', 'registered_model', 'x', 'EDIT', 'team');
    const role = await store.createRole('shared', 'default');
    await store.assignRoleToUser(g.id, role.id);
    await db.query(`INSERT INTO registered_model_permissions (name, user_id, permission) VALUES ('x', $1, 'READ')`, [g.id]);
    await store.deleteUser('gina');
    expect(await store.findUser('gina')).toBeUndefined();
    expect(await db.query('SELECT 1 FROM roles WHERE name = $1', [syntheticRoleName(g.id)])).toEqual([]);
    expect(await db.query('SELECT 1 FROM user_role_assignments WHERE user_id = $1', [g.id])).toEqual([]);
    expect(await db.query('SELECT 1 FROM registered_model_permissions WHERE user_id = $1', [g.id])).toEqual([]);
    expect((await store.getRole(role.id)).name).toBe('shared');
    expect(await code(store.deleteUser('gina'))).toBe('RESOURCE_DOES_NOT_EXIST: User with username=gina not found');
  });

  it('bootstraps the admin once, from a valid password only, across concurrent starts', async () => {
    await expect(bootstrapAdmin(db, { username: 'root', password: undefined })).rejects.toThrow(BootstrapError);
    await expect(bootstrapAdmin(db, { username: 'root', password: 'short' })).rejects.toThrow(/at least 12 characters/);
    await expect(bootstrapAdmin(db, { username: 'root', password: 'password1234' })).rejects.toThrow(/insecure default password/);
    await expect(bootstrapAdmin(db, { username: '', password: PW })).rejects.toThrow(/needs a username/);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => bootstrapAdmin(db, { username: 'root', password: PW })));
    expect(outcomes.filter((o) => o === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'exists')).toHaveLength(3);
    expect(await store.verifyCredentials('root', PW)).toMatchObject({ username: 'root', isAdmin: true });
    // Existing admin: the configured password is ignored (even an invalid one)…
    expect(await bootstrapAdmin(db, { username: 'root', password: 'other-password-1' })).toBe('exists');
    expect(await bootstrapAdmin(db, { username: 'root', password: undefined })).toBe('exists');
    // …unless it still has the legacy default password, which the configured one replaces.
    await db.query('UPDATE users SET password_hash = $1 WHERE username = $2', [await hashPassword('password1234'), 'root']);
    expect(await bootstrapAdmin(db, { username: 'root', password: 'rotated-password-1' })).toBe('rotated');
    expect(await store.verifyCredentials('root', 'rotated-password-1')).toMatchObject({ isAdmin: true });
  });
});
