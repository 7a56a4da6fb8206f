import type { Admin, Consumer, Kafka, PartitionOffset } from "kafkajs";
import { GroupOffsetsCommitError } from "./errors.ts";

export type { PartitionOffset };

export interface GroupCommit {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  topic: string;
  /** Asked once this consumer is the group's only member: what to commit (nothing: `[]`). */
  offsets: () => Promise<PartitionOffset[]>;
  /** How long joining and committing may take. */
  timeoutMs: number;
}

/**
 * Commits offsets for a consumer group from outside its consumers: a consumer of our own joins
 * the group, waits to hold every partition (it is alone), commits, and leaves, every step awaited,
 * so that a consumer joining afterwards reads those commits.
 *
 * kafkajs's `admin.setOffsets` does the same through a consumer it does not wait out: its commit
 * and its leaving may land after it returned, and a consumer joining meanwhile starts from its
 * default position instead. It also sleeps a full fetch wait (5 s) before returning.
 */
export const commitAsSoleMember = async (commit: GroupCommit): Promise<void> => {
  const { kafka, admin, groupId, topic, timeoutMs } = commit;
  const partitions = (await admin.fetchTopicOffsets(topic)).length;
  // Paused, it fetches nothing; a short fetch wait lets it leave without sleeping out the default.
  const member = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 50 });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new GroupOffsetsCommitError(groupId, topic, timeoutMs)),
      timeoutMs,
    );
  });
  timedOut.catch(() => {}); // raced below; a rejection before the race is not unhandled
  try {
    const alone = joinedWithEveryPartition(member, topic, partitions);
    await member.connect();
    await member.subscribe({ topic });
    await member.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: noop });
    member.pause([{ topic }]);
    await Promise.race([alone, timedOut]);
    const offsets = await commit.offsets();
    if (offsets.length === 0) return;
    const commits = offsets.map(({ partition, offset }) => ({ topic, partition, offset }));
    await Promise.race([member.commitOffsets(commits), timedOut]);
  } finally {
    clearTimeout(timer);
    await member.disconnect();
  }
};

export interface TimestampPosition extends Omit<GroupCommit, "offsets"> {
  /** Epoch milliseconds; each partition starts at its first record at or after it. */
  timestampMs: number;
}

/**
 * AT_TIMESTAMP for a group without committed offsets: commits each partition's first offset at or
 * after the timestamp before the mapping's consumer joins. StartingPosition applies only while the
 * group has no committed offsets
 * (https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html), so a group that
 * has committed anything, even while this was joining, is left alone.
 */
export const positionAtTimestamp = async (position: TimestampPosition): Promise<void> => {
  const { admin, groupId, topic, timestampMs } = position;
  if (await hasCommittedOffsets(admin, groupId, topic)) return;
  await commitAsSoleMember({
    ...position,
    offsets: async () =>
      (await hasCommittedOffsets(admin, groupId, topic))
        ? []
        : await admin.fetchTopicOffsetsByTimestamp(topic, timestampMs),
  });
};

const hasCommittedOffsets = async (admin: Admin, groupId: string, topic: string) => {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return committed?.partitions.some((p) => Number(p.offset) >= 0) ?? false;
};

/** Resolves once a join gives this consumer all the topic's partitions, i.e. it is alone in the group. */
const joinedWithEveryPartition = (consumer: Consumer, topic: string, partitions: number) =>
  new Promise<void>((resolve) => {
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if ((payload.memberAssignment[topic]?.length ?? 0) === partitions) resolve();
    });
  });

const noop = async () => {};
