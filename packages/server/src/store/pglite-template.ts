/**
 * A new embedded data directory is a copy of a template instead of a fresh initdb. PostgreSQL's bootstrap inside
 * WebAssembly costs ~4–6 s of CPU, most of a first start; its result depends only on the PGlite build and the
 * start parameters. So it runs once per installation (`pnpm build` makes the template; else the first start that
 * needs one does), under packages/server/node_modules/.cache, keyed by PGlite's version and the parameters, and
 * every new data directory is a copy of it (~40 MB of files, tens of milliseconds).
 *
 * Safe to share: a template is written in a scratch directory and renamed into place whole, so a reader never
 * sees half of one, and two processes making it at once both succeed (the second rename loses and is dropped).
 * A data directory is written the same way. Any failure (read-only install, full disk) falls back to initdb in
 * the data directory itself, as before templates. Scratch directories left by a killed process are removed by
 * a later make or copy once they are an hour old.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { initdbInChild, needsInitdb } from './pglite-memory.js';

/** packages/server/node_modules/.cache/mlflow-registry-ts (the same from src/store and dist/store). */
const CACHE_ROOT = fileURLToPath(new URL('../../node_modules/.cache/mlflow-registry-ts/', import.meta.url));

/** The version in PGlite's package.json (found above its resolved entry point). */
function pgliteVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@electric-sql/pglite' && pkg.version) return pkg.version;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('the version of @electric-sql/pglite was not found');
    dir = up;
  }
}

/** Where the template for these start parameters lives (whether or not it exists yet). */
export function templateDir(startParams: readonly string[], cacheRoot: string = CACHE_ROOT): string {
  const key = crypto.createHash('sha256').update(JSON.stringify(startParams)).digest('hex').slice(0, 16);
  return path.join(cacheRoot, `pglite-${pgliteVersion()}-${key}`);
}

/**
 * A scratch directory older than this is a leftover of a killed process (an initdb takes seconds to minutes,
 * a copy less): removed by the next make or copy.
 */
export const STALE_SCRATCH_MS = 60 * 60 * 1000;

/** Removes the entries of `parent` named `prefix…` last changed more than STALE_SCRATCH_MS ago (best effort). */
function sweepStale(parent: string, prefix: string, now = Date.now()): void {
  let names: string[];
  try {
    names = fs.readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const entry = path.join(parent, name);
    try {
      if (now - fs.lstatSync(entry).mtimeMs > STALE_SCRATCH_MS) fs.rmSync(entry, { recursive: true, force: true });
    } catch {
      // Gone meanwhile, or not ours to remove: either way nothing to do.
    }
  }
}

const MAKING_PREFIX = '.making-';

/** The template's directory, made first (initdb in a child process) when there is none. */
export async function ensureTemplate(startParams: readonly string[], baselineOnly: boolean, cacheRoot: string = CACHE_ROOT): Promise<string> {
  sweepStale(cacheRoot, MAKING_PREFIX);
  const dir = templateDir(startParams, cacheRoot);
  if (!needsInitdb(dir)) return dir;
  fs.mkdirSync(cacheRoot, { recursive: true });
  const scratch = fs.mkdtempSync(path.join(cacheRoot, MAKING_PREFIX));
  try {
    await initdbInChild(scratch, startParams, baselineOnly);
    placeWhole(scratch, dir);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Renames the finished directory `from` to `to`, which must be absent or empty. When another process put a
 * complete directory there first, that one stays and `from` is left for the caller to remove.
 */
function placeWhole(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if (!needsInitdb(to)) return;
    throw err;
  }
}

/** True when `dir` has no entries (or does not exist). */
function isEmptyDir(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * Creates the database in `dataDir` (absent or empty): a copy of the template, or initdb in a child process when
 * there is no usable template or `dataDir` holds leftovers of an interrupted initdb. Says which it did.
 */
export async function initialiseDataDir(
  dataDir: string,
  startParams: readonly string[],
  baselineOnly: boolean,
  log: Logger,
  cacheRoot: string = CACHE_ROOT,
): Promise<'template' | 'initdb'> {
  if (isEmptyDir(dataDir)) {
    let staging: string | undefined;
    try {
      const template = await ensureTemplate(startParams, baselineOnly, cacheRoot);
      const target = dataDir.replace(/\/+$/, '');
      sweepStale(path.dirname(target), `${path.basename(target)}.new-`);
      staging = fs.mkdtempSync(`${target}.new-`);
      fs.cpSync(template, staging, { recursive: true });
      // The copy is the owner's only, whatever the template's modes (an image's is readable by all).
      fs.chmodSync(staging, 0o700);
      placeWhole(staging, dataDir);
      return 'template';
    } catch (err) {
      log.warn('no template for the embedded database; running initdb in the data directory', { reason: (err as Error).message });
    } finally {
      if (staging) fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  await initdbInChild(dataDir, startParams, baselineOnly);
  return 'initdb';
}
