import type { Producer, TopicMessages } from "kafkajs";
import { describe, expect, it } from "vitest";
import { OutputProduceError } from "../../functions/errors.ts";
import {
  kafkaRecordSink,
  MAX_RECORDS_PER_REQUEST,
  type OutputRecord,
  requestsOf,
  type TopicRecords,
} from "../../functions/record-sink.ts";

const records = (n: number, prefix = "r"): OutputRecord[] =>
  Array.from({ length: n }, (_, i) => ({ key: "k", value: `${prefix}${i}` }));

/** Each request as `topic:count` entries, to compare shapes at a glance. */
const shape = (batches: readonly TopicRecords[], max: number) =>
  requestsOf(batches, max).map((request) =>
    request.map(({ topic, messages }) => `${topic}:${messages.length}`),
  );

describe("requestsOf splits output into produce requests of bounded size", () => {
  describe.each([
    { case: "nothing to send", batches: [], max: 3, expected: [] },
    { case: "empty topics only", batches: [{ topic: "a", records: [] }], max: 3, expected: [] },
    {
      case: "under the limit",
      batches: [{ topic: "a", records: records(2) }],
      max: 3,
      expected: [["a:2"]],
    },
    {
      case: "exactly the limit",
      batches: [{ topic: "a", records: records(3) }],
      max: 3,
      expected: [["a:3"]],
    },
    {
      case: "over the limit",
      batches: [{ topic: "a", records: records(7) }],
      max: 3,
      expected: [["a:3"], ["a:3"], ["a:1"]],
    },
    {
      case: "topics sharing a request",
      batches: [
        { topic: "a", records: records(2) },
        { topic: "b", records: [] },
        { topic: "c", records: records(3) },
      ],
      max: 3,
      expected: [["a:2", "c:1"], ["c:2"]],
    },
  ])("$case", ({ batches, max, expected }) => {
    it("gives the expected requests", () => {
      expect(shape(batches, max)).toEqual(expected);
    });
  });

  it.each([
    [
      "two of 100 000 characters (600 KB estimated together) share one",
      [100_000, 100_000],
      ["a:2"],
    ],
    [
      "two of 200 000 characters (1.2 MB estimated together) go apart",
      [200_000, 200_000],
      ["a:1", "a:1"],
    ],
    [
      "one of 400 000 characters (1.2 MB estimated) goes alone",
      [10, 400_000, 10],
      ["a:1", "a:1", "a:1"],
    ],
  ])("bounds a request's bytes under Kafka's 1 MB record batch: %s", (_name, sizes, expected) => {
    const batches = [
      { topic: "a", records: sizes.map((n) => ({ key: "k", value: "x".repeat(n) })) },
    ];
    expect(shape(batches, MAX_RECORDS_PER_REQUEST).map((r) => r.join(","))).toEqual(expected);
  });

  it("keeps every record, in order", () => {
    const batches = [
      { topic: "a", records: records(1_234, "a") },
      { topic: "b", records: records(567, "b") },
    ];
    const flattened = requestsOf(batches, 500).flatMap((request) =>
      request.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${m.value}`)),
    );
    expect(flattened).toEqual(
      batches.flatMap(({ topic, records }) => records.map((r) => `${topic}/${r.value}`)),
    );
  });
});

/** A stand-in producer that records each request, or fails them all with `error`. */
const recordingProducer = (error?: Error) => {
  const requests: TopicMessages[][] = [];
  const producer = {
    sendBatch: async ({ topicMessages }: { topicMessages: TopicMessages[] }) => {
      if (error !== undefined) throw error;
      requests.push(topicMessages);
      return [];
    },
  } as unknown as Producer;
  return { producer, requests };
};

describe("kafkaRecordSink", () => {
  it("sends bounded requests one after the other, in order", async () => {
    const { producer, requests } = recordingProducer();
    await kafkaRecordSink(producer).send([
      { topic: "a", records: records(MAX_RECORDS_PER_REQUEST + 1) },
    ]);
    expect(requests.map((r) => r.map((t) => t.messages.length))).toEqual([
      [MAX_RECORDS_PER_REQUEST],
      [1],
    ]);
  });

  it("names the topic and the fix when the broker does not know it, as a retryable error", async () => {
    const { producer } = recordingProducer(
      new Error("This server does not host this topic-partition"),
    );
    const sent = kafkaRecordSink(producer).send([{ topic: "agg-missing", records: records(1) }]);
    await expect(sent).rejects.toThrow(OutputProduceError);
    await expect(sent).rejects.toThrow(/producing to agg-missing failed: .*does the topic exist/);
    await expect(sent).rejects.toMatchObject({ retryable: true });
  });
});
