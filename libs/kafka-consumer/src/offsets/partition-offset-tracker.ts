/**
 * Offsets of one partition: which records were handed out, which finished, and
 * the offset that is safe to commit. Pure; offsets are bigint because Kafka
 * offsets are int64 and exceed Number.MAX_SAFE_INTEGER.
 *
 * Records are begun in fetch order (ascending offsets, possibly with gaps from
 * compaction or transaction markers) and may finish in any order. The
 * committable offset is "next offset to read" after the longest finished
 * prefix: one past the last finished record with nothing unfinished before it.
 */
export class PartitionOffsetTracker {
  /** Begun offsets in order; entries before `head` have been retired. */
  private readonly begun: bigint[] = [];
  private head = 0;
  /** Finished offsets that still wait behind an unfinished one. */
  private readonly finishedAhead = new Set<bigint>();
  private highestBegun: bigint | undefined;
  /** The last record of the finished prefix; the watermark is one past it (computed when read, not per record). */
  private lastRetired: bigint | undefined;
  private committed: bigint | undefined;

  /**
   * Registers a record before it is processed. Returns false for an offset at
   * or below one already begun: a redelivery of work this tracker already
   * has (after a rebalance re-fetch), which must not run again.
   */
  begin(offset: bigint | string): boolean {
    const value = BigInt(offset);
    if (this.highestBegun !== undefined && value <= this.highestBegun) return false;
    if (this.lastRetired !== undefined && value <= this.lastRetired) return false;
    this.highestBegun = value;
    this.begun.push(value);
    return true;
  }

  /** Marks a begun record finished; returns whether the committable offset moved. */
  finish(offset: bigint | string): boolean {
    const value = BigInt(offset);
    if (this.head >= this.begun.length || value < this.begun[this.head]) return false;
    if (value !== this.begun[this.head]) {
      this.finishedAhead.add(value);
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

  /** Records a successful commit. A lower (stale) offset never moves it back. */
  markCommitted(offset: bigint | string): void {
    const value = BigInt(offset);
    if (this.committed === undefined || value > this.committed) this.committed = value;
  }

  get committedOffset(): bigint | undefined {
    return this.committed;
  }

  get committableOffset(): bigint | undefined {
    return this.lastRetired === undefined ? undefined : this.lastRetired + 1n;
  }

  /** Begun and not finished. */
  get inFlight(): number {
    return this.begun.length - this.head - this.finishedAhead.size;
  }

  /** The lowest unfinished offset, if any. */
  get firstUnfinished(): bigint | undefined {
    return this.head < this.begun.length ? this.begun[this.head] : undefined;
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
