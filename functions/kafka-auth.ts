import type { KafkaConfig } from "kafkajs";
import { choiceSetting, type Env, optionalSetting } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import { mskIamToken, secretJson } from "./aws-signing.ts";

/** How a function's producer authenticates to Kafka. */
export const KafkaAuth = {
  /** Plaintext: the local stack. */
  none: "none",
  /** Amazon MSK with IAM access control: SASL/OAUTHBEARER, TLS, the Lambda role's credentials. */
  mskIam: "msk-iam",
  /** Self-managed Kafka with SASL/SCRAM-SHA-512 over TLS; `{username, password}` in a secret. */
  saslScram: "sasl-scram",
  /** Self-managed Kafka with mutual TLS; `{certificate, privateKey, caCertificate?}` (PEM) in a secret. */
  mtls: "mtls",
} as const;
export type KafkaAuthName = (typeof KafkaAuth)[keyof typeof KafkaAuth];

export interface KafkaAuthConfig {
  /** `KAFKA_AUTH`, default `none`. */
  kind: KafkaAuthName;
  /** `KAFKA_SECRET_ARN`: the Secrets Manager secret for `sasl-scram` and `mtls`. */
  secretArn: string | undefined;
  /** `AWS_REGION` (set by Lambda). */
  region: string;
}

/** Reads `KAFKA_AUTH`, `KAFKA_SECRET_ARN` and `AWS_REGION` once, at cold start. */
export const readKafkaAuthConfig = (env: Env = process.env): KafkaAuthConfig => {
  const kind = choiceSetting(env, "KAFKA_AUTH", ["none", "msk-iam", "sasl-scram", "mtls"], "none");
  const secretArn = optionalSetting(env, "KAFKA_SECRET_ARN");
  if ((kind === KafkaAuth.saslScram || kind === KafkaAuth.mtls) && secretArn === undefined) {
    throw new ConfigError(
      `KAFKA_AUTH=${kind} needs KAFKA_SECRET_ARN, the Secrets Manager secret holding the credentials`,
    );
  }
  return { kind, secretArn, region: optionalSetting(env, "AWS_REGION") ?? "us-east-1" };
};

/** The kafkajs client settings for the configured authentication (fetches secrets when needed). */
export const kafkaClientAuth = async (
  auth: KafkaAuthConfig,
): Promise<Pick<KafkaConfig, "ssl" | "sasl">> => {
  switch (auth.kind) {
    case KafkaAuth.none:
      return {};
    case KafkaAuth.mskIam:
      return {
        ssl: true,
        sasl: { mechanism: "oauthbearer", oauthBearerProvider: () => mskIamToken(auth.region) },
      };
    case KafkaAuth.saslScram: {
      const secret = await secretJson(auth.secretArn as string, auth.region);
      const { username, password } = secret;
      if (typeof username !== "string" || typeof password !== "string") {
        throw new ConfigError(
          `secret ${auth.secretArn} must hold {"username", "password"} for SASL/SCRAM`,
        );
      }
      return { ssl: true, sasl: { mechanism: "scram-sha-512", username, password } };
    }
    case KafkaAuth.mtls: {
      const secret = await secretJson(auth.secretArn as string, auth.region);
      const { certificate, privateKey, caCertificate } = secret;
      if (typeof certificate !== "string" || typeof privateKey !== "string") {
        throw new ConfigError(
          `secret ${auth.secretArn} must hold {"certificate", "privateKey"} (PEM) for mTLS`,
        );
      }
      return {
        ssl: {
          cert: certificate,
          key: privateKey,
          ...(typeof caCertificate === "string" ? { ca: [caCertificate] } : {}),
        },
      };
    }
  }
};
