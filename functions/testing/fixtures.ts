import { readdirSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { KafkaEventSource, type KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { FixtureError } from "./errors.ts";
import {
  type KafkaEventOptions,
  kafkaEvent,
  type PlainRecord,
  withFlavour,
} from "./kafka-event.ts";

/** The kit's fixture events (see fixtures/README.md for where each comes from). */
export const KIT_FIXTURES_DIR = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** The names of the kit's fixture events, e.g. `msk-documentation-event.json`. */
export const kitFixtureNames = (): string[] =>
  readdirSync(KIT_FIXTURES_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort();

/**
 * Loads a fixture event. `source` is one of the kit's fixtures by name
 * (`"msk-documentation-event.json"`), a URL (`new URL("./fixtures/event.json", import.meta.url)`,
 * next to the test), or a path (relative to the working directory).
 *
 * The file holds either a whole trigger event, as Lambda delivers it (checked for the shape every
 * handler relies on), or a JSON array of plain records (`{key, value, headers, timestamp}`), built
 * into an event with `options` exactly as {@link kafkaEvent} does. With `options.flavour`, an event
 * file is turned into that flavour.
 */
export const fixtureEvent = (
  source: string | URL,
  options: KafkaEventOptions = {},
): KafkaTriggerEvent => {
  const file = fixturePath(source);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const known = kitFixtureNames().join(", ");
    throw new FixtureError(`fixture ${file} can't be read (the kit's fixtures: ${known})`, {
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FixtureError(`fixture ${file} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (Array.isArray(json)) return kafkaEvent(json as PlainRecord[], options);
  const event = checkedEvent(json, file);
  return options.flavour === undefined ? event : withFlavour(event, options.flavour);
};

/** Where `source` points: a kit fixture's name, a `file:` URL, or a path from the working directory. */
export const fixturePath = (source: string | URL): string => {
  if (source instanceof URL) return fileURLToPath(source);
  if (isAbsolute(source)) return source;
  if (!source.includes("/") && !source.includes("\\")) return resolve(KIT_FIXTURES_DIR, source);
  return resolve(source);
};

/** The checks a handler relies on: the envelope, and each record's coordinates under its group. */
const checkedEvent = (json: unknown, file: string): KafkaTriggerEvent => {
  const fail = (what: string): never => {
    throw new FixtureError(`fixture ${file}: ${what}`);
  };
  if (typeof json !== "object" || json === null) {
    return fail("expected a Kafka trigger event (an object) or an array of plain records");
  }
  const e = json as Record<string, unknown>;
  const sources = Object.values(KafkaEventSource) as string[];
  if (!sources.includes(e.eventSource as string)) {
    fail(`eventSource must be one of ${sources.join(", ")}, got ${JSON.stringify(e.eventSource)}`);
  }
  if (e.eventSource === KafkaEventSource.msk && typeof e.eventSourceArn !== "string") {
    fail("an MSK event (aws:kafka) needs eventSourceArn, the cluster's ARN");
  }
  if (typeof e.bootstrapServers !== "string") fail("bootstrapServers must be a string");
  if (typeof e.records !== "object" || e.records === null || Array.isArray(e.records)) {
    fail('records must be an object of "<topic>-<partition>": [records]');
  }
  for (const [group, list] of Object.entries(e.records as Record<string, unknown>)) {
    if (!Array.isArray(list)) fail(`records["${group}"] must be an array`);
    for (const [i, r] of (list as Record<string, unknown>[]).entries()) {
      const at = `records["${group}"][${i}]`;
      if (typeof r.topic !== "string" || typeof r.partition !== "number") {
        fail(`${at} needs a topic (string) and a partition (number)`);
      }
      if (`${r.topic}-${r.partition}` !== group) {
        fail(`${at} is ${r.topic}-${r.partition}, under the group "${group}"`);
      }
      for (const field of ["offset", "timestamp"]) {
        if (typeof r[field] !== "number") fail(`${at}.${field} must be a number`);
      }
      if (!Array.isArray(r.headers)) fail(`${at}.headers must be an array (may be empty)`);
    }
  }
  return json as KafkaTriggerEvent;
};
