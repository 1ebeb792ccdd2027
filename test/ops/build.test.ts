/**
 * `pnpm start` transpiles only when packages/server/dist is stale (issue 21): scripts/build.ts stamps dist with
 * its inputs, and `node scripts/build-stamp.mjs` (what `pnpm start` runs first) says whether it is up to date.
 * A scratch copy of the server's sources is built, then changed in each way that must cause a rebuild.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../scripts/build.js';
import { removeDir, scratchDir } from '../helpers/process.js';

const repo = path.resolve(import.meta.dirname, '../..');

/** Exit status of the check `pnpm start` runs, on the scratch tree. */
function check(root: string): number | null {
  return spawnSync(process.execPath, [path.join(repo, 'scripts/build-stamp.mjs'), root]).status;
}

describe('the build is skipped when dist is up to date', () => {
  let root: string;
  let src: string;
  let dist: string;
  beforeAll(() => {
    root = scratchDir('mlflow-ts-build-');
    src = path.join(root, 'packages/server/src');
    dist = path.join(root, 'packages/server/dist');
    fs.cpSync(path.join(repo, 'packages/server/src'), src, { recursive: true });
    fs.copyFileSync(path.join(repo, 'packages/server/tsconfig.json'), path.join(root, 'packages/server/tsconfig.json'));
    fs.copyFileSync(path.join(repo, 'tsconfig.base.json'), path.join(root, 'tsconfig.base.json'));
  });
  afterAll(() => removeDir(root));

  it('is stale before the first build and up to date after it', async () => {
    expect(check(root)).toBe(1);
    const main = await buildServer(root);
    expect(main).toBe(path.join(dist, 'main.js'));
    expect(fs.existsSync(main)).toBe(true);
    expect(check(root)).toBe(0);
  }, 60_000);

  it('a touched file with the same content keeps it up to date; a changed, added or removed source makes it stale', async () => {
    const log = path.join(src, 'log.ts');
    const original = fs.readFileSync(log, 'utf8');
    fs.utimesSync(log, new Date(), new Date());
    expect(check(root)).toBe(0);

    fs.writeFileSync(log, `${original}\n// changed\n`);
    expect(check(root)).toBe(1);
    await buildServer(root);
    expect(check(root)).toBe(0);

    fs.writeFileSync(path.join(src, 'added.ts'), 'export const added = 1;\n');
    expect(check(root)).toBe(1);
    await buildServer(root);
    expect(fs.existsSync(path.join(dist, 'added.js'))).toBe(true);
    expect(check(root)).toBe(0);

    fs.rmSync(path.join(src, 'added.ts'));
    expect(check(root)).toBe(1);
    await buildServer(root);
    expect(fs.existsSync(path.join(dist, 'added.js'))).toBe(false);
    expect(check(root)).toBe(0);
  }, 60_000);

  it('a test file does not count; a changed tsconfig or a missing output does', async () => {
    fs.writeFileSync(path.join(src, 'scratch.test.ts'), 'export {};\n');
    expect(check(root)).toBe(0);
    fs.rmSync(path.join(src, 'scratch.test.ts'));

    const tsconfig = path.join(root, 'packages/server/tsconfig.json');
    const original = fs.readFileSync(tsconfig, 'utf8');
    fs.writeFileSync(tsconfig, `${original}\n`);
    expect(check(root)).toBe(1);
    fs.writeFileSync(tsconfig, original);
    expect(check(root)).toBe(0);

    fs.rmSync(path.join(dist, 'log.js'));
    expect(check(root)).toBe(1);
    await buildServer(root);
    expect(check(root)).toBe(0);
  }, 60_000);
});
