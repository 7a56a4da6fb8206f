import { ConfigError } from "../lib/errors.ts";

/** Where the local stack (or any stack) answers. Read once at the edge from the environment. */
export interface StackEndpoints {
  /** `KAFKA_BROKERS`, comma-separated host:port list. Default `localhost:19092` (Redpanda's host port). */
  kafkaBrokers: string[];
  /** `DYNAMODB_ENDPOINT`. Default `http://localhost:8000` (DynamoDB Local). */
  dynamodbEndpoint: string;
}

export const defaultStackEndpoints = {
  kafkaBrokers: "localhost:19092",
  dynamodbEndpoint: "http://localhost:8000",
} as const;

/** Reads and validates `KAFKA_BROKERS` and `DYNAMODB_ENDPOINT`. */
export const readStackEndpoints = (env: NodeJS.ProcessEnv = process.env): StackEndpoints => {
  const brokersRaw = env.KAFKA_BROKERS?.trim() || defaultStackEndpoints.kafkaBrokers;
  const kafkaBrokers = brokersRaw.split(",").map((b) => b.trim());
  for (const broker of kafkaBrokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError(
        `KAFKA_BROKERS must be a comma-separated list of host:port, got "${brokersRaw}" (e.g. localhost:19092)`,
      );
    }
  }
  const dynamodbEndpoint = env.DYNAMODB_ENDPOINT?.trim() || defaultStackEndpoints.dynamodbEndpoint;
  try {
    new URL(dynamodbEndpoint);
  } catch (cause) {
    throw new ConfigError(
      `DYNAMODB_ENDPOINT must be a URL, got "${dynamodbEndpoint}" (e.g. http://localhost:8000)`,
      { cause },
    );
  }
  return { kafkaBrokers, dynamodbEndpoint };
};
