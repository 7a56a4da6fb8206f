import type { MessagePort } from "node:worker_threads";
import type { SerializedError } from "../../lib/errors.ts";
import type { Counters } from "../../lib/function-metrics.ts";
import type { LogLevelName } from "../../lib/logger.ts";
import type { EventPayload } from "./packed-event.ts";

/**
 * What the harness and a sandbox (a worker thread running one function) tell each other. All of
 * it is structured-clonable: the event (packed, or its JSON) in; the response, errors, log lines and metrics out.
 */

/** A sandbox's `workerData`. */
export interface SandboxSettings {
  functionName: string;
  /** URL of the handler module, imported once per sandbox: its init phase. */
  module: string;
  /** The handler's export name (`index.handler` in Lambda's terms: `handler`). */
  exportName: string;
  memorySizeMb: number;
  logStreamName: string;
  /** URL of the sandbox runtime (`sandbox-runtime.ts`), which the bootstrap imports. */
  runtime: string;
  /** Where the sandbox reaches the harness's shared instances (`lib/shared-instance.ts`). */
  instancesPort: MessagePort;
}

export interface InvokeMessage {
  type: "invoke";
  id: number;
  /**
   * The event: a Kafka trigger's packed (its buffers transferred, not copied), or another's JSON;
   * the sandbox makes the event object from it, as Lambda's runtime parses its JSON payload.
   */
  payload: EventPayload;
  awsRequestId: string;
  /** When the function timeout ends the invocation (ms since the epoch). */
  deadline: number;
}

export type FromSandbox =
  | { type: "ready" }
  | { type: "init-failed"; error: SerializedError }
  | { type: "log"; line: string; level: Exclude<LogLevelName, "silent"> }
  | InvocationReply;

export type InvocationReply = {
  type: "result";
  id: number;
  /** Counters the function added (under its name) during the invocation: `drainMetrics`. */
  metrics: Counters;
} & ({ ok: true; response: unknown } | { ok: false; error: SerializedError });
