import type { Message } from "kafkajs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WindowPoint } from "../../dashboard/protocol.ts";
import { type Dashboard, startDashboard } from "../../dashboard/server.ts";
import { PRODUCER_CONFIG } from "../../functions/kafka-producer.ts";
import { launchChromium } from "../support/browser.ts";
import {
  lastClosedEnd,
  openDashboard,
  shownSensors,
  textOf,
  WINDOW_MS,
  waitForWindow,
  windowMessage,
} from "../support/dashboard-fixtures.ts";
import { brokers, createTopic, useBroker } from "../support/harness-fixtures.ts";

/**
 * 10 000 sensors: the page shows a page of charts, the most recently active or the most deviating
 * first, finds any sensor by name, and stays responsive while a window of every sensor streams in.
 */
const SENSORS = 10_000;
const { kafka, admin } = useBroker();
let browser: Browser;
let dashboard: Dashboard;
let page: Page;
let topic: string;
const lastEnd = lastClosedEnd() - 2 * WINDOW_MS;
const name = (i: number) => `Sensor${i}`;
/** Its last window is far from its earlier ones. */
const deviating = name(7_777);
/** The only sensor with a window after `lastEnd`. */
const latest = name(4_242);

/** Four windows per sensor, means within ±1 of 50, except where the test wants a difference. */
const windowsOf = (i: number): WindowPoint[] =>
  [3, 2, 1, 0].map((back, k) => {
    const end = lastEnd - back * WINDOW_MS;
    const mean = name(i) === deviating && back === 0 ? 95 : 50 + (((i + k) % 3) - 1);
    return {
      sensor: name(i),
      start: end - WINDOW_MS,
      end,
      count: 5,
      min: mean - 5,
      max: mean + 5,
      mean,
      closedBy: "stream-time",
    };
  });

const sendAll = async (all: Message[]) => {
  const producer = kafka.producer(PRODUCER_CONFIG);
  await producer.connect();
  for (let i = 0; i < all.length; i += 5_000) {
    await producer.send({ topic, acks: -1, messages: all.slice(i, i + 5_000) });
  }
  await producer.disconnect();
};

type WithLongTasks = { longTasks: number[] };

/** Records the page's long tasks (50 ms and more on its main thread): what makes a page stutter. */
const watchLongTasks = () =>
  page.evaluate(() => {
    const g = globalThis as unknown as WithLongTasks;
    g.longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) g.longTasks.push(e.duration);
    }).observe({ entryTypes: ["longtask" as "mark"] });
  });
const longTasks = () => page.evaluate(() => (globalThis as unknown as WithLongTasks).longTasks);

beforeAll(async () => {
  browser = await launchChromium();
  topic = await createTopic(admin, 1, "agg-many");
  const all: WindowPoint[] = [];
  for (let i = 1; i <= SENSORS; i++) all.push(...windowsOf(i));
  all.push({ ...(windowsOf(4_242)[3] as WindowPoint), start: lastEnd, end: lastEnd + WINDOW_MS });
  await sendAll(all.map(windowMessage));
  dashboard = await startDashboard({
    kafka,
    brokers,
    windowsTopic: topic,
    lateTopic: null,
    deadLetterTopic: null,
    port: 0,
  });
  page = await openDashboard(browser, dashboard.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.stop();
});

describe("the dashboard with 10 000 sensors", () => {
  it("shows one page of charts, the most recently active sensor first", async () => {
    await expect.poll(() => textOf(page, "#shown")).toBe("24 of 10,000 sensors");
    const shown = await shownSensors(page);
    expect(shown).toHaveLength(24);
    expect(shown[0]).toBe(latest);
  });

  it("puts the most deviating sensor first when asked", async () => {
    await page.selectOption("#order", "deviation");
    await expect.poll(async () => (await shownSensors(page))[0]).toBe(deviating);
    await expect
      .poll(() => textOf(page, `.card[data-sensor="${deviating}"] .deviation`))
      .toMatch(/^σ /);
  });

  it("finds any sensor with the search box, within a second", async () => {
    const t0 = Date.now();
    await page.fill("#search", "Sensor9999");
    await expect.poll(() => shownSensors(page), { interval: 20 }).toEqual([name(9_999)]);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await page.fill("#search", "sensor123");
    // Sensor123, Sensor1230..1239: eleven sensors match.
    await expect.poll(() => textOf(page, "#shown")).toBe("11 of 11 matching, 10,000 sensors");
    await page.fill("#search", "");
  });

  it("stays responsive while a window of every sensor streams in, and shows them", async () => {
    await page.selectOption("#order", "recent");
    const end = lastEnd + 2 * WINDOW_MS;
    const burst = Array.from({ length: SENSORS }, (_, i) =>
      windowMessage({
        sensor: name(i + 1),
        start: end - WINDOW_MS,
        end,
        count: 6,
        min: 40,
        max: 60,
        mean: 50,
        closedBy: "idle",
      }),
    );
    await watchLongTasks();
    await sendAll(burst);
    await waitForWindow(page, name(1), end, 10_000);
    await expect
      .poll(() => textOf(page, "#pipeline"))
      .toContain("10,000 sensors, 50,001 windows held");
    // A frozen page takes seconds; a person notices a few hundred milliseconds. (About 90 ms here,
    // on two shared cores.)
    expect(Math.max(0, ...(await longTasks()))).toBeLessThan(300);
  });
});
