#!/usr/bin/env bash
# npm test: set-up on a fresh machine, type check, then
#   1. every unit spec and every broker test on Apache Kafka 4.x (tests that inject faults
#      start the librdkafka mock themselves);
#   2. a compatibility subset of the broker tests on Apache Kafka 3.9;
#   3. every broker test again on the confluent engine (TEST_ENGINE=confluent), on Kafka 4.x.
# Ends with one line "N passed, N failed" summed from jest's own JSON results. Arguments go to
# the first jest run (e.g. `npm test -- test/core.test.ts`); with arguments the 3.9 run and
# the confluent run are skipped unless KAFKA_COMPAT=1 / CONFLUENT=1. TEST_SUMMARY_FILE, if set, also receives the summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent typecheck || { echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp -d)
cleanup() {
  # Brokers are stopped by pid by the tests; this only catches JVMs a killed test process left.
  pkill -9 -f 'nestjs.kafka.consumer.test.broker' 2>/dev/null || true
  rm -rf "$results"
}
trap cleanup EXIT

status=0
echo "== unit specs and broker tests on Apache Kafka ${KAFKA_VERSION:-4.x} =="
npx jest --runInBand --forceExit --json --outputFile="$results/main.json" "$@" || status=1

# What 3.9 must show too: consume and commit, commit policies, static membership and fencing,
# cooperative hand-over, seek, shutdown of a real process.
COMPAT=(test/core.test.ts test/commit-policies.test.ts test/membership.test.ts test/rebalance.test.ts test/seek.test.ts test/shutdown.test.ts)
if [ $# -eq 0 ] || [ "${KAFKA_COMPAT:-}" = 1 ]; then
  echo "== compatibility subset on Apache Kafka 3.9 =="
  KAFKA_VERSION=3.9 npx jest --selectProjects broker --runInBand --forceExit --json --outputFile="$results/compat.json" "${COMPAT[@]}" || status=1
fi

# The same broker tests on the confluent engine. Every run uses --forceExit as a backstop: a
# librdkafka client whose close never returned would otherwise keep jest (and CI) waiting.
if [ $# -eq 0 ] || [ "${CONFLUENT:-}" = 1 ]; then
  echo "== broker tests on the confluent engine, Apache Kafka ${KAFKA_VERSION:-4.x} =="
  TEST_ENGINE=confluent npx jest --selectProjects broker --runInBand --forceExit --json --outputFile="$results/confluent.json" || status=1
fi

summary=$(node -e '
  const fs = require("fs");
  const names = { "main.json": "unit + broker, kafkajs engine, Kafka 4.x", "compat.json": "broker subset, kafkajs engine, Kafka 3.9", "confluent.json": "broker, confluent engine, Kafka 4.x" };
  let passed = 0, failed = 0, files = 0;
  for (const file of process.argv.slice(1)) {
    if (!fs.existsSync(file)) continue;
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    const runFailed = r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
    console.error(`  ${names[file.split("/").pop()]}: ${r.numPassedTests} passed, ${runFailed} failed, ${r.numPendingTests} skipped`);
    passed += r.numPassedTests;
    failed += runFailed;
    files += 1;
  }
  if (files === 0) failed = 1;
  console.log(`${passed} passed, ${failed} failed`);
' "$results/main.json" "$results/compat.json" "$results/confluent.json")
[ -n "${TEST_SUMMARY_FILE:-}" ] && echo "$summary" > "$TEST_SUMMARY_FILE"
echo "$summary"
case "$summary" in *" 0 failed") ;; *) status=1 ;; esac
exit $status
