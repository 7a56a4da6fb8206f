import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { newLogStreamName } from "../../functions/lambda-context.ts";
import { lambdaHeap } from "../../functions/lambda-heap.ts";
import { CrossThreadError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import {
  FunctionTimeoutError,
  SandboxCrashedError,
  SandboxOutOfMemoryError,
  SandboxProtocolError,
} from "./errors.ts";
import type { InvocationResult, Invoker } from "./invoker.ts";
import { type EventPayload, payloadTransferables } from "./packed-event.ts";
import type {
  FromSandbox,
  InvocationReply,
  InvokeMessage,
  SandboxSettings,
} from "./sandbox-protocol.ts";
import { sharedInstancesPort } from "./shared-instances.ts";
import { compiledWorkerEntry } from "./worker-entry.ts";

/** What runs in a function's sandboxes. */
export interface SandboxedFunction {
  functionName: string;
  /** URL (or absolute path) of the handler module, TypeScript or a bundle. */
  module: string;
  /** Default `handler`. */
  exportName?: string;
  /** The declared MemorySize: each sandbox's heap limit, and what `context.memoryLimitInMB` says. */
  memorySizeMb: number;
  /** Where the sandboxes' log lines go (at the level each line has). */
  logger: Logger;
}

/**
 * Lambda's init phase is limited to 10 s; one that runs longer is retried within the function
 * timeout. Here a sandbox gets the longer of the two to import its module.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
const INIT_LIMIT_MS = 10_000;

/** Each sandbox's young generation (its short-lived objects' space): see `Sandbox`. */
const SANDBOX_YOUNG_GENERATION_MB = 8;

/** `--cpu-prof` and its settings (`--cpu-prof-dir=...`, `--cpu-prof-interval=...`) among `flags`. */
export const cpuProfilerFlags = (flags: readonly string[]): string[] =>
  flags.filter((flag) => flag === "--cpu-prof" || flag.startsWith("--cpu-prof-"));

const BOOTSTRAP = new URL("./sandbox-bootstrap.mjs", import.meta.url);
const RUNTIME = new URL("./sandbox-runtime.ts", import.meta.url).href;

/** A function given as JavaScript (a bundle from `npm run build`) needs no TypeScript loader. */
const isJavaScript = (module: string): boolean => /\.[cm]?js$/.test(module);

/** What a sandbox did next: finished its init phase, answered an invocation, or failed. */
type Outcome =
  | { kind: "ready" }
  | { kind: "reply"; reply: InvocationReply }
  | { kind: "failed"; failure: unknown };
type Settle = (outcome: Outcome) => void;

/**
 * One execution environment: a worker thread that imported the function's module and runs one
 * invocation at a time. A timeout ends it (the next invocation gets a new one, a cold start), as
 * does running out of memory or crashing.
 */
class Sandbox {
  readonly #fn: SandboxedFunction;
  readonly #worker: Worker;
  #invocations = 0;
  #ended = false;
  #settle: Settle | undefined;

  private constructor(fn: SandboxedFunction) {
    this.#fn = fn;
    const instancesPort = sharedInstancesPort();
    const settings: SandboxSettings = {
      functionName: fn.functionName,
      module: toModuleUrl(fn.module),
      exportName: fn.exportName ?? "handler",
      memorySizeMb: fn.memorySizeMb,
      logStreamName: newLogStreamName(),
      runtime: RUNTIME,
      instancesPort,
    };
    const javaScript = isJavaScript(settings.module);
    // A bundled function runs as in Lambda, without tsx: the runtime is compiled for it too.
    this.#worker = new Worker(javaScript ? compiledWorkerEntry(new URL(RUNTIME)) : BOOTSTRAP, {
      workerData: settings,
      transferList: [instancesPort],
      // The function's memory, enforced on the V8 heap as Lambda's Node.js runtime sizes it: the
      // old generation gets nine tenths of the MemorySize (`functions/lambda-heap.ts`).
      resourceLimits: {
        maxOldGenerationSizeMb: lambdaHeap(fn.memorySizeMb).oldSpaceMb,
        // V8 sizes a heap of 1 GB a young generation of tens of MB, kept resident in every
        // sandbox; 8 MB cost nothing measurable in `npm run bench` and saved ~70 MB at batch
        // 10 000. https://nodejs.org/docs/latest-v20.x/api/worker_threads.html#worker-resourcelimits
        maxYoungGenerationSizeMb: SANDBOX_YOUNG_GENERATION_MB,
      },
      // The bootstrap installs tsx itself (for TypeScript), so the harness's own flags are not for
      // the sandbox, except a CPU profiler's: a harness run with `--cpu-prof` profiles its
      // sandboxes too, each into a file of its own, where the function's time is spent.
      execArgv: cpuProfilerFlags(process.execArgv),
    });
    // An idle sandbox does not keep the harness alive; an invocation's timer does.
    this.#worker.unref();
    this.#worker.on("message", (message: FromSandbox) => this.#onMessage(message));
    this.#worker.on("error", (error) => this.#onEnd(this.#failureFrom(error)));
    this.#worker.on("exit", (code) =>
      this.#onEnd(new SandboxCrashedError(fn.functionName, `exited (code ${code})`)),
    );
  }

  /** A new sandbox, once its init phase is over; rejects with the init error (the sandbox is ended). */
  static async start(fn: SandboxedFunction, timeoutSeconds: number): Promise<Sandbox> {
    const sandbox = new Sandbox(fn);
    const limitMs = Math.max(INIT_LIMIT_MS, timeoutSeconds * 1000);
    const initTooLong = () =>
      new SandboxCrashedError(
        fn.functionName,
        `did not finish its init phase in ${limitMs / 1000} s`,
      );
    const outcome = await sandbox.#waitFor(limitMs, initTooLong);
    if (outcome.kind === "ready") return sandbox;
    await sandbox.end();
    throw outcome.kind === "failed"
      ? outcome.failure
      : new SandboxProtocolError("a sandbox answered before its init");
  }

  get usable(): boolean {
    return !this.#ended;
  }

  /** One invocation; past the timeout, the sandbox is ended and the invocation failed. */
  async invoke(payload: EventPayload, timeoutSeconds: number): Promise<InvocationResult> {
    const coldStart = this.#invocations++ === 0;
    const deadline = Date.now() + timeoutSeconds * 1000;
    const timedOut = () => new FunctionTimeoutError(this.#fn.functionName, timeoutSeconds);
    const pending = this.#waitFor(timeoutSeconds * 1000, timedOut);
    const message: InvokeMessage = {
      type: "invoke",
      id: this.#invocations,
      payload,
      awsRequestId: randomUUID(),
      deadline,
    };
    this.#worker.postMessage(message, payloadTransferables(payload));
    const outcome = await pending;
    if (outcome.kind !== "reply") {
      await this.end();
      const error =
        outcome.kind === "failed"
          ? outcome.failure
          : new SandboxProtocolError("a sandbox was ready twice");
      // What the function counted went with its sandbox, as its response did.
      return { ok: false, error, coldStart, metrics: {} };
    }
    const { reply } = outcome;
    const { metrics } = reply;
    return reply.ok
      ? { ok: true, response: reply.response, coldStart, metrics }
      : { ok: false, error: new CrossThreadError(reply.error), coldStart, metrics };
  }

  /** Ends the worker: whatever it was doing stops at once (it cannot produce, log or write after). */
  async end(): Promise<void> {
    this.#ended = true;
    await this.#worker.terminate();
  }

  /** The next reply (ready, init failure or result), a crash, or `limitMs` passing, whichever comes first. */
  #waitFor(limitMs: number, onLimit: () => Error): Promise<Outcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ kind: "failed", failure: onLimit() }), limitMs);
      const settle: Settle = (outcome) => {
        clearTimeout(timer);
        this.#settle = undefined;
        resolve(outcome);
      };
      this.#settle = settle;
    });
  }

  #onMessage(message: FromSandbox): void {
    switch (message.type) {
      case "log":
        this.#fn.logger.write(message.line, message.level);
        return;
      case "ready":
        this.#settle?.({ kind: "ready" });
        return;
      case "init-failed":
        this.#settle?.({ kind: "failed", failure: new CrossThreadError(message.error) });
        return;
      case "result":
        this.#settle?.({ kind: "reply", reply: message });
        return;
    }
  }

  #onEnd(failure: unknown): void {
    if (this.#ended && this.#settle === undefined) return;
    this.#ended = true;
    this.#settle?.({ kind: "failed", failure });
  }

  #failureFrom(error: Error): unknown {
    const { functionName, memorySizeMb } = this.#fn;
    return (error as { code?: string }).code === "ERR_WORKER_OUT_OF_MEMORY"
      ? new SandboxOutOfMemoryError(functionName, memorySizeMb, error)
      : new SandboxCrashedError(functionName, "crashed on an uncaught error", error);
  }
}

/**
 * A function's sandboxes, reused warm as Lambda reuses execution environments: an invocation takes
 * an idle one, or starts a new one (a cold start) when all are busy, so there are as many as the
 * most invocations in flight at once. Idle sandboxes are kept until the harness stops.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export class SandboxPool implements Invoker {
  readonly #fn: SandboxedFunction;
  readonly #idle: Sandbox[] = [];
  readonly #all = new Set<Sandbox>();

  constructor(fn: SandboxedFunction) {
    this.#fn = fn;
  }

  async invoke(payload: EventPayload, timeoutSeconds: number): Promise<InvocationResult> {
    let sandbox = this.#takeIdle();
    if (sandbox === undefined) {
      try {
        sandbox = await Sandbox.start(this.#fn, timeoutSeconds);
      } catch (error) {
        return { ok: false, error, coldStart: true, metrics: {} };
      }
      this.#all.add(sandbox);
    }
    const result = await sandbox.invoke(payload, timeoutSeconds);
    if (sandbox.usable) this.#idle.push(sandbox);
    else this.#all.delete(sandbox);
    return result;
  }

  async close(): Promise<void> {
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((s) => s.end()));
  }

  /** The most recently used idle sandbox still alive (an idle one may have crashed meanwhile). */
  #takeIdle(): Sandbox | undefined {
    for (let sandbox = this.#idle.pop(); sandbox !== undefined; sandbox = this.#idle.pop()) {
      if (sandbox.usable) return sandbox;
      this.#all.delete(sandbox);
    }
    return undefined;
  }
}

/** Worker threads import by URL; accept a path too. */
const toModuleUrl = (module: string): string =>
  module.startsWith("file:") ? module : pathToFileURL(resolve(module)).href;
