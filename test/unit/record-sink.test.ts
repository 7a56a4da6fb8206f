import { describe, expect, it } from "vitest";
import { type OutputRecord, requestsOf, type TopicRecords } from "../../functions/record-sink.ts";

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
