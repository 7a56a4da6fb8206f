import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { StateStoreUnavailableError } from "./errors.ts";

/**
 * The state table's design. One table, one key attribute, two kinds of items (see
 * `partition-segments.ts` for why state is packed per partition):
 *
 * | item                  | `pk`                                        | attributes                          |
 * |-----------------------|---------------------------------------------|-------------------------------------|
 * | a partition's head    | `partition#<topic>-<n>`                     | `head` (S, JSON: applied offset,    |
 * |                       |                                             | stream time, segment list), `version`|
 * |                       |                                             | (N), `outbox` (M: seq -> claim and  |
 * |                       |                                             | segment), `expiresAt`; `idleScope` +|
 * |                       |                                             | `idleAt` when idle closing is on    |
 * | a segment part        | `segment#<topic>-<n>#<seq>.<token>#<part>`  | `data` (B), `expiresAt`             |
 *
 * - `version` (N) guards every commit: a head update succeeds only if the version read is still
 *   there. Segments are written before the head that names them, under keys no other commit uses,
 *   so a commit that loses its race leaves only unreferenced segments (expired by TTL, free).
 * - `expiresAt` (N, epoch seconds) is the TTL attribute: refreshed on every write to now +
 *   retention. DynamoDB deletes expired items up to about two days late, so reads treat an expired
 *   head as absent themselves.
 * - The GSI `idle-partitions` (partition key `idleScope`, sort key `idleAt` = when the idle sweep
 *   should look at the partition, keys only) finds idle partitions without a scan. Sparse: only
 *   heads with open windows while idle closing is on have the attributes; one head per Kafka
 *   partition, so one index partition holds them all.
 */
export const StateTableDesign = {
  partitionKey: "pk",
  ttlAttribute: "expiresAt",
  idleIndex: { name: "idle-partitions", partitionKey: "idleScope", sortKey: "idleAt" },
  idleScope: "partitions",
  headKeyPrefix: "partition#",
  segmentKeyPrefix: "segment#",
} as const;

/**
 * The table's billing, key, attributes and indexes, in the shape both CreateTable and
 * CloudFormation's `AWS::DynamoDB::Table` take: one definition for local tables and the template.
 */
export const stateTableKeysAndIndexes = () => {
  const { partitionKey, idleIndex } = StateTableDesign;
  return {
    BillingMode: "PAY_PER_REQUEST" as const,
    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" as const }],
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: "S" as const },
      { AttributeName: idleIndex.partitionKey, AttributeType: "S" as const },
      { AttributeName: idleIndex.sortKey, AttributeType: "N" as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: idleIndex.name,
        KeySchema: [
          { AttributeName: idleIndex.partitionKey, KeyType: "HASH" as const },
          { AttributeName: idleIndex.sortKey, KeyType: "RANGE" as const },
        ],
        Projection: { ProjectionType: "KEYS_ONLY" as const },
      },
    ],
  };
};

/**
 * Creates the state table (on-demand billing, the idle-partitions GSI, TTL on `expiresAt`) when it is
 * missing, and waits until it is active. For local use and tests; in AWS the deployment template
 * creates the table.
 */
export const ensureStateTable = async (
  client: DynamoDBClient,
  tableName: string,
): Promise<void> => {
  const { ttlAttribute } = StateTableDesign;
  try {
    await client.send(
      new CreateTableCommand({ TableName: tableName, ...stateTableKeysAndIndexes() }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilActive(client, tableName);
  await client
    .send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    )
    .catch((error: unknown) => {
      // Enabling TTL twice is refused with "TimeToLive is already enabled": that is the state we want.
      if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
    });
};

const waitUntilActive = async (client: DynamoDBClient, tableName: string): Promise<void> => {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === "ACTIVE") return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new StateStoreUnavailableError(
    `table ${tableName} did not become ACTIVE within 60 s: is DynamoDB (Local) overloaded? Check \`npm run stack:status\`, then retry`,
    { retryable: true },
  );
};
