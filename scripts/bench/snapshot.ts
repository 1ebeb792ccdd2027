/**
 * Runnable copies of our server for the A/B comparisons (write-path.ts, read-cache.ts): the server's
 * sources of a git revision (`git archive`, read-only) or of the working tree, with the spec and the
 * installed node_modules linked in, built as `pnpm start` builds them. Edits to the working tree during
 * a run cannot mix versions.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildServer } from '../build.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function snapshot(dest: string, fill: (serverDir: string) => void): Promise<string> {
  const server = path.join(dest, 'packages', 'server');
  fs.mkdirSync(server, { recursive: true });
  fill(server);
  for (const f of ['package.json', 'tsconfig.json']) fs.copyFileSync(path.join(repo, 'packages', 'server', f), path.join(server, f));
  fs.cpSync(path.join(repo, 'openapi'), path.join(dest, 'openapi'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.base.json']) fs.copyFileSync(path.join(repo, f), path.join(dest, f));
  fs.symlinkSync(path.join(repo, 'packages', 'server', 'node_modules'), path.join(server, 'node_modules'));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dest, 'node_modules'));
  await buildServer(dest);
  return dest;
}

/** The server as of git revision `rev`. */
export function snapshotAt(rev: string, dest: string): Promise<string> {
  return snapshot(dest, () => {
    fs.mkdirSync(dest, { recursive: true });
    execSync(`git -C ${JSON.stringify(repo)} archive ${rev} packages/server/src | tar -x -C ${JSON.stringify(dest)}`);
  });
}

/** The server as the working tree has it now. */
export function snapshotOfWorkingTree(dest: string): Promise<string> {
  return snapshot(dest, (server) =>
    fs.cpSync(path.join(repo, 'packages', 'server', 'src'), path.join(server, 'src'), { recursive: true, filter: (src) => !src.endsWith('.test.ts') }),
  );
}
