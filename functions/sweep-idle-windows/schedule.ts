/**
 * When and with what `sweep-idle-windows` runs: in AWS an EventBridge schedule (the deployment
 * template reads this), locally the harness invokes it on the same period, in a sandbox held to
 * the same timeout and memory.
 */
export const sweepSchedule = {
  /** Seconds between sweeps. One minute is EventBridge's finest rate. */
  periodSeconds: 60,
  expression: "rate(1 minute)",
  /** Function timeout, s. */
  timeoutSeconds: 60,
  /** MemorySize, MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
  memorySizeMb: 1024,
} as const;
