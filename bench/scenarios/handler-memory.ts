import type { HandlerRssInput, HandlerRssResult, MemorySample } from "../children/handler-rss.ts";
import { compared, count, progress, type ResultRow, summarize } from "../measure.ts";
import { runChild } from "./child-process.ts";

/** How much memory may grow from the first half of the run to the second and count as "no growth". */
const GROWTH_TOLERANCE_MB = 10;

/**
 * Scenario 4, handler part: RSS and heap of `aggregate-temperatures` (in-memory store) over 1 000
 * batches of 10 000 readings (100 in quick mode), in a fresh process run with --expose-gc so each
 * reading follows a full GC. RSS after a GC still moves by tens of MB with V8's new space and the
 * allocator's free lists, so "growth" compares the median of the first half of the readings with
 * the median of the second half; min..max shows the spread.
 */
export const handlerMemoryScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const input: HandlerRssInput = {
    batches: options.quick ? 100 : 1_000,
    batchSize: 10_000,
    warmupBatches: 10,
  };
  progress(`handler memory over ${count(input.batches)} batches of ${count(input.batchSize)}`);
  const r = await runChild<HandlerRssResult>("handler-rss.ts", input, {
    nodeFlags: ["--expose-gc"],
  });
  const half = Math.ceil(r.samples.length / 2);
  const first = r.samples.slice(0, half);
  const second = r.samples.slice(half);
  const label = `handler, ${count(input.batches)} batches of ${count(input.batchSize)}, 5 sensors`;
  const row = (metric: "rssMb" | "heapMb", name: string, note: string): ResultRow => {
    const of = (samples: MemorySample[]) => summarize(samples.map((s) => s[metric]));
    const start = of(first);
    const end = of(second);
    const growth = end.median - start.median;
    return compared(
      {
        scenario: "4 memory",
        case: label,
        metric: `${name} MB, batches ${count(second[0]?.batch ?? 0)}..${count(r.end.batch)}`,
        value: end,
        note: `growth ${growth.toFixed(1)} MB; ${note}`,
        target: `no growth beyond open windows (< ${GROWTH_TOLERANCE_MB} MB)`,
        met: growth < GROWTH_TOLERANCE_MB,
      },
      `batches ${count(r.start.batch)}..${count(first.at(-1)?.batch ?? 0)}`,
      start,
    );
  };
  return [
    row(
      "rssMb",
      "RSS",
      `at batch ${r.start.batch} ${r.start.rssMb.toFixed(0)} MB, at the end ${r.end.rssMb.toFixed(0)} MB`,
    ),
    row("heapMb", "heap used", `${r.openWindows} windows open at the end`),
  ];
};
