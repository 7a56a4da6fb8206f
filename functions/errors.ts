import { SensorWindowsError } from "../lib/errors.ts";

/**
 * Producing a function's output failed. Retryable: the invocation fails, the trigger retries the
 * batch, and the output is deterministic (same window ids), so a later success repairs it. The
 * message names the topics and, for the usual local cause, the fix.
 */
export class OutputProduceError extends SensorWindowsError {
  constructor(topics: readonly string[], cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = /does not host this topic-partition|UNKNOWN_TOPIC/i.test(reason)
      ? ": does the topic exist? The functions never create topics (npm start creates the project's; set OUTPUT_TOPIC, LATE_TOPIC, DEAD_LETTER_TOPIC to others)"
      : "; the batch will be retried";
    super(`producing to ${topics.join(", ")} failed: ${reason}${hint}`, {
      retryable: true,
      cause,
    });
  }
}
