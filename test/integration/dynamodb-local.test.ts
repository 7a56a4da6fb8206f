import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { readStackEndpoints } from "../../stack/endpoints.ts";

const client = new DynamoDBClient({
  endpoint: readStackEndpoints().dynamodbEndpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
});

describe("DynamoDB Local", () => {
  it("creates a table, writes and reads an item, and enforces a condition expression", async () => {
    const TableName = `local-test-${Date.now().toString(36)}`;
    await client.send(
      new CreateTableCommand({
        TableName,
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      }),
    );
    const put = (version: string) =>
      client.send(
        new PutItemCommand({
          TableName,
          Item: { pk: { S: "sensor#1" }, version: { N: version } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    await put("1");
    const { Item } = await client.send(
      new GetItemCommand({ TableName, Key: { pk: { S: "sensor#1" } }, ConsistentRead: true }),
    );
    expect(Item?.version?.N).toBe("1");
    await expect(put("2")).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});
