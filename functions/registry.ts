import type { KafkaHandler } from "./kafka-trigger-event.ts";
import type { TriggerDeclaration } from "./trigger-declaration.ts";

/**
 * Every function of the project, in one place: the harness runs them from here and the deployment
 * template is checked against it. Handlers are imported lazily: importing one reads its
 * configuration from the environment (as a Lambda cold start does).
 */
export const kafkaTriggeredFunctions = {
  "aggregate-temperatures": {
    trigger: async (): Promise<TriggerDeclaration> =>
      (await import("./aggregate-temperatures/trigger.ts")).trigger,
    handler: async (): Promise<KafkaHandler> =>
      (await import("./aggregate-temperatures/handler.ts")).handler,
  },
} as const;

export const scheduledFunctions = {
  "sweep-idle-windows": {
    schedule: async () => (await import("./sweep-idle-windows/schedule.ts")).sweepSchedule,
    handler: async (): Promise<() => Promise<unknown>> =>
      (await import("./sweep-idle-windows/handler.ts")).handler,
  },
} as const;

export type KafkaFunctionName = keyof typeof kafkaTriggeredFunctions;
export type ScheduledFunctionName = keyof typeof scheduledFunctions;
