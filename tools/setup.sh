#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: librdkafka (for the test
# broker), npm dependencies, the test broker binary, the library build and the
# sample app build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -f /usr/include/librdkafka/rdkafka_mock.h ]; then
  echo "setup: installing librdkafka-dev (Debian) for the test broker"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq librdkafka-dev >/dev/null
fi

# better-sqlite3 (the sample app's embedded database) compiles from source when
# no prebuilt binary can be downloaded; point node-gyp at the local Node headers
# when there are some, so that it need not download them either.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

bash tools/mock-broker/build.sh

# The library build (dist/) is what real application processes in the tests load.
npm run --silent build

# The sample app (apps/orders), run as real processes by its tests and the demo.
npm run --silent build:sample
