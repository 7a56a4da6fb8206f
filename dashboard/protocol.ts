/**
 * What the dashboard server tells the page: the JSON of `/api/snapshot`, `/api/windows` and the
 * Server-Sent Events of `/events`. Shared by the server and the page's bundle, so it holds types and
 * constants only (no Node, no DOM), and imports nothing but types.
 */

import type { TemperatureWindow } from "../core/temperature-aggregation.ts";

/** How a window was closed, as `closedBy` says on the windows topic. */
export const ClosedBy = { streamTime: "stream-time", idle: "idle" } as const;

/** One closed window of one sensor, as the windows topic holds it. */
export interface WindowPoint extends TemperatureWindow {
  /** `stream-time` or `idle`; kept as read so a newer pipeline's reason still shows. */
  closedBy: string;
}

/** What the page needs to rank a sensor without holding its windows. */
export interface SensorSummary {
  sensor: string;
  /** The window with the latest start the dashboard holds for this sensor. */
  last: WindowPoint;
  /** Windows held for this sensor (at most the server's windows per sensor). */
  held: number;
  /**
   * How far the last window's mean is from the means of the sensor's earlier windows, in their
   * standard deviations; null until there are enough earlier windows to say.
   */
  deviation: number | null;
}

/** A late reading, as the late topic holds it, with the time it was written there. */
export interface LateItem {
  sensor: string;
  eventTime: number;
  windowStart: number;
  windowEnd: number;
  lateByMs: number;
  /** The Kafka timestamp of the record on the late topic. */
  at: number;
}

/** A dead letter, without the original record (it can be large and is of no use on a chart). */
export interface DeadLetterItem {
  reason: string;
  detail: string;
  source: { topic: string; partition: number; offset: string | number } | null;
  /** The Kafka timestamp of the record on the dead-letter topic. */
  at: number;
}

/** A per-minute count, `minute` being the minute's start (epoch ms). */
export interface MinuteCount {
  minute: number;
  count: number;
}

/** Late readings or dead letters: how many per minute lately, in all, and the last few. */
export interface Activity<T> {
  /** The last minutes, oldest first, the current minute last, zero-filled. */
  perMinute: MinuteCount[];
  total: number;
  /** Newest first. */
  recent: T[];
}

/** One partition of a consumer: where it is and how far behind. */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The next offset the consumer will read (committed); null when it committed none. */
  committed: number | null;
  /** The partition's high watermark; null when the broker did not say. */
  end: number | null;
  /** `end - committed`; null when either is unknown. */
  lag: number | null;
}

/** A consumer of the pipeline: the harness's event source mapping, or a consumer group. */
export interface ConsumerProgress {
  name: string;
  /** Records handed to the function (harness) or committed (group) per second, lately. */
  recordsPerSecond: number | null;
  partitions: PartitionLag[];
}

/** The pipeline's progress, when the dashboard knows it (npm start, or `--group`). */
export interface PipelineProgress {
  at: number;
  consumers: ConsumerProgress[];
}

/** What the dashboard reads. */
export interface DashboardSource {
  brokers: string[];
  windowsTopic: string;
  /** Null when the topic is not there (or not asked for). */
  lateTopic: string | null;
  deadLetterTopic: string | null;
}

/** The counters and progress pushed every second (event `stats`) and part of the snapshot. */
export interface DashboardStats {
  /** False while the server still reads back the topics' recent history. */
  caughtUp: boolean;
  sensors: number;
  windowsHeld: number;
  late: Activity<LateItem>;
  deadLetters: Activity<DeadLetterItem>;
  /** Records of the output topics the page could not read (not JSON, fields missing). */
  unreadable: number;
  pipeline: PipelineProgress | null;
}

/** `GET /api/snapshot`: everything but the windows themselves, which the page asks for per sensor. */
export interface Snapshot {
  source: DashboardSource;
  windowsPerSensor: number;
  sensors: SensorSummary[];
  stats: DashboardStats;
}

/** `GET /api/windows?sensor=A&sensor=B`: each asked sensor's held windows, oldest first. */
export type WindowsBySensor = Record<string, WindowPoint[]>;

/** Event `windows`: windows that just closed, each with its sensor's summary after it. */
export interface WindowsEvent {
  windows: { window: WindowPoint; summary: SensorSummary }[];
}

/** The SSE event names the server sends. */
export const StreamEvent = {
  /** `WindowsEvent` */
  windows: "windows",
  /** `DashboardStats` */
  stats: "stats",
  /** No data: the server finished reading back; load the snapshot again. */
  reset: "reset",
} as const;

/** At most this many sensors per `/api/windows` request. */
export const MAX_SENSORS_PER_REQUEST = 200;

/**
 * A window as a chart of the page draws it, read back from the plot's own data: what the page's
 * `window.sensorWindows.chart(sensor)` answers (for tests, and for a person at the console).
 */
export interface DrawnWindow {
  end: number;
  min: number;
  max: number;
  mean: number;
  /** From the window the point stands for; uPlot does not draw it, the tooltip shows it. */
  count: number;
  /** True when the chart marks the point as closed by the idle timeout. */
  idleMarked: boolean;
}
