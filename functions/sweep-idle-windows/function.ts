import { scheduledFunction } from "../function-declaration.ts";
import { windowSettings } from "../temperature-windows/settings.ts";
import { sweepSchedule } from "../temperature-windows/sweep-schedule.ts";

/**
 * `sweep-idle-windows`: deployed, and run by the harness next to `aggregate-temperatures`, only
 * with idle closing on. It reads the aggregate's settings and emits closed windows only.
 */
export const declaration = scheduledFunction({
  name: "sweep-idle-windows",
  description: "Closes and emits the windows of sensors that went quiet",
  schedule: sweepSchedule,
  settings: windowSettings,
  outputTopics: ["outputTopic"],
  stateTable: true,
  deployedWhen: { name: "IdleClosingOn", parameter: "IdleTimeoutMs", isNot: 0 },
  companionOf: "aggregate-temperatures",
});
