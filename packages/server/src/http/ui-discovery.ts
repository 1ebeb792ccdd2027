/**
 * Which MLflow UI build to serve (MLFLOW_UI_DIR): a directory given, none ('' turns the UI off), or,
 * unset, the build inside an installed `mlflow` Python package (`mlflow/server/js/build`), looked for once
 * at start: the interpreters of an `mlflow` and a `python3` on PATH are asked where the package is, each
 * with a short timeout (find_spec only: nothing is imported, so this takes tens of milliseconds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { ConfigError } from '../config.js';
import type { Logger } from '../log.js';
import { isUiBuild } from './ui.js';

const FIND_SPEC = [
  'import importlib.util as u',
  "s = u.find_spec('mlflow')",
  "print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')",
].join('; ');

const BUILD_IN_PACKAGE = ['server', 'js', 'build'];

export interface DiscoveryOptions {
  /** PATH to search (default: the process's). */
  searchPath?: string;
  /** Per interpreter (default 5 s). */
  timeoutMs?: number;
}

/** The UI build to serve, or undefined for none. A directory named by MLFLOW_UI_DIR must hold a build. */
export async function findUiDir(setting: string | undefined, log: Logger, opts: DiscoveryOptions = {}): Promise<string | undefined> {
  if (setting === '') return undefined;
  if (setting !== undefined) {
    if (!isUiBuild(setting)) throw new ConfigError(`MLFLOW_UI_DIR must name an MLflow UI build (a directory with index.html), got '${setting}'`);
    log.info('MLflow UI served', { dir: setting, from: 'MLFLOW_UI_DIR' });
    return setting;
  }
  for (const python of interpreters(opts.searchPath ?? process.env.PATH ?? '')) {
    const pkg = await packageDir(python, opts.timeoutMs ?? 5000);
    if (!pkg) continue;
    const dir = path.join(pkg, ...BUILD_IN_PACKAGE);
    if (isUiBuild(dir)) {
      log.info('MLflow UI served', { dir, from: python });
      return dir;
    }
  }
  log.info('MLflow UI not served: no MLflow UI build found (set MLFLOW_UI_DIR to serve one)');
  return undefined;
}

/** The interpreter of an `mlflow` script on PATH (its shebang), then `python3` on PATH. */
function interpreters(searchPath: string): string[] {
  const out: string[] = [];
  const mlflow = onPath('mlflow', searchPath);
  if (mlflow) {
    const shebang = /^#!\s*(\S+)/.exec(readHead(mlflow))?.[1];
    if (shebang && path.isAbsolute(shebang) && !shebang.endsWith('/env')) out.push(shebang);
  }
  const python3 = onPath('python3', searchPath);
  if (python3 && !out.includes(python3)) out.push(python3);
  return out;
}

function onPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      /* not here */
    }
  }
  return undefined;
}

function readHead(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(256);
      return buf.toString('utf8', 0, fs.readSync(fd, buf, 0, buf.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Where `python` finds the mlflow package, or undefined (not installed, failed, or too slow). */
function packageDir(python: string, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ['-c', FIND_SPEC], { timeout: timeoutMs, killSignal: 'SIGKILL', windowsHide: true }, (err, stdout) => {
      const dir = stdout?.toString().trim();
      resolve(!err && dir ? dir : undefined);
    });
  });
}
