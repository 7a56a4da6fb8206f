import type { Counters } from "../../lib/function-metrics.ts";
import type { MappingStats } from "../emulator/event-source-mapping.ts";

/**
 * One line per function: progress a person can read while the harness runs, then the function's
 * own counters as it adds them (`addMetrics`: windows and dead letters for aggregate-temperatures,
 * alerts for alert-on-threshold), whatever the function, as the harness totals them
 * (`Harness.metrics`).
 */
export const statusLines = (
  stats: MappingStats[],
  metrics: Readonly<Record<string, Counters>>,
  previous: Map<string, number>,
  elapsedMs: number,
): string[] =>
  stats.map((s) => {
    const before = previous.get(s.functionName) ?? 0;
    previous.set(s.functionName, s.recordsDelivered);
    const rate = Math.round(((s.recordsDelivered - before) / Math.max(1, elapsedMs)) * 1000);
    const lag = Object.entries(s.partitions)
      .map(
        ([p, { committed, highWatermark }]) =>
          `p${p}:${highWatermark === undefined ? "?" : Math.max(0, highWatermark - committed)}`,
      )
      .join(" ");
    const own = Object.entries(metrics[s.functionName] ?? {})
      .filter(([name]) => name !== "records") // the harness counts those itself
      .map(([name, n]) => `, ${name} ${n}`)
      .join("");
    return `${s.functionName}: ${s.batchesSucceeded} batches, ${s.recordsDelivered} records (${rate}/s), lag ${lag || "-"}, retries ${s.retries}, given up ${s.recordsGivenUp}${s.recordsExpired > 0 ? `, expired ${s.recordsExpired}` : ""}, cold starts ${s.coldStarts}${own}`;
  });
