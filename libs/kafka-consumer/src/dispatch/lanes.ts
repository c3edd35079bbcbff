import type { OrderingMode } from '../interfaces/handler-options.interface';

/**
 * The lane of a record for an ordering mode (§4.4.1):
 * - `partition`: the partition key, so a partition runs one record at a time;
 * - `key`: partition key + record key, so one key runs in order and keys run in
 *   parallel; a record without a key (null/undefined) falls back to the partition lane;
 * - `unordered`: partition key + offset, unique per record, so nothing waits.
 * Lanes never collide across partitions or modes (a topic name has no NUL).
 */
export function laneFor(
  ordering: OrderingMode,
  partitionKey: string,
  recordKey: string | Buffer | null | undefined,
  offset: string | bigint | number,
): string {
  switch (ordering) {
    case 'partition':
      return partitionKey;
    case 'key':
      if (recordKey === null || recordKey === undefined) return partitionKey;
      // latin1 maps each byte to one char: distinct byte keys stay distinct.
      return `${partitionKey}\u0000k${typeof recordKey === 'string' ? recordKey : recordKey.toString('latin1')}`;
    case 'unordered':
      return `${partitionKey}\u0000o${offset}`;
  }
}
