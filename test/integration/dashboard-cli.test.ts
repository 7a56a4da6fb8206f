import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Snapshot } from "../../dashboard/protocol.ts";
import { lastClosedEnd, waveWindows, windowMessage } from "../support/dashboard-fixtures.ts";
import {
  brokers,
  commitGroupOffsets,
  createTopic,
  eventually,
  messages,
  produce,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";

/**
 * `npm run dashboard` as a user runs it against a cluster: brokers and topics named on the command
 * line, a consumer group's lag, clear refusals, and nothing left behind on the cluster.
 */
const { kafka, admin } = useBroker();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

interface Run {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

const run = (args: string[]): Run => {
  const child = spawn(process.execPath, ["--import", "tsx", "dashboard/cli.ts", ...args], {
    // No KAFKA_BROKERS: the brokers must come from --brokers.
    env: { ...process.env, KAFKA_BROKERS: "", LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let stdout = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stderr: () => `${stdout}${stderr}`, exited };
};

/** The URL the dashboard prints once it serves. */
const served = async (r: Run): Promise<string> => {
  let url: string | undefined;
  await eventually(
    `the dashboard to print its URL (output so far: ${r.stderr()})`,
    () => {
      url = /dashboard: (http:\/\/localhost:\d+\/)/.exec(r.stderr())?.[1];
      return url !== undefined;
    },
    30_000,
  );
  return url as string;
};

describe("npm run dashboard", () => {
  it("describes every option with --help", async () => {
    const r = run(["--help"]);
    expect(await r.exited).toBe(0);
    for (const option of [
      "--brokers",
      "--topic",
      "--late-topic",
      "--dead-letter-topic",
      "--group",
      "--port",
      "--auth",
      "--secret-arn",
    ]) {
      expect(r.stderr()).toContain(option);
    }
  });

  it("serves the page and the windows of the topic named, with a consumer group's lag per partition", async () => {
    const topic = await createTopic(admin, 1, "agg");
    const raw = await createTopic(admin, 2, "raw");
    const group = uniqueName("trigger-group");
    const windows = waveWindows("Sensor1", 12, lastClosedEnd());
    await produce(kafka, topic, windows.map(windowMessage));
    await produce(kafka, raw, [
      ...messages(9, { partition: 0 }),
      ...messages(4, { partition: 1, from: 100 }),
    ]);
    await commitGroupOffsets(kafka, admin, group, raw, [
      { partition: 0, offset: "5" },
      { partition: 1, offset: "4" },
    ]);

    const r = run([
      "--brokers",
      brokers.join(","),
      "--topic",
      topic,
      "--late-topic",
      "",
      "--dead-letter-topic",
      "",
      "--group",
      group,
      "--port",
      "0",
    ]);
    const url = await served(r);
    const page = await fetch(url);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain('<script src="/app.js">');
    expect((await fetch(new URL("/app.js", url))).status).toBe(200);

    let snapshot: Snapshot | undefined;
    await eventually("the snapshot to hold the topic's windows and the group's lag", async () => {
      snapshot = (await (await fetch(new URL("/api/snapshot", url))).json()) as Snapshot;
      return snapshot.stats.caughtUp && snapshot.stats.pipeline !== null;
    });
    expect(snapshot?.source).toEqual({
      brokers,
      windowsTopic: topic,
      lateTopic: null,
      deadLetterTopic: null,
    });
    expect(snapshot?.sensors.map((s) => [s.sensor, s.held, s.last.end])).toEqual([
      ["Sensor1", 12, windows.at(-1)?.end],
    ]);
    expect(snapshot?.stats.pipeline?.consumers[0]?.partitions).toEqual([
      { topic: raw, partition: 0, committed: 5, end: 9, lag: 4 },
      { topic: raw, partition: 1, committed: 4, end: 4, lag: 0 },
    ]);

    // It reads with a consumer group of its own, which it deletes on Ctrl-C.
    const own = /"groupId":"(sensor-windows-dashboard-[^"]+)"/.exec(r.stderr())?.[1] as string;
    expect(own).toBeDefined();
    r.child.kill("SIGINT");
    expect(await r.exited).toBe(0);
    const { groups } = await admin.listGroups();
    expect(groups.map((g) => g.groupId)).not.toContain(own);
  });

  it("refuses a windows topic that does not exist, naming it and the fix", async () => {
    const missing = uniqueName("no-such-topic");
    const r = run(["--brokers", brokers.join(","), "--topic", missing, "--port", "0"]);
    expect(await r.exited).toBe(1);
    expect(r.stderr()).toContain(`topic "${missing}" does not exist`);
    expect(r.stderr()).toContain("--topic");
  });

  it("refuses a port in use, saying how to choose another", async () => {
    const topic = await createTopic(admin, 1, "agg");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = run(["--brokers", brokers.join(","), "--topic", topic, "--port", String(port)]);
      expect(await r.exited).toBe(1);
      expect(r.stderr()).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(r.stderr()).toContain("--port");
    } finally {
      taken.close();
    }
  });

  it("refuses brokers that are not host:port", async () => {
    const r = run(["--brokers", "localhost"]);
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain("host:port");
  });
});
