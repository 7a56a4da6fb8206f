import { scheduledFunction } from "../function-declaration.ts";
import { windowSettings } from "../temperature-windows/settings.ts";
import { sweepSchedule } from "../temperature-windows/sweep-schedule.ts";

/**
 * `sweep-idle-windows`: deployed, and run by the harness next to `aggregate-temperatures`, only
 * with idle closing on. It reads the aggregate's settings and closes windows; it writes the
 * aggregate's three topics, as it also emits what a crashed batch left in the outbox (late
 * readings and dead letters included) once that claim lapses.
 */
export const declaration = scheduledFunction({
  name: "sweep-idle-windows",
  description: "Closes and emits the windows of sensors that went quiet",
  schedule: sweepSchedule,
  settings: windowSettings,
  outputTopics: ["outputTopic", "lateTopic", "deadLetterTopic"],
  stateTable: true,
  deployedWhen: { name: "IdleClosingOn", parameter: "IdleTimeoutMs", isNot: 0 },
  companionOf: "aggregate-temperatures",
});
