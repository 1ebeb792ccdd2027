# Container image of the MLflow Model Registry server.
#
#   docker build -t mlflow-registry-ts .
#   docker run -p 8000:8000 -e AUTH=none -v mlflow-registry-data:/data mlflow-registry-ts
#
# Serves on 0.0.0.0:8000 with the embedded PGlite database and local artifacts under the /data volume
# (AUTH: see the runtime stage);
# set DATABASE_URL for PostgreSQL and S3_BUCKET (+ S3_ENDPOINT_URL, AWS_*) for S3 (README "Deploy").
#
# NODE_IMAGE is the official Node.js image users pull. It must be Debian-based (groupadd/useradd) with
# node and npm in the PATH; CI passes a locally built equivalent (scripts/ci/docker.sh), since no image
# registry is reachable there. Works with the legacy builder and with BuildKit (no BuildKit-only syntax).
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: install (frozen lockfile), esbuild transpile, then a production-only tree in /prod ----
# Few layers on purpose: CI's engine (vfs storage) keeps every layer as a full copy of the file tree.
FROM ${NODE_IMAGE} AS build

# Dependencies first, from the lockfile alone (`pnpm fetch`), so that this layer is reused while it does not change:
# pnpm at the version package.json's packageManager names, and every package of the lockfile in pnpm's store.
# BUILD_CA_CERTS: PEM certificates to trust for these downloads besides Node's own roots (e.g. a TLS-inspecting
# proxy's CA); used in this stage only.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml /src/
ARG BUILD_CA_CERTS=""
RUN cd /src \
 && if [ -n "$BUILD_CA_CERTS" ]; then \
      printf '%s\n' "$BUILD_CA_CERTS" > /tmp/build-ca.pem && export NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem; \
    fi \
 && export CI=true NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false \
 && npm install -g --loglevel=error "$(node -p 'require("./package.json").packageManager')" \
 && pnpm fetch \
 && rm -rf /root/.npm /tmp/build-ca.pem

# The sources (.dockerignore lets in only what the build reads), then, offline from the store:
# - the whole workspace (dev tools included) and `pnpm build` (scripts/build.ts: esbuild, src → dist);
# - /prod, exactly what runs:
#     node_modules, packages/server/node_modules   the server's production dependencies (same lockfile versions);
#                                                  tsx is left out: a dev tool, a dependency only for the
#                                                  package's own `start` script
#     packages/server/{package.json,dist}          the transpiled server
#     packages/server/node_modules/.cache          the embedded database's template, made by `pnpm build`: a
#                                                  new /data starts as a copy of it, not by initdb
#     packages/client/{package.json,dist}          the SDK, which `mlflow-registry copy` uses
#     packages/server/src/**/ (non-.ts files)      the SQL migrations and their journals, read at start
#     openapi/openapi.json                         served at /openapi.json and /docs
COPY . /src/
RUN cd /src \
 && export CI=true \
 && pnpm install --offline --frozen-lockfile \
 && pnpm build \
 && pnpm --filter @mlflow-registry/client build \
 && mkdir -p /prod/packages/server /prod/packages/client /prod/openapi \
 && cp -r packages/client/package.json packages/client/dist /prod/packages/client/ \
 && cp package.json pnpm-lock.yaml pnpm-workspace.yaml /prod/ \
 && node -e ' \
      const fs = require("node:fs"); \
      const p = JSON.parse(fs.readFileSync("packages/server/package.json", "utf8")); \
      delete p.dependencies.tsx; delete p.devDependencies; delete p.scripts; \
      fs.writeFileSync("/prod/packages/server/package.json", JSON.stringify(p, null, 2));' \
 && (cd /prod \
     && pnpm install --prod --offline --no-frozen-lockfile --filter @mlflow-registry/server --loglevel=warn \
     && rm package.json pnpm-lock.yaml pnpm-workspace.yaml \
     && test ! -e packages/server/node_modules/tsx) \
 && cp packages/server/package.json /prod/packages/server/ \
 && cp -r packages/server/dist /prod/packages/server/dist \
 && cp -r packages/server/node_modules/.cache /prod/packages/server/node_modules/ \
 && chmod -R a+rX /prod/packages/server/node_modules/.cache \
 && test -f /prod/packages/server/node_modules/.cache/mlflow-registry-ts/pglite-*/PG_VERSION \
 && (cd packages/server && find src -type f ! -name '*.ts' -exec cp --parents {} /prod/packages/server/ \;) \
 && cp openapi/openapi.json /prod/openapi/ \
 && test -f /prod/packages/server/dist/main.js \
 && ls /prod/packages/server/src/store/migrations/mlflow/*.sql >/dev/null \
 && rm -rf /src/node_modules /src/packages/*/node_modules "$(pnpm store path)"

# ---- runtime: node, the production tree, a non-root user, /data as a volume ----
FROM ${NODE_IMAGE}
# HOST=0.0.0.0: the container's own interface, as port publishing needs. The server refuses to listen beyond
# loopback while AUTH is unset: run with AUTH=basic (and MLFLOW_AUTH_ADMIN_PASSWORD) or AUTH=none on purpose.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data \
    MALLOC_ARENA_MAX=1
RUN groupadd --system --gid 10001 mlflow \
 && useradd --system --uid 10001 --gid mlflow --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin mlflow \
 && mkdir -p /data \
 && chown mlflow:mlflow /data
# Owned by root: read-only for the server's user.
COPY --from=build /prod /app
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000
# Liveness: /health (under STATIC_PREFIX when set) answers without the database. node's fetch, since
# slim images have no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + (process.env.STATIC_PREFIX || '') + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# As `pnpm start`. node is PID 1 and handles SIGTERM/SIGINT itself once listening (drains in-flight requests
# within SHUTDOWN_TIMEOUT_MS, then exits 0); the server starts no child processes. `docker run --init` adds an
# init that also ends a start-up that is still connecting to the database.
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "packages/server/dist/main.js"]
