import type { Admin } from "kafkajs";
import type { ConsumerProgress, PartitionLag, PipelineProgress } from "./protocol.ts";

/** Where the dashboard gets the pipeline's lag and rate from; called every couple of seconds. */
export type PipelineSource = () => Promise<PipelineProgress>;

/**
 * What the harness's `stats()` returns per event source mapping (harness/emulator/event-source-mapping.ts,
 * MappingStats), as far as the dashboard needs it: written here so the dashboard does not depend
 * on the harness, only on the shape it is handed.
 */
export interface MappingProgress {
  functionName: string;
  recordsDelivered: number;
  partitions: Record<number, { committed: number; highWatermark?: number }>;
}

/** Records per second from a running total sampled now and at the previous call. */
const rateMeter = () => {
  const previous = new Map<string, { at: number; total: number }>();
  return (name: string, total: number, at: number): number | null => {
    const before = previous.get(name);
    previous.set(name, { at, total });
    if (before === undefined || at <= before.at) return null;
    return Math.max(0, ((total - before.total) / (at - before.at)) * 1000);
  };
};

/**
 * The harness run in-process by npm start: its mappings' lag per partition and the records per
 * second it hands to the functions.
 */
export const harnessProgress = (
  stats: () => Promise<MappingProgress[]>,
  topics: Record<string, string> = {},
): PipelineSource => {
  const rate = rateMeter();
  return async () => {
    const all = await stats();
    const at = Date.now();
    return {
      at,
      consumers: all.map((s) => ({
        name: s.functionName,
        recordsPerSecond: rate(s.functionName, s.recordsDelivered, at),
        partitions: Object.entries(s.partitions)
          .map(([p, { committed, highWatermark }]) =>
            lagOf(topics[s.functionName] ?? "", Number(p), committed, highWatermark ?? null),
          )
          .sort((a, b) => a.partition - b.partition),
      })),
    };
  };
};

/**
 * Any consumer group, from the cluster alone (npm run dashboard -- --group ID): its committed
 * offsets against the high watermarks of the topics it committed on, and the records per second
 * its commits advance by.
 */
export const groupProgress = (admin: Admin, groupId: string): PipelineSource => {
  const rate = rateMeter();
  return async () => {
    const committed = await admin.fetchOffsets({ groupId });
    const partitions: PartitionLag[] = [];
    for (const { topic, partitions: ps } of committed) {
      const ends = new Map(
        (await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, Number(p.high)]),
      );
      for (const p of ps) {
        const offset = Number(p.offset);
        partitions.push(
          lagOf(topic, p.partition, offset >= 0 ? offset : null, ends.get(p.partition) ?? null),
        );
      }
    }
    partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    const at = Date.now();
    const total = partitions.reduce((n, p) => n + (p.committed ?? 0), 0);
    const consumer: ConsumerProgress = {
      name: groupId,
      recordsPerSecond: rate(groupId, total, at),
      partitions,
    };
    return { at, consumers: [consumer] };
  };
};

const lagOf = (
  topic: string,
  partition: number,
  committed: number | null,
  end: number | null,
): PartitionLag => ({
  topic,
  partition,
  committed,
  end,
  lag: committed === null || end === null ? null : Math.max(0, end - committed),
});
