/**
 * AuthStore: users, roles, role permissions, role assignments and per-user grants over MLflow 3.17.2's
 * auth tables (auth/schema.ts), with MLflow's semantics and messages (mlflow/server/auth/sqlalchemy_store.py):
 *
 * - Per-user grants live as role_permissions rows of a hidden role `__user_<id>__` in each workspace the
 *   user has grants in, to which the user is assigned; the `__user_` prefix is reserved for it.
 * - Every mutation is one transaction. Duplicates are RESOURCE_ALREADY_EXISTS, missing rows
 *   RESOURCE_DOES_NOT_EXIST, bad values INVALID_PARAMETER_VALUE, as in MLflow.
 * - Documented difference: MLflow's duplicate-user and duplicate-role messages append SQLAlchemy's error
 *   (with the new user's password hash); these end at "already exists.".
 *
 * Reads that decide a request are one round trip each: `accessForResource` (user + grants),
 * `registryAccess` (grants + whether the model exists and is a prompt), `grantsFor` (a user's grants in a
 * workspace, for search filters), `allGrantsIn` (what the decision cache keeps, auth/grant-cache.ts).
 * Every write that can change a decision goes through `write`/`writeIn`, which tell the decision caches
 * (auth/changes.ts): announced in its transaction, dropped here once it has committed.
 */
import { MlflowError } from '../errors.js';
import type { Executor } from '../store/db.js';
import { authChangesOf, type AuthChanges } from './changes.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { readDecision, type ReadDecision } from './search-filter.js';
import {
  authorize,
  DEFAULT_POLICY,
  getPermission,
  MANAGE,
  RESOURCE_TYPE,
  resourcePermission,
  validatePermissionForResourceType,
  validateResourcePattern,
  validateResourceType,
  type Grant,
  type Permission,
  type PermissionPolicy,
  type Requirement,
} from './permissions.js';

/** A user as the API shows it (MLflow's User.to_json): never the password hash. */
export interface AuthUser {
  id: number;
  username: string;
  isAdmin: boolean;
}

export interface RolePermissionRow {
  id: number;
  roleId: number;
  resourceType: string;
  resourcePattern: string;
  permission: string;
}

export interface Role {
  id: number;
  name: string;
  workspace: string;
  description: string | null;
  permissions: RolePermissionRow[];
}

export interface UserRoleAssignment {
  id: number;
  userId: number;
  roleId: number;
}

/** A per-user grant (a row of the user's synthetic role), with the workspace it lives in. */
export interface UserGrant {
  workspace: string;
  resourceType: string;
  resourcePattern: string;
  permission: string;
}

/** What the transaction runner must provide: store/db.ts `Database` satisfies it. */
export interface AuthDatabase extends Executor {
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
}

export const SYNTHETIC_ROLE_PREFIX = '__user_';
const SYNTHETIC_ROLE_RE = /^__user_\d+__$/;
export const syntheticRoleName = (userId: number) => `${SYNTHETIC_ROLE_PREFIX}${userId}__`;
export const isSyntheticRoleName = (name: string | null | undefined) => typeof name === 'string' && SYNTHETIC_ROLE_RE.test(name);

/** MLflow's minimum password length (mlflow/utils/validation.py _validate_password), in code points as Python's len(). */
export const MIN_PASSWORD_LENGTH = 12;
/** The admin password older MLflow versions shipped in basic_auth.ini (GHSA-gq3w-7jj3-x7gr): never accepted for an admin. */
export const LEGACY_DEFAULT_ADMIN_PASSWORD = 'password1234';

/** The tables MLflow 3.17 keeps from before RBAC and scrubs a deleted user's rows from (their FKs do not cascade). */
const RETAINED_LEGACY_PERMISSION_TABLES = [
  'experiment_permissions',
  'registered_model_permissions',
  'scorer_permissions',
  'gateway_secret_permissions',
  'gateway_endpoint_permissions',
  'gateway_model_definition_permissions',
  'workspace_permissions',
] as const;

export function validateUsername(username: unknown): asserts username is string {
  if (typeof username !== 'string' || username === '') throw new MlflowError('INVALID_PARAMETER_VALUE', 'Username cannot be empty.');
}

export function validatePassword(password: unknown): asserts password is string {
  if (typeof password !== 'string' || [...password].length < MIN_PASSWORD_LENGTH) {
    throw new MlflowError('INVALID_PARAMETER_VALUE', `Password must be at least ${MIN_PASSWORD_LENGTH} characters.`);
  }
}

const isUniqueViolation = (err: unknown) =>
  err instanceof MlflowError ? err.errorCode === 'RESOURCE_ALREADY_EXISTS' : (err as { code?: string })?.code === '23505';

interface UserRow {
  id: number;
  username: string;
  password_hash: string | null;
  is_admin: boolean | null;
}
const toUser = (r: Pick<UserRow, 'id' | 'username' | 'is_admin'>): AuthUser => ({ id: r.id, username: r.username, isAdmin: r.is_admin === true });

interface RoleRow {
  id: number;
  name: string;
  workspace: string;
  description: string | null;
  permissions: { id: number; role_id: number; resource_type: string; resource_pattern: string; permission: string }[] | null;
}
const toRole = (r: RoleRow): Role => ({
  id: r.id,
  name: r.name,
  workspace: r.workspace,
  description: r.description,
  permissions: (r.permissions ?? []).map((p) => ({ id: p.id, roleId: p.role_id, resourceType: p.resource_type, resourcePattern: p.resource_pattern, permission: p.permission })),
});

/** Roles with their permissions (ordered by id) in one statement; `where` filters `r`. */
const ROLE_SELECT = `
  SELECT r.id, r.name, r.workspace, r.description,
         (SELECT json_agg(json_build_object('id', p.id, 'role_id', p.role_id, 'resource_type', p.resource_type,
                                            'resource_pattern', p.resource_pattern, 'permission', p.permission) ORDER BY p.id)
            FROM role_permissions p WHERE p.role_id = r.id) AS permissions
    FROM roles r`;

/** The grants of user `$1` in workspace `$2` whose type is in `$3` (text[]), plus the workspace-wide ones. */
const GRANTS_SQL = `
  SELECT rp.resource_type, rp.resource_pattern, rp.permission
    FROM user_role_assignments ura
    JOIN roles r ON r.id = ura.role_id
    JOIN role_permissions rp ON rp.role_id = r.id
   WHERE ura.user_id = $1 AND r.workspace = $2
     AND (rp.resource_type = ANY($3::text[]) OR rp.resource_type = 'workspace')`;

type GrantRow = { resource_type: string; resource_pattern: string; permission: string };
const toGrant = (r: GrantRow): Grant => ({ resourceType: r.resource_type, resourcePattern: r.resource_pattern, permission: r.permission });

/** The outcome of `registryAccess`: enough to decide any registry operation on one model name. */
export interface RegistryAccess {
  /** Whether the registered model (or prompt) exists in the workspace. */
  exists: boolean;
  /** 'prompt' when the model carries mlflow.prompt.is_prompt = true (case-insensitive), else 'registered_model'. */
  resourceType: 'registered_model' | 'prompt';
  /** The version tier matching resourceType. */
  versionType: 'registered_model_version' | 'prompt_version';
  /** The user's grants in the workspace on the model (its name or "*"), its version tier and the workspace. */
  grants: Grant[];
  /** MLflow's point permission on the model (`_get_permission_from_registered_model_or_prompt_name`). */
  permission: Permission;
  /** `authorize` over these grants, in the model's workspace (denied when the model does not exist and workspaces are on). */
  authorize(requirements: readonly Requirement[]): boolean;
}

export class AuthStore {
  constructor(
    private readonly db: AuthDatabase,
    private readonly policy: PermissionPolicy = DEFAULT_POLICY,
    /** Announces every write that can change a decision (auth/changes.ts), for the decision caches. */
    readonly changes: AuthChanges = authChangesOf(db),
  ) {}

  /**
   * A write that can change a decision, in its own transaction: announced in it, dropped from this
   * process's caches once committed. `user`: the user whose password, admin flag or existence it
   * changes (the other replicas drop their cached credentials of that user too).
   */
  private async write<T>(fn: (tx: Executor) => Promise<T>, user?: string): Promise<T> {
    try {
      return await this.db.transaction(async (tx) => {
        const result = await fn(tx);
        await this.changes.announceIn(tx, user === undefined ? undefined : { user });
        return result;
      });
    } finally {
      this.changes.changed();
    }
  }

  /** `write` in the caller's transaction `tx` when there is one (the registry's grant effects). */
  private async writeIn<T>(tx: Executor | undefined, fn: (tx: Executor) => Promise<T>): Promise<T> {
    if (!tx) return this.write(fn);
    const result = await fn(tx);
    await this.changes.inTransaction(tx);
    return result;
  }

  // ---------------------------------------------------------------- users

  /** create_user: validates like MLflow (non-empty username, password ≥ 12 characters), stores a werkzeug scrypt hash. */
  async createUser(username: string, password: string, isAdmin = false): Promise<AuthUser> {
    validateUsername(username);
    validatePassword(password);
    const hash = await hashPassword(password);
    try {
      const [row] = await this.db.query<UserRow>(
        'INSERT INTO users (username, password_hash, is_admin) VALUES ($1, $2, $3) RETURNING id, username, is_admin',
        [username, hash, isAdmin],
      );
      return toUser(row!);
    } catch (err) {
      if (isUniqueViolation(err)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `User (username=${username}) already exists.`);
      throw err;
    }
  }

  /** The user, or undefined. */
  async findUser(username: string): Promise<AuthUser | undefined> {
    const [row] = await this.db.query<UserRow>('SELECT id, username, is_admin FROM users WHERE username = $1', [username], 'auth_find_user');
    return row ? toUser(row) : undefined;
  }

  /** get_user: RESOURCE_DOES_NOT_EXIST "User with username=… not found". */
  async getUser(username: string): Promise<AuthUser> {
    const u = await this.findUser(username);
    if (!u) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${username} not found`);
    return u;
  }

  async findUserById(id: number): Promise<AuthUser | undefined> {
    const [row] = await this.db.query<UserRow>('SELECT id, username, is_admin FROM users WHERE id = $1', [id]);
    return row ? toUser(row) : undefined;
  }

  async hasUser(username: string): Promise<boolean> {
    return (await this.findUser(username)) !== undefined;
  }

  async listUsers(): Promise<AuthUser[]> {
    return (await this.db.query<UserRow>('SELECT id, username, is_admin FROM users ORDER BY id')).map(toUser);
  }

  /** list_users_with_roles: every user with the roles assigned to them (with their permissions), in two statements. */
  async listUsersWithRoles(): Promise<{ user: AuthUser; roles: Role[] }[]> {
    const users = await this.listUsers();
    const rows = await this.db.query<RoleRow & { user_id: number }>(
      `SELECT ura.user_id, x.* FROM user_role_assignments ura JOIN (${ROLE_SELECT}) x ON x.id = ura.role_id ORDER BY ura.user_id, ura.id`,
    );
    const byUser = new Map<number, Role[]>();
    for (const r of rows) {
      const list = byUser.get(r.user_id) ?? [];
      list.push(toRole(r));
      byUser.set(r.user_id, list);
    }
    return users.map((user) => ({ user, roles: byUser.get(user.id) ?? [] }));
  }

  /**
   * Checks a username and password (authenticate_user plus MLflow's refusal of the legacy default password
   * on an admin account). Unknown users cost a verification too, so that timing does not reveal which
   * usernames exist. Use credentials.ts `Authenticator` in front of it for the cache.
   */
  async verifyCredentials(username: string, password: string): Promise<AuthUser | undefined> {
    const [row] = await this.db.query<UserRow>(
      'SELECT id, username, password_hash, is_admin FROM users WHERE username = $1',
      [username],
      'auth_verify_user',
    );
    if (!row) {
      await verifyPassword(DUMMY_HASH, password);
      return undefined;
    }
    if (!(await verifyPassword(row.password_hash, password))) return undefined;
    if (row.is_admin === true && password === LEGACY_DEFAULT_ADMIN_PASSWORD) return undefined;
    return toUser(row);
  }

  /** update_user(password=…): validates and rehashes. RESOURCE_DOES_NOT_EXIST for an unknown user. */
  async updatePassword(username: string, password: string): Promise<AuthUser> {
    await this.getUser(username);
    validatePassword(password);
    const hash = await hashPassword(password);
    const [row] = await this.write(
      (tx) => tx.query<UserRow>('UPDATE users SET password_hash = $2 WHERE username = $1 RETURNING id, username, is_admin', [username, hash]),
      username,
    );
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${username} not found`);
    return toUser(row);
  }

  /** update_user(is_admin=…). */
  async updateAdmin(username: string, isAdmin: boolean): Promise<AuthUser> {
    const [row] = await this.write(
      (tx) => tx.query<UserRow>('UPDATE users SET is_admin = $2 WHERE username = $1 RETURNING id, username, is_admin', [username, isAdmin]),
      username,
    );
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${username} not found`);
    return toUser(row);
  }

  /**
   * delete_user: in one transaction, the user's synthetic roles (with their grants and assignments), the
   * user's rows in MLflow's retained pre-RBAC tables, the user's other role assignments, then the user.
   */
  async deleteUser(username: string): Promise<AuthUser> {
    return this.write(async (tx) => {
      const [u] = await tx.query<UserRow>('SELECT id, username, is_admin FROM users WHERE username = $1 FOR UPDATE', [username]);
      if (!u) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${username} not found`);
      const synthetic = syntheticRoleName(u.id);
      await tx.query('DELETE FROM role_permissions WHERE role_id IN (SELECT id FROM roles WHERE name = $1)', [synthetic]);
      await tx.query('DELETE FROM user_role_assignments WHERE role_id IN (SELECT id FROM roles WHERE name = $1) OR user_id = $2', [synthetic, u.id]);
      await tx.query('DELETE FROM roles WHERE name = $1', [synthetic]);
      const present = await tx.query<{ t: string }>(
        `SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass('public.' || t) IS NOT NULL`,
        [RETAINED_LEGACY_PERMISSION_TABLES],
      );
      for (const { t } of present) {
        if ((RETAINED_LEGACY_PERMISSION_TABLES as readonly string[]).includes(t)) await tx.query(`DELETE FROM ${t} WHERE user_id = $1`, [u.id]);
      }
      await tx.query('DELETE FROM users WHERE id = $1', [u.id]);
      return toUser(u);
    }, username);
  }

  // ---------------------------------------------------------------- roles

  private static rejectSyntheticRoleName(name: string): void {
    if (name.startsWith(SYNTHETIC_ROLE_PREFIX)) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Role name '${name}' uses the reserved '__user_' prefix, which is held for the per-user permission representation. Choose a different name.`,
      );
    }
  }

  async createRole(name: string, workspace: string, description: string | null = null): Promise<Role> {
    AuthStore.rejectSyntheticRoleName(name);
    try {
      const [row] = await this.db.query<RoleRow>('INSERT INTO roles (name, workspace, description) VALUES ($1, $2, $3) RETURNING id, name, workspace, description', [
        name,
        workspace,
        description,
      ]);
      return toRole({ ...row!, permissions: [] });
    } catch (err) {
      if (isUniqueViolation(err)) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Role (name=${name}, workspace=${workspace}) already exists.`);
      throw err;
    }
  }

  async getRole(roleId: number): Promise<Role> {
    const [row] = await this.db.query<RoleRow>(`${ROLE_SELECT} WHERE r.id = $1`, [roleId]);
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role with id=${roleId} not found`);
    return toRole(row);
  }

  async getRoleByName(workspace: string, name: string): Promise<Role> {
    const [row] = await this.db.query<RoleRow>(`${ROLE_SELECT} WHERE r.workspace = $1 AND r.name = $2`, [workspace, name]);
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role with name=${name} in workspace=${workspace} not found`);
    return toRole(row);
  }

  /** list_roles: every role (undefined) or those of the given workspaces (an empty list gives none). */
  async listRoles(workspaces?: readonly string[]): Promise<Role[]> {
    if (workspaces === undefined) return (await this.db.query<RoleRow>(`${ROLE_SELECT} ORDER BY r.id`)).map(toRole);
    if (workspaces.length === 0) return [];
    return (await this.db.query<RoleRow>(`${ROLE_SELECT} WHERE r.workspace = ANY($1::text[]) ORDER BY r.id`, [workspaces])).map(toRole);
  }

  async updateRole(roleId: number, changes: { name?: string; description?: string }): Promise<Role> {
    if (changes.name !== undefined) AuthStore.rejectSyntheticRoleName(changes.name);
    return this.db.transaction(async (tx) => {
      const [role] = await tx.query<RoleRow>('SELECT id, name, workspace, description FROM roles WHERE id = $1 FOR UPDATE', [roleId]);
      if (!role) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role with id=${roleId} not found`);
      if (changes.name !== undefined) {
        const clash = await tx.query('SELECT 1 FROM roles WHERE workspace = $1 AND name = $2 AND id <> $3', [role.workspace, changes.name, roleId]);
        if (clash.length > 0) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Role with name=${changes.name} already exists in workspace=${role.workspace}`);
        await tx.query('UPDATE roles SET name = $2 WHERE id = $1', [roleId, changes.name]);
      }
      if (changes.description !== undefined) await tx.query('UPDATE roles SET description = $2 WHERE id = $1', [roleId, changes.description]);
      const [row] = await tx.query<RoleRow>(`${ROLE_SELECT} WHERE r.id = $1`, [roleId]);
      return toRole(row!);
    });
  }

  /** delete_role: the role with its permissions and assignments. */
  async deleteRole(roleId: number): Promise<void> {
    await this.write(async (tx) => {
      const [role] = await tx.query('SELECT id FROM roles WHERE id = $1 FOR UPDATE', [roleId]);
      if (!role) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role with id=${roleId} not found`);
      await tx.query('DELETE FROM role_permissions WHERE role_id = $1', [roleId]);
      await tx.query('DELETE FROM user_role_assignments WHERE role_id = $1', [roleId]);
      await tx.query('DELETE FROM roles WHERE id = $1', [roleId]);
    });
  }

  /** delete_roles_for_workspace: every role of the workspace (synthetic ones too), with their rows. */
  async deleteRolesForWorkspace(workspace: string): Promise<void> {
    await this.write(async (tx) => {
      await tx.query('DELETE FROM role_permissions WHERE role_id IN (SELECT id FROM roles WHERE workspace = $1)', [workspace]);
      await tx.query('DELETE FROM user_role_assignments WHERE role_id IN (SELECT id FROM roles WHERE workspace = $1)', [workspace]);
      await tx.query('DELETE FROM roles WHERE workspace = $1', [workspace]);
    });
  }

  // ---------------------------------------------------------------- role permissions

  async addRolePermission(roleId: number, resourceType: string, resourcePattern: string, permission: string): Promise<RolePermissionRow> {
    validatePermissionForResourceType(permission, resourceType);
    validateResourcePattern(resourcePattern, resourceType);
    await this.getRole(roleId);
    try {
      const [row] = await this.write((tx) =>
        tx.query<GrantRow & { id: number; role_id: number }>(
          'INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) VALUES ($1, $2, $3, $4) RETURNING *',
          [roleId, resourceType, resourcePattern, permission],
        ),
      );
      return toRolePermission(row!);
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new MlflowError(
          'RESOURCE_ALREADY_EXISTS',
          `Role permission (role_id=${roleId}, resource_type=${resourceType}, resource_pattern=${resourcePattern}) already exists.`,
        );
      }
      throw err;
    }
  }

  async getRolePermission(id: number): Promise<RolePermissionRow> {
    const [row] = await this.db.query<GrantRow & { id: number; role_id: number }>('SELECT * FROM role_permissions WHERE id = $1', [id]);
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role permission with id=${id} not found`);
    return toRolePermission(row);
  }

  async removeRolePermission(id: number): Promise<void> {
    const rows = await this.write((tx) => tx.query('DELETE FROM role_permissions WHERE id = $1 RETURNING id', [id]));
    if (rows.length === 0) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role permission with id=${id} not found`);
  }

  async listRolePermissions(roleId: number): Promise<RolePermissionRow[]> {
    return (await this.getRole(roleId)).permissions;
  }

  async updateRolePermission(id: number, permission: string): Promise<RolePermissionRow> {
    const current = await this.getRolePermission(id);
    validatePermissionForResourceType(permission, current.resourceType);
    const [row] = await this.write((tx) =>
      tx.query<GrantRow & { id: number; role_id: number }>('UPDATE role_permissions SET permission = $2 WHERE id = $1 RETURNING *', [id, permission]),
    );
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Role permission with id=${id} not found`);
    return toRolePermission(row);
  }

  // ---------------------------------------------------------------- assignments

  async assignRoleToUser(userId: number, roleId: number): Promise<UserRoleAssignment> {
    if (!(await this.findUserById(userId))) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with id=${userId} not found`);
    await this.getRole(roleId);
    const rows = await this.write((tx) =>
      tx.query<{ id: number; user_id: number; role_id: number }>(
        'INSERT INTO user_role_assignments (user_id, role_id) VALUES ($1, $2) ON CONFLICT (user_id, role_id) DO NOTHING RETURNING id, user_id, role_id',
        [userId, roleId],
      ),
    );
    if (rows.length === 0) throw new MlflowError('RESOURCE_ALREADY_EXISTS', `User role assignment (user_id=${userId}, role_id=${roleId}) already exists`);
    return { id: rows[0]!.id, userId: rows[0]!.user_id, roleId: rows[0]!.role_id };
  }

  async unassignRoleFromUser(userId: number, roleId: number): Promise<void> {
    const rows = await this.write((tx) => tx.query('DELETE FROM user_role_assignments WHERE user_id = $1 AND role_id = $2 RETURNING id', [userId, roleId]));
    if (rows.length === 0) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User role assignment (user_id=${userId}, role_id=${roleId}) not found`);
  }

  /**
   * list_accessible_workspace_names: the workspaces of the user's roles, except synthetic
   * (`__user_<id>__`) ones, which count only when their ('workspace', '*') grant can read.
   */
  async listAccessibleWorkspaceNames(userId: number): Promise<Set<string>> {
    const rows = await this.db.query<{ workspace: string }>(
      `SELECT DISTINCT r.workspace FROM roles r JOIN user_role_assignments ura ON ura.role_id = r.id
        WHERE ura.user_id = $1
          AND (r.name !~ '^__user_[0-9]+__$' OR EXISTS (
                SELECT 1 FROM role_permissions p WHERE p.role_id = r.id AND p.resource_type = 'workspace'
                   AND p.resource_pattern = '*' AND p.permission IN ('READ', 'USE', 'EDIT', 'MANAGE')))`,
      [userId],
    );
    return new Set(rows.map((r) => r.workspace));
  }

  /** list_user_roles / list_user_roles_for_workspace (synthetic roles included, as in MLflow). */
  async listUserRoles(userId: number, workspace?: string): Promise<Role[]> {
    const rows = await this.db.query<RoleRow>(
      `${ROLE_SELECT} JOIN user_role_assignments ura ON ura.role_id = r.id WHERE ura.user_id = $1 AND ($2::text IS NULL OR r.workspace = $2) ORDER BY r.id`,
      [userId, workspace ?? null],
    );
    return rows.map(toRole);
  }

  async listRoleUsers(roleId: number): Promise<UserRoleAssignment[]> {
    await this.getRole(roleId);
    const rows = await this.db.query<{ id: number; user_id: number; role_id: number }>('SELECT id, user_id, role_id FROM user_role_assignments WHERE role_id = $1 ORDER BY id', [roleId]);
    return rows.map((r) => ({ id: r.id, userId: r.user_id, roleId: r.role_id }));
  }

  // ---------------------------------------------------------------- per-user grants (synthetic roles)

  /**
   * The user's synthetic role in `workspace`, created (and assigned) if missing, race-free across
   * replicas (ON CONFLICT). Refuses a role of that name assigned to someone else (MLflow's guard).
   */
  private static async syntheticRole(tx: Executor, user: AuthUser, workspace: string): Promise<number> {
    const name = syntheticRoleName(user.id);
    await tx.query('INSERT INTO roles (name, workspace, description) VALUES ($1, $2, NULL) ON CONFLICT (workspace, name) DO NOTHING', [name, workspace]);
    const [role] = await tx.query<{ id: number }>('SELECT id FROM roles WHERE workspace = $1 AND name = $2', [workspace, name]);
    const roleId = role!.id;
    const [other] = await tx.query<{ user_id: number }>('SELECT user_id FROM user_role_assignments WHERE role_id = $1 AND user_id <> $2 LIMIT 1', [roleId, user.id]);
    if (other) {
      throw new MlflowError(
        'INVALID_PARAMETER_VALUE',
        `Role '${name}' in workspace '${workspace}' collides with the reserved '__user_<id>__' synthetic namespace but is already assigned to user_id=${other.user_id}. Rename or delete the conflicting role before granting per-user permissions.`,
      );
    }
    await tx.query('INSERT INTO user_role_assignments (user_id, role_id) VALUES ($1, $2) ON CONFLICT (user_id, role_id) DO NOTHING', [user.id, roleId]);
    return roleId;
  }

  /**
   * grant_user_permission: upsert `permission` on (type, pattern) for the user in `workspace`. This is what
   * the creator of a registered model (or prompt) gets: grantUserPermission(creator, 'registered_model' |
   * 'prompt', name, 'MANAGE', workspace) in the transaction that creates it.
   */
  async grantUserPermission(username: string, resourceType: string, resourcePattern: string, permission: string, workspace: string, tx?: Executor): Promise<void> {
    validateResourcePattern(resourcePattern, resourceType);
    validatePermissionForResourceType(permission, resourceType);
    const run = async (t: Executor) => {
      const user = await this.userIn(t, username);
      const roleId = await AuthStore.syntheticRole(t, user, workspace);
      await t.query(
        `INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) VALUES ($1, $2, $3, $4)
         ON CONFLICT (role_id, resource_type, resource_pattern) DO UPDATE SET permission = EXCLUDED.permission`,
        [roleId, resourceType, resourcePattern, permission],
      );
    };
    await this.writeIn(tx, run);
  }

  /** grant_user_resource_permission: insert only; RESOURCE_ALREADY_EXISTS when the user already has a grant there. */
  async grantUserResourcePermission(username: string, resourceType: string, resourcePattern: string, permission: string, workspace: string): Promise<void> {
    rejectWorkspaceResourceType(resourceType);
    validateResourcePattern(resourcePattern, resourceType);
    validatePermissionForResourceType(permission, resourceType);
    await this.write(async (tx) => {
      const user = await this.userIn(tx, username);
      const roleId = await AuthStore.syntheticRole(tx, user, workspace);
      const rows = await tx.query(
        `INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) VALUES ($1, $2, $3, $4)
         ON CONFLICT (role_id, resource_type, resource_pattern) DO NOTHING RETURNING id`,
        [roleId, resourceType, resourcePattern, permission],
      );
      if (rows.length === 0) {
        throw new MlflowError(
          'RESOURCE_ALREADY_EXISTS',
          `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourcePattern} already exists.`,
        );
      }
    });
  }

  /** revoke_user_resource_permission: RESOURCE_DOES_NOT_EXIST when there is no such grant. */
  async revokeUserResourcePermission(username: string, resourceType: string, resourcePattern: string, workspace: string): Promise<void> {
    rejectWorkspaceResourceType(resourceType);
    validateResourceType(resourceType);
    const user = await this.getUser(username);
    const rows = await this.write((tx) =>
      tx.query(
        `DELETE FROM role_permissions rp USING roles r
          WHERE rp.role_id = r.id AND r.workspace = $1 AND r.name = $2 AND rp.resource_type = $3 AND rp.resource_pattern = $4 RETURNING rp.id`,
        [workspace, syntheticRoleName(user.id), resourceType, resourcePattern],
      ),
    );
    if (rows.length === 0) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Permission for user=${username} on resource_type=${resourceType}, resource_id=${resourcePattern} not found.`);
    }
  }

  /** The user's direct grants (their synthetic roles' rows), in one workspace or all (undefined), optionally of one type. */
  async listUserGrants(username: string, opts: { workspace?: string; resourceType?: string } = {}): Promise<UserGrant[]> {
    const user = await this.getUser(username);
    const rows = await this.db.query<GrantRow & { workspace: string }>(
      `SELECT r.workspace, rp.resource_type, rp.resource_pattern, rp.permission
         FROM roles r JOIN role_permissions rp ON rp.role_id = r.id
        WHERE r.name = $1 AND ($2::text IS NULL OR r.workspace = $2) AND ($3::text IS NULL OR rp.resource_type = $3)
        ORDER BY r.workspace, rp.id`,
      [syntheticRoleName(user.id), opts.workspace ?? null, opts.resourceType ?? null],
    );
    return rows.map((r) => ({ workspace: r.workspace, resourceType: r.resource_type, resourcePattern: r.resource_pattern, permission: r.permission }));
  }

  /** delete_grants_for_resource: every synthetic-role grant on (type, pattern), in one workspace or all. Admin-made roles are untouched. */
  async deleteGrantsForResource(resourceType: string, resourcePattern: string, workspace?: string, tx?: Executor): Promise<void> {
    await this.writeIn(tx, (t) => t.query(
      `DELETE FROM role_permissions rp USING roles r
        WHERE rp.role_id = r.id AND r.name ~ '^__user_[0-9]+__$' AND ($3::text IS NULL OR r.workspace = $3)
          AND rp.resource_type = $1 AND rp.resource_pattern = $2`,
      [resourceType, resourcePattern, workspace ?? null],
    ));
  }

  /**
   * rename_grants_for_resource: synthetic-role grants on (type, old) move to (type, new). A rename of a
   * registered model calls it for 'registered_model' and 'prompt', in the rename's transaction.
   *
   * A user holding grants on both names (one given on a name no model bore yet) cannot have both moved:
   * MLflow's UPDATE then fails on unique_role_resource_perm after the rename has committed (400 with the
   * database error; the model renamed, the grants left on the old name). Here the conflict is found
   * first and refuses the whole rename with 400 BAD_REQUEST, so nothing changes (documented difference).
   */
  async renameGrantsForResource(resourceType: string, oldPattern: string, newPattern: string, workspace?: string, tx?: Executor): Promise<void> {
    await this.writeIn(tx, async (t) => {
      const [conflict] = await t.query<{ workspace: string }>(
        `SELECT r.workspace FROM role_permissions rp JOIN roles r ON r.id = rp.role_id
           JOIN role_permissions taken ON taken.role_id = rp.role_id AND taken.resource_type = rp.resource_type AND taken.resource_pattern = $3
          WHERE r.name ~ '^__user_[0-9]+__$' AND ($4::text IS NULL OR r.workspace = $4)
            AND rp.resource_type = $1 AND rp.resource_pattern = $2 LIMIT 1`,
        [resourceType, oldPattern, newPattern, workspace ?? null],
      );
      if (conflict) {
        throw new MlflowError(
          'BAD_REQUEST',
          `Cannot move the permissions on ${resourceType} '${oldPattern}' to '${newPattern}': a user holds permissions on both. Revoke the permission on '${newPattern}' first.`,
        );
      }
      await t.query(
        `UPDATE role_permissions rp SET resource_pattern = $3 FROM roles r
          WHERE rp.role_id = r.id AND r.name ~ '^__user_[0-9]+__$' AND ($4::text IS NULL OR r.workspace = $4)
            AND rp.resource_type = $1 AND rp.resource_pattern = $2`,
        [resourceType, oldPattern, newPattern, workspace ?? null],
      );
    });
  }

  /** set_workspace_permission: the user's direct workspace-wide grant (USE or MANAGE), upserted. */
  async setWorkspacePermission(workspace: string, username: string, permission: string): Promise<void> {
    validatePermissionForResourceType(permission, RESOURCE_TYPE.WORKSPACE);
    await this.write(async (tx) => {
      const user = await this.userIn(tx, username);
      const roleId = await AuthStore.syntheticRole(tx, user, workspace);
      await tx.query(
        `INSERT INTO role_permissions (role_id, resource_type, resource_pattern, permission) VALUES ($1, 'workspace', '*', $2)
         ON CONFLICT (role_id, resource_type, resource_pattern) DO UPDATE SET permission = EXCLUDED.permission`,
        [roleId, permission],
      );
    });
  }

  async deleteWorkspacePermission(workspace: string, username: string): Promise<void> {
    const user = await this.getUser(username);
    const rows = await this.write((tx) =>
      tx.query(
        `DELETE FROM role_permissions rp USING roles r
          WHERE rp.role_id = r.id AND r.workspace = $1 AND r.name = $2 AND rp.resource_type = 'workspace' AND rp.resource_pattern = '*' RETURNING rp.id`,
        [workspace, syntheticRoleName(user.id)],
      ),
    );
    if (rows.length === 0) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Workspace permission does not exist for workspace='${workspace}', username='${username}'`);
    }
  }

  /** is_workspace_admin: a ('workspace', '*', MANAGE) grant through any role in the workspace. */
  async isWorkspaceAdmin(userId: number, workspace: string): Promise<boolean> {
    const rows = await this.db.query(
      `SELECT 1 FROM user_role_assignments ura JOIN roles r ON r.id = ura.role_id JOIN role_permissions rp ON rp.role_id = r.id
        WHERE ura.user_id = $1 AND r.workspace = $2 AND rp.resource_type = 'workspace' AND rp.resource_pattern = '*' AND rp.permission = 'MANAGE' LIMIT 1`,
      [userId, workspace],
    );
    return rows.length > 0;
  }

  // ---------------------------------------------------------------- decisions (one round trip each)

  /** list_grants: the user's grants in `workspace` on the given types (all patterns), plus the workspace-wide ones. */
  async grantsFor(userId: number, workspace: string, resourceTypes: readonly string[]): Promise<Grant[]> {
    for (const t of resourceTypes) validateResourceType(t);
    return (await this.db.query<GrantRow>(GRANTS_SQL, [userId, workspace, resourceTypes], 'auth_grants')).map(toGrant);
  }

  /** Every grant of the user in `workspace`, at most `limit` + 1 rows (what the decision cache keeps, auth/grant-cache.ts). */
  async allGrantsIn(userId: number, workspace: string, limit: number): Promise<Grant[]> {
    const rows = await this.db.query<GrantRow>(
      `SELECT rp.resource_type, rp.resource_pattern, rp.permission
         FROM user_role_assignments ura JOIN roles r ON r.id = ura.role_id JOIN role_permissions rp ON rp.role_id = r.id
        WHERE ura.user_id = $1 AND r.workspace = $2
        LIMIT $3`,
      [userId, workspace, limit + 1],
      'auth_all_grants',
    );
    return rows.map(toGrant);
  }

  /**
   * The user (by name) and their grants that could decide (type, name) in `workspace`, in ONE statement.
   * undefined when the user does not exist.
   */
  async accessForResource(username: string, resourceType: string, resourceName: string, workspace: string): Promise<{ user: AuthUser; grants: Grant[] } | undefined> {
    validateResourceType(resourceType);
    const rows = await this.db.query<{ id: number; username: string; is_admin: boolean | null; g: GrantRow[] | null }>(
      `SELECT u.id, u.username, u.is_admin,
              (SELECT json_agg(json_build_object('resource_type', rp.resource_type, 'resource_pattern', rp.resource_pattern, 'permission', rp.permission))
                 FROM user_role_assignments ura JOIN roles r ON r.id = ura.role_id JOIN role_permissions rp ON rp.role_id = r.id
                WHERE ura.user_id = u.id AND r.workspace = $2
                  AND ((rp.resource_type = $3 AND rp.resource_pattern IN ('*', $4)) OR rp.resource_type = 'workspace')) AS g
         FROM users u WHERE u.username = $1`,
      [username, workspace, resourceType, resourceName],
      'auth_access_for_resource',
    );
    const row = rows[0];
    if (!row) return undefined;
    return { user: toUser(row), grants: (row.g ?? []).map(toGrant) };
  }

  /**
   * effectivePermission: what `username` may do on (type, name) in `workspace`, in ONE round trip: a super
   * admin (users.is_admin) gets MANAGE; otherwise MLflow's point permission (workspace admin → MANAGE, the
   * fold on (type, name) with DENY winning, default_permission as a floor of positive grants, the absent
   * permission when there is no grant). NO_PERMISSIONS for an unknown user.
   */
  async effectivePermission(username: string, resourceType: string, resourceName: string, workspace: string): Promise<Permission> {
    const access = await this.accessForResource(username, resourceType, resourceName, workspace);
    if (!access) return getPermission('NO_PERMISSIONS');
    if (access.user.isAdmin) return MANAGE;
    return resourcePermission(access.grants, resourceType, resourceName, workspace, this.policy);
  }

  /**
   * For a registry operation on model `name` in `workspace` by `userId`, in ONE statement: whether the model
   * exists, whether it is a prompt, and the grants on it, its version tier and the workspace. Needs the
   * registry tables in the same database (the default); with a separate auth database, use grantsFor and
   * classify the model with the registry store.
   */
  async registryAccess(userId: number, workspace: string, name: string): Promise<RegistryAccess> {
    const [row] = await this.db.query<{ model_exists: boolean; is_prompt: boolean | null; g: GrantRow[] | null }>(
      `SELECT EXISTS (SELECT 1 FROM registered_models m WHERE m.workspace = $2 AND m.name = $3) AS model_exists,
              (SELECT lower(t.value) = 'true' FROM registered_model_tags t
                WHERE t.workspace = $2 AND t.name = $3 AND t.key = 'mlflow.prompt.is_prompt') AS is_prompt,
              (SELECT json_agg(json_build_object('resource_type', rp.resource_type, 'resource_pattern', rp.resource_pattern, 'permission', rp.permission))
                 FROM user_role_assignments ura JOIN roles r ON r.id = ura.role_id JOIN role_permissions rp ON rp.role_id = r.id
                WHERE ura.user_id = $1 AND r.workspace = $2
                  AND ((rp.resource_type IN ('registered_model', 'prompt') AND rp.resource_pattern IN ('*', $3))
                       OR (rp.resource_type IN ('registered_model_version', 'prompt_version', 'workspace') AND rp.resource_pattern = '*'))) AS g`,
      [userId, workspace, name],
      'auth_registry_access',
    );
    const exists = row?.model_exists === true;
    return registryAccessFrom(exists, exists && row?.is_prompt === true, (row?.g ?? []).map(toGrant), name, workspace, this.policy);
  }

  /**
   * What `user` may list in `workspace` (search-filter.ts): one statement for the grants (none for a super
   * admin). Feed the result to registeredModelsReadableSql / modelVersionsReadableSql in the search SQL.
   */
  async readDecision(user: AuthUser, workspace: string): Promise<ReadDecision> {
    const grants = user.isAdmin
      ? []
      : await this.grantsFor(user.id, workspace, ['registered_model', 'prompt', 'registered_model_version', 'prompt_version']);
    return readDecision(grants, user.isAdmin, workspace, this.policy);
  }

  private async userIn(tx: Executor, username: string): Promise<AuthUser> {
    const [row] = await tx.query<UserRow>('SELECT id, username, is_admin FROM users WHERE username = $1', [username]);
    if (!row) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `User with username=${username} not found`);
    return toUser(row);
  }
}

/** RegistryAccess of model `name` from its classification and the user's grants on it (UserGrants.forModel, or registryAccess's query). */
export function registryAccessFrom(exists: boolean, isPrompt: boolean, grants: Grant[], name: string, workspace: string, policy: PermissionPolicy): RegistryAccess {
  const resourceType = isPrompt ? 'prompt' : 'registered_model';
  // MLflow resolves a missing model's workspace as unknown: NO_PERMISSIONS with workspaces on, the
  // default workspace with them off.
  const ws = exists ? workspace : policy.workspacesEnabled ? undefined : workspace;
  return {
    exists,
    resourceType,
    versionType: isPrompt ? 'prompt_version' : 'registered_model_version',
    grants,
    permission: resourcePermission(grants, resourceType, name, ws, policy),
    authorize: (requirements) => authorize(grants, requirements, ws, policy),
  };
}

function toRolePermission(r: GrantRow & { id: number; role_id: number }): RolePermissionRow {
  return { id: r.id, roleId: r.role_id, resourceType: r.resource_type, resourcePattern: r.resource_pattern, permission: r.permission };
}

function rejectWorkspaceResourceType(resourceType: string): void {
  if (resourceType === RESOURCE_TYPE.WORKSPACE) {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      "resource_type 'workspace' is not supported by the per-user permission convenience APIs. Use set_workspace_permission / delete_workspace_permission for workspace-wide grants.",
    );
  }
}

/** A valid werkzeug scrypt hash of a random password nobody knows: verified against for unknown users. */
const DUMMY_HASH = `scrypt:32768:8:1$${'x'.repeat(16)}$${'0'.repeat(128)}`;

