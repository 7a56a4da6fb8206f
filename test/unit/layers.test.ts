import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The layers are enforced by the lint (`biome.json`, `noRestrictedImports` per folder): a file
 * that imports upwards fails `npm run lint`. Each row puts such a file in its layer, lints it, and
 * expects the rule's message; the right direction lints clean.
 */
const lint = (folder: string, source: string) => {
  const dir = mkdtempSync(join(folder, "layer-check-"));
  const file = join(dir, "probe.ts");
  writeFileSync(file, `${source}\nexport const probe = x;\n`);
  try {
    const run = spawnSync("npx", ["biome", "lint", file], { encoding: "utf8" });
    return `${run.stdout}${run.stderr}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

describe("imports point down, enforced by the lint", () => {
  it.each([
    ["core", 'import { x } from "../../functions/registry.ts";'],
    ["core", 'import { x } from "../../state/window-state-store.ts";'],
    ["state", 'import { x } from "../../functions/partition-step.ts";'],
    ["functions", 'import { x } from "../../harness/emulator/harness.ts";'],
    ["functions", 'import { x } from "../../test/support/trigger-events.ts";'],
    ["bench", 'import { x } from "../../test/support/trigger-events.ts";'],
  ])("%s/: `%s` fails the lint", (folder, source) => {
    expect(lint(folder, source)).toContain("noRestrictedImports");
  });

  it.each([
    ["functions", 'import { x } from "../../core/window-engine.ts";'],
    ["harness", 'import { x } from "../../functions/registry.ts";'],
  ])("%s/: `%s` passes", (folder, source) => {
    expect(lint(folder, source)).not.toContain("noRestrictedImports");
  });
});
