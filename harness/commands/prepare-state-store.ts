import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Env } from "../../lib/env-settings.ts";
import type { Logger } from "../../lib/logger.ts";
import { ensureStateTable } from "../../state/dynamodb-state-table.ts";

/**
 * Locally, the DynamoDB state table is created on first use (in AWS the deployment template
 * creates it): reads STATE_STORE, STATE_TABLE and DYNAMODB_ENDPOINT as the function will.
 */
export const prepareStateStore = async (env: Env, logger: Logger): Promise<void> => {
  if ((env.STATE_STORE ?? "dynamodb") !== "dynamodb") return;
  const table = env.STATE_TABLE ?? "sensor-windows-state";
  const client = new DynamoDBClient({
    endpoint: env.DYNAMODB_ENDPOINT,
    region: env.AWS_REGION ?? "us-east-1",
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID ?? "local",
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? "local",
    },
  });
  await ensureStateTable(client, table);
  client.destroy();
  logger.info("state table ready", { table, endpoint: env.DYNAMODB_ENDPOINT });
};

/**
 * Against DynamoDB Local, the AWS SDK still wants a region and credentials: give it harmless local
 * ones unless the environment has its own. Call before a handler module is imported.
 */
export const useLocalAwsDefaults = (env: NodeJS.ProcessEnv): void => {
  if (env.DYNAMODB_ENDPOINT === undefined || !/localhost|127\.0\.0\.1/.test(env.DYNAMODB_ENDPOINT))
    return;
  env.AWS_REGION ??= "us-east-1";
  env.AWS_ACCESS_KEY_ID ??= "local";
  env.AWS_SECRET_ACCESS_KEY ??= "local";
};
