import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SecretReadError } from "./errors.ts";

/**
 * Secrets Manager through its SDK client: the endpoint for the region comes from the SDK's
 * endpoint rules (China, GovCloud, FIPS with AWS_USE_FIPS_ENDPOINT), retries are the SDK's
 * standard ones, and every call is bounded in time. About 7 KiB zipped on top of the DynamoDB
 * client, whose core it shares.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
export interface SecretsOptions {
  region: string;
  /** Tests point this at a local server; in AWS the SDK resolves it. */
  endpoint?: string;
  /** Attempts in all, first included. Default 3 (the SDK's standard retry mode). */
  maxAttempts?: number;
  /** Per attempt: connecting, then the whole response. Defaults 3 s and 5 s. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

const clients = new Map<string, SecretsManagerClient>();

const clientFor = (o: SecretsOptions): SecretsManagerClient => {
  const key = JSON.stringify(o);
  let client = clients.get(key);
  if (client === undefined) {
    client = new SecretsManagerClient({
      region: o.region,
      ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      maxAttempts: o.maxAttempts ?? 3,
      requestHandler: {
        connectionTimeout: o.connectionTimeoutMs ?? 3_000,
        requestTimeout: o.requestTimeoutMs ?? 5_000,
        // Without it the handler only logs a warning when the request timeout passes.
        throwOnRequestTimeout: true,
      },
    });
    clients.set(key, client);
  }
  return client;
};

/** Names of AWS errors a later attempt may get past. */
const RETRYABLE = new Set([
  "ThrottlingException",
  "InternalServiceError",
  "InternalFailure",
  "ServiceUnavailable",
  "RequestTimeout",
  "TimeoutError",
]);

/**
 * A secret's `SecretString`, parsed as JSON. The value is never logged; a failure keeps the AWS
 * error's name and says whether retrying can help.
 */
export const secretJson = async (
  secretId: string,
  options: SecretsOptions,
): Promise<Record<string, unknown>> => {
  let text: string | undefined;
  try {
    const out = await clientFor(options).send(new GetSecretValueCommand({ SecretId: secretId }));
    text = out.SecretString;
  } catch (error) {
    const e = error as {
      name?: string;
      message?: string;
      $retryable?: unknown;
      $metadata?: { httpStatusCode?: number };
    };
    const status = e.$metadata?.httpStatusCode;
    const retryable =
      e.$retryable !== undefined ||
      (status !== undefined && status >= 500) ||
      RETRYABLE.has(e.name ?? "");
    throw new SecretReadError(secretId, `${e.name ?? "Error"}: ${e.message ?? String(error)}`, {
      retryable,
      ...(e.name === undefined ? {} : { awsErrorName: e.name }),
      cause: error,
    });
  }
  if (text === undefined) {
    throw new SecretReadError(secretId, "it has no SecretString (a binary secret?)", {
      retryable: false,
    });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw new SecretReadError(secretId, "its SecretString is not a JSON object", {
      retryable: false,
    });
  }
};
