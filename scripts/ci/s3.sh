#!/usr/bin/env bash
# Starts an S3-protocol server for the artifact test suites: moto_server from the project virtualenv
# (${VENV:-.venv}, made by scripts/python-env.sh with moto[server]), on a free loopback port, in the
# background. Creates nothing (each suite makes its own buckets). Prints only shell lines for eval:
#
#   eval "$(bash scripts/ci/s3.sh)"     # sets S3_TEST_ENDPOINT (and S3_TEST_MOTO_PID, for kill)
#
# On failure it prints the reason to stderr and a `false` line, so `set -e` stops the caller.
set -uo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
LOG=${S3_TEST_LOG:-$(mktemp "${TMPDIR:-/tmp}/moto-server.XXXXXX")}

fail() {
  echo "scripts/ci/s3.sh: $*" >&2
  [ -s "$LOG" ] && tail -n 20 "$LOG" >&2
  echo false
  exit 1
}

[ -x "$VENV/bin/moto_server" ] || fail "$VENV/bin/moto_server not found (run scripts/python-env.sh, or set VENV)"
PY="$VENV/bin/python"
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()') ||
  fail "cannot find a free port"

# Detached from our stdout, so that the caller's $(…) returns at once.
nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" </dev/null >"$LOG" 2>&1 &
PID=$!

for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=1)" 2>/dev/null; then
    echo "export S3_TEST_ENDPOINT=http://127.0.0.1:$PORT"
    echo "export S3_TEST_MOTO_PID=$PID"
    exit 0
  fi
  kill -0 "$PID" 2>/dev/null || fail "moto_server exited (log: $LOG)"
  sleep 0.3
done
kill "$PID" 2>/dev/null
fail "moto_server did not answer on port $PORT within 30 s (log: $LOG)"
