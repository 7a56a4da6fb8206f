/**
 * The AWS identity local runs stand in for, in one place: every ARN the harness and the testing
 * kit make up (the function's, in each invocation's `Context` and in on-failure records; the MSK
 * cluster's, in each event) is built from these, so they agree with each other. The region and account are those of Lambda's
 * documentation examples: deterministic, so tests and fixtures can compare them.
 */
export const LocalAws = { region: "us-east-1", accountId: "123456789012" } as const;

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]` */
export const localFunctionArn = (functionName: string, qualifier?: string) =>
  `arn:aws:lambda:${LocalAws.region}:${LocalAws.accountId}:function:${functionName}${qualifier === undefined ? "" : `:${qualifier}`}`;

/** A stand-in for an MSK cluster ARN. */
export const localClusterArn = (clusterName = "local") =>
  `arn:aws:kafka:${LocalAws.region}:${LocalAws.accountId}:cluster/${clusterName}/00000000-0000-0000-0000-000000000000-1`;
