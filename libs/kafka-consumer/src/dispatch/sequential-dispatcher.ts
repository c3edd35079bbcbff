import type { BatchJob, DispatchServices, HandlerRuntime } from './batch-loop';

/**
 * The sequential path: records one after another in the fetch loop. Hot: no
 * promise, closure or timer per record unless the handler returns a promise;
 * the fetch position is resolved once, for the last finished record, when the
 * loop ends for any reason.
 */
export async function dispatchSequentially(
  { batch, loop, key, state }: BatchJob,
  { handler, processor, schedule }: HandlerRuntime,
  services: DispatchServices,
): Promise<void> {
  const { topic, partition, messages } = batch;
  let resolved: string | undefined;
  let skipped = false;
  try {
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      if (loop.interrupted()) return;
      const offset = message.offset;
      if (!state.tracker.begin(offset)) {
        // Already begun before a rebalance re-fetch: not run twice.
        resolved = message.offset;
        skipped = true;
        continue;
      }
      let outcome = processor.processRecord(topic, partition, message);
      let waited = false;
      if (typeof outcome !== 'string') {
        // The handler runs synchronously up to its first await: the clock starts here.
        services.loopStarted(key);
        outcome = await outcome;
        services.loopEnded(key);
        waited = true;
      }
      if (outcome === 'aborted') return;
      const acknowledged = outcome === 'acknowledged';
      services.finish(state, offset, acknowledged);
      resolved = message.offset;
      if (schedule.recordFinished(acknowledged)) {
        const commit = services.commit(handler, [key]);
        if (commit) await commit;
      }
      // Synchronous handlers look at the clock every 64 records, not per record.
      if ((waited || (i & 63) === 63 || loop.mustRejoin()) && loop.heartbeatDue()) await loop.heartbeat();
    }
  } finally {
    services.loopEnded(key);
    if (resolved !== undefined) loop.resolveOffset(resolved);
  }
  if (schedule.batchFinished(false) || skipped) await services.commit(handler, [key]);
}
