/**
 * MLflow's DEFAULT_WORKSPACE_NAME: every row this server writes belongs to it. Kept apart from the
 * drizzle schema (schema.ts), which only migrations and tests need: the running server never loads
 * drizzle-orm's table builders.
 */
export const DEFAULT_WORKSPACE = 'default';
