import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { sensorIndexesFor } from "../../core/sensor-indexes.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";
import { DynamoWindowStateStore } from "../../state/dynamodb-window-state-store.ts";
import type { TemperatureRules } from "./aggregate-handler-suite.ts";

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

/** A DynamoDB store on a fresh table, for the rules given. */
export const dynamoStoreFor = async (
  rules: TemperatureRules,
  client = countingDynamoClient().client,
  idleTimeoutMs?: number,
) =>
  new DynamoWindowStateStore<Parameters<TemperatureRules["aggregation"]["add"]>[0]>({
    client,
    tableName: await freshStateTable(client),
    retentionMs: 86_400_000,
    indexes: sensorIndexesFor(rules, idleTimeoutMs),
  });
