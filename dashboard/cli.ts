import { type Admin, Kafka, logLevel } from "kafkajs";
import { kafkaClientAuth, readKafkaAuthConfig } from "../functions/kafka-auth.ts";
import { flagsOrUsage, numberFlag, runCli, untilSignal } from "../lib/cli-args.ts";
import { TOPIC_NAME } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import { createLogger } from "../lib/logger.ts";
import { readStackEndpoints } from "../stack/endpoints.ts";
import { groupProgress } from "./pipeline-progress.ts";
import { dashboardDefaults, startDashboard } from "./server.ts";

const d = dashboardDefaults;
const USAGE = `Usage: npm run dashboard -- [--brokers HOST:PORT[,...]] [--topic NAME] [options]

Serves the live dashboard for any Kafka cluster this machine reaches (the local stack, or an MSK
cluster from a bastion): one chart per sensor over its recent closed windows, late readings and
dead letters per minute with the last reasons, and with --group a consumer group's lag. It only
reads the output topics: it never writes to them and never creates topics. Ctrl-C stops.

Options:
  --brokers LIST            bootstrap brokers, host:port,... (default KAFKA_BROKERS, or ${readStackEndpoints({}).kafkaBrokers.join(",")})
  --topic NAME              closed windows (default ${d.windowsTopic})
  --late-topic NAME         late readings (default ${d.lateTopic}; "" = none)
  --dead-letter-topic NAME  dead letters (default ${d.deadLetterTopic}; "" = none)
  --group ID                show this consumer group's lag per partition and records/s, e.g. the
                            trigger's ConsumerGroupId (without it, lag is not shown)
  --port N                  port to serve on (default ${d.port}; 0 = any free port)
  --host ADDRESS            address to listen on (default ${d.host}: this machine only; reach it
                            from elsewhere through an SSH tunnel)
  --windows N               windows kept and drawn per sensor (default ${d.windowsPerSensor})
  --history-minutes N       at start, read back the topics' last N minutes (default ${d.historyMinutes})
  --auth KIND               none | msk-iam | sasl-scram | mtls, as the functions' producer
                            (default KAFKA_AUTH, or none); msk-iam signs with this machine's AWS
                            credentials
  --secret-arn ARN          sasl-scram and mtls: the Secrets Manager secret (default KAFKA_SECRET_ARN)
  --region REGION           AWS region for msk-iam and the secret (default AWS_REGION, or us-east-1)
  -h, --help                this help

Environment: LOG_LEVEL (default info; structured JSON logs on stderr).
`;

const parseFlags = () =>
  flagsOrUsage(
    {
      brokers: { type: "string" },
      topic: { type: "string" },
      "late-topic": { type: "string" },
      "dead-letter-topic": { type: "string" },
      group: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      windows: { type: "string" },
      "history-minutes": { type: "string" },
      auth: { type: "string" },
      "secret-arn": { type: "string" },
      region: { type: "string" },
    },
    USAGE,
  );
type Flags = NonNullable<ReturnType<typeof parseFlags>>;

/** The flag that sets each variable the cluster's settings are read from. */
const FLAG_OF = {
  KAFKA_BROKERS: "--brokers",
  KAFKA_AUTH: "--auth",
  KAFKA_SECRET_ARN: "--secret-arn",
  AWS_REGION: "--region",
} as const;

/** A refused setting, named as the flag that sets it (and its variable). */
const withFlagNames = (error: unknown): unknown =>
  error instanceof ConfigError
    ? new ConfigError(
        error.message.replace(
          /\b(KAFKA_BROKERS|KAFKA_AUTH|KAFKA_SECRET_ARN|AWS_REGION)\b/g,
          (name) => `${FLAG_OF[name as keyof typeof FLAG_OF]} (${name})`,
        ),
        { cause: error },
      )
    : error;

/** The cluster's brokers and a client for them, authenticated as the flags (or environment) say. */
const kafkaOf = async (flags: Flags) => {
  const { brokers, auth } = clusterSettings(flags);
  const kafka = new Kafka({
    clientId: "sensor-windows-dashboard",
    brokers,
    ...(await kafkaClientAuth(auth)),
    logLevel: logLevel.ERROR,
  });
  return { brokers, kafka };
};

/** The brokers and authentication the flags (or the environment) name, refused by flag name. */
const clusterSettings = (flags: Flags) => {
  try {
    return {
      brokers: readStackEndpoints({ KAFKA_BROKERS: flags.brokers ?? process.env.KAFKA_BROKERS })
        .kafkaBrokers,
      auth: readKafkaAuthConfig({
        ...process.env,
        ...(flags.auth === undefined ? {} : { KAFKA_AUTH: flags.auth }),
        ...(flags["secret-arn"] === undefined ? {} : { KAFKA_SECRET_ARN: flags["secret-arn"] }),
        ...(flags.region === undefined ? {} : { AWS_REGION: flags.region }),
      }),
    };
  } catch (error) {
    throw withFlagNames(error);
  }
};

/** A topic flag as given, a name Kafka would refuse refused ("" passes: what it means is the caller's). */
const checkedTopic = (flag: string, raw: string | undefined) => {
  if (raw !== undefined && raw !== "" && !TOPIC_NAME.test.test(raw))
    throw new ConfigError(`--${flag} must be ${TOPIC_NAME.rule}, got "${raw}"`);
  return raw;
};

/** A topic flag: absent is the default, "" is none. */
const orNone = (flag: string, raw: string | undefined, fallback: string) => {
  const topic = checkedTopic(flag, raw);
  return topic === undefined ? fallback : topic === "" ? null : topic;
};

/** What the dashboard shows and where it listens, from the flags; without an admin, no lag. */
const shownByFlags = (flags: Flags, admin: Admin | undefined) => ({
  windowsTopic: checkedTopic("topic", flags.topic) ?? d.windowsTopic,
  lateTopic: orNone("late-topic", flags["late-topic"], d.lateTopic),
  deadLetterTopic: orNone("dead-letter-topic", flags["dead-letter-topic"], d.deadLetterTopic),
  port: numberFlag("port", flags.port, d.port, 0, 65_535),
  host: flags.host ?? d.host,
  windowsPerSensor: numberFlag("windows", flags.windows, d.windowsPerSensor, 1, 10_000),
  historyMinutes: numberFlag(
    "history-minutes",
    flags["history-minutes"],
    d.historyMinutes,
    0,
    10_080,
  ),
  ...(admin === undefined || flags.group === undefined
    ? {}
    : { pipeline: groupProgress(admin, flags.group) }),
});

runCli("dashboard", async () => {
  const flags = parseFlags();
  if (flags === undefined) return 0;
  const { brokers, kafka } = await kafkaOf(flags);
  const logger = createLogger();
  const admin = flags.group === undefined ? undefined : kafka.admin();
  await admin?.connect();
  const dashboard = await startDashboard({
    kafka,
    brokers,
    ...shownByFlags(flags, admin),
    logger,
  }).catch(async (error: unknown) => {
    await admin?.disconnect();
    throw error;
  });
  process.stderr.write(`dashboard: ${dashboard.url} (Ctrl-C stops)\n`);
  await untilSignal();
  await dashboard.stop();
  await admin?.disconnect();
  return 0;
});
