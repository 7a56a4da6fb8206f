import { progress, type ResultRow, summarize } from "../measure.ts";
import { runChild } from "./child-process.ts";

/** Scenario 4 (handler part): RSS at the start and the end of many batches of 10,000 readings. */
export const handlerMemoryScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const batches = options.quick ? 100 : 1_000;
  progress(`handler memory over ${batches} batches of 10,000`);
  const r = await runChild<{ batches: number; startRssMb: number; endRssMb: number }>(
    "handler-memory-child.ts",
    [String(batches)],
    ["--expose-gc"],
  );
  const growth = r.endRssMb - r.startRssMb;
  return [
    {
      scenario: "4 memory",
      case: `handler, ${batches.toLocaleString("en-US")} batches of 10,000 (RSS at batch 10 vs end)`,
      metric: "RSS MB at end",
      value: summarize([r.endRssMb]),
      baseline: { name: "RSS after 10 batches", value: summarize([r.startRssMb]) },
      ratio: r.endRssMb / r.startRssMb,
      target: "no growth beyond open windows (< 10 MB)",
      met: growth < 10,
      note: `growth ${growth.toFixed(1)} MB`,
    },
  ];
};
