import type { KafkaEngineName } from '../interfaces/module-options.interface';
import type { ResolvedModuleOptions } from '../options/resolved-options';
import { createConfluentClient } from './confluent/confluent-client';
import { CONFLUENT_CAPABILITIES } from './confluent/confluent-engine';
import { loadConfluent } from './confluent/confluent-library';
import { checkEngineSupports, EngineCapabilities } from './consumer-engine';
import type { KafkaClientFactory } from './kafka-client';
import { createKafkajsClient } from './kafkajs/kafkajs-client';
import { KAFKAJS_CAPABILITIES } from './kafkajs/kafkajs-engine';
import type { ResolvedGroup } from '../options/resolved-options';

/** Each engine's client; the Confluent client's library loads only when a client is created. */
export const CLIENT_FACTORIES: Record<KafkaEngineName, KafkaClientFactory<ResolvedModuleOptions>> = {
  kafkajs: createKafkajsClient,
  confluent: createConfluentClient,
};

export const ENGINE_CAPABILITIES: Record<KafkaEngineName, EngineCapabilities> = {
  kafkajs: KAFKAJS_CAPABILITIES,
  confluent: CONFLUENT_CAPABILITIES,
};

/**
 * At startup, before anything connects: each group's engine can honour its
 * options, and an optional client library it needs is installed.
 */
export function checkGroupEngine(group: ResolvedGroup<unknown>): void {
  const { engine, groupInstanceId, standalone, assignmentStrategy, groupProtocol } = group.settings;
  if (engine === 'confluent') loadConfluent();
  checkEngineSupports(
    { name: engine, capabilities: ENGINE_CAPABILITIES[engine] },
    { groupId: group.groupId, groupInstanceId, standalone: standalone !== undefined, assignmentStrategy, groupProtocol },
  );
}
