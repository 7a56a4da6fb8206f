import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { harnessProgress } from "../../dashboard/pipeline-progress.ts";
import type { WindowPoint } from "../../dashboard/protocol.ts";
import { type Dashboard, dashboardDefaults, startDashboard } from "../../dashboard/server.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { kafkaFunctionNamed, scheduledFunctionNamed } from "../../functions/registry.ts";
import { createLogger, type Logger } from "../../lib/logger.ts";
import { readStackEndpoints, type StackEndpoints } from "../../stack/endpoints.ts";
import { startStack, stopStack } from "../../stack/stack.ts";
import type { Harness } from "../emulator/harness.ts";
import { defaultGeneratorOptions } from "../producer/reading-generator.ts";
import { produceReadings } from "../producer/reading-producer.ts";
import {
  exitOnNext,
  type Flags,
  flagsOrUsage,
  numberFlag,
  runCli,
  untilSignal,
} from "./cli-args.ts";
import { commandKafka, startLocalHarness, useFunctionSettings } from "./local-setup.ts";
import { createMissingTopics } from "./topics.ts";

const USAGE = `Usage: npm start [-- options]

The demo: starts the local stack (Kafka + DynamoDB Local) unless it is up, creates the topics,
produces readings like the seed tutorial's producer, runs aggregate-temperatures behind the local
Kafka trigger, and shows each sensor's last closed window as windows close; the dashboard page
shows each sensor's recent windows as live charts, late readings, dead letters and the harness's
lag. Ctrl-C stops it all.

Options:
  --count N            readings to produce (default 10000)
  --rate N             readings per second (default 10)
  --store S            dynamodb (default) or memory
  --idle-timeout-ms N  close the windows of sensors quiet this long (default 15000; 0 = off),
                       so the last windows show once the producer stops
  --port N             the dashboard's port (default ${dashboardDefaults.port}; 0 = any free port)
  --no-dashboard       no dashboard page, only the terminal table
  -h, --help           this help
`;

const OPTIONS = {
  count: { type: "string" },
  rate: { type: "string" },
  store: { type: "string" },
  "idle-timeout-ms": { type: "string" },
  port: { type: "string" },
  "no-dashboard": { type: "boolean" },
} as const;

const say = (line: string) => process.stderr.write(`start: ${line}\n`);

/** The harness with aggregate-temperatures and, with idle closing on, sweep-idle-windows. */
const startAggregation = (
  kafka: Kafka,
  endpoints: StackEndpoints,
  idleTimeoutMs: number,
  logger: Logger,
) =>
  startLocalHarness(
    {
      entry: kafkaFunctionNamed("aggregate-temperatures"),
      companions:
        idleTimeoutMs > 0
          ? [{ entry: scheduledFunctionNamed("sweep-idle-windows"), periodMs: 5_000 }]
          : [],
    },
    { kafka, endpoints, logger },
  );

/** The dashboard page, with the harness's lag on aggregate-temperatures' topic. */
const startDemoDashboard = async (
  kafka: Kafka,
  endpoints: StackEndpoints,
  port: number,
  harness: Harness,
  logger: Logger,
) => {
  const dashboard = await startDashboard({
    kafka,
    brokers: endpoints.kafkaBrokers,
    port,
    pipeline: harnessProgress(() => harness.stats(), {
      "aggregate-temperatures": kafkaFunctionNamed("aggregate-temperatures").trigger.topic,
    }),
    logger,
  });
  say(`dashboard at ${dashboard.url}`);
  return dashboard;
};

/** A sensor's row: its last closed window and how many of its windows closed. */
type Row = Omit<WindowPoint, "sensor"> & { windows: number };

/** The live table's lines: a heading, then one row per sensor with its last closed window. */
const tableLines = (
  rows: ReadonlyMap<string, Row>,
  produced: number,
  dashboard: Dashboard | undefined,
) => {
  const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
  return [
    `sensor-windows: ${produced} readings produced, ${[...rows.values()].reduce((n, r) => n + r.windows, 0)} windows closed (state: ${process.env.STATE_STORE}; ${dashboard === undefined ? "" : `charts at ${dashboard.url}; `}Ctrl-C stops)`,
    "",
    "sensor     last window (UTC)   count    min    max     mean  closed by    windows",
    ...[...rows.entries()]
      .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
      .map(
        ([sensor, r]) =>
          `${sensor.padEnd(10)} ${time(r.start)}-${time(r.end)} ${String(r.count).padStart(6)} ${String(r.min).padStart(6)} ${String(r.max).padStart(6)} ${r.mean.toFixed(2).padStart(8)}  ${r.closedBy.padEnd(11)} ${String(r.windows).padStart(8)}`,
      ),
  ];
};

/**
 * Shows closed windows as they arrive: on a terminal a live table, one row per sensor, redrawn each
 * second; otherwise each window as a JSON line.
 */
const showClosedWindows = async (kafka: Kafka, dashboard: Dashboard | undefined) => {
  const rows = new Map<string, Row>();
  let produced = 0;
  const tty = process.stdout.isTTY === true;
  const draw = () => {
    const lines = tableLines(rows, produced, dashboard);
    if (tty) process.stdout.write(`\x1b[H\x1b[2J${lines.join("\n")}\n`);
  };
  const watcher = kafka.consumer({ groupId: `start-watch-${randomUUID()}` });
  await watcher.connect();
  await watcher.subscribe({ topic: "agg-temperature", fromBeginning: false });
  await watcher.run({
    eachMessage: async ({ message }) => {
      const w = JSON.parse(message.value?.toString() ?? "{}");
      const row = {
        start: w.start,
        end: w.end,
        ...w.temperature,
        closedBy: w.closedBy,
        windows: (rows.get(w.sensor)?.windows ?? 0) + 1,
      };
      rows.set(w.sensor, row);
      if (tty) draw();
      else process.stdout.write(`${JSON.stringify(w)}\n`);
    },
  });
  const redraw = tty ? setInterval(draw, 1_000) : undefined;
  return {
    produced: (n: number) => {
      produced = n;
    },
    /** Stops redrawing at once; `stop` disconnects the watcher. */
    stopRedrawing: () => {
      if (redraw) clearInterval(redraw);
    },
    stop: () => watcher.disconnect(),
  };
};
type ClosedWindows = Awaited<ReturnType<typeof showClosedWindows>>;

/** Produces readings like the seed tutorial's producer until the count or `stop`. */
const startProducing = async (
  kafka: Kafka,
  flags: Flags<typeof OPTIONS>,
  idleTimeoutMs: number,
  table: ClosedWindows,
) => {
  let stopping = false;
  const producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  say(
    "producing readings; closed windows appear as stream time passes each window's end + 1 s grace",
  );
  const producing = produceReadings(producer, {
    topic: "raw-temperature",
    ...productionFromFlags(flags),
    generator: { ...defaultGeneratorOptions, seed: Date.now() % 2 ** 31 },
    progress: table.produced,
    stopped: () => stopping,
  }).then((n) => {
    table.produced(n);
    say(
      `producer done (${n} readings); idle closing shows the last windows after ${idleTimeoutMs / 1000} s`,
    );
  });
  return {
    stop: async () => {
      stopping = true;
      table.stopRedrawing();
      await producing;
      await producer.disconnect();
    },
  };
};

/** How many readings the demo produces, and how fast. */
const productionFromFlags = (flags: Flags<typeof OPTIONS>) => ({
  count: numberFlag("count", flags.count, 10_000, 1, 100_000_000, { integer: true }),
  rate: numberFlag("rate", flags.rate, 10, 0.1, 100_000),
});

runCli("start", async () => {
  const flags = flagsOrUsage(OPTIONS, USAGE);
  if (flags === undefined) return 0;
  // Every flag is checked before the stack is started.
  const port = numberFlag("port", flags.port, dashboardDefaults.port, 0, 65_535);
  productionFromFlags(flags);
  const idleTimeoutMs = numberFlag(
    "idle-timeout-ms",
    flags["idle-timeout-ms"],
    15_000,
    0,
    86_400_000,
  );
  const endpoints = readStackEndpoints();
  useFunctionSettings(
    process.env,
    {
      // Always named, so that the table can say which store the windows come from.
      stateStore: flags.store ?? process.env.STATE_STORE ?? "dynamodb",
      idleTimeoutMs: idleTimeoutMs > 0 ? String(idleTimeoutMs) : undefined,
    },
    endpoints,
  );
  const started = await startStack({ endpoints, progress: say });
  const logger = createLogger();
  const kafka = commandKafka("start", endpoints.kafkaBrokers);
  const created = await createMissingTopics(kafka);
  if (created.length > 0) say(`created topics ${created.join(", ")}`);
  const harness = await startAggregation(kafka, endpoints, idleTimeoutMs, logger);
  const dashboard = flags["no-dashboard"]
    ? undefined
    : await startDemoDashboard(kafka, endpoints, port, harness, logger);
  const table = await showClosedWindows(kafka, dashboard);
  const producer = await startProducing(kafka, flags, idleTimeoutMs, table);
  await untilSignal((signal) => {
    if (signal === "SIGINT") exitOnNext("SIGINT");
  });
  say("stopping: producer, harness (finishing in-flight batches), watcher, dashboard");
  await producer.stop();
  await harness.stop();
  await table.stop();
  await dashboard?.stop();
  if (started.length > 0) {
    say(`stopping the stack it started (${started.join(", ")})`);
    await stopStack({ endpoints });
  }
  say("stopped");
  return 0;
});
