/**
 * When `sweep-idle-windows` runs: in AWS an EventBridge schedule (the deployment template reads
 * this), locally the harness invokes it on the same period.
 */
export const sweepSchedule = {
  /** Seconds between sweeps. One minute is EventBridge's finest rate. */
  periodSeconds: 60,
  expression: "rate(1 minute)",
} as const;
