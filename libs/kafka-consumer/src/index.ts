export { KafkaConsumerModule } from './kafka-consumer.module';
export { KafkaHandler, KafkaBatchHandler } from './decorators/kafka-handler.decorator';
export { OnKafkaError } from './decorators/on-kafka-error.decorator';
export { Payload, Ctx, KafkaKey, KafkaHeaders, KafkaParamType } from './decorators/kafka-params.decorator';
export type { KafkaErrorHookOptions } from './decorators/on-kafka-error.decorator';
export { OnPartitionsAssigned, OnPartitionsRevoked, OnPartitionsLost } from './decorators/rebalance-hooks.decorator';
export type { ConsumerGroupStatus, DeadLetterStats, GroupMembership, RebalanceContext, RebalanceHookOptions, TopicPartition } from './interfaces/rebalance.interface';
export { KafkaConsumerService } from './runner/kafka-consumer.service';
export { KafkaConsumerHealthIndicator } from './health/kafka-consumer.health';
export type { KafkaHealthResult } from './health/kafka-consumer.health';
export type { GroupHealth, KafkaHealthOptions } from './health/group-health';
export type { SeekPosition } from './interfaces/seek-position.interface';
export type { PartitionMetrics } from './interfaces/partition-metrics.interface';
export {
  RangeAssignor,
  RoundRobinAssignor,
  StickyAssignor,
  CooperativeStickyAssignor,
  createStickyAssignor,
  createCooperativeStickyAssignor,
} from './engine/kafkajs/kafkajs-assigners';
export { StickyMemberState } from './assignors/sticky-member-state';
export { KafkaConsumerConfigError } from './errors/kafka-consumer-config.error';
export { DeserializationError } from './errors/deserialization.error';
export { HandlerTimeoutError, NonRetriableError, RetryLaterError } from './errors/handler-signals.error';
export { DEAD_LETTER_HEADERS } from './dispatch/dead-letter-publisher';
export { stringDeserializer, jsonDeserializer, bufferDeserializer } from './deserializers/builtin-deserializers';
export type { Deserializer } from './interfaces/deserializer.interface';
export type {
  KafkaHandlerOptions,
  TopicSubscription,
  CommitMetadataMode,
  CommitMode,
  CommitPolicyOptions,
  OrderingMode,
  RetryOptions,
  BuiltinDeserializer,
} from './interfaces/handler-options.interface';
export type {
  KafkaConsumerModuleOptions,
  ConsumerSettings,
  HandlerOverrides,
  AutoOffsetReset,
  AssignmentStrategy,
  KafkaLogLevel,
  KafkaEngineName,
  GroupProtocol,
  SaslOptions,
  StandaloneOptions,
  StandaloneTopic,
} from './interfaces/module-options.interface';
export type { KafkaRecord, KafkaMessageContext, KafkaBatchContext } from './interfaces/message-context.interface';
export type { KafkaConsumerFailure, KafkaFailureKind } from './interfaces/consumer-failure.interface';
