import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { KafkaHandlerExplorer } from './discovery/kafka-handler.explorer';
import { KafkaConsumerHealthIndicator } from './health/kafka-consumer.health';
import { RESOLVED_MODULE_OPTIONS } from './kafka-consumer.constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN,
  OPTIONS_TYPE,
} from './kafka-consumer.module-definition';
import type { KafkaConsumerModuleOptions } from './interfaces/module-options.interface';
import { resolveModuleOptions } from './options/resolve-options';
import { KafkaConsumerOrchestrator } from './runner/kafka-consumer.orchestrator';
import { KafkaConsumerService } from './runner/kafka-consumer.service';

/**
 * Turns `@KafkaHandler` methods into Kafka consumers: one kafkajs consumer per
 * consumer group, started at application bootstrap, stopped cleanly at close.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    KafkaHandlerExplorer,
    KafkaConsumerOrchestrator,
    KafkaConsumerService,
    KafkaConsumerHealthIndicator,
    {
      provide: RESOLVED_MODULE_OPTIONS,
      useFactory: (options: KafkaConsumerModuleOptions) => resolveModuleOptions(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
  ],
  exports: [KafkaConsumerService, KafkaConsumerHealthIndicator],
})
export class KafkaConsumerModule extends ConfigurableModuleClass {
  /** Invalid options throw here, before the application is built. */
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    resolveModuleOptions(options);
    return { ...super.forRoot(options), global: true };
  }

  /** Options from a factory (e.g. reading ConfigService); validated when the factory has run. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return { ...super.forRootAsync(options), global: true };
  }
}
