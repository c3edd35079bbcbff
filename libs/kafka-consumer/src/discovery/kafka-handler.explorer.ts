import { Injectable } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { KafkaErrorHookOptions } from '../decorators/on-kafka-error.decorator';
import type { RebalanceHookMetadata } from '../decorators/rebalance-hooks.decorator';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import type { KafkaHandlerMetadata } from '../interfaces/handler-options.interface';
import { KAFKA_ERROR_HOOK_METADATA, KAFKA_HANDLER_METADATA, KAFKA_REBALANCE_HOOK_METADATA } from '../kafka-consumer.constants';


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
  ) {}

  explore(): { handlers: DiscoveredHandler[]; errorHooks: DiscoveredErrorHook[]; rebalanceHooks: DiscoveredRebalanceHook[] } {
    const handlers: DiscoveredHandler[] = [];
    const errorHooks: DiscoveredErrorHook[] = [];
    const rebalanceHooks: DiscoveredRebalanceHook[] = [];
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    const seen = new Set<object>();
    for (const wrapper of wrappers) {
      const instance: unknown = wrapper.instance;
      // Request-scoped providers have no instance to call at consume time.
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic() || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const bound = (method as BoundMethod).bind(instance);
        const handler = this.reflector.get<KafkaHandlerMetadata | undefined>(KAFKA_HANDLER_METADATA, method);
        if (handler) {
          handlers.push({ name: handler.name ?? `${instance.constructor.name}.${methodName}`, metadata: handler, source: bound });
        }
        const hook = this.reflector.get<KafkaErrorHookOptions | undefined>(KAFKA_ERROR_HOOK_METADATA, method);
        if (hook) errorHooks.push({ options: hook, invoke: bound });
        const rebalance = this.reflector.get<RebalanceHookMetadata | undefined>(KAFKA_REBALANCE_HOOK_METADATA, method);
        if (rebalance) rebalanceHooks.push({ name: `${instance.constructor.name}.${methodName}`, options: rebalance, invoke: bound });
      }
    }
    return { handlers, errorHooks, rebalanceHooks };
  }
}
