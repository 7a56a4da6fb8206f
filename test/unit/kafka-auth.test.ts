import { describe, expect, it } from "vitest";
import { mskIamToken } from "../../functions/aws-signing.ts";
import { kafkaClientAuth, readKafkaAuthConfig } from "../../functions/kafka-auth.ts";
import { ConfigError } from "../../lib/errors.ts";

describe("the output producer's Kafka authentication", () => {
  it("is plaintext by default (the local stack)", async () => {
    const auth = readKafkaAuthConfig({});
    expect(auth).toEqual({ kind: "none", secretArn: undefined, region: "us-east-1" });
    expect(await kafkaClientAuth(auth)).toEqual({});
  });

  it("uses SASL/OAUTHBEARER over TLS with an MSK IAM token for msk-iam", async () => {
    const auth = await kafkaClientAuth(
      readKafkaAuthConfig({ KAFKA_AUTH: "msk-iam", AWS_REGION: "eu-west-1" }),
    );
    expect(auth.ssl).toBe(true);
    expect(auth.sasl?.mechanism).toBe("oauthbearer");
  });

  it("presigns kafka-cluster:Connect for the region, as the MSK IAM signer does", async () => {
    process.env.AWS_ACCESS_KEY_ID = "AKIDEXAMPLE";
    process.env.AWS_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const token = await mskIamToken("eu-west-1");
    const url = new URL(Buffer.from(token.value, "base64url").toString());
    expect(url.hostname).toBe("kafka.eu-west-1.amazonaws.com");
    expect(url.searchParams.get("Action")).toBe("kafka-cluster:Connect");
    expect(url.searchParams.get("X-Amz-Credential")).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    [
      { KAFKA_AUTH: "kerberos" },
      'KAFKA_AUTH must be one of none, msk-iam, sasl-scram, mtls, got "kerberos"',
    ],
    [{ KAFKA_AUTH: "sasl-scram" }, "KAFKA_AUTH=sasl-scram needs KAFKA_SECRET_ARN"],
    [{ KAFKA_AUTH: "mtls" }, "KAFKA_AUTH=mtls needs KAFKA_SECRET_ARN"],
  ])("rejects %o with a message that says what to set", (env, message) => {
    expect(() => readKafkaAuthConfig(env)).toThrow(ConfigError);
    expect(() => readKafkaAuthConfig(env)).toThrow(message);
  });
});
