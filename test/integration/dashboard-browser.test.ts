import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import type { Producer } from "kafkajs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { groupProgress } from "../../dashboard/pipeline-progress.ts";
import type { WindowPoint } from "../../dashboard/protocol.ts";
import { type Dashboard, startDashboard } from "../../dashboard/server.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { launchChromium } from "../support/browser.ts";
import {
  deadLetterMessage,
  drawn,
  lastClosedEnd,
  lateMessage,
  openDashboard,
  pointOf,
  shownSensors,
  textOf,
  WINDOW_MS,
  waitForWindow,
  waveWindows,
  windowMessage,
} from "../support/dashboard-fixtures.ts";
import {
  brokers,
  commitGroupOffsets,
  createTopic,
  messages,
  produce,
  uniqueName,
  useBroker,
} from "../support/harness-fixtures.ts";

/**
 * The dashboard as a person sees it: the page in headless Chromium, against windows, late readings
 * and dead letters on real topics (written as aggregate-temperatures writes them), with a consumer
 * group's lag. What the charts draw is read from the charts' own data, and compared with the topic.
 */
const { kafka, admin } = useBroker();
let browser: Browser;
let dashboard: Dashboard;
let page: Page;
let producer: Producer;
const topics = { windows: "", late: "", deadLetters: "", raw: "" };
const group = uniqueName("trigger-group");
const lastEnd = lastClosedEnd() - WINDOW_MS;
const sensors = ["Sensor1", "Sensor2", "Sensor3", "Sensor4", "Sensor5", "Sensor6"];
const history: WindowPoint[] = sensors.flatMap((sensor, i) =>
  waveWindows(sensor, 30, lastEnd, { phase: i, level: 40 + i * 4, idleLast: sensor === "Sensor3" }),
);
/** Committed offsets of the trigger's group per raw partition, of 12 records per partition. */
const committed = [12, 7, 0];

beforeAll(async () => {
  browser = await launchChromium();
  topics.windows = await createTopic(admin, 1, "agg");
  topics.late = await createTopic(admin, 1, "late");
  topics.deadLetters = await createTopic(admin, 1, "dlq");
  topics.raw = await createTopic(admin, 3, "raw");
  await produce(kafka, topics.windows, history.map(windowMessage));
  await produce(kafka, topics.late, [
    lateMessage("Sensor2", lastEnd - 5 * WINDOW_MS, 3_200),
    lateMessage("Sensor5", lastEnd - 2 * WINDOW_MS, 12_500),
  ]);
  await produce(kafka, topics.deadLetters, [
    deadLetterMessage("bad-ts", 'ts "yesterday" is not an ISO 8601 time', 11),
  ]);
  for (const partition of [0, 1, 2]) {
    await produce(kafka, topics.raw, messages(12, { partition, from: partition * 100 }));
  }
  await commitGroupOffsets(
    kafka,
    admin,
    group,
    topics.raw,
    committed.map((offset, partition) => ({ partition, offset: String(offset) })),
  );
  producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  dashboard = await startDashboard({
    kafka,
    brokers,
    windowsTopic: topics.windows,
    lateTopic: topics.late,
    deadLetterTopic: topics.deadLetters,
    port: 0,
    pipeline: groupProgress(admin, group),
  });
  page = await openDashboard(browser, dashboard.url);
});

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
  await producer?.disconnect();
});

describe("the dashboard page, in headless Chromium", () => {
  it("opens with one chart per sensor, drawing exactly the windows the topic holds", async () => {
    expect((await shownSensors(page)).sort()).toEqual(sensors);
    for (const sensor of sensors) {
      const expected = history
        .filter((w) => w.sensor === sensor)
        .map((w) => ({
          end: w.end,
          min: w.min,
          max: w.max,
          mean: w.mean,
          count: w.count,
          idleMarked: w.closedBy === "idle",
        }));
      expect(await drawn(page, sensor)).toEqual(expected);
    }
  });

  it("marks the windows closed by the idle timeout, and only those", async () => {
    const marked = (await drawn(page, "Sensor3"))?.filter((w) => w.idleMarked) ?? [];
    expect(marked.map((w) => w.end)).toEqual([lastEnd]);
    expect((await drawn(page, "Sensor1"))?.some((w) => w.idleMarked)).toBe(false);
  });

  it("shows a window's count, mean, min and max on hover", async () => {
    const w = history.filter((x) => x.sensor === "Sensor4")[20] as WindowPoint;
    const at = await pointOf(page, "Sensor4", w.end);
    expect(at).not.toBeNull();
    await page.mouse.move(at?.x ?? 0, at?.y ?? 0);
    const tooltip = '.card[data-sensor="Sensor4"] .tooltip';
    await page.locator(tooltip).waitFor({ state: "visible", timeout: 2_000 });
    const text = await textOf(page, tooltip);
    expect(text).toContain(`count ${w.count}`);
    expect(text).toContain(`mean ${w.mean.toFixed(2)}`);
    expect(text).toContain(`min ${w.min.toFixed(2)} · max ${w.max.toFixed(2)}`);
    await page.mouse.move(0, 0);
  });

  it("shows late readings per minute with the last ones", async () => {
    await expect.poll(() => textOf(page, "#late")).toContain("2 in all");
    const text = await textOf(page, "#late");
    expect(text).toContain("Sensor5 late by 12.5 s");
    expect(text).toContain("Sensor2 late by 3.2 s");
  });

  it("shows the trigger group's lag per partition and its records per second", async () => {
    const rows = page.locator("#pipeline table.lag tr[data-partition]");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    for (const [partition, offset] of committed.entries()) {
      const lag = `#pipeline tr[data-partition="${topics.raw}-${partition}"] .lag-value`;
      await expect.poll(() => textOf(page, lag)).toBe(String(12 - offset));
    }
    // A rate needs two readings of the offsets, a couple of seconds apart.
    await expect
      .poll(() => textOf(page, "#pipeline"), { timeout: 10_000 })
      .toMatch(/\d+ records\/s/);
  });

  it("draws a window on its chart within 2 s of it being produced", async () => {
    const next: WindowPoint = {
      sensor: "Sensor2",
      start: lastEnd,
      end: lastEnd + WINDOW_MS,
      count: 11,
      min: 38.5,
      max: 52.25,
      mean: 44.75,
      closedBy: "stream-time",
    };
    const t0 = Date.now();
    await producer.send({ topic: topics.windows, acks: -1, messages: [windowMessage(next)] });
    await waitForWindow(page, "Sensor2", next.end, 2_000);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await drawn(page, "Sensor2"))?.at(-1)).toEqual({
      end: next.end,
      min: next.min,
      max: next.max,
      mean: next.mean,
      count: next.count,
      idleMarked: false,
    });
    // The most recently active sensor comes first once the ranking refreshes.
    await expect.poll(async () => (await shownSensors(page))[0]).toBe("Sensor2");
  });

  it("shows a dead letter's reason as it arrives", async () => {
    await producer.send({
      topic: topics.deadLetters,
      acks: -1,
      messages: [deadLetterMessage("not-json", "Unexpected token o in JSON at position 1", 42)],
    });
    await expect
      .poll(() => textOf(page, "#dead-letters"), { timeout: 2_000, interval: 50 })
      .toContain("not-json");
    const text = await textOf(page, "#dead-letters");
    expect(text).toContain("2 in all");
    expect(text).toContain("raw-temperature-1@42");
    expect(text).toContain("bad-ts");
  });

  it("narrows the charts to the sensors a search matches", async () => {
    await page.fill("#search", "sensor4");
    await expect.poll(() => shownSensors(page)).toEqual(["Sensor4"]);
    await expect.poll(() => textOf(page, "#shown")).toBe("1 of 1 matching, 6 sensors");
    await page.fill("#search", "");
    await expect.poll(async () => (await shownSensors(page)).length).toBe(6);
  });

  // The README's picture: rewritten when missing or when asked (UPDATE_SCREENSHOTS=1), so that a
  // plain `npm test` leaves the working tree as it found it.
  it("takes a screenshot of the page for the README (docs/dashboard.png)", async () => {
    await page.setViewportSize({ width: 1340, height: 720 });
    const w = history.filter((x) => x.sensor === "Sensor1")[24] as WindowPoint;
    const at = await pointOf(page, "Sensor1", w.end);
    await page.mouse.move(at?.x ?? 0, at?.y ?? 0);
    const shot = await page.screenshot();
    expect(shot.length).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOTS === "1" || !existsSync("docs/dashboard.png")) {
      await mkdir("docs", { recursive: true });
      await writeFile("docs/dashboard.png", shot);
    }
  });
});
