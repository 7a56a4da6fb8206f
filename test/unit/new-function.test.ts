import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { templateYaml } from "../../deploy/template.ts";
import {
  discoverFunctions,
  kafkaFunctionNamed,
  registeredFunctions,
} from "../../functions/registry.ts";
import { NewFunctionError } from "../../scaffold/errors.ts";
import { newFunction } from "../../scaffold/new-function.ts";
import { deploy, type Template } from "../support/cloudformation.ts";

/*
 * `npm run new-function` writes into a copy of the project (links to its folders, a real
 * functions/ folder of links and a real template.yaml), never into the project itself: tests
 * running beside this one read the real registry and template.yaml.
 */

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));

const copies: string[] = [];
// rmSync removes the links, never what they point to.
afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

const projectCopy = (): string => {
  const copy = mkdtempSync(join(tmpdir(), "sensor-windows-copy-"));
  copies.push(copy);
  for (const entry of [
    "node_modules",
    "lib",
    "core",
    "state",
    "deploy",
    "package.json",
    "tsconfig.json",
    "biome.json",
  ]) {
    symlinkSync(join(root, entry), join(copy, entry));
  }
  mkdirSync(join(copy, "functions"));
  for (const entry of readdirSync(join(root, "functions"))) {
    symlinkSync(join(root, "functions", entry), join(copy, "functions", entry));
  }
  writeFileSync(join(copy, "template.yaml"), readFileSync(join(root, "template.yaml")));
  return copy;
};

/** Runs a tool of node_modules/.bin in `cwd`; resolves with its exit code and output. */
const run = (cwd: string, tool: string, args: string[]) =>
  new Promise<{ code: number | null; output: string }>((done) => {
    const child = spawn(join(root, "node_modules", ".bin", tool), args, {
      cwd,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.on("close", (code) => done({ code, output }));
  });

describe("npm run new-function refuses, with a message saying what to change, and leaves nothing", () => {
  const copy = projectCopy();
  const template = readFileSync(join(copy, "template.yaml"), "utf8");

  it.each([
    ["an upper-case name", { name: "Humidity" }, /"Humidity" is not a function name/],
    ["a name with an underscore", { name: "humidity_alerts" }, /lowercase words and digits/],
    ["a name starting with a digit", { name: "2fast" }, /not a function name/],
    ["a double hyphen", { name: "a--b" }, /not a function name/],
    [
      "an existing function",
      { name: "alert-on-threshold" },
      /functions\/alert-on-threshold already exists/,
    ],
    ["an existing folder", { name: "testing" }, /functions\/testing already exists/],
    [
      "a topic Kafka refuses",
      { name: "humidity", topic: "raw humidity" },
      /--topic must be a Kafka topic name/,
    ],
    [
      "its own output topic as its input",
      { name: "humidity", topic: "t", outputTopic: "t" },
      /--output-topic must differ from --topic/,
    ],
    [
      "a name whose resources collide with the stack's own",
      { name: "state-table" },
      /makes the resource StateTableThrottlesAlarm.*rename the function/,
    ],
  ])("%s", async (_, options, message) => {
    const attempt = newFunction({ ...options, root: copy, format: false });
    await expect(attempt).rejects.toThrow(NewFunctionError);
    await expect(newFunction({ ...options, root: copy, format: false })).rejects.toThrow(message);
    if (!["alert-on-threshold", "testing"].includes(options.name)) {
      expect(existsSync(join(copy, "functions", options.name))).toBe(false);
    }
    expect(readFileSync(join(copy, "template.yaml"), "utf8")).toBe(template);
  });
});

// A name no user's function is likely to have: the README tells users to scaffold `demo` in
// their clone, and the copy holds their functions too.
describe("npm run new-function -- scaffold-probe, in a copy of the project", () => {
  const copy = projectCopy();
  const dir = join(copy, "functions", "scaffold-probe");
  let result: Awaited<ReturnType<typeof newFunction>>;

  beforeAll(async () => {
    result = await newFunction({ name: "scaffold-probe", root: copy });
  }, 60_000);

  it("writes the function's folder: handler, trigger, registration, README, a unit test with a fixture event", () => {
    expect(result.files.map((f) => f.path).sort()).toEqual([
      "README.md",
      "fixtures/event.json",
      "function.ts",
      "handler.ts",
      "scaffold-probe-handler.ts",
      "scaffold-probe.test.ts",
      "trigger.ts",
    ]);
    for (const f of result.files) expect(existsSync(join(dir, f.path))).toBe(true);
    expect(result.formatWarning).toBeUndefined();
  });

  it("is registered by its folder alone, reading raw-temperature in its own group", async () => {
    const functions = await discoverFunctions(join(copy, "functions"));
    expect(functions.map((f) => f.name)).toEqual(
      [...registeredFunctions.map((f) => f.name), "scaffold-probe"].sort(),
    );
    const probe = kafkaFunctionNamed("scaffold-probe", functions);
    expect(probe.trigger).toMatchObject({
      topic: "raw-temperature",
      consumerGroupId: "sensor-windows-scaffold-probe",
    });
    expect(result.deployed).toEqual(functions.map((f) => f.name));
  });

  it("regenerates template.yaml, so the stale-template test passes as generated", async () => {
    const written = readFileSync(join(copy, "template.yaml"), "utf8");
    expect(written).toBe(templateYaml(await discoverFunctions(join(copy, "functions"))));
  });

  it("deploys with a least-privilege role, both triggers, its parameter and alarms", () => {
    const template = parse(readFileSync(join(copy, "template.yaml"), "utf8")) as Template;
    expect(template.Parameters.ScaffoldProbeOutputTopic?.Default).toBe("scaffold-probe-out");
    const msk = deploy(template, {
      KafkaFlavour: "msk",
      MskClusterArn: "arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0b1c2d3e-4f5a-2",
      BootstrapServers: "b-1.sensors:9098",
      SubnetIds: "subnet-0a",
      SecurityGroupIds: "sg-01",
    });
    expect(Object.keys(msk.resources).filter((r) => r.startsWith("ScaffoldProbe"))).toEqual([
      "ScaffoldProbeLogGroup",
      "ScaffoldProbeRole",
      "ScaffoldProbeFunction",
      "ScaffoldProbeMskTrigger",
      "ScaffoldProbeOffsetLagAlarm",
      "ScaffoldProbeErrorsAlarm",
      "ScaffoldProbeThrottlesAlarm",
    ]);
    const role = msk.resources.ScaffoldProbeRole;
    if (role === undefined) throw new Error("no ScaffoldProbeRole");
    const statements = (
      role.Properties.Policies as {
        PolicyDocument: { Statement: { Sid: string; Resource: unknown }[] };
      }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    const arn = "arn:aws:kafka:eu-west-1:123456789012:topic/sensors/0b1c2d3e-4f5a-2";
    expect(statements.find((s) => s.Sid === "MskIamProducerTopics")?.Resource).toEqual([
      `${arn}/scaffold-probe-out`,
    ]);
    expect(statements.find((s) => s.Sid === "MskIamConsumerTopic")?.Resource).toBe(
      `${arn}/raw-temperature`,
    );
    expect(statements.map((s) => s.Sid)).not.toContain("StateTable");
    const selfManaged = deploy(template, {
      KafkaFlavour: "self-managed",
      BootstrapServers: "kafka-1.example.com:9096",
      KafkaSecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf",
    });
    expect(selfManaged.resources.ScaffoldProbeSelfManagedTrigger?.Properties).toMatchObject({
      Topics: ["raw-temperature"],
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: "sensor-windows-scaffold-probe" },
    });
  });

  it("type-checks, passes lint and passes its own unit test, as generated", async () => {
    writeFileSync(
      join(copy, "tsconfig.scaffold-probe.json"),
      JSON.stringify({ extends: "./tsconfig.json", include: ["functions/scaffold-probe"] }),
    );
    writeFileSync(
      join(copy, "vitest.scaffold-probe.config.ts"),
      'import { defineConfig } from "vitest/config";\nexport default defineConfig({ test: { include: ["functions/scaffold-probe/**/*.test.ts"] } });\n',
    );
    const [tsc, biome, vitest] = await Promise.all([
      run(copy, "tsc", ["--noEmit", "-p", "tsconfig.scaffold-probe.json"]),
      run(copy, "biome", ["check", "--vcs-enabled=false", "functions/scaffold-probe"]),
      run(copy, "vitest", ["run", "--config", "vitest.scaffold-probe.config.ts"]),
    ]);
    expect(tsc.code, tsc.output).toBe(0);
    expect(biome.code, biome.output).toBe(0);
    expect(vitest.code, vitest.output).toBe(0);
    expect(vitest.output).toMatch(/5 passed/);
  }, 120_000);
});
