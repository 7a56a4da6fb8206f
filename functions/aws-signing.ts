import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { request } from "node:https";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): Uint8Array | string =>
  typeof data === "string"
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 for SigV4 from node:crypto (an HMAC when given a secret). */
class Sha256 {
  #hash: Hash | Hmac;
  readonly #secret: Uint8Array | string | undefined;
  constructor(secret?: SourceData) {
    this.#secret = secret === undefined ? undefined : bytes(secret);
    this.#hash =
      this.#secret === undefined ? createHash("sha256") : createHmac("sha256", this.#secret);
  }
  update(data: SourceData) {
    this.#hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset() {
    this.#hash =
      this.#secret === undefined ? createHash("sha256") : createHmac("sha256", this.#secret);
  }
}

/** A SigV4 signer with the Lambda role's credentials (the SDK's default provider chain). */
const signer = (service: string, region: string) =>
  new SignatureV4({ service, region, credentials: defaultProvider(), sha256: Sha256 });

/**
 * The SASL/OAUTHBEARER token for MSK IAM authentication: a presigned `kafka-cluster:Connect`
 * request, base64url-encoded, valid 15 minutes. The same token aws-msk-iam-sasl-signer-js makes.
 * https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html
 */
export const mskIamToken = async (
  region: string,
): Promise<{ value: string; lifetimeMs: number }> => {
  const expiresIn = 900;
  const presigned = await signer("kafka-cluster", region).presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: `kafka.${region}.amazonaws.com`,
      path: "/",
      query: { Action: "kafka-cluster:Connect" },
      headers: { host: `kafka.${region}.amazonaws.com` },
    },
    { expiresIn },
  );
  const query = Object.entries({ ...presigned.query, "User-Agent": "sensor-windows" })
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join("&");
  const url = `https://${presigned.hostname}/?${query}`;
  return { value: Buffer.from(url).toString("base64url"), lifetimeMs: expiresIn * 1000 };
};

/**
 * Reads a Secrets Manager secret holding JSON, signed with the Lambda role: one HTTPS call, so the
 * function needs no extra SDK client. The value is never logged.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 */
export const secretJson = async (
  secretId: string,
  region: string,
): Promise<Record<string, unknown>> => {
  const hostname = `secretsmanager.${region}.amazonaws.com`;
  const body = JSON.stringify({ SecretId: secretId });
  const signed = await signer("secretsmanager", region).sign({
    method: "POST",
    protocol: "https:",
    hostname,
    path: "/",
    headers: {
      host: hostname,
      "content-type": "application/x-amz-json-1.1",
      "x-amz-target": "secretsmanager.GetSecretValue",
    },
    body,
  });
  const text = await new Promise<string>((resolve, reject) => {
    const req = request({ hostname, method: "POST", path: "/", headers: signed.headers }, (res) => {
      let data = "";
      res.on("data", (chunk: Buffer) => {
        data += chunk.toString();
      });
      res.on("end", () =>
        (res.statusCode ?? 500) < 300
          ? resolve(data)
          : reject(new Error(`Secrets Manager refused ${secretId}: HTTP ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
  const secret = (JSON.parse(text) as { SecretString?: string }).SecretString;
  if (secret === undefined) throw new Error(`secret ${secretId} has no SecretString`);
  return JSON.parse(secret) as Record<string, unknown>;
};
