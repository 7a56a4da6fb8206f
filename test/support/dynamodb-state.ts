import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import type { WindowOutputs, WindowStateStore } from "../../functions/partition-step.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import { mulberry32 } from "./window-fixtures.ts";

/** Counts the requests a DynamoDB client sends, per command, through the SDK's middleware stack. */
export const countingDynamoClient = () => {
  const client = new DynamoDBClient({
    endpoint: readStackEndpoints().dynamodbEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? "?", (counts.get(context.commandName ?? "?") ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countRequests" },
  );
  return {
    client,
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
};

let tables = 0;

/** A fresh state table in DynamoDB Local, unique to this test run. */
export const freshStateTable = async (client: DynamoDBClient): Promise<string> => {
  const name = `state-${process.pid}-${Date.now().toString(36)}-${tables++}`;
  await ensureStateTable(client, name);
  return name;
};

/** A DynamoDB store on a fresh table. */
export const dynamoStoreFor = async (
  client = countingDynamoClient().client,
): Promise<WindowStateStore<TemperatureState>> =>
  new DynamoWindowStateStore<TemperatureState, WindowOutputs<TemperatureState>>({
    client,
    tableName: await freshStateTable(client),
    retentionMs: 86_400_000,
  });

/** The requests that read or write items: faults go there, never into creating the test's table. */
const DATA_COMMANDS = new Set([
  "GetItemCommand",
  "BatchGetItemCommand",
  "BatchWriteItemCommand",
  "UpdateItemCommand",
  "PutItemCommand",
  "QueryCommand",
]);

/** What a fault-injecting client does to a seeded share of its requests. */
export interface FaultPlan {
  /** Share of requests that fail before they are sent (as throttling would): nothing happens. */
  failBeforeSend: number;
  /** Share of requests that reach DynamoDB and are applied, but whose reply is lost (a timeout). */
  loseReply?: number;
  seed?: number;
}

/**
 * A real client to DynamoDB Local that fails chosen requests: a seeded share never leaves the
 * process (a `ThrottlingException`, as DynamoDB throttling reports it), another is applied by
 * DynamoDB and then reported as a `TimeoutError`, as a lost reply would be. Faults are injected
 * into the real service's client, not simulated: every request that is not failed before sending
 * is really executed.
 */
export const faultInjectingDynamoClient = (plan: FaultPlan) => {
  const counting = countingDynamoClient();
  const random = mulberry32(plan.seed ?? 1);
  const injected = { beforeSend: 0, lostReplies: 0 };
  counting.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!DATA_COMMANDS.has(context.commandName ?? "")) return next(args);
      const roll = random();
      if (roll < plan.failBeforeSend) {
        injected.beforeSend++;
        throw Object.assign(
          new Error(
            `Rate of requests exceeds the allowed throughput (injected into ${context.commandName})`,
          ),
          { name: "ThrottlingException", $retryable: { throttling: true } },
        );
      }
      const result = await next(args);
      if (roll < plan.failBeforeSend + (plan.loseReply ?? 0)) {
        injected.lostReplies++;
        throw Object.assign(new Error(`reply lost (injected into ${context.commandName})`), {
          name: "TimeoutError",
        });
      }
      return result;
    },
    { step: "initialize", name: "injectFaults", priority: "low" },
  );
  return { ...counting, injected };
};
