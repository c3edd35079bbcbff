// Test fixture for thread-pool.spec.ts: an ES module with a default and a named export.
import { threadId } from 'node:worker_threads';

await Promise.resolve(); // top-level await: cannot be require()d, only imported

export default function triple(value) {
  return { threadId, tripled: value * 3 };
}

export const negate = (value) => -value;
