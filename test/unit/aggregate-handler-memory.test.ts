import { windowCloseTime } from "../../core/window-spec.ts";
import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { describeAggregateHandler } from "../support/aggregate-handler-suite.ts";

describeAggregateHandler(
  "in-memory",
  async (rules) => new MemoryWindowStateStore((start) => windowCloseTime(start, rules.spec)),
);
