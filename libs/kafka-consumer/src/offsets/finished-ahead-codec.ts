/**
 * The offsets a partition finished above its committed offset, as commit
 * metadata (a string Kafka stores with the commit), so that a member taking
 * the partition after a crash skips them instead of processing them again.
 * Pure.
 *
 * Layout before base64: magic byte 0xC5, version 1, form (0: runs, 1:
 * bitmap), the committed offset as uint64 big-endian, the span (how many
 * offsets from the committed one the map covers) as an unsigned LEB128
 * varint, then the payload. Runs: alternating lengths, unfinished first,
 * from the committed offset on, ending with a finished run. Bitmap: one bit
 * per offset from the committed one, least significant bit first. The
 * encoder writes the smaller form. Decoding returns ranges, never one entry
 * per offset: a map that claims a billion finished offsets costs no memory.
 */

const MAGIC = 0xc5;
const VERSION = 1;
const FORM_RUNS = 0;
const FORM_BITMAP = 1;
const HEADER_BYTES = 11; // magic, version, form, uint64 offset
const MAX_OFFSET = (1n << 63n) - 1n;

/** Finished offsets `[from, to)`, ascending and disjoint. */
export type OffsetRange = readonly [from: bigint, to: bigint];

export type FinishedAheadDecoding =
  | { kind: 'map'; committed: bigint; finished: OffsetRange[] }
  /** No metadata, or empty: nothing to skip. */
  | { kind: 'none' }
  /** Metadata this module did not write, or cannot read: ignored, reading starts at the committed offset. */
  | { kind: 'unreadable'; reason: string };

/**
 * The metadata for a commit of `committed` when `finished` (ascending, each at
 * or above `committed`) are done; '' when there is nothing to say.
 */
export function encodeFinishedAhead(committed: bigint, finished: readonly bigint[]): string {
  const bytes = encodeBytes(committed, finished);
  return bytes ? Buffer.from(bytes).toString('base64') : '';
}

/** The length of `encodeFinishedAhead`'s string without building it (for the size budget). */
export function encodedFinishedAheadLength(committed: bigint, finished: readonly bigint[]): number {
  const bytes = encodeBytes(committed, finished);
  return bytes ? Math.ceil(bytes.length / 3) * 4 : 0;
}

function encodeBytes(committed: bigint, finished: readonly bigint[]): Uint8Array | undefined {
  if (committed < 0n || committed > MAX_OFFSET) throw new RangeError(`committed offset ${committed} is not an int64 offset`);
  if (finished.length === 0) return undefined;
  let previous = committed - 1n;
  for (const offset of finished) {
    if (offset <= previous) throw new RangeError(`finished offsets must ascend from the committed offset ${committed}; ${offset} follows ${previous}`);
    if (offset > MAX_OFFSET) throw new RangeError(`finished offset ${offset} is beyond int64`);
    previous = offset;
  }
  const span = finished[finished.length - 1] - committed + 1n;
  const runs = runLengths(committed, finished);
  const runBytes = runs.reduce((n, run) => n + varintLength(run), 0);
  const bitmapBytes = (span + 7n) / 8n;
  const useBitmap = bitmapBytes < BigInt(runBytes);
  const payload = useBitmap ? Number(bitmapBytes) : runBytes;
  const out = new Uint8Array(HEADER_BYTES + varintLength(span) + payload);
  out[0] = MAGIC;
  out[1] = VERSION;
  out[2] = useBitmap ? FORM_BITMAP : FORM_RUNS;
  new DataView(out.buffer).setBigUint64(3, committed);
  let at = writeVarint(out, HEADER_BYTES, span);
  if (useBitmap) {
    for (const offset of finished) {
      const bit = Number(offset - committed);
      out[at + (bit >> 3)] |= 1 << (bit & 7);
    }
  } else {
    for (const run of runs) at = writeVarint(out, at, run);
  }
  return out;
}

/** Alternating run lengths from `committed`: unfinished (may be 0), finished, unfinished, …, finished. */
function runLengths(committed: bigint, finished: readonly bigint[]): bigint[] {
  const runs: bigint[] = [];
  let cursor = committed;
  let i = 0;
  while (i < finished.length) {
    const start = finished[i];
    runs.push(start - cursor);
    let end = start + 1n;
    i += 1;
    while (i < finished.length && finished[i] === end) {
      end += 1n;
      i += 1;
    }
    runs.push(end - start);
    cursor = end;
  }
  return runs;
}

/**
 * The finished ranges in a commit's metadata, checked against the committed
 * offset it came with: a map written for another offset (a commit made
 * without metadata since, by another tool) is unreadable, not applied.
 */
export function decodeFinishedAhead(metadata: string | null | undefined, committedOffset: bigint): FinishedAheadDecoding {
  // librdkafka (the confluent engine) stores the string with its C terminator.
  if (metadata?.endsWith('\0')) metadata = metadata.replace(/\0+$/, '');
  if (metadata === null || metadata === undefined || metadata === '') return { kind: 'none' };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(metadata) || metadata.length % 4 !== 0) return { kind: 'unreadable', reason: 'not base64' };
  const bytes = Buffer.from(metadata, 'base64');
  if (bytes.length < HEADER_BYTES + 1 || bytes[0] !== MAGIC) return { kind: 'unreadable', reason: 'not written by nestjs-kafka-consumer' };
  if (bytes[1] !== VERSION) return { kind: 'unreadable', reason: `format version ${bytes[1]}, this module reads ${VERSION}` };
  const form = bytes[2];
  if (form !== FORM_RUNS && form !== FORM_BITMAP) return { kind: 'unreadable', reason: `unknown form ${form}` };
  const committed = bytes.readBigUInt64BE(3);
  if (committed !== committedOffset) return { kind: 'unreadable', reason: `written for offset ${committed}, the committed offset is ${committedOffset}` };
  const spanRead = readVarint(bytes, HEADER_BYTES);
  if (!spanRead) return { kind: 'unreadable', reason: 'bad span' };
  const [span, payloadAt] = spanRead;
  if (span === 0n || committed + span - 1n > MAX_OFFSET) return { kind: 'unreadable', reason: `span ${span} from ${committed} leaves int64` };
  const finished = form === FORM_BITMAP ? bitmapRanges(bytes, payloadAt, committed, span) : runRanges(bytes, payloadAt, committed, span);
  return typeof finished === 'string' ? { kind: 'unreadable', reason: finished } : { kind: 'map', committed, finished };
}

function bitmapRanges(bytes: Buffer, at: number, committed: bigint, span: bigint): OffsetRange[] | string {
  if (BigInt(bytes.length - at) !== (span + 7n) / 8n) return 'bitmap length does not match its span';
  const bits = Number(span);
  const ranges: Array<[bigint, bigint]> = [];
  for (let bit = 0; bit < (bytes.length - at) * 8; bit++) {
    const set = (bytes[at + (bit >> 3)] >> (bit & 7)) & 1;
    if (bit >= bits) {
      if (set) return 'bits set past the span';
      continue;
    }
    if (!set) continue;
    const offset = committed + BigInt(bit);
    const last = ranges[ranges.length - 1];
    if (last && last[1] === offset) last[1] = offset + 1n;
    else ranges.push([offset, offset + 1n]);
  }
  if (ranges.length === 0 || ranges[ranges.length - 1][1] !== committed + span) return 'the last offset of the span is not finished';
  return ranges;
}

function runRanges(bytes: Buffer, at: number, committed: bigint, span: bigint): OffsetRange[] | string {
  const ranges: OffsetRange[] = [];
  let cursor = committed;
  let finishedRun = false;
  while (at < bytes.length) {
    const read = readVarint(bytes, at);
    if (!read) return 'bad run length';
    const [length, next] = read;
    at = next;
    if (finishedRun) {
      if (length === 0n) return 'empty finished run';
      ranges.push([cursor, cursor + length]);
    } else if (length === 0n && ranges.length > 0) {
      return 'empty unfinished run between finished ones';
    }
    cursor += length;
    if (cursor - committed > span) return 'runs longer than their span';
    finishedRun = !finishedRun;
  }
  // The next run would be an unfinished one: the last was finished, and it ends the span.
  if (finishedRun || ranges.length === 0 || cursor - committed !== span) return 'runs do not end with a finished run at the span';
  return ranges;
}

function varintLength(value: bigint): number {
  let length = 1;
  while (value >= 0x80n) {
    value >>= 7n;
    length += 1;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, value: bigint): number {
  while (value >= 0x80n) {
    out[at++] = Number(value & 0x7fn) | 0x80;
    value >>= 7n;
  }
  out[at++] = Number(value);
  return at;
}

/** An unsigned LEB128 varint of at most 9 bytes (63 bits); undefined when cut short or longer. */
function readVarint(bytes: Buffer, at: number): [bigint, number] | undefined {
  let value = 0n;
  for (let shift = 0n, i = 0; i < 9; i++, shift += 7n) {
    if (at >= bytes.length) return undefined;
    const byte = bytes[at++];
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, at];
  }
  return undefined;
}
