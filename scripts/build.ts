/**
 * Transpiles the server (packages/server/src, tests excluded) file by file into packages/server/dist with esbuild,
 * keeping the directory layout so paths computed from import.meta.url (spec, package.json, migrations) resolve the
 * same from src and dist. `pnpm start` and the benchmarks run the result with plain `node`: the tsx loader costs
 * about 30 MB of RSS (its own thread and V8 heap) for nothing at run time. Type checking stays with `pnpm typecheck`.
 *
 * `pnpm build` also makes the embedded engine's data-directory template if missing (store/pglite-template.ts).
 *
 * Each build ends by writing a stamp of its inputs into dist (scripts/build-stamp.mjs); `pnpm start` checks it with
 * plain node and runs this script only when a source, the esbuild version or the build itself changed.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStamp, sourceFiles, STAMP_FILE } from './build-stamp.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds `<root>/packages/server/dist` from `<root>/packages/server/src` (the benchmarks build their snapshot). */
export async function buildServer(root: string = repoRoot): Promise<string> {
  const src = path.join(root, 'packages/server/src');
  const out = path.join(root, 'packages/server/dist');
  // Taken before transpiling: a source edited during the build then leaves a stale stamp, hence a rebuild.
  const stamp = buildStamp(root);
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: sourceFiles(src).map((f) => path.join(src, f)),
    outdir: out,
    outbase: src,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(out, STAMP_FILE), `${stamp}\n`);
  return path.join(out, 'main.js');
}

/**
 * Makes the embedded engine's data-directory template when there is none (store/pglite-template.ts), so that a
 * first start copies it instead of running initdb. Not part of buildServer: the benchmarks' snapshots share it.
 */
async function makeEmbeddedTemplate(): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { pgliteStartParams } = await import('../packages/server/src/store/pglite-memory.js');
  const { ensureTemplate } = await import('../packages/server/src/store/pglite-template.js');
  await ensureTemplate(pgliteStartParams(PGlite.defaultStartParams), true);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildServer();
  await makeEmbeddedTemplate();
}
