#!/usr/bin/env bash
# CI: the server and the SDK on the current Node.js lines (issue 18). The full suite runs on the machine's
# Node (20.19+, the oldest supported); this step runs a representative part of it again on Node 22 and 24,
# fetched from the npm registry (the `node` package ships the official binaries), so that a runtime
# difference (http server, streams, fetch, PGlite's WASM) shows up in CI without tripling its time.
#
#   bash scripts/ci/node-versions.sh            # 22 and 24
#   NODE_MAJORS="24" bash scripts/ci/node-versions.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

SUITES=(
  test/foundation.test.ts
  test/registry/lifecycle.test.ts
  test/registry/model-versions.test.ts
  test/registry/search.test.ts
  test/artifacts/contract.test.ts
  test/webhooks/delivery.test.ts
  test/hardening/input.test.ts
  test/faults/shutdown.test.ts
  test/faults/slow-clients.test.ts
  test/auth/enforcement.test.ts
  test/sdk/client.test.ts
  test/workspaces/api.test.ts
  test/workspaces/isolation.test.ts
  test/artifacts/postgres-store.test.ts
  test/cli/commands.test.ts
  test/ui/ui.test.ts
  test/ops/metrics.test.ts
)

for major in ${NODE_MAJORS:-22 24}; do
  node_bin=$(npx -y -p "node@$major" which node | tail -n 1)
  echo "==> Node $("$node_bin" --version): ${#SUITES[@]} suites"
  # vitest starts its workers, and the suites their server processes, with this same binary (process.execPath).
  "$node_bin" node_modules/vitest/vitest.mjs run "${SUITES[@]}"
done
