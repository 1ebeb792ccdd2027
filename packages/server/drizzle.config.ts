import { defineConfig } from 'drizzle-kit';

// Five migration sets: `mlflow` mirrors MLflow's registry tables (skipped on a database MLflow created),
// `ext` holds our own tables, `auth` mirrors MLflow's auth tables (skipped on an auth database MLflow's
// basic-auth app created), `auth-ext` holds our own auth tables (access tokens; applied on every auth
// database), `artifacts-pg` holds the artifact bytes of ARTIFACTS_STORE=postgres (applied only in that mode).
// Choose with DRIZZLE_SET=mlflow|ext|auth|auth-ext|artifacts-pg.
const env = process.env.DRIZZLE_SET;
const sets = {
  mlflow: { schema: './src/store/schema.ts', out: './src/store/migrations/mlflow' },
  ext: { schema: './src/store/ext-schema.ts', out: './src/store/migrations/ext' },
  auth: { schema: './src/auth/schema.ts', out: './src/auth/migrations' },
  'auth-ext': { schema: './src/auth/ext-schema.ts', out: './src/auth/migrations-ext' },
  'artifacts-pg': { schema: './src/artifacts/postgres-schema.ts', out: './src/artifacts/migrations-pg' },
} as const;
const { schema, out } = sets[env !== undefined && env in sets ? (env as keyof typeof sets) : 'mlflow'];
export default defineConfig({ dialect: 'postgresql', schema, out });
