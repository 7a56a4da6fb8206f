import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFunction } from "../../deploy/build.ts";
import { readStackEndpoints } from "../../stack/endpoints.ts";
import { countingDynamoClient, freshStateTable } from "../support/dynamodb-state.ts";
import { brokers, createTopic, readTopic, useBroker } from "../support/harness-fixtures.ts";

const { kafka, admin } = useBroker();

/** The state store settings the bundle gets, as the template sets them (DynamoDB) or for demos. */
const stores: [string, () => Promise<Record<string, string>>][] = [
  ["in-memory", async () => ({ STATE_STORE: "memory" })],
  [
    "DynamoDB Local",
    async () => ({
      STATE_STORE: "dynamodb",
      STATE_TABLE: await freshStateTable(countingDynamoClient().client),
      DYNAMODB_ENDPOINT: readStackEndpoints().dynamodbEndpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    }),
  ],
];

describe.each(stores)("the built Lambda bundle, %s store", (_name, storeEnv) => {
  it("runs on its own, with no node_modules in reach, and produces the closed window", {
    timeout: 120_000,
  }, async () => {
    // Built outside the repository, so nothing can resolve from the project's node_modules.
    const out = mkdtempSync(join(tmpdir(), "sensor-windows-bundle-"));
    const built = await buildFunction("aggregate-temperatures", out);
    const runner = join(out, "invoke.mjs");
    writeFileSync(
      runner,
      `const { handler } = await import("./aggregate-temperatures/index.mjs");
const event = JSON.parse(process.argv[2]);
await handler(event, { awsRequestId: "bundle-test" });
process.exit(0);
`,
    );
    const topics = {
      windows: await createTopic(admin, 1, "agg"),
      late: await createTopic(admin, 1, "late"),
      deadLetters: await createTopic(admin, 1, "dlq"),
    };
    const event = readFileSync(
      new URL("../../functions/testing/fixtures/self-managed-readings-event.json", import.meta.url),
      "utf8",
    );
    const run = spawnSync(process.execPath, [runner, event], {
      cwd: out,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        ...(await storeEnv()),
        KAFKA_BROKERS: brokers.join(","),
        OUTPUT_TOPIC: topics.windows,
        LATE_TOPIC: topics.late,
        DEAD_LETTER_TOPIC: topics.deadLetters,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(built.bundleBytes).toBeGreaterThan(0);
    const [window] = await readTopic(kafka, topics.windows, 1);
    expect(JSON.parse(window?.message.value?.toString() ?? "{}")).toMatchObject({
      sensor: "Sensor1",
      start: Date.UTC(2024, 4, 1, 12, 0, 0),
      temperature: { count: 2, min: 20, max: 22, mean: 21 },
    });
  });
});

describe("the built Lambda bundle's errors", () => {
  it("keep their class names through minification, so logs and the harness recognise them", {
    timeout: 120_000,
  }, async () => {
    const out = mkdtempSync(join(tmpdir(), "sensor-windows-bundle-"));
    await buildFunction("aggregate-temperatures", out);
    const run = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", 'await import("./aggregate-temperatures/index.mjs")'],
      {
        cwd: out,
        encoding: "utf8",
        timeout: 60_000,
        env: { PATH: process.env.PATH, STATE_STORE: "bogus" },
      },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/ConfigError\b.*STATE_STORE/);
  });
});
