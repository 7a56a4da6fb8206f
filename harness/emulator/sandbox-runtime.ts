import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { lambdaContext } from "../../functions/lambda-context.ts";
import { serializeError } from "../../lib/errors.ts";
import { drainMetrics } from "../../lib/function-metrics.ts";
import { setDefaultLogDestination } from "../../lib/logger.ts";
import { useHarnessInstances } from "../../lib/shared-instance.ts";
import { eventFrom } from "./packed-event.ts";
import type {
  FromSandbox,
  InvocationReply,
  InvokeMessage,
  SandboxSettings,
} from "./sandbox-protocol.ts";

/*
 * Inside a sandbox (a worker thread): the function's execution environment. Its init phase imports
 * the handler module once; each invocation message then runs the handler with a Lambda context and
 * answers with the response or the error, and the metrics the invocation added. Log lines go to the
 * harness, which writes them where its own go; shared instances (the in-memory state store) come
 * from the harness's main thread.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const settings = workerData as SandboxSettings;
const harness = parentPort as MessagePort;
const tell = (message: FromSandbox) => harness.postMessage(message);

/** The init phase: the module's top level runs once, as at a Lambda cold start. */
const init = async (): Promise<Handler | undefined> => {
  setDefaultLogDestination((line, level) => tell({ type: "log", line, level }));
  useHarnessInstances(settings.instancesPort);
  try {
    const handler = (await import(settings.module))[settings.exportName];
    if (typeof handler !== "function")
      throw new TypeError(`${settings.module} exports no function "${settings.exportName}"`);
    tell({ type: "ready" });
    return handler as Handler;
  } catch (error) {
    tell({ type: "init-failed", error: serializeError(error) });
    return undefined;
  }
};

const invoke = async (handler: Handler, message: InvokeMessage): Promise<InvocationReply> => {
  const context = lambdaContext({
    functionName: settings.functionName,
    memorySizeMb: settings.memorySizeMb,
    deadline: message.deadline,
    logStreamName: settings.logStreamName,
    awsRequestId: message.awsRequestId,
  });
  try {
    const response = await handler(eventFrom(message.payload), context);
    return {
      type: "result",
      id: message.id,
      ok: true,
      response: asJson(response),
      metrics: drainMetrics(settings.functionName),
    };
  } catch (error) {
    return {
      type: "result",
      id: message.id,
      ok: false,
      error: serializeError(error),
      metrics: drainMetrics(settings.functionName),
    };
  }
};

/** Lambda serializes a function's response as JSON: so does the sandbox (undefined becomes null). */
const asJson = (response: unknown): unknown =>
  response === undefined ? null : JSON.parse(JSON.stringify(response));

const handler = await init();
if (handler !== undefined) {
  harness.on("message", async (message: InvokeMessage) => tell(await invoke(handler, message)));
}
