import type { Kafka } from "kafkajs";
import type { KafkaHandler } from "../functions/kafka-trigger-event.ts";
import type { TriggerDeclaration } from "../functions/trigger-declaration.ts";
import type { Logger } from "../lib/logger.ts";
import { EventSourceMapping, type MappingStats } from "./event-source-mapping.ts";

export interface HarnessFunction {
  name: string;
  handler: KafkaHandler;
  trigger: TriggerDeclaration;
}

/** A function invoked on a schedule, as an EventBridge rule would (e.g. sweep-idle-windows). */
export interface ScheduledFunction {
  name: string;
  handler: () => Promise<unknown>;
  periodMs: number;
}

export interface HarnessOptions {
  functions: HarnessFunction[];
  scheduled?: ScheduledFunction[];
  kafka: Kafka;
  bootstrapServers: string[];
  logger: Logger;
  maxConcurrentPartitions?: number;
  retryBackoff?: { initialMs: number; maxMs: number };
}

export interface Harness {
  /** Graceful: stop fetching, let in-flight batches finish and commit, disconnect. */
  stop(): Promise<void>;
  stats(): Promise<MappingStats[]>;
}

/**
 * Starts one event source mapping per Kafka-triggered function and a timer per scheduled one.
 * Everything runs in this process, against the broker the injected client points to.
 */
export const startHarness = async (options: HarnessOptions): Promise<Harness> => {
  const mappings = options.functions.map(
    (f) =>
      new EventSourceMapping({
        functionName: f.name,
        handler: f.handler,
        trigger: f.trigger,
        kafka: options.kafka,
        bootstrapServers: options.bootstrapServers,
        logger: options.logger.child({ function: f.name }),
        ...(options.maxConcurrentPartitions === undefined
          ? {}
          : { maxConcurrentPartitions: options.maxConcurrentPartitions }),
        ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
      }),
  );
  await Promise.all(mappings.map((m) => m.start()));

  const timers = (options.scheduled ?? []).map((s) => {
    const logger = options.logger.child({ function: s.name });
    let running = false;
    return setInterval(() => {
      if (running) return; // a slow run is not overlapped by the next tick
      running = true;
      s.handler()
        .catch((error: unknown) =>
          logger.error("scheduled invocation failed; the next one retries", { error }),
        )
        .finally(() => {
          running = false;
        });
    }, s.periodMs);
  });

  return {
    async stop() {
      for (const t of timers) clearInterval(t);
      await Promise.all(mappings.map((m) => m.stop()));
    },
    stats: () => Promise.all(mappings.map((m) => m.stats())),
  };
};
