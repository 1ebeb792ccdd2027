import { defineConfig } from 'drizzle-kit';

// Four migration sets: `mlflow` mirrors MLflow's registry tables (skipped on a database MLflow created),
// `ext` holds our own tables, `auth` mirrors MLflow's auth tables (skipped on an auth database MLflow's
// basic-auth app created), `auth-ext` holds our own auth tables (access tokens; applied on every auth
// database). Choose with DRIZZLE_SET=mlflow|ext|auth|auth-ext (scripts/gen-migrations.sh runs them).
const env = process.env.DRIZZLE_SET;
const set = env === 'ext' || env === 'auth' || env === 'auth-ext' ? env : 'mlflow';
const schema = { mlflow: './src/store/schema.ts', ext: './src/store/ext-schema.ts', auth: './src/auth/schema.ts', 'auth-ext': './src/auth/ext-schema.ts' }[set];
const out = set === 'auth' ? './src/auth/migrations' : set === 'auth-ext' ? './src/auth/migrations-ext' : `./src/store/migrations/${set}`;
export default defineConfig({
  dialect: 'postgresql',
  schema,
  out,
});
