import { MAX_EVENT_BYTES } from "../../functions/kafka-trigger-event-builder.ts";
import { SensorWindowsError } from "../../lib/errors.ts";

/** The handler did not answer within the function timeout. Retryable: the batch is retried. */
export class FunctionTimeoutError extends SensorWindowsError {
  constructor(functionName: string, timeoutSeconds: number) {
    super(
      `${functionName} timed out after ${timeoutSeconds} s (the function timeout); the batch will be retried`,
      {
        retryable: true,
      },
    );
  }
}

/** A partial batch response named a record that was not in the batch: the whole batch fails. */
export class InvalidBatchItemFailureError extends SensorWindowsError {
  constructor(identifier: unknown) {
    super(
      `the handler reported a batch item failure that is not in the batch: ${JSON.stringify(identifier)}; Lambda fails the whole batch, so the harness does too`,
      { retryable: true },
    );
  }
}

/**
 * A partial batch response whose `batchItemFailures` is there but not a list. Lambda treats a
 * response it cannot read as a complete failure (the Kinesis rules, which the Kafka page follows
 * for identifiers), so the whole batch is retried: reading it as success would commit records the
 * function may not have processed.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html
 */
export class InvalidBatchResponseError extends SensorWindowsError {
  constructor(batchItemFailures: unknown) {
    super(
      `the handler returned batchItemFailures ${describeValue(batchItemFailures)}, which is not a list: return [{ itemIdentifier: { partition: "<topic>-<partition>", offset: <offset> } }, ...], or null or [] when every record succeeded; Lambda fails the whole batch, so the harness does too`,
      { retryable: true },
    );
  }
}

/** A value as it would appear in the response's JSON (`undefined` and functions have none). */
const describeValue = (value: unknown): string => JSON.stringify(value) ?? String(value);

/**
 * A record whose event alone passes Lambda's 6 MB synchronous invoke limit: AWS cannot invoke the
 * function with it, so the harness does not either. With an on-failure destination the record goes
 * there at once (condition `MaximumPayloadSizeExceeded`); without one the batch fails like any
 * other and its partition waits, as a failing batch does.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export class EventTooLargeError extends SensorWindowsError {
  constructor(record: { topic: string; partition: number; offset: number }, eventBytes: number) {
    super(
      `record ${record.topic}-${record.partition} offset ${record.offset} makes an event of ${eventBytes} bytes, over Lambda's ${MAX_EVENT_BYTES}-byte invoke limit: AWS never invokes the function with it; keep records under ~4.5 MB (base64 grows them by a third), or give the trigger an on-failure topic (--on-failure-topic) to receive it as MaximumPayloadSizeExceeded`,
      { retryable: false },
    );
  }
}

/**
 * The trigger's topic does not exist. The broker does not create topics on demand (as MSK by
 * default), so the mapping cannot start; Lambda shows such a mapping as "Topic not found".
 */
export class TopicNotFoundError extends SensorWindowsError {
  constructor(topic: string, brokers: readonly string[]) {
    super(
      `topic "${topic}" does not exist on ${brokers.join(",")}: create it (npm start and npm run produce create the project's topics), or point the trigger at another one with --topic`,
      { retryable: false },
    );
  }
}

/**
 * A sandbox went past its function's memory (its V8 heap limit, set from MemorySize) and was
 * ended. Retryable: the batch is retried in a fresh sandbox, as Lambda does after an
 * out-of-memory error.
 */
export class SandboxOutOfMemoryError extends SensorWindowsError {
  constructor(functionName: string, memorySizeMb: number, cause: unknown) {
    super(
      `${functionName} ran out of memory (MemorySize ${memorySizeMb} MB); its sandbox was ended and the invocation will be retried in a new one`,
      { retryable: true, cause },
    );
  }
}

/** A sandbox ended during an invocation (an uncaught error, `process.exit`). Retryable, in a new one. */
export class SandboxCrashedError extends SensorWindowsError {
  constructor(functionName: string, how: string, cause?: unknown) {
    super(`${functionName}'s sandbox ${how}; the invocation will be retried in a new one`, {
      retryable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/**
 * The handler answered with a partial batch response naming failed records: the batch's other
 * records are committed and these are retried (provisioned mode, ReportBatchItemFailures).
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
 */
export class BatchItemFailuresError extends SensorWindowsError {
  constructor(count: number) {
    super(`the handler reported ${count} batch item failure(s); they will be retried`, {
      retryable: true,
    });
  }
}

/** A sandbox broke the harness's message protocol: a bug in the harness, never in the function. */
export class SandboxProtocolError extends SensorWindowsError {
  constructor(what: string) {
    super(`${what}: the sandbox was replaced (a harness bug: please report it)`, {
      retryable: true,
    });
  }
}

/** A sandbox asked the harness for a shared object of a kind it cannot build. */
export class UnknownSharedInstanceError extends SensorWindowsError {
  constructor(kind: string, known: readonly string[]) {
    super(
      `the harness shares no object of kind "${kind}" with its sandboxes (it knows: ${known.join(", ")}); add its factory to harness/emulator/shared-instances-thread.ts`,
      { retryable: false },
    );
  }
}

/** Offsets (AT_TIMESTAMP's starting ones) could not be committed for the group before it started. */
export class GroupOffsetsCommitError extends SensorWindowsError {
  constructor(groupId: string, topic: string, timeoutMs: number) {
    super(
      `could not commit consumer group "${groupId}"'s offsets on topic "${topic}" within ${timeoutMs / 1000} s: another member is still in the group, or the broker is busy; stop the group's other consumers and start again, or use a fresh group`,
      { retryable: true },
    );
  }
}
