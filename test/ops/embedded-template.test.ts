/**
 * A new embedded data directory is a copy of a template made once (store/pglite-template.ts): real initdb runs in
 * child processes, real PGlite opens the copies. Each test uses its own cache directory, never the installation's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteStartParams } from '../../packages/server/src/store/pglite-memory.js';
import { ensureTemplate, initialiseDataDir, STALE_SCRATCH_MS, templateDir } from '../../packages/server/src/store/pglite-template.js';
import type { Logger } from '../../packages/server/src/log.js';
import { removeDir, scratchDir } from '../helpers/process.js';

const PARAMS = pgliteStartParams(PGlite.defaultStartParams);

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const none = () => {};
  return { debug: none, info: none, error: none, warn: (msg: string) => void warnings.push(msg), warnings } as unknown as Logger & { warnings: string[] };
}

/** Opens `dataDir` with the server's start parameters, writes a row and reads it back, then the setting. */
async function usable(dataDir: string): Promise<{ row: unknown; sharedBuffers: unknown }> {
  const db = new PGlite(dataDir, { startParams: PARAMS });
  try {
    await db.exec('CREATE TABLE t (v text); INSERT INTO t VALUES ($$kept$$)');
    const row = (await db.query<{ v: string }>('SELECT v FROM t')).rows[0];
    const sharedBuffers = (await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]?.shared_buffers;
    return { row, sharedBuffers };
  } finally {
    await db.close();
  }
}

describe('embedded data directories from a template', () => {
  const dirs: string[] = [];
  const scratch = (prefix: string) => {
    const d = scratchDir(prefix);
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach(removeDir));

  it('makes the template once, even when asked twice at the same time, and copies it into each new directory', async () => {
    const cache = scratch('mlflow-ts-template-cache-');
    const made = await Promise.all([ensureTemplate(PARAMS, true, cache), ensureTemplate(PARAMS, true, cache)]);
    expect(made[0]).toBe(templateDir(PARAMS, cache));
    expect(made[1]).toBe(made[0]);
    // Only the template is left: no half-made scratch directory of the process that lost the race.
    expect(fs.readdirSync(cache)).toEqual([path.basename(made[0]!)]);
    const madeAt = fs.statSync(path.join(made[0]!, 'PG_VERSION')).mtimeMs;

    const log = recordingLogger();
    const parent = scratch('mlflow-ts-template-data-');
    const a = path.join(parent, 'a');
    fs.mkdirSync(a); // as openPglite leaves it: created, empty
    expect(await initialiseDataDir(a, PARAMS, true, log, cache)).toBe('template');
    fs.chmodSync(made[0]!, 0o755); // readable by all, as the container image has it
    expect(await initialiseDataDir(path.join(parent, 'b'), PARAMS, true, log, cache)).toBe('template');
    // Each copy is its owner's only, like a data directory made by initdb.
    for (const d of [a, path.join(parent, 'b')]) expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    expect(log.warnings).toEqual([]);
    // No staging directory left beside the data directories; the template was not made again.
    expect(fs.readdirSync(parent).sort()).toEqual(['a', 'b']);
    expect(fs.statSync(path.join(made[0]!, 'PG_VERSION')).mtimeMs).toBe(madeAt);
    // Complete copies before anything opens them (PGlite would otherwise bootstrap an empty directory itself).
    for (const d of [a, path.join(parent, 'b')]) expect(fs.readdirSync(d).sort()).toEqual(fs.readdirSync(made[0]!).sort());

    // Each copy is a working database of its own; writing one changes neither the other nor the template.
    expect(await usable(a)).toEqual({ row: { v: 'kept' }, sharedBuffers: '8MB' });
    expect(await usable(path.join(parent, 'b'))).toEqual({ row: { v: 'kept' }, sharedBuffers: '8MB' });
    const db = new PGlite(made[0]!, { startParams: PARAMS });
    try {
      expect((await db.query(`SELECT to_regclass('public.t')::text AS t`)).rows).toEqual([{ t: null }]);
    } finally {
      await db.close();
    }

    // Scratch directories a killed process left behind go with the next copy once they are an hour old;
    // younger ones may be another process's work in progress, and other names are not ours.
    const hourAgo = (Date.now() - STALE_SCRATCH_MS - 60_000) / 1000;
    const leftover = (dir: string, old: boolean) => {
      fs.mkdirSync(path.join(dir, 'base'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'base', 'f'), 'x');
      if (old) fs.utimesSync(dir, hourAgo, hourAgo);
      return dir;
    };
    const staleMaking = leftover(path.join(cache, '.making-stale'), true);
    const freshMaking = leftover(path.join(cache, '.making-fresh'), false);
    const staleCopy = leftover(path.join(parent, 'c.new-stale'), true);
    const freshCopy = leftover(path.join(parent, 'c.new-fresh'), false);
    const otherCopy = leftover(path.join(parent, 'a.new-old'), true); // another data directory's: left to its copies
    expect(await initialiseDataDir(path.join(parent, 'c'), PARAMS, true, log, cache)).toBe('template');
    for (const gone of [staleMaking, staleCopy]) expect(fs.existsSync(gone)).toBe(false);
    for (const kept of [freshMaking, freshCopy, otherCopy]) expect(fs.existsSync(path.join(kept, 'base', 'f'))).toBe(true);
    expect(fs.readdirSync(cache).sort()).toEqual(['.making-fresh', path.basename(made[0]!)]);
  }, 240_000);

  it('keys the template by the start parameters', () => {
    const cache = '/nonexistent-cache';
    expect(templateDir(PARAMS, cache)).not.toBe(templateDir([...PARAMS, '-c', 'work_mem=8MB'], cache));
    expect(templateDir(PARAMS, cache)).toBe(templateDir([...PARAMS], cache));
  });

  it('falls back to initdb in place, with a warning, when no template can be made', async () => {
    const parent = scratch('mlflow-ts-template-data-');
    const notADir = path.join(parent, 'file');
    fs.writeFileSync(notADir, 'x');
    const log = recordingLogger();
    const dataDir = path.join(parent, 'db');
    fs.mkdirSync(dataDir);
    expect(await initialiseDataDir(dataDir, PARAMS, true, log, path.join(notADir, 'cache'))).toBe('initdb');
    expect(log.warnings).toEqual(['no template for the embedded database; running initdb in the data directory']);
    expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(await usable(dataDir)).toEqual({ row: { v: 'kept' }, sharedBuffers: '8MB' });
  }, 240_000);

  it('does not copy over the leftovers of an interrupted initdb: it runs initdb there, as before', async () => {
    const cache = scratch('mlflow-ts-template-cache-');
    const dataDir = path.join(scratch('mlflow-ts-template-data-'), 'db');
    fs.mkdirSync(path.join(dataDir, 'base'), { recursive: true });
    expect(await initialiseDataDir(dataDir, PARAMS, true, recordingLogger(), cache)).toBe('initdb');
    expect(fs.readdirSync(cache)).toEqual([]); // no template made for it
    expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(await usable(dataDir)).toEqual({ row: { v: 'kept' }, sharedBuffers: '8MB' });
  }, 240_000);
});
