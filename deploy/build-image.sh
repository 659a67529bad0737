#!/usr/bin/env bash
# Builds the raftseq node image (default tag raftseq:local) from the host-built
# app: makes sure the base image exists (deploy/build-base-image.sh), builds
# dist/ when missing, stages package.json, bin/, dist/, proto/, production
# node_modules/, the healthcheck and the TLS init script into a small
# context, then `docker build`.
#
# Usage: deploy/build-image.sh   Env: RAFTSEQ_IMAGE (tag), DOCKER (client)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
IMAGE="${RAFTSEQ_IMAGE:-raftseq:local}"
if [[ -z "${DOCKER:-}" ]]; then
  if [[ -x /usr/bin/docker ]]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
export DOCKER

deploy/build-base-image.sh
if [[ ! -f dist/src/cli/main.js ]]; then
  npm run build
fi

CTX="$(mktemp -d /tmp/raftseq-image.XXXXXX)"
trap 'rm -rf "$CTX"' EXIT
cp package.json package-lock.json "$CTX/"
cp -r bin proto "$CTX/"
mkdir -p "$CTX/dist" "$CTX/deploy"
cp -r dist/src "$CTX/dist/"
cp deploy/healthcheck.mjs deploy/tls-init.sh "$CTX/deploy/"
cp -a node_modules "$CTX/"
# Only the runtime dependencies go into the image (offline: nothing is fetched).
(cd "$CTX" && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --offline \
  --loglevel=error >/dev/null 2>&1) || echo "warning: npm prune failed; shipping every dependency" >&2

# The legacy builder: Debian's daemon has no buildx.
DOCKER_BUILDKIT=0 "$DOCKER" build -q -f deploy/Dockerfile -t "$IMAGE" "$CTX" >/dev/null
echo "image $IMAGE: built ($("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
