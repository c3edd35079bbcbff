import type { ConnectionOptions } from 'tls';
import type { CommitMetadataMode, CommitMode, CommitPolicyOptions, OrderingMode, RetryOptions, TopicSubscription } from './handler-options.interface';

export type AssignmentStrategy = 'range' | 'roundrobin' | 'sticky' | 'cooperative-sticky';

export type AutoOffsetReset = 'earliest' | 'latest';

/** The Kafka client under a group: kafkajs (default) or Confluent's librdkafka-based client (an optional peer). */
export type KafkaEngineName = 'kafkajs' | 'confluent';

/** The consumer group protocol: classic (JoinGroup/SyncGroup) or KIP-848's `consumer`. */
export type GroupProtocol = 'classic' | 'consumer';

/** How much the Kafka client logs through the Nest logger. */
export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** SASL authentication: PLAIN or SCRAM with a user and password, or OAUTHBEARER with a token provider. */
export type SaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> };

/**
 * Consumer settings, named after the Kafka consumer configuration (§4.5) and
 * mapped to each client in its engine (engine/kafkajs/kafkajs-config.ts).
 */
export interface ConsumerSettings {
  /** session.timeout.ms (default 30000). */
  sessionTimeoutMs?: number;
  /** heartbeat.interval.ms (default 3000); must be below the session timeout. */
  heartbeatIntervalMs?: number;
  /** How long the coordinator waits for members to rejoin (default 60000). */
  rebalanceTimeoutMs?: number;
  /** fetch.min.bytes (default 1). */
  fetchMinBytes?: number;
  /** fetch.max.bytes (default 52428800). */
  fetchMaxBytes?: number;
  /** fetch.max.wait.ms (default 500). */
  fetchMaxWaitMs?: number;
  /** max.partition.fetch.bytes (default 1048576). */
  maxPartitionFetchBytes?: number;
  /**
   * The most bytes of fetched records this consumer holds before its handlers
   * take them, across all brokers (default 2097152; 0 turns the bound off).
   * Each Fetch request asks for this budget split over the brokers it fetches
   * from, never more than fetchMaxBytes nor less than fetchMinBytes; a
   * response may go over by one record batch (KIP-74). Memory then stays flat
   * however large the backlog, at some cost in fetch round trips.
   */
  maxBufferedBytes?: number;
  /** auto.offset.reset: where a group without a committed offset starts (default latest). */
  autoOffsetReset?: AutoOffsetReset;
  /** max.poll.records: the most records one batch handler call receives (default 500). */
  maxPollRecords?: number;
  /**
   * max.poll.interval.ms: a record that runs longer stops heartbeats and commits;
   * a dynamic member leaves the group (its partitions move at once) and joins
   * again when the record ends, as a Java consumer does (default 300000).
   */
  maxPollIntervalMs?: number;
  /**
   * The Kafka client this group consumes with (default `kafkajs`). `confluent`
   * needs the optional peer @confluentinc/kafka-javascript; options it cannot
   * honour fail at startup (see the engine table in docs/engines.md).
   */
  engine?: KafkaEngineName;
  /**
   * group.protocol (default `classic`). `consumer`: the KIP-848 protocol of
   * Kafka 4.x, on the confluent engine: the broker assigns partitions and every
   * rebalance is incremental; sessionTimeoutMs, heartbeatIntervalMs,
   * rebalanceTimeoutMs and assignmentStrategy are then the broker's and refused here.
   */
  groupProtocol?: GroupProtocol;
  /** partition.assignment.strategy (§4.5.12, default `cooperative-sticky`). */
  assignmentStrategy?: AssignmentStrategy;
  /**
   * group.instance.id (§4.5.15): makes this member static. It does not leave the
   * group on shutdown, so a restart within sessionTimeoutMs gets the same
   * partitions without a rebalance. Each live member needs its own id.
   */
  groupInstanceId?: string;
  /** Partitions of this group processed in parallel by the fetch loop (default 1). */
  partitionsConsumedConcurrently?: number;
  /**
   * Standalone consumer (§4.11): read the given partitions without joining the
   * group (no rebalance), still committing under the groupId. Per group only.
   */
  standalone?: StandaloneOptions;
}

/** A topic a standalone consumer reads: the given partitions, or all of them. */
export interface StandaloneTopic {
  topic: string;
  /** Partition numbers; omitted = every partition of the topic. */
  partitions?: number[];
}

/**
 * A standalone consumer (Java's `assign()`, §4.11): no JoinGroup, SyncGroup,
 * Heartbeat or LeaveGroup, so no rebalance; offsets are still fetched from and
 * committed under the groupId (generation -1, empty member id).
 */
export interface StandaloneOptions {
  /**
   * The partitions to read. Each topic must be one a handler of the group
   * subscribes to by name. Default: every partition of every topic the
   * group's handlers name.
   */
  assign?: StandaloneTopic[];
  /**
   * Re-check the topics read in full (no `partitions` list) this often and
   * start reading partitions added since, from their beginning (default: off,
   * like Java's `assign()`: partitions added later are not read).
   */
  partitionDiscoveryIntervalMs?: number;
  /**
   * Commit finished offsets under the groupId by each handler's policy
   * (default true). false: nothing is ever committed; committed offsets, if
   * any, are still where reading starts (keep your own, and seek in
   * `@OnPartitionsAssigned`).
   */
  commitOffsets?: boolean;
}

/** Overrides for one handler, by name, from application config. */
export interface HandlerOverrides {
  /** The handler's topics, in place of the decorator's (names from configuration). */
  topics?: TopicSubscription;
  /** The handler's consumer group, in place of the decorator's. */
  groupId?: string;
  commit?: CommitMode | CommitPolicyOptions;
  ordering?: OrderingMode;
  concurrency?: number;
  maxQueuedRecords?: number;
  handlerTimeoutMs?: number;
  retry?: RetryOptions;
  commitMetadata?: CommitMetadataMode;
}

export interface KafkaConsumerModuleOptions extends Omit<ConsumerSettings, 'standalone'> {
  /** bootstrap.servers: a list, or a comma-separated string. Required. */
  brokers: string[] | string;
  /** client.id (default `nestjs-kafka-consumer`). */
  clientId?: string;
  /** client.rack: lets brokers serve fetches from a replica in the same rack (§4.5.14). */
  clientRack?: string;
  /** request.timeout.ms (default 30000). */
  requestTimeoutMs?: number;
  /** Connection timeout in ms (default 1000). */
  connectionTimeoutMs?: number;
  ssl?: boolean | ConnectionOptions;
  /** SASL authentication (use with `ssl` outside a trusted network). */
  sasl?: SaslOptions;
  /** Default consumer group for handlers that name none. */
  groupId?: string;
  /** Per-group overrides of the consumer settings above, and per-group `standalone`. */
  groups?: Record<string, ConsumerSettings>;
  /** Per-handler overrides by handler name (`ClassName.methodName` or the decorator's `name`). */
  handlers?: Record<string, HandlerOverrides>;
  /** How often pattern subscriptions look for new matching topics (default 30000 ms). */
  topicRefreshIntervalMs?: number;
  /** How long shutdown waits for running handlers before it commits and leaves (default 30000 ms). */
  shutdownTimeoutMs?: number;
  /** What the Kafka client logs (default `warn`). */
  logLevel?: KafkaLogLevel;
  /**
   * Prometheus metrics through prom-client (an optional peer): lag, committed
   * offsets, queued and running records per partition, commit latency,
   * rebalances, retries, dead letters, handler timeouts (docs/observability.md).
   * `true`: in prom-client's default registry; `{ registry }`: in that one.
   * Off by default; without prom-client installed, turning it on fails at startup.
   */
  prometheus?: boolean | { registry?: PrometheusRegistry };
}

/** A prom-client `Registry`, typed by the calls the module makes so that these typings need no prom-client. */
export interface PrometheusRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
  metrics(): Promise<string>;
}
