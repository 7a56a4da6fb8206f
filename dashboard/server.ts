import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Kafka } from "kafkajs";
import { type Logger, silentLogger } from "../lib/logger.ts";
import { type Asset, buildPage } from "./bundle.ts";
import { DashboardPortInUseError } from "./errors.ts";
import type { PipelineSource } from "./pipeline-progress.ts";
import {
  type DashboardSource,
  type DashboardStats,
  type DeadLetterItem,
  type LateItem,
  MAX_SENSORS_PER_REQUEST,
  type PipelineProgress,
  type Snapshot,
  StreamEvent,
  type WindowPoint,
  type WindowsBySensor,
  type WindowsEvent,
} from "./protocol.ts";
import { startTopicReader, type TopicReader } from "./topic-reader.ts";
import { ActivityCounter, WindowStore } from "./window-store.ts";

export const dashboardDefaults = {
  port: 3000,
  // The page is for the person at this machine (or at the end of an SSH tunnel), not the network.
  host: "127.0.0.1",
  windowsTopic: "agg-temperature",
  lateTopic: "agg-temperature-late",
  deadLetterTopic: "raw-temperature-dlq",
  windowsPerSensor: 60,
  historyMinutes: 60,
  aggregateField: "temperature",
} as const;

export interface DashboardOptions {
  kafka: Kafka;
  /** The brokers, as shown on the page. */
  brokers: string[];
  windowsTopic?: string;
  /** Null: not shown. */
  lateTopic?: string | null;
  deadLetterTopic?: string | null;
  /** 0 = any free port. */
  port?: number;
  host?: string;
  windowsPerSensor?: number;
  /** How far back the topics are read at start. */
  historyMinutes?: number;
  aggregateField?: string;
  /** The pipeline's lag and rate, when known. */
  pipeline?: PipelineSource;
  logger?: Logger;
}

export interface Dashboard {
  /** `http://localhost:<port>/` */
  url: string;
  port: number;
  source: DashboardSource;
  stop(): Promise<void>;
}

/** How long closed windows wait to be pushed with the ones closing just after them. */
const PUSH_EVERY_MS = 100;
const STATS_EVERY_MS = 1_000;
const PIPELINE_EVERY_MS = 2_000;
const ACTIVITY_MINUTES = 15;

/**
 * The dashboard: reads the output topics into memory and serves the page, its data (`/api/...`)
 * and a Server-Sent Events stream of what changes (`/events`). Pages load the snapshot, ask for
 * the windows of the sensors they show, then follow the stream.
 */
export const startDashboard = async (o: DashboardOptions): Promise<Dashboard> => {
  const logger = o.logger ?? silentLogger;
  const assets = await buildPage();
  const live = new LiveView(o.windowsPerSensor ?? dashboardDefaults.windowsPerSensor, logger);
  const reader = await startTopicReader({
    kafka: o.kafka,
    brokers: o.brokers,
    windowsTopic: o.windowsTopic ?? dashboardDefaults.windowsTopic,
    lateTopic: o.lateTopic === undefined ? dashboardDefaults.lateTopic : o.lateTopic,
    deadLetterTopic:
      o.deadLetterTopic === undefined ? dashboardDefaults.deadLetterTopic : o.deadLetterTopic,
    historyMs: (o.historyMinutes ?? dashboardDefaults.historyMinutes) * 60_000,
    aggregateField: o.aggregateField ?? dashboardDefaults.aggregateField,
    logger,
    onWindow: live.onWindow,
    onLate: live.onLate,
    onDeadLetter: live.onDeadLetter,
    onUnreadable: live.onUnreadable,
    onCaughtUp: live.onCaughtUp,
  });

  const server = createServer(requestHandler(live, reader.source, assets));
  const host = o.host ?? dashboardDefaults.host;
  const bound = await listen(server, host, o.port ?? dashboardDefaults.port, reader);
  const statsTimer = setInterval(live.pushStats, STATS_EVERY_MS);
  const pipeline = o.pipeline === undefined ? undefined : pollPipeline(o.pipeline, live, logger);

  const url = `http://${shownHost(host)}:${bound}/`;
  logger.info("dashboard listening", { url, source: reader.source, groupId: reader.groupId });
  return {
    url,
    port: bound,
    source: reader.source,
    stop: async () => {
      pipeline?.stop();
      clearInterval(statsTimer);
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await reader.stop();
    },
  };
};

/**
 * What the dashboard holds from the topics, and the pages that follow it: closed windows pushed a
 * few at a time, stats every second and at once on a late reading or a dead letter.
 */
class LiveView {
  readonly store: WindowStore;
  /** The pipeline's last known progress. */
  pipeline: PipelineProgress | null = null;
  readonly #windowsPerSensor: number;
  readonly #logger: Logger;
  readonly #late = new ActivityCounter<LateItem>({ keepRecent: 5, keepMinutes: 60 });
  readonly #deadLetters = new ActivityCounter<DeadLetterItem>({ keepRecent: 5, keepMinutes: 60 });
  #unreadable = 0;
  #caughtUp = false;
  readonly #clients = new Set<ServerResponse>();
  #pending: WindowsEvent["windows"] = [];
  #pushTimer: NodeJS.Timeout | undefined;
  #statsSoon: NodeJS.Timeout | undefined;

  constructor(windowsPerSensor: number, logger: Logger) {
    this.#windowsPerSensor = windowsPerSensor;
    this.#logger = logger;
    this.store = new WindowStore(windowsPerSensor);
  }

  stats(): DashboardStats {
    const now = Date.now();
    return {
      caughtUp: this.#caughtUp,
      sensors: this.store.sensors,
      windowsHeld: this.store.held,
      late: this.#late.view(now, ACTIVITY_MINUTES),
      deadLetters: this.#deadLetters.view(now, ACTIVITY_MINUTES),
      unreadable: this.#unreadable,
      pipeline: this.pipeline,
    };
  }

  snapshot(source: DashboardSource): Snapshot {
    return {
      source,
      windowsPerSensor: this.#windowsPerSensor,
      sensors: this.store.summaries(),
      stats: this.stats(),
    };
  }

  /** Answers `/events`: the stream of what changes, starting with the stats. */
  follow(req: IncomingMessage, res: ServerResponse) {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
    });
    // EventSource reconnects by itself after this long; the page then reloads the snapshot.
    res.write(
      `retry: 2000\nevent: ${StreamEvent.stats}\ndata: ${JSON.stringify(this.stats())}\n\n`,
    );
    this.#clients.add(res);
    req.on("close", () => this.#clients.delete(res));
  }

  /** The per-second stats, to the pages following. */
  readonly pushStats = () => {
    if (this.#clients.size > 0) this.#send(StreamEvent.stats, this.stats());
  };

  /** Ends the streams and the pushes still due. */
  close() {
    clearTimeout(this.#pushTimer);
    clearTimeout(this.#statsSoon);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }

  readonly onWindow = (window: WindowPoint) => {
    const summary = this.store.add(window);
    // While reading back, pages get it all at once from the snapshot when that ends.
    if (!this.#caughtUp) return;
    this.#pending.push({ window, summary });
    this.#pushTimer ??= setTimeout(this.#pushWindows, PUSH_EVERY_MS);
  };

  readonly onLate = (item: LateItem) => {
    this.#late.add(item);
    this.#pushStatsSoon();
  };

  readonly onDeadLetter = (item: DeadLetterItem) => {
    this.#deadLetters.add(item);
    this.#pushStatsSoon();
  };

  readonly onUnreadable = (topic: string) => {
    this.#unreadable++;
    if (this.#unreadable === 1) {
      this.#logger.warn("a record of an output topic is unreadable", { topic });
    }
  };

  readonly onCaughtUp = () => {
    this.#caughtUp = true;
    this.#logger.info("read back the topics' history", {
      sensors: this.store.sensors,
      windows: this.store.held,
    });
    this.#send(StreamEvent.reset, {});
  };

  #send(event: string, data: unknown) {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.#clients) c.write(frame);
  }

  readonly #pushWindows = () => {
    this.#pushTimer = undefined;
    if (this.#pending.length === 0) return;
    const windows = this.#pending;
    this.#pending = [];
    this.#send(StreamEvent.windows, { windows } satisfies WindowsEvent);
  };

  // Late readings and dead letters are rare and wanted at once; the per-second stats would do,
  // but a dead letter a second late looks like a dashboard that missed it.
  #pushStatsSoon() {
    if (this.#caughtUp && this.#statsSoon === undefined) {
      this.#statsSoon = setTimeout(() => {
        this.#statsSoon = undefined;
        this.#send(StreamEvent.stats, this.stats());
      }, PUSH_EVERY_MS);
    }
  }
}

/** GET and HEAD only: the event stream, the snapshot, the windows of some sensors, the page. */
const requestHandler =
  (live: LiveView, source: DashboardSource, assets: Map<string, Asset>) =>
  (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname === "/events") return live.follow(req, res);
    if (url.pathname === "/api/snapshot") return json(res, live.snapshot(source));
    if (url.pathname === "/api/windows") {
      const sensors = url.searchParams.getAll("sensor").slice(0, MAX_SENSORS_PER_REQUEST);
      const body: WindowsBySensor = {};
      for (const s of sensors) body[s] = live.store.windows(s);
      return json(res, body);
    }
    serveAsset(req, res, assets.get(url.pathname === "/index.html" ? "/" : url.pathname));
  };

const serveAsset = (req: IncomingMessage, res: ServerResponse, asset: Asset | undefined) => {
  if (asset === undefined) {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    return;
  }
  res.writeHead(200, { "content-type": asset.contentType, "cache-control": "no-cache" });
  res.end(req.method === "HEAD" ? undefined : asset.body);
};

/** Listens, or stops the reader and fails (a port in use named as such); the port bound. */
const listen = async (
  server: Server,
  host: string,
  port: number,
  reader: TopicReader,
): Promise<number> => {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await reader.stop();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new DashboardPortInUseError(host, port, error);
    }
    throw error;
  }
  return (server.address() as AddressInfo).port;
};

/** Reads the pipeline's progress into the live view every few seconds, until stopped. */
const pollPipeline = (source: PipelineSource, live: LiveView, logger: Logger) => {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const poll = async () => {
    try {
      live.pipeline = await source();
    } catch (error) {
      // Lag is informative only: keep the last figures, try again next time.
      logger.debug("could not read the pipeline's progress", { error });
    }
    if (!stopped) timer = setTimeout(poll, PIPELINE_EVERY_MS);
  };
  void poll();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
};

const shownHost = (host: string) =>
  host === "127.0.0.1" || host === "::1" || host === "0.0.0.0" ? "localhost" : host;

const json = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};
