import { describe, expect, it } from "vitest";
import { readAggregateConfig } from "../../functions/aggregate-temperatures/config.ts";
import { readTemperatureWindowsConfig } from "../../functions/temperature-windows/config.ts";
import { ConfigError } from "../../lib/errors.ts";

describe("aggregate-temperatures configuration", () => {
  it("has the seed pipeline's defaults", () => {
    expect(readAggregateConfig({})).toEqual({
      windowSizeMs: 10_000,
      windowGraceMs: 1_000,
      closingStrategy: "key",
      timestampSource: "payload",
      maxEventTimeSkewMs: 86_400_000,
      outputTopic: "agg-temperature",
      lateTopic: "agg-temperature-late",
      deadLetterTopic: "raw-temperature-dlq",
      stateStore: "dynamodb",
      stateTable: "sensor-windows-state",
      stateRetentionMs: 86_400_000,
      dynamodbEndpoint: undefined,
      outputBrokers: undefined,
      idleTimeoutMs: undefined,
    });
  });

  it("reads every setting", () => {
    const config = readAggregateConfig({
      WINDOW_SIZE_MS: "60000",
      WINDOW_GRACE_MS: "0",
      CLOSING_STRATEGY: "partition",
      TIMESTAMP_SOURCE: "kafka",
      STATE_STORE: "memory",
      KAFKA_BROKERS: "a:9092, b:9092",
      DYNAMODB_ENDPOINT: "http://localhost:8000",
    });
    expect(config).toMatchObject({
      windowSizeMs: 60_000,
      windowGraceMs: 0,
      closingStrategy: "partition",
      timestampSource: "kafka",
      stateStore: "memory",
      outputBrokers: ["a:9092", "b:9092"],
      dynamodbEndpoint: "http://localhost:8000",
    });
  });

  it.each([
    ["WINDOW_SIZE_MS", "0", 'WINDOW_SIZE_MS must be an integer 1..86400000, got "0"'],
    ["WINDOW_SIZE_MS", "10s", 'WINDOW_SIZE_MS must be an integer 1..86400000, got "10s"'],
    ["WINDOW_GRACE_MS", "-1", 'WINDOW_GRACE_MS must be an integer 0..86400000, got "-1"'],
    [
      "CLOSING_STRATEGY",
      "wallclock",
      'CLOSING_STRATEGY must be one of key, partition, got "wallclock"',
    ],
    ["TIMESTAMP_SOURCE", "ts", 'TIMESTAMP_SOURCE must be one of payload, kafka, got "ts"'],
    ["STATE_STORE", "redis", 'STATE_STORE must be one of dynamodb, memory, got "redis"'],
    ["OUTPUT_TOPIC", "agg temperature", "OUTPUT_TOPIC must be a Kafka topic name"],
    ["STATE_TABLE", "x", "STATE_TABLE must be a DynamoDB table name"],
  ])("rejects %s=%s, naming the variable, the rule and the value", (name, value, message) => {
    expect(() => readAggregateConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => readAggregateConfig({ [name]: value })).toThrow(message);
  });

  it("reads the window rules, topics, state and idle timeout exactly as sweep-idle-windows does", () => {
    const env = {
      WINDOW_SIZE_MS: "60000",
      CLOSING_STRATEGY: "partition",
      OUTPUT_TOPIC: "windows",
      STATE_TABLE: "other-table",
      IDLE_TIMEOUT_MS: "30000",
    };
    const shared = readTemperatureWindowsConfig(env);
    expect(shared).toMatchObject({ windowSizeMs: 60_000, idleTimeoutMs: 30_000 });
    expect(readAggregateConfig(env)).toMatchObject(shared);
  });
});
