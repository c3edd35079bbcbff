#!/usr/bin/env bash
# Builds the test broker (librdkafka mock cluster wrapper) into tools/mock-broker/build/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build/mock-broker"
if [ -x "$out" ] && [ "$out" -nt "$here/mock-broker.c" ]; then exit 0; fi
mkdir -p "$here/build"
cc -O2 -Wall -Wextra -o "$out" "$here/mock-broker.c" -lrdkafka
echo "built $out"
