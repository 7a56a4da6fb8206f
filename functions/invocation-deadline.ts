import type { Context } from "aws-lambda";

/**
 * What an invocation keeps for itself at the end: enough to return (and, on failure, be retried)
 * before Lambda ends it at the function timeout.
 */
const FINISH_MARGIN_MS = 2_000;

/**
 * When the invocation must be done by, on the real clock (`Date.now()`): the function timeout,
 * from `context.getRemainingTimeInMillis()`, less a margin. Undefined without a context (tests
 * calling the handler directly). https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export const invocationDeadline = (context?: Pick<Context, "getRemainingTimeInMillis">) =>
  context === undefined
    ? undefined
    : Date.now() + context.getRemainingTimeInMillis() - FINISH_MARGIN_MS;
