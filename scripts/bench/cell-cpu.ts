/**
 * CPU per request of one cell of the A/B comparisons (write-path.ts, read-cache.ts): of the server's
 * process tree and of the PostgreSQL backends serving its database. Far less sensitive to the shared
 * machine than req/s (procstat.ts).
 */
import pg from 'pg';
import { DbCpuSampler, processTree, sampleTree } from './procstat.js';
import type { LoadResult } from './load.js';

export interface CpuResult extends LoadResult {
  serverCpuMsPerRequest: number;
  dbCpuMsPerRequest: number;
}

export async function withCpu(serverPid: number, databaseUrl: string, run: () => Promise<LoadResult>): Promise<CpuResult> {
  const db = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    const backends = async () =>
      (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db])).rows.map((r) => r.pid);
    const dbCpu = new DbCpuSampler(backends);
    const server0 = sampleTree(processTree(serverPid)).cpuSeconds;
    await dbCpu.begin();
    const r = await run();
    const dbSeconds = await dbCpu.end();
    const serverSeconds = sampleTree(processTree(serverPid)).cpuSeconds - server0;
    const n = Math.max(1, r.requests);
    return { ...r, serverCpuMsPerRequest: (serverSeconds * 1000) / n, dbCpuMsPerRequest: (dbSeconds * 1000) / n };
  } finally {
    await admin.end();
  }
}
