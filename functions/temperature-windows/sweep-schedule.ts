import type { ScheduleDeclaration } from "../function-declaration.ts";

/**
 * How `sweep-idle-windows` runs, declared once: in AWS an EventBridge schedule and the function's
 * settings (the deployment template reads this), locally the harness invokes it on the same
 * period, in a sandbox held to the same timeout and memory. Here rather than in the function's
 * folder because the idle timeout both functions read says in its description how often it runs.
 */
export const sweepSchedule = {
  /** Seconds between sweeps. One minute is EventBridge's finest rate. */
  periodSeconds: 60,
  expression: "rate(1 minute)",
  /** A sweep that has not finished by the next one is cut off: sweeps never pile up. */
  timeoutSeconds: 60,
  /** As the aggregate function's: the sweep reads and writes the same items. */
  memorySizeMb: 1024,
  /**
   * One sweep at a time: two would close and emit the same sensors' windows side by side (the
   * conditional writes keep that correct, but every write of the second would be a conflict).
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
   */
  reservedConcurrentExecutions: 1,
  /**
   * EventBridge invokes asynchronously: a sweep throttled by the reservation above, or failed,
   * is dropped rather than queued, since the next one a minute later does the same work.
   * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configure.html
   */
  maximumEventAgeInSeconds: 60,
  maximumRetryAttempts: 0,
} as const satisfies ScheduleDeclaration;
