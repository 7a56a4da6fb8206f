import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { HARNESS_NODE_FLAGS } from "../../harness/commands/node-flags.ts";

const scripts = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    scripts: Record<string, string>;
  }
).scripts;

/** The commands that run the harness start node with its flags, as declared once in `node-flags.ts`. */
describe.each(["harness", "start"])("npm run %s", (name) => {
  it("starts node with the harness's flags", () => {
    const words = (scripts[name] ?? "").split(/\s+/);
    expect(words[0]).toBe("tsx");
    expect(words.slice(1, 1 + HARNESS_NODE_FLAGS.length)).toEqual([...HARNESS_NODE_FLAGS]);
  });
});
