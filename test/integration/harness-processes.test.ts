import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { WINDOW_ID_HEADER } from "../../functions/output-records.ts";
import { HARNESS_NODE_FLAGS } from "../../harness/commands/node-flags.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import {
  brokers,
  committedOffsets,
  createTopic,
  eventually,
  readTopic,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";
import { bruteForceWindows, type SeedReading, seedScenario } from "../support/window-fixtures.ts";

/**
 * The harness as separate processes, the way a user runs it: two processes sharing one consumer
 * group, and a process killed with SIGKILL mid-run then restarted. Either way every window comes
 * out with exactly the brute-force aggregates (a window may repeat, identically, with its id).
 */
const { kafka, admin } = useBroker();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

interface Setup {
  topics: { raw: string; windows: string; late: string; deadLetters: string };
  group: string;
  table: string;
}

const setup = async (partitions: number): Promise<Setup> => ({
  topics: {
    raw: await createTopic(admin, partitions, "raw"),
    windows: await createTopic(admin, 1, "agg"),
    late: await createTopic(admin, 1, "late"),
    deadLetters: await createTopic(admin, 1, "dlq"),
  },
  group: uniqueName("group"),
  table: uniqueName("state"),
});

/** Starts `npm run harness` as a child process; resolves once it consumes. */
const startHarnessProcess = async (s: Setup): Promise<ChildProcess> => {
  const child = spawn(
    process.execPath,
    [
      ...HARNESS_NODE_FLAGS,
      "--import",
      "tsx",
      "harness/commands/cli.ts",
      "--topic",
      s.topics.raw,
      "--group",
      s.group,
      "--batch-size",
      "200",
      "--batching-window",
      "0",
      "--status-every",
      "0",
    ],
    {
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(","),
        DYNAMODB_ENDPOINT: readStackEndpoints().dynamodbEndpoint,
        STATE_STORE: "dynamodb",
        STATE_TABLE: s.table,
        OUTPUT_TOPIC: s.topics.windows,
        LATE_TOPIC: s.topics.late,
        DEAD_LETTER_TOPIC: s.topics.deadLetters,
      },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  children.push(child);
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes("harness: running")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`harness exited (${code}) before running:\n${stderr}`)),
    );
  });
  return child;
};

const produceReadings = async (topic: string, readings: SeedReading[]) => {
  const producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  for (let i = 0; i < readings.length; i += 2_000) {
    await producer.send({
      topic,
      acks: -1,
      messages: readings.slice(i, i + 2_000).map((r) => ({
        key: r.sensor,
        value: JSON.stringify({ ts: r.ts, value: r.value }),
        timestamp: String(r.ts),
      })),
    });
  }
  await producer.disconnect();
};

const allCommitted = async (s: Setup, total: number) => {
  const offsets = await committedOffsets(admin, s.group, s.topics.raw);
  return [...offsets.values()].reduce((sum, o) => sum + Math.max(0, o), 0) === total;
};

/** The windows on the output topic, each id once; a repeated id must repeat identical content. */
const distinctWindows = async (s: Setup, atLeast: number) => {
  const end = Number((await admin.fetchTopicOffsets(s.topics.windows))[0]?.high ?? 0);
  expect(end).toBeGreaterThanOrEqual(atLeast);
  const records = await readTopic(kafka, s.topics.windows, end);
  const byId = new Map<string, string>();
  for (const { message } of records) {
    const id = message.headers?.[WINDOW_ID_HEADER]?.toString() ?? "";
    const value = message.value?.toString() ?? "";
    const seen = byId.get(id);
    if (seen !== undefined) expect(value).toBe(seen);
    byId.set(id, value);
  }
  return [...byId.values()]
    .map((v) => JSON.parse(v))
    .map((w) => ({ sensor: w.sensor, start: w.start, end: w.end, ...w.temperature }))
    .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.start - b.start);
};

describe("the harness as processes", () => {
  it("two processes in one group share the partitions and produce exactly the brute-force windows", {
    timeout: 180_000,
  }, async () => {
    const s = await setup(6);
    const readings = seedScenario({
      count: 20_000,
      sensors: 12,
      seed: 31,
      start: Date.now() - 20_000_000,
    });
    const expected = bruteForceWindows(readings);
    await startHarnessProcess(s);
    await produceReadings(s.topics.raw, readings.slice(0, 10_000));
    await startHarnessProcess(s); // joins the group: a rebalance mid-run
    await produceReadings(s.topics.raw, readings.slice(10_000));
    await eventually("every offset committed", () => allCommitted(s, readings.length), 150_000);
    expect(await distinctWindows(s, expected.length)).toEqual(expected);
  });

  it("a harness killed with SIGKILL mid-run and restarted changes nothing in the result", {
    timeout: 180_000,
  }, async () => {
    const s = await setup(3);
    // Enough readings that the kill lands mid-run even on an idle machine.
    const readings = seedScenario({
      count: 40_000,
      sensors: 6,
      seed: 37,
      start: Date.now() - 20_000_000,
    });
    const expected = bruteForceWindows(readings);
    await produceReadings(s.topics.raw, readings);
    const first = await startHarnessProcess(s);
    // Killed at its first commit: 40 000 readings take far longer than one poll of the offsets.
    await eventually(
      "some progress committed",
      async () => {
        const offsets = await committedOffsets(admin, s.group, s.topics.raw);
        return [...offsets.values()].some((o) => o > 0);
      },
      60_000,
    );
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    expect(await allCommitted(s, readings.length)).toBe(false);
    await startHarnessProcess(s);
    await eventually(
      "every offset committed after the restart",
      () => allCommitted(s, readings.length),
      150_000,
    );
    expect(await distinctWindows(s, expected.length)).toEqual(expected);
  });
});
