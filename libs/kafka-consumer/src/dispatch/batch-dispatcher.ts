import type { FetchedRecord } from '../engine/consumer-engine';
import type { BatchJob, DispatchServices, HandlerRuntime } from './batch-loop';

/**
 * Batch handlers: the fetched records in chunks of at most `chunkSize`
 * (maxPollRecords). Records are begun only as a chunk is handed to the
 * handler, so what an interruption (a rebalance that keeps this partition)
 * leaves unhanded runs when the client fetches it again.
 */
export async function dispatchInChunks(
  { batch, loop, key, state }: BatchJob,
  { handler, processor, schedule }: HandlerRuntime,
  services: DispatchServices,
  chunkSize: number,
): Promise<void> {
  const { messages } = batch;
  let skipped = false;
  for (let next = 0; next < messages.length; ) {
    if (loop.interrupted()) return;
    const chunk: FetchedRecord[] = [];
    for (; next < messages.length && chunk.length < chunkSize; next++) {
      if (state.tracker.begin(messages[next].offset)) chunk.push(messages[next]);
      else skipped = true; // finished before a re-fetch: not run twice
    }
    if (chunk.length === 0) break;
    services.loopStarted(key);
    const outcome = await processor.processBatch(batch.topic, batch.partition, chunk).finally(() => services.loopEnded(key));
    if (outcome === 'aborted') return;
    const acknowledged = outcome === 'acknowledged';
    let commitNow = false;
    for (const message of chunk) {
      services.finish(state, message.offset, acknowledged);
      commitNow = schedule.recordFinished(acknowledged) || commitNow;
    }
    loop.resolveOffset(chunk[chunk.length - 1].offset);
    if (schedule.batchFinished(acknowledged) || commitNow || handler.commit.mode === 'record') {
      await services.commit(handler, [key]);
    }
    await loop.heartbeat();
  }
  if (skipped) {
    loop.resolveOffset(batch.lastOffset());
    await services.commit(handler, [key]);
  }
}
