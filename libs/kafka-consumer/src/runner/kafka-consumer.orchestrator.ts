import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleInit,
} from '@nestjs/common';
import type { BoundMethod } from '../interfaces/bound-method.interface';
import { DiscoveredErrorHook, DiscoveredRebalanceHook, KafkaHandlerExplorer } from '../discovery/kafka-handler.explorer';
import type { KafkaConsumerFailure } from '../interfaces/consumer-failure.interface';
import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import { RESOLVED_MODULE_OPTIONS } from '../kafka-consumer.constants';
import type { ResolvedGroup, ResolvedModuleOptions } from '../options/resolved-options';
import { resolveGroups } from '../options/resolve-options';
import { DeadLetterPublisher } from '../dispatch/dead-letter-publisher';
import type { KafkaClient } from '../engine/kafka-client';
import { CLIENT_FACTORIES, checkGroupEngine, ENGINE_CAPABILITIES } from '../engine/engines';
import type { KafkaEngineName } from '../interfaces/module-options.interface';
import { PrometheusExposition } from '../telemetry/prometheus-metrics';
import { GroupRunner } from './group-runner';

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * Discovers handlers at module init (config errors surface there), starts one
 * runner per group at bootstrap, and stops them before the application shuts
 * down or on SIGTERM/SIGINT.
 */
@Injectable()
export class KafkaConsumerOrchestrator implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('KafkaConsumer');
  private groups: ResolvedGroup<BoundMethod>[] = [];
  private errorHooks: DiscoveredErrorHook[] = [];
  private rebalanceHooks: DiscoveredRebalanceHook[] = [];
  private runners: GroupRunner[] = [];
  /** One client per engine in use; the module-wide engine's also does admin calls and dead letters. */
  private readonly clients = new Map<KafkaEngineName, KafkaClient>();
  private deadLetters: DeadLetterPublisher | undefined;
  private stopping: Promise<void> | undefined;
  private othersHandleSignals = false;
  private prometheus: PrometheusExposition | undefined;
  private stopScrapes: (() => void) | undefined;

  constructor(
    private readonly explorer: KafkaHandlerExplorer,
    @Inject(RESOLVED_MODULE_OPTIONS) private readonly options: ResolvedModuleOptions,
  ) {}

  onModuleInit(): void {
    const { handlers, errorHooks, rebalanceHooks } = this.explorer.explore();
    this.groups = resolveGroups(this.options, handlers);
    for (const group of this.groups) checkGroupEngine(group);
    // prom-client missing fails here, at startup.
    if (this.options.prometheus) this.prometheus = PrometheusExposition.forRegistry(this.options.prometheus.registry);
    this.errorHooks = errorHooks;
    this.rebalanceHooks = rebalanceHooks;
    const groupIds = this.groups.map((g) => g.groupId);
    for (const hook of rebalanceHooks) {
      if (hook.options.groupId !== undefined && !groupIds.includes(hook.options.groupId)) {
        throw new KafkaConsumerConfigError(`${hook.name}: groupId`, hook.options.groupId, `no handler consumes in this group; groups with handlers: ${groupIds.join(', ') || 'none'}`);
      }
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.groups.length === 0) {
      this.logger.warn('no @KafkaHandler methods found; no consumer started');
      return;
    }
    const main = await this.client(this.options.defaults.engine);
    for (const group of this.groups) await this.client(group.settings.engine);
    this.deadLetters = new DeadLetterPublisher(main.deadLetters);
    this.runners = this.groups.map(
      (group) =>
        new GroupRunner({
          createEngine: (setup) => this.clients.get(group.settings.engine)!.createEngine(setup),
          admin: main.admin,
          errors: this.clients.get(group.settings.engine)!.errors,
          capabilities: ENGINE_CAPABILITIES[group.settings.engine],
          group,
          options: this.options,
          reportFailure: (failure) => this.reportFailure(failure),
          deadLetters: this.deadLetters!,
          rebalanceHooks: this.rebalanceHooks.filter((hook) => hook.options.groupId === undefined || hook.options.groupId === group.groupId),
          logger: this.logger,
          prometheus: this.prometheus,
        }),
    );
    this.stopScrapes = this.prometheus?.addSource(() =>
      this.runners.map((runner) => ({ groupId: runner.groupId, partitions: runner.metrics(), commitMetadata: runner.commitMetadataCounts() })),
    );
    // Every start settles before anything stops: a runner stopped while it still starts could
    // go on to join and run with nobody left to stop it.
    const started = await Promise.allSettled(this.runners.map((runner) => runner.start()));
    const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    this.listenForSignals();
  }

  /** The client of an engine, created and connected on first use. */
  private async client(engine: KafkaEngineName): Promise<KafkaClient> {
    let client = this.clients.get(engine);
    if (!client) {
      client = CLIENT_FACTORIES[engine](this.options, this.logger);
      this.clients.set(engine, client);
      await client.connect();
    }
    return client;
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  /** The consumer groups of this application. */
  groupIds(): string[] {
    return this.runners.map((r) => r.groupId);
  }

  /** Current assignment per group, as `topic partition` keys. */
  assignments(): Record<string, string[]> {
    return Object.fromEntries(this.runners.map((r) => [r.groupId, r.assignment()]));
  }

  runner(groupId: string): GroupRunner {
    const runner = this.runners.find((r) => r.groupId === groupId);
    if (!runner) throw new Error(`no running consumer group "${groupId}"; running: ${this.runners.map((r) => r.groupId).join(', ') || 'none'}`);
    return runner;
  }

  stop(): Promise<void> {
    for (const signal of SIGNALS) process.removeListener(signal, this.onSignal);
    this.stopping ??= (async () => {
      await Promise.all(this.runners.map((runner) => runner.stop()));
      this.stopScrapes?.();
      await this.deadLetters?.close();
      await Promise.all([...this.clients.values()].map((client) => client.disconnect().catch(() => undefined)));
    })();
    return this.stopping;
  }

  private async reportFailure(failure: KafkaConsumerFailure): Promise<void> {
    if (failure.kind === 'deserialization' || failure.kind === 'handler') {
      const where = `${failure.topic}[${failure.partition}]@${failure.offset}`;
      const what = failure.kind === 'handler' ? `handler ${failure.handler} failed ${failure.attempts} times` : 'cannot deserialize';
      this.logger.error(`group ${failure.groupId}: ${what} at ${where}: ${(failure.error as Error)?.message ?? failure.error}`);
    }
    for (const hook of this.errorHooks) {
      if (hook.options.groupId !== undefined && hook.options.groupId !== failure.groupId) continue;
      try {
        await hook.invoke(failure);
      } catch (error) {
        this.logger.error(`@OnKafkaError hook threw: ${(error as Error)?.message ?? error}`);
      }
    }
  }

  /**
   * Without app.enableShutdownHooks(), Nest does not react to signals; the
   * consumers still stop cleanly, then the signal ends the process as usual.
   */
  private listenForSignals(): void {
    this.othersHandleSignals = SIGNALS.some((signal) => process.listenerCount(signal) > 0);
    for (const signal of SIGNALS) process.once(signal, this.onSignal);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    const othersListen = this.othersHandleSignals || process.listenerCount(signal) > 0;
    for (const s of SIGNALS) process.removeListener(s, this.onSignal);
    this.logger.log(`${signal}: stopping Kafka consumers`);
    void this.stop().finally(() => {
      if (!othersListen) process.kill(process.pid, signal);
    });
  };

}
