import { ConfigError, SensorWindowsError } from "../lib/errors.ts";

/**
 * Producing a function's output failed. Retryable: the invocation fails, the trigger retries the
 * batch, and the output is deterministic (same window ids), so a later success repairs it. The
 * message names the topics and, for the usual local cause, the fix.
 */
export class OutputProduceError extends SensorWindowsError {
  /**
   * Records acknowledged before the failing request, in the order they were given to the sink:
   * those went out, and the caller may remember so rather than produce them again.
   */
  readonly sentRecords: number;

  constructor(topics: readonly string[], cause: unknown, sentRecords = 0) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const hint = /does not host this topic-partition|UNKNOWN_TOPIC/i.test(reason)
      ? ": does the topic exist? The functions never create topics (npm start creates the project's; set OUTPUT_TOPIC, LATE_TOPIC, DEAD_LETTER_TOPIC to others)"
      : "; the batch will be retried";
    super(`producing to ${topics.join(", ")} failed: ${reason}${hint}`, {
      retryable: true,
      cause,
    });
    this.sentRecords = sentRecords;
  }
}

/**
 * The idle sweep could not finish some partitions (their outputs refused, their state unreadable);
 * the others were swept. Retryable: the next scheduled run tries them again, and the scheduled
 * invocation shows as failed meanwhile. Each partition's error is logged, the first is the cause.
 */
export class SweepPartitionsError extends SensorWindowsError {
  readonly partitionIds: readonly string[];

  constructor(failed: readonly { partitionId: string; error: unknown }[]) {
    const ids = failed.map((f) => f.partitionId);
    const first = failed[0]?.error;
    const reason = first instanceof Error ? first.message : String(first);
    super(
      `the idle sweep failed for ${ids.length} partition(s) (${ids.join(", ")}), first because: ${reason}; the others were swept, and the next scheduled run retries these`,
      { retryable: true, cause: first },
    );
    this.partitionIds = ids;
  }
}

/**
 * Reading a Secrets Manager secret failed, or it does not hold what the function needs. The AWS
 * error's name (ResourceNotFoundException, AccessDeniedException, DecryptionFailure, ...) is kept
 * in the message and in `awsErrorName`; retryable when AWS says so (throttling, a 5xx, a timeout):
 * the cold start fails and the next invocation tries again.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html#API_GetSecretValue_Errors
 */
export class SecretReadError extends SensorWindowsError {
  readonly awsErrorName: string | undefined;

  constructor(
    secretId: string,
    reason: string,
    options: { retryable: boolean; awsErrorName?: string; cause?: unknown },
  ) {
    super(`reading secret ${secretId} failed: ${reason}`, {
      retryable: options.retryable,
      cause: options.cause,
    });
    this.awsErrorName = options.awsErrorName;
  }
}

/**
 * A function was asked for by a name no folder under functions/ declares: a usage error, never
 * retryable. The message lists the known names.
 */
export class UnknownFunctionError extends ConfigError {
  constructor(name: string, kind: string, known: readonly string[]) {
    super(
      `no ${kind} function "${name}": known ${known.length === 0 ? "(none)" : known.join(", ")} (each is a folder functions/<name>/ with function.ts and handler.ts; npm run new-function -- NAME makes one)`,
    );
  }
}

/**
 * A function folder that the registry can't use: function.ts without a `declaration`, a
 * declaration named unlike its folder, a missing handler.ts or one without `handler`. Never
 * retryable: the message names the file and the fix.
 */
export class FunctionFolderError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}
