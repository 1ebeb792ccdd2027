/**
 * Whether packages/server/dist is up to date with its sources, so that `pnpm start` transpiles only after a
 * change. Plain JavaScript on purpose: `pnpm start` runs this check with plain `node`, which starts in ~0.06 s
 * where tsx takes ~0.4 s. scripts/build.ts writes the stamp after each build.
 *
 * The stamp is a SHA-256 over everything the output depends on: the esbuild version, the build scripts
 * themselves (their options), the tsconfig files esbuild reads, and the path and content of every source file.
 *
 *   node scripts/build-stamp.mjs [root]    exit 0 when <root>'s dist is up to date (default: this checkout), 1 when it must be built
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Where the stamp lives: inside dist, so that removing dist removes it. */
export const STAMP_FILE = '.build-stamp';

/** The server's source files that are transpiled, relative to `src`, sorted (tests and declarations excluded). */
export function sourceFiles(src) {
  return fs
    .readdirSync(src, { recursive: true })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-support.ts') && !f.endsWith('.d.ts'))
    .sort();
}

/** The stamp of `<root>`'s server sources as they are now. */
export function buildStamp(root = repoRoot) {
  const hash = crypto.createHash('sha256');
  const add = (name, content) => hash.update(`${name}\0${content.length}\0`).update(content);
  // The esbuild that scripts/build.ts imports: this checkout's (a benchmark snapshot has no node_modules).
  add('esbuild', JSON.parse(fs.readFileSync(createRequire(import.meta.url).resolve('esbuild/package.json'), 'utf8')).version);
  // The build scripts that run (their options) and the tsconfig files esbuild reads from the tree it builds.
  for (const f of ['scripts/build.ts', 'scripts/build-stamp.mjs']) add(f, fs.readFileSync(path.join(repoRoot, f)));
  for (const f of ['tsconfig.base.json', 'packages/server/tsconfig.json']) {
    const file = path.join(root, f);
    add(f, fs.existsSync(file) ? fs.readFileSync(file) : '');
  }
  const src = path.join(root, 'packages/server/src');
  for (const f of sourceFiles(src)) add(`src/${f}`, fs.readFileSync(path.join(src, f)));
  return hash.digest('hex');
}

/** True when `<root>/packages/server/dist` was built from the sources as they are now and is complete. */
export function isUpToDate(root = repoRoot) {
  const out = path.join(root, 'packages/server/dist');
  let stored;
  try {
    stored = fs.readFileSync(path.join(out, STAMP_FILE), 'utf8').trim();
  } catch {
    return false;
  }
  const src = path.join(root, 'packages/server/src');
  // A removed output file (a partial clean-up) also means a rebuild.
  const complete = sourceFiles(src).every((f) => fs.existsSync(path.join(out, f.replace(/\.ts$/, '.js'))));
  return complete && stored === buildStamp(root);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exit(isUpToDate(process.argv[2]) ? 0 : 1);
