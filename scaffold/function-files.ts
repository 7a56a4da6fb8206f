import { logicalIdOf } from "../functions/registry.ts";
import { DEFAULT_TIMESTAMP, kafkaEvent } from "../functions/testing/index.ts";

/*
 * The files of a new function's folder, as `npm run new-function -- NAME` writes them: a working
 * starting point (it forwards each record to its output topic) that passes its own test, the
 * stale-template test and lint as generated, built like alert-on-threshold. Pure: the CLI writes
 * them, a test writes them into a copy of the project.
 */

export interface NewFunctionOptions {
  /** Lowercase words and digits joined by hyphens: the folder, the Lambda and the consumer group. */
  name: string;
  /** The topic its trigger reads. */
  topic: string;
  /** The topic it writes. */
  outputTopic: string;
}

export interface GeneratedFile {
  /** Relative to the function's folder. */
  path: string;
  content: string;
  /** What it is, for the CLI's report. */
  what: string;
}

/** What the files name: the options, the function's logical id, its handler factory and logic file. */
const namesOf = (o: NewFunctionOptions) => {
  const pascal = logicalIdOf(o.name);
  return { ...o, pascal, create: `create${pascal}Handler`, logic: `${o.name}-handler.ts` };
};
type Names = ReturnType<typeof namesOf>;

export const functionFiles = (o: NewFunctionOptions): GeneratedFile[] => {
  const names = namesOf(o);
  return [
    registrationFile,
    triggerFile,
    logicFile,
    handlerFile,
    testFile,
    fixtureFile,
    readmeFile,
  ].map((file) => file(names));
};

const registrationFile = (o: Names): GeneratedFile => ({
  path: "function.ts",
  what: "its registration: trigger, settings, the topic it writes (found by the harness, the build and the template)",
  content: `import { kafkaFunction, Setting } from "../function-declaration.ts";
import { trigger } from "./trigger.ts";

/**
 * \`${o.name}\`, as the harness runs it and the template deploys it: this folder holding this file
 * is its registration. Declare every setting the handler reads (each becomes a template parameter)
 * and every topic it writes (its role may write those, and only those), then run
 * \`npm run template\`.
 */
export const declaration = kafkaFunction({
  name: "${o.name}",
  description: "Records of ${o.topic} in, forwarded to ${o.outputTopic}",
  trigger,
  settings: {
    outputTopic: Setting.topic({
      env: "OUTPUT_TOPIC",
      parameter: "${o.pascal}OutputTopic",
      default: "${o.outputTopic}",
      description: "Where ${o.name} writes",
    }),
  },
  outputTopics: ["outputTopic"],
});
`,
});

const triggerFile = (o: Names): GeneratedFile => ({
  path: "trigger.ts",
  what: `its Kafka trigger: ${o.topic}, its own consumer group, LATEST`,
  content: `import { resolveTrigger } from "../trigger-declaration.ts";

/**
 * The Kafka trigger of \`${o.name}\`: what the harness polls locally and the template deploys in
 * AWS, for MSK and self-managed Kafka alike. Its consumer group is \`<stack name>-${o.name}\`, its
 * own. Every field, its default and range: functions/trigger-declaration.ts and
 * https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html
 */
export const trigger = resolveTrigger("${o.name}", {
  topic: "${o.topic}",
  batchSize: 100,
  // A new consumer group starts at the records that come next, not the topic's history.
  startingPosition: "LATEST",
  eventFlavour: "msk",
  timeoutSeconds: 60,
  memorySizeMb: 256,
});
`,
});

const logicFile = (o: Names): GeneratedFile => ({
  path: o.logic,
  what: `the logic, over injected dependencies: forwards each record to ${o.outputTopic}; change it`,
  content: `import type { Logger } from "../../lib/logger.ts";
import { keyBytes, recordsOf, valueBytes } from "../kafka-records.ts";
import type { KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { SOURCE_RECORD_HEADER, sourceRecordId } from "../output-records.ts";
import type { OutputRecord, RecordSink } from "../record-sink.ts";

/** Everything the handler needs, injected: built once per cold start (handler.ts), or by a test. */
export interface ${o.pascal}Dependencies {
  outputTopic: string;
  sink: RecordSink;
  logger: Logger;
}

/** What one invocation did: logged, written as metrics, shown by the harness, returned to tests. */
export interface ${o.pascal}Summary {
  records: number;
  produced: number;
  skipped: number;
}

/**
 * \`${o.name}\`, a starting point: each record with a value is forwarded to the output topic byte
 * for byte (a value need not be text), keyed like the original, marked with its source record
 * (\`<topic>-<partition>@<offset>\`: the trigger delivers at least once, and a consumer drops a
 * repeat by it); a record without a value is skipped. Put what your function does in the loop,
 * keeping the rules in README.md: never throw for one bad record (the trigger would retry the batch,
 * and the partition would stall on it), give each output an identity of its own, and keep each
 * under Kafka's 1 MB record limit.
 */
export const ${o.create} = (deps: ${o.pascal}Dependencies) => {
  return async (event: KafkaTriggerEvent): Promise<${o.pascal}Summary> => {
    const records = recordsOf(event);
    const output: OutputRecord[] = [];
    let skipped = 0;
    for (const record of records) {
      const value = valueBytes(record);
      if (value === null) {
        skipped++;
        continue;
      }
      output.push({
        key: keyBytes(record),
        value,
        headers: { [SOURCE_RECORD_HEADER]: sourceRecordId(record) },
      });
    }
    // Resolves once every record is acknowledged: a failure fails the invocation and the trigger
    // retries the batch.
    if (output.length > 0) await deps.sink.send([{ topic: deps.outputTopic, records: output }]);
    const summary = { records: records.length, produced: output.length, skipped };
    deps.logger.info("batch processed", { ...summary });
    return summary;
  };
};
`,
});

const handlerFile = (o: Names): GeneratedFile => ({
  path: "handler.ts",
  what: "the Lambda entry point: settings once per cold start, the Kafka producer, metrics",
  content: `import type { Context } from "aws-lambda";
import { addMetrics, writeEmbeddedMetrics } from "../../lib/function-metrics.ts";
import { createLogger } from "../../lib/logger.ts";
import { readSettings } from "../function-declaration.ts";
import { configuredBrokers, lazyKafkaSink } from "../kafka-sink.ts";
import type { KafkaTriggerEvent } from "../kafka-trigger-event.ts";
import { declaration } from "./function.ts";
import { ${o.create} } from "./${o.logic}";

/*
 * The Lambda entry point (index.handler in the bundle). Settings are read and checked once per
 * cold start, a bad one failing it with a message naming the variable; the Kafka producer lives at
 * module level, so warm invocations reuse it.
 * https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html
 */
const FUNCTION_NAME = declaration.name;
const logger = createLogger({ fields: { function: FUNCTION_NAME } });
const { outputTopic } = readSettings(declaration.settings);
const sinkFor = lazyKafkaSink(configuredBrokers(), FUNCTION_NAME, logger);

export const handler = async (event: KafkaTriggerEvent, context?: Context): Promise<void> => {
  const handle = ${o.create}({
    outputTopic,
    sink: await sinkFor(event.bootstrapServers),
    logger: context ? logger.child({ requestId: context.awsRequestId }) : logger,
  });
  const summary = await handle(event);
  addMetrics(FUNCTION_NAME, { ...summary });
  writeEmbeddedMetrics({ ...summary });
};
`,
});

const testFile = (o: Names): GeneratedFile => ({
  path: `${o.name}.test.ts`,
  what: "its unit test: the fixture event and plain records in, the produced records asserted (testing kit only)",
  content: `import { describe, expect, it } from "vitest";
import { fixtureEvent, kafkaEvent, MemoryRecordSink, silentLogger } from "../testing/index.ts";
import { declaration } from "./function.ts";
import { ${o.create} } from "./${o.logic}";

/*
 * The unit tests of \`${o.name}\`, with the testing kit (functions/testing/README.md): build the
 * event (as the harness builds it), invoke the handler with an in-memory sink, assert what it
 * produced.
 */

const OUTPUT = declaration.settings.outputTopic.default;
const FIXTURE = new URL("./fixtures/event.json", import.meta.url);
const handlerWith = (sink: MemoryRecordSink) =>
  ${o.create}({ outputTopic: OUTPUT, sink, logger: silentLogger });

describe("${o.name}", () => {
  it("forwards each record of the fixture event with a value, keyed like the original", async () => {
    const sink = new MemoryRecordSink();
    const summary = await handlerWith(sink)(fixtureEvent(FIXTURE));
    expect(sink.keys(OUTPUT)).toEqual(["Sensor1", "Sensor2"]);
    expect(sink.values(OUTPUT)).toEqual([
      { ts: ${DEFAULT_TIMESTAMP}, value: 21.5 },
      { ts: ${DEFAULT_TIMESTAMP + 1000}, value: 30 },
    ]);
    expect(summary).toEqual({ records: 3, produced: 2, skipped: 1 });
  });

  it("marks each output with its source record", async () => {
    const sink = new MemoryRecordSink();
    await handlerWith(sink)(
      kafkaEvent([{ key: "Sensor9", value: "hello" }], {
        topic: "${o.topic}",
        partition: 2,
        firstOffset: 41,
      }),
    );
    expect(sink.header(OUTPUT, "source-record")).toEqual(["${o.topic}-2@41"]);
  });

  it("forwards a value that is not text byte for byte", async () => {
    const sink = new MemoryRecordSink();
    const bytes = Buffer.from([0xff, 0x00, 0xc3, 0x28]); // not UTF-8: decoding it would change it
    await handlerWith(sink)(kafkaEvent([{ key: "Sensor9", value: bytes }]));
    expect(sink.records(OUTPUT).map((r) => r.value)).toEqual([bytes]);
  });

  it.each(["msk", "self-managed"] as const)("does the same with a %s event", async (flavour) => {
    const sink = new MemoryRecordSink();
    await handlerWith(sink)(fixtureEvent(FIXTURE, { flavour }));
    expect(sink.records(OUTPUT)).toHaveLength(2);
  });
});
`,
});

const fixtureFile = (o: Names): GeneratedFile => ({
  path: "fixtures/event.json",
  what: "a fixture event: two readings and a record without a value, as the trigger delivers them",
  content: `${JSON.stringify(
    kafkaEvent(
      [
        {
          key: "Sensor1",
          value: { ts: DEFAULT_TIMESTAMP, value: 21.5 },
          headers: { uuid: "7c4a8d09-ca37-4d6c-9f3b-0a1f2e3d4c5b" },
        },
        { key: "Sensor2", value: { ts: DEFAULT_TIMESTAMP + 1000, value: 30 } },
        { key: "Sensor1", value: null },
      ],
      { topic: o.topic, firstOffset: 100 },
    ),
    null,
    2,
  )}\n`,
});

const readmeFile = (o: Names): GeneratedFile => ({
  path: "README.md",
  what: "what it does, its settings, how to test, run and deploy it",
  content: `# ${o.name}

Records of \`${o.topic}\` in, forwarded to \`${o.outputTopic}\`: the starting point
\`npm run new-function\` wrote. Say here what it does once it does it.

| file | what |
|---|---|
| \`function.ts\` | its registration: the trigger, the settings it reads, the topics it writes |
| \`trigger.ts\` | its Kafka trigger (\`${o.topic}\`, consumer group \`<stack name>-${o.name}\`, \`LATEST\`) |
| \`${o.logic}\` | the logic, over injected dependencies: what the tests call |
| \`handler.ts\` | the Lambda entry point: settings, the Kafka producer, metrics |
| \`${o.name}.test.ts\`, \`fixtures/event.json\` | unit tests with the testing kit (\`functions/testing/\`) |

## Configuration

| variable | template parameter | default | meaning |
|---|---|---|---|
| \`OUTPUT_TOPIC\` | \`${o.pascal}OutputTopic\` | \`${o.outputTopic}\` | where it writes (create it before deploying) |

## The rules it keeps

- **Never throw for one bad record**: the trigger would retry the whole batch, and the partition
  would stall on it. Skip it, count it, or send it to a dead-letter topic.
- **Each output has an identity of its own**: delivery is at least once (a retry repeats what went
  out before a failure), so a consumer drops repeats by it. Here it is the \`source-record\` header;
  a record that makes several outputs needs one each (e.g. \`\${sourceRecordId(record)}#\${i}\`).
  To repeat nothing after a failure, keep state as \`aggregate-temperatures\` does (an outbox:
  \`state/README.md\`).
- **Each output stays under Kafka's 1 MB record limit** (\`max.message.bytes\`, MSK's default too),
  which the broker would refuse on every retry: copy large inputs by reference (topic, partition,
  offset), not whole. The record sink already cuts produce requests at about 900 KB.

## Test, run, deploy

\`\`\`sh
npx vitest run functions/${o.name}                 # unit tests
npm run harness -- --function ${o.name}            # behind the local Kafka trigger
npm run deploy                                      # with the rest of the stack (README, "Deploy")
\`\`\`

After changing \`function.ts\` or \`trigger.ts\`, run \`npm run template\`: a test fails while
template.yaml is stale.
`,
});
