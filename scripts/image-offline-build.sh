#!/usr/bin/env bash
# Builds deploy/Dockerfile with podman where no container registry can be reached, then runs the image with a
# read-only root filesystem and checks /readyz. Not run by CI (see docs/operations.md, "Container"): it is how
# the image was built and measured on a host with only Debian's mirror and the npm registry.
#
# The stand-in for node:20-bookworm-slim is made the way that image is made: a Debian bookworm minbase
# (debootstrap, from Debian's mirror) plus this host's official Node 20 build in /usr/local. Only the base
# differs; every step of the Dockerfile runs as written.
#
# Needs root, podman, runc and debootstrap (apt-get install -y podman runc debootstrap). crun, podman's
# default runtime, refuses hybrid cgroups (v1 + v2), hence runc; the ulimits are set below the hard limits
# because the sandbox this was written in lacks CAP_SYS_RESOURCE and podman's defaults exceed them.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_DIR=${BASE_DIR:-/tmp/countersign-image-base}
BASE_IMAGE=localhost/countersign-node-standin:20-bookworm-slim
IMAGE=localhost/countersign:dev
PODMAN=(podman --runtime runc)
LIMITS=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=4096:4096")
t0=$SECONDS

if ! "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  if [ ! -x "$BASE_DIR/bin/sh" ]; then
    debootstrap --variant=minbase bookworm "$BASE_DIR" http://deb.debian.org/debian
  fi
  node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  mkdir -p "$BASE_DIR/usr/local/bin" "$BASE_DIR/usr/local/lib" "$BASE_DIR/usr/local/include"
  cp "$node_prefix/bin/node" "$BASE_DIR/usr/local/bin/node"
  rm -rf "$BASE_DIR/usr/local/lib/node_modules" "$BASE_DIR/usr/local/include/node"
  cp -r "$node_prefix/lib/node_modules" "$BASE_DIR/usr/local/lib/"
  cp -r "$node_prefix/include/node" "$BASE_DIR/usr/local/include/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$BASE_DIR/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$BASE_DIR/usr/local/bin/npx"
  rm -rf "$BASE_DIR/var/cache/apt/archives/"*.deb "$BASE_DIR/var/lib/apt/lists/"*
  # A host whose HTTPS goes through an inspecting proxy trusts its CA; the build's npm must trust it too.
  mkdir -p "$BASE_DIR/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$BASE_DIR/etc/ssl/certs/ca-certificates.crt"
  tar -C "$BASE_DIR" -c . | "${PODMAN[@]}" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - "$BASE_IMAGE"
  echo "base image: $((SECONDS - t0)) s"
fi

t1=$SECONDS
"${PODMAN[@]}" build --format docker --pull=never --network host "${LIMITS[@]}" --build-arg "NODE_IMAGE=$BASE_IMAGE" \
  -f deploy/Dockerfile -t "$IMAGE" .
echo "image build: $((SECONDS - t1)) s"
"${PODMAN[@]}" image inspect "$IMAGE" --format 'size: {{.Size}} bytes, user: {{.Config.User}}'

# Run it as compose does: read-only root, a tmpfs /tmp, a volume for the data dir, no capabilities.
name=countersign-smoke-$$
port=${PORT:-18700}
vol=$(mktemp -d)
chown 10001:10001 "$vol"
cleanup() { "${PODMAN[@]}" rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$vol"; }
trap cleanup EXIT
"${PODMAN[@]}" run -d --name "$name" --network host "${LIMITS[@]}" --read-only --tmpfs /tmp --cap-drop ALL \
  --security-opt no-new-privileges -e "COUNTERSIGN_PORT=$port" -v "$vol:/var/lib/countersign" "$IMAGE" >/dev/null
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/readyz"; echo
"${PODMAN[@]}" healthcheck run "$name" && echo "healthcheck: healthy"
"${PODMAN[@]}" exec "$name" sh -c 'id -u; touch /app/x 2>&1 || true'
echo "total: $((SECONDS - t0)) s"
