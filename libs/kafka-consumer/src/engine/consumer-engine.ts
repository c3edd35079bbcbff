import { KafkaConsumerConfigError } from '../errors/kafka-consumer-config.error';
import type { StickyMemberState } from '../assignors/sticky-member-state';
import type { RecordHeaders } from '../interfaces/message-context.interface';
import type { TopicPartition } from '../interfaces/rebalance.interface';
import type { AssignmentStrategy } from '../interfaces/module-options.interface';
import type { ResolvedConsumerSettings } from '../options/resolved-options';

/** A join's outcome: this member's id, the generation, and its partitions by topic. */
export interface JoinResult {
  memberId: string;
  generationId: number;
  assignment: Record<string, number[]>;
}

/** One record as fetched: offsets are strings (int64), key and value the raw bytes. */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeaders;
  /** Milliseconds since the epoch, as a string. */
  timestamp: string;
}

/** The records of one partition from one fetch. */
export interface EngineBatch {
  topic: string;
  partition: number;
  messages: FetchedRecord[];
  /** Log end offset seen by this fetch, for lag. */
  highWatermark: string;
  lastOffset(): string;
}

/** The fetch loop that handed over a batch. */
export interface FetchLoopControl {
  /** Moves the fetch position past this record; unresolved records are fetched again. */
  resolveOffset(offset: string): void;
  /** Heartbeats when due; throws the rebalance the engine answers by rejoining. */
  heartbeat(): Promise<void>;
  /** False once the engine stopped this loop (a rejoin, a stop). */
  isRunning(): boolean;
}

/** An offset to commit: the next offset to read. */
export interface EngineOffset {
  topic: string;
  partition: number;
  offset: string;
  /** Commit metadata (finished-ahead offsets); undefined: none. */
  metadata?: string;
}

/** What the core hears from an engine; the engine awaits each call before it goes on. */
export interface EngineListener {
  onBatch(batch: EngineBatch, loop: FetchLoopControl): Promise<void>;
  /** Before each (re)join; `memberLost`: the coordinator no longer knows this member. */
  beforeJoin(memberLost: boolean): Promise<void>;
  /** After each join; true: join again at once (a cooperative hand-over). */
  afterJoin(joined: JoinResult): Promise<boolean>;
  /** The client failed; `restart`: it recovers by itself (joins again). */
  onCrash(error: Error, restart: boolean): void;
  /** A record outran max.poll.interval.ms: no heartbeats; a dynamic member leaves until it ends. */
  pollIntervalExceeded(): boolean;
  /** The core stops this consumer: no restart, no join. */
  stopping(): boolean;
}

/** What a client can do beyond the basics; an option that needs a missing one fails at startup. */
export interface EngineCapabilities {
  /** Assignors written in the module (range, roundrobin, nestjs-sticky, nestjs-cooperative-sticky). */
  customAssignors: boolean;
  /** group.instance.id (§4.5.15). */
  staticMembership: boolean;
  /** The client runs incremental cooperative rebalancing itself. */
  nativeCooperative: boolean;
  /** OffsetCommit carries metadata. */
  commitMetadata: boolean;
  /** Reading assigned partitions without group membership (§4.11). */
  standaloneAssignment: boolean;
  /** The KIP-848 consumer group protocol. */
  kip848: boolean;
  /** The client itself leaves the group when its fetch loop stops polling for max.poll.interval.ms. */
  enforcesPollInterval: boolean;
  /** The assignment strategies it honours (its own or the module's assignors). */
  assignmentStrategies: readonly AssignmentStrategy[];
}

/**
 * What the core needs of a Kafka client for one consumer group. The engine
 * owns the client consumer; the core owns everything else (offsets, commits
 * policy, dispatch, rebalance protocol, liveness).
 */
export interface ConsumerEngine {
  readonly name: string;
  readonly capabilities: EngineCapabilities;
  connect(): Promise<void>;
  subscribe(topics: string[], fromBeginning: boolean): Promise<void>;
  /** Starts fetching; resolves once the consumer has joined its group (or taken its partitions). */
  run(partitionsConsumedConcurrently: number): Promise<void>;
  /** Pauses and resumes fetching of partitions (`topic partition` keys); may throw while not running. */
  pause(keys: string[]): void;
  resume(keys: string[]): void;
  /** Pauses every partition of these topics; never throws. */
  pauseTopics(topics: string[]): void;
  seek(topic: string, partition: number, offset: string): void;
  /** Commits with the current generation, straight to the group coordinator. */
  commit(offsets: EngineOffset[]): Promise<void>;
  /**
   * Standalone consumer only: adds partitions to the running consumer in place
   * (partitions it reads keep their positions). A partition starts where a
   * seek before this call put it, else at its committed offset, else as
   * `fromBeginning(topic)` says.
   */
  addPartitions(partitions: TopicPartition[], fromBeginning: (topic: string) => boolean): Promise<void>;
  /** A keep-alive heartbeat while user code runs; never throws (a rebalance shows at the fetch loop). */
  keepAlive(): void;
  disconnect(): Promise<void>;
}

/** Engine-neutral names of what a group's options ask of the engine. */
export interface EngineRequirements {
  groupId: string;
  groupInstanceId?: string;
  standalone: boolean;
  assignmentStrategy: string;
  groupProtocol?: string;
}

/** Refuses at startup an option the engine cannot honour, naming option and engine. */
export function checkEngineSupports(engine: Pick<ConsumerEngine, 'name' | 'capabilities'>, wants: EngineRequirements): void {
  const refuse = (option: string, value: unknown, what: string) =>
    new KafkaConsumerConfigError(`groups.${wants.groupId}.${option}`, value, `needs ${what}, which the ${engine.name} engine does not support`);
  const { capabilities } = engine;
  if (wants.groupInstanceId !== undefined && !capabilities.staticMembership) throw refuse('groupInstanceId', wants.groupInstanceId, 'static membership');
  if (wants.standalone && !capabilities.standaloneAssignment) throw refuse('standalone', true, 'standalone assignment');
  if (wants.groupProtocol === 'consumer') {
    if (!capabilities.kip848) throw refuse('groupProtocol', 'consumer', 'the KIP-848 consumer group protocol');
    return; // the broker assigns: no client-side strategy applies
  }
  if (!capabilities.assignmentStrategies.includes(wants.assignmentStrategy as AssignmentStrategy)) {
    throw refuse('assignmentStrategy', wants.assignmentStrategy, `an assignor this client lacks (it has ${capabilities.assignmentStrategies.join(', ')})`);
  }
}

/** A standalone consumer's partitions (§4.11): read without joining the group. */
export interface StandaloneSetup {
  partitions: Record<string, number[]>;
  /** False: offsets are never committed, not even a reset position. */
  commitOffsets: boolean;
}

/** What an engine is built from, per consumer group. */
export interface EngineSetup {
  groupId: string;
  settings: ResolvedConsumerSettings;
  clientRack: string;
  /** This member's last assignment, for the sticky assignors. */
  sticky: StickyMemberState;
  /** Topics to add to the running subscription (topic → fromBeginning); taken at the next join. */
  pendingTopics: Map<string, boolean>;
  /** Standalone consumer (§4.11): the partitions to read without joining. */
  standalone?: StandaloneSetup;
  listener: EngineListener;
}
