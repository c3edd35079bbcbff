export type { Assignment, AssignFn, GroupMemberSubscription, TopicPartitionCounts, TopicPartitions } from './assignment.types';
export { rangeAssign } from './range';
export { roundRobinAssign } from './round-robin';
export { stickyAssign } from './sticky';
export { StickyMemberState, encodeStickyUserData, decodeStickyUserData } from './sticky-member-state';
export type { StickyUserData } from './sticky-member-state';
export {
  RangeAssignor,
  RoundRobinAssignor,
  StickyAssignor,
  CooperativeStickyAssignor,
  createStickyAssignor,
  createCooperativeStickyAssignor,
} from './kafka-assigners';
