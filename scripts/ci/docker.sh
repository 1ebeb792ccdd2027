#!/usr/bin/env bash
# Builds the container image (Dockerfile) and smoke-tests it; validates compose.yaml and the devcontainer.
# Run by .ci/run as root after PostgreSQL and the S3 test server are up (TEST_DATABASE_URL, S3_TEST_ENDPOINT):
#
#   bash scripts/ci/docker.sh
#
# 1. Engine: docker.io, debootstrap and docker-compose from apt when missing. Unless DOCKER_HOST is set, a private
#    dockerd (vfs, no iptables, no bridge) on its own socket, with its data under DOCKER_CI_ROOT (default
#    ~/.cache/mlflow-registry-ts/docker, kept between runs for the base image), stopped at the end.
# 2. Base image: the Dockerfile's default NODE_IMAGE (the official node image) if present or pullable, else a local
#    equivalent from scripts/ci/docker-base.sh (Debian by debootstrap + Node.js from the npm registry), cached.
# 3. `docker build --network host` with BuildKit; image size printed.
# 4. Smoke (scripts/ci/docker-smoke.mjs), every container with --network host on a free port:
#    - embedded PGlite on a named /data volume: registry round trip, artifacts, errors, Host allowlist, non-root,
#      no dev tools in the image, HEALTHCHECK turns healthy, SIGTERM (docker stop) exits 0 promptly, and a new
#      container on the same volume still has the data;
#    - PostgreSQL (a fresh database on TEST_DATABASE_URL's server) with S3 artifacts (a bucket on S3_TEST_ENDPOINT,
#      made by compose.yaml's own create-bucket command) and a read-only root filesystem: the same checks, the rows
#      in PostgreSQL and the object in the bucket.
# 5. compose.yaml and .devcontainer/compose.yaml: `docker-compose config` (images are not pulled), required
#    variables enforced, wiring checked.
# Everything it starts or makes (containers, volumes, the image, the database, the bucket's server-side objects
# aside, the engine it started, scratch files) is removed at the end, pass or fail; the base image stays cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
T_START=$SECONDS
step() { printf '\n--> [docker] %s (%ds)\n' "$*" "$((SECONDS - T_START))"; }
die() { printf '[docker] FAIL: %s\n' "$*" >&2; exit 1; }

ID="mrt-ci-$$"
IMAGE="mlflow-registry-ts:$ID"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-ci-XXXXXX")
CONTAINERS=()
VOLUMES=()
PG_DB=""
OWN_DOCKERD_PID=""
RUN_DIR=""
IMAGE_BUILT=0

cleanup() {
  local rc=$? t0=$SECONDS
  set +e
  if [ -n "${DOCKER_HOST:-}" ] && [ -n "${DOCKER:-}" ]; then
    for c in "${CONTAINERS[@]}"; do "$DOCKER" rm -f -v "$c" >/dev/null 2>&1; done
    for v in "${VOLUMES[@]}"; do "$DOCKER" volume rm -f "$v" >/dev/null 2>&1; done
    printf '[docker] cleanup: containers %ds' "$((SECONDS - t0))"
    if [ "$IMAGE_BUILT" = 1 ]; then "$DOCKER" rmi -f "$IMAGE" >/dev/null 2>&1; fi
    printf ', image %ds' "$((SECONDS - t0))"
    if [ -n "$OWN_DOCKERD_PID" ]; then
      # Our own engine: nothing else uses it, so its build cache and dangling layers go too.
      "$DOCKER" builder prune -af >/dev/null 2>&1
      "$DOCKER" image prune -f >/dev/null 2>&1
    fi
    printf ', build cache %ds\n' "$((SECONDS - t0))"
  fi
  if [ -n "$PG_DB" ]; then psql "$TEST_DATABASE_URL" -qAtc "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1; fi
  if [ -n "$OWN_DOCKERD_PID" ]; then
    kill "$OWN_DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$OWN_DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$OWN_DOCKERD_PID" 2>/dev/null
  fi
  if [ -n "$RUN_DIR" ]; then
    # dockerd leaves its network namespace bind-mounted under its exec root.
    awk -v d="$RUN_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$RUN_DIR"
  fi
  rm -rf "$WORK"
  printf '[docker] cleanup: %ds\n' "$((SECONDS - t0))"
  [ $rc -eq 0 ] || printf '[docker] failed after %ds\n' "$((SECONDS - T_START))" >&2
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# ---------------------------------------------------------------------------------------------------------------
step "engine"
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "apt-get install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log"; die "apt-get install ${need[*]}"; }
fi
# A client that can build with BuildKit: one with the buildx plugin, else Debian's docker.io client (20.10 has
# BuildKit built in). The legacy builder would commit a full vfs copy of the image for every instruction.
if [ -z "${DOCKER:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then DOCKER=$(command -v docker); else DOCKER=/usr/bin/docker; fi
fi
[ -x "$DOCKER" ] || die "no docker client at $DOCKER"
export DOCKER

if [ -n "${DOCKER_HOST:-}" ]; then
  echo "using the engine at DOCKER_HOST=$DOCKER_HOST"
else
  DOCKER_CI_ROOT=${DOCKER_CI_ROOT:-$HOME/.cache/mlflow-registry-ts/docker}
  mkdir -p "$DOCKER_CI_ROOT"
  # One engine per data root: a concurrent run waits for this one.
  exec 9>"$DOCKER_CI_ROOT.lock"
  flock -w 900 9 || die "$DOCKER_CI_ROOT is in use by another run"
  RUN_DIR=/run/mlflow-ts-docker-$$
  mkdir -p "$RUN_DIR"
  export DOCKER_HOST="unix://$RUN_DIR/docker.sock"
  dockerd --data-root "$DOCKER_CI_ROOT" --exec-root "$RUN_DIR/exec" --pidfile "$RUN_DIR/dockerd.pid" \
    -H "$DOCKER_HOST" --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    >"$WORK/dockerd.log" 2>&1 &
  OWN_DOCKERD_PID=$!
  for _ in $(seq 1 60); do "$DOCKER" info >/dev/null 2>&1 && break; kill -0 "$OWN_DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
  "$DOCKER" info >/dev/null 2>&1 || { tail -20 "$WORK/dockerd.log"; die "dockerd did not start"; }
  echo "dockerd $("$DOCKER" version --format '{{.Server.Version}}') (pid $OWN_DOCKERD_PID, data root $DOCKER_CI_ROOT)"
fi

# ---------------------------------------------------------------------------------------------------------------
step "base image"
OFFICIAL=$(sed -n 's/^ARG NODE_IMAGE=//p' Dockerfile | head -1)           # e.g. node:24-bookworm-slim
[[ "$OFFICIAL" =~ ^node:([0-9]+)-([a-z]+)-slim$ ]] || die "cannot read the Node.js major and Debian codename from NODE_IMAGE=$OFFICIAL"
NODE_MAJOR=${NODE_MAJOR:-${BASH_REMATCH[1]}}
CODENAME=${BASH_REMATCH[2]}
OFFICIAL="node:$NODE_MAJOR-$CODENAME-slim"
T_BASE=$SECONDS
if "$DOCKER" image inspect "$OFFICIAL" >/dev/null 2>&1 || timeout 60 "$DOCKER" pull -q "$OFFICIAL" >/dev/null 2>&1; then
  BASE=$OFFICIAL
else
  echo "$OFFICIAL cannot be pulled here: using a local equivalent"
  BASE=$(bash scripts/ci/docker-base.sh "$NODE_MAJOR" "$CODENAME")
fi
echo "base: $BASE ($(( SECONDS - T_BASE )) s)"

# ---------------------------------------------------------------------------------------------------------------
step "build"
# Certificates this machine trusts beyond the usual roots (a TLS-inspecting proxy's CA), for the build stage's
# package downloads only (BUILD_CA_CERTS, see the Dockerfile): Debian's local CA directory, else a small
# NODE_EXTRA_CA_CERTS file.
CA_PEM=""
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null || compgen -G "/usr/local/share/ca-certificates/*/*.crt" >/dev/null; then
  CA_PEM=$(find /usr/local/share/ca-certificates -name '*.crt' -type f -exec cat {} +)
elif [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && [ "$(stat -c %s "$NODE_EXTRA_CA_CERTS")" -lt 65536 ]; then
  CA_PEM=$(cat "$NODE_EXTRA_CA_CERTS")
fi
T_BUILD=$SECONDS
IMAGE_BUILT=1
if ! DOCKER_BUILDKIT=1 "$DOCKER" build --network host --progress=plain \
  --build-arg NODE_IMAGE="$BASE" --build-arg BUILD_CA_CERTS="$CA_PEM" -t "$IMAGE" . >"$WORK/build.log" 2>&1; then
  tail -60 "$WORK/build.log"
  die "docker build"
fi
BUILD_S=$((SECONDS - T_BUILD))
size_mb() { "$DOCKER" image inspect --format '{{.Size}}' "$1" | awk '{printf "%.0f", $1 / 1e6}'; }
IMAGE_MB=$(size_mb "$IMAGE")
BASE_MB=$(size_mb "$BASE")
CONTEXT=$(grep -o 'transferring context: [0-9.]* *[kMG]*B' "$WORK/build.log" | tail -1 | sed 's/transferring context: //')
echo "built $IMAGE in ${BUILD_S} s (build context ${CONTEXT:-?})"
echo "image size: ${IMAGE_MB} MB (base ${BASE_MB} MB + server and production dependencies $((IMAGE_MB - BASE_MB)) MB)"

# ---------------------------------------------------------------------------------------------------------------
# Helpers for the running containers.
# AUTH=none: the checks run without logins; the server refuses to listen beyond loopback unless AUTH is set.
run_server() { # <name> <port> [docker run options…]; the image's HEALTHCHECK probed every 2 s here
  local name=$1 port=$2
  shift 2
  CONTAINERS+=("$name")
  "$DOCKER" run -d --name "$name" --network host -e PORT="$port" -e AUTH=none \
    --health-interval=2s --health-start-period=120s "$@" "$IMAGE" >/dev/null
}
wait_ready() { # <name> <port>: /health answers within 120 s (container creation on vfs copies the image)
  local name=$1 port=$2
  for _ in $(seq 1 240); do
    if node -e "fetch('http://127.0.0.1:$port/health').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))" 2>/dev/null; then return 0; fi
    if [ "$("$DOCKER" inspect --format '{{.State.Running}}' "$name")" != true ]; then
      "$DOCKER" logs "$name" 2>&1 | tail -20
      die "$name exited during start"
    fi
    sleep 0.5
  done
  "$DOCKER" logs "$name" 2>&1 | tail -20
  die "$name did not answer /health within 120 s"
}
smoke() { # <name> <port> <model> <phase>
  if ! node scripts/ci/docker-smoke.mjs "http://127.0.0.1:$2" "$3" "$4"; then
    "$DOCKER" logs "$1" 2>&1 | tail -30
    die "smoke checks on $1"
  fi
}
stop_check() { # <name>: SIGTERM (docker stop) → exit code 0, promptly, after the server's own shutdown
  local name=$1 t0 ms code logs
  t0=$(date +%s%N)
  "$DOCKER" stop -t 30 "$name" >/dev/null
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  code=$("$DOCKER" inspect --format '{{.State.ExitCode}}' "$name")
  [ "$code" = 0 ] || { "$DOCKER" logs "$name" 2>&1 | tail -20; die "$name exited with $code on SIGTERM"; }
  [ "$ms" -lt 5000 ] || die "$name took ${ms} ms to stop"
  logs=$("$DOCKER" logs "$name" 2>&1)
  [[ "$logs" == *'"shutting down","signal":"SIGTERM"'* ]] || die "$name did not log its SIGTERM shutdown"
  echo "  ok    docker stop (SIGTERM): exit 0 in ${ms} ms"
}

# ---------------------------------------------------------------------------------------------------------------
step "compose.yaml and the devcontainer"
COMPOSE_ENV=(POSTGRES_PASSWORD=ci-not-a-secret S3_ACCESS_KEY_ID=ci-key S3_SECRET_ACCESS_KEY=ci-secret)
env -u POSTGRES_PASSWORD -u S3_ACCESS_KEY_ID -u S3_SECRET_ACCESS_KEY \
  docker-compose -f compose.yaml --env-file .env.example config >"$WORK/compose-missing.txt" 2>&1 &&
  die "compose.yaml accepted the empty .env.example: its passwords must be required"
grep -q 'set POSTGRES_PASSWORD\|set S3_ACCESS_KEY_ID\|set S3_SECRET_ACCESS_KEY' "$WORK/compose-missing.txt" ||
  { cat "$WORK/compose-missing.txt"; die "compose.yaml: no clear message for a missing password"; }
echo "  ok    compose.yaml refuses to run without the passwords of .env"
env "${COMPOSE_ENV[@]}" docker-compose -f compose.yaml --env-file .env.example config >"$WORK/compose.yaml" 2>"$WORK/compose.err" ||
  { cat "$WORK/compose.err"; die "docker-compose config"; }
echo "  ok    docker-compose config ($(docker-compose version --short))"
# The wiring, read from the resolved file (the yaml package is a root devDependency).
node --input-type=module - "$WORK/compose.yaml" <<'EOF' || die "compose.yaml wiring"
import fs from 'node:fs';
import { parse } from 'yaml';
const c = parse(fs.readFileSync(process.argv[2], 'utf8'));
const s = c.services;
const fail = (m) => { console.error('  FAIL  ' + m); process.exit(1); };
for (const name of ['server', 'postgres', 's3', 'create-bucket']) if (!s[name]) fail(`no service ${name}`);
const env = s.server.environment;
const db = new URL(env.DATABASE_URL);
if (db.hostname !== 'postgres' || db.password !== 'ci-not-a-secret') fail(`DATABASE_URL ${env.DATABASE_URL}`);
if (new URL(env.S3_ENDPOINT_URL).hostname !== 's3' || !env.S3_BUCKET) fail('S3_ENDPOINT_URL/S3_BUCKET');
if (env.AWS_ACCESS_KEY_ID !== s.s3.environment.ROOT_ACCESS_KEY_ID || env.AWS_SECRET_ACCESS_KEY !== s.s3.environment.ROOT_SECRET_ACCESS_KEY) fail('S3 keys differ');
if (s.postgres.environment.POSTGRES_PASSWORD !== db.password) fail('PostgreSQL password differs');
const dep = s.server.depends_on;
if (dep.postgres?.condition !== 'service_healthy' || dep.s3?.condition !== 'service_healthy' || dep['create-bucket']?.condition !== 'service_completed_successfully') fail('depends_on conditions');
for (const name of ['postgres', 's3']) if (!s[name].healthcheck?.test) fail(`${name} has no health check`);
if (!s.server.build || s.server.ports?.[0]?.target !== 8000) fail('server build/ports');
if (!['basic', 'none'].includes(env.AUTH)) fail(`AUTH ${env.AUTH}`);
console.log('  ok    compose wiring: DATABASE_URL → postgres, S3 → s3 with the same keys, health-gated depends_on');
EOF
# compose.yaml's create-bucket command, run in the image below.
node --input-type=module -e "
  import fs from 'node:fs'; import { parse } from 'yaml';
  const e = parse(fs.readFileSync('$WORK/compose.yaml', 'utf8')).services['create-bucket'].entrypoint;
  fs.writeFileSync('$WORK/create-bucket.json', JSON.stringify(e));"
docker-compose -f .devcontainer/compose.yaml config -q || die "devcontainer compose.yaml"
node -e '
  const fs = require("fs");
  const d = JSON.parse(fs.readFileSync(".devcontainer/devcontainer.json", "utf8"));
  if (!fs.existsSync(".devcontainer/" + d.dockerComposeFile) || !d.service || !/pnpm install/.test(d.postCreateCommand)) process.exit(1);
  const pm = JSON.parse(fs.readFileSync("package.json", "utf8")).packageManager;
  if (!fs.readFileSync(".devcontainer/Dockerfile", "utf8").includes(pm)) { console.error(`.devcontainer/Dockerfile does not install ${pm}`); process.exit(1); }
' || die "devcontainer definition"
echo "  ok    devcontainer: devcontainer.json, its compose file, pnpm as package.json pins"

# ---------------------------------------------------------------------------------------------------------------
step "smoke: embedded database (PGlite) on a /data volume"
PORT=$(free_port)
VOL="$ID-data"
VOLUMES+=("$VOL")
"$DOCKER" volume create "$VOL" >/dev/null
T_RUN=$SECONDS
run_server "$ID-embedded" "$PORT" -v "$VOL:/data"
wait_ready "$ID-embedded" "$PORT"
echo "  serving after $((SECONDS - T_RUN)) s"
smoke "$ID-embedded" "$PORT" smoke-embedded fresh

# The image itself: user, volume ownership, the production tree (no dev tools, no tsx at run time).
uid=$("$DOCKER" exec "$ID-embedded" id -u)
[ "$uid" != 0 ] || die "the server runs as root"
echo "  ok    runs as uid $uid (non-root)"
"$DOCKER" exec "$ID-embedded" sh -c '
  set -e
  test "$(stat -c %u /data)" = "$(id -u)"
  test -d /data/db
  test -d /data/artifacts
  cd /app
  for p in vitest typescript drizzle-kit tsx esbuild @redocly playwright-core @hey-api vite; do
    if ls node_modules/.pnpm | grep -q "^$(echo "$p" | tr / +)@"; then echo "dev tool in the image: $p"; exit 1; fi
  done
  test ! -e package.json && test ! -e pnpm-lock.yaml
  test -f openapi/openapi.json && test -f packages/server/dist/main.js
  ls packages/server/src/store/migrations/*/*.sql >/dev/null
  test -z "$(find packages/server/src -name "*.ts")"
' || die "image contents"
echo "  ok    /data owned by the server user; no dev tools, no TypeScript sources, migrations present"
# The new volume's database is a copy of the image's template (store/pglite-template.ts), not an initdb.
"$DOCKER" logs "$ID-embedded" 2>&1 | grep '"initialising the embedded database"' | grep -q '"from":"template"' ||
  die "the new /data was not made from the image's embedded-database template: $("$DOCKER" logs "$ID-embedded" 2>&1 | head -n 20)"
echo "  ok    the new /data is a copy of the image's embedded-database template"

for _ in $(seq 1 30); do
  health=$("$DOCKER" inspect --format '{{.State.Health.Status}}' "$ID-embedded")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || die "HEALTHCHECK status: $health"
echo "  ok    HEALTHCHECK reports healthy"
stop_check "$ID-embedded"

T_RUN=$SECONDS
run_server "$ID-embedded-2" "$PORT" -v "$VOL:/data"
wait_ready "$ID-embedded-2" "$PORT"
echo "  restarted on the same volume, serving after $((SECONDS - T_RUN)) s"
smoke "$ID-embedded-2" "$PORT" smoke-embedded persisted
# compose.yaml's create-bucket command, run in the image, makes the bucket of the PostgreSQL + S3 run below.
if [ -n "${S3_TEST_ENDPOINT:-}" ]; then
  BUCKET="mlflow-ts-docker-$$"
  S3_ENV=(-e S3_BUCKET="$BUCKET" -e S3_PREFIX=artifacts -e S3_ENDPOINT_URL="$S3_TEST_ENDPOINT"
    -e AWS_REGION=us-east-1 -e AWS_ACCESS_KEY_ID=testing -e AWS_SECRET_ACCESS_KEY=testing)
  mapfile -d '' -t CB < <(node -e 'for (const a of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))) process.stdout.write(a + "\0")' "$WORK/create-bucket.json")
  out=$("$DOCKER" exec -w /app/packages/server "${S3_ENV[@]}" "$ID-embedded-2" "${CB[@]}" 2>&1) || { echo "$out"; die "compose.yaml's create-bucket command"; }
  echo "  ok    compose.yaml's create-bucket command: $out"
fi
stop_check "$ID-embedded-2"

# ---------------------------------------------------------------------------------------------------------------
step "smoke: PostgreSQL + S3 artifacts, read-only root filesystem"
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  [ "${CI:-}" = true ] && die "TEST_DATABASE_URL is not set (.ci/run sets it)"
  echo "skipped: TEST_DATABASE_URL is not set"
else
  PG_DB="mlflow_ts_docker_$$"
  psql "$TEST_DATABASE_URL" -qAtc "CREATE DATABASE \"$PG_DB\"" >/dev/null || die "cannot create database $PG_DB"
  DB_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.href)' "$TEST_DATABASE_URL" "$PG_DB")
  PG_ENV=(-e DATABASE_URL="$DB_URL")
  STORE="local files (S3_TEST_ENDPOINT not set)"
  if [ -n "${S3_TEST_ENDPOINT:-}" ]; then
    PG_ENV+=("${S3_ENV[@]}")
    STORE="S3 bucket $BUCKET at $S3_TEST_ENDPOINT"
  fi
  PORT=$(free_port)
  T_RUN=$SECONDS
  run_server "$ID-postgres" "$PORT" --read-only --tmpfs /tmp "${PG_ENV[@]}"
  wait_ready "$ID-postgres" "$PORT"
  echo "  serving on PostgreSQL ($PG_DB), artifacts in $STORE, after $((SECONDS - T_RUN)) s"
  smoke "$ID-postgres" "$PORT" smoke-postgres fresh
  n=$(psql "$DB_URL" -qAtc "SELECT count(*) FROM registered_models WHERE name = 'smoke-postgres'")
  [ "$n" = 1 ] || die "the model is not in PostgreSQL ($n rows)"
  echo "  ok    the model is in PostgreSQL"
  if [ -n "${S3_TEST_ENDPOINT:-}" ]; then
    node -e "fetch('$S3_TEST_ENDPOINT/$BUCKET?list-type=2&prefix=artifacts/').then((r) => r.text()).then((t) => process.exit(t.includes('smoke/smoke-postgres/model/model.bin') ? 0 : 1))" ||
      die "the artifact is not in the S3 bucket"
    echo "  ok    the artifact is in the S3 bucket"
  fi
  # The image's entry point is the mlflow-registry CLI: its help, and doctor on the same configuration.
  "$DOCKER" run --rm --network host "$IMAGE" --help | grep -q 'mlflow-registry' || die "mlflow-registry --help in the image"
  out=$("$DOCKER" run --rm --network host -e AUTH=none "${PG_ENV[@]}" "$IMAGE" doctor 2>&1) || { echo "$out"; die "mlflow-registry doctor in the image"; }
  echo "  ok    mlflow-registry --help and doctor in the image"
  stop_check "$ID-postgres"
fi

step "done"
echo "image ${IMAGE_MB} MB (base $BASE, ${BASE_MB} MB); build ${BUILD_S} s; whole run $((SECONDS - T_START)) s"
