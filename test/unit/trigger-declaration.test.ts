import { describe, expect, it } from "vitest";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import { ConfigError } from "../../lib/errors.ts";

const withWindow = (seconds: number) =>
  resolveTrigger("test-function", { topic: "raw", maximumBatchingWindowInSeconds: seconds });

describe("MaximumBatchingWindowInSeconds, as AWS takes it: whole seconds 0..300, or Kafka's 0.5 s default", () => {
  it.each([0, 0.5, 1, 300])("accepts %s", (seconds) => {
    expect(withWindow(seconds).maximumBatchingWindowInSeconds).toBe(seconds);
  });

  it.each([
    [0.2, /whole seconds.*got 0\.2: use 0/],
    [1.5, /whole seconds.*got 1\.5: use 2/],
    [301, /0\.\.300/],
    [-1, /0\.\.300/],
  ])("refuses %s, naming the rule and the fix", (seconds, message) => {
    expect(() => withWindow(seconds)).toThrow(ConfigError);
    expect(() => withWindow(seconds)).toThrow(message);
  });
});

describe("StartingPositionTimestamp, as AWS takes it: with AT_TIMESTAMP only", () => {
  it("is required with AT_TIMESTAMP", () => {
    expect(() =>
      resolveTrigger("test-function", { topic: "raw", startingPosition: "AT_TIMESTAMP" }),
    ).toThrow(/required with AT_TIMESTAMP/);
  });

  it("is refused with another starting position, naming the fix", () => {
    expect(() =>
      resolveTrigger("test-function", {
        topic: "raw",
        startingPosition: "LATEST",
        startingPositionTimestamp: 1_714_564_800,
      }),
    ).toThrow(/only for StartingPosition AT_TIMESTAMP, got it with LATEST/);
  });
});
