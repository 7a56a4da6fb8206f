import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { compiledWorkerEntry } from "./worker-entry.ts";

const THREAD = new URL("./shared-instances-thread.ts", import.meta.url);

/** The process's shared-instances thread, started with the first sandbox. */
let thread: Worker | undefined;

/**
 * A new port to the shared-instances thread, for one sandbox (`lib/shared-instance.ts` uses it
 * there). The thread starts on first use and never keeps the harness alive; its objects live as
 * long as the harness process, as an in-memory store's state should.
 */
export const sharedInstancesPort = (): MessagePort => {
  thread ??= startThread();
  const channel = new MessageChannel();
  thread.postMessage({ port: channel.port1 }, [channel.port1]);
  return channel.port2;
};

const startThread = (): Worker => {
  const worker = new Worker(compiledWorkerEntry(THREAD), { execArgv: [] });
  worker.unref();
  worker.on("error", (error) => {
    // Its objects are gone: sandboxes' calls would wait forever; fail loudly instead.
    process.emitWarning(`the harness's shared-instances thread crashed: ${error.message}`);
    thread = undefined;
  });
  return worker;
};
