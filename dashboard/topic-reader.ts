import { randomUUID } from "node:crypto";
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { DEAD_LETTER_REASON_HEADER } from "../functions/output-records.ts";
import type { Logger } from "../lib/logger.ts";
import { DashboardTopicNotFoundError } from "./errors.ts";
import type { DashboardSource, DeadLetterItem, LateItem, WindowPoint } from "./protocol.ts";
import { readDeadLetter, readLate, readWindow } from "./records.ts";

export interface TopicReaderOptions {
  kafka: Kafka;
  brokers: string[];
  windowsTopic: string;
  /** Null: not read. A topic that does not exist is skipped with a warning. */
  lateTopic: string | null;
  deadLetterTopic: string | null;
  /** Records written this long before the start are read back first. */
  historyMs: number;
  /** The field of a window record holding its aggregate (`temperature`). */
  aggregateField: string;
  logger: Logger;
  onWindow: (w: WindowPoint) => void;
  onLate: (l: LateItem) => void;
  onDeadLetter: (d: DeadLetterItem) => void;
  onUnreadable: (topic: string) => void;
  /** Called once, when every record that was there at the start has been read. */
  onCaughtUp: () => void;
}

export interface TopicReader {
  /** The topics it reads (those that exist). */
  source: DashboardSource;
  /** Its consumer group: its own, deleted when it stops. */
  groupId: string;
  stop(): Promise<void>;
}

/**
 * Reads the output topics: first what they received in the last `historyMs` (the windows the page
 * opens with), then new records as they come. Only reads: its offsets go to a consumer group of its
 * own, deleted when it stops.
 */
export const startTopicReader = async (o: TopicReaderOptions): Promise<TopicReader> => {
  const admin = o.kafka.admin();
  await admin.connect();
  const groupId = `sensor-windows-dashboard-${randomUUID()}`;
  try {
    const source = await sourceOf(admin, o);
    const topics = [source.windowsTopic, source.lateTopic, source.deadLetterTopic].filter(
      (t): t is string => t !== null,
    );
    const { starts, behind } = await historyStarts(admin, topics, Date.now() - o.historyMs);
    const catchUp = catchUpWatch(behind, o.onCaughtUp);
    const consumer = await subscribedConsumer(o, groupId, topics);
    await consumer.run({
      eachBatch: async ({ batch }: EachBatchPayload) => {
        deliver(batch, source, o);
        catchUp.read(batch);
      },
    });
    // The group is new, so run() starts at the oldest records; seeking before the first fetch
    // moves it to the history's start (kafkajs drops any batch fetched before a seek). Offsets are
    // committed as it reads, so a consumer that kafkajs restarts goes on from there, not from the
    // oldest record. (Setting the group's offsets with the admin instead costs a group join per
    // topic, seconds each.)
    for (const start of starts) consumer.seek(start);
    catchUp.check();

    return {
      source,
      groupId,
      stop: async () => {
        await consumer.disconnect();
        await deleteGroup(admin, groupId, o.logger);
        await admin.disconnect();
      },
    };
  } catch (error) {
    await deleteGroup(admin, groupId, o.logger);
    await admin.disconnect();
    throw error;
  }
};

/** The topics to read: the windows topic must exist; a missing optional one is left out. */
const sourceOf = async (admin: Admin, o: TopicReaderOptions): Promise<DashboardSource> => {
  const existing = new Set(await admin.listTopics());
  if (!existing.has(o.windowsTopic))
    throw new DashboardTopicNotFoundError(o.windowsTopic, o.brokers);
  const optional = (topic: string | null, what: string) => {
    if (topic === null || existing.has(topic)) return topic;
    o.logger.warn(`the ${what} topic does not exist; the dashboard shows none`, { topic });
    return null;
  };
  return {
    brokers: o.brokers,
    windowsTopic: o.windowsTopic,
    lateTopic: optional(o.lateTopic, "late readings"),
    deadLetterTopic: optional(o.deadLetterTopic, "dead letters"),
  };
};

/**
 * Where each partition starts (the first record of the history) and what "caught up" means: the
 * high watermark now, per partition with records to read (`<topic>:<partition>`).
 */
const historyStarts = async (admin: Admin, topics: readonly string[], since: number) => {
  const starts: { topic: string; partition: number; offset: string }[] = [];
  const behind = new Map<string, number>();
  for (const topic of topics) {
    const first = await admin.fetchTopicOffsetsByTimestamp(topic, since);
    for (const end of await admin.fetchTopicOffsets(topic)) {
      const offset = first.find((s) => s.partition === end.partition)?.offset ?? end.high;
      starts.push({ topic, partition: end.partition, offset });
      if (Number(offset) < Number(end.high))
        behind.set(`${topic}:${end.partition}`, Number(end.high));
    }
  }
  return { starts, behind };
};

/** Calls `onCaughtUp` once, when no partition is `behind` any more. */
const catchUpWatch = (behind: Map<string, number>, onCaughtUp: () => void) => {
  let caughtUp = false;
  const check = () => {
    if (!caughtUp && behind.size === 0) {
      caughtUp = true;
      onCaughtUp();
    }
  };
  const read = (batch: Batch) => {
    const key = `${batch.topic}:${batch.partition}`;
    const end = behind.get(key);
    // lastOffset() counts records the batch filtered out (control records) too.
    if (end !== undefined && Number(batch.lastOffset()) >= end - 1) {
      behind.delete(key);
      check();
    }
  };
  return { check, read };
};

/** A consumer of its own group on the topics, connected; a crash logged, kafkajs restarts it. */
const subscribedConsumer = async (
  o: TopicReaderOptions,
  groupId: string,
  topics: readonly string[],
): Promise<Consumer> => {
  const consumer = o.kafka.consumer({
    groupId,
    allowAutoTopicCreation: false,
    // Long polls return as soon as a record arrives; this only bounds how long a stop waits.
    maxWaitTimeInMs: 1_000,
  });
  consumer.on(consumer.events.CRASH, ({ payload }) =>
    o.logger.warn("the dashboard's consumer crashed; kafkajs restarts it when it can", {
      error: payload.error,
      restart: payload.restart,
    }),
  );
  await consumer.connect();
  await consumer.subscribe({ topics: [...topics], fromBeginning: true });
  return consumer;
};

/** Each record of the batch, read as its topic's kind, to its listener (or `onUnreadable`). */
const deliver = (batch: Batch, source: DashboardSource, o: TopicReaderOptions) => {
  for (const m of batch.messages) {
    const at = Number(m.timestamp);
    if (batch.topic === source.windowsTopic) {
      const w = readWindow(m.value, o.aggregateField);
      if (w === null) o.onUnreadable(batch.topic);
      else o.onWindow(w);
    } else if (batch.topic === source.lateTopic) {
      const l = readLate(m.value, at);
      if (l === null) o.onUnreadable(batch.topic);
      else o.onLate(l);
    } else {
      const reason = m.headers?.[DEAD_LETTER_REASON_HEADER]?.toString();
      const d = readDeadLetter(m.value, reason, at);
      if (d === null) o.onUnreadable(batch.topic);
      else o.onDeadLetter(d);
    }
  }
};

/** Leaves no trace on the cluster; a group left behind would only expire with its offsets. */
const deleteGroup = async (admin: Admin, groupId: string, logger: Logger) => {
  try {
    await admin.deleteGroups([groupId]);
  } catch (error) {
    logger.debug("could not delete the dashboard's consumer group", { groupId, error });
  }
};
