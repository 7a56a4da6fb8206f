import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { trigger as aggregateTrigger } from "../../functions/aggregate-temperatures/trigger.ts";
import { lambdaHeap } from "../../functions/lambda-heap.ts";
import { markerPath } from "../fixtures/handlers/first-attempt.ts";
import {
  capturingLogger,
  committedOffsets,
  createTopic,
  eventually,
  fixtureHandler,
  harnessWith,
  messages,
  produce,
  readTopic,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";

const { kafka, admin, track } = useBroker();
const markers: string[] = [];
afterAll(() => {
  for (const marker of markers) rmSync(marker, { force: true });
});

/** The lines a fixture logged with `message`. */
const logged = (lines: Record<string, unknown>[], message: string) =>
  lines.filter((l) => l.message === message);

describe("each invocation runs in a sandbox, as in a Lambda execution environment", () => {
  it("reuses a sandbox warm: two invocations one after the other run in the same one, with its module state", async () => {
    const topic = await createTopic(admin);
    const { logger, lines } = capturingLogger();
    const harness = track(
      await harnessWith(
        kafka,
        { module: fixtureHandler("reports-its-sandbox") },
        { topic },
        { logger },
      ),
    );
    await produce(kafka, topic, messages(1));
    await eventually("the first invocation", () => logged(lines, "invoked").length === 1);
    await produce(kafka, topic, messages(1, { from: 1 }));
    await eventually("the second invocation", () => logged(lines, "invoked").length === 2);
    const [first, second] = logged(lines, "invoked");
    expect(second?.sandbox).toBe(first?.sandbox);
    expect([first?.invocation, second?.invocation]).toEqual([1, 2]);
    const [stats] = await harness.stats();
    expect(stats?.coldStarts).toBe(1);
    // Counters travel back with each result; the harness's totals see them.
    await eventually("both counted", () => harness.metrics()["test-function"]?.invocations === 2);
    expect(harness.metrics()).toEqual({ "test-function": { invocations: 2 } });
  });

  it("runs a bundled function too: its own copies of the logger and the counters still reach the harness", async () => {
    const out = mkdtempSync(join(tmpdir(), "sensor-windows-sandbox-bundle-"));
    await build({
      entryPoints: [fileURLToPath(fixtureHandler("reports-its-sandbox"))],
      outfile: join(out, "index.mjs"),
      bundle: true,
      platform: "node",
      format: "esm",
      logLevel: "warning",
    });
    const topic = await createTopic(admin);
    const { logger, lines } = capturingLogger();
    const harness = track(
      await harnessWith(kafka, { module: join(out, "index.mjs") }, { topic }, { logger }),
    );
    await produce(kafka, topic, messages(1));
    await eventually("the bundle's log line", () => logged(lines, "invoked").length === 1);
    await eventually("its counter", () => harness.metrics()["test-function"]?.invocations === 1);
    rmSync(out, { recursive: true, force: true });
  });

  it("reports the declared MemorySize as context.memoryLimitInMB, and holds the sandbox's heap to what Lambda's runtime gives it", async () => {
    const { logger, lines } = capturingLogger();
    const declared = aggregateTrigger.memorySizeMb;
    const small = 96;
    for (const memorySizeMb of [declared, small]) {
      const topic = await createTopic(admin);
      track(
        await harnessWith(
          kafka,
          { module: fixtureHandler("reports-its-sandbox") },
          { topic },
          { logger, memorySizeMb },
        ),
      );
      await produce(kafka, topic, messages(1));
    }
    await eventually("both invoked", () => logged(lines, "invoked").length === 2);
    const byLimit = new Map(
      logged(lines, "invoked").map((l) => [l.memoryLimitInMB, l.heapLimitMb]),
    );
    expect([...byLimit.keys()].sort()).toEqual([String(declared), String(small)].sort());
    for (const [limit, heap] of byLimit) {
      // The old generation Lambda's runtime gives it, the sandbox's small young generation on top.
      const { oldSpaceMb } = lambdaHeap(Number(limit));
      expect(heap).toBeGreaterThanOrEqual(oldSpaceMb);
      expect(heap).toBeLessThan(oldSpaceMb + 64);
    }
  });

  it("ends a handler that hangs past its timeout: the retry runs in a new sandbox, a cold start, and the hung one never runs again", async () => {
    const topic = await createTopic(admin);
    const out = await createTopic(admin, 1, "out");
    markers.push(markerPath(topic, "hangs-once"));
    const groupId = uniqueName("group");
    const harness = track(
      await harnessWith(
        kafka,
        { module: fixtureHandler("hangs-once") },
        { topic, consumerGroupId: groupId, timeoutSeconds: 1 },
      ),
    );
    await produce(kafka, topic, [{ value: JSON.stringify({ out }) }]);
    const said = await readTopic(kafka, out, 2, 30_000);
    const [started, done] = said.map((s) => JSON.parse(s.message.value?.toString() ?? "{}"));
    expect(started).toMatchObject({ what: "started", invocation: 1 });
    expect(done).toMatchObject({ what: "done", invocation: 1 });
    expect(done.sandbox).not.toBe(started.sandbox);
    await eventually(
      "committed after the retry",
      async () => (await committedOffsets(admin, groupId, topic)).get(0) === 1,
    );
    // Left alone, the hung invocation would say "still running" 3 s after it started.
    await new Promise((r) => setTimeout(r, 3_500));
    const [end] = await admin.fetchTopicOffsets(out);
    expect(Number(end?.high)).toBe(2);
    const [stats] = await harness.stats();
    expect(stats?.coldStarts).toBe(2);
  });

  it("fails an invocation that runs out of memory, and retries it in a new sandbox", async () => {
    const topic = await createTopic(admin);
    markers.push(markerPath(topic, "runs-out-of-memory-once"));
    const groupId = uniqueName("group");
    const { logger, lines } = capturingLogger();
    track(
      await harnessWith(
        kafka,
        { module: fixtureHandler("runs-out-of-memory-once") },
        { topic, consumerGroupId: groupId },
        { logger, memorySizeMb: 64 },
      ),
    );
    await produce(kafka, topic, messages(1));
    await eventually(
      "committed after the retry",
      async () => (await committedOffsets(admin, groupId, topic)).get(0) === 1,
      30_000,
    );
    const [allocating] = logged(lines, "allocating");
    const [survived] = logged(lines, "survived");
    expect(allocating?.memoryLimitInMB).toBe("64");
    expect(survived?.sandbox).not.toBe(allocating?.sandbox);
    const [failure] = logged(lines, "batch failed; retrying");
    expect(failure?.error).toMatchObject({ name: "SandboxOutOfMemoryError" });
  });
});
