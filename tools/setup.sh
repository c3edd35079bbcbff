#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Java 17 and Maven (for
# Apache Kafka), Apache Kafka's jars from Maven Central, librdkafka (for the mock
# cluster), npm dependencies, the mock broker binary, the library build and the
# sample app build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then $sudo_cmd apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "$@" >/dev/null
}

if [ ! -f /usr/include/librdkafka/rdkafka_mock.h ]; then
  echo "setup: installing librdkafka-dev (Debian) for the mock cluster"
  apt_install librdkafka-dev
fi

# Apache Kafka runs on Java 17 (4.x needs at least 17); Maven fetches its jars.
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
if [ -z "$java_major" ] || [ "$java_major" -lt 17 ]; then
  echo "setup: installing openjdk-17-jre-headless (Debian) for Apache Kafka"
  apt_install openjdk-17-jre-headless
fi
if ! command -v mvn >/dev/null 2>&1; then
  echo "setup: installing maven (Debian) to fetch Apache Kafka from Maven Central"
  apt_install maven
fi
# Each pinned Kafka line (tools/kafka/pom.xml) into tools/kafka/lib/<version>/, once.
for line in "kafka-4:4.1.1" "kafka-3.9:3.9.1"; do
  profile=${line%%:*}
  version=${line##*:}
  if ! ls "tools/kafka/lib/$version/kafka_2.13-$version.jar" >/dev/null 2>&1; then
    echo "setup: fetching Apache Kafka $version from Maven Central"
    mvn -q -B -Dstyle.color=never -f tools/kafka/pom.xml -P "$profile" package
  fi
done

# better-sqlite3 (the sample app's embedded database) compiles from source when
# no prebuilt binary can be downloaded; point node-gyp at the local Node headers
# when there are some, so that it need not download them either.
node_prefix=$(dirname "$(dirname "$(command -v node)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node.h" ]; then
  export npm_config_nodedir="$node_prefix"
fi

# @confluentinc/kafka-javascript (the confluent engine, an optional peer; a dev dependency here)
# normally downloads a prebuilt binary, which these machines cannot: it builds from source
# against Debian's libraries, its bundled librdkafka linked as a shared library.
ckjs_deps="libssl-dev zlib1g-dev libzstd-dev liblz4-dev libsasl2-dev libcurl4-openssl-dev"
missing_deps=""
for pkg in $ckjs_deps; do dpkg -s "$pkg" >/dev/null 2>&1 || missing_deps="$missing_deps $pkg"; done
if [ -n "$missing_deps" ]; then
  echo "setup: installing$missing_deps (Debian) to build the Confluent client"
  # shellcheck disable=SC2086
  apt_install $missing_deps
fi
export CKJS_LINKING=dynamic
export npm_config_build_from_source=@confluentinc/kafka-javascript

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies (the Confluent client compiles, about 2 minutes)"
  npm ci --no-audit --no-fund --loglevel=error
fi
if ! node -e "require('@confluentinc/kafka-javascript')" >/dev/null 2>&1; then
  echo "setup: building @confluentinc/kafka-javascript from source"
  npm rebuild @confluentinc/kafka-javascript --loglevel=error
fi

bash tools/mock-broker/build.sh

# The library build (dist/) is what real application processes in the tests load.
npm run --silent build

# The sample app (apps/orders), run as real processes by its tests and the demo.
npm run --silent build:sample
