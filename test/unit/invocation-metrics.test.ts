import { describe, expect, it } from "vitest";
import { statusLines } from "../../harness/commands/status-line.ts";
import type { MappingStats } from "../../harness/emulator/event-source-mapping.ts";
import { inProcessInvoker } from "../../harness/emulator/invoker.ts";
import { addMetrics, drainMetrics } from "../../lib/function-metrics.ts";

/*
 * A function adds to its counters in its own thread (`addMetrics`); each invocation's result
 * brings back what it added, and the harness keeps the totals: nothing reads process-wide totals.
 */

const invokerCounting = (functionName: string, counters: Record<string, number>) =>
  inProcessInvoker(
    functionName,
    async (_event, context) => {
      addMetrics(context.functionName, counters);
      return null;
    },
    128,
  );

describe("each invocation brings back the counters the function added during it", () => {
  it("in this process: drained after each invocation, so the next one starts from zero", async () => {
    const invoker = invokerCounting("counting-function", { windowsClosed: 2 });
    const first = await invoker.invoke({ json: "{}" }, 5);
    const second = await invoker.invoke({ json: "{}" }, 5);
    expect(first.metrics).toEqual({ windowsClosed: 2 });
    expect(second.metrics).toEqual({ windowsClosed: 2 });
    expect(drainMetrics("counting-function")).toEqual({});
  });

  it("takes only its own function's counters from the thread it shares", async () => {
    addMetrics("another-function", { alerts: 1 });
    const result = await invokerCounting("counting-function", { records: 3 }).invoke(
      { json: "{}" },
      5,
    );
    expect(result.metrics).toEqual({ records: 3 });
    expect(drainMetrics("another-function")).toEqual({ alerts: 1 });
  });

  it("a failed invocation brings back what was added before it failed", async () => {
    const invoker = inProcessInvoker(
      "failing-function",
      async (_event, context) => {
        addMetrics(context.functionName, { deadLetters: 1 });
        throw new Error("produce failed");
      },
      128,
    );
    const result = await invoker.invoke({ json: "{}" }, 5);
    expect(result).toMatchObject({ ok: false, metrics: { deadLetters: 1 } });
  });
});

describe("the status line", () => {
  const stats: MappingStats = {
    functionName: "aggregate-temperatures",
    invocations: 3,
    coldStarts: 1,
    batchesSucceeded: 3,
    recordsDelivered: 300,
    recordsFilteredOut: 0,
    retries: 0,
    recordsGivenUp: 0,
    recordsExpired: 0,
    partitions: { 0: { committed: 300, highWatermark: 310 } },
  };

  it("shows the function's own counters from the harness's totals, but records, which it counts itself", () => {
    const [line] = statusLines(
      [stats],
      { "aggregate-temperatures": { records: 300, windowsClosed: 12, deadLetters: 1 } },
      new Map(),
      1_000,
    );
    expect(line).toBe(
      "aggregate-temperatures: 3 batches, 300 records (300/s), lag p0:10, retries 0, given up 0, cold starts 1, windowsClosed 12, deadLetters 1",
    );
  });

  it("shows none for a function that has counted nothing yet", () => {
    const [line] = statusLines([stats], {}, new Map(), 1_000);
    expect(line).toMatch(/cold starts 1$/);
  });
});
