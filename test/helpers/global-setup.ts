/**
 * One scratch space per `vitest run`, removed when the run ends, passed or failed. Every temporary
 * directory a test makes (os.tmpdir(), here and in the processes the tests start) lives under the
 * run's root, and every PostgreSQL database createTestDatabase makes carries the run's id. A PGlite
 * data directory is about 40 MB, and leaked ones once filled a CI machine's disk after many runs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export async function setup(): Promise<() => Promise<void>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-ts-run-'));
  const runId = randomBytes(4).toString('hex');
  // Workers inherit this process's environment, and os.tmpdir() reads TMPDIR on every call.
  process.env.TMPDIR = root;
  process.env.TEST_RUN_ID = runId;
  return async () => {
    fs.rmSync(root, { recursive: true, force: true });
    await dropRunDatabases(runId);
  };
}

/** Drops this run's databases (see createTestDatabase), ending any session still on them. */
async function dropRunDatabases(runId: string): Promise<void> {
  const admin = process.env.TEST_DATABASE_URL;
  if (!admin || process.env.KEEP_TEST_DATABASES === '1') return;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`t\\_${runId}\\_%`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
