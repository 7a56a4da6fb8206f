import { MemoryWindowStateStore } from "../../state/memory-window-state-store.ts";
import { describeIdleClosing } from "../support/idle-closing-suite.ts";

describeIdleClosing("in-memory", async () => new MemoryWindowStateStore());
