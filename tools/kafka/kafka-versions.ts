import { existsSync, readdirSync } from 'fs';
import { dirname, join } from 'path';

/**
 * The Apache Kafka lines the project tests on, each pinned in tools/kafka/pom.xml and fetched
 * from Maven Central by tools/setup.sh into tools/kafka/lib/<version>/ (never committed).
 */
export const KAFKA_VERSIONS = {
  '4.1.1': { line: '4.x', profile: 'kafka-4', logging: 'log4j2' },
  '3.9.1': { line: '3.9', profile: 'kafka-3.9', logging: 'reload4j' },
} as const;

export type KafkaVersion = keyof typeof KAFKA_VERSIONS;
export const DEFAULT_KAFKA_VERSION: KafkaVersion = '4.1.1';

/** `KAFKA_VERSION` from the environment (a pinned version or its line, e.g. `3.9`), else the default. */
export function selectedKafkaVersion(value = process.env.KAFKA_VERSION): KafkaVersion {
  if (!value) return DEFAULT_KAFKA_VERSION;
  for (const [version, { line }] of Object.entries(KAFKA_VERSIONS)) {
    if (value === version || value === line || (line === '4.x' && value === '4')) return version as KafkaVersion;
  }
  throw new Error(`KAFKA_VERSION=${value} is not a tested Kafka version; use one of ${Object.keys(KAFKA_VERSIONS).join(', ')} (or 4.x, 3.9)`);
}

/** The jars of one Kafka version; fails with the command that fetches them when they are missing. */
export function kafkaClasspath(version: KafkaVersion): string {
  const dir = join(kafkaToolsDir(), 'lib', version);
  if (!existsSync(dir) || !readdirSync(dir).some((name) => name.startsWith(`kafka_2.13-${version}`))) {
    throw new Error(`Apache Kafka ${version} jars are missing in ${dir}: run "npm run setup" (Maven fetches them from Maven Central)`);
  }
  return join(dir, '*');
}

/** tools/kafka in the repository, also when this module runs compiled from dist/. */
export function kafkaToolsDir(from = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'tools', 'kafka', 'pom.xml'))) return join(dir, 'tools', 'kafka');
    if (dirname(dir) === dir) throw new Error(`no tools/kafka/pom.xml above ${from}`);
  }
}
