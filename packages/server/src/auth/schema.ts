/**
 * MLflow 3.17.2's auth database, table for table (mlflow/server/auth/db/models.py and its alembic
 * migrations up to head f1a2b3c4d5e6): same table, column, constraint and index names and types, so that
 *   - this server runs on an auth database created by `mlflow server --app-name basic-auth` (it then
 *     applies nothing: see migrations.ts), and
 *   - MLflow's basic-auth app runs on the tables this server created: the migration also creates the
 *     pre-RBAC tables MLflow 3.17 still keeps (and scrubs on user deletion) and stamps
 *     alembic_version_auth at head, as `mlflow` would have left it.
 *
 * Only users, roles, role_permissions and user_role_assignments are read or written by this server; the
 * per-resource *_permissions tables and workspace_permissions are MLflow's retained pre-RBAC snapshot.
 *
 * drizzle-kit reads this file to generate auth/migrations (DRIZZLE_SET=auth, see drizzle.config.ts); the
 * running server never imports it.
 */
import { boolean, foreignKey, index, integer, pgTable, primaryKey, serial, unique, varchar } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  username: varchar('username', { length: 255 }).unique('users_username_key'),
  passwordHash: varchar('password_hash', { length: 255 }),
  isAdmin: boolean('is_admin'),
});

export const roles = pgTable(
  'roles',
  {
    id: serial('id').primaryKey(),
    name: varchar('name', { length: 255 }).notNull(),
    workspace: varchar('workspace', { length: 63 }).notNull(),
    description: varchar('description', { length: 1024 }),
  },
  (t) => [unique('unique_workspace_role_name').on(t.workspace, t.name), index('idx_roles_workspace').on(t.workspace)],
);

export const rolePermissions = pgTable(
  'role_permissions',
  {
    id: serial('id').primaryKey(),
    roleId: integer('role_id').notNull(),
    resourceType: varchar('resource_type', { length: 64 }).notNull(),
    resourcePattern: varchar('resource_pattern', { length: 255 }).notNull(),
    permission: varchar('permission', { length: 255 }).notNull(),
  },
  (t) => [
    foreignKey({ name: 'role_permissions_role_id_fkey', columns: [t.roleId], foreignColumns: [roles.id] }),
    unique('unique_role_resource_perm').on(t.roleId, t.resourceType, t.resourcePattern),
    index('idx_role_permissions_role_id').on(t.roleId),
  ],
);

export const userRoleAssignments = pgTable(
  'user_role_assignments',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull(),
    roleId: integer('role_id').notNull(),
  },
  (t) => [
    foreignKey({ name: 'user_role_assignments_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }),
    foreignKey({ name: 'user_role_assignments_role_id_fkey', columns: [t.roleId], foreignColumns: [roles.id] }),
    unique('unique_user_role').on(t.userId, t.roleId),
    index('idx_user_role_assignments_user_id').on(t.userId),
    index('idx_user_role_assignments_role_id').on(t.roleId),
  ],
);

// ---- MLflow's retained pre-RBAC tables (never read or written here, except rows scrubbed on user deletion) ----

export const experimentPermissions = pgTable(
  'experiment_permissions',
  {
    id: serial('id').primaryKey(),
    experimentId: varchar('experiment_id', { length: 255 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
  },
  (t) => [
    foreignKey({ name: 'fk_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_experiment_user').on(t.experimentId, t.userId),
  ],
);

export const registeredModelPermissions = pgTable(
  'registered_model_permissions',
  {
    id: serial('id').primaryKey(),
    name: varchar('name', { length: 255 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
    workspace: varchar('workspace', { length: 63 }).notNull().default(sql`'default'`),
  },
  (t) => [
    foreignKey({ name: 'fk_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_workspace_name_user').on(t.workspace, t.name, t.userId),
  ],
);

export const scorerPermissions = pgTable(
  'scorer_permissions',
  {
    id: serial('id').primaryKey(),
    experimentId: varchar('experiment_id', { length: 255 }).notNull(),
    scorerName: varchar('scorer_name', { length: 256 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
  },
  (t) => [
    foreignKey({ name: 'fk_scorer_perm_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_scorer_user').on(t.experimentId, t.scorerName, t.userId),
  ],
);

export const gatewaySecretPermissions = pgTable(
  'gateway_secret_permissions',
  {
    id: serial('id').primaryKey(),
    secretId: varchar('secret_id', { length: 255 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
  },
  (t) => [
    foreignKey({ name: 'fk_gateway_secret_perm_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_secret_user').on(t.secretId, t.userId),
  ],
);

export const gatewayEndpointPermissions = pgTable(
  'gateway_endpoint_permissions',
  {
    id: serial('id').primaryKey(),
    endpointId: varchar('endpoint_id', { length: 255 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
  },
  (t) => [
    foreignKey({ name: 'fk_gateway_endpoint_perm_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_endpoint_user').on(t.endpointId, t.userId),
  ],
);

export const gatewayModelDefinitionPermissions = pgTable(
  'gateway_model_definition_permissions',
  {
    id: serial('id').primaryKey(),
    modelDefinitionId: varchar('model_definition_id', { length: 255 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 255 }),
  },
  (t) => [
    foreignKey({ name: 'fk_gateway_model_def_perm_user_id', columns: [t.userId], foreignColumns: [users.id] }),
    unique('unique_model_def_user').on(t.modelDefinitionId, t.userId),
  ],
);

export const workspacePermissions = pgTable(
  'workspace_permissions',
  {
    workspace: varchar('workspace', { length: 63 }).notNull(),
    userId: integer('user_id').notNull(),
    permission: varchar('permission', { length: 32 }).notNull(),
  },
  (t) => [
    primaryKey({ name: 'workspace_permissions_pk', columns: [t.workspace, t.userId] }),
    foreignKey({ name: 'workspace_permissions_user_id_fkey', columns: [t.userId], foreignColumns: [users.id] }),
    index('idx_workspace_permissions_user_id').on(t.userId),
    index('idx_workspace_permissions_workspace').on(t.workspace),
  ],
);

/** Alembic's version table for the auth database (env.py: version_table="alembic_version_auth"). */
export const alembicVersionAuth = pgTable(
  'alembic_version_auth',
  { versionNum: varchar('version_num', { length: 32 }).notNull() },
  (t) => [primaryKey({ name: 'alembic_version_auth_pkc', columns: [t.versionNum] })],
);
