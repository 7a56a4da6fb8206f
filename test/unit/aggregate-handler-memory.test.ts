import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { describeAggregateHandler } from "../support/aggregate-handler-suite.ts";

describeAggregateHandler("in-memory", async () => new MemoryWindowStateStore());
