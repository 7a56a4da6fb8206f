import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FunctionFolderError, UnknownFunctionError } from "../../functions/errors.ts";
import {
  deployedWith,
  kafkaFunction,
  outputTopicNames,
  readSettings,
  Setting,
  scheduledFunction,
} from "../../functions/function-declaration.ts";
import {
  discoverFunctions,
  FUNCTIONS_DIR,
  kafkaFunctionNamed,
  kafkaFunctions,
  logicalIdOf,
  registeredFunctions,
  scheduledFunctionNamed,
  scheduledFunctions,
} from "../../functions/registry.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import { ConfigError } from "../../lib/errors.ts";

describe("the registry: every folder under functions/ with a function.ts, and nothing else", () => {
  const folders = readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

  it("finds each function named after its folder, with its handler.ts", () => {
    expect(registeredFunctions.map((f) => f.name)).toEqual(
      folders.filter((f) => existsSync(join(FUNCTIONS_DIR, f, "function.ts"))).sort(),
    );
    for (const f of registeredFunctions) {
      expect(f.dir).toBe(join(FUNCTIONS_DIR, f.name));
      expect(existsSync(f.handlerFile)).toBe(true);
    }
  });

  it("has no function folder left unregistered: a handler.ts without a function.ts", () => {
    const unregistered = folders.filter(
      (f) =>
        existsSync(join(FUNCTIONS_DIR, f, "handler.ts")) &&
        !existsSync(join(FUNCTIONS_DIR, f, "function.ts")),
    );
    expect(unregistered).toEqual([]);
  });

  it("pairs each scheduled companion with a registered Kafka function", () => {
    const kafka = kafkaFunctions().map((f) => f.name);
    for (const s of scheduledFunctions()) {
      if (s.companionOf !== undefined) expect(kafka).toContain(s.companionOf);
    }
  });

  it("names each function's resources after it", () => {
    expect(logicalIdOf("alert-on-threshold")).toBe("AlertOnThreshold");
    expect(logicalIdOf("sweep-idle-windows")).toBe("SweepIdleWindows");
    expect(logicalIdOf("h2o-level")).toBe("H2oLevel");
  });

  it("refuses an unknown name, listing the known ones", () => {
    expect(() => kafkaFunctionNamed("humidity")).toThrow(UnknownFunctionError);
    expect(() => kafkaFunctionNamed("humidity")).toThrow(/aggregate-temperatures/);
    expect(() => kafkaFunctionNamed("sweep-idle-windows")).toThrow(/no Kafka-triggered function/);
    expect(scheduledFunctionNamed("sweep-idle-windows").schedule.expression).toBe("rate(1 minute)");
  });

  describe("refuses a function folder it can't use, naming the file and the fix", () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    });
    const folder = (files: Record<string, string>) => {
      const dir = mkdtempSync(join(tmpdir(), "functions-"));
      dirs.push(dir);
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(dir, path, ".."), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      return dir;
    };
    const declaration = (name: string) =>
      `export const declaration = { kind: "kafka", name: ${JSON.stringify(name)} };\n`;

    it.each([
      [
        "no declaration",
        { "x/function.ts": "export const other = 1;\n" },
        /must export `declaration`/,
      ],
      [
        "a declaration named unlike its folder",
        { "x/function.ts": declaration("y"), "x/handler.ts": "" },
        /declares "y" in the folder "x"/,
      ],
      ["no handler.ts", { "x/function.ts": declaration("x") }, /x has no handler\.ts/],
    ])("%s", async (_, files, message) => {
      const dir = folder(files);
      await expect(discoverFunctions(dir)).rejects.toThrow(FunctionFolderError);
      await expect(discoverFunctions(dir)).rejects.toThrow(message);
    });

    it("a handler.ts without `handler`, when the harness loads it", async () => {
      const dir = folder({
        "x/function.ts": declaration("x"),
        "x/handler.ts": "export const main = () => 1;\n",
      });
      const [x] = await discoverFunctions(dir);
      await expect(x?.loadHandler()).rejects.toThrow(/must export `handler`/);
    });

    it("skips folders without function.ts (the testing kit)", async () => {
      expect(await discoverFunctions(folder({ "testing/index.ts": "export {};\n" }))).toEqual([]);
    });
  });
});

describe("a function's declaration", () => {
  const trigger = resolveTrigger("humidity-alerts", { topic: "raw-humidity" });
  const settings = {
    topic: Setting.topic({
      env: "ALERT_TOPIC",
      parameter: "HumidityAlertTopic",
      default: "humidity-alerts",
      description: "alerts",
    }),
    limit: Setting.number({
      env: "HUMIDITY_LIMIT",
      parameter: "HumidityLimit",
      default: 80,
      minValue: 0,
      maxValue: 100,
      description: "percent",
    }),
  };
  const valid = {
    name: "humidity-alerts",
    description: "Humidity over a limit in, alerts out",
    trigger,
    settings,
    outputTopics: ["topic"] as const,
  };

  it("defaults to no settings, outputs, state or alarms", () => {
    const d = kafkaFunction({ name: "plain", description: "d", trigger });
    expect(d).toMatchObject({
      kind: "kafka",
      settings: {},
      outputTopics: [],
      stateTable: false,
      metricAlarms: [],
    });
  });

  it.each([
    [{ name: "Humidity_Alerts" }, /lowercase words and digits joined by hyphens/],
    [{ name: "2-fast" }, /lowercase words/],
    [{ description: " " }, /description must say what the function does/],
    [{ outputTopics: ["limit"] }, /outputTopics names "limit", which is not a topic setting/],
    [
      { settings: { ...settings, limit: { ...settings.limit, env: "KAFKA_BROKERS" } } },
      /KAFKA_BROKERS is set by the template for every function/,
    ],
    [
      { settings: { ...settings, limit: { ...settings.limit, env: "alertLimit" } } },
      /UPPER_SNAKE_CASE/,
    ],
    [
      { settings: { ...settings, limit: { ...settings.limit, parameter: "Humidity-Limit" } } },
      /a CloudFormation parameter name/,
    ],
    [
      { settings: { ...settings, limit: { ...settings.limit, env: "ALERT_TOPIC" } } },
      /two settings read ALERT_TOPIC/,
    ],
    [
      { settings: { ...settings, limit: { ...settings.limit, default: "80" } } },
      /default must be a number/,
    ],
  ])("refuses %j, naming the field", (change, message) => {
    expect(() => kafkaFunction({ ...valid, ...change } as never)).toThrow(ConfigError);
    expect(() => kafkaFunction({ ...valid, ...change } as never)).toThrow(message);
  });

  it("refuses deployedWhen on a Kafka function, and a condition on a parameter it doesn't take", () => {
    const when = { name: "On", parameter: "HumidityLimit", isNot: 0 };
    expect(() => kafkaFunction({ ...valid, deployedWhen: when })).toThrow(
      /for scheduled functions/,
    );
    const schedule = {
      periodSeconds: 60,
      expression: "rate(1 minute)",
      timeoutSeconds: 60,
      memorySizeMb: 128,
      maximumEventAgeInSeconds: 60,
      maximumRetryAttempts: 0,
    };
    expect(() =>
      scheduledFunction({
        name: "s",
        description: "d",
        schedule,
        deployedWhen: { ...when, parameter: "Nope" },
      }),
    ).toThrow(/deployedWhen names the parameter Nope/);
  });

  describe("settings, read from the environment once at cold start", () => {
    it("take their defaults when unset, numbers as numbers", () => {
      expect(readSettings(settings, {})).toEqual({ topic: "humidity-alerts", limit: 80 });
      expect(readSettings(settings, { HUMIDITY_LIMIT: " 65.5 ", ALERT_TOPIC: "" })).toEqual({
        topic: "humidity-alerts",
        limit: 65.5,
      });
    });

    it.each([
      [{ HUMIDITY_LIMIT: "high" }, 'HUMIDITY_LIMIT must be a number, got "high"'],
      [{ HUMIDITY_LIMIT: "101" }, "HUMIDITY_LIMIT must be 0..100, got 101"],
      [{ ALERT_TOPIC: "a topic" }, "ALERT_TOPIC must be a Kafka topic name"],
    ])("refuse %j with a message naming the variable", (env, message) => {
      expect(() => readSettings(settings, env)).toThrow(ConfigError);
      expect(() => readSettings(settings, env)).toThrow(message);
    });

    it("name the output topics as the environment does", () => {
      const d = kafkaFunction(valid);
      expect(outputTopicNames(d, {})).toEqual(["humidity-alerts"]);
      expect(outputTopicNames(d, { ALERT_TOPIC: "mine" })).toEqual(["mine"]);
    });
  });

  it("deploys a conditional function only while its parameter is not the value", () => {
    const sweep = scheduledFunctionNamed("sweep-idle-windows");
    expect(deployedWith(sweep, {})).toBe(false);
    expect(deployedWith(sweep, { IDLE_TIMEOUT_MS: "0" })).toBe(false);
    expect(deployedWith(sweep, { IDLE_TIMEOUT_MS: "15000" })).toBe(true);
    expect(deployedWith(kafkaFunction(valid), {})).toBe(true);
  });
});
