import type { MessagePort } from "node:worker_threads";
import { type ObjectRecipe, remoteObject, serveObjects } from "./remote-object.ts";

/**
 * One instance per key for a whole process, even when the code asking for it runs in a harness
 * sandbox (a worker thread): there the instance lives in the harness's main thread and the sandbox
 * gets a stand-in whose async methods run there (`lib/remote-object.ts`). This is how two functions
 * the harness runs side by side share an in-memory state store, as they would share a DynamoDB
 * table. In Lambda, in tests and in the harness's main thread it is a plain per-process cache.
 */

const local = new Map<string, object>();
const building = new Map<string, Promise<object>>();

/**
 * The sandbox's port to the harness lives on `globalThis` under a registered symbol, so that every
 * copy of this module in a thread finds it: a bundled function (`npm run build`) carries its own
 * copy, and its in-memory store must still be the harness's (as the logger and counters do).
 */
const HARNESS_PORT = Symbol.for("sensor-windows.harness-instances-port");
const slots = globalThis as { [HARNESS_PORT]?: MessagePort };

/**
 * The instance for `recipe.key`: built here by `buildHere` the first time, or, in a sandbox, the
 * harness main thread's (built there from `recipe`'s module and factory, with its args).
 */
export const sharedInstance = <T extends object>(recipe: ObjectRecipe, buildHere: () => T): T => {
  const harnessPort = slots[HARNESS_PORT];
  if (harnessPort !== undefined) return remoteObject<T>(harnessPort, recipe);
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

/** In the harness's main thread: serves this process's shared instances to a sandbox on `port`. */
export const serveSharedInstances = (port: MessagePort): void =>
  serveObjects(port, (recipe) => instanceFor(recipe));

const instanceFor = (recipe: ObjectRecipe): Promise<object> => {
  const existing = local.get(recipe.key);
  if (existing !== undefined) return Promise.resolve(existing);
  let pending = building.get(recipe.key);
  if (pending === undefined) {
    pending = build(recipe);
    building.set(recipe.key, pending);
  }
  return pending;
};

const build = async (recipe: ObjectRecipe): Promise<object> => {
  try {
    const factory = (await import(recipe.module))[recipe.export];
    if (typeof factory !== "function")
      throw new TypeError(`${recipe.module} exports no function ${recipe.export}`);
    const instance = (local.get(recipe.key) ?? factory(...recipe.args)) as object;
    local.set(recipe.key, instance);
    return instance;
  } finally {
    building.delete(recipe.key);
  }
};
