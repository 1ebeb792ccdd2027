#!/usr/bin/env bash
# CI, Python side: the official MLflow client against our server (test/python), our server side by side
# with `mlflow server` on MLflow's own PostgreSQL database (test/python/test_mlflow_db.py), the
# authentication suite against both `mlflow server --app-name basic-auth` and our server with AUTH=basic
# (test/python/test_auth.py, TEST_AUTH_SERVERS), the workspace suite against both `mlflow server
# --enable-workspaces` and our server with MLFLOW_ENABLE_WORKSPACES=true (test/python/test_workspaces.py,
# TEST_WORKSPACE_SERVERS), and the differential replay against `mlflow server`, its workspace section
# against `mlflow server --enable-workspaces` (test/replay), and the client suites and the replay again with
# our metadata in S3 (METADATA_STORE=s3, on the S3 server at S3_TEST_ENDPOINT). Installs its own virtualenv
# (scripts/python-env.sh) and expects what .ci/run provides: node_modules and a PostgreSQL server at
# TEST_DATABASE_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres).
#
#   bash scripts/ci/python.sh                 # everything
#   bash scripts/ci/python.sh -k replay       # extra arguments go to pytest
#   bash scripts/ci/python.sh -k test_auth    # the authentication suite alone (both servers)
#   bash scripts/ci/python.sh -k workspace    # the workspace suite, side-by-side test and replay section
set -euo pipefail
cd "$(dirname "$0")/../.."

export TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
export CI=${CI:-true}
export REQUIRE_ARTIFACTS=${REQUIRE_ARTIFACTS:-1}
# test_auth.py runs, unchanged, against MLflow's basic-auth app and against ours, side by side.
export TEST_AUTH_SERVERS=${TEST_AUTH_SERVERS:-mlflow,ours}
# test_workspaces.py runs, unchanged, against `mlflow server --enable-workspaces` and against ours.
export TEST_WORKSPACE_SERVERS=${TEST_WORKSPACE_SERVERS:-mlflow,ours}
# The virtualenv lives outside the clone so that later CI runs on the same machine reuse it (its stamp
# file re-installs whenever the pinned requirements change).
export VENV=${VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mlflow-registry-ts/venv}

# Every server's work directory (tens of MB with PGlite) lives under one scratch root, removed when
# the run ends: leaked ones once filled a CI machine's disk after many runs.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlflow-ts-python-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

if [ ! -d node_modules ]; then pnpm install --frozen-lockfile; fi

venv=$(bash scripts/python-env.sh | tail -n 1)
# MLflow's basic-auth app (test_auth.py) imports flask_wtf; a venv without it must stop CI here, loudly,
# not turn the auth suite into skips.
if ! "$venv/bin/python" -c 'import flask_wtf' 2>/dev/null; then
  echo "python.sh: $venv cannot import MLflow's basic-auth app (flask_wtf missing?): Flask-WTF is pinned in" \
       "test/python/requirements.txt; re-run scripts/python-env.sh" >&2
  "$venv/bin/python" -c 'import flask_wtf' >&2 || true
  exit 1
fi

set +e
"$venv/bin/python" -m pytest test/python test/replay -p no:cacheprovider -q -rfEs --durations=8 "$@"
rc=$?
# The official client's registry, prompt and webhook suites and the differential replay once more, with
# our metadata in S3 (METADATA_STORE=s3, test/replay/report-s3.md), when an S3 server is there (.ci/run
# starts moto; without one, CI fails here rather than skip it).
if [ $# -eq 0 ]; then
  if [ -n "${S3_TEST_ENDPOINT:-}" ]; then
    TEST_OURS_STORE=s3 REPLAY_OURS_DB=s3 "$venv/bin/python" -m pytest test/python/test_registered_models.py \
      test/python/test_model_versions.py test/python/test_search.py test/python/test_aliases_stages.py \
      test/python/test_model_uris.py test/python/test_prompts.py test/python/test_webhooks.py test/replay/test_replay.py \
      -k "not workspace" -p no:cacheprovider -q -rfEs
    s3rc=$?
    [ "$rc" -ne 0 ] || rc=$s3rc
  elif [ -n "${CI:-}" ]; then
    echo "python.sh: S3_TEST_ENDPOINT is not set: the METADATA_STORE=s3 run cannot run (start moto: scripts/ci/s3.sh)" >&2
    rc=1
  fi
fi
set -e
if [ "$rc" -eq 5 ]; then
  echo "python.sh: pytest collected no tests: the Python suites are not set up" >&2
  exit 1
fi
if [ "$rc" -ne 0 ]; then
  echo "python.sh: pytest failed (exit $rc); replay report: test/replay/report.md" >&2
fi
exit "$rc"
