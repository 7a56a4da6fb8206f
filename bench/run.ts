import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { readStackEndpoints } from "../stack/endpoints.ts";
import { startStack } from "../stack/stack.ts";
import { fmt, progress, type ResultRow } from "./measure.ts";
import { coldStartScenario } from "./scenarios/cold-start.ts";
import { handlerScenario } from "./scenarios/handler.ts";
import { handlerMemoryScenario } from "./scenarios/handler-memory.ts";
import { harnessScenario } from "./scenarios/harness-end-to-end.ts";
import { latencyScenario } from "./scenarios/latency.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const SCENARIOS = {
  "handler-memory-store": (quick: boolean) => handlerScenario({ quick, stores: ["memory"] }),
  "handler-dynamodb": (quick: boolean) => handlerScenario({ quick, stores: ["dynamodb"] }),
  harness: (quick: boolean) => harnessScenario({ quick }),
  "handler-rss": (quick: boolean) => handlerMemoryScenario({ quick }),
  latency: (quick: boolean) => latencyScenario({ quick }),
  "cold-start": (quick: boolean) => coldStartScenario({ quick }),
} as const;
type ScenarioName = keyof typeof SCENARIOS;

const USAGE = `Usage: npm run bench -- [--quick] [--scenario NAME]...

Measures every figure next to a baseline on the same data in the same run (median of several
runs after a warm-up, with min and max), prints a table and writes JSON to bench/results/.
Starts the local stack if it isn't up.

Options:
  --quick            small sizes, one run each: about a minute (CI smoke; fails only on a crash)
  --scenario NAME    run only this scenario (repeatable): ${Object.keys(SCENARIOS).join(", ")}
  -h, --help         this help
`;

const main = async () => {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean" },
      scenario: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const quick = values.quick ?? false;
  const names = (values.scenario ?? Object.keys(SCENARIOS)) as ScenarioName[];
  for (const name of names) {
    if (!(name in SCENARIOS))
      throw new Error(
        `--scenario must be one of ${Object.keys(SCENARIOS).join(", ")}, got "${name}"`,
      );
  }
  await startStack({ endpoints: readStackEndpoints(), progress });
  const started = Date.now();
  const rows: ResultRow[] = [];
  for (const name of names) rows.push(...(await SCENARIOS[name](quick)));

  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "?"}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const table = [
    `| scenario | case | metric | median | min..max | baseline (median) | ratio | target | met |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.case}${r.note ? ` (${r.note})` : ""} | ${r.metric} | ${fmt(r.value.median)} | ${fmt(r.value.min)}..${fmt(r.value.max)} | ${
          r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value.median)}` : ""
        } | ${r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(0)}%`} | ${r.target ?? ""} | ${r.met === undefined ? "" : r.met ? "yes" : "**no**"} |`,
    ),
  ].join("\n");
  process.stdout.write(
    `\n${quick ? "Quick run" : "Full run"} on ${machine}, ${((Date.now() - started) / 1000).toFixed(0)} s\n\n${table}\n`,
  );
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(
    `${new Date().toISOString().replaceAll(":", "-")}${quick ? "-quick" : ""}.json`,
    dir,
  );
  writeFileSync(file, JSON.stringify({ quick, machine, rows }, null, 2));
  progress(`results written to ${file.pathname}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
