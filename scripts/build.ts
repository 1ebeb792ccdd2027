/**
 * Transpiles the server (packages/server/src, tests excluded) file by file into packages/server/dist with esbuild,
 * keeping the directory layout so paths computed from import.meta.url (spec, package.json, migrations) resolve the
 * same from src and dist. `pnpm start` and the benchmarks run the result with plain `node`: the tsx loader costs
 * about 30 MB of RSS (its own thread and V8 heap) for nothing at run time. Type checking stays with `pnpm typecheck`.
 */
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Builds `<root>/packages/server/dist` from `<root>/packages/server/src` (the benchmarks build their snapshot). */
export async function buildServer(root: string = repoRoot): Promise<string> {
  const src = path.join(root, 'packages/server/src');
  const out = path.join(root, 'packages/server/dist');
  const entryPoints = (fs.readdirSync(src, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-support.ts') && !f.endsWith('.d.ts'))
    .map((f) => path.join(src, f));
  fs.rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir: out,
    outbase: src,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
  return path.join(out, 'main.js');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildServer();
