import type { ProducerConfig } from "kafkajs";

/**
 * How every producer of the project is built: the function's outputs, the harness's on-failure
 * records, the synthetic readings, the tests' and benchmarks' inputs.
 *
 * Idempotent: a produce request that kafkajs retries (its reply lost, a leader moving, a busy
 * broker) is written once, never twice, so no retry repeats an output or an input reading. It
 * takes acks from all in-sync replicas and one request in flight at a time, which keeps each
 * partition's records in order across retries. Never creating topics: as MSK by default, the
 * project's topics exist before anything produces to them.
 * https://kafka.js.org/docs/producing#options
 */
export const PRODUCER_CONFIG = {
  allowAutoTopicCreation: false,
  idempotent: true,
  maxInFlightRequests: 1,
} as const satisfies ProducerConfig;
