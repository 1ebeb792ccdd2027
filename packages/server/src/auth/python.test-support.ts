/**
 * Test support (imported by the auth tests only; never by the server).
 * The venv with MLflow 3.17.2 (and werkzeug) that the interop tests run: MLFLOW_VENV, else the project's
 * cache (scripts/python-env.sh). Missing venv: the Python parts are skipped locally and fail in CI.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const VENV = process.env.MLFLOW_VENV ?? path.join(os.homedir(), '.cache/mlflow-registry-ts/venv');
export const PYTHON = path.join(VENV, 'bin/python');
export const HAVE_PYTHON = fs.existsSync(PYTHON);
/** True when the Python parts must be skipped (no venv, and not in CI, where a missing venv is a failure). */
export const SKIP_PYTHON = !HAVE_PYTHON && process.env.CI !== 'true';

/** Runs `script` in the venv's Python with `input` as JSON on stdin; returns its stdout parsed as JSON. */
export function runPython<T>(script: string, input: unknown): T {
  const out = execFileSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
  return JSON.parse(out) as T;
}

/**
 * Python prelude that loads MLflow 3.17.2's pure permission modules (mlflow/server/auth/permissions.py and
 * requirements.py) without importing the auth app itself (Flask, its store, its config file).
 */
export const LOAD_MLFLOW_PERMISSIONS = `
import importlib.util, pathlib, sys, types
_root = pathlib.Path(importlib.util.find_spec("mlflow").origin).parent
for _name, _dir in (("mlflow.server", _root / "server"), ("mlflow.server.auth", _root / "server/auth")):
    if _name not in sys.modules:
        _m = types.ModuleType(_name); _m.__path__ = [str(_dir)]; sys.modules[_name] = _m
def _load(name, file):
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec); sys.modules[name] = mod; spec.loader.exec_module(mod); return mod
permissions = _load("mlflow.server.auth.permissions", _root / "server/auth/permissions.py")
requirements = _load("mlflow.server.auth.requirements", _root / "server/auth/requirements.py")
`;
