import { type MessagePort, parentPort } from "node:worker_threads";
import { type ObjectRecipe, serveObjects } from "../../lib/remote-object.ts";
import {
  MEMORY_WINDOW_STATE_STORE,
  MemoryWindowStateStore,
} from "../../state/memory-window-state-store.ts";
import { UnknownSharedInstanceError } from "./errors.ts";

/*
 * The harness's shared-instances thread: it holds the objects the functions' sandboxes share (the
 * in-memory state store, one per table name), as DynamoDB Local holds a table for them. Each
 * sandbox gets a port of its own to it (`shared-instances.ts`); calls are answered here, so they
 * never wait behind the harness's polling and event building in its main thread.
 */

/** The factories a recipe's `kind` may name. */
const factories: Record<string, (...args: unknown[]) => object> = {
  [MEMORY_WINDOW_STATE_STORE]: () => new MemoryWindowStateStore(),
};

const instances = new Map<string, object>();

const instanceFor = async (recipe: ObjectRecipe): Promise<object> => {
  let instance = instances.get(recipe.key);
  if (instance === undefined) {
    const factory = factories[recipe.kind];
    if (factory === undefined)
      throw new UnknownSharedInstanceError(recipe.kind, Object.keys(factories));
    instance = factory(...recipe.args);
    instances.set(recipe.key, instance);
  }
  return instance;
};

(parentPort as MessagePort).on("message", ({ port }: { port: MessagePort }) =>
  serveObjects(port, instanceFor),
);
