import "uplot/dist/uPlot.min.css";
import "./style.css";
import {
  type Activity,
  type DashboardSource,
  type DashboardStats,
  type DeadLetterItem,
  type LateItem,
  MAX_SENSORS_PER_REQUEST,
  type SensorSummary,
  type Snapshot,
  StreamEvent,
  type WindowsBySensor,
  type WindowsEvent,
} from "../protocol.ts";
import { rankSensors, SensorOrder, type SensorOrderName } from "../ranking.ts";
import { ChartCard } from "./chart-card.ts";

/** Charts shown at first, and added by each "Show more": enough to scan, few enough to stay fast. */
const PAGE_SIZE = 24;
/** Rankings are redone at most this often: a grid that reshuffles on every window can't be read. */
const RERANK_EVERY_MS = 1_000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, className?: string, text?: string): HTMLElement => {
  const e = document.createElement(tag);
  if (className !== undefined) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};
const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour12: false });
const number = (n: number) => n.toLocaleString("en-US");

const state = {
  summaries: new Map<string, SensorSummary>(),
  source: null as DashboardSource | null,
  windowsPerSensor: 60,
  stats: null as DashboardStats | null,
  order: SensorOrder.recent as SensorOrderName,
  search: "",
  limit: PAGE_SIZE,
  cards: new Map<string, ChartCard>(),
  ranked: [] as SensorSummary[],
  rankingStale: true,
  loaded: false,
  /** Window loads under way: the charts are complete only when none is. */
  loadsPending: 0,
};

// --- data in ---------------------------------------------------------------------------------

const getJson = async <T>(path: string): Promise<T> => {
  const res = await fetch(path, { cache: "no-store" });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
};

const loadSnapshot = async () => {
  const snapshot = await getJson<Snapshot>("/api/snapshot");
  state.source = snapshot.source;
  state.windowsPerSensor = snapshot.windowsPerSensor;
  const summaries = new Map(snapshot.sensors.map((s) => [s.sensor, s]));
  // Windows streamed while the snapshot was on its way are newer than it: keep them.
  for (const [sensor, s] of state.summaries) {
    const known = summaries.get(sensor);
    if (known === undefined || s.last.end > known.last.end) summaries.set(sensor, s);
  }
  state.summaries = summaries;
  showSource(snapshot.source);
  showStats(snapshot.stats);
  // The shown charts may have missed windows while the stream was away: load them again.
  await loadWindows([...state.cards.keys()]);
  state.loaded = true;
  rerank();
};

const loadWindows = async (sensors: string[]) => {
  state.loadsPending++;
  try {
    await loadWindowsOf(sensors);
  } finally {
    state.loadsPending--;
  }
};

const loadWindowsOf = async (sensors: string[]) => {
  for (let i = 0; i < sensors.length; i += MAX_SENSORS_PER_REQUEST) {
    const query = sensors
      .slice(i, i + MAX_SENSORS_PER_REQUEST)
      .map((s) => `sensor=${encodeURIComponent(s)}`)
      .join("&");
    const bySensor = await getJson<WindowsBySensor>(`/api/windows?${query}`);
    for (const [sensor, windows] of Object.entries(bySensor)) {
      state.cards.get(sensor)?.merge(windows);
    }
  }
};

const connect = () => {
  const events = new EventSource("/events");
  const connection = $("connection");
  let lost = false;
  events.addEventListener("open", () => {
    connection.dataset.state = "live";
    connection.textContent = "live";
    // Whatever closed while the stream was away is in the snapshot.
    if (lost) void loadSnapshot().catch(showError);
    lost = false;
  });
  events.addEventListener("error", () => {
    connection.dataset.state = "lost";
    connection.textContent = "reconnecting…";
    lost = true;
  });
  events.addEventListener(StreamEvent.stats, (e) => {
    showStats(JSON.parse((e as MessageEvent<string>).data) as DashboardStats);
  });
  events.addEventListener(StreamEvent.reset, () => void loadSnapshot().catch(showError));
  events.addEventListener(StreamEvent.windows, (e) => {
    const { windows } = JSON.parse((e as MessageEvent<string>).data) as WindowsEvent;
    for (const { window, summary } of windows) {
      state.summaries.set(summary.sensor, summary);
      state.cards.get(window.sensor)?.add(window);
      state.cards.get(window.sensor)?.summarize(summary);
    }
    state.rankingStale = true;
  });
};

// --- the grid ----------------------------------------------------------------------------------

/** Ranks, then shows the first `limit` sensors, reusing the charts already there. */
const rerank = () => {
  state.rankingStale = false;
  state.ranked = rankSensors(state.summaries.values(), state.order, state.search);
  const visible = state.ranked.slice(0, state.limit);
  const grid = $("charts");
  const keep = new Set(visible.map((s) => s.sensor));
  for (const [sensor, card] of state.cards) {
    if (!keep.has(sensor)) {
      card.destroy();
      state.cards.delete(sensor);
    }
  }
  const newcomers: string[] = [];
  visible.forEach((summary, i) => {
    let card = state.cards.get(summary.sensor);
    if (card === undefined) {
      card = new ChartCard(summary.sensor, state.windowsPerSensor);
      state.cards.set(summary.sensor, card);
      newcomers.push(summary.sensor);
    }
    card.summarize(summary);
    if (grid.children[i] !== card.element)
      grid.insertBefore(card.element, grid.children[i] ?? null);
  });
  const total = state.summaries.size;
  $("shown").textContent =
    state.search.trim() === ""
      ? `${number(visible.length)} of ${number(total)} sensors`
      : `${number(visible.length)} of ${number(state.ranked.length)} matching, ${number(total)} sensors`;
  $("more").hidden = state.ranked.length <= visible.length;
  if (total === 0) grid.replaceChildren(emptyGrid());
  else grid.querySelector(".empty")?.remove();
  if (newcomers.length > 0) void loadWindows(newcomers).catch(showError);
};

const emptyGrid = () =>
  el(
    "p",
    "empty muted",
    state.stats?.caughtUp === false
      ? "Reading the topic's recent windows…"
      : `No windows on ${state.source?.windowsTopic ?? "the topic"} yet: they appear here as they close.`,
  );

// --- panels ------------------------------------------------------------------------------------

const showSource = (source: DashboardSource) => {
  $("source").textContent = `${source.windowsTopic} on ${source.brokers.join(",")}`;
};

const showStats = (stats: DashboardStats) => {
  state.stats = stats;
  showPipeline(stats);
  showActivity(
    $("late"),
    stats.late,
    state.source?.lateTopic,
    (l: LateItem) =>
      `${l.sensor} late by ${(l.lateByMs / 1000).toFixed(1)} s (window ${clock(l.windowStart)}–${clock(l.windowEnd)})`,
  );
  showActivity(
    $("dead-letters"),
    stats.deadLetters,
    state.source?.deadLetterTopic,
    (d: DeadLetterItem) => d.reason,
    (d: DeadLetterItem) =>
      [
        d.detail,
        d.source === null ? "" : `${d.source.topic}-${d.source.partition}@${d.source.offset}`,
      ]
        .filter((s) => s !== "")
        .join(" · "),
  );
  if (state.summaries.size === 0 && state.loaded) $("charts").replaceChildren(emptyGrid());
};

const showPipeline = (stats: DashboardStats) => {
  const box = $("pipeline");
  const parts: HTMLElement[] = [
    el(
      "p",
      "muted",
      `${number(stats.sensors)} sensors, ${number(stats.windowsHeld)} windows held${
        stats.caughtUp ? "" : " (reading back…)"
      }${stats.unreadable > 0 ? `, ${number(stats.unreadable)} unreadable records` : ""}`,
    ),
  ];
  if (stats.pipeline === null) {
    parts.push(
      el(
        "p",
        "muted",
        "Lag unknown: npm start shows the harness's; npm run dashboard -- --group ID shows a group's.",
      ),
    );
  } else {
    for (const c of stats.pipeline.consumers) {
      const head = el("div", "consumer");
      head.append(
        el("strong", undefined, c.name),
        el(
          "span",
          "rate",
          c.recordsPerSecond === null
            ? "– records/s"
            : `${number(Math.round(c.recordsPerSecond))} records/s`,
        ),
      );
      const table = el("table", "lag");
      const header = el("tr");
      for (const h of ["partition", "committed", "end", "lag"])
        header.append(el("th", undefined, h));
      table.append(header);
      for (const p of c.partitions) {
        const row = el("tr");
        row.dataset.partition = `${p.topic}-${p.partition}`;
        row.append(
          el("td", undefined, p.topic === "" ? String(p.partition) : `${p.topic}-${p.partition}`),
          el("td", "num", p.committed === null ? "–" : number(p.committed)),
          el("td", "num", p.end === null ? "–" : number(p.end)),
          el(
            "td",
            `num lag-value${(p.lag ?? 0) > 0 ? " behind" : ""}`,
            p.lag === null ? "–" : number(p.lag),
          ),
        );
        table.append(row);
      }
      parts.push(head, table);
    }
  }
  box.replaceChildren(...parts);
};

/** Per-minute bars for the last minutes, the count of this minute, and the last few items. */
const showActivity = <T>(
  box: HTMLElement,
  activity: Activity<T>,
  topic: string | null | undefined,
  title: (item: T) => string,
  detail?: (item: T) => string,
) => {
  if (topic === null) {
    box.replaceChildren(el("p", "muted", "Not shown: the topic does not exist."));
    return;
  }
  const current = activity.perMinute[activity.perMinute.length - 1]?.count ?? 0;
  const previous = activity.perMinute[activity.perMinute.length - 2]?.count ?? 0;
  const figures = el("p", "figures");
  figures.append(
    el("span", "big", number(current)),
    el(
      "span",
      "muted",
      ` this minute · ${number(previous)} the minute before · ${number(activity.total)} in all`,
    ),
  );
  const peak = Math.max(1, ...activity.perMinute.map((m) => m.count));
  const bars = el("div", "bars");
  bars.setAttribute("aria-label", "per minute, the last 15 minutes");
  for (const m of activity.perMinute) {
    const bar = el("span", m.count > 0 ? "bar some" : "bar");
    bar.style.height = `${Math.max(2, (m.count / peak) * 100)}%`;
    bar.title = `${clock(m.minute)}: ${m.count}`;
    bars.append(bar);
  }
  const list = el("ul", "recent");
  for (const item of activity.recent) {
    const li = el("li");
    li.append(el("span", "reason", title(item)));
    const d = detail?.(item);
    if (d !== undefined && d !== "") li.append(el("span", "detail muted", d));
    list.append(li);
  }
  box.replaceChildren(figures, bars, list);
};

const showError = (error: unknown) => {
  const connection = $("connection");
  connection.dataset.state = "lost";
  connection.textContent = `error: ${error instanceof Error ? error.message : String(error)}`;
};

// --- controls ----------------------------------------------------------------------------------

let searchTimer: number | undefined;
$<HTMLInputElement>("search").addEventListener("input", (e) => {
  window.clearTimeout(searchTimer);
  searchTimer = window.setTimeout(() => {
    state.search = (e.target as HTMLInputElement).value;
    state.limit = PAGE_SIZE;
    rerank();
  }, 120);
});
$<HTMLSelectElement>("order").addEventListener("change", (e) => {
  state.order = (e.target as HTMLSelectElement).value as SensorOrderName;
  state.limit = PAGE_SIZE;
  rerank();
});
$("more").addEventListener("click", () => {
  state.limit += PAGE_SIZE;
  rerank();
});
window.setInterval(() => {
  if (state.rankingStale && state.loaded) rerank();
}, RERANK_EVERY_MS);

/**
 * What the page shows, read from the charts themselves: for tests and for a person at the console.
 * `windows` is what each chart draws (its uPlot data) with the count its tooltip shows.
 */
const api = {
  /** The snapshot is in, the server has read the topics' history, and every shown chart's windows are loaded. */
  loaded: () => state.loaded && state.stats?.caughtUp === true && state.loadsPending === 0,
  shownSensors: () =>
    [...$("charts").querySelectorAll<HTMLElement>(".card")].map((c) => c.dataset.sensor ?? ""),
  chart: (sensor: string) => state.cards.get(sensor)?.drawn() ?? null,
  /** Where, in the viewport, the chart draws the mean of the window ending at `end`. */
  pointOf: (sensor: string, end: number) => state.cards.get(sensor)?.pointOf(end) ?? null,
  stats: () => state.stats,
};
(window as unknown as { sensorWindows: typeof api }).sensorWindows = api;

connect();
void loadSnapshot().catch(showError);
