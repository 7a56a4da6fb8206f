import { SensorWindowsError } from "../lib/errors.ts";

/** The local stack could not be started or reached; the message names the missing piece. */
export class StackError extends SensorWindowsError {
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { retryable: options.retryable ?? false, cause: options.cause });
  }
}
