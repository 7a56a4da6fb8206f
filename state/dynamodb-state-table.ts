import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";

/**
 * The state table's design. One table, one key attribute, two kinds of items:
 *
 * | item                         | `pk`                         | attributes                                     |
 * |------------------------------|------------------------------|------------------------------------------------|
 * | a sensor's state             | `sensor#<sensor id>`         | `state` (JSON of SensorState: stream time,     |
 * |                              |                              | applied offsets, open and pending windows,     |
 * |                              |                              | idle watermark), `version`, `expiresAt`; and   |
 * |                              |                              | the index keys `dueScope` + `dueAt` (closing   |
 * |                              |                              | "partition"), `idleShard` + `idleAt` (idle     |
 * |                              |                              | closing on)                                    |
 * | a partition's state          | `partition#<topic>-<n>`      | `state` (JSON of PartitionState: stream time,  |
 * |                              |                              | applied offset), `version`, `expiresAt`        |
 *
 * - `version` (N) guards every write: a put succeeds only if the version read is still there.
 * - `expiresAt` (N, epoch seconds) is the TTL attribute: refreshed on every write to now + retention,
 *   so the state of a sensor quiet for longer than the retention expires. DynamoDB deletes expired
 *   items up to about two days late, so reads treat an expired item as absent themselves.
 * - The GSI `due-windows` (partition key `dueScope` = partition id, sort key `dueAt` = close time of
 *   the sensor's oldest open window, keys only) finds the sensors a partition's stream time closes
 *   without a scan. It is sparse: only sensors with an open window under closing "partition" have
 *   the attributes.
 * - The GSI `idle-windows` (partition key `idleShard` = `idle-<0..7>` by a hash of the sensor id,
 *   sort key `idleAt` = when the idle sweep should look at the sensor, keys only) finds idle
 *   sensors without a scan; sharded so no single index partition takes every sensor. Sparse: only
 *   sensors with an open or pending window while idle closing is on.
 * - Closed windows stay in their sensor's item (`pending`) only until they are emitted.
 *
 * Item size stays bounded by the number of open windows of one sensor (about (size + grace) / size
 * + 1), never by the number of sensors, far below DynamoDB's 400 KB.
 */
export const StateTableDesign = {
  partitionKey: "pk",
  ttlAttribute: "expiresAt",
  dueIndex: { name: "due-windows", partitionKey: "dueScope", sortKey: "dueAt" },
  idleIndex: { name: "idle-windows", partitionKey: "idleShard", sortKey: "idleAt", shards: 8 },
  sensorKeyPrefix: "sensor#",
  partitionKeyPrefix: "partition#",
} as const;

/**
 * The table's billing, key, attributes and indexes, in the shape both CreateTable and
 * CloudFormation's `AWS::DynamoDB::Table` take: one definition for local tables and the template.
 */
export const stateTableKeysAndIndexes = () => {
  const { partitionKey, dueIndex, idleIndex } = StateTableDesign;
  return {
    BillingMode: "PAY_PER_REQUEST" as const,
    KeySchema: [{ AttributeName: partitionKey, KeyType: "HASH" as const }],
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: "S" as const },
      ...[dueIndex, idleIndex].flatMap((index) => [
        { AttributeName: index.partitionKey, AttributeType: "S" as const },
        { AttributeName: index.sortKey, AttributeType: "N" as const },
      ]),
    ],
    GlobalSecondaryIndexes: [dueIndex, idleIndex].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" as const },
        { AttributeName: index.sortKey, KeyType: "RANGE" as const },
      ],
      Projection: { ProjectionType: "KEYS_ONLY" as const },
    })),
  };
};

/**
 * Creates the state table (on-demand billing, the due-window GSI, TTL on `expiresAt`) when it is
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
  throw new Error(`table ${tableName} did not become ACTIVE within 60 s`);
};
