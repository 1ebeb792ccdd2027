import { defineConfig } from 'drizzle-kit';

// Two migration sets: `mlflow` mirrors MLflow's registry tables (skipped on a database MLflow created),
// `ext` holds our own tables. Choose with DRIZZLE_SET=mlflow|ext (scripts/gen-migrations.sh runs both).
const set = process.env.DRIZZLE_SET === 'ext' ? 'ext' : 'mlflow';
export default defineConfig({
  dialect: 'postgresql',
  schema: set === 'ext' ? './src/store/ext-schema.ts' : './src/store/schema.ts',
  out: `./src/store/migrations/${set}`,
});
