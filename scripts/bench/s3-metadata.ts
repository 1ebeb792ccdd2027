/**
 * METADATA_STORE=s3 measured (docs/storage-modes.md, "Figures"): our server with its metadata in an S3
 * bucket, seeded with 1,000 and 10,000 models (the benchmark dataset's formulas, scripts/bench/dataset.ts:
 * 5 tags per model, `versions` versions each, 1 alias), then loaded through HTTP:
 *
 *   - get registered model (a random model), tag-filter search (100 per page), at 1 and 8 connections;
 *   - writes on ONE model (set-tag, create-version), through one replica and through two at once;
 *   - start-up: to the first /health of a replica replaying the log (after the seed's single entry,
 *     and again after the writes' thousands of small ones), and server RSS.
 *
 *   pnpm build && tsx scripts/bench/s3-metadata.ts --endpoint http://127.0.0.1:5055 [--models 1000,10000]
 *       [--seconds 8] [--report /tmp/s3-metadata.md]
 *
 * The S3 server is whatever --endpoint names (moto on loopback in our runs: its latency is far below a
 * real bucket's, so the figures are an upper bound of what the server itself allows). Every bucket made
 * here is emptied and removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { S3Admin } from '../../packages/server/src/artifacts/s3-admin.js';
import { createLogger } from '../../packages/server/src/log.js';
import { S3ChangeLog } from '../../packages/server/src/store/s3-log/change-log.js';
import { openReplicated } from '../../packages/server/src/store/s3-log/replicated.js';
import { datasetSql, modelName, type DatasetSpec } from './dataset.js';

const root = path.resolve(import.meta.dirname, '../..');
const { values: args } = parseArgs({
  options: {
    endpoint: { type: 'string' },
    models: { type: 'string', default: '1000,10000' },
    versions: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    report: { type: 'string' },
  },
});
if (!args.endpoint) throw new Error('--endpoint (an S3-protocol server) is required');
const endpoint = args.endpoint;
const seconds = Number(args.seconds);
const CREDS = { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' };
const admin = new S3Admin({ endpoint, accessKeyId: 'testing', secretAccessKey: 'testing' });
const lines: string[] = [];
const out = (line: string) => {
  lines.push(line);
  console.log(line);
};

interface Proc {
  url: string;
  child: ChildProcess;
  startMs: number;
  dir: string;
}

async function startServer(bucket: string): Promise<Proc> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-s3meta-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=4', '--heap-growing-percent=50', path.join(root, 'packages/server/dist/main.js')], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MALLOC_ARENA_MAX: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      DATA_DIR: dir,
      METADATA_STORE: 's3',
      MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY: randomBytes(32).toString('base64url') + '=',
      S3_BUCKET: bucket,
      S3_PREFIX: 'artifacts',
      S3_ENDPOINT_URL: endpoint,
      ...CREDS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no 'listening' line in 300 s:\n${buf}`)), 300_000);
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = /"url":"(http:\/\/[^"]+)"/.exec(buf) ?? /listening[^\n]*?(http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${buf}`)));
  });
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url, child, startMs: performance.now() - t0, dir };
}

async function stopServer(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
  fs.rmSync(p.dir, { recursive: true, force: true });
}

function rssMb(p: Proc): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)![1]) / 1024;
  return { rss: Math.round(kb('VmRSS')), hwm: Math.round(kb('VmHWM')) };
}

interface Result {
  n: number;
  errors: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
}

/** `conns` loops sending requests for `secs` seconds; latencies from send to the last byte. */
async function load(conns: number, secs: number, request: (i: number) => { url: string; init?: RequestInit }): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let i = 0;
  const end = performance.now() + secs * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() < end) {
        const { url, init } = request(i++);
        const s = performance.now();
        const res = await fetch(url, init).catch(() => undefined);
        if (!res || !res.ok) errors++;
        await res?.arrayBuffer();
        lat.push(performance.now() - s);
      }
    }),
  );
  const took = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]! * 100) / 100;
  return { n: lat.length, errors, rps: Math.round(lat.length / took), p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const row = (what: string, conns: number | string, r: Result) =>
  out(`| ${what} | ${conns} | ${r.rps.toLocaleString('en')} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.errors} |`);

async function run(models: number): Promise<void> {
  const bucket = `bench-s3meta-${randomBytes(4).toString('hex')}`;
  await admin.createBucket(bucket);
  const servers: Proc[] = [];
  try {
    // Seed: the dataset's INSERTs in one write transaction, shipped as one log entry.
    const spec: DatasetSpec = { name: 'small', models, versionsPerModel: Number(args.versions), versionTags: 1, teams: 20 };
    const t0 = performance.now();
    const changes = await S3ChangeLog.open({ s3: { bucket, prefix: '', region: 'us-east-1', endpoint, accessKeyId: 'testing', secretAccessKey: 'testing' }, prefix: 'registry-metadata' });
    const db = await openReplicated({ log: changes, logger: createLogger('warn') });
    await db.transaction(async (tx) => {
      for (const sql of datasetSql(spec)) await tx.query(sql);
    });
    await db.close();
    const seedMs = performance.now() - t0;
    const keys = await admin.listKeys(bucket, 'registry-metadata/');
    const bytes = (await Promise.all(keys.map((k) => admin.get(bucket, k)))).reduce((n, b) => n + b.length, 0);
    out(`\n### ${models.toLocaleString('en')} models, ${(models * spec.versionsPerModel).toLocaleString('en')} versions\n`);
    out(`Seeded in ${(seedMs / 1000).toFixed(1)} s as ${keys.length} log entries of ${(bytes / 1e6).toFixed(1)} MB in all.\n`);

    const a = await startServer(bucket);
    servers.push(a);
    const idle = rssMb(a);
    out(`| measure | connections | req/s | p50 ms | p95 ms | p99 ms | errors |`);
    out(`|---|--:|--:|--:|--:|--:|--:|`);
    let seed = 1;
    const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % models) + 1;
    for (const conns of [1, 8]) {
      row('get registered model (random)', conns, await load(conns, seconds, () => ({ url: `${a.url}/api/2.0/mlflow/registered-models/get?name=${modelName(rand())}` })));
      row(
        "search registered models, `tags.team = 'team-<k>'`, 100 per page",
        conns,
        await load(conns, seconds, () => ({
          url: `${a.url}/api/2.0/mlflow/registered-models/search?max_results=100&filter=${encodeURIComponent(`tags.team = 'team-${rand() % 20}'`)}`,
        })),
      );
    }
    const one = modelName(1);
    for (const conns of [1, 8]) {
      row('set-tag on one model', conns, await load(conns, seconds, (i) => ({ url: `${a.url}/api/2.0/mlflow/registered-models/set-tag`, init: json({ name: one, key: `k${i % 50}`, value: String(i) }) })));
      row('create model version on one model', conns, await load(conns, seconds, (i) => ({ url: `${a.url}/api/2.0/mlflow/model-versions/create`, init: json({ name: one, source: `s3://b/${i}` }) })));
    }
    const b = await startServer(bucket);
    servers.push(b);
    const entries = (await admin.listKeys(bucket, 'registry-metadata/log/')).length;
    const snapshot = Math.max(0, ...(await admin.listKeys(bucket, 'registry-metadata/snapshots/')).map((k) => Number(/(\d{20})\.json$/.exec(k)![1])));
    const two = (i: number) => (i % 2 ? a : b).url;
    row('create model version on one model, through two replicas', '8 + 8', await load(16, seconds, (i) => ({ url: `${two(i)}/api/2.0/mlflow/model-versions/create`, init: json({ name: one, source: `s3://b/two/${i}` }) })));
    const loaded = rssMb(a);
    out('');
    out(
      `- Start-up to the first /health, replaying the seed's entry: ${(a.startMs / 1000).toFixed(1)} s; a second replica, with ${entries.toLocaleString('en')} entries in the log ` +
        `(${snapshot ? `loading the snapshot of entry ${snapshot.toLocaleString('en')} and replaying ${(entries - snapshot).toLocaleString('en')}` : 'no snapshot: replaying them all'}): ${(b.startMs / 1000).toFixed(1)} s.`,
    );
    out(`- Server RSS: ${idle.rss} MB after start-up, ${loaded.rss} MB after the load (peak ${loaded.hwm} MB).`);
  } finally {
    for (const s of servers) await stopServer(s);
    await admin.remove(bucket);
  }
}

out(`## METADATA_STORE=s3 (scripts/bench/s3-metadata.ts, ${new Date().toISOString().slice(0, 16)}Z, ${seconds} s per row, S3 at ${new URL(endpoint).hostname})`);
for (const m of args.models.split(',').map(Number)) await run(m);
admin.close();
if (args.report) fs.writeFileSync(args.report, lines.join('\n') + '\n');
