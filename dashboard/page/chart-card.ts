import uPlot from "uplot";
import { ClosedBy, type DrawnWindow, type SensorSummary, type WindowPoint } from "../protocol.ts";

const WIDTH = 300;
const HEIGHT = 120;
/** Deviations above this are flagged on the card. */
const NOTABLE_DEVIATION = 3;

const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });
/** 13:05 on the minute, 13:05:10 otherwise: short enough for five ticks on a small chart. */
const tick = (ms: number) => (ms % 60_000 === 0 ? clock(ms).slice(0, 5) : clock(ms));
const fixed = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/**
 * One sensor's small chart: the mean as a line, min–max as a band, windows closed by the idle
 * timeout marked with a ring, and a tooltip with the window's figures (and its count) on hover.
 */
export class ChartCard {
  readonly element: HTMLElement;
  readonly #limit: number;
  readonly #plot: uPlot;
  readonly #figures: HTMLElement;
  readonly #badge: HTMLElement;
  readonly #tooltip: HTMLElement;
  #windows: WindowPoint[] = [];

  constructor(sensor: string, limit: number) {
    this.#limit = limit;
    this.element = document.createElement("article");
    this.element.className = "card";
    this.element.dataset.sensor = sensor;
    const head = document.createElement("header");
    const name = document.createElement("h3");
    name.textContent = sensor;
    this.#badge = document.createElement("span");
    this.#badge.className = "deviation";
    this.#figures = document.createElement("p");
    this.#figures.className = "figures muted";
    head.append(name, this.#badge);
    const chart = document.createElement("div");
    chart.className = "chart";
    this.element.append(head, this.#figures, chart);
    this.#tooltip = document.createElement("div");
    this.#tooltip.className = "tooltip";
    this.#tooltip.hidden = true;
    this.#plot = new uPlot(this.#options(), [[], [], [], [], []], chart);
    this.#plot.over.append(this.#tooltip);
  }

  /** A window that just closed (or came again: a repeat replaces the first). */
  add(w: WindowPoint): void {
    this.#insert(w);
    this.#trimAndDraw();
  }

  /** Windows loaded for this sensor, merged with any that streamed in meanwhile. */
  merge(windows: readonly WindowPoint[]): void {
    for (const w of windows) this.#insert(w);
    this.#trimAndDraw();
  }

  summarize(s: SensorSummary): void {
    const last = s.last;
    this.#figures.textContent = `last ${clock(last.start)}–${clock(last.end)} · mean ${fixed(last.mean)} · count ${last.count}${
      last.closedBy === ClosedBy.idle ? " · idle" : ""
    }`;
    const d = s.deviation;
    this.#badge.textContent = d === null ? "" : d >= 1e6 ? "σ ∞" : `σ ${d.toFixed(1)}`;
    this.#badge.title =
      d === null
        ? ""
        : "how far the last mean is from this sensor's earlier means, in standard deviations";
    this.#badge.classList.toggle("notable", d !== null && d >= NOTABLE_DEVIATION);
  }

  drawn(): DrawnWindow[] {
    const [xs, mins, maxs, means, idle] = this.#plot.data;
    return Array.from(xs ?? [], (x, i) => ({
      end: Math.round(x * 1000),
      min: mins?.[i] as number,
      max: maxs?.[i] as number,
      mean: means?.[i] as number,
      count: this.#windows[i]?.count ?? Number.NaN,
      idleMarked: idle?.[i] !== null && idle?.[i] !== undefined,
    }));
  }

  /** The viewport position of the window's mean (to point at it, as a person would). */
  pointOf(end: number): { x: number; y: number } | null {
    const w = this.#windows.find((x) => x.end === end);
    if (w === undefined) return null;
    const rect = this.#plot.over.getBoundingClientRect();
    return {
      x: rect.left + this.#plot.valToPos(end / 1000, "x"),
      y: rect.top + this.#plot.valToPos(w.mean, "y"),
    };
  }

  destroy(): void {
    this.#plot.destroy();
    this.element.remove();
  }

  #insert(w: WindowPoint): void {
    const list = this.#windows;
    let i = list.length;
    while (i > 0 && (list[i - 1] as WindowPoint).start > w.start) i--;
    if (i > 0 && (list[i - 1] as WindowPoint).start === w.start) list[i - 1] = w;
    else list.splice(i, 0, w);
  }

  #trimAndDraw(): void {
    if (this.#windows.length > this.#limit)
      this.#windows.splice(0, this.#windows.length - this.#limit);
    const ws = this.#windows;
    this.#plot.setData([
      ws.map((w) => w.end / 1000),
      ws.map((w) => w.min),
      ws.map((w) => w.max),
      ws.map((w) => w.mean),
      ws.map((w) => (w.closedBy === ClosedBy.idle ? w.mean : null)),
    ]);
  }

  #hover(u: uPlot): void {
    const i = u.cursor.idx;
    const w = i === null || i === undefined ? undefined : this.#windows[i];
    if (w === undefined) {
      this.#tooltip.hidden = true;
      return;
    }
    const lines = [
      `${clock(w.start)}–${clock(w.end)}`,
      `count ${w.count}`,
      `mean ${fixed(w.mean)}`,
      `min ${fixed(w.min)} · max ${fixed(w.max)}`,
      ...(w.closedBy === ClosedBy.idle ? ["closed by the idle timeout"] : []),
    ];
    this.#tooltip.replaceChildren(
      ...lines.map((text) => {
        const line = document.createElement("div");
        line.textContent = text;
        return line;
      }),
    );
    this.#tooltip.hidden = false;
    const left = u.valToPos(w.end / 1000, "x");
    const flip = left > u.over.clientWidth / 2;
    this.#tooltip.style.left = flip ? "" : `${left + 8}px`;
    this.#tooltip.style.right = flip ? `${u.over.clientWidth - left + 8}px` : "";
  }

  #options(): uPlot.Options {
    const axis = {
      stroke: "#5b6270",
      font: "10px system-ui, sans-serif",
      grid: { stroke: "#eceef2", width: 1 },
      ticks: { show: false },
    };
    return {
      width: WIDTH,
      height: HEIGHT,
      legend: { show: false },
      cursor: {
        y: false,
        drag: { x: false, y: false, setScale: false },
        points: { size: 7 },
      },
      scales: { x: { time: true } },
      axes: [
        {
          ...axis,
          size: 24,
          space: 40,
          // One line per tick: uPlot's default puts the date under the time, which this small a
          // chart cuts off, and windows are minutes old, not days.
          values: (_u: uPlot, splits: number[]) => splits.map((s) => tick(s * 1000)),
        },
        { ...axis, size: 34, space: 24 },
      ],
      series: [
        {},
        { label: "min", stroke: "rgba(37, 99, 235, 0.35)", width: 1, points: { show: false } },
        { label: "max", stroke: "rgba(37, 99, 235, 0.35)", width: 1, points: { show: false } },
        { label: "mean", stroke: "#1d4ed8", width: 1.75, points: { size: 4 } },
        {
          label: "closed by the idle timeout",
          stroke: "#d97706",
          paths: () => null,
          points: { show: true, size: 9, width: 2, stroke: "#d97706", fill: "#ffffff" },
        },
      ],
      bands: [{ series: [2, 1], fill: "rgba(37, 99, 235, 0.14)" }],
      hooks: { setCursor: [(u) => this.#hover(u)] },
    };
  }
}
