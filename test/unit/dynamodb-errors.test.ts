import {
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { translateError } from "../../state/dynamodb-window-state-store.ts";
import { StateStoreUnavailableError } from "../../state/errors.ts";

const meta = { $metadata: {} };

describe("DynamoDB errors become errors that say whether a retry helps", () => {
  it.each([
    [
      "throttling",
      new ProvisionedThroughputExceededException({ ...meta, message: "slow down" }),
      StateStoreUnavailableError,
      true,
      "ProvisionedThroughputExceededException",
    ],
    [
      "a missing table",
      new ResourceNotFoundException({
        ...meta,
        message: "Cannot do operations on a non-existent table",
      }),
      StateStoreUnavailableError,
      false,
      "create the table: STATE_TABLE=windows",
    ],
  ])("%s", (_name, error, type, retryable, message) => {
    const translated = translateError(error, "windows");
    expect(translated).toBeInstanceOf(type);
    expect((translated as StateStoreUnavailableError).retryable).toBe(retryable);
    expect(translated.message).toContain(message);
    expect(translated.cause).toBe(error);
  });
});
