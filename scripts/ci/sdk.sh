#!/usr/bin/env bash
# The TypeScript SDK (@mlflow-registry/client) as a package: type tests, the API reference (TypeDoc,
# docs/sdk), build, pack, the ecosystem's package linters (publint, "are the types wrong"),
# `npm publish --dry-run`, and the bundle size of the browser entry. Prints its figures; fails on any finding or when the core bundle exceeds its
# budget (15 KB gzipped). The SDK's behaviour (against this server and `mlflow server`) is tested
# by test/sdk (pack.test.ts installs the tarball into a fresh strict project).
# Needs the npm registry (npx of exact versions). Run from anywhere; scratch files go to a temp dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PKG=$ROOT/packages/client

PUBLINT=publint@0.3.25
ATTW=@arethetypeswrong/cli@0.18.5      # 0.18 runs on Node >= 20
BUDGET_GZIP=15360                      # bytes: core entry, minified, gzipped

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlflow-sdk-ci-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n==> %s\n' "$*"; }

step "typecheck: the browser entry (no Node types), the Node entry, and the type tests"
npx tsc -p "$PKG/tsconfig.json" --noEmit
npx tsc -p "$PKG/tsconfig.node.json" --noEmit
npx tsc -p "$ROOT/test/sdk/tsconfig.types.json"

step "API reference: TypeDoc builds it without a warning, and docs/sdk is current"
# typedoc.json fails on any warning (an undocumented export or member, a broken {@link}, a type
# used but not exported). The output is reproducible (no source links), so a difference means
# someone changed the public API or its TSDoc without running `pnpm docs:sdk`.
"$ROOT/node_modules/.bin/typedoc" --options "$PKG/typedoc.json" --out "$WORK/api" --logLevel Warn
if ! diff -ru "$ROOT/docs/sdk" "$WORK/api" > "$WORK/api.diff"; then
  head -n 60 "$WORK/api.diff"
  echo "docs/sdk is out of date: run \`pnpm docs:sdk\` and commit the result"
  exit 1
fi
echo "docs/sdk: $(find "$WORK/api" -type f | wc -l) files, current"

step "build and pack"
pnpm --filter @mlflow-registry/client build >/dev/null
(cd "$PKG" && npm pack --pack-destination "$WORK" --loglevel=error >/dev/null)
TARBALL=$(ls "$WORK"/*.tgz)
tar -tzf "$TARBALL" | sort > "$WORK/files.txt"
for f in package/LICENSE package/README.md package/package.json package/dist/index.js package/dist/node.js package/dist/gen/index.js; do
  grep -qx "$f" "$WORK/files.txt" || { echo "missing from the tarball: $f"; exit 1; }
done
echo "tarball: $(basename "$TARBALL"), $(wc -l < "$WORK/files.txt") files, $(wc -c < "$TARBALL") bytes"

step "publint ($PUBLINT)"
# --strict: warnings fail too.
(cd "$PKG" && npx -y "$PUBLINT" --strict "$TARBALL")

step "are the types wrong ($ATTW)"
# The package is ESM-only (type: module, import conditions, engines node >= 20.19): the esm-only
# profile checks node16/nodenext (from ESM) and bundler resolution and skips node10 and
# require() from CommonJS, which an ESM-only package does not serve. Any problem fails.
npx -y "$ATTW" --pack "$PKG" --profile esm-only

step "npm publish --dry-run"
(cd "$PKG" && npm publish --dry-run --ignore-scripts --loglevel=warn 2>&1) | tee "$WORK/publish.txt" | grep -E "^npm (notice|warn|error) (name|version|filename|package size|unpacked size|total files)|warn|error" || true
# Without registry credentials (CI has none) npm warns that publishing needs a login: that is not a
# finding about the package. Anything else npm warns about (fields it corrects, files, …) fails.
if grep -iE "^npm (warn|error)" "$WORK/publish.txt" | grep -vq "requires you to be logged in"; then echo "npm publish --dry-run reported problems"; exit 1; fi

step "bundle size (esbuild, browser, minified; zod loads only with validateResponses)"
ESBUILD=$ROOT/node_modules/.bin/esbuild
measure() { # label entry-file outdir
  "$ESBUILD" "$2" --bundle --minify --format=esm --platform=browser --target=es2022 --splitting \
    --outdir="$3" --log-level=error --external:zod
}
cat > "$WORK/core.js" <<EOF
export { MlflowRegistryClient, MlflowApiError, where, and } from '$PKG/dist/index.js';
EOF
measure core "$WORK/core.js" "$WORK/core"
core_raw=$(wc -c < "$WORK/core/core.js")
core_gz=$(gzip -9 -c "$WORK/core/core.js" | wc -c)
lazy_raw=0; lazy_gz=0
for f in "$WORK"/core/*.js; do
  [ "$f" = "$WORK/core/core.js" ] && continue
  lazy_raw=$((lazy_raw + $(wc -c < "$f"))); lazy_gz=$((lazy_gz + $(gzip -9 -c "$f" | wc -c)))
done
# The same with zod bundled (what an app that turns validation on downloads in total).
"$ESBUILD" "$WORK/core.js" --bundle --minify --format=esm --platform=browser --target=es2022 \
  --outfile="$WORK/full.js" --log-level=error --alias:zod="$PKG/node_modules/zod"
full_raw=$(wc -c < "$WORK/full.js"); full_gz=$(gzip -9 -c "$WORK/full.js" | wc -c)
printf '%-48s %9s %9s\n' "bundle" "raw" "gzip"
printf '%-48s %9d %9d\n' "core entry (what every page loads)" "$core_raw" "$core_gz"
printf '%-48s %9d %9d\n' "lazy chunk: zod schemas (validation on; + zod)" "$lazy_raw" "$lazy_gz"
printf '%-48s %9d %9d\n' "everything incl. zod, one file" "$full_raw" "$full_gz"
if grep -q "zod" "$WORK/core/core.js" && grep -qE "\bz\.object\(" "$WORK/core/core.js"; then echo "zod schemas leaked into the core entry"; exit 1; fi
if [ "$core_gz" -gt "$BUDGET_GZIP" ]; then echo "core bundle $core_gz B gzipped exceeds the budget of $BUDGET_GZIP B"; exit 1; fi

step "SDK package checks passed"
