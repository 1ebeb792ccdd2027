/**
 * What authentication costs a read, in process (docs/benchmarks-auth.md): two servers of the working tree
 * (AUTH=none and AUTH=basic) in this Node process on one fresh PostgreSQL database with the small dataset, a
 * user `reader` holding a READ grant on each model (default_permission NO_PERMISSIONS), and 32 concurrent
 * get-registered-model calls through each app's whole middleware chain (`app.request`, no sockets to
 * clients; the read cache and the change feed are live). Reported: this process's user CPU per request,
 * cells alternated round after round (auth off, admin, non-admin), and the ratios to auth off. This
 * isolates what the authentication code costs from what the machine's load does to socket writes.
 *
 *   tsx scripts/bench/auth-in-process.ts [rounds, default 7]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase, loadDataset, DATASETS, modelName } from './dataset.js';
import { loadConfig } from '../../packages/server/src/config.js';
import { createServer } from '../../packages/server/src/server.js';
import { createLogger } from '../../packages/server/src/log.js';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';
const dataset = DATASETS.small;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const AUTH = { AUTH: 'basic', MLFLOW_AUTH_ADMIN_PASSWORD: 'bench-admin-password', MLFLOW_AUTH_DEFAULT_PERMISSION: 'NO_PERMISSIONS' };
/** A Host the security middleware accepts (app.request sends none of its own). */
const HOST = 'localhost:5000';

async function main() {
  const name = `bench_auth_in_process_${randomBytes(3).toString('hex')}`;
  const url = await createDatabase(adminUrl, name);
  const log = createLogger('error');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-auth-in-process-'));
  const servers: { close(): Promise<void> }[] = [];
  try {
    const mk = async (env: Record<string, string>) => {
      const s = await createServer(loadConfig({ PATH: process.env.PATH, DATABASE_URL: url, DATA_DIR: dataDir, HOST: '127.0.0.1', ...env }), log);
      servers.push(s);
      return s;
    };
    const withAuth = await mk(AUTH);
    await loadDataset(url, dataset);
    const a = basic('admin', 'bench-admin-password');
    const post = async (p: string, body: unknown) => {
      const res = await withAuth.app.request(p, { method: 'POST', headers: { host: HOST, authorization: a, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 200) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    };
    await post('/api/2.0/mlflow/users/create', { username: 'reader', password: 'bench-reader-password' });
    for (let i = 1; i <= dataset.models; i++) await post('/api/3.0/mlflow/users/permissions/grant', { username: 'reader', resource_type: 'registered_model', resource_id: modelName(i), permission: 'READ' });
    const off = await mk({ AUTH: 'none' });
    await new Promise((r) => setTimeout(r, 1500)); // both read caches register with the change feed and go live
    const cells = [
      { id: 'off', app: off.app, auth: undefined as string | undefined },
      { id: 'admin', app: withAuth.app, auth: a },
      { id: 'reader', app: withAuth.app, auth: basic('reader', 'bench-reader-password') },
    ];
    const run = async (c: (typeof cells)[number], n: number) => {
      let next = 0;
      let bad = 0;
      const worker = async () => {
        while (next < n) {
          const i = (next++ % dataset.models) + 1;
          const res = await c.app.request(`http://${HOST}/api/2.0/mlflow/registered-models/get?name=${encodeURIComponent(modelName(i))}`, {
            headers: c.auth ? { host: HOST, authorization: c.auth } : { host: HOST },
          });
          await res.text();
          if (res.status !== 200) bad++;
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      if (bad) throw new Error(`${c.id}: ${bad} not 200`);
    };
    for (const c of cells) await run(c, 6000); // warm every cache
    const per = new Map(cells.map((c) => [c.id, [] as number[]]));
    const rounds = Number(process.argv[2] ?? 7);
    for (let r = 0; r < rounds; r++) {
      for (const c of cells) {
        const n = 10000;
        const u0 = process.cpuUsage();
        await run(c, n);
        const u = process.cpuUsage(u0);
        per.get(c.id)!.push(u.user / n);
      }
      console.error(`round ${r + 1}`, cells.map((c) => `${c.id} ${per.get(c.id)!.at(-1)!.toFixed(1)}`).join('  '));
    }
    console.log('| configuration | user CPU µs/request (median) | ratio to auth off (per round) | median |\n|---|---|---|---|');
    const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const offs = per.get('off')!;
    for (const c of cells) {
      const xs = per.get(c.id)!;
      console.log(`| ${c.id} | ${med(xs).toFixed(1)} | ${xs.map((x, i) => (x / offs[i]!).toFixed(2)).join(', ')} | ${med(xs.map((x, i) => x / offs[i]!)).toFixed(2)} |`);
    }
  } finally {
    for (const s of servers) await s.close().catch(() => {});
    await dropDatabase(adminUrl, name).catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
