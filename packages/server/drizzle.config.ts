import { defineConfig } from 'drizzle-kit';

// Three migration sets: `mlflow` mirrors MLflow's registry tables (skipped on a database MLflow created),
// `ext` holds our own tables, `auth` mirrors MLflow's auth tables (skipped on an auth database MLflow's
// basic-auth app created). Choose with DRIZZLE_SET=mlflow|ext|auth (scripts/gen-migrations.sh runs them).
const set = process.env.DRIZZLE_SET === 'ext' ? 'ext' : process.env.DRIZZLE_SET === 'auth' ? 'auth' : 'mlflow';
const schema = { mlflow: './src/store/schema.ts', ext: './src/store/ext-schema.ts', auth: './src/auth/schema.ts' }[set];
const out = set === 'auth' ? './src/auth/migrations' : `./src/store/migrations/${set}`;
export default defineConfig({
  dialect: 'postgresql',
  schema,
  out,
});
