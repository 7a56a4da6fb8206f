import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { harnessProgress } from "../../dashboard/pipeline-progress.ts";
import { type Dashboard, dashboardDefaults, startDashboard } from "../../dashboard/server.ts";
import { kafkaFunctionNamed, scheduledFunctionNamed } from "../../functions/registry.ts";
import { createLogger } from "../../lib/logger.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { startStack, stopStack } from "../../stack/stack.ts";
import { startHarness } from "../emulator/harness.ts";
import { defaultGeneratorOptions } from "../producer/reading-generator.ts";
import { produceReadings } from "../producer/reading-producer.ts";
import { numberFlag, runCli } from "./cli-args.ts";
import { prepareStateStore, useLocalAwsDefaults } from "./prepare-state-store.ts";
import { ensureTopics } from "./topics.ts";

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

interface Row {
  start: number;
  end: number;
  count: number;
  min: number;
  max: number;
  mean: number;
  closedBy: string;
  windows: number;
}

runCli("start", async () => {
  const { values } = parseArgs({
    options: {
      count: { type: "string" },
      rate: { type: "string" },
      store: { type: "string" },
      "idle-timeout-ms": { type: "string" },
      port: { type: "string" },
      "no-dashboard": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const say = (line: string) => process.stderr.write(`start: ${line}\n`);
  const port = numberFlag("port", values.port, dashboardDefaults.port, 0, 65_535);
  const endpoints = readStackEndpoints();
  const started = await startStack({ endpoints, progress: say });

  const idleTimeoutMs = numberFlag(
    "idle-timeout-ms",
    values["idle-timeout-ms"],
    15_000,
    0,
    86_400_000,
  );
  process.env.STATE_STORE = values.store ?? process.env.STATE_STORE ?? "dynamodb";
  process.env.DYNAMODB_ENDPOINT ??= endpoints.dynamodbEndpoint;
  // Scheduled functions get no bootstrap servers in their event: tell them where Kafka is.
  process.env.KAFKA_BROKERS ??= endpoints.kafkaBrokers.join(",");
  process.env.LOG_LEVEL ??= "warn";
  if (idleTimeoutMs > 0) process.env.IDLE_TIMEOUT_MS = String(idleTimeoutMs);
  useLocalAwsDefaults(process.env);
  const logger = createLogger();

  const kafka = new Kafka({
    clientId: "start",
    brokers: endpoints.kafkaBrokers,
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  const created = await ensureTopics(admin);
  await admin.disconnect();
  if (created.length > 0) say(`created topics ${created.join(", ")}`);
  await prepareStateStore(process.env, logger);

  const aggregate = kafkaFunctionNamed("aggregate-temperatures");
  const sweep = scheduledFunctionNamed("sweep-idle-windows");
  const harness = await startHarness({
    functions: [
      {
        name: aggregate.name,
        trigger: aggregate.trigger,
        module: pathToFileURL(aggregate.handlerFile).href,
        memorySizeMb: aggregate.trigger.memorySizeMb,
      },
    ],
    scheduled:
      idleTimeoutMs > 0
        ? [
            {
              name: sweep.name,
              module: pathToFileURL(sweep.handlerFile).href,
              timeoutSeconds: sweep.schedule.timeoutSeconds,
              memorySizeMb: sweep.schedule.memorySizeMb,
              periodMs: 5_000,
            },
          ]
        : [],
    kafka,
    bootstrapServers: endpoints.kafkaBrokers,
    logger,
  });

  let dashboard: Dashboard | undefined;
  if (!values["no-dashboard"]) {
    dashboard = await startDashboard({
      kafka,
      brokers: endpoints.kafkaBrokers,
      port,
      pipeline: harnessProgress(() => harness.stats(), {
        "aggregate-temperatures": aggregate.trigger.topic,
      }),
      logger,
    });
    say(`dashboard at ${dashboard.url}`);
  }

  // Show closed windows as they arrive: a live table, one row per sensor.
  const rows = new Map<string, Row>();
  let produced = 0;
  const tty = process.stdout.isTTY === true;
  const draw = () => {
    const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);
    const lines = [
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

  let stopping = false;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  say(
    "producing readings; closed windows appear as stream time passes each window's end + 1 s grace",
  );
  const producing = produceReadings(producer, {
    topic: "raw-temperature",
    count: numberFlag("count", values.count, 10_000, 1, 100_000_000),
    rate: numberFlag("rate", values.rate, 10, 0.1, 100_000),
    generator: { ...defaultGeneratorOptions, seed: Date.now() % 2 ** 31 },
    progress: (n) => {
      produced = n;
    },
    stopped: () => stopping,
  }).then((n) => {
    produced = n;
    say(
      `producer done (${n} readings); idle closing shows the last windows after ${idleTimeoutMs / 1000} s`,
    );
  });

  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => {
      process.once("SIGINT", () => process.exit(130));
      resolve();
    });
    process.once("SIGTERM", () => resolve());
  });
  say("stopping: producer, harness (finishing in-flight batches), watcher, dashboard");
  stopping = true;
  if (redraw) clearInterval(redraw);
  await producing;
  await producer.disconnect();
  await harness.stop();
  await watcher.disconnect();
  await dashboard?.stop();
  if (started.length > 0) {
    say(`stopping the stack it started (${started.join(", ")})`);
    await stopStack({ endpoints });
  }
  say("stopped");
  return 0;
});
