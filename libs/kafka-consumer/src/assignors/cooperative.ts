import type { Assignment, GroupMemberSubscription } from './assignment.types';

/**
 * First round of an incremental (cooperative) rebalance, §4.1.2: a partition
 * that the target assignment moves away from a live member still claiming it
 * is withheld from its new owner. The old owner sees it gone, drains and
 * commits it, runs its revoked hook and joins again; in that next round nobody
 * claims it and the new owner gets it. Partitions that do not move are never
 * revoked, so their owners keep working through both rounds.
 */
export function withholdMovingPartitions(members: GroupMemberSubscription[], target: Assignment): Assignment {
  const claimedBy = new Map<string, Set<string>>();
  for (const member of members) {
    if (!Object.hasOwn(target, member.memberId)) continue; // claims of members no longer here are void
    for (const [topic, partitions] of Object.entries(member.previous ?? {})) {
      if (!Array.isArray(partitions)) continue;
      for (const partition of partitions) {
        const key = `${topic} ${partition}`;
        const owners = claimedBy.get(key) ?? new Set<string>();
        owners.add(member.memberId);
        claimedBy.set(key, owners);
      }
    }
  }
  const result: Assignment = {};
  for (const [memberId, topics] of Object.entries(target)) {
    result[memberId] = {};
    for (const [topic, partitions] of Object.entries(topics)) {
      result[memberId][topic] = partitions.filter((partition) => {
        const claimants = claimedBy.get(`${topic} ${partition}`);
        return !claimants || claimants.has(memberId);
      });
    }
  }
  return result;
}

/** Partitions claimed before but absent now: what a member must revoke. */
export function revokedPartitions(before: Record<string, number[]>, after: Record<string, number[]>): Record<string, number[]> {
  const revoked: Record<string, number[]> = {};
  for (const [topic, partitions] of Object.entries(before)) {
    const kept = new Set(after[topic] ?? []);
    const gone = partitions.filter((p) => !kept.has(p));
    if (gone.length > 0) revoked[topic] = gone;
  }
  return revoked;
}
