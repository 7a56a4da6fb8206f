import { describe, expect, it } from "vitest";
import type {
  KafkaBatchResponse,
  KafkaHandler,
  KafkaTriggerEvent,
} from "../../functions/kafka-trigger-event.ts";
import {
  brokers,
  committedOffsets,
  createTopic,
  eventually,
  harnessFor,
  messages,
  produce,
  readTopic,
  recordingHandler,
  refusingKafka,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";

const { kafka, admin, track } = useBroker();

const iOf = (event: KafkaTriggerEvent) =>
  Object.values(event.records)
    .flat()
    .map((r) => JSON.parse(Buffer.from(r.value ?? "", "base64").toString()).i as number);
const partitionsOf = (event: KafkaTriggerEvent) =>
  Object.values(event.records)
    .flat()
    .map((r) => r.partition);

/** A harness honouring partial batch responses (`ReportBatchItemFailures`), tracked for cleanup. */
const reportingHarness = async (topic: string, handler: KafkaHandler, groupId?: string) =>
  track(
    await harnessFor(kafka, handler, {
      topic,
      ...(groupId === undefined ? {} : { consumerGroupId: groupId }),
      errorControls: { functionResponseTypes: ["ReportBatchItemFailures"] },
    }),
  );

/** Waits until `groupId` has committed `offset` (the next to read) on partition 0 of `topic`. */
const committedOnPartition0 = (groupId: string, topic: string, offset: number, what: string) =>
  eventually(what, async () => (await committedOffsets(admin, groupId, topic)).get(0) === offset);

describe("failures, on-demand mode (no error controls)", () => {
  it("with one partition per event: commits only after success, retries the failing batch, and holds only its partition", async () => {
    const topic = await createTopic(admin, 2);
    const groupId = uniqueName("group");
    await produce(kafka, topic, [
      ...messages(10, { partition: 0 }),
      ...messages(10, { partition: 1, from: 10 }),
    ]);
    let failing = true;
    const attemptsOnZero: number[] = [];
    const { handler, recorded } = recordingHandler(async (event) => {
      if (partitionsOf(event).includes(0)) {
        attemptsOnZero.push(Date.now());
        if (failing) throw new Error("partition 0 is down (injected)");
      }
    });
    track(
      await harnessFor(
        kafka,
        handler,
        { topic, consumerGroupId: groupId },
        { onePartitionPerEvent: true },
      ),
    );
    await eventually(
      "partition 1 delivered and committed",
      async () => (await committedOffsets(admin, groupId, topic)).get(1) === 10,
    );
    await eventually("partition 0 retried", () => attemptsOnZero.length >= 3);
    expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(-1);
    expect(recorded.byPartition.get(0)).toBeUndefined();
    failing = false;
    await committedOnPartition0(groupId, topic, 10, "partition 0 committed after success");
    expect(recorded.byPartition.get(0)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });

  it("holds every partition of a failing mixed batch until it succeeds, while the partitions outside it keep going", async () => {
    const topic = await createTopic(admin, 3);
    const groupId = uniqueName("group");
    await produce(kafka, topic, [
      ...messages(5, { partition: 0 }),
      ...messages(5, { partition: 1, from: 100 }),
    ]);
    let failing = true;
    const failedKeys: string[][] = [];
    const { handler, recorded } = recordingHandler(async (event) => {
      if (failing && partitionsOf(event).includes(0)) {
        failedKeys.push(Object.keys(event.records));
        throw new Error("the batch of partitions 0 and 1 fails (injected)");
      }
    });
    track(await harnessFor(kafka, handler, { topic, consumerGroupId: groupId, batchSize: 100 }));
    await eventually("the mixed batch retried", () => failedKeys.length >= 3);
    expect(failedKeys[0]).toEqual([`${topic}-0`, `${topic}-1`]);

    // Partition 2 is not in the failing batch: its records are fetched and delivered meanwhile.
    // Partition 1 is: its new records wait behind the failing batch.
    await produce(kafka, topic, [
      ...messages(3, { partition: 2, from: 200 }),
      ...messages(3, { partition: 1, from: 105 }),
    ]);
    await eventually(
      "partition 2 committed while the batch fails",
      async () => (await committedOffsets(admin, groupId, topic)).get(2) === 3,
    );
    await new Promise((r) => setTimeout(r, 500));
    const offsets = await committedOffsets(admin, groupId, topic);
    expect([offsets.get(0), offsets.get(1)]).toEqual([-1, -1]);
    expect(recorded.byPartition.get(1)).toBeUndefined();
    expect(recorded.byPartition.get(2)).toEqual([200, 201, 202]);

    failing = false;
    await eventually("partitions 0 and 1 committed after success", async () => {
      const o = await committedOffsets(admin, groupId, topic);
      return o.get(0) === 5 && o.get(1) === 8;
    });
    expect(recorded.byPartition.get(0)).toEqual([0, 1, 2, 3, 4]);
    expect(recorded.byPartition.get(1)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it("treats a handler that outlives the function timeout as failed, and retries", async () => {
    const topic = await createTopic(admin);
    await produce(kafka, topic, messages(3));
    const { handler, recorded } = recordingHandler(async (_event, call) => {
      if (call === 0) await new Promise((r) => setTimeout(r, 2_500));
    });
    track(await harnessFor(kafka, handler, { topic, timeoutSeconds: 1 }));
    await eventually(
      "delivered again after the timeout",
      () => recorded.events.length >= 2,
      15_000,
    );
    expect(iOf(recorded.events.at(-1) as KafkaTriggerEvent)).toEqual([0, 1, 2]);
  });
});

describe("records the topic's retention deletes while their batch is retried", () => {
  it("skips them, as Lambda retries only until records expire, and delivers the rest", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(5));
    let attempts = 0;
    const { handler, recorded } = recordingHandler(async (event) => {
      attempts++;
      if (iOf(event).includes(0)) throw new Error("record 0 keeps failing (injected)");
    });
    const harness = await harnessFor(kafka, handler, { topic, consumerGroupId: groupId });
    track(harness);
    await eventually("retried", () => attempts >= 2);
    // What retention does to old segments, done at once: records 0..2 leave the topic.
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "3" }] });
    await committedOnPartition0(groupId, topic, 5, "committed past them");
    expect(recorded.events.at(-1) && iOf(recorded.events.at(-1) as KafkaTriggerEvent)).toEqual([
      3, 4,
    ]);
    expect((await harness.stats())[0]?.recordsExpired).toBe(3);
  });
});

describe("failures, provisioned-mode error controls", () => {
  it("gives up after MaximumRetryAttempts and sends each record to the on-failure topic in AWS's shape, keyed like the original", async () => {
    const topic = await createTopic(admin);
    const failures = await createTopic(admin, 1, "on-failure");
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(3));
    let calls = 0;
    const { handler } = recordingHandler(async () => {
      calls++;
      throw new Error("always fails (injected)");
    });
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId: groupId,
        errorControls: { maximumRetryAttempts: 2, onFailureTopic: failures },
      }),
    );
    await committedOnPartition0(groupId, topic, 3, "committed past the failed batch");
    expect(calls).toBe(3);
    const sent = await readTopic(kafka, failures, 3);
    expect(sent.map((s) => s.message.key?.toString())).toEqual(["k0", "k1", "k2"]);
    const first = JSON.parse(sent[0]?.message.value?.toString() ?? "{}");
    expect(first).toMatchObject({
      requestContext: { condition: "RetriesExhausted", approximateInvokeCount: 3 },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      KafkaBatchInfo: {
        batchSize: 3,
        eventSourceArn: expect.stringMatching(/^arn:aws:kafka:/),
        bootstrapServers: brokers.join(","),
        payloadSize: expect.any(Number),
        recordInfo: { offset: "0", timestamp: expect.any(String) },
      },
      payload: {
        eventSource: "aws:kafka",
        bootstrapServers: brokers.join(","),
        records: {
          [`${topic}-0`]: [
            { topic, partition: 0, offset: 0, key: Buffer.from("k0").toString("base64") },
          ],
        },
      },
    });
    expect(first.KafkaBatchInfo).not.toHaveProperty("recordsInfo");
  });

  it("gives up on records older than MaximumRecordAgeInSeconds instead of invoking with them", async () => {
    const topic = await createTopic(admin);
    const failures = await createTopic(admin, 1, "on-failure");
    const hourAgo = String(Date.now() - 3_600_000);
    await produce(kafka, topic, [
      ...messages(2).map((m) => ({ ...m, timestamp: hourAgo })),
      ...messages(1, { from: 2 }),
    ]);
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(kafka, handler, {
        topic,
        errorControls: { maximumRecordAgeInSeconds: 60, onFailureTopic: failures },
      }),
    );
    const sent = await readTopic(kafka, failures, 2);
    expect(
      sent.map((s) => JSON.parse(s.message.value?.toString() ?? "{}").requestContext.condition),
    ).toEqual(["RecordAgeExceeded", "RecordAgeExceeded"]);
    await eventually("the fresh record delivered", () => recorded.delivered() === 1);
    expect(recorded.byPartition.get(0)).toEqual([2]);
  });

  // Splitting spends no retry (AWS's Kinesis rule): record 5 is invoked in batches of n, n/2, ...
  // down to itself, then retried alone; only it is given up, whatever MaximumRetryAttempts.
  it.each([
    ["3 retries to spare, 8 records", 8, 3, 4 + 3],
    ["MaximumRetryAttempts 0, 16 records", 16, 0, 5],
  ])(
    "bisects a failing batch to isolate a poison record (%s)",
    async (_name, count, retries, invocations) => {
      const topic = await createTopic(admin);
      const failures = await createTopic(admin, 1, "on-failure");
      await produce(kafka, topic, messages(count));
      const { handler, recorded } = recordingHandler(async (event) => {
        if (iOf(event).includes(5)) throw new Error("record 5 is poison (injected)");
      });
      const harness = await harnessFor(kafka, handler, {
        topic,
        batchSize: count,
        errorControls: {
          maximumRetryAttempts: retries,
          bisectBatchOnFunctionError: true,
          onFailureTopic: failures,
        },
      });
      track(harness);
      const sent = await readTopic(kafka, failures, 1);
      const givenUp = JSON.parse(sent[0]?.message.value?.toString() ?? "{}");
      expect(givenUp.KafkaBatchInfo.recordInfo.offset).toBe("5");
      expect(
        givenUp.payload.records[`${topic}-0`].map((r: { offset: number }) => r.offset),
      ).toEqual([5]);
      expect(givenUp.requestContext).toMatchObject({
        condition: "RetriesExhausted",
        approximateInvokeCount: invocations,
      });
      await eventually("the good records delivered", () => recorded.delivered() === count - 1);
      expect(recorded.byPartition.get(0)).toEqual([...Array(count).keys()].filter((i) => i !== 5));
      expect((await harness.stats())[0]?.recordsGivenUp).toBe(1);
    },
  );

  it("honours a partial batch response: commits before the lowest failed offset and resumes from it", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(10));
    const { handler, recorded } = recordingHandler(async (_event, call) =>
      call === 0
        ? {
            batchItemFailures: [
              { itemIdentifier: { partition: `${topic}-0`, offset: 7 } },
              { itemIdentifier: { partition: `${topic}-0`, offset: 4 } },
            ],
          }
        : { batchItemFailures: [] },
    );
    await reportingHarness(topic, handler, groupId);
    await committedOnPartition0(groupId, topic, 10, "all committed");
    expect(recorded.events.map(iOf)).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [4, 5, 6, 7, 8, 9],
    ]);
  });

  it("applies a partial batch response per partition: each failed one resumes from its lowest failed offset, the others are committed", async () => {
    const topic = await createTopic(admin, 3);
    const groupId = uniqueName("group");
    await produce(kafka, topic, [
      ...messages(5, { partition: 0 }),
      ...messages(5, { partition: 1, from: 10 }),
      ...messages(5, { partition: 2, from: 20 }),
    ]);
    let failing = true;
    const { handler, recorded } = recordingHandler(async (event) =>
      failing && partitionsOf(event).includes(0)
        ? {
            batchItemFailures: [
              { itemIdentifier: { partition: `${topic}-0`, offset: 3 } },
              { itemIdentifier: { partition: `${topic}-0`, offset: 2 } },
              { itemIdentifier: { partition: `${topic}-2`, offset: 0 } },
            ].filter((f) => Object.keys(event.records).includes(f.itemIdentifier.partition)),
          }
        : null,
    );
    await reportingHarness(topic, handler, groupId);
    await eventually("the first batch and a retry", () => recorded.events.length >= 2);
    expect(recorded.keys()[0]).toEqual([`${topic}-0`, `${topic}-1`, `${topic}-2`]);
    expect(iOf(recorded.events[1] as KafkaTriggerEvent)).toEqual([2, 3, 4, 20, 21, 22, 23, 24]);
    await eventually("what succeeded is committed while the rest is retried", async () => {
      const o = await committedOffsets(admin, groupId, topic);
      return o.get(0) === 2 && o.get(1) === 5 && o.get(2) === -1;
    });
    failing = false;
    await eventually("all committed", async () =>
      [...(await committedOffsets(admin, groupId, topic)).values()].every((o) => o === 5),
    );
  });

  it("bisects a failing mixed batch, isolating the poison record of one partition", async () => {
    const topic = await createTopic(admin, 2);
    const failures = await createTopic(admin, 1, "on-failure");
    await produce(kafka, topic, [
      ...messages(4, { partition: 0 }),
      ...messages(4, { partition: 1, from: 4 }),
    ]);
    const { handler, recorded } = recordingHandler(async (event) => {
      if (iOf(event).includes(5)) throw new Error("record 5 is poison (injected)");
    });
    track(
      await harnessFor(kafka, handler, {
        topic,
        batchSize: 8,
        errorControls: {
          maximumRetryAttempts: 3,
          bisectBatchOnFunctionError: true,
          onFailureTopic: failures,
        },
      }),
    );
    const sent = await readTopic(kafka, failures, 1);
    const failure = JSON.parse(sent[0]?.message.value?.toString() ?? "{}");
    expect(failure.KafkaBatchInfo.recordInfo.offset).toBe("1");
    expect(Object.keys(failure.payload.records)).toEqual([`${topic}-1`]);
    expect(failure.payload.records[`${topic}-1`]).toEqual([
      expect.objectContaining({ partition: 1, offset: 1 }),
    ]);
    await eventually("the 7 good records delivered", () => recorded.delivered() === 7);
    expect(recorded.byPartition.get(0)).toEqual([0, 1, 2, 3]);
    expect(recorded.byPartition.get(1)).toEqual([4, 6, 7]);
  });

  it("fails the whole batch when a reported failure is not in the batch", async () => {
    const topic = await createTopic(admin);
    await produce(kafka, topic, messages(3));
    const { handler, recorded } = recordingHandler(async (_event, call) =>
      call === 0
        ? { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 99 } }] }
        : null,
    );
    await reportingHarness(topic, handler);
    await eventually("delivered twice", () => recorded.events.length === 2);
    expect(recorded.events.map(iOf)).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
  });

  it.each([
    ["an object", {}],
    ["true", true],
    ["a number", 5],
    ["a string", "offset 1"],
  ])(
    "fails the whole batch, losing nothing, when batchItemFailures is %s, not a list",
    async (_kind, batchItemFailures) => {
      const topic = await createTopic(admin);
      const groupId = uniqueName("group");
      await produce(kafka, topic, messages(3));
      const { handler, recorded } = recordingHandler(async (_event, call) =>
        call === 0 ? ({ batchItemFailures } as unknown as KafkaBatchResponse) : null,
      );
      await reportingHarness(topic, handler, groupId);
      await committedOnPartition0(groupId, topic, 3, "committed after the retry");
      expect(recorded.events.map(iOf)).toEqual([
        [0, 1, 2],
        [0, 1, 2],
      ]);
    },
  );

  it("ignores batchItemFailures without ReportBatchItemFailures, as Lambda does", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(3));
    const { handler, recorded } = recordingHandler(async () => ({
      batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 1 } }],
    }));
    track(await harnessFor(kafka, handler, { topic, consumerGroupId: groupId }));
    await committedOnPartition0(groupId, topic, 3, "committed");
    expect(recorded.events).toHaveLength(1);
  });
});

/**
 * A record of ~5 MB: base64 makes its event ~6.7 MB, past Lambda's 6 MB invoke limit. Between two
 * small ones, so that the batches around it show it never blocks what came before it.
 */
const aroundOversized = () => [
  ...messages(1),
  ...messages(1, { from: 1, size: 5_000_000 }),
  ...messages(1, { from: 2 }),
];

describe("a record whose event passes Lambda's 6 MB invoke limit", () => {
  it("is never invoked; with an on-failure topic it goes there at once as MaximumPayloadSizeExceeded, uninvoked", async () => {
    const topic = await createTopic(admin);
    const failures = await createTopic(admin, 1, "on-failure");
    const groupId = uniqueName("group");
    await produce(kafka, topic, aroundOversized());
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(kafka, handler, {
        topic,
        consumerGroupId: groupId,
        errorControls: { maximumRetryAttempts: 3, onFailureTopic: failures },
      }),
    );
    const sent = await readTopic(kafka, failures, 1);
    const failure = JSON.parse(sent[0]?.message.value?.toString() ?? "{}");
    expect(failure.requestContext).toMatchObject({
      condition: "MaximumPayloadSizeExceeded",
      approximateInvokeCount: 0,
    });
    expect(failure.responseContext).toBeNull();
    expect(failure.KafkaBatchInfo.recordInfo.offset).toBe("1");
    expect(failure.KafkaBatchInfo.payloadSize).toBeGreaterThan(6 * 1024 * 1024);
    await committedOnPartition0(groupId, topic, 3, "committed past it");
    expect(recorded.byPartition.get(0)).toEqual([0, 2]);
  });

  it("is never invoked; without a destination its partition waits, as for a batch that keeps failing", async () => {
    const topic = await createTopic(admin);
    const groupId = uniqueName("group");
    await produce(kafka, topic, aroundOversized());
    const { handler, recorded } = recordingHandler();
    const harness = await harnessFor(kafka, handler, { topic, consumerGroupId: groupId });
    track(harness);
    await committedOnPartition0(groupId, topic, 1, "the record before it committed");
    await eventually("retried", async () => ((await harness.stats())[0]?.retries ?? 0) >= 2);
    expect((await committedOffsets(admin, groupId, topic)).get(0)).toBe(1);
    expect(recorded.byPartition.get(0)).toEqual([0]);
  });
});

describe("the broker refusing the mapping's own requests", () => {
  it("retries a refused offset commit until it lands, delivering nothing twice, even on a quiet partition", async () => {
    const topic = await createTopic(admin, 2);
    const groupId = uniqueName("group");
    await produce(kafka, topic, [
      ...messages(5, { partition: 0 }),
      ...messages(5, { partition: 1, from: 10 }),
    ]);
    const refusals = { commits: 3, sends: 0, refused: { commits: 0, sends: 0 } };
    const { handler, recorded } = recordingHandler();
    track(
      await harnessFor(refusingKafka(kafka, refusals), handler, {
        topic,
        consumerGroupId: groupId,
      }),
    );
    await eventually("both partitions committed", async () =>
      [...(await committedOffsets(admin, groupId, topic)).values()].every((o) => o === 5),
    );
    expect(refusals.refused.commits).toBe(3);
    expect(recorded.byPartition.get(0)).toEqual([0, 1, 2, 3, 4]);
    expect(recorded.byPartition.get(1)).toEqual([10, 11, 12, 13, 14]);
  });

  it("holds records given up on until the on-failure destination takes them, then commits past them", async () => {
    const topic = await createTopic(admin);
    const failures = await createTopic(admin, 1, "on-failure");
    const groupId = uniqueName("group");
    await produce(kafka, topic, messages(3));
    const refusals = { commits: 0, sends: 2, refused: { commits: 0, sends: 0 } };
    const { handler } = recordingHandler(async () => {
      throw new Error("always fails (injected)");
    });
    track(
      await harnessFor(refusingKafka(kafka, refusals), handler, {
        topic,
        consumerGroupId: groupId,
        errorControls: { maximumRetryAttempts: 0, onFailureTopic: failures },
      }),
    );
    await committedOnPartition0(groupId, topic, 3, "committed past the records given up on");
    expect(refusals.refused.sends).toBe(2);
    const sent = await readTopic(kafka, failures, 3);
    expect(sent.map((s) => s.message.key?.toString())).toEqual(["k0", "k1", "k2"]);
  });
});
