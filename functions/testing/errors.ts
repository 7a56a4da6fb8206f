import { SensorWindowsError } from "../../lib/errors.ts";

/**
 * A fixture event file that can't be read, isn't JSON, or isn't shaped like a Kafka trigger event
 * (or a list of plain records). Never retryable: the fix is in the file. The message names the file
 * and what is wrong in it.
 */
export class FixtureError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}
