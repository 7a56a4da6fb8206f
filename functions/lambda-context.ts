import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { ConfigError } from "../lib/errors.ts";
import { localFunctionArn } from "./local-aws.ts";

/** Lambda's default MemorySize, for a function that declares none. */
export const DEFAULT_MEMORY_SIZE_MB = 128;

export interface ContextSettings {
  functionName: string;
  /** The function's declared MemorySize, which its sandbox is held to. */
  memorySizeMb: number;
  /** When the function timeout ends the invocation (ms since the epoch). */
  deadline: number;
  /** One per execution environment, as in CloudWatch Logs. */
  logStreamName: string;
  awsRequestId?: string;
}

/** A log stream name as Lambda makes them: one per execution environment. */
export const newLogStreamName = (): string =>
  `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${randomUUID().replaceAll("-", "")}`;

/**
 * A Lambda `Context` for one local invocation: a fresh request id, the function's names, ARN and
 * memory, and `getRemainingTimeInMillis()` counting down to the timeout.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export const lambdaContext = (settings: ContextSettings): Context => {
  const { functionName, deadline } = settings;
  const unsupported = () => {
    throw new ConfigError(
      "callback-style context methods (done, fail, succeed) are not supported: return a promise from the handler",
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: String(settings.memorySizeMb),
    awsRequestId: settings.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: settings.logStreamName,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
};

/**
 * A `Context` for one invocation of `functionName` in a test: as the harness builds it, with the
 * timeout counting down from now and the declared memory (default Lambda's 128 MB).
 */
export const testLambdaContext = (
  functionName: string,
  timeoutSeconds: number,
  memorySizeMb = DEFAULT_MEMORY_SIZE_MB,
): Context =>
  lambdaContext({
    functionName,
    memorySizeMb,
    deadline: Date.now() + timeoutSeconds * 1000,
    logStreamName: newLogStreamName(),
  });
