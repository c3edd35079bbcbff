'use strict';
// Test fixture for thread-pool.spec.ts: the module itself is the function.
const { threadId } = require('node:worker_threads');

module.exports = function double(value, meta) {
  return { threadId, doubled: value * 2, meta };
};
