import type { MessagePort } from "node:worker_threads";
import { type ErrorClass, reviveError, type SerializedError, serializeError } from "./errors.ts";

/**
 * Objects used from another thread through a `MessagePort`: each method call is posted with its
 * arguments and answered with the result or the error. Generic on purpose: it knows no method
 * names, so any object whose methods are async (or return plain values) can be shared, as long as
 * arguments and results are structured-clonable (plain data, Maps, Sets, Dates; no functions).
 * https://nodejs.org/docs/latest-v20.x/api/worker_threads.html#portpostmessagevalue-transferlist
 */

/** Which object a call is for, and how the serving side builds it the first time it is asked. */
export interface ObjectRecipe {
  /** One object per key on the serving side. */
  key: string;
  /** The factory the serving side knows by this name, called with `args` (structured-clonable). */
  kind: string;
  args: unknown[];
}

interface CallMessage {
  id: number;
  recipe: ObjectRecipe;
  method: string;
  args: unknown[];
}

type ReplyMessage =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: SerializedError };

/** Something that finds (or builds) the object a recipe names. */
export type ObjectSource = (recipe: ObjectRecipe) => Promise<object>;

/** Answers the calls arriving on `port` with the objects `source` gives. */
export const serveObjects = (port: MessagePort, source: ObjectSource): void => {
  port.on("message", (call: CallMessage) => void answer(port, source, call));
  // Serving alone must not keep this thread alive: the callers' threads do while they call.
  port.unref();
};

const answer = async (port: MessagePort, source: ObjectSource, call: CallMessage) => {
  let reply: ReplyMessage;
  try {
    const target = (await source(call.recipe)) as Record<string, unknown>;
    const method = target[call.method];
    if (typeof method !== "function")
      throw new TypeError(`${call.recipe.key} has no method ${call.method}`);
    reply = { id: call.id, ok: true, value: await method.apply(target, call.args) };
  } catch (error) {
    reply = { id: call.id, ok: false, error: serializeError(error) };
  }
  try {
    port.postMessage(reply);
  } catch (error) {
    // The result is not structured-clonable: say so to the caller instead of leaving it waiting.
    port.postMessage({ id: call.id, ok: false, error: serializeError(error) });
  }
};

/** The calling side of one port: calls in flight, answered in any order. */
class Caller {
  readonly #port: MessagePort;
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; errors: readonly ErrorClass[] }
  >();
  #nextId = 0;

  constructor(port: MessagePort) {
    this.#port = port;
    port.on("message", (reply: ReplyMessage) => this.#settle(reply));
    // A port with no call in flight must not keep the thread alive.
    port.unref();
  }

  call(
    recipe: ObjectRecipe,
    method: string,
    args: unknown[],
    errors: readonly ErrorClass[],
  ): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, errors });
      if (this.#pending.size === 1) this.#port.ref();
      this.#port.postMessage({ id, recipe, method, args } satisfies CallMessage);
    });
  }

  #settle(reply: ReplyMessage): void {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#port.unref();
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(reviveError(reply.error, pending.errors));
  }
}

const callers = new WeakMap<MessagePort, Caller>();

/**
 * A stand-in for the object `recipe` names on the other side of `port`: every method is async and
 * runs there. `then` is left undefined, so awaiting the stand-in does not call anything. Errors
 * thrown there come back as the class in `errors` with their name (callers may test them with
 * `instanceof`), else as a `CrossThreadError`.
 */
export const remoteObject = <T extends object>(
  port: MessagePort,
  recipe: ObjectRecipe,
  errors: readonly ErrorClass[] = [],
): T => {
  let caller = callers.get(port);
  if (caller === undefined) {
    caller = new Caller(port);
    callers.set(port, caller);
  }
  const via = caller;
  return new Proxy({} as T, {
    get: (_target, property) =>
      typeof property === "string" && property !== "then"
        ? (...args: unknown[]) => via.call(recipe, property, args, errors)
        : undefined,
  });
};
