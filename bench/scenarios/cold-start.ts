import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { progress, type ResultRow, repeat, summarize } from "../measure.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Cold-start import time of each function: a fresh Node process importing the module (the built
 * bundle in dist/ when `npm run build` made one, else the TypeScript source through tsx).
 */
export const coldStartScenario = async (options: { quick: boolean }): Promise<ResultRow[]> => {
  const rows: ResultRow[] = [];
  for (const fn of ["aggregate-temperatures", "sweep-idle-windows"]) {
    const bundle = `${root}dist/${fn}/index.mjs`;
    const built = existsSync(bundle);
    const target = built ? bundle : `${root}functions/${fn}/handler.ts`;
    progress(`cold start of ${fn} (${built ? "bundle" : "source via tsx"})`);
    const samples = await repeat(options.quick ? 0 : 1, options.quick ? 3 : 10, async () => {
      const script = `const t=performance.now();await import(${JSON.stringify(target)});process.stdout.write(String(performance.now()-t));`;
      const r = spawnSync(
        process.execPath,
        [...(built ? [] : ["--import", "tsx"]), "--input-type=module", "-e", script],
        {
          env: {
            ...process.env,
            STATE_STORE: "memory",
            IDLE_TIMEOUT_MS: "60000",
            KAFKA_BROKERS: "localhost:19092",
            AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          },
          encoding: "utf8",
        },
      );
      if (r.status !== 0) throw new Error(`import of ${target} failed: ${r.stderr}`);
      return Number(r.stdout);
    });
    rows.push({
      scenario: "6 cold start",
      case: `${fn} (${built ? "bundle" : "source via tsx"})`,
      metric: "import ms",
      value: summarize(samples),
    });
  }
  return rows;
};
