import { SensorWindowsError } from "../lib/errors.ts";

/**
 * The windows topic does not exist. Not retryable: the dashboard reads, it never creates topics,
 * so the fix is to name the right topic (or let the pipeline create it).
 */
export class DashboardTopicNotFoundError extends SensorWindowsError {
  constructor(topic: string, brokers: readonly string[]) {
    super(
      `topic "${topic}" does not exist on ${brokers.join(",")}: name the windows topic with --topic (npm start creates the project's topics)`,
      { retryable: false },
    );
  }
}

/**
 * The port is taken. Retryable in the sense that the same port may be free later, but the usual fix
 * is another port: the message says how.
 */
export class DashboardPortInUseError extends SensorWindowsError {
  constructor(host: string, port: number, cause: unknown) {
    super(
      `port ${port} on ${host} is in use: choose another with --port N (0 = any free port), or --no-dashboard under npm start`,
      { retryable: true, cause },
    );
  }
}

/** The page's bundle did not build: the page source or its dependencies are broken or missing. */
export class DashboardBundleError extends SensorWindowsError {
  constructor(detail: string, cause: unknown) {
    super(`the dashboard page did not build: ${detail} (did npm install run?)`, {
      retryable: false,
      cause,
    });
  }
}
