import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ExternalContextCreator } from '@nestjs/core/helpers/external-context-creator';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import type { KafkaErrorHookOptions } from '../decorators/on-kafka-error.decorator';
import type { RebalanceHookMetadata } from '../decorators/rebalance-hooks.decorator';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { KAFKA_ERROR_HOOK_METADATA, KAFKA_HANDLER_METADATA, KAFKA_REBALANCE_HOOK_METADATA } from '../kafka-consumer.constants';
import { nestEnhancedHandler, usesNestEnhancers } from './nest-enhanced-handler';

export interface DiscoveredHandler {
  name: string;
  metadata: KafkaHandlerMetadata;
  source: BoundMethod;
}

export interface DiscoveredErrorHook {
  options: KafkaErrorHookOptions;
  invoke: BoundMethod;
}

export interface DiscoveredRebalanceHook {
  name: string;
  options: RebalanceHookMetadata;
  invoke: BoundMethod;
}

/** Finds decorated methods on providers and controllers. Reads metadata only; no I/O. */
@Injectable()
export class KafkaHandlerExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  explore(): { handlers: DiscoveredHandler[]; errorHooks: DiscoveredErrorHook[]; rebalanceHooks: DiscoveredRebalanceHook[] } {
    const handlers: DiscoveredHandler[] = [];
    const errorHooks: DiscoveredErrorHook[] = [];
    const rebalanceHooks: DiscoveredRebalanceHook[] = [];
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      if (!wrapper.isDependencyTreeStatic()) this.refuseRequestScoped(wrapper);
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const bound = (method as BoundMethod).bind(instance);
        const handler = this.reflector.get<KafkaHandlerMetadata | undefined>(KAFKA_HANDLER_METADATA, method);
        if (handler) {
          const source = usesNestEnhancers(instance, methodName, method) ? nestEnhancedHandler(this.contextCreator, instance, methodName, method as BoundMethod) : bound;
          handlers.push({ name: handler.name ?? `${instance.constructor.name}.${methodName}`, metadata: handler, source });
        }
        const hook = this.reflector.get<KafkaErrorHookOptions | undefined>(KAFKA_ERROR_HOOK_METADATA, method);
        if (hook) errorHooks.push({ options: hook, invoke: bound });
        const rebalance = this.reflector.get<RebalanceHookMetadata | undefined>(KAFKA_REBALANCE_HOOK_METADATA, method);
        if (rebalance) rebalanceHooks.push({ name: `${instance.constructor.name}.${methodName}`, options: rebalance, invoke: bound });
      }
    }
    return { handlers, errorHooks, rebalanceHooks };
  }

  /**
   * A request-scoped (or transient-dependent) provider has no instance to call
   * when a record arrives; one with Kafka handlers or hooks fails at startup.
   */
  private refuseRequestScoped(wrapper: InstanceWrapper): void {
    const prototype = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
    if (!prototype || typeof prototype !== 'object') return;
    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const method = (prototype as Record<string, unknown>)[methodName];
      if (typeof method !== 'function') continue;
      const keys = [KAFKA_HANDLER_METADATA, KAFKA_ERROR_HOOK_METADATA, KAFKA_REBALANCE_HOOK_METADATA];
      if (keys.some((key) => this.reflector.get(key, method) !== undefined)) {
        throw new KafkaConsumerConfigError(
          `handler ${wrapper.name?.toString() ?? 'provider'}.${methodName}: scope`,
          'request',
          'a Kafka handler or hook needs a provider with one instance (the default scope); records arrive outside any request. Move it to a default-scope provider, and inject request-scoped services through ModuleRef.resolve() per record if needed',
        );
      }
    }
  }
}
