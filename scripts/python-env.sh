#!/usr/bin/env bash
# Creates or updates the Python virtualenv of the compatibility suites (test/python, test/replay):
# the official MLflow client and server at the version pinned in test/python/requirements.txt, plus
# moto, pytest, psycopg2 and requests. Idempotent: a stamp file keyed on the requirements, the
# constraints and the interpreter makes a second run return at once.
#
#   scripts/python-env.sh            # venv at ./.venv (repo root)
#   VENV=/tmp/venv scripts/python-env.sh
#   PYTHON=python3.12 scripts/python-env.sh
#
# Prints the venv's directory on stdout (its only output there); progress goes to stderr.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-.venv}
case "$VENV" in /*) ;; *) VENV="$ROOT/$VENV" ;; esac
REQ="$ROOT/test/python/requirements.txt"
CONS="$ROOT/test/python/constraints.txt"

pick_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  for p in python3.11 python3.12 python3.13 python3.10 python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      echo "$p"; return
    fi
  done
  echo "python-env: no Python >= 3.10 found (set PYTHON)" >&2
  exit 1
}
PY=$(pick_python)
PY_ID="$(command -v "$PY") $("$PY" -c 'import sys; print(sys.version)')"

want=$( { cat "$REQ"; [ -f "$CONS" ] && cat "$CONS"; echo "$PY_ID"; } | sha256sum | cut -d' ' -f1)
stamp="$VENV/.requirements-stamp"
if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python-env: $VENV is up to date" >&2
  echo "$VENV"
  exit 0
fi

make_venv() { "$PY" -m venv "$VENV" >&2; }
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$VENV"
  echo "python-env: creating $VENV with $PY_ID" >&2
  if ! make_venv 2>/tmp/python-env.$$.err; then
    # Debian's system Python ships venv/ensurepip separately.
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      ver=$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$ver-venv" >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
      rm -rf "$VENV"
      make_venv
    else
      cat /tmp/python-env.$$.err >&2
      rm -f /tmp/python-env.$$.err
      exit 1
    fi
  fi
  rm -f /tmp/python-env.$$.err
fi

echo "python-env: installing $(grep -cvE '^\s*(#|$)' "$REQ") pinned requirements into $VENV" >&2
pip_args=(--disable-pip-version-check --no-input --quiet -r "$REQ")
[ -f "$CONS" ] && pip_args+=(-c "$CONS")
"$VENV/bin/python" -m pip install "${pip_args[@]}" >&2
"$VENV/bin/python" - <<'PY'
import importlib.metadata as md
import sys
import mlflow, moto, pytest, psycopg2, requests, yaml  # noqa: F401  (all importable)
print("python-env: mlflow", md.version("mlflow"), "| moto", md.version("moto"), "| pytest", md.version("pytest"), file=sys.stderr)
PY
echo "$want" >"$stamp"
echo "$VENV"
