/**
 * The base of every error this project throws on purpose. Each area (state, harness, functions,
 * stack) declares its own subclasses in its own `errors.ts`; all of them say whether retrying the
 * same work can help, so callers (the harness, Lambda's retry) can decide without string matching.
 */
export class SensorWindowsError extends Error {
  /** True when the same call may succeed later (throttling, a conflict, a broker that was away). */
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable;
  }
}

/** A setting is missing or out of range. Never retryable: the fix is in the configuration. */
export class ConfigError extends SensorWindowsError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, ...options });
  }
}
