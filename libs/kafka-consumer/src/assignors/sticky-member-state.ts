import type { TopicPartitions } from './assignment.types';

/**
 * What this member owns now, sent to the group leader in the sticky userData on every join.
 *
 * kafkajs never hands an assigner the member's own assignment, so the runtime must feed it after
 * each join, e.g.
 *   consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => state.update(payload.memberAssignment));
 */
export class StickyMemberState {
  current: TopicPartitions = {};
  /** -1 until the first update: nothing to report yet, so no userData is sent. */
  generation = -1;

  /**
   * `generation` should be the group generation if the caller knows it. kafkajs does not expose
   * it, so the default is a wall-clock stamp: comparable across members, so when stale data makes
   * two members claim a partition the more recent claim wins.
   */
  update(assignment: TopicPartitions, generation?: number): void {
    this.current = Object.fromEntries(
      Object.entries(assignment).map(([topic, partitions]) => [topic, [...partitions].sort((a, b) => a - b)]),
    );
    this.generation = generation ?? Math.max(this.generation + 1, Date.now());
  }
}

export interface StickyUserData {
  assignment: TopicPartitions;
  generation: number;
}

const USER_DATA_VERSION = 1;

export function encodeStickyUserData(data: StickyUserData): Buffer {
  return Buffer.from(JSON.stringify({ v: USER_DATA_VERSION, assignment: data.assignment, generation: data.generation }));
}

/**
 * Lenient: userData comes from other processes (other versions, other clients such as Java's
 * binary sticky format), so anything unreadable means "no previous assignment" rather than an error.
 */
export function decodeStickyUserData(buffer: Buffer | null | undefined): StickyUserData | null {
  if (!buffer || buffer.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(buffer.toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(parsed) || parsed.v !== USER_DATA_VERSION || !isRecord(parsed.assignment)) return null;
  const assignment = Object.fromEntries(
    Object.entries(parsed.assignment)
      .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]))
      .map(([topic, partitions]) => [topic, partitions.filter(isPartition)]),
  );
  const generation = typeof parsed.generation === 'number' && Number.isFinite(parsed.generation) ? parsed.generation : -1;
  return { assignment, generation };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPartition(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}
