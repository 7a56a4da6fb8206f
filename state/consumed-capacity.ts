import type { ConsumedCapacity, DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** What a client's requests cost, as DynamoDB itself counts it. */
export interface CapacityTotals {
  requests: number;
  /** Write request units (on-demand) or write capacity units, table and indexes together. */
  writeUnits: number;
  /** Read request units, strongly consistent reads counted as DynamoDB counts them. */
  readUnits: number;
}

const WRITES = new Set([
  "PutItemCommand",
  "UpdateItemCommand",
  "DeleteItemCommand",
  "BatchWriteItemCommand",
  "TransactWriteItemsCommand",
]);
const READS = new Set([
  "GetItemCommand",
  "BatchGetItemCommand",
  "QueryCommand",
  "ScanCommand",
  "TransactGetItemsCommand",
]);

/**
 * Asks DynamoDB for the capacity every data request consumes (`ReturnConsumedCapacity: INDEXES`,
 * which DynamoDB Local answers too) and adds it up: the billing rules applied by the service, not
 * estimated here (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 * Returns the running totals and a reset.
 */
export const meterConsumedCapacity = (client: DynamoDBClient) => {
  const totals: CapacityTotals = { requests: 0, writeUnits: 0, readUnits: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? "";
      const isWrite = WRITES.has(command);
      if (!isWrite && !READS.has(command)) return next(args);
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = "INDEXES";
      totals.requests++;
      const result = await next(args);
      const consumed = (
        result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }
      ).ConsumedCapacity;
      const units = [consumed ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      if (isWrite) totals.writeUnits += units;
      else totals.readUnits += units;
      return result;
    },
    { step: "initialize", name: "meterConsumedCapacity" },
  );
  return {
    totals: (): CapacityTotals => ({ ...totals }),
    reset: () => {
      totals.requests = 0;
      totals.writeUnits = 0;
      totals.readUnits = 0;
    },
  };
};
