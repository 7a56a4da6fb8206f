import { randomUUID } from "node:crypto";
import type { Context } from "aws-lambda";
import { localFunctionArn } from "./local-aws.ts";

/**
 * A Lambda `Context` for one local invocation: a fresh request id, the function's names and ARN,
 * and `getRemainingTimeInMillis()` counting down from the function timeout.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export const lambdaContext = (
  functionName: string,
  timeoutSeconds: number,
  memoryLimitInMB = 512,
): Context => {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const unsupported = () => {
    throw new Error("callback-style context methods are not supported: return a promise");
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: String(memoryLimitInMB),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/[$LATEST]${randomUUID().replaceAll("-", "")}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
};
