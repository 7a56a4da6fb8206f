import { SensorWindowsError } from "../lib/errors.ts";

/** A scenario needs Kafka and DynamoDB Local, and they are neither up nor startable. */
export class StackNotUpError extends SensorWindowsError {
  constructor(cause: unknown) {
    super(
      `the local stack (Kafka, DynamoDB Local) is not up and could not be started (${cause instanceof Error ? cause.message : String(cause)}): start it with \`npm run stack:up\`, then run the bench again`,
      { retryable: true, cause },
    );
  }
}

/** A bench child process failed or printed no result. */
export class BenchChildError extends SensorWindowsError {
  constructor(message: string, cause?: unknown) {
    super(message, { retryable: false, cause });
  }
}
