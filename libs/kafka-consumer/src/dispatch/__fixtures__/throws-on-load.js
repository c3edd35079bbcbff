'use strict';
// Test fixture for thread-pool.spec.ts: a module that fails while loading.
throw new Error('cannot initialise the model');
