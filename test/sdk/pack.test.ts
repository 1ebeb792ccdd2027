/**
 * The SDK as it would be published: build it, `pnpm pack` it, install the tarball into a fresh npm
 * project outside the workspace (under os.tmpdir(), so nothing resolves from the monorepo), then:
 *   - check the tarball's contents and that its code has no Node-only imports (browser-safe);
 *   - type-check a program against the installed package with that project's own tsc (strict,
 *     NodeNext, skipLibCheck off, exactOptionalPropertyTypes), and again with browser libs and no
 *     Node types at all;
 *   - type-check every TypeScript example of the package README;
 *   - run the program and the README's quick start with node against live servers: this project's
 *     server and `mlflow server` 3.17.2 (from the venv, with --serve-artifacts), with the same output.
 * Needs the npm registry (typescript, @types/node and zod, the optional peer that validation needs, are
 * installed from there). The MLflow side is skipped only when the venv is missing and CI !== 'true'.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestServer, type TestServer } from '../helpers/server.js';
import { MLFLOW_BIN, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const pkgDir = path.join(root, 'packages/client');
const skipMlflow = !fs.existsSync(MLFLOW_BIN) && process.env.CI !== 'true';
if (skipMlflow) console.warn(`[test/sdk/pack] MLflow side skipped: no ${MLFLOW_BIN} (set VENV)`);
const TS_VERSION = '6.0.3';
const NODE_TYPES_VERSION = '20.19.43';
const ZOD_VERSION = '4.6.7';

async function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  try {
    return await run(cmd, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
  }
}

const PROGRAM = `import {
  MlflowApiError,
  MlflowRegistryClient,
  type ModelVersion,
  type Page,
  type RegisteredModel,
} from '@mlflow-registry/client';

const baseUrl = process.env.MLFLOW_REGISTRY_URI;
if (!baseUrl) throw new Error('MLFLOW_REGISTRY_URI is not set');
const client = new MlflowRegistryClient({ baseUrl, validateResponses: true, timeoutMs: 10_000, retries: { maxRetries: 2 } });
const out = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

const model: RegisteredModel = await client.createRegisteredModel({ name: 'pack-demo', tags: { team: 'ml' } });
out({ step: 'created', name: model.name, tags: model.tags });

const versions: ModelVersion[] = [];
for (const n of [1, 2, 3]) versions.push(await client.createModelVersion({ name: 'pack-demo', source: \`s3://bucket/pack-demo/\${n}\` }));
out({ step: 'versions', versions: versions.map((v) => v.version) });

await client.setRegisteredModelAlias({ name: 'pack-demo', alias: 'champion', version: versions[1]!.version });
const champion = await client.getModelVersionByAlias({ name: 'pack-demo', alias: 'champion' });
out({ step: 'alias', version: champion.version, aliases: champion.aliases, source: champion.source });

const staged = await client.transitionModelVersionStage({ name: 'pack-demo', version: 3, stage: 'production' });
out({ step: 'stage', stage: staged.currentStage });

const seen: string[] = [];
for await (const v of client.searchModelVersions({ filter: "name = 'pack-demo'", orderBy: ['version_number ASC'], maxResults: 2 })) seen.push(v.version);
const page: Page<ModelVersion> = await client.searchModelVersionsPage({ filter: "name = 'pack-demo'", maxResults: 2 });
out({ step: 'search', seen, firstPage: page.items.length, more: page.nextPageToken !== undefined });

try {
  await client.getRegisteredModel({ name: 'no-such-model' });
  out({ step: 'error', caught: false });
} catch (err) {
  if (!(err instanceof MlflowApiError)) throw err;
  const code: string = err.errorCode;
  out({ step: 'error', caught: true, code, status: err.status, is: MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST') });
}

await client.uploadArtifact({ path: 'pack-demo/2/MLmodel', body: new TextEncoder().encode('flavors: {}\\n') });
const text = await new Response(await client.downloadArtifact({ path: 'pack-demo/2/MLmodel' })).text();
const files = await client.listArtifacts({ path: 'pack-demo/2' });
out({ step: 'artifacts', text, files: files.map((f) => f.path) });
`;

/** Uses only web-platform globals: must type-check without @types/node. */
const BROWSER_PROGRAM = `import { MlflowApiError, MlflowRegistryClient, type FileInfo } from '@mlflow-registry/client';

export async function demo(file: Blob, signal: AbortSignal): Promise<FileInfo[]> {
  const client = new MlflowRegistryClient({ baseUrl: location.origin, token: 'abc', fetch: (url, init) => fetch(url, init) });
  await client.uploadArtifact({ path: 'uploads/file.bin', body: file }, { signal });
  const stream: ReadableStream<Uint8Array> = await client.downloadArtifact({ path: 'uploads/file.bin' });
  await stream.cancel();
  try {
    await client.getModelVersion({ name: 'iris', version: 1 });
  } catch (err) {
    if (!MlflowApiError.is(err, 'RESOURCE_DOES_NOT_EXIST')) throw err;
  }
  return client.listArtifacts({ path: 'uploads' });
}
`;

const TSCONFIG_NODE = {
  compilerOptions: {
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['es2023', 'dom', 'dom.iterable', 'dom.asynciterable'],
    types: ['node'],
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    rootDir: '.',
    outDir: 'out',
  },
  files: ['main.ts', 'quickstart.ts'],
};

const TSCONFIG_BROWSER = {
  compilerOptions: {
    target: 'es2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    lib: ['es2022', 'dom', 'dom.iterable', 'dom.asynciterable'],
    types: [],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['browser.ts'],
};

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('@mlflow-registry/client as a published package', { timeout: 180_000 }, () => {
  let work: string;
  let project: string;
  let tarball: string;
  let server: TestServer;
  let mlflow: MlflowServer | undefined;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-client-pack-'));
    project = path.join(work, 'consumer');
    fs.mkdirSync(project);
    await sh('pnpm', ['--filter', '@mlflow-registry/client', 'build'], root);
    await sh('pnpm', ['pack', '--pack-destination', work], pkgDir);
    const tgz = fs.readdirSync(work).filter((f) => f.endsWith('.tgz'));
    expect(tgz).toHaveLength(1);
    tarball = path.join(work, tgz[0]!);

    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
    await sh(
      'npm',
      ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `typescript@${TS_VERSION}`, `@types/node@${NODE_TYPES_VERSION}`, `zod@${ZOD_VERSION}`],
      project,
    );
    server = await startTestServer('pglite');
    if (!skipMlflow) {
      const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-client-pack-mlflow-'));
      const backend = process.env.TEST_DATABASE_URL
        ? (await createTestDatabase()).replace(/^postgres(ql)?:\/\//, 'postgresql+psycopg2://')
        : `sqlite:///${path.join(scratch, 'mlflow.db')}`;
      mlflow = await startMlflowServer({
        args: ['--backend-store-uri', backend, '--serve-artifacts', '--artifacts-destination', path.join(scratch, 'artifacts')],
        scratch,
      });
    }
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await mlflow?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('packs only dist/, the README, the LICENSE and package.json, as an ESM package with types', async () => {
    const { stdout } = await sh('tar', ['-tzf', tarball], work);
    const files = stdout.trim().split('\n').sort();
    expect(files).toContain('package/package.json');
    expect(files).toContain('package/README.md');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
    expect(files.filter((f) => !f.startsWith('package/dist/') && !['package/package.json', 'package/README.md', 'package/LICENSE'].includes(f))).toEqual([]);
    expect(files.some((f) => f.endsWith('.test.js') || f.includes('/src/'))).toBe(false);

    const installed = path.join(project, 'node_modules/@mlflow-registry/client');
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg).toMatchObject({ name: '@mlflow-registry/client', type: 'module', types: './dist/index.d.ts' });
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(pkg.exports).toMatchObject({ '.': { types: './dist/index.d.ts', import: './dist/index.js' } });
    // zod is an optional peer (loaded only with validateResponses), with a range, not a pin.
    expect(pkg.dependencies).toBeUndefined();
    expect(pkg.peerDependencies).toEqual({ zod: '^4.0.0' });
    expect(pkg.peerDependenciesMeta).toEqual({ zod: { optional: true } });
    expect(pkg.exports).toMatchObject({ './gen': { types: './dist/gen/index.d.ts' }, './node': { types: './dist/node.d.ts' } });
    expect(fs.existsSync(path.join(project, 'node_modules/zod/package.json'))).toBe(true);
  });

  it('ships browser-safe code (no Node-only imports) and no `any` in the public types', () => {
    const dist = path.join(project, 'node_modules/@mlflow-registry/client/dist');
    const all = fs.readdirSync(dist, { recursive: true, encoding: 'utf8' });
    // dist/node.js is the Node-only entry (@mlflow-registry/client/node); nothing else imports it.
    for (const f of all.filter((x) => x.endsWith('.js') && x !== 'node.js')) {
      const code = fs.readFileSync(path.join(dist, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, f).not.toMatch(/from ['"]node:|require\(|\bprocess\.|\bBuffer\./);
    }
    // The hand-written surface (index and what it re-exports) has no `any`; comments aside.
    for (const f of ['index.d.ts', 'client.d.ts', 'entities.d.ts', 'errors.d.ts', 'pagination.d.ts', 'transport.d.ts']) {
      const types = fs.readFileSync(path.join(dist, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(types, f).not.toMatch(/\bany\b/);
    }
  });

  it('type-checks a strict NodeNext program and the README quick start with the consumer\'s tsc', async () => {
    const readme = fs.readFileSync(path.join(project, 'node_modules/@mlflow-registry/client/README.md'), 'utf8');
    fs.writeFileSync(path.join(project, 'main.ts'), PROGRAM);
    fs.writeFileSync(path.join(project, 'quickstart.ts'), tsBlocks(readme)[0]!);
    fs.writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG_NODE, null, 2));
    const tsc = path.join(project, 'node_modules/typescript/bin/tsc');
    const { stdout } = await sh(process.execPath, [tsc, '--version'], project);
    expect(stdout.trim()).toBe(`Version ${TS_VERSION}`);
    await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], project);
    expect(fs.existsSync(path.join(project, 'out/main.js'))).toBe(true);
  });

  it('type-checks in a browser setting: DOM libs only, no Node types', async () => {
    fs.writeFileSync(path.join(project, 'browser.ts'), BROWSER_PROGRAM);
    fs.writeFileSync(path.join(project, 'tsconfig.browser.json'), JSON.stringify(TSCONFIG_BROWSER, null, 2));
    await sh(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.browser.json'], project);
  });

  it('type-checks every TypeScript example of the package README', async () => {
    const readme = fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
    const blocks = tsBlocks(readme).filter((b) => !b.includes("from 'undici'")); // undici is not installed here
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    const dir = path.join(project, 'readme');
    fs.mkdirSync(dir, { recursive: true });
    const names = blocks.map((b, i) => {
      const prelude = /\bconst client\b/.test(b)
        ? ''
        : "import { MlflowRegistryClient as __C } from '@mlflow-registry/client';\ndeclare const client: __C;\n";
      const name = `example${i}.ts`;
      fs.writeFileSync(path.join(dir, name), `${prelude}${b}\nexport {};\n`);
      return name;
    });
    fs.writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...TSCONFIG_NODE.compilerOptions, noEmit: true, outDir: undefined, noUnusedLocals: false }, files: names }, null, 2),
    );
    await sh(process.execPath, [path.join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
  });

  const live = [{ kind: 'this server' }, ...(skipMlflow ? [] : [{ kind: 'mlflow server' }])];
  it.each(live)('runs the README quick start and the program with node against $kind', async ({ kind }) => {
    const env = { MLFLOW_REGISTRY_URI: kind === 'this server' ? server.url : mlflow!.url };
    const quick = await sh(process.execPath, ['out/quickstart.js'], project, env);
    expect(quick.stdout.trim()).toBe('iris@champion is version 1 at s3://models/iris/1');

    const { stdout, stderr } = await sh(process.execPath, ['out/main.js'], project, env);
    expect(stderr).toBe('');
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { step: 'created', name: 'pack-demo', tags: { team: 'ml' } },
      { step: 'versions', versions: ['1', '2', '3'] },
      { step: 'alias', version: '2', aliases: ['champion'], source: 's3://bucket/pack-demo/2' },
      { step: 'stage', stage: 'Production' },
      { step: 'search', seen: ['1', '2', '3'], firstPage: 2, more: true },
      { step: 'error', caught: true, code: 'RESOURCE_DOES_NOT_EXIST', status: 404, is: true },
      { step: 'artifacts', text: 'flavors: {}\n', files: ['pack-demo/2/MLmodel'] },
    ]);
  });
});
