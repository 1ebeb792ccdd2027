#!/usr/bin/env bash
# Makes a local stand-in for the official Node.js image (node:<major>-<codename>-slim) where no image
# registry is reachable: a minimal Debian from the machine's own Debian mirror (debootstrap), Node.js
# from the npm registry (the node-linux-<arch> package ships the real binary) and npm, put together
# with `docker import`. Like the official image: node, npm and npx in /usr/local/bin, a `node` user
# (uid 1000), CMD ["node"].
#
#   bash scripts/ci/docker-base.sh <major> <codename>     # prints the image's tag on stdout
#
# The tag carries a hash of this recipe, the Node.js and npm versions and the Debian suite; an image
# with that tag already in the engine is reused, so it is built once per Node.js patch release (older
# ones are removed then). If the npm registry cannot be asked for the newest version, the newest cached
# image of the same major and codename is used. Uses the engine that `${DOCKER:-docker}` talks to (DOCKER_HOST).
# Needs root and debootstrap. DEBIAN_MIRROR overrides the mirror found in /etc/apt/sources.list*.
set -euo pipefail
MAJOR=${1:?usage: docker-base.sh <node major> <debian codename>}
CODENAME=${2:?usage: docker-base.sh <node major> <debian codename>}
REPO=mlflow-registry-ts-ci/node
log() { printf '[docker-base] %s\n' "$*" >&2; }
docker() { command "${DOCKER:-docker}" "$@"; }

case "$(uname -m)" in
  x86_64) ARCH=x64 DEB_ARCH=amd64 ;;
  aarch64) ARCH=arm64 DEB_ARCH=arm64 ;;
  *) log "unsupported machine $(uname -m)"; exit 1 ;;
esac

# --- versions: the newest Node.js of the major, and the npm major that line ships with ------------
newest() { # <package> <semver range> -> newest version in range
  npm view "$1@$2" version --json 2>/dev/null |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const v=JSON.parse(s);const a=Array.isArray(v)?v:[v];
      a.sort((x,y)=>{const p=x.split(".").map(Number),q=y.split(".").map(Number);return p[0]-q[0]||p[1]-q[1]||p[2]-q[2]});console.log(a.at(-1))})'
}
NPM_MAJOR=$([ "$MAJOR" -le 22 ] && echo 10 || echo 11)
NODE_VERSION=$(newest "node-linux-$ARCH" "$MAJOR") || NODE_VERSION=
NPM_VERSION=$(newest npm "$NPM_MAJOR") || NPM_VERSION=
if [ -z "$NODE_VERSION" ] || [ -z "$NPM_VERSION" ]; then
  cached=$(docker images "$REPO" --format '{{.Tag}}' | grep "^$MAJOR\..*-$CODENAME-" | sort -V | tail -1 || true)
  if [ -n "$cached" ]; then
    log "npm registry not answering; using the cached $REPO:$cached"
    echo "$REPO:$cached"
    exit 0
  fi
  log "cannot resolve node-linux-$ARCH@$MAJOR / npm@$NPM_MAJOR from the npm registry, and no cached base image"
  exit 1
fi

KEY=$( { sha256sum "$0" | cut -c1-64; echo "$NODE_VERSION $NPM_VERSION $CODENAME $DEB_ARCH"; } | sha256sum | cut -c1-12)
TAG="$REPO:$NODE_VERSION-$CODENAME-$KEY"
if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "cached: $TAG"
  echo "$TAG"
  exit 0
fi

# --- the machine's Debian mirror (not the security archive), from deb822 .sources or one-line .list files
find_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/) types = substr($i, 7)
          else if ($i ~ /^URIs:/) uris = substr($i, 6)
          else if ($i ~ /^Suites:/) suites = substr($i, 8)
          else if ($i ~ /^Enabled:/) enabled = substr($i, 9)
        }
        if (types ~ /(^| )deb( |$)/ && enabled !~ /no/ && uris !~ /security/) {
          n = split(suites, s, " ")
          for (j = 1; j <= n; j++) if (s[j] != "" && s[j] !~ /-/) { split(uris, u, " "); for (k in u) if (u[k] != "") { print u[k]; exit } }
        }
      }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($i !~ /security/ && $(i + 1) !~ /-/) print $i
      }' "$f"
  done
}
MIRROR=${DEBIAN_MIRROR:-$(find_mirror | head -1)}
[ -n "$MIRROR" ] || { log "no Debian mirror found in /etc/apt/sources.list*; set DEBIAN_MIRROR"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap is not installed"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/docker-base-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOTFS=$WORK/rootfs
t0=$SECONDS
log "building $TAG: Debian $CODENAME ($DEB_ARCH) from $MIRROR, Node.js $NODE_VERSION, npm $NPM_VERSION"

debootstrap --variant=minbase --arch="$DEB_ARCH" "$CODENAME" "$ROOTFS" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
  tail -n 30 "$WORK/debootstrap.log" >&2
  exit 1
}
log "debootstrap: $((SECONDS - t0)) s"

# Slim as debian:*-slim is: no docs, man pages or locales, now or from later apt installs.
cat >"$ROOTFS/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
find "$ROOTFS/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
rm -rf "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/lib/apt/lists/* \
  "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/log/*.log
find "$ROOTFS/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +

# Node.js and npm, laid out as the official tarball and image have them.
(cd "$WORK" && npm pack --silent "node-linux-$ARCH@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
mkdir -p "$WORK/node" "$ROOTFS/usr/local/lib/node_modules/npm" "$ROOTFS/usr/local/bin"
tar -xzf "$WORK/node-linux-$ARCH-$NODE_VERSION.tgz" -C "$WORK/node"
install -m 0755 "$WORK/node/package/bin/node" "$ROOTFS/usr/local/bin/node"
tar -xzf "$WORK/npm-$NPM_VERSION.tgz" -C "$ROOTFS/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
chroot "$ROOTFS" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
[ "$(chroot "$ROOTFS" /usr/local/bin/node --version)" = "v$NODE_VERSION" ] || { log "node does not run in the new root"; exit 1; }
chroot "$ROOTFS" /usr/local/bin/npm --version >/dev/null || { log "npm does not run in the new root"; exit 1; }

tar -C "$ROOTFS" --numeric-owner -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$NODE_VERSION" \
    --change 'CMD ["node"]' \
    --message "Debian $CODENAME minbase + Node.js $NODE_VERSION (scripts/ci/docker-base.sh)" \
    - "$TAG" >/dev/null

# Older cached bases of this major and codename are superseded.
docker images "$REPO" --format '{{.Repository}}:{{.Tag}}' | grep "^$REPO:$MAJOR\..*-$CODENAME-" | grep -vxF "$TAG" |
  xargs -r docker rmi >/dev/null 2>&1 || true
log "built $TAG in $((SECONDS - t0)) s ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1 / 1e6}'))"
echo "$TAG"
