'use strict';
// Test fixture for thread-pool.spec.ts: each export is a task run on a worker thread.
const { threadId } = require('node:worker_threads');

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

module.exports = {
  /** CPU-bound work; says which thread did it. */
  fib(value) {
    return { threadId, n: value, fib: fib(value) };
  },

  /** Echoes value and meta as they arrived. */
  echo(value, meta) {
    return { threadId, value, meta };
  },

  async later(value) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return { threadId, value };
  },

  /**
   * Proves parallelism without timing: every task blocks until `parties` tasks
   * have arrived, which only happens when they run on different threads at once.
   */
  rendezvous({ shared, parties }) {
    const arrived = new Int32Array(shared);
    Atomics.add(arrived, 0, 1);
    Atomics.notify(arrived, 0);
    const deadline = Date.now() + 10_000;
    let seen;
    while ((seen = Atomics.load(arrived, 0)) < parties && Date.now() < deadline) {
      Atomics.wait(arrived, 0, seen, 100);
    }
    return { threadId, met: Atomics.load(arrived, 0) >= parties };
  },

  fail(value) {
    const error = new TypeError(`bad value ${value}`);
    error.code = 'E_BAD_VALUE';
    throw error;
  },

  async failAsync() {
    throw new RangeError('async failure');
  },

  throwString() {
    throw 'just a string';
  },

  returnFunction() {
    return { callback: () => 1 };
  },

  exit(code) {
    process.exit(code);
  },

  uncaught() {
    setTimeout(() => {
      throw new Error('uncaught in a timer');
    }, 0);
    return new Promise(() => undefined);
  },

  outOfMemory() {
    const keep = [];
    for (;;) keep.push(new Array(1_000_000).fill(keep.length));
  },

  /** Never settles: stands for a task still running when the pool is destroyed. */
  hang() {
    return new Promise(() => undefined);
  },

  /** Runs the export named by `op`, so one pool can mix tasks. */
  byOp({ op, arg }, meta) {
    return module.exports[op](arg, meta);
  },

  notAFunction: 42,
};
