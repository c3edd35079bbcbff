import type { LoggerService } from '@nestjs/common';
import type { ResolvedGroup, ResolvedHandler } from '../options/resolved-options';
import { matches, routeTopic } from '../options/route-topic';

/** The one call of the admin client this needs. */
export interface TopicLister {
  listTopics(): Promise<string[]>;
}

/**
 * Which topics a group reads (§4.3): explicit topics that exist and existing
 * matches of its patterns, where each starts without a committed offset, and
 * which new topics to add as they appear. It decides; the caller subscribes.
 */
export class TopicSubscriptions<S> {
  private readonly subscribed = new Set<string>();
  /**
   * Topics to add to the running consumer's subscription (topic → fromBeginning), taken by the
   * client at its next join (see consumer-group-extension's pendingTopics).
   */
  readonly pending = new Map<string, boolean>();

  constructor(
    private readonly group: ResolvedGroup<S>,
    private readonly admin: TopicLister,
    private readonly logger: LoggerService,
  ) {}

  /** The handler of a topic; undefined (logged) when two patterns claim it. */
  route(topic: string): ResolvedHandler<S> | undefined {
    try {
      return routeTopic(this.group.handlers, topic);
    } catch (error) {
      this.logger.error(`group ${this.group.groupId}: ${(error as Error).message}; topic ${topic} is not consumed`);
      return undefined;
    }
  }

  /** Where a partition without a committed offset starts: the handler's fromBeginning, else autoOffsetReset. */
  startsFromBeginning(topic: string): boolean {
    const handler = routeTopic(this.group.handlers, topic)!;
    return handler.fromBeginning ?? this.group.settings.autoOffsetReset === 'earliest';
  }

  /** Topics to subscribe now: explicit ones that exist, and existing matches of patterns. */
  async resolve(): Promise<{ topics: string[]; missing: string[] }> {
    const existing = new Set(await this.admin.listTopics());
    const topics: string[] = [];
    const missing: string[] = [];
    for (const handler of this.group.handlers) {
      for (const topic of handler.topics) (existing.has(topic) ? topics : missing).push(topic);
    }
    const patterned = this.group.handlers.filter((h) => h.patterns.length > 0);
    for (const topic of [...existing].sort()) {
      if (topic.startsWith('__') || topics.includes(topic)) continue;
      if (!patterned.some((h) => h.patterns.some((p) => matches(p, topic)))) continue;
      routeTopic(this.group.handlers, topic); // throws when two patterns claim it
      topics.push(topic);
    }
    return { topics, missing };
  }

  /** The topics grouped by where each starts, recorded as subscribed (kafkajs subscribes per start). */
  byStart(topics: string[]): Map<boolean, string[]> {
    const byStart = new Map<boolean, string[]>();
    for (const topic of topics) {
      const fromBeginning = this.startsFromBeginning(topic);
      byStart.set(fromBeginning, [...(byStart.get(fromBeginning) ?? []), topic]);
      this.subscribed.add(topic);
    }
    return byStart;
  }

  /** Records a topic read without a subscription (a standalone consumer's partitions). */
  add(topic: string): void {
    this.subscribed.add(topic);
  }

  all(): string[] {
    return [...this.subscribed];
  }

  /** Whether new topics can appear: missing explicit topics, or patterns. */
  needsRefresh(missing: string[]): boolean {
    return missing.length > 0 || this.group.handlers.some((h) => h.patterns.length > 0);
  }

  /**
   * Looks for topics that appeared since: each goes to `pending`, read from its
   * beginning (created after the group subscribed, every record in it is new).
   * Resolves with the topics added.
   */
  async refresh(): Promise<string[]> {
    let added: string[];
    try {
      const { topics } = await this.resolve();
      added = topics.filter((t) => !this.subscribed.has(t) && this.route(t));
    } catch (error) {
      this.logger.error(`group ${this.group.groupId}: topic refresh failed: ${(error as Error).message}`);
      return [];
    }
    if (added.length === 0) return [];
    this.logger.log?.(`group ${this.group.groupId}: subscribing to new topics ${added.join(', ')}`);
    for (const topic of added) {
      this.subscribed.add(topic);
      this.pending.set(topic, true);
    }
    return added;
  }
}
