import { decodeFinishedAhead, encodedFinishedAheadLength, encodeFinishedAhead, OffsetRange } from './finished-ahead-codec';
import { seededRandom } from '../../../../test/support/seeded-random';

/** The offsets a decoding names, one by one (small maps only). */
function offsetsOf(ranges: readonly OffsetRange[]): bigint[] {
  const out: bigint[] = [];
  for (const [from, to] of ranges) for (let o = from; o < to; o++) out.push(o);
  return out;
}

function roundTrip(committed: bigint, finished: bigint[]): bigint[] {
  const metadata = encodeFinishedAhead(committed, finished);
  const decoded = decodeFinishedAhead(metadata, committed);
  if (decoded.kind !== 'map') throw new Error(`not a map: ${JSON.stringify(decoded)}`);
  expect(metadata.length).toBe(encodedFinishedAheadLength(committed, finished));
  return offsetsOf(decoded.finished);
}

const form = (metadata: string) => Buffer.from(metadata, 'base64')[2];

describe('finished-ahead codec', () => {
  it('round-trips sparse, dense and mixed maps', () => {
    expect(roundTrip(100n, [105n])).toEqual([105n]);
    expect(roundTrip(100n, [101n, 102n, 103n, 200n])).toEqual([101n, 102n, 103n, 200n]);
    const dense = Array.from({ length: 300 }, (_, i) => 1_000n + 1n + BigInt(i * 2));
    expect(roundTrip(1_000n, dense)).toEqual(dense);
  });

  it('round-trips random maps (seeded), whichever form is smaller', () => {
    const random = seededRandom(19);
    for (let round = 0; round < 300; round++) {
      const committed = BigInt(Math.floor(random() * 1e9));
      const density = random();
      const finished: bigint[] = [];
      for (let o = committed + 1n; finished.length < 1 + Math.floor(random() * 200); o++) if (random() < density) finished.push(o);
      expect(roundTrip(committed, finished)).toEqual(finished);
    }
  });

  it('writes the smaller form: runs for long finished stretches, a bitmap for scattered offsets', () => {
    const stretch = Array.from({ length: 500 }, (_, i) => 11n + BigInt(i));
    expect(form(encodeFinishedAhead(10n, stretch))).toBe(0);
    const scattered = Array.from({ length: 200 }, (_, i) => 11n + BigInt(i * 2));
    expect(form(encodeFinishedAhead(10n, scattered))).toBe(1);
    // 500 offsets in one run take a few bytes.
    expect(encodeFinishedAhead(10n, stretch).length).toBe(24); // 16 bytes: the header, the span, two runs
  });

  it('reads a map stored with a C string terminator (librdkafka writes one)', () => {
    const metadata = encodeFinishedAhead(5n, [7n, 8n]);
    expect(decodeFinishedAhead(`${metadata}\0`, 5n)).toEqual({ kind: 'map', committed: 5n, finished: [[7n, 9n]] });
  });

  it('says nothing when nothing finished ahead', () => {
    expect(encodeFinishedAhead(5n, [])).toBe('');
    expect(decodeFinishedAhead('', 5n)).toEqual({ kind: 'none' });
    expect(decodeFinishedAhead(null, 5n)).toEqual({ kind: 'none' });
  });

  it('handles the committed offset itself among the finished ones (an empty first run)', () => {
    expect(roundTrip(7n, [7n, 8n, 10n])).toEqual([7n, 8n, 10n]);
    expect(roundTrip(7n, [7n])).toEqual([7n]);
  });

  it('handles offsets near 2^63', () => {
    const max = (1n << 63n) - 1n;
    expect(roundTrip(max - 10n, [max - 9n, max])).toEqual([max - 9n, max]);
    expect(roundTrip(max, [max])).toEqual([max]);
    expect(() => encodeFinishedAhead(max, [max + 1n])).toThrow(/beyond int64/);
    expect(() => encodeFinishedAhead(-1n, [])).toThrow(/int64/);
  });

  it('refuses offsets that do not ascend from the committed offset', () => {
    expect(() => encodeFinishedAhead(10n, [9n])).toThrow(/ascend/);
    expect(() => encodeFinishedAhead(10n, [12n, 12n])).toThrow(/ascend/);
  });

  it('ignores metadata another application wrote, or a map written for another committed offset', () => {
    expect(decodeFinishedAhead('{"owner":"other-app"}', 5n)).toMatchObject({ kind: 'unreadable', reason: 'not base64' });
    expect(decodeFinishedAhead('aGVsbG8gd29ybGQ=', 5n)).toMatchObject({ kind: 'unreadable', reason: 'not written by nestjs-kafka-consumer' });
    expect(decodeFinishedAhead(encodeFinishedAhead(5n, [7n]), 6n)).toMatchObject({ kind: 'unreadable', reason: 'written for offset 5, the committed offset is 6' });
  });

  it('reports corrupt maps instead of misreading them: truncated, extended, flipped bytes, another version', () => {
    const good = Buffer.from(encodeFinishedAhead(100n, [101n, 103n, 104n, 150n]), 'base64');
    const decode = (bytes: Buffer) => decodeFinishedAhead(bytes.toString('base64'), 100n);
    expect(decode(good.subarray(0, good.length - 1)).kind).toBe('unreadable');
    expect(decode(Buffer.concat([good, Buffer.from([1])])).kind).toBe('unreadable');
    const version = Buffer.from(good);
    version[1] = 2;
    expect(decode(version)).toMatchObject({ kind: 'unreadable', reason: 'format version 2, this module reads 1' });
    // Every single-byte change after the header either still decodes to ascending ranges inside the span, or is reported.
    const random = seededRandom(7);
    for (let round = 0; round < 500; round++) {
      const bytes = Buffer.from(good);
      const at = 11 + Math.floor(random() * (bytes.length - 11));
      bytes[at] = Math.floor(random() * 256);
      const decoded = decode(bytes);
      if (decoded.kind !== 'map') continue;
      let previous = 99n;
      for (const [from, to] of decoded.finished) {
        expect(from).toBeGreaterThan(previous);
        expect(to).toBeGreaterThan(from);
        previous = to;
      }
    }
  });

  it('decodes a huge claimed run as one range, not one entry per offset', () => {
    // A hand-made runs map: 0 unfinished, then 2^40 finished.
    const bytes = Buffer.alloc(11);
    bytes[0] = 0xc5;
    bytes[1] = 1;
    bytes[2] = 0;
    bytes.writeBigUInt64BE(0n, 3);
    const varint = (value: bigint) => {
      const out: number[] = [];
      while (value >= 0x80n) {
        out.push(Number(value & 0x7fn) | 0x80);
        value >>= 7n;
      }
      out.push(Number(value));
      return Buffer.from(out);
    };
    const span = 1n << 40n;
    const metadata = Buffer.concat([bytes, varint(span), varint(0n), varint(span)]).toString('base64');
    expect(decodeFinishedAhead(metadata, 0n)).toEqual({ kind: 'map', committed: 0n, finished: [[0n, span]] });
  });
});
