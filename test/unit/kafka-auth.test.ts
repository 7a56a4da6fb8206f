import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { mskIamToken } from "../../functions/aws-signing.ts";
import { SecretReadError } from "../../functions/errors.ts";
import { kafkaClientAuth, readKafkaAuthConfig } from "../../functions/kafka-auth.ts";
import { lazyKafkaSink } from "../../functions/kafka-sink.ts";
import { secretJson } from "../../functions/secrets.ts";
import { ConfigError } from "../../lib/errors.ts";
import { silentLogger } from "../../lib/logger.ts";

/** A Secrets Manager stand-in on loopback: each secret id answers as the table says. */
type Answer =
  | { secret: Record<string, unknown> | string }
  | { error: string; status: number }
  | "hang";
const answers = new Map<string, Answer>();
const requests: { target: string | undefined; secretId: string }[] = [];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      const { SecretId } = JSON.parse(body) as { SecretId: string };
      requests.push({ target: req.headers["x-amz-target"] as string, secretId: SecretId });
      const answer = answers.get(SecretId) ?? { error: "ResourceNotFoundException", status: 400 };
      if (answer === "hang") return; // never answers: the client's timeout must end the call
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if ("error" in answer) {
        res.statusCode = answer.status;
        res.end(
          JSON.stringify({ __type: answer.error, message: `${answer.error} for ${SecretId}` }),
        );
      } else {
        const s = answer.secret;
        res.end(JSON.stringify({ SecretString: typeof s === "string" ? s : JSON.stringify(s) }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  answers.clear();
  requests.length = 0;
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
});

const fast = () => ({ endpoint, maxAttempts: 1, requestTimeoutMs: 300 });

describe("the MSK IAM token", () => {
  // Known answers from aws-msk-iam-sasl-signer-js 1.0.3 (npm), generateAuthTokenFromCredentialsProvider
  // with region eu-west-1, these credentials and the clock fixed at 2024-01-02T03:04:05Z.
  const signingDate = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
  const userAgent = "aws-msk-iam-sasl-signer-js/1.0.3";
  const secretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  it.each([
    [
      "long-term keys",
      { accessKeyId: "AKIDEXAMPLE", secretAccessKey },
      "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFLSURFWEFNUExFJTJGMjAyNDAxMDIlMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TaWduYXR1cmU9OGU0NmJkNjc4N2UwOWI3YzU4ZmFhYTA0ZDM2MTU0Mzc4ZDRkZmNkYTk5ZjA3Mjk5NDkxMmQ1ZTRkOWE2NGI4ZSZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q",
    ],
    [
      "a Lambda role's session credentials",
      {
        accessKeyId: "ASIAEXAMPLE",
        secretAccessKey,
        sessionToken: "IQoJb3JpZ2luX2VjEXAMPLE/session+token==",
      },
      "aHR0cHM6Ly9rYWZrYS5ldS13ZXN0LTEuYW1hem9uYXdzLmNvbS8_QWN0aW9uPWthZmthLWNsdXN0ZXIlM0FDb25uZWN0JlVzZXItQWdlbnQ9YXdzLW1zay1pYW0tc2FzbC1zaWduZXItanMlMkYxLjAuMyZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUFTSUFFWEFNUExFJTJGMjAyNDAxMDIlMkZldS13ZXN0LTElMkZrYWZrYS1jbHVzdGVyJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyNDAxMDJUMDMwNDA1WiZYLUFtei1FeHBpcmVzPTkwMCZYLUFtei1TZWN1cml0eS1Ub2tlbj1JUW9KYjNKcFoybHVYMlZqRVhBTVBMRSUyRnNlc3Npb24lMkJ0b2tlbiUzRCUzRCZYLUFtei1TaWduYXR1cmU9MTY4YWI1MTU3ZTgzN2I3NDQ2MzVjYjRkMzk5Yjg0ZWJkMTA1OWY0NTUzZWNlZTYwOTZmYWQ3MmFhMTU4ODM0MiZYLUFtei1TaWduZWRIZWFkZXJzPWhvc3Q",
    ],
  ])("with %s equals the official signer's byte for byte", async (_, credentials, official) => {
    const token = await mskIamToken("eu-west-1", { credentials, signingDate, userAgent });
    expect(token.value).toBe(official);
    expect(token.lifetimeMs).toBe(900_000);
  });

  it("names this project as its user agent and presigns kafka-cluster:Connect for 15 minutes", async () => {
    const token = await mskIamToken("eu-west-1");
    const url = new URL(Buffer.from(token.value, "base64url").toString());
    expect(url.hostname).toBe("kafka.eu-west-1.amazonaws.com");
    expect(url.searchParams.get("Action")).toBe("kafka-cluster:Connect");
    expect(url.searchParams.get("User-Agent")).toBe("sensor-windows");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
  });
});

describe("the output producer's Kafka authentication", () => {
  it("is plaintext by default (the local stack)", async () => {
    const auth = readKafkaAuthConfig({});
    expect(auth).toEqual({
      kind: "none",
      secretArn: undefined,
      caSecretArn: undefined,
      region: "us-east-1",
    });
    expect(await kafkaClientAuth(auth)).toEqual({});
  });

  it("uses SASL/OAUTHBEARER over TLS with an MSK IAM token for msk-iam", async () => {
    const auth = await kafkaClientAuth(
      readKafkaAuthConfig({ KAFKA_AUTH: "msk-iam", AWS_REGION: "eu-west-1" }),
    );
    expect(auth.ssl).toBe(true);
    expect(auth.sasl?.mechanism).toBe("oauthbearer");
  });

  const scram = { username: "u", password: "p" };
  const mtls = { certificate: "CLIENT-PEM", privateKey: "KEY-PEM", privateKeyPassword: "pw" };
  it.each([
    ["SASL/SCRAM, public CAs", "sasl-scram", scram, undefined, { ssl: true }],
    [
      "SASL/SCRAM, the CA kept beside the credentials",
      "sasl-scram",
      { ...scram, caCertificate: "OWN-CA" },
      undefined,
      { ssl: { ca: ["OWN-CA"] } },
    ],
    [
      "SASL/SCRAM, the trigger's SERVER_ROOT_CA_CERTIFICATE secret",
      "sasl-scram",
      scram,
      { certificate: "ROOT-CA" },
      { ssl: { ca: ["ROOT-CA"] } },
    ],
    [
      "mTLS, the trigger's SERVER_ROOT_CA_CERTIFICATE secret",
      "mtls",
      mtls,
      { certificate: "ROOT-CA" },
      { ssl: { cert: "CLIENT-PEM", key: "KEY-PEM", passphrase: "pw", ca: ["ROOT-CA"] } },
    ],
  ])("%s", async (_, kind, credentials, rootCa, expected) => {
    answers.set("creds", { secret: credentials });
    if (rootCa) answers.set("root-ca", { secret: rootCa });
    const auth = readKafkaAuthConfig({
      KAFKA_AUTH: kind,
      KAFKA_SECRET_ARN: "creds",
      ...(rootCa ? { KAFKA_CA_SECRET_ARN: "root-ca" } : {}),
    });
    expect(await kafkaClientAuth(auth, fast())).toMatchObject(expected);
    expect(requests.every((r) => r.target === "secretsmanager.GetSecretValue")).toBe(true);
  });

  it.each([
    [
      { KAFKA_AUTH: "kerberos" },
      'KAFKA_AUTH must be one of none, msk-iam, sasl-scram, mtls, got "kerberos"',
    ],
    [{ KAFKA_AUTH: "sasl-scram" }, "KAFKA_AUTH=sasl-scram needs KAFKA_SECRET_ARN"],
    [{ KAFKA_AUTH: "mtls" }, "KAFKA_AUTH=mtls needs KAFKA_SECRET_ARN"],
    [
      { KAFKA_AUTH: "msk-iam", KAFKA_CA_SECRET_ARN: "x" },
      "KAFKA_CA_SECRET_ARN is for self-managed",
    ],
  ])("rejects %o with a message that says what to set", (env, message) => {
    expect(() => readKafkaAuthConfig(env)).toThrow(ConfigError);
    expect(() => readKafkaAuthConfig(env)).toThrow(message);
  });
});

describe("the output producer's brokers", () => {
  const mskIam = readKafkaAuthConfig({ KAFKA_AUTH: "msk-iam" });
  it.each([
    [undefined, "KAFKA_AUTH=msk-iam needs KAFKA_BROKERS"],
    [["b-1.example:9092", "b-2.example:9098"], "must use MSK's IAM port 9098"],
  ])("with MSK IAM, are configured on port 9098, never the event's: %o", (brokers, message) => {
    expect(() => lazyKafkaSink(brokers, "t", silentLogger, mskIam)).toThrow(message);
  });

  it("with MSK IAM, accept the IAM ports (9098 in the VPC, 9198 public)", () => {
    expect(() =>
      lazyKafkaSink(["b-1.example:9098", "b-2.example:9198"], "t", silentLogger, mskIam),
    ).not.toThrow();
  });
});

describe("secrets from Secrets Manager (its SDK client)", () => {
  it("reads a secret's JSON with GetSecretValue", async () => {
    answers.set("s", { secret: { a: 1 } });
    expect(await secretJson("s", { region: "eu-west-1", ...fast() })).toEqual({ a: 1 });
  });

  it.each([
    ["ResourceNotFoundException", 400, false],
    ["AccessDeniedException", 400, false],
    ["DecryptionFailure", 400, false],
    ["ThrottlingException", 400, true],
    ["InternalServiceError", 500, true],
  ])("keeps the AWS error %s, retryable: %s", async (error, status, retryable) => {
    answers.set("s", { error, status });
    const failure = await secretJson("s", { region: "eu-west-1", ...fast() }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(SecretReadError);
    expect(failure).toMatchObject({ awsErrorName: error, retryable });
    expect((failure as Error).message).toContain(error);
  });

  it("retries what AWS says is transient, up to maxAttempts", async () => {
    answers.set("s", { error: "InternalServiceError", status: 500 });
    await expect(
      secretJson("s", { region: "eu-west-1", ...fast(), maxAttempts: 2 }),
    ).rejects.toThrow(SecretReadError);
    expect(requests.length).toBe(2);
  });

  it("gives up on a call that hangs after its timeout, as a retryable error", async () => {
    answers.set("s", "hang");
    const started = Date.now();
    const failure = await secretJson("s", { region: "eu-west-1", ...fast() }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(SecretReadError);
    expect((failure as SecretReadError).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each([
    ["not JSON", "not JSON"],
    ["a JSON array", "[1]"],
  ])("refuses a SecretString that is %s, not retryable", async (_, text) => {
    answers.set("s", { secret: text });
    await expect(secretJson("s", { region: "eu-west-1", ...fast() })).rejects.toMatchObject({
      name: "SecretReadError",
      retryable: false,
    });
  });

  it("resolves the regional endpoint from the SDK's rules: China and FIPS included", async () => {
    const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
    const url = async (region: string, fips = false) => {
      const c = new SecretsManagerClient({ region, useFipsEndpoint: fips });
      const e = await c.config.endpointProvider({ Region: region, UseFIPS: fips });
      return e.url.hostname;
    };
    expect(await url("cn-north-1")).toBe("secretsmanager.cn-north-1.amazonaws.com.cn");
    expect(await url("us-east-1", true)).toBe("secretsmanager-fips.us-east-1.amazonaws.com");
  });
});
