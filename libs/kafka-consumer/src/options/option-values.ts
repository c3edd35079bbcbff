import type { BuiltinDeserializer, CommitMetadataMode, CommitMode, OrderingMode } from '../interfaces/handler-options.interface';
import type { AssignmentStrategy, AutoOffsetReset, GroupProtocol, KafkaEngineName, KafkaLogLevel, SaslOptions } from '../interfaces/module-options.interface';

/** The allowed values of each option that takes one of a list, for validation and error messages. */

/** Checks at compile time that `values` lists every member of the union T. */
const every =
  <T extends string>() =>
  <const V extends readonly T[]>(values: V & ([T] extends [V[number]] ? unknown : 'lists only some of the values')): V =>
    values;

export const ASSIGNMENT_STRATEGIES = every<AssignmentStrategy>()(['range', 'roundrobin', 'sticky', 'cooperative-sticky']);
export const AUTO_OFFSET_RESET = every<AutoOffsetReset>()(['earliest', 'latest']);
export const COMMIT_MODES = every<CommitMode>()(['auto', 'record', 'batch', 'manual']);
export const ORDERING_MODES = every<OrderingMode>()(['partition', 'key', 'unordered']);
export const COMMIT_METADATA_MODES = every<CommitMetadataMode>()(['none', 'finished-ahead']);
export const BUILTIN_DESERIALIZERS = every<BuiltinDeserializer>()(['string', 'json', 'buffer']);
export const LOG_LEVELS = every<KafkaLogLevel>()(['nothing', 'error', 'warn', 'info', 'debug']);
export const SASL_MECHANISMS = every<SaslOptions['mechanism']>()(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']);
export const ENGINES = every<KafkaEngineName>()(['kafkajs', 'confluent']);
export const GROUP_PROTOCOLS = every<GroupProtocol>()(['classic', 'consumer']);
