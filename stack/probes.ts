import { createConnection } from "node:net";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { Kafka, logLevel } from "kafkajs";

/** True when something accepts TCP connections on host:port. */
export const portInUse = (host: string, port: number, timeoutMs = 500): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (used: boolean) => {
      socket.destroy();
      resolve(used);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });

/** True when a Kafka broker answers a metadata request (lists topics). */
export const kafkaAnswers = async (brokers: string[], timeoutMs = 3_000): Promise<boolean> => {
  const admin = new Kafka({
    clientId: "stack-probe",
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
};

/** True when DynamoDB (Local) answers a ListTables request. */
export const dynamodbAnswers = async (endpoint: string, timeoutMs = 3_000): Promise<boolean> => {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
};

/** Polls `probe` until it answers true or `timeoutMs` passes. */
export const waitUntil = async (
  probe: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return probe();
};
