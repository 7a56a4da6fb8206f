import { windowSettings } from "../aggregate-temperatures/settings.ts";
import { scheduledFunction } from "../function-declaration.ts";
import { sweepSchedule } from "./schedule.ts";

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
