import { readStackEndpoints } from "../../stack/endpoints.ts";
import { startStack, stopStack } from "../../stack/stack.ts";

/**
 * Vitest global setup for integration tests: makes sure a real Kafka broker and DynamoDB Local
 * answer, starting them when they don't, and stops afterwards only what it started. When the stack
 * can't start, this throws and every integration test fails: an integration test never skips.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const endpoints = readStackEndpoints();
  const started = await startStack({
    endpoints,
    progress: (line) => process.stderr.write(`[stack] ${line}\n`),
  }).catch((error: unknown) => {
    throw new Error(
      `integration tests need Kafka at ${endpoints.kafkaBrokers.join(",")} and DynamoDB Local at ${endpoints.dynamodbEndpoint}, and the stack did not start: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  });
  return async () => {
    if (started.length > 0) await stopStack({ endpoints });
  };
}
