/**
 * The AWS prices the benchmark turns measurements into, in one place, dated, with their sources.
 * us-east-1, on-demand, as published on the day below; update the date with the figures.
 */
export const AwsPrices = {
  asOf: "2026-11-25",
  region: "us-east-1",
  dynamodb: {
    /** https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand, Standard table class) */
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    usdPerMillionWriteUnits: 0.625,
    usdPerMillionReadUnits: 0.125,
  },
  lambda: {
    /** https://aws.amazon.com/lambda/pricing/ (x86, first pricing tier) */
    source: "https://aws.amazon.com/lambda/pricing/",
    usdPerGbSecond: 0.0000166667,
    usdPerMillionRequests: 0.2,
  },
} as const;

/** On-demand DynamoDB cost of `writeUnits` and `readUnits`, in US dollars. */
export const dynamodbUsd = (writeUnits: number, readUnits: number): number =>
  (writeUnits * AwsPrices.dynamodb.usdPerMillionWriteUnits +
    readUnits * AwsPrices.dynamodb.usdPerMillionReadUnits) /
  1e6;

/** Lambda cost of `invocations` lasting `ms` in total at `memoryMb`, in US dollars. */
export const lambdaUsd = (invocations: number, ms: number, memoryMb: number): number =>
  (ms / 1000) * (memoryMb / 1024) * AwsPrices.lambda.usdPerGbSecond +
  (invocations * AwsPrices.lambda.usdPerMillionRequests) / 1e6;
