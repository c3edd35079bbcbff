#!/usr/bin/env bash
# Packs the library as users install it: nestjs-kafka-consumer-<version>.tgz from
# libs/kafka-consumer (package.json, README.md, LICENSE, and dist/, which the package's
# prepack script compiles and postpack removes again).
# Usage: tools/pack-library.sh [destination dir, default dist/pack]
# The last line of stdout is the tarball's absolute path; npm's own output goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-dist/pack}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
# The package ships a copy of the repository's LICENSE; a stale copy is an error, not a warning.
cmp -s LICENSE libs/kafka-consumer/LICENSE || { echo "libs/kafka-consumer/LICENSE differs from LICENSE" >&2; exit 1; }
cd libs/kafka-consumer
# npm prints the prepack build's output (tsc's errors) on stdout, before its JSON: show it on failure.
if ! out=$(npm pack --pack-destination "$dest" --json); then
  echo "$out" >&2
  exit 1
fi
file=$(node -e '
  const out = process.argv[1];
  const [p] = JSON.parse(out.slice(out.search(/^\[/m)));
  console.error(`${p.entryCount} files, ${p.size} bytes packed, ${p.unpackedSize} unpacked`);
  console.log(p.filename);
' "$out")
echo "$dest/$file"
