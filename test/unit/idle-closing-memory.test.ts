import { sensorIndexesFor } from "../../core/sensor-indexes.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { describeIdleClosing } from "../support/idle-closing-suite.ts";

describeIdleClosing(
  "in-memory",
  async (rules, idleTimeoutMs) =>
    new MemoryWindowStateStore(sensorIndexesFor(rules, idleTimeoutMs)),
);
