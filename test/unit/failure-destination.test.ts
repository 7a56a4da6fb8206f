import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { KafkaTriggerRecord } from "../../functions/kafka-trigger-event.ts";
import type { EventSource } from "../../functions/kafka-trigger-event-builder.ts";
import { localFunctionArn } from "../../functions/local-aws.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import {
  FailureCondition,
  type FailureConditionName,
  failureRecord,
  type KafkaFailureRecord,
} from "../../harness/emulator/failure-destination.ts";
import { ConfigError } from "../../lib/errors.ts";

/** kafka-on-failure-destination.html's example record, as the page shows it. */
const example = JSON.parse(
  readFileSync(
    new URL("../fixtures/kafka-on-failure-destination-example.json", import.meta.url),
    "utf8",
  ),
) as KafkaFailureRecord;
const exampleRecord = Object.values(example.payload.records)[0]?.[0] as KafkaTriggerRecord;

/** The example's cluster, as the event source the record came from. */
const exampleSource: EventSource = {
  flavour: "msk",
  bootstrapServers: example.payload.bootstrapServers.split(","),
  clusterArn: (example.payload as { eventSourceArn: string }).eventSourceArn,
};

const produce = (
  record: KafkaTriggerRecord,
  options: {
    condition?: FailureConditionName;
    approximateInvokeCount?: number;
    source?: EventSource;
    batch?: readonly KafkaTriggerRecord[];
  } = {},
) => {
  const message = failureRecord(record, {
    functionName: "my-function",
    condition: options.condition ?? FailureCondition.retriesExhausted,
    approximateInvokeCount: options.approximateInvokeCount ?? 3,
    source: options.source ?? exampleSource,
    batch: options.batch ?? [record],
  });
  return { key: message.key, document: JSON.parse(message.value) as KafkaFailureRecord };
};

/** Keys and JSON types, values left out: what must agree with the example. */
const shapeOf = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value === null) return "null";
  if (typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value;
};

describe("the record an on-failure Kafka topic receives (kafka-on-failure-destination.html)", () => {
  const { document } = produce(exampleRecord);

  it("has the example's fields, nested as in the example, with the same JSON types", () => {
    expect(shapeOf(document)).toEqual(shapeOf(example));
  });

  it("carries the record in payload as a Kafka event, equal to the example's", () => {
    expect(document.payload).toEqual(example.payload);
  });

  it.each([
    ["version", (d: KafkaFailureRecord) => d.version],
    ["responseContext", (d: KafkaFailureRecord) => d.responseContext],
    ["requestContext.condition", (d: KafkaFailureRecord) => d.requestContext.condition],
    ["approximateInvokeCount", (d: KafkaFailureRecord) => d.requestContext.approximateInvokeCount],
    ["KafkaBatchInfo.batchSize", (d: KafkaFailureRecord) => d.KafkaBatchInfo.batchSize],
    ["KafkaBatchInfo.eventSourceArn", (d: KafkaFailureRecord) => d.KafkaBatchInfo.eventSourceArn],
    [
      "KafkaBatchInfo.bootstrapServers",
      (d: KafkaFailureRecord) => d.KafkaBatchInfo.bootstrapServers,
    ],
  ])("has the example's %s", (_, field) => {
    expect(field(document)).toEqual(field(example));
  });

  it("names the function by its ARN qualified with $LATEST, as the example does, from the harness's one local identity", () => {
    expect(document.requestContext.functionArn).toBe(localFunctionArn("my-function", "$LATEST"));
    expect(document.requestContext.functionArn).toMatch(
      /^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:my-function:\$LATEST$/,
    );
  });

  it("gives the record's offset as a string and its timestamp in ISO 8601 in recordInfo", () => {
    expect(document.KafkaBatchInfo.recordInfo).toEqual({
      offset: "100",
      timestamp: new Date(exampleRecord.timestamp).toISOString(),
    });
  });

  it("has no trace of the SNS/SQS shape (recordsInfo, a bare record as payload)", () => {
    expect(document.KafkaBatchInfo).not.toHaveProperty("recordsInfo");
    expect(document.payload).not.toHaveProperty("topic");
  });

  it("is keyed like the original record, and has no key when the record had none (round-robin)", () => {
    expect(produce(exampleRecord).key).toEqual(Buffer.from("test-key"));
    const { key, document: keyless } = produce({ ...exampleRecord, key: undefined });
    expect(key).toBeNull();
    expect(keyless.payload.records["my-topic-0"]?.[0]).not.toHaveProperty("key");
  });
});

describe("the batch the record was given up with", () => {
  const batch = [100, 101, 102].map((offset) => ({ ...exampleRecord, offset }));
  const documents = batch.map((r) => produce(r, { batch }).document);

  it("is described by KafkaBatchInfo: its size, and the bytes of its event", () => {
    for (const d of documents) {
      expect(d.KafkaBatchInfo.batchSize).toBe(3);
      expect(d.KafkaBatchInfo.payloadSize).toBeGreaterThan(
        3 * Buffer.byteLength(JSON.stringify(exampleRecord)),
      );
    }
  });

  it("gives one message per record, each with its own record, under one request id and timestamp", () => {
    expect(documents.map((d) => d.KafkaBatchInfo.recordInfo.offset)).toEqual(["100", "101", "102"]);
    expect(documents.map((d) => d.payload.records["my-topic-0"]?.[0]?.offset)).toEqual([
      100, 101, 102,
    ]);
    expect(new Set(documents.map((d) => d.requestContext.requestId)).size).toBe(1);
    expect(new Set(documents.map((d) => d.timestamp)).size).toBe(1);
  });

  it("of a payload alone, weighs what its JSON weighs", () => {
    const { document } = produce(exampleRecord);
    expect(document.KafkaBatchInfo.payloadSize).toBe(
      Buffer.byteLength(JSON.stringify(document.payload)),
    );
  });
});

describe.each([
  [FailureCondition.retriesExhausted, 3, "an object"],
  [FailureCondition.recordAgeExceeded, 2, "an object"],
  [FailureCondition.recordAgeExceeded, 0, "null: never invoked"],
])("given up on for %s after %i invocations", (condition, count, response) => {
  it(`says so in requestContext, with responseContext ${response}`, () => {
    const { document } = produce(exampleRecord, { condition, approximateInvokeCount: count });
    expect(document.requestContext).toMatchObject({ condition, approximateInvokeCount: count });
    if (count === 0) expect(document.responseContext).toBeNull();
    else expect(document.responseContext).toEqual(example.responseContext);
  });
});

describe("from self-managed Kafka", () => {
  const { document } = produce(exampleRecord, {
    source: { ...exampleSource, flavour: "self-managed" },
  });

  it("has a self-managed event as payload, with no eventSourceArn there nor in KafkaBatchInfo", () => {
    expect(document.payload.eventSource).toBe("SelfManagedKafka");
    expect(document.payload).not.toHaveProperty("eventSourceArn");
    expect(document.KafkaBatchInfo).not.toHaveProperty("eventSourceArn");
  });
});

describe("the on-failure topic", () => {
  it("may not be the trigger's own topic (AWS prevents the loop)", () => {
    const declare = () =>
      resolveTrigger("f", { topic: "raw", errorControls: { onFailureTopic: "raw" } });
    expect(declare).toThrow(ConfigError);
    expect(declare).toThrow(
      'trigger of f: the on-failure destination "raw" is the trigger\'s own topic',
    );
  });
});
