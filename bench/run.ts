import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve } from "node:path";
import { lambdaHeapFlags } from "../functions/lambda-heap.ts";
import { kafkaFunctionNamed } from "../functions/registry.ts";
import { parseArgsOrUsageError } from "../lib/cli-args.ts";
import { ConfigError } from "../lib/errors.ts";
import { createLogger } from "../lib/logger.ts";
import { readStackEndpoints } from "../stack/endpoints.ts";
import { startStack } from "../stack/stack.ts";
import { StackNotUpError } from "./errors.ts";
import { count, progress, type ResultRow, resultTable } from "./measure.ts";
import { profileChildrenInto, runChild } from "./scenarios/child-process.ts";
import { coldStartScenario } from "./scenarios/cold-start.ts";
import type { HandlerScenarioOptions } from "./scenarios/handler.ts";
import { handlerMemoryScenario } from "./scenarios/handler-memory.ts";
import { harnessScenario } from "./scenarios/harness-end-to-end.ts";
import { latencyScenario } from "./scenarios/latency.ts";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

interface RunOptions {
  quick: boolean;
  /** Batch sizes for the scenarios that take them (handler and harness). */
  sizes: number[] | undefined;
  /** IDLE_TIMEOUT_MS for the handler scenarios (off by default, as in the function). */
  idleTimeoutMs: number | undefined;
}

/**
 * Scenarios 1 and 2: the handler with one store, at the given or the default batch sizes, in a
 * child process with the heap Lambda gives the function's declared MemorySize.
 */
const handlerWith = (store: "memory" | "dynamodb") => (o: RunOptions) =>
  runChild<ResultRow[]>(
    "handler-scenario.ts",
    {
      quick: o.quick,
      store,
      // DynamoDB's cost table: the smallest and the largest batch, at four fleet sizes.
      sizes: o.sizes ?? (store === "memory" ? [100, 1_000, 10_000] : [100, 10_000]),
      idleTimeoutMs: o.idleTimeoutMs,
    } satisfies HandlerScenarioOptions,
    {
      nodeFlags: lambdaHeapFlags(kafkaFunctionNamed("aggregate-temperatures").trigger.memorySizeMb),
    },
  );

/** Each scenario, by the name `--scenario` takes, and whether it needs the local stack. */
const SCENARIOS = {
  "handler-memory": { stack: false, run: handlerWith("memory") },
  "handler-dynamodb": { stack: true, run: handlerWith("dynamodb") },
  harness: {
    stack: true,
    run: (o: RunOptions) => harnessScenario({ quick: o.quick, sizes: o.sizes ?? [100, 10_000] }),
  },
  "handler-rss": { stack: false, run: (o: RunOptions) => handlerMemoryScenario(o) },
  latency: { stack: true, run: (o: RunOptions) => latencyScenario(o) },
  "cold-start": { stack: false, run: (o: RunOptions) => coldStartScenario(o) },
} as const;
type ScenarioName = keyof typeof SCENARIOS;
const NAMES = Object.keys(SCENARIOS) as ScenarioName[];

const USAGE = `Usage: npm run bench -- [--quick] [--scenario NAME]... [--size N]...

Measures how fast aggregate-temperatures, its state stores and the local harness are, each figure
next to a baseline on the same data in the same run (the decode floor, a bare kafkajs consumer):
the median of several runs after a warm-up, with min and max. Prints a Markdown table on stdout,
progress on stderr, and writes the results as JSON to bench/results/. Starts the local stack
(Kafka, DynamoDB Local) when a scenario needs it and it is not up. Exits 0 unless a scenario
crashes: a missed target is reported, never a failure.

Scenarios (all by default, in this order):
  handler-memory     1. handler + in-memory store vs the decode floor, batches of 100..10 000,
                        5 and 10 000 sensors
  handler-dynamodb   2. the same with DynamoDB Local, and DynamoDB requests per batch
                        (1 and 2 in a process with the V8 heap Lambda gives the function's
                        MemorySize, as its Node.js runtime starts node)
  harness            3. harness + function end to end on a pre-filled 6-partition topic vs a bare
                        kafkajs consumer, and vs that consumer producing the windows' records
                        (Kafka alone), and the harness with a no-op function (its own cost);
                        4. the harness process's peak RSS
  handler-rss        4. RSS of the handler over 1 000 batches of 10 000 (start vs end)
  latency            5. produce-to-output latency of closing records at 10 000 readings/s
  cold-start         6. import time of each function module in a fresh Node process (the bundle
                        in dist/<function>/index.mjs too, once npm run build made it)

Options:
  --quick            small sizes, one run each: about a minute (CI smoke)
  --scenario NAME    run only this scenario; repeatable
  --size N           batch size for handler-* and harness (1..10000); repeatable
                     (default: 100, 1000, 10000 for handler-*, 100 and 10000 for harness)
  --idle-timeout MS  handler-* with idle closing on (IDLE_TIMEOUT_MS), to compare with a run
                     without it: what the idle sweep's index costs the handler's normal path
  --cpu-prof DIR     write a V8 CPU profile of every child process (harness, bare consumer, ...)
                     and of each harness sandbox (worker thread) to DIR, to open in Chrome
                     DevTools or speedscope; the function's bundle is then built unminified
  -h, --help         this help

Environment: KAFKA_BROKERS (default localhost:19092), DYNAMODB_ENDPOINT (default
http://localhost:8000).
`;

const idleTimeoutFlag = (raw: string | undefined): number | undefined => {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new ConfigError(
      `--idle-timeout must be a whole number of milliseconds >= 1, got "${raw}"`,
    );
  return n;
};

const parseOptions = () => {
  const { values } = parseArgsOrUsageError({
    options: {
      quick: { type: "boolean" },
      scenario: { type: "string", multiple: true },
      size: { type: "string", multiple: true },
      "cpu-prof": { type: "string" },
      "idle-timeout": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const names = (values.scenario ?? NAMES) as ScenarioName[];
  for (const name of names) {
    if (!NAMES.includes(name))
      throw new ConfigError(`--scenario must be one of ${NAMES.join(", ")}, got "${name}"`);
  }
  const sizes = values.size?.map((raw) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 10_000)
      throw new ConfigError(`--size must be a batch size 1..10000 (Lambda's limit), got "${raw}"`);
    return n;
  });
  const cpuProfileDir = values["cpu-prof"];
  return {
    help: values.help ?? false,
    names,
    cpuProfileDir: cpuProfileDir === undefined ? undefined : resolve(cpuProfileDir),
    run: {
      quick: values.quick ?? false,
      sizes,
      idleTimeoutMs: idleTimeoutFlag(values["idle-timeout"]),
    },
  };
};

/** Starts the local stack when a scenario needs it and it is down (stack:up is idempotent). */
const ensureStack = async (): Promise<void> => {
  try {
    await startStack({ endpoints: readStackEndpoints(), progress });
  } catch (cause) {
    throw new StackNotUpError(cause);
  }
};

const main = async (): Promise<void> => {
  const options = parseOptions();
  if (options.help) {
    process.stdout.write(USAGE);
    return;
  }
  const { quick } = options.run;
  if (options.cpuProfileDir !== undefined) {
    mkdirSync(options.cpuProfileDir, { recursive: true });
    profileChildrenInto(options.cpuProfileDir);
    progress(`CPU profiles of the child processes go to ${options.cpuProfileDir}`);
  }
  if (options.names.some((n) => SCENARIOS[n].stack)) await ensureStack();
  const started = Date.now();
  const rows: ResultRow[] = [];
  for (const name of options.names) {
    const t0 = Date.now();
    progress(`scenario ${name}`);
    rows.push(...(await SCENARIOS[name].run(options.run)));
    progress(`scenario ${name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
  };
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  process.stdout.write(
    `\n${quick ? "Quick run" : "Full run"}: \`${command}\`, ${seconds} s, on ${machine.cores} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}\n\n${resultTable(rows)}\n`,
  );
  const missed = rows.filter((r) => r.met === false);
  progress(
    `${count(rows.length)} figures; targets met: ${rows.filter((r) => r.met).length}, missed: ${missed.length}${
      missed.length > 0 ? ` (${missed.map((r) => `${r.scenario}, ${r.case}`).join("; ")})` : ""
    }`,
  );
  const dir = new URL("./results/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  const at = new Date().toISOString();
  const file = new URL(`${at.replaceAll(":", "-")}${quick ? "-quick" : ""}.json`, dir);
  writeFileSync(
    file,
    `${JSON.stringify({ at, command, quick, seconds, machine, rows }, null, 2)}\n`,
  );
  progress(`results written to ${file.pathname}`);
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof StackNotUpError) {
      process.stderr.write(
        `bench: ${error.message}${error instanceof ConfigError && !error.message.includes("--help") ? " (see --help)" : ""}\n`,
      );
      process.exit(2);
    }
    createLogger({ fields: { cli: "bench" } }).error("benchmark crashed", { error });
    process.exit(1);
  },
);
