import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/*
 * Which way the project's folders depend on each other, read from the imports: a handler deploys
 * with what it imports, and a function's tests are copied with its folder, so neither may reach
 * into the harness or the project's own tests.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const filesUnder = (dir: string): string[] =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? filesUnder(join(dir, d.name))
      : d.name.endsWith(".ts")
        ? [join(dir, d.name)]
        : [],
  );

/** The project files a source file imports (statically or dynamically), relative to the root. */
const importsOf = (file: string): string[] =>
  [
    ...readFileSync(join(root, file), "utf8").matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g),
  ].map((m) => relative(root, resolve(root, dirname(file), m[1] as string)));

const outside = (file: string, allowed: readonly string[]) =>
  importsOf(file).filter((i) => !allowed.some((a) => i.startsWith(a)));

describe("layering", () => {
  const functionSources = filesUnder("functions");

  it("functions/ never imports the harness, the tests, the bench, the deployment or the stack", () => {
    const leaks = functionSources.flatMap((f) =>
      outside(f, ["functions/", "core/", "state/", "lib/"]).map((i) => `${f} -> ${i}`),
    );
    expect(leaks).toEqual([]);
  });

  it("a function's own tests use only functions/ (the testing kit and the function's modules)", () => {
    const tests = functionSources.filter((f) => f.endsWith(".test.ts"));
    expect(tests.length).toBeGreaterThan(0);
    const leaks = tests.flatMap((f) => outside(f, ["functions/"]).map((i) => `${f} -> ${i}`));
    expect(leaks).toEqual([]);
  });

  it("a function's folder never imports another function's: what two share lives in a folder of its own", () => {
    const functionFolders = functionSources
      .filter((f) => f.endsWith("/function.ts"))
      .map((f) => `${dirname(f)}/`);
    expect(functionFolders.length).toBeGreaterThan(1);
    const leaks = functionSources.flatMap((f) =>
      importsOf(f)
        .filter((i) =>
          functionFolders.some((folder) => i.startsWith(folder) && !f.startsWith(folder)),
        )
        .map((i) => `${f} -> ${i}`),
    );
    expect(leaks).toEqual([]);
  });

  it("the testing kit's entry point exports from functions/, core/, state/ and lib/ only", () => {
    expect(outside("functions/testing/index.ts", ["functions/", "state/", "lib/"])).toEqual([]);
  });
});
