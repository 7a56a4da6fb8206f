import type { Context } from "aws-lambda";

/**
 * What an invocation keeps for itself at the end: enough to return (and, on failure, be retried)
 * before Lambda ends it at the function timeout.
 */
const FINISH_MARGIN_MS = 2_000;

/**
 * When the invocation must be done by, on the real clock (`Date.now()`): the function timeout,
 * from `context.getRemainingTimeInMillis()`, less a margin. Undefined without a context that can
 * say (a caller passing none, or a partial one).
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export const invocationDeadline = (
  context?: Partial<Pick<Context, "getRemainingTimeInMillis">>,
): number | undefined =>
  typeof context?.getRemainingTimeInMillis === "function"
    ? Date.now() + context.getRemainingTimeInMillis() - FINISH_MARGIN_MS
    : undefined;
