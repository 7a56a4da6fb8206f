import type { MessagePort } from "node:worker_threads";
import type { ErrorClass } from "./errors.ts";
import { type ObjectRecipe, remoteObject } from "./remote-object.ts";

/**
 * One instance per key for a whole process, even when the code asking for it runs in a harness
 * sandbox (a worker thread): there the instance lives in the harness's shared-instances thread and
 * the sandbox gets a stand-in whose async methods run there (`lib/remote-object.ts`). This is how
 * two functions the harness runs side by side share an in-memory state store, as they would share
 * a DynamoDB table. In Lambda, in tests and in the harness's main thread it is a plain per-process
 * cache.
 */

const local = new Map<string, object>();

/**
 * The sandbox's port to the harness lives on `globalThis` under a registered symbol, so that every
 * copy of this module in a thread finds it: a bundled function (`npm run build`) carries its own
 * copy, and its in-memory store must still be the harness's (as the logger and counters do).
 */
const HARNESS_PORT = Symbol.for("sensor-windows.harness-instances-port");
const slots = globalThis as { [HARNESS_PORT]?: MessagePort };

/**
 * The instance for `recipe.key`: built here by `buildHere` the first time or, in a sandbox, the
 * harness's (built there by the factory `recipe.kind` names, with its args), whose errors come
 * back as the class in `errors` with their name.
 */
export const sharedInstance = <T extends object>(
  recipe: ObjectRecipe,
  buildHere: () => T,
  errors: readonly ErrorClass[] = [],
): T => {
  const harnessPort = slots[HARNESS_PORT];
  if (harnessPort !== undefined) return remoteObject<T>(harnessPort, recipe, errors);
  let instance = local.get(recipe.key);
  if (instance === undefined) {
    instance = buildHere();
    local.set(recipe.key, instance);
  }
  return instance as T;
};

/** In a sandbox: shared instances come from the harness, through `port`. */
export const useHarnessInstances = (port: MessagePort): void => {
  slots[HARNESS_PORT] = port;
};
