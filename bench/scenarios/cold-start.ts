import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { compared, progress, type ResultRow, repeatPaired, summarize } from "../measure.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The functions with an entry point (functions/<name>/handler.ts, dist/<name>/index.mjs). */
const FUNCTIONS = ["aggregate-temperatures", "sweep-idle-windows"] as const;

/** What importing a function needs at least: its third-party dependencies, nothing of ours. */
const DEPENDENCY_FLOOR = ["kafkajs", "@aws-sdk/client-dynamodb"];

/** The environment a function's module reads at import (a cold start), with the in-memory store. */
const COLD_START_ENV = {
  STATE_STORE: "memory",
  IDLE_TIMEOUT_MS: "60000", // sweep-idle-windows refuses to start without it
  KAFKA_BROKERS: "localhost:19092",
  LOG_LEVEL: "warn",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/**
 * Milliseconds to `import()` `specifiers` in a fresh Node process, measured inside it (process
 * start-up and the tsx loader's registration are left out; tsx's compiling of our sources is in).
 */
const importMs = (specifiers: readonly string[], viaTsx: boolean): number => {
  const script = `const t = performance.now(); for (const s of ${JSON.stringify(specifiers)}) await import(s); process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(
    process.execPath,
    [...(viaTsx ? ["--import", "tsx"] : []), "--input-type=module", "-e", script],
    { cwd: root, env: { ...process.env, ...COLD_START_ENV }, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`importing ${specifiers.join(", ")} failed: ${r.stderr}`);
  return Number(r.stdout);
};

/**
 * Scenario 6: cold-start import time of each function module in a fresh Node process, next to
 * importing its dependencies alone: the TypeScript source through tsx (as the harness runs it)
 * and, once `npm run build` has made it, the bundle `dist/<function>/index.mjs` that Lambda runs.
 */
export const coldStartScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const repetitions = { warmups: 1, runs: options.quick ? 3 : 10 };
  const rows: ResultRow[] = [];
  for (const fn of FUNCTIONS) {
    const variants = [
      { kind: "source via tsx", module: `${root}functions/${fn}/handler.ts`, viaTsx: true },
      { kind: "bundle", module: `${root}dist/${fn}/index.mjs`, viaTsx: false },
    ];
    for (const variant of variants) {
      if (!existsSync(variant.module)) {
        progress(`cold start of ${fn}: no ${variant.module} (npm run build makes it); skipped`);
        continue;
      }
      progress(`cold start of ${fn} (${variant.kind})`);
      const samples = await repeatPaired(
        repetitions,
        async () => importMs(DEPENDENCY_FLOOR, false),
        async () => importMs([variant.module], variant.viaTsx),
      );
      rows.push(
        compared(
          {
            scenario: "6 cold start",
            case: `${fn} (${variant.kind})`,
            metric: "import ms",
            value: summarize(samples.figure),
          },
          `import ${DEPENDENCY_FLOOR.join(" + ")}`,
          summarize(samples.baseline),
        ),
      );
    }
  }
  return rows;
};
