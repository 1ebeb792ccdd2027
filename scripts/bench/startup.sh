#!/usr/bin/env bash
# Start-up and idle memory of this checkout (docs/benchmarks-round-two.md, "Start-up and idle memory"), 3 starts each:
#   - `pnpm start` to the first successful /health on the embedded engine: a new data directory, then the same one;
#   - idle RSS on PostgreSQL (DATABASE_URL, a scratch database it creates and drops) 5 s and 40 s after one create and
#     20 × (get, search) requests.
# Prints wall seconds, and the CPU seconds of the server process (initdb child included). Needs curl and psql.
#   PG=postgres://postgres:postgres@127.0.0.1:5432/postgres bash scripts/bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
PG=${PG:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
db="startup_bench_$$"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  rm -rf "$work"
  psql -q "$PG" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
}
trap cleanup EXIT
port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
now() { date +%s.%N; }
# The server's node process under the process group started by setsid (pnpm → sh → node).
server_pid() { pgrep -g "$1" -f 'packages/server/dist/main.js' | tail -n 1; }
cpu() { awk '{printf "%.2f", ($14+$15+$16+$17)/100}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
wait_health() { # port, process group: gives up when the server exits or after 180 s
  local n=0
  until curl -sf "localhost:$1/health" >/dev/null; do
    n=$((n + 1))
    if [ "$n" -gt 9000 ] || ! kill -0 "$2" 2>/dev/null; then echo "no /health; log:" >&2; tail -n 20 "$work/log" >&2; exit 1; fi
    sleep 0.02
  done
}

start_embedded() { # data dir -> "wall cpu"
  local p t0 g s
  p=$(port)
  t0=$(now)
  setsid env PORT="$p" LOG_LEVEL=warn DATA_DIR="$1" MLFLOW_UI_DIR= pnpm start >"$work/log" 2>&1 &
  g=$!
  pids+=("$g")
  wait_health "$p" "$g"
  s=$(server_pid "$g")
  echo "$(echo "$(now) - $t0" | bc) $(cpu "$s")"
  kill -TERM -- "-$g"
  wait "$g" 2>/dev/null || true
}

pnpm build >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
  echo "embedded, new data directory:      $(start_embedded "$work/data$i") (wall s, CPU s)"
  echo "embedded, existing data directory: $(start_embedded "$work/data$i") (wall s, CPU s)"
done

psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null
url="${PG%/*}/$db"
for i in 1 2 3; do
  p=$(port)
  setsid env PORT="$p" LOG_LEVEL=warn DATABASE_URL="$url" MLFLOW_UI_DIR= pnpm start >"$work/log" 2>&1 &
  g=$!
  pids+=("$g")
  wait_health "$p" "$g"
  s=$(server_pid "$g")
  curl -s -X POST "localhost:$p/api/2.0/mlflow/registered-models/create" -H 'content-type: application/json' -d "{\"name\":\"idle-$i\"}" >/dev/null
  for _ in $(seq 20); do
    curl -s "localhost:$p/api/2.0/mlflow/registered-models/get?name=idle-$i" >/dev/null
    curl -s "localhost:$p/api/2.0/mlflow/registered-models/search" >/dev/null
  done
  sleep 5
  five=$(rss "$s")
  sleep 35
  echo "PostgreSQL idle RSS: ${five} MB at 5 s, $(rss "$s") MB at 40 s"
  kill -TERM -- "-$g"
  wait "$g" 2>/dev/null || true
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
