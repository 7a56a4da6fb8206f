import type { ConsumerConfig } from "kafkajs";
import { MAX_EVENT_BYTES } from "../../functions/kafka-trigger-event-builder.ts";

/**
 * Bytes fetched per partition for each record a batch may hold. Records on the wire are smaller
 * than in the event (base64, JSON, headers as numbers): a seed reading with its uuid header is
 * ~110 bytes in a record batch, so a full batch of them arrives in about one fetch, while a fetch
 * never holds many batches' worth of decoded messages: kafkajs decodes a whole fetch response at
 * once, and each message held costs ~0.5 KB of heap. At 6 MB per partition that alone made a
 * harness of 10 000-record batches use 700 MB; at 256 bytes per record each partition still held
 * two to four batches' worth beyond the one it needed. `npm run bench` (batch 10 000): 128 bytes
 * against 256 ran the harness 6 % faster, at a peak RSS 30 MB lower that stayed flat (0.97 over
 * the run's second half, against 1.24). Larger records take a few fetches per batch.
 */
export const FETCH_BYTES_PER_RECORD = 128;

/** The smallest fetch per partition: small batches still get a useful read per round trip. */
export const MIN_FETCH_BYTES_PER_PARTITION = 256 * 1024;

/** The fetch settings, from a trigger's batch size and batching window. */
export interface TriggerBatching {
  batchSize: number;
  maximumBatchingWindowInSeconds: number;
}

/**
 * The longest the broker holds a fetch without a batch's worth of bytes. The mapping gathers a
 * partial batch over the batching window itself (`FetchedRecords.dueAt`), across fetches, from
 * the moment its oldest record was fetched: a fetch held longer would delay each record, and so
 * its batch, by up to as long again. 100 ms also keeps an idle poller from spinning.
 */
export const MAX_FETCH_WAIT_MS = 100;

/**
 * The kafkajs consumer's fetch settings for a trigger. The broker holds a fetch until enough bytes
 * for a full batch arrived, or {@link MAX_FETCH_WAIT_MS}. Each partition's fetch is sized for one
 * batch, never more than the 6 MB an event may hold.
 * https://kafka.js.org/docs/consuming#options
 */
export const fetchSettings = (
  trigger: TriggerBatching,
): Pick<ConsumerConfig, "maxWaitTimeInMs" | "minBytes" | "maxBytesPerPartition" | "maxBytes"> => {
  const windowMs = trigger.maximumBatchingWindowInSeconds * 1000;
  const maxBytesPerPartition = Math.min(
    MAX_EVENT_BYTES,
    Math.max(MIN_FETCH_BYTES_PER_PARTITION, trigger.batchSize * FETCH_BYTES_PER_RECORD),
  );
  return {
    maxWaitTimeInMs: MAX_FETCH_WAIT_MS,
    minBytes: windowMs === 0 ? 1 : Math.min(trigger.batchSize * 40, MAX_EVENT_BYTES),
    maxBytesPerPartition,
    // Kafka's limit for a whole fetch response (all partitions of a broker); at least one batch
    // is always returned, so this bounds memory without stalling a partition.
    maxBytes: maxBytesPerPartition * 4,
  };
};
