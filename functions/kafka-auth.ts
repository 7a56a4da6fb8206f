import type { KafkaConfig } from "kafkajs";
import { choiceSetting, type Env, optionalSetting } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import { mskIamToken } from "./aws-signing.ts";
import { type SecretsOptions, secretJson } from "./secrets.ts";

/** How a function's producer authenticates to Kafka. */
export const KafkaAuth = {
  /** Plaintext: the local stack. */
  none: "none",
  /** Amazon MSK with IAM access control: SASL/OAUTHBEARER, TLS, the Lambda role's credentials. */
  mskIam: "msk-iam",
  /** Self-managed Kafka with SASL/SCRAM-SHA-512 over TLS; `{username, password}` in a secret. */
  saslScram: "sasl-scram",
  /** Self-managed Kafka with mutual TLS; `{certificate, privateKey, privateKeyPassword?}` (PEM) in a secret. */
  mtls: "mtls",
} as const;
export type KafkaAuthName = (typeof KafkaAuth)[keyof typeof KafkaAuth];

export interface KafkaAuthConfig {
  /** `KAFKA_AUTH`, default `none`. */
  kind: KafkaAuthName;
  /** `KAFKA_SECRET_ARN`: the Secrets Manager secret for `sasl-scram` and `mtls`. */
  secretArn: string | undefined;
  /**
   * `KAFKA_CA_SECRET_ARN`: a secret `{"certificate": PEM}` holding the root CA that signed the
   * brokers' certificates, when it is a private one. The same secret the trigger's
   * SERVER_ROOT_CA_CERTIFICATE names, so the producer trusts exactly what the trigger trusts.
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-encryption.html
   */
  caSecretArn: string | undefined;
  /** `AWS_REGION` (set by Lambda). */
  region: string;
}

/** Reads `KAFKA_AUTH`, `KAFKA_SECRET_ARN`, `KAFKA_CA_SECRET_ARN` and `AWS_REGION` once, at cold start. */
export const readKafkaAuthConfig = (env: Env = process.env): KafkaAuthConfig => {
  const kind = choiceSetting(env, "KAFKA_AUTH", ["none", "msk-iam", "sasl-scram", "mtls"], "none");
  const secretArn = optionalSetting(env, "KAFKA_SECRET_ARN");
  const caSecretArn = optionalSetting(env, "KAFKA_CA_SECRET_ARN");
  if ((kind === KafkaAuth.saslScram || kind === KafkaAuth.mtls) && secretArn === undefined) {
    throw new ConfigError(
      `KAFKA_AUTH=${kind} needs KAFKA_SECRET_ARN, the Secrets Manager secret holding the credentials`,
    );
  }
  if (caSecretArn !== undefined && (kind === KafkaAuth.none || kind === KafkaAuth.mskIam)) {
    throw new ConfigError(
      `KAFKA_CA_SECRET_ARN is for self-managed Kafka over TLS (KAFKA_AUTH=sasl-scram or mtls), got KAFKA_AUTH=${kind}`,
    );
  }
  return {
    kind,
    secretArn,
    caSecretArn,
    region: optionalSetting(env, "AWS_REGION") ?? "us-east-1",
  };
};

/**
 * The kafkajs client settings for the configured authentication (fetches secrets when needed).
 * `secrets` overrides the Secrets Manager client's settings (tests use a local endpoint).
 */
export const kafkaClientAuth = async (
  auth: KafkaAuthConfig,
  secrets: Partial<SecretsOptions> = {},
): Promise<Pick<KafkaConfig, "ssl" | "sasl">> => {
  const read = (id: string) => secretJson(id, { region: auth.region, ...secrets });
  switch (auth.kind) {
    case KafkaAuth.none:
      return {};
    case KafkaAuth.mskIam:
      return {
        ssl: true,
        sasl: { mechanism: "oauthbearer", oauthBearerProvider: () => mskIamToken(auth.region) },
      };
    case KafkaAuth.saslScram: {
      const secret = await read(auth.secretArn as string);
      const { username, password } = secret;
      if (typeof username !== "string" || typeof password !== "string") {
        throw new ConfigError(
          `secret ${auth.secretArn} must hold {"username", "password"} for SASL/SCRAM`,
        );
      }
      const ca = await trustedCa(auth, secret, read);
      return {
        ssl: ca === undefined ? true : { ca: [ca] },
        sasl: { mechanism: "scram-sha-512", username, password },
      };
    }
    case KafkaAuth.mtls: {
      const secret = await read(auth.secretArn as string);
      const { certificate, privateKey, privateKeyPassword } = secret;
      if (typeof certificate !== "string" || typeof privateKey !== "string") {
        throw new ConfigError(
          `secret ${auth.secretArn} must hold {"certificate", "privateKey"} (PEM) for mTLS`,
        );
      }
      const ca = await trustedCa(auth, secret, read);
      return {
        ssl: {
          cert: certificate,
          key: privateKey,
          ...(typeof privateKeyPassword === "string" ? { passphrase: privateKeyPassword } : {}),
          ...(ca === undefined ? {} : { ca: [ca] }),
        },
      };
    }
  }
};

/**
 * The private root CA to trust, if any: the CA secret's `certificate` (what the trigger trusts),
 * else a `caCertificate` kept beside the credentials. Neither: the runtime's public CAs.
 */
const trustedCa = async (
  auth: KafkaAuthConfig,
  credentials: Record<string, unknown>,
  read: (id: string) => Promise<Record<string, unknown>>,
): Promise<string | undefined> => {
  if (auth.caSecretArn !== undefined) {
    const { certificate } = await read(auth.caSecretArn);
    if (typeof certificate !== "string") {
      throw new ConfigError(
        `secret ${auth.caSecretArn} must hold {"certificate"} (the root CA, PEM), as SERVER_ROOT_CA_CERTIFICATE does`,
      );
    }
    return certificate;
  }
  return typeof credentials.caCertificate === "string" ? credentials.caCertificate : undefined;
};
