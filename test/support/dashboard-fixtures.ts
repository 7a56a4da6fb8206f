import type { Message } from "kafkajs";
import type { Browser, Page } from "playwright-core";
import { temperatureAggregation } from "../../core/temperature-aggregation.ts";
import { defaultWindowSpec } from "../../core/window-spec.ts";
import type { DashboardStats, DrawnWindow, WindowPoint } from "../../dashboard/protocol.ts";
import { deadLetterRecord, lateRecord, windowRecord } from "../../functions/output-records.ts";
import type { OutputRecord } from "../../functions/record-sink.ts";

export const WINDOW_MS = defaultWindowSpec.sizeMs;

/** The end of the last window that closed before now, on the 10 s grid. */
export const lastClosedEnd = (now = Date.now()) => Math.floor(now / WINDOW_MS) * WINDOW_MS;

/**
 * `n` windows of `sensor` ending at `lastEnd`: a slow wave around `level`, so a chart of them is a
 * curve a person recognises, with a count that varies so a wrong count shows.
 */
export const waveWindows = (
  sensor: string,
  n: number,
  lastEnd: number,
  options: { level?: number; phase?: number; idleLast?: boolean } = {},
): WindowPoint[] =>
  Array.from({ length: n }, (_, i) => {
    const end = lastEnd - (n - 1 - i) * WINDOW_MS;
    const mean = (options.level ?? 50) + 18 * Math.sin(i / 5 + (options.phase ?? 0));
    const spread = 6 + 4 * Math.cos(i / 3);
    return {
      sensor,
      start: end - WINDOW_MS,
      end,
      count: 4 + ((i * 7) % 9),
      min: mean - spread,
      max: mean + spread * 1.3,
      mean,
      closedBy: options.idleLast && i === n - 1 ? "idle" : "stream-time",
    };
  });

const toMessage = (r: OutputRecord): Message => ({
  key: r.key,
  value: r.value,
  ...(r.headers === undefined ? {} : { headers: r.headers }),
});

/** A window as aggregate-temperatures writes it (functions/output-records.ts). */
export const windowMessage = (w: WindowPoint): Message =>
  toMessage(
    windowRecord(
      {
        sensor: w.sensor,
        start: w.start,
        end: w.end,
        result: { count: w.count, min: w.min, max: w.max, mean: w.mean },
        closedBy: w.closedBy === "idle" ? "idle" : "stream-time",
      },
      temperatureAggregation,
    ),
  );

/** A late reading of `sensor` for the window [windowStart, +10 s), as the function writes it. */
export const lateMessage = (sensor: string, windowStart: number, lateByMs: number): Message => {
  const eventTime = windowStart + 4_000;
  return toMessage(
    lateRecord({
      reading: {
        sensor,
        eventTime,
        value: 42,
        source: { topic: "raw-temperature", partition: 0, offset: 7, timestamp: eventTime },
      },
      windowStart,
      windowEnd: windowStart + WINDOW_MS,
      windowClosedAt: windowStart + WINDOW_MS + defaultWindowSpec.graceMs,
      streamTime: windowStart + WINDOW_MS + defaultWindowSpec.graceMs + lateByMs,
      lateByMs,
    }),
  );
};

/** A dead letter for a record at `offset` of raw-temperature, as the function writes it. */
export const deadLetterMessage = (
  reason: Parameters<typeof deadLetterRecord>[1],
  detail: string,
  offset: number,
): Message =>
  toMessage(
    deadLetterRecord(
      {
        topic: "raw-temperature",
        partition: 1,
        offset,
        timestamp: Date.now(),
        timestampType: "CREATE_TIME",
        key: Buffer.from("Sensor9").toString("base64"),
        value: Buffer.from("{oops").toString("base64"),
        headers: [],
      },
      reason,
      detail,
    ),
  );

/** What the page's `window.sensorWindows` answers (dashboard/page/main.ts). */
interface PageApi {
  loaded(): boolean;
  shownSensors(): string[];
  chart(sensor: string): DrawnWindow[] | null;
  pointOf(sensor: string, end: number): { x: number; y: number } | null;
  stats(): DashboardStats | null;
}
type WithApi = { sensorWindows: PageApi };

/** Opens the page and waits until it has read the topics back and drawn. Fails on page errors. */
export const openDashboard = async (browser: Browser, url: string): Promise<Page> => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url);
  await page.waitForFunction(
    () => (globalThis as unknown as WithApi).sensorWindows?.loaded(),
    null,
    {
      timeout: 20_000,
    },
  );
  if (errors.length > 0) throw new Error(`the page reported errors: ${errors.join("; ")}`);
  return page;
};

/** The windows a sensor's chart draws, read from the chart's data; null when it has no chart. */
export const drawn = (page: Page, sensor: string) =>
  page.evaluate((s) => (globalThis as unknown as WithApi).sensorWindows.chart(s), sensor);

export const shownSensors = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as WithApi).sensorWindows.shownSensors());

export const pointOf = (page: Page, sensor: string, end: number) =>
  page.evaluate(([s, e]) => (globalThis as unknown as WithApi).sensorWindows.pointOf(s, e), [
    sensor,
    end,
  ] as const);

/** Waits until the sensor's chart draws a window ending at `end`. */
export const waitForWindow = (page: Page, sensor: string, end: number, timeout: number) =>
  page.waitForFunction(
    ([s, e]) =>
      (globalThis as unknown as WithApi).sensorWindows.chart(s)?.some((w) => w.end === e) === true,
    [sensor, end] as const,
    { timeout, polling: 20 },
  );

/** The text of what `selector` matches, as rendered: what a person reads there. */
export const textOf = (page: Page, selector: string) =>
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text (hidden parts left out, lines kept), which is the point here
  page.locator(selector).innerText();
