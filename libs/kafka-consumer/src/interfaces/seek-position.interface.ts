/** Where to seek: an offset, the log start or end, or the first record at or after a timestamp (ms). */
export type SeekPosition = 'beginning' | 'end' | { offset: string | number | bigint } | { timestamp: number };
