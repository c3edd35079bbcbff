import type { OffsetRange } from './finished-ahead-codec';

/**
 * Offsets of one partition: which records were handed out, which finished, and
 * the offset that is safe to commit. Pure. Kafka offsets are int64 and exceed
 * Number.MAX_SAFE_INTEGER: they are kept as the decimal strings kafkajs hands
 * out and compared as numbers (by length, then digit by digit), so the per-record
 * path parses and allocates nothing; offsets it reports are bigint.
 *
 * Records are begun in fetch order (ascending offsets, possibly with gaps from
 * compaction or transaction markers) and may finish in any order. The
 * committable offset is "next offset to read" after the longest finished
 * prefix: one past the last finished record with nothing unfinished before it.
 */
export class PartitionOffsetTracker {
  /** Begun offsets in order; entries before `head` have been retired. */
  private readonly begun: string[] = [];
  private head = 0;
  /** Finished offsets that still wait behind an unfinished one. */
  private readonly finishedAhead = new Set<string>();
  private highestBegun: string | undefined;
  /** The last record of the finished prefix; the watermark is one past it (computed when read, not per record). */
  private lastRetired: string | undefined;
  private committed: bigint | undefined;
  /** Offsets a previous owner finished above its commit (from the commit's metadata): finished here without running. */
  private skipRanges: OffsetRange[] = [];
  /** Records finished through skipRanges. */
  skipped = 0;
  /** Changes to the finished-ahead set, and how many of them the last commit carried. */
  private aheadChanges = 0;
  private aheadCommitted = 0;

  /**
   * Registers a record before it is processed. Returns false for an offset at
   * or below one already begun: a redelivery of work this tracker already
   * has (after a rebalance re-fetch), which must not run again.
   */
  begin(offset: bigint | string): boolean {
    const value = canonicalOffset(offset);
    if (this.highestBegun !== undefined && compareOffsets(value, this.highestBegun) <= 0) return false;
    if (this.lastRetired !== undefined && compareOffsets(value, this.lastRetired) <= 0) return false;
    this.highestBegun = value;
    this.begun.push(value);
    if (this.skipRanges.length > 0 && this.finishedBefore(BigInt(value))) {
      this.finish(value);
      this.skipped += 1;
      return false;
    }
    return true;
  }

  /**
   * Offsets finished before this member had the partition (the last owner's
   * commit metadata): they are begun and finished as they arrive, never run.
   */
  skipFinished(ranges: readonly OffsetRange[]): void {
    this.skipRanges = [...ranges];
  }

  /** Finished offsets above the first unfinished one, ascending: what a commit's metadata carries. */
  finishedAboveWatermark(): bigint[] {
    return [...this.finishedAhead].map((offset) => BigInt(offset)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The highest offset begun so far. */
  get highestBegunOffset(): bigint | undefined {
    return this.highestBegun === undefined ? undefined : BigInt(this.highestBegun);
  }

  /** How many finished offsets wait above the first unfinished one. */
  get finishedAheadCount(): number {
    return this.finishedAhead.size;
  }

  private finishedBefore(offset: bigint): boolean {
    while (this.skipRanges.length > 0 && this.skipRanges[0][1] <= offset) this.skipRanges.shift(); // passed: the fast path returns
    const first = this.skipRanges[0];
    return first !== undefined && first[0] <= offset;
  }

  /** Marks a begun record finished; returns whether the committable offset moved. */
  finish(offset: bigint | string): boolean {
    // The common case, the oldest record finishing, is the very string begun: no checks needed.
    const value = offset === this.begun[this.head] ? offset : canonicalOffset(offset);
    if (this.head >= this.begun.length || compareOffsets(value, this.begun[this.head]) < 0) return false;
    if (value !== this.begun[this.head]) {
      this.finishedAhead.add(value);
      this.aheadChanges += 1;
      return false;
    }
    this.retire();
    while (this.head < this.begun.length && this.finishedAhead.delete(this.begun[this.head])) {
      this.retire();
    }
    this.compact();
    return true;
  }

  /** The offset to commit ("next to read"), when it is ahead of the last commit. */
  pendingCommit(): bigint | undefined {
    const watermark = this.committableOffset;
    if (watermark === undefined) return undefined;
    if (this.committed !== undefined && watermark <= this.committed) return undefined;
    return watermark;
  }

  /** Records a successful commit. A lower (stale) offset never moves it back. `aheadChanges`: what finishedAheadChanges() was when its metadata was built. */
  markCommitted(offset: bigint | string, aheadChanges?: number): void {
    const value = BigInt(offset);
    if (this.committed === undefined || value > this.committed) this.committed = value;
    if (aheadChanges !== undefined && aheadChanges > this.aheadCommitted) this.aheadCommitted = aheadChanges;
  }

  /** A change count of the finished-ahead set (for commit metadata: commit again when it moved). */
  finishedAheadChanges(): number {
    return this.aheadChanges;
  }

  /** Whether records finished ahead since the last commit carried the set: a commit with metadata has news. */
  get finishedAheadUncommitted(): boolean {
    return this.aheadChanges > this.aheadCommitted && this.finishedAhead.size > 0;
  }

  /** The offset a commit carries now: the watermark, or before anything finished, the first record begun. */
  get baseOffset(): bigint | undefined {
    return this.committableOffset ?? this.firstUnfinished;
  }

  get committedOffset(): bigint | undefined {
    return this.committed;
  }

  get committableOffset(): bigint | undefined {
    return this.lastRetired === undefined ? undefined : BigInt(this.lastRetired) + 1n;
  }

  /** Begun and not finished. */
  get inFlight(): number {
    return this.begun.length - this.head - this.finishedAhead.size;
  }

  /** The lowest unfinished offset, if any. */
  get firstUnfinished(): bigint | undefined {
    return this.head < this.begun.length ? BigInt(this.begun[this.head]) : undefined;
  }

  private retire(): void {
    this.lastRetired = this.begun[this.head];
    this.head += 1;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.begun.length) {
      this.begun.splice(0, this.head);
      this.head = 0;
    }
  }
}

/** The offset as a decimal string without leading zeros; kafkajs's strings already are. */
function canonicalOffset(offset: bigint | string): string {
  if (typeof offset === 'string' && isCanonical(offset)) return offset;
  const value = BigInt(offset); // throws on a string that is not an integer
  if (value < 0n) throw new RangeError(`offset ${offset} is negative`);
  return value.toString();
}

/** Digits only, no leading zero. A loop rather than a RegExp: it runs once per record. */
function isCanonical(text: string): boolean {
  const length = text.length;
  if (length === 0 || (length > 1 && text.charCodeAt(0) === 48)) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** Compares two canonical offsets as numbers: a longer one is larger, equal lengths compare digit by digit. */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
