import { Kafka, logLevel } from "kafkajs";
import { optionalSetting } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import {
  KafkaAuth,
  type KafkaAuthConfig,
  kafkaClientAuth,
  readKafkaAuthConfig,
} from "./kafka-auth.ts";
import { PRODUCER_CONFIG } from "./kafka-producer.ts";
import { kafkaRecordSink, type RecordSink } from "./record-sink.ts";

/** The ports MSK serves IAM access control on: inside the VPC, and with public access. */
const MSK_IAM_PORTS = ["9098", "9198"];

/**
 * A connected producer for the output topics, built on first use and kept for the container's
 * life, as Lambda reuses it. The brokers are `KAFKA_BROKERS`; without it (the local harness,
 * self-managed Kafka) the first event's `bootstrapServers`. Never with MSK IAM: the event names the
 * brokers the trigger reads from, on whatever port its authentication uses (9092 in AWS's sample
 * event), while IAM listens on 9098. Checked here, at cold start, not at the first produce.
 * https://docs.aws.amazon.com/msk/latest/developerguide/port-info.html
 */
export const lazyKafkaSink = (
  brokersFromConfig: string[] | undefined,
  clientId: string,
  logger: Logger,
  auth: KafkaAuthConfig = readKafkaAuthConfig(),
) => {
  if (auth.kind === KafkaAuth.mskIam) {
    if (brokersFromConfig === undefined) {
      throw new ConfigError(
        "KAFKA_AUTH=msk-iam needs KAFKA_BROKERS: the cluster's IAM bootstrap brokers (port 9098, aws kafka get-bootstrap-brokers); the event's bootstrapServers may name another listener",
      );
    }
    const wrongPort = brokersFromConfig.filter(
      (b) => !MSK_IAM_PORTS.includes(b.slice(b.lastIndexOf(":") + 1)),
    );
    if (wrongPort.length > 0) {
      throw new ConfigError(
        `KAFKA_AUTH=msk-iam: KAFKA_BROKERS must use MSK's IAM port 9098 (9198 with public access), got ${wrongPort.join(",")}`,
      );
    }
  }
  let sink: Promise<RecordSink> | undefined;
  return (bootstrapServers: string | undefined): Promise<RecordSink> => {
    sink ??= (async () => {
      const brokers = brokersFromConfig ?? bootstrapServers?.split(",");
      if (brokers === undefined) {
        throw new ConfigError(
          "no Kafka brokers to produce to: set KAFKA_BROKERS (e.g. localhost:19092)",
        );
      }
      const kafka = new Kafka({
        clientId,
        brokers,
        logLevel: logLevel.ERROR,
        ...(await kafkaClientAuth(auth)),
      });
      const producer = kafka.producer(PRODUCER_CONFIG);
      await producer.connect();
      logger.info("output producer connected", { brokers, auth: auth.kind });
      return kafkaRecordSink(producer);
    })().catch((error: unknown) => {
      sink = undefined; // let the next invocation try again
      throw error;
    });
    return sink;
  };
};

/** `KAFKA_BROKERS` (host:port,...), where a function produces: the template always sets it. */
export const configuredBrokers = (
  env: Readonly<Record<string, string | undefined>> = process.env,
): string[] | undefined =>
  optionalSetting(env, "KAFKA_BROKERS")
    ?.split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "");
