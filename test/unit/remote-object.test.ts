import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { CrossThreadError, type ErrorClass, SensorWindowsError } from "../../lib/errors.ts";
import { type ObjectRecipe, remoteObject, serveObjects } from "../../lib/remote-object.ts";

class ShelfFullError extends SensorWindowsError {
  constructor() {
    super("the shelf is full", { retryable: false });
  }
}

/** Any object with async methods: the proxy knows none of their names. */
class Shelf {
  readonly #items = new Map<string, { count: number }>();
  async put(name: string, count: number): Promise<void> {
    if (this.#items.size >= 2) throw new ShelfFullError();
    this.#items.set(name, { count });
  }
  async take(names: string[]): Promise<Map<string, { count: number } | undefined>> {
    return new Map(names.map((n) => [n, this.#items.get(n)]));
  }
}

const recipe: ObjectRecipe = { key: "shelf", kind: "shelf", args: [] };
const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

/** A shelf served on one end of a channel, and its stand-in on the other. */
const remoteShelf = (errors: ErrorClass[] = []) => {
  const channel = new MessageChannel();
  channels.push(channel);
  const shelf = new Shelf();
  serveObjects(channel.port1, async () => shelf);
  return remoteObject<Shelf>(channel.port2, recipe, errors);
};

describe("an object used through a message port", () => {
  it("runs each method call on the serving side and answers with its structured-cloned result", async () => {
    const shelf = remoteShelf();
    await shelf.put("apples", 3);
    await expect(shelf.take(["apples", "pears"])).resolves.toEqual(
      new Map([
        ["apples", { count: 3 }],
        ["pears", undefined],
      ]),
    );
  });

  it("rejects with the error thrown there: its name, message and retryable", async () => {
    const shelf = remoteShelf();
    await shelf.put("apples", 1);
    await shelf.put("pears", 1);
    const failure = await shelf.put("plums", 1).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      name: "ShelfFullError",
      message: "the shelf is full",
      retryable: false,
    });
  });

  it("says which method does not exist, and can be awaited without calling anything", async () => {
    const shelf = remoteShelf() as Shelf & { sell(): Promise<void> };
    await expect(shelf.sell()).rejects.toThrow("shelf has no method sell");
    expect(await Promise.resolve(shelf)).toBe(shelf);
  });

  it("rebuilds an error as the class the caller knows by its name, so that instanceof holds", async () => {
    const known = remoteShelf([ShelfFullError]);
    const unknown = remoteShelf();
    for (const shelf of [known, unknown]) {
      await shelf.put("apples", 1);
      await shelf.put("pears", 1);
    }
    const recognised = await known.put("plums", 1).catch((e: unknown) => e);
    expect(recognised).toBeInstanceOf(ShelfFullError);
    expect(recognised).toMatchObject({ message: "the shelf is full", retryable: false });
    expect(await unknown.put("plums", 1).catch((e: unknown) => e)).toBeInstanceOf(CrossThreadError);
  });
});
