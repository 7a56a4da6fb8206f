import { SensorWindowsError } from "../lib/errors.ts";

/**
 * Someone else wrote a state item between our read and our write (a concurrent delivery of the
 * same partition, or a DynamoDB transaction conflict). Retrying the batch re-reads and repairs.
 */
export class StateConflictError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, ...options });
  }
}

/** The state store could not be reached or refused the request (throttling, network, auth). */
export class StateStoreUnavailableError extends SensorWindowsError {}

/**
 * Stored state this code can't read: written by another format version, or damaged. Not
 * retryable: the message says which item and what to do.
 */
export class StateFormatError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}
