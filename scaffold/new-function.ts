import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeTemplate } from "../deploy/template.ts";
import { FUNCTION_NAME } from "../functions/function-declaration.ts";
import { logicalIdOf } from "../functions/registry.ts";
import { TOPIC_NAME } from "../lib/env-settings.ts";
import { SensorWindowsError } from "../lib/errors.ts";
import { NewFunctionError } from "./errors.ts";
import { functionFiles, type GeneratedFile, type NewFunctionOptions } from "./function-files.ts";

const projectRoot = resolve(fileURLToPath(new URL("..", import.meta.url)));

export interface NewFunctionResult {
  /** The function's folder. */
  dir: string;
  files: GeneratedFile[];
  /** Every function template.yaml now deploys. */
  deployed: string[];
  /** Why the files could not be formatted with Biome, if they could not. */
  formatWarning?: string;
}

/**
 * Scaffolds `functions/<name>/` under `root` (the project, or a copy of it) and regenerates
 * `root/template.yaml` with it: the new function is registered by its folder, so the harness, the
 * build and the template need no other edit, and `npm test` passes as generated. Refuses a bad or
 * existing name with a `NewFunctionError` and leaves nothing behind.
 */
export const newFunction = async (
  options: Partial<NewFunctionOptions> & { name: string; root?: string; format?: boolean },
): Promise<NewFunctionResult> => {
  const root = options.root ?? projectRoot;
  const { name } = options;
  if (!FUNCTION_NAME.test(name) || name.length > 64) {
    throw new NewFunctionError(
      `"${name}" is not a function name: lowercase words and digits joined by single hyphens, starting with a letter, at most 64 characters (e.g. humidity-alerts)`,
    );
  }
  const topic = options.topic ?? "raw-temperature";
  const outputTopic = options.outputTopic ?? `${name}-out`;
  for (const [flag, value] of [
    ["--topic", topic],
    ["--output-topic", outputTopic],
  ] as const) {
    if (!TOPIC_NAME.test.test(value)) {
      throw new NewFunctionError(`${flag} must be ${TOPIC_NAME.rule}, got "${value}"`);
    }
  }
  if (topic === outputTopic) {
    throw new NewFunctionError(
      `--output-topic must differ from --topic ("${topic}"): the function would read its own output`,
    );
  }
  const dir = join(root, "functions", name);
  if (existsSync(dir)) {
    throw new NewFunctionError(
      `functions/${name} already exists: choose another name (npm run new-function -- --help)`,
    );
  }
  const files = functionFiles({ name, topic, outputTopic });
  try {
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), f.content);
    }
    const deployed = await writeTemplate(root);
    const formatWarning = options.format === false ? undefined : formatWithBiome(root, dir);
    return {
      dir,
      files,
      deployed: deployed.map((f) => f.name),
      ...(formatWarning === undefined ? {} : { formatWarning }),
    };
  } catch (error) {
    // The template is written last, only once it renders: removing the folder undoes it all.
    rmSync(dir, { recursive: true, force: true });
    if (error instanceof SensorWindowsError) {
      throw new NewFunctionError(`"${name}" can't be added: ${error.message}`, { cause: error });
    }
    throw error;
  }
};

/**
 * Formats the new folder and sorts its imports (Biome's safe fixes, as `biome check --write`), so
 * `npm run lint` passes whatever the name: the import order depends on it.
 */
const formatWithBiome = (root: string, dir: string): string | undefined => {
  const biome = join(root, "node_modules", ".bin", "biome");
  if (!existsSync(biome)) return `${biome} not found: run npm run format`;
  const run = spawnSync(biome, ["check", "--write", "--vcs-enabled=false", dir], {
    cwd: root,
    encoding: "utf8",
  });
  return run.status === 0 ? undefined : `biome check --write failed: ${run.stderr || run.stdout}`;
};

const USAGE = `Usage: npm run new-function -- NAME [--topic TOPIC] [--output-topic TOPIC]

Scaffolds a Kafka-triggered function in functions/NAME/, registered by its folder alone (the
harness, npm run build and npm run template find it), and regenerates template.yaml:

  function.ts         its registration: trigger, settings, the topic it writes
  trigger.ts          its Kafka trigger (TOPIC, its own consumer group, LATEST)
  NAME-handler.ts     the logic, over injected dependencies: forwards each record; change it
  handler.ts          the Lambda entry point
  NAME.test.ts        a unit test with fixtures/event.json and the testing kit
  fixtures/event.json a fixture event, as the trigger delivers it
  README.md

npm test passes as generated. NAME: lowercase words and digits joined by hyphens (e.g.
humidity-alerts), not an existing folder of functions/.

Options:
  --topic TOPIC         the topic its trigger reads (default raw-temperature)
  --output-topic TOPIC  the topic it writes (default NAME-out)
  -h, --help            this help

Then: the README's "Write your own function" (unit test, harness, deploy).
`;

/** Commands with their comments aligned. */
const commands = (rows: [string, string][]) => {
  const width = Math.max(...rows.map(([c]) => c.length));
  return rows.map(([c, why]) => `  ${c.padEnd(width)}  # ${why}`).join("\n");
};

const report = (r: NewFunctionResult, name: string, outputTopic: string): string => {
  const folder = relative(projectRoot, r.dir) || r.dir;
  const width = Math.max(...r.files.map((f) => f.path.length));
  const id = logicalIdOf(name);
  return `new-function: created ${folder}/
${r.files.map((f) => `  ${f.path.padEnd(width)}  ${f.what}`).join("\n")}
and regenerated template.yaml: ${id}Function with its own role, log group, MSK and self-managed
triggers and alarms, and the parameter ${id}OutputTopic (it deploys ${r.deployed.join(", ")}).
${r.formatWarning === undefined ? "" : `warning: ${r.formatWarning}\n`}
Next (README, "Write your own function"):
${commands([
  [`npx vitest run ${folder}`, "its unit test; npm test runs it too"],
  [
    `npm run harness -- --function ${name}`,
    `behind the local trigger; creates ${outputTopic}, reads from LATEST`,
  ],
  ["npm run produce -- --count 100 --rate 10", "records for it, in another terminal"],
  [`npm run watch -- --topic ${outputTopic}`, "what it writes"],
  ["npm run deploy", `with the stack; create ${outputTopic} on the cluster first`],
])}
Change ${name}-handler.ts and its test; after editing function.ts or trigger.ts, run npm run template.
`;
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let values: { topic?: string; "output-topic"?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      allowPositionals: true,
      options: {
        topic: { type: "string" },
        "output-topic": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`new-function: ${(error as Error).message} (--help)\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length !== 1) {
    process.stderr.write(
      `new-function: give one NAME, got ${positionals.length === 0 ? "none" : `"${positionals.join(" ")}"`}: npm run new-function -- humidity-alerts (--help)\n`,
    );
    process.exit(2);
  }
  const name = positionals[0] as string;
  try {
    const result = await newFunction({
      name,
      ...(values.topic === undefined ? {} : { topic: values.topic }),
      ...(values["output-topic"] === undefined ? {} : { outputTopic: values["output-topic"] }),
    });
    process.stdout.write(report(result, name, values["output-topic"] ?? `${name}-out`));
  } catch (error) {
    process.stderr.write(`new-function: ${(error as Error).message}\n`);
    process.exit(error instanceof NewFunctionError ? 2 : 1);
  }
}
