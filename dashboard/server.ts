import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
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
  type WindowsBySensor,
  type WindowsEvent,
} from "./protocol.ts";
import { startTopicReader } from "./topic-reader.ts";
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
  const windowsPerSensor = o.windowsPerSensor ?? dashboardDefaults.windowsPerSensor;
  const assets = await buildPage();

  const store = new WindowStore(windowsPerSensor);
  const late = new ActivityCounter<LateItem>({ keepRecent: 5, keepMinutes: 60 });
  const deadLetters = new ActivityCounter<DeadLetterItem>({ keepRecent: 5, keepMinutes: 60 });
  let unreadable = 0;
  let caughtUp = false;
  let pipeline: PipelineProgress | null = null;
  const clients = new Set<ServerResponse>();
  let pending: WindowsEvent["windows"] = [];
  let pushTimer: NodeJS.Timeout | undefined;
  let statsSoon: NodeJS.Timeout | undefined;

  const send = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const stats = (): DashboardStats => {
    const now = Date.now();
    return {
      caughtUp,
      sensors: store.sensors,
      windowsHeld: store.held,
      late: late.view(now, ACTIVITY_MINUTES),
      deadLetters: deadLetters.view(now, ACTIVITY_MINUTES),
      unreadable,
      pipeline,
    };
  };
  const pushWindows = () => {
    pushTimer = undefined;
    if (pending.length === 0) return;
    const windows = pending;
    pending = [];
    send(StreamEvent.windows, { windows } satisfies WindowsEvent);
  };
  // Late readings and dead letters are rare and wanted at once; the per-second stats would do,
  // but a dead letter a second late looks like a dashboard that missed it.
  const pushStatsSoon = () => {
    if (caughtUp && statsSoon === undefined) {
      statsSoon = setTimeout(() => {
        statsSoon = undefined;
        send(StreamEvent.stats, stats());
      }, PUSH_EVERY_MS);
    }
  };

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
    onWindow: (window) => {
      const summary = store.add(window);
      // While reading back, pages get it all at once from the snapshot when that ends.
      if (!caughtUp) return;
      pending.push({ window, summary });
      pushTimer ??= setTimeout(pushWindows, PUSH_EVERY_MS);
    },
    onLate: (item) => {
      late.add(item);
      pushStatsSoon();
    },
    onDeadLetter: (item) => {
      deadLetters.add(item);
      pushStatsSoon();
    },
    onUnreadable: (topic) => {
      unreadable++;
      if (unreadable === 1) logger.warn("a record of an output topic is unreadable", { topic });
    },
    onCaughtUp: () => {
      caughtUp = true;
      logger.info("read back the topics' history", {
        sensors: store.sensors,
        windows: store.held,
      });
      send(StreamEvent.reset, {});
    },
  });

  const snapshot = (): Snapshot => ({
    source: reader.source,
    windowsPerSensor,
    sensors: store.summaries(),
    stats: stats(),
  });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname === "/events") {
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
      });
      // EventSource reconnects by itself after this long; the page then reloads the snapshot.
      res.write(`retry: 2000\nevent: ${StreamEvent.stats}\ndata: ${JSON.stringify(stats())}\n\n`);
      clients.add(res);
      req.on("close", () => clients.delete(res));
      return;
    }
    if (url.pathname === "/api/snapshot") return json(res, snapshot());
    if (url.pathname === "/api/windows") {
      const sensors = url.searchParams.getAll("sensor").slice(0, MAX_SENSORS_PER_REQUEST);
      const body: WindowsBySensor = {};
      for (const s of sensors) body[s] = store.windows(s);
      return json(res, body);
    }
    const asset: Asset | undefined = assets.get(
      url.pathname === "/index.html" ? "/" : url.pathname,
    );
    if (asset === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-type": asset.contentType, "cache-control": "no-cache" });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  };

  const server = createServer(handle);
  const host = o.host ?? dashboardDefaults.host;
  const port = o.port ?? dashboardDefaults.port;
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
  const bound = (server.address() as AddressInfo).port;

  const statsTimer = setInterval(() => {
    if (clients.size > 0) send(StreamEvent.stats, stats());
  }, STATS_EVERY_MS);
  let pipelineTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  if (o.pipeline !== undefined) {
    const source = o.pipeline;
    const poll = async () => {
      try {
        pipeline = await source();
      } catch (error) {
        // Lag is informative only: keep the last figures, try again next time.
        logger.debug("could not read the pipeline's progress", { error });
      }
      if (!stopped) pipelineTimer = setTimeout(poll, PIPELINE_EVERY_MS);
    };
    void poll();
  }

  const shownHost =
    host === "127.0.0.1" || host === "::1" || host === "0.0.0.0" ? "localhost" : host;
  const url = `http://${shownHost}:${bound}/`;
  logger.info("dashboard listening", { url, source: reader.source, groupId: reader.groupId });
  return {
    url,
    port: bound,
    source: reader.source,
    stop: async () => {
      stopped = true;
      clearInterval(statsTimer);
      clearTimeout(pipelineTimer);
      clearTimeout(pushTimer);
      clearTimeout(statsSoon);
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await reader.stop();
    },
  };
};

const json = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};
