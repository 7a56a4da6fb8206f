import { randomUUID } from "node:crypto";
import type { ScheduledEvent } from "aws-lambda";
import type { KafkaHandler } from "../../functions/kafka-trigger-event.ts";
import { DEFAULT_MEMORY_SIZE_MB } from "../../functions/lambda-context.ts";
import { LocalAws } from "../../functions/local-aws.ts";
import type { TriggerDeclaration } from "../../functions/trigger-declaration.ts";
import { type Counters, sumCounters } from "../../lib/function-metrics.ts";
import type { Logger } from "../../lib/logger.ts";
import {
  EventSourceMapping,
  type MappingOptions,
  type MappingStats,
} from "./event-source-mapping.ts";
import { type InProcessHandler, type Invoker, inProcessInvoker } from "./invoker.ts";
import { SandboxPool } from "./sandbox-pool.ts";

/**
 * A function's code: a module each sandbox imports (as Lambda does, isolated, warm-reused, ended at
 * its timeout), or a handler function called in the harness's own thread (for tests and benchmarks
 * whose handler is a closure; nothing is isolated).
 */
export type FunctionCode =
  | {
      /** URL or path of the handler module; sandboxes import it and call its `exportName`. */
      module: string;
      /** Default `handler`. */
      exportName?: string;
    }
  | { handler: KafkaHandler };

export type HarnessFunction = FunctionCode & {
  name: string;
  trigger: TriggerDeclaration;
  /** The declared MemorySize: each sandbox's heap limit and `context.memoryLimitInMB`. Default 128. */
  memorySizeMb?: number;
};

/** A function invoked on a schedule, as an EventBridge rule would (e.g. sweep-idle-windows). */
export type ScheduledFunction = (
  | { module: string; exportName?: string }
  | { handler: () => Promise<unknown> }
) & {
  name: string;
  periodMs: number;
  /** Default 60 s. */
  timeoutSeconds?: number;
  /** Default 128 MB. */
  memorySizeMb?: number;
};

/**
 * What the harness needs besides its functions: the cluster, the logger (its lines, and its
 * sandboxes' at their own levels) and the mappings' settings, each applied to every function's
 * mapping (`maxConcurrency` per function).
 */
export interface HarnessOptions
  extends Pick<
    MappingOptions,
    | "kafka"
    | "bootstrapServers"
    | "logger"
    | "maxConcurrency"
    | "onePartitionPerEvent"
    | "retryBackoff"
  > {
  functions: HarnessFunction[];
  scheduled?: ScheduledFunction[];
  /** Called after each successful invocation with the function's name and the records it took. */
  onDelivered?: (functionName: string, records: number) => void;
}

export interface Harness {
  /** Graceful: stop fetching, let in-flight batches finish and commit, disconnect, end sandboxes. */
  stop(): Promise<void>;
  stats(): Promise<MappingStats[]>;
  /**
   * Each function's own counters (`addMetrics`: windows, dead letters, alerts...), by function
   * name, summed over the invocations this harness made: each result brings back its own.
   */
  metrics(): Record<string, Counters>;
}

/**
 * Starts one event source mapping per Kafka-triggered function and a timer per scheduled one,
 * against the broker the injected client points to. Functions given as modules run in sandboxes.
 */
export const startHarness = async (options: HarnessOptions): Promise<Harness> => {
  const invokers: Invoker[] = [];
  const metrics = new Map<string, Counters>();
  /** A function's invoker, counting what its invocations bring back in `metrics`. */
  const invokerOf = (name: string, code: AnyCode, memorySizeMb: number | undefined) => {
    const counters: Counters = {};
    metrics.set(name, counters);
    const invoker = invokerFor(name, code, memorySizeMb, options.logger);
    invokers.push(invoker);
    return countingInto(counters, invoker);
  };
  const mappings = options.functions.map((f) => {
    const invoker = invokerOf(f.name, f, f.memorySizeMb);
    return new EventSourceMapping({
      functionName: f.name,
      invoker,
      trigger: f.trigger,
      kafka: options.kafka,
      bootstrapServers: options.bootstrapServers,
      logger: options.logger.child({ function: f.name }),
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.onePartitionPerEvent === undefined
        ? {}
        : { onePartitionPerEvent: options.onePartitionPerEvent }),
      ...(options.retryBackoff === undefined ? {} : { retryBackoff: options.retryBackoff }),
      ...(options.onDelivered === undefined
        ? {}
        : { onDelivered: (records: number) => options.onDelivered?.(f.name, records) }),
    });
  });
  await Promise.all(mappings.map((m) => m.start()));

  const schedules = (options.scheduled ?? []).map((s) => {
    const invoker = invokerOf(s.name, s, s.memorySizeMb);
    return runOnSchedule(s, invoker, options.logger.child({ function: s.name }));
  });

  return {
    async stop() {
      await Promise.all(schedules.map((stopSchedule) => stopSchedule()));
      await Promise.all(mappings.map((m) => m.stop()));
      await Promise.all(invokers.map((i) => i.close()));
    },
    stats: () => Promise.all(mappings.map((m) => m.stats())),
    metrics: () =>
      Object.fromEntries([...metrics].map(([name, counters]) => [name, { ...counters }])),
  };
};

/** `invoker`, adding the counters each of its invocations brings back to `counters`. */
const countingInto = (counters: Counters, invoker: Invoker): Invoker => ({
  async invoke(payload, timeoutSeconds) {
    const result = await invoker.invoke(payload, timeoutSeconds);
    sumCounters(counters, result.metrics);
    return result;
  },
  close: () => invoker.close(),
});

/** A Kafka-triggered or a scheduled function's code: a module, or a handler function. */
type AnyCode = { module: string; exportName?: string } | { handler: unknown };

const invokerFor = (
  functionName: string,
  code: AnyCode,
  memorySizeMb = DEFAULT_MEMORY_SIZE_MB,
  logger: Logger,
): Invoker =>
  "module" in code
    ? new SandboxPool({
        functionName,
        module: code.module,
        ...(code.exportName === undefined ? {} : { exportName: code.exportName }),
        memorySizeMb,
        logger,
      })
    : inProcessInvoker(functionName, code.handler as InProcessHandler, memorySizeMb);

/**
 * Invokes a scheduled function every period, one run at a time (a slow run is not overlapped by
 * the next tick). Returns a stop that waits for the run in progress.
 */
const runOnSchedule = (s: ScheduledFunction, invoker: Invoker, logger: Logger) => {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    running = invoker
      .invoke({ json: JSON.stringify(scheduledEvent(s.name)) }, s.timeoutSeconds ?? 60)
      .then((result) => {
        if (!result.ok)
          logger.error("scheduled invocation failed; the next one retries", {
            error: result.error,
          });
      })
      .finally(() => {
        running = undefined;
      });
  }, s.periodMs);
  return async () => {
    clearInterval(timer);
    await running;
  };
};

/**
 * The event an EventBridge schedule (a scheduled rule, as the template deploys) sends.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-scheduled-events.html
 */
const scheduledEvent = (functionName: string): ScheduledEvent => ({
  version: "0",
  id: randomUUID(),
  "detail-type": "Scheduled Event",
  source: "aws.events",
  account: LocalAws.accountId,
  time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
  region: LocalAws.region,
  resources: [`arn:aws:events:${LocalAws.region}:${LocalAws.accountId}:rule/${functionName}`],
  detail: {},
});
