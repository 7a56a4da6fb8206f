import { describe, expect, it } from "vitest";
import type { KafkaHandler } from "../../functions/kafka-trigger-event.ts";
import { MAX_EVENT_BYTES } from "../../functions/kafka-trigger-event-builder.ts";
import { GroupOffsetsCommitError, TopicNotFoundError } from "../../harness/emulator/errors.ts";
import { positionAtTimestamp } from "../../harness/emulator/group-offsets.ts";
import {
  brokers,
  commitGroupOffsets,
  committedOffsets,
  createTopic,
  eventually,
  groupHasJoined,
  harnessFor,
  messages,
  produce,
  recordingHandler,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";

const { kafka, admin, track } = useBroker();

describe("the harness batches as Lambda's Kafka trigger does", () => {
  it("never delivers more than BatchSize records in one event", async () => {
    const topic = await createTopic(admin);
    await produce(kafka, topic, messages(25));
    const { handler, recorded } = recordingHandler();
    track(await harnessFor(kafka, handler, { topic, batchSize: 10 }));
    await eventually("25 records delivered", () => recorded.delivered() === 25);
    const sizes = recorded.events.map((e) => Object.values(e.records).flat().length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(recorded.byPartition.get(0)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });

  it("gathers records arriving within the batching window into one event", async () => {
    const topic = await createTopic(admin);
    const { handler, recorded } = recordingHandler();
    const consumerGroupId = uniqueName("group");
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId,
        batchSize: 100,
        maximumBatchingWindowInSeconds: 3,
      }),
    );
    await groupHasJoined(admin, consumerGroupId);
    for (let i = 0; i < 3; i++) {
      await produce(kafka, topic, messages(1, { from: i }));
      await new Promise((r) => setTimeout(r, 150));
    }
    await eventually("3 records delivered", () => recorded.delivered() === 3);
    expect(recorded.events).toHaveLength(1);
  });

  it("closes a batch before the event would pass 6 MB", async () => {
    const topic = await createTopic(admin);
    // 14 records of ~700 KB each (base64 grows them by a third): about 13 MB in events.
    for (let i = 0; i < 14; i += 2)
      await produce(kafka, topic, messages(2, { from: i, size: 700_000 }));
    const { handler, recorded } = recordingHandler();
    track(await harnessFor(kafka, handler, { topic, batchSize: 100 }));
    await eventually("14 records delivered", () => recorded.delivered() === 14, 30_000);
    expect(recorded.events.length).toBeGreaterThanOrEqual(3);
    for (const event of recorded.events)
      expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  });

  it("keeps each partition's records in offset order, with one batch in flight per partition", async () => {
    const topic = await createTopic(admin, 3);
    await produce(kafka, topic, messages(300));
    const inFlight = new Map<number, number>();
    let overlap = false;
    const { handler, recorded } = recordingHandler(async (event) => {
      const partitions = Object.values(event.records).map((r) => r[0]?.partition ?? -1);
      for (const p of partitions) {
        if ((inFlight.get(p) ?? 0) > 0) overlap = true;
        inFlight.set(p, (inFlight.get(p) ?? 0) + 1);
      }
      await new Promise((r) => setTimeout(r, 5));
      for (const p of partitions) inFlight.set(p, (inFlight.get(p) ?? 1) - 1);
    });
    track(await harnessFor(kafka, handler, { topic, batchSize: 20 }));
    await eventually("300 records delivered", () => recorded.delivered() === 300);
    expect(overlap).toBe(false);
    expect(recorded.byPartition.size).toBe(3);
    for (const list of recorded.byPartition.values())
      expect(list).toEqual([...list].sort((a, b) => a - b));
  });

  it("delivers only records that pass the filters, and commits the offsets of the others with the batch", async () => {
    const topic = await createTopic(admin);
    await produce(kafka, topic, messages(40));
    const groupId = uniqueName("group");
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId: groupId,
        filterCriteria: [{ value: { value: [{ numeric: [">=", 30] }] } }, { value: { i: [0] } }],
      }),
    );
    await eventually(
      "the whole topic committed",
      async () => (await committedOffsets(admin, groupId, topic)).get(0) === 40,
    );
    expect(recorded.byPartition.get(0)).toEqual([0, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);
  });

  it("filters on the record's metadata, and delivers values the filter's value part cannot read (plain string, not UTF-8), as AWS filters those on metadata only", async () => {
    const topic = await createTopic(admin, 2);
    const groupId = uniqueName("group");
    await produce(kafka, topic, [
      ...messages(4, { partition: 0 }),
      { partition: 0, key: "plain", value: "Hello, this is a test." },
      // "{}" in UTF-16 with its byte-order mark: 0xff is never UTF-8.
      { partition: 0, key: "utf16", value: Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]) },
      ...messages(4, { partition: 1, from: 10 }),
    ]);
    const delivered: { partition: number; offset: number }[] = [];
    const handler: KafkaHandler = async (event) => {
      for (const r of Object.values(event.records).flat())
        delivered.push({ partition: r.partition, offset: r.offset });
    };
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId: groupId,
        filterCriteria: [{ partition: [0], value: { i: [{ numeric: ["<", 2] }] } }],
      }),
    );
    await eventually("both partitions committed to their end", async () => {
      const committed = await committedOffsets(admin, groupId, topic);
      return committed.get(0) === 6 && committed.get(1) === 4;
    });
    expect(delivered.filter((d) => d.partition === 0).map((d) => d.offset)).toEqual([0, 1, 4, 5]);
    expect(delivered.filter((d) => d.partition === 1)).toEqual([]);
  });
});

/** Ten readings-like messages on each of `partitions`, pinned; `i` runs on across partitions. */
const tenOnEach = (partitions: number) =>
  Array.from({ length: partitions }, (_, p) => messages(10, { partition: p, from: p * 10 })).flat();

describe("events mix the partitions a poller holds, as Lambda's do", () => {
  it("builds one event from the records of several partitions, each in offset order, and commits every partition in it", async () => {
    const topic = await createTopic(admin, 3);
    const groupId = uniqueName("group");
    await produce(kafka, topic, tenOnEach(3));
    const { handler, recorded } = recordingHandler();
    track(await harnessFor(kafka, handler, { topic, consumerGroupId: groupId, batchSize: 100 }));
    await eventually("every partition committed", async () =>
      [...(await committedOffsets(admin, groupId, topic)).values()].every((o) => o === 10),
    );
    expect(recorded.keys().some((keys) => keys.length > 1)).toBe(true);
    for (const event of recorded.events) {
      for (const [key, records] of Object.entries(event.records)) {
        expect(records.every((r) => `${r.topic}-${r.partition}` === key)).toBe(true);
        const offsets = records.map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      }
    }
    for (const p of [0, 1, 2])
      expect(recorded.byPartition.get(p)).toEqual(Array.from({ length: 10 }, (_, i) => p * 10 + i));
  });

  it("keeps BatchSize across partitions: a full event takes what it can, the rest follows in order", async () => {
    const topic = await createTopic(admin, 3);
    await produce(kafka, topic, tenOnEach(3));
    const { handler, recorded } = recordingHandler();
    track(await harnessFor(kafka, handler, { topic, batchSize: 15 }));
    await eventually("30 records delivered", () => recorded.delivered() === 30);
    const sizes = recorded.events.map((e) => Object.values(e.records).flat().length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(15);
    expect(recorded.keys().some((keys) => keys.length > 1)).toBe(true);
    for (const p of [0, 1, 2])
      expect(recorded.byPartition.get(p)).toEqual(Array.from({ length: 10 }, (_, i) => p * 10 + i));
  });

  it("with onePartitionPerEvent, cuts every event from a single partition", async () => {
    const topic = await createTopic(admin, 3);
    const groupId = uniqueName("group");
    await produce(kafka, topic, tenOnEach(3));
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(
        kafka,
        handler,
        { topic, consumerGroupId: groupId, batchSize: 100 },
        { onePartitionPerEvent: true },
      ),
    );
    await eventually("every partition committed", async () =>
      [...(await committedOffsets(admin, groupId, topic)).values()].every((o) => o === 10),
    );
    expect(recorded.keys().every((keys) => keys.length === 1)).toBe(true);
    expect(new Set(recorded.keys().flat())).toEqual(
      new Set([`${topic}-0`, `${topic}-1`, `${topic}-2`]),
    );
  });
});

describe("the event the handler receives", () => {
  it.each([
    ["msk", "aws:kafka", true],
    ["self-managed", "SelfManagedKafka", false],
  ] as const)(
    "has the %s shape: records grouped by topic-partition, base64, signed header bytes",
    async (flavour, source, hasArn) => {
      const topic = await createTopic(admin);
      await produce(kafka, topic, [
        {
          key: "Sensor1",
          value: '{"ts":1,"value":2}',
          headers: { unit: "°C" },
          timestamp: "1714564800000",
        },
        { key: null, value: null },
      ]);
      const { handler, recorded } = recordingHandler();
      track(await harnessFor(kafka, handler, { topic, eventFlavour: flavour }));
      await eventually(
        "two records delivered",
        () => recorded.events.flatMap((e) => Object.values(e.records).flat()).length === 2,
      );
      const [event] = recorded.events;
      expect(event?.eventSource).toBe(source);
      expect("eventSourceArn" in (event ?? {})).toBe(hasArn);
      if (hasArn)
        expect((event as { eventSourceArn: string }).eventSourceArn).toMatch(
          /^arn:aws:kafka:[a-z0-9-]+:\d{12}:cluster\//,
        );
      expect(event?.bootstrapServers).toBe(brokers.join(","));
      expect(Object.keys(event?.records ?? {})).toEqual([`${topic}-0`]);
      const [first, tombstone] = event?.records[`${topic}-0`] ?? [];
      expect(first).toEqual({
        topic,
        partition: 0,
        offset: 0,
        timestamp: 1714564800000,
        timestampType: "CREATE_TIME",
        key: Buffer.from("Sensor1").toString("base64"),
        value: Buffer.from('{"ts":1,"value":2}').toString("base64"),
        headers: [{ unit: [-62, -80, 67] }],
      });
      expect(tombstone).toEqual(expect.objectContaining({ offset: 1, headers: [] }));
      expect(tombstone && ("key" in tombstone || "value" in tombstone)).toBe(false);
    },
  );
});

describe("starting position applies only to a group without commits", () => {
  it("LATEST skips what was there before the group started", async () => {
    const topic = await createTopic(admin);
    await produce(kafka, topic, messages(5));
    const { handler, recorded } = recordingHandler();
    track(await harnessFor(kafka, handler, { topic, startingPosition: "LATEST" }));
    // Whenever the group's position is resolved, records produced after it arrive: keep producing
    // one at a time until one does, then none of the five from before may be among them.
    for (let i = 5; recorded.delivered() === 0; i++) {
      await produce(kafka, topic, messages(1, { from: i }));
      await eventually("a record after the start", () => recorded.delivered() > 0, 500).catch(
        () => {},
      );
    }
    const delivered = recorded.byPartition.get(0) ?? [];
    expect(Math.min(...delivered)).toBeGreaterThanOrEqual(5);
  });

  it("AT_TIMESTAMP starts at the first record at or after the timestamp", async () => {
    const topic = await createTopic(admin);
    const t = 1_714_564_800_000;
    await produce(
      kafka,
      topic,
      messages(6).map((m, i) => ({ ...m, timestamp: String(t + i * 1000) })),
    );
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(kafka, handler, {
        topic,
        startingPosition: "AT_TIMESTAMP",
        startingPositionTimestamp: t / 1000 + 3,
      }),
    );
    await eventually("3 records", () => recorded.delivered() === 3);
    expect(recorded.byPartition.get(0)).toEqual([3, 4, 5]);
  });

  it("AT_TIMESTAMP is ignored once the group has committed", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    const t = 1_714_564_800_000;
    await produce(
      kafka,
      topic,
      messages(6).map((m, i) => ({ ...m, timestamp: String(t + i * 1000) })),
    );
    await commitGroupOffsets(kafka, admin, groupId, topic, [{ partition: 0, offset: "1" }]);
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId: groupId,
        startingPosition: "AT_TIMESTAMP",
        startingPositionTimestamp: t / 1000 + 3,
      }),
    );
    await eventually("5 records", () => recorded.delivered() === 5);
    expect(recorded.byPartition.get(0)).toEqual([1, 2, 3, 4, 5]);
  });

  it("AT_TIMESTAMP refuses to position a group another consumer is in, naming the group and the fix", async () => {
    const topic = await createTopic(admin, 2);
    const groupId = uniqueName("group");
    const other = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    await other.connect();
    try {
      await other.subscribe({ topic });
      await other.run({ eachMessage: async () => {} });
      await groupHasJoined(admin, groupId);
      const positioning = positionAtTimestamp({
        kafka,
        admin,
        groupId,
        topic,
        timestampMs: Date.now(),
        timeoutMs: 3_000,
      });
      await expect(positioning).rejects.toThrow(GroupOffsetsCommitError);
      await expect(positioning).rejects.toThrow(
        new RegExp(`"${groupId}".*stop the group's other consumers`),
      );
    } finally {
      await other.disconnect();
    }
  });

  it("TRIM_HORIZON is ignored once the group has committed: a restarted harness resumes from the last commit", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(10));
    const first = recordingHandler();
    const h = await harnessFor(kafka, first.handler, { topic, consumerGroupId: groupId });
    await eventually("10 records", () => first.recorded.delivered() === 10);
    await eventually(
      "committed",
      async () => (await committedOffsets(admin, groupId, topic)).get(0) === 10,
    );
    await h.stop();
    await produce(kafka, topic, messages(3, { from: 10 }));
    const second = recordingHandler();
    track(await harnessFor(kafka, second.handler, { topic, consumerGroupId: groupId }));
    await eventually("3 new records", () => second.recorded.delivered() === 3);
    expect(second.recorded.byPartition.get(0)).toEqual([10, 11, 12]);
  });
});

describe("stopping", () => {
  it("lets the batch in flight finish and commits it before leaving the group", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(5));
    let started = false;
    const { handler, recorded } = recordingHandler(async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 1_000));
    });
    const harness = await harnessFor(kafka, handler, { topic, consumerGroupId: groupId });
    await eventually("the batch in flight", () => started);
    await harness.stop();
    expect(recorded.delivered()).toBe(5);
    expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(5);
  });
});

describe("a trigger on a topic that does not exist", () => {
  it("refuses to start, naming the topic and the fix", async () => {
    const topic = uniqueName("missing-topic");
    const { handler } = recordingHandler();
    await expect(harnessFor(kafka, handler, { topic })).rejects.toThrow(
      new RegExp(`topic "${topic}" does not exist on .*: create it`),
    );
    await expect(harnessFor(kafka, handler, { topic })).rejects.toBeInstanceOf(TopicNotFoundError);
  });
});
