import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

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

/** How long an MSK IAM token is valid: the official signer's 15 minutes. */
const TOKEN_SECONDS = 900;

export interface MskIamTokenOptions {
  /** Default: the SDK's provider chain (in Lambda, the execution role's credentials). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Default: now. Fixed in the known-answer test. */
  signingDate?: Date;
  /** The `User-Agent` query parameter the broker logs. Default `sensor-windows`. */
  userAgent?: string;
}

/** RFC 3986 escaping, as the SDK's `formatUrl` (via `escapeUri`) does it. */
const escapeUri = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/**
 * The SASL/OAUTHBEARER token for MSK IAM authentication: a presigned `kafka-cluster:Connect`
 * request, base64url-encoded, valid 15 minutes. Built as aws-msk-iam-sasl-signer-js builds it
 * (query keys sorted, `User-Agent` added after signing): with the same clock, credentials and user
 * agent the two tokens are equal byte for byte (test/unit/kafka-auth.test.ts pins it). A few lines
 * here instead of that package and its STS client in every bundle.
 * https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html
 * https://github.com/aws/aws-msk-iam-sasl-signer-js/blob/main/src/getMSKAuthToken.ts
 */
export const mskIamToken = async (
  region: string,
  options: MskIamTokenOptions = {},
): Promise<{ value: string; lifetimeMs: number }> => {
  const hostname = `kafka.${region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: "kafka-cluster",
    region,
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
    applyChecksum: false,
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname,
      path: "/",
      query: { Action: "kafka-cluster:Connect" },
      headers: { host: hostname },
    },
    {
      expiresIn: TOKEN_SECONDS,
      ...(options.signingDate === undefined ? {} : { signingDate: options.signingDate }),
    },
  );
  const query = { ...presigned.query, "User-Agent": options.userAgent ?? "sensor-windows" };
  const queryString = Object.keys(query)
    .sort()
    .map((k) => `${escapeUri(k)}=${escapeUri(String(query[k as keyof typeof query]))}`)
    .join("&");
  const url = `https://${hostname}/?${queryString}`;
  return { value: Buffer.from(url).toString("base64url"), lifetimeMs: TOKEN_SECONDS * 1000 };
};
