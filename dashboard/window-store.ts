import type {
  Activity,
  DeadLetterItem,
  LateItem,
  MinuteCount,
  SensorSummary,
  WindowPoint,
} from "./protocol.ts";

/** Earlier windows a sensor needs before its deviation means something. */
export const MIN_WINDOWS_FOR_DEVIATION = 3;

/**
 * The windows the dashboard holds: the last `windowsPerSensor` of each sensor, sorted by start.
 * A window seen twice (a crash between producing and committing repeats it, with the same
 * `window-id`) replaces the first instead of being counted again.
 */
export class WindowStore {
  readonly #perSensor: number;
  readonly #windows = new Map<string, WindowPoint[]>();
  #held = 0;

  constructor(windowsPerSensor: number) {
    this.#perSensor = windowsPerSensor;
  }

  /** Adds a window; returns its sensor's summary after it. */
  add(w: WindowPoint): SensorSummary {
    let list = this.#windows.get(w.sensor);
    if (list === undefined) {
      list = [];
      this.#windows.set(w.sensor, list);
    }
    // Windows of a sensor arrive in order almost always: look from the end.
    let i = list.length;
    while (i > 0 && (list[i - 1] as WindowPoint).start > w.start) i--;
    if (i > 0 && (list[i - 1] as WindowPoint).start === w.start) {
      list[i - 1] = w;
    } else {
      list.splice(i, 0, w);
      this.#held++;
      if (list.length > this.#perSensor) {
        list.shift();
        this.#held--;
      }
    }
    return this.#summary(w.sensor, list);
  }

  windows(sensor: string): WindowPoint[] {
    return [...(this.#windows.get(sensor) ?? [])];
  }

  summaries(): SensorSummary[] {
    return [...this.#windows].map(([sensor, list]) => this.#summary(sensor, list));
  }

  get sensors(): number {
    return this.#windows.size;
  }

  get held(): number {
    return this.#held;
  }

  #summary(sensor: string, list: WindowPoint[]): SensorSummary {
    return {
      sensor,
      last: list[list.length - 1] as WindowPoint,
      held: list.length,
      deviation: deviation(list),
    };
  }
}

/**
 * |last mean - mean of the earlier means| / their standard deviation: how unusual the last window
 * is for this sensor, whatever its normal level. Earlier windows that never varied make any change
 * infinitely unusual; that is reported as a large finite number, so it sorts first and fits JSON.
 */
export const deviation = (windows: readonly WindowPoint[]): number | null => {
  const n = windows.length - 1;
  if (n < MIN_WINDOWS_FOR_DEVIATION) return null;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (windows[i] as WindowPoint).mean;
  const mu = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += ((windows[i] as WindowPoint).mean - mu) ** 2;
  const sigma = Math.sqrt(squares / n);
  const diff = Math.abs((windows[n] as WindowPoint).mean - mu);
  if (sigma === 0) return diff === 0 ? 0 : 1e9;
  return diff / sigma;
};

/**
 * Events counted per minute of their Kafka timestamp, with the last few kept. Only the newest
 * `keepMinutes` minutes are counted, so memory stays flat however long it runs.
 */
export class ActivityCounter<T extends { at: number }> {
  readonly #minutes = new Map<number, number>();
  readonly #recent: T[] = [];
  readonly #keepRecent: number;
  readonly #keepMinutes: number;
  #total = 0;

  constructor(options: { keepRecent: number; keepMinutes: number }) {
    this.#keepRecent = options.keepRecent;
    this.#keepMinutes = options.keepMinutes;
  }

  add(item: T): void {
    this.#total++;
    const minute = minuteOf(item.at);
    this.#minutes.set(minute, (this.#minutes.get(minute) ?? 0) + 1);
    if (this.#minutes.size > this.#keepMinutes) {
      const newest = Math.max(...this.#minutes.keys());
      for (const m of this.#minutes.keys()) {
        if (m <= newest - this.#keepMinutes * 60_000) this.#minutes.delete(m);
      }
    }
    // Newest first, by timestamp: read-back and live records may interleave.
    let i = 0;
    while (i < this.#recent.length && (this.#recent[i] as T).at > item.at) i++;
    if (i < this.#keepRecent) {
      this.#recent.splice(i, 0, item);
      if (this.#recent.length > this.#keepRecent) this.#recent.pop();
    }
  }

  /** The last `minutes` minutes up to `now`'s, zero-filled, oldest first. */
  view(now: number, minutes: number): Activity<T> {
    const current = minuteOf(now);
    const perMinute: MinuteCount[] = [];
    for (let m = current - (minutes - 1) * 60_000; m <= current; m += 60_000) {
      perMinute.push({ minute: m, count: this.#minutes.get(m) ?? 0 });
    }
    return { perMinute, total: this.#total, recent: [...this.#recent] };
  }
}

const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;

export type LateCounter = ActivityCounter<LateItem>;
export type DeadLetterCounter = ActivityCounter<DeadLetterItem>;
