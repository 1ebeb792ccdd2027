/**
 * The benchmark dataset, bulk-loaded with INSERT … SELECT generate_series (never through an API) into
 * the registry tables that MLflow 3.17 and our migrations both create (same table and column names,
 * `workspace` = 'default'). The SQL names every column, so one script loads either schema.
 *
 *   model-000001 … model-<N>          registered models, 5 tags each (team, owner, domain, framework, priority)
 *   versions 1 … V of each model      version V in Production, V-1 in Staging, the rest None;
 *                                     run_id run<29-digit i*100+v>; `versionTags` tags each
 *   alias `champion`                  one per model, on version ((i-1) mod V) + 1
 *
 * scripts/bench/wrk.lua and floor.ts draw their request parameters from the same formulas.
 */
import pg from 'pg';

export interface DatasetSpec {
  name: 'small' | 'large';
  models: number;
  versionsPerModel: number;
  versionTags: number;
  /** Distinct values of the `team` tag: a tag-filter search matches models / teams models. */
  teams: number;
}

export const DATASETS: Record<DatasetSpec['name'], DatasetSpec> = {
  // 1,000 models × 5 versions × 5 tags (on each model and on each version), 1 alias each.
  small: { name: 'small', models: 1_000, versionsPerModel: 5, versionTags: 5, teams: 20 },
  // 100,000 models × 5 tags, 1,000,000 versions (10 per model, 1 tag each), 1 alias each.
  large: { name: 'large', models: 100_000, versionsPerModel: 10, versionTags: 1, teams: 20 },
};

export const modelName = (i: number) => `model-${String(i).padStart(6, '0')}`;
export const runId = (i: number, v: number) => `run${String(i * 100 + v).padStart(29, '0')}`;
export const ALIAS = 'champion';
export const TAG_FILTER_KEY = 'team';

const T0 = 1_700_000_000_000; // fixed timestamps: both databases get identical rows

const VERSION_TAG_KEYS = ['validation_status', 'dataset', 'auc', 'git_sha', 'approved_by'];

export function datasetSql(d: DatasetSpec): string[] {
  const N = d.models;
  const V = d.versionsPerModel;
  const name = `'model-' || lpad(i::text, 6, '0')`;
  const vtagKeys = VERSION_TAG_KEYS.slice(0, d.versionTags)
    .map((k) => `('${k}')`)
    .join(', ');
  const stmts = [
    `INSERT INTO registered_models (workspace, name, creation_time, last_updated_time, description)
     SELECT 'default', ${name}, ${T0} + i * 1000, ${T0} + i * 1000, 'Benchmark model ' || i
       FROM generate_series(1, ${N}) AS i`,
    `INSERT INTO registered_model_tags (workspace, name, key, value)
     SELECT 'default', ${name}, k.key,
            CASE k.key WHEN 'team' THEN 'team-' || (i % ${d.teams})
                       WHEN 'owner' THEN 'user-' || (i % 100)
                       WHEN 'domain' THEN 'domain-' || (i % 10)
                       WHEN 'framework' THEN (ARRAY['sklearn', 'pytorch', 'xgboost', 'tensorflow'])[i % 4 + 1]
                       ELSE (i % 3)::text END
       FROM generate_series(1, ${N}) AS i
      CROSS JOIN (VALUES ('team'), ('owner'), ('domain'), ('framework'), ('priority')) AS k(key)`,
    `INSERT INTO model_versions (workspace, name, version, creation_time, last_updated_time, description, user_id,
                                 current_stage, source, storage_location, run_id, run_link, status, status_message)
     SELECT 'default', ${name}, v, ${T0} + i * 1000 + v, ${T0} + i * 1000 + v, 'Version ' || v || ' of model ' || i, NULL,
            CASE WHEN v = ${V} THEN 'Production' WHEN v = ${V - 1} THEN 'Staging' ELSE 'None' END,
            's3://bench-artifacts/models/' || ${name} || '/' || v, 's3://bench-artifacts/models/' || ${name} || '/' || v,
            'run' || lpad((i * 100 + v)::text, 29, '0'), '', 'READY', NULL
       FROM generate_series(1, ${N}) AS i CROSS JOIN generate_series(1, ${V}) AS v`,
    `INSERT INTO model_version_tags (workspace, name, version, key, value)
     SELECT 'default', ${name}, v, k.key, k.key || '-' || ((i + v) % 7)
       FROM generate_series(1, ${N}) AS i CROSS JOIN generate_series(1, ${V}) AS v
      CROSS JOIN (VALUES ${vtagKeys}) AS k(key)`,
    `INSERT INTO registered_model_aliases (workspace, name, alias, version)
     SELECT 'default', ${name}, '${ALIAS}', ((i - 1) % ${V}) + 1 FROM generate_series(1, ${N}) AS i`,
  ];
  return stmts;
}

const TABLES = ['registered_models', 'registered_model_tags', 'model_versions', 'model_version_tags', 'registered_model_aliases'];

/** Loads the dataset into an empty registry schema, then VACUUM ANALYZE (planner statistics, visibility map). */
export async function loadDataset(url: string, d: DatasetSpec): Promise<{ ms: number; rows: Record<string, number> }> {
  const start = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const existing = await client.query<{ n: string }>('SELECT count(*) AS n FROM registered_models');
    if (Number(existing.rows[0]!.n) !== 0) throw new Error(`${url}: registered_models is not empty`);
    await client.query('BEGIN');
    for (const sql of datasetSql(d)) await client.query(sql);
    await client.query('COMMIT');
    await client.query(`VACUUM (ANALYZE) ${TABLES.join(', ')}`);
    const rows: Record<string, number> = {};
    for (const t of TABLES) rows[t] = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
    return { ms: performance.now() - start, rows };
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the server of `adminUrl`; returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
