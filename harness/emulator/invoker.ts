import { lambdaContext, newLogStreamName } from "../../functions/lambda-context.ts";
import { type Counters, drainMetrics } from "../../lib/function-metrics.ts";
import { FunctionTimeoutError } from "./errors.ts";
import { type EventPayload, eventFrom } from "./packed-event.ts";

/** What a function invocation came to, as the harness sees it. */
export type InvocationResult = ({ ok: true; response: unknown } | { ok: false; error: unknown }) & {
  coldStart: boolean;
  /**
   * The counters the function added under its name during the invocation (`addMetrics`); empty
   * when it added none, or when its sandbox ended before answering.
   */
  metrics: Counters;
};

/** Runs a function's invocations: each in a sandbox (`SandboxPool`), or in this process. */
export interface Invoker {
  /**
   * One invocation, its event made from `payload` in the thread that runs the function (as
   * Lambda's runtime parses the JSON payload it is invoked with), ended as failed at the function
   * timeout.
   */
  invoke(payload: EventPayload, timeoutSeconds: number): Promise<InvocationResult>;
  /** Ends every idle sandbox; call once no invocation is in flight. */
  close(): Promise<void>;
}

/** Any Lambda-style handler, called in this process. */
export type InProcessHandler = (
  event: never,
  context: ReturnType<typeof lambdaContext>,
) => Promise<unknown>;

/**
 * Invocations of a handler function in the harness's own thread: for tests and benchmarks whose
 * handler is a closure. Nothing is isolated: module state is shared by all invocations, and a
 * timed-out invocation is reported failed but keeps running (a sandbox would end it). Counters
 * are drained from the thread after each invocation as a sandbox drains its own, so with several
 * invocations in flight one result may carry counters another added: their sum is right.
 */
export const inProcessInvoker = (
  functionName: string,
  handler: InProcessHandler,
  memorySizeMb: number,
): Invoker => {
  const logStreamName = newLogStreamName();
  let coldStart = true;
  return {
    async invoke(payload, timeoutSeconds) {
      const wasCold = coldStart;
      coldStart = false;
      const deadline = Date.now() + timeoutSeconds * 1000;
      const context = lambdaContext({ functionName, memorySizeMb, deadline, logStreamName });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new FunctionTimeoutError(functionName, timeoutSeconds)),
          timeoutSeconds * 1000,
        );
      });
      try {
        const event = eventFrom(payload) as never;
        const response = await Promise.race([handler(event, context), timeout]);
        return { ok: true, response, coldStart: wasCold, metrics: drainMetrics(functionName) };
      } catch (error) {
        return { ok: false, error, coldStart: wasCold, metrics: drainMetrics(functionName) };
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {},
  };
};
