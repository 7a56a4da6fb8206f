import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { everyFieldDeclaration } from "../../deploy/every-field-example.ts";
import {
  MAX_SECURITY_GROUPS,
  MAX_SUBNETS,
  renderTemplate,
  templateYaml,
  withTrigger,
} from "../../deploy/template.ts";
import { trigger } from "../../functions/aggregate-temperatures/trigger.ts";
import type { FunctionDeclaration } from "../../functions/function-declaration.ts";
import {
  kafkaFunctionNamed,
  kafkaFunctions,
  logicalIdOf,
  registeredFunctions,
} from "../../functions/registry.ts";
import { sweepSchedule } from "../../functions/temperature-windows/sweep-schedule.ts";
import {
  type ErrorControls,
  LOCAL_STACK_NAME,
  resolveTrigger,
  type TriggerDeclaration,
} from "../../functions/trigger-declaration.ts";
import { writeEmbeddedMetrics } from "../../lib/function-metrics.ts";
import { StateTableDesign, stateTableKeysAndIndexes } from "../../state/dynamodb-state-table.ts";
import { type Deployment, deploy, type Template } from "../support/cloudformation.ts";

const committed = readFileSync(new URL("../../template.yaml", import.meta.url), "utf8");
const template = parse(committed) as Template;
const rendered = (functions: readonly FunctionDeclaration[]) =>
  JSON.parse(JSON.stringify(renderTemplate(functions))) as Template;
/** Every registered function, with aggregate-temperatures's trigger replaced by `t`. */
const withAggregateTrigger = (t: TriggerDeclaration) =>
  rendered(withTrigger(registeredFunctions, "aggregate-temperatures", t));

/** Complete parameter sets, one per way to deploy. */
const subnets = "subnet-0a,subnet-0b,subnet-0c";
const groups = "sg-01,sg-02";
const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf";
const rootCa = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:root-ca-AbCdEf";
const kmsKey = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const msk = {
  KafkaFlavour: "msk",
  MskClusterArn:
    "arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-2",
  BootstrapServers:
    "b-1.sensors.kafka.eu-west-1.amazonaws.com:9098,b-2.sensors.kafka.eu-west-1.amazonaws.com:9098",
  SubnetIds: subnets,
  SecurityGroupIds: groups,
};
const selfManagedPublic = {
  KafkaFlavour: "self-managed",
  BootstrapServers: "kafka-1.example.com:9096,kafka-2.example.com:9096",
  KafkaSecretArn: secret,
};
const selfManagedInVpc = {
  ...selfManagedPublic,
  SelfManagedAuth: "mtls",
  KafkaRootCaSecretArn: rootCa,
  SecretsKmsKeyArn: kmsKey,
  SubnetIds: subnets,
  SecurityGroupIds: groups,
};

const resourceOf = (d: Deployment, name: string) => {
  const r = d.resources[name];
  if (r === undefined) throw new Error(`no resource ${name} in this deployment`);
  return r;
};

/**
 * Reads a deployed trigger back into a declaration, as AWS applies it: an absent property is
 * AWS's default. If the template drops or alters any declared field, this differs from what the
 * harness runs.
 */
const declarationFromDeployment = (d: Deployment, functionName: string): TriggerDeclaration => {
  const logicalId = logicalIdOf(functionName);
  const mappings = Object.values(d.resources).filter(
    (r) =>
      r.Type === "AWS::Lambda::EventSourceMapping" &&
      r.Properties.FunctionName === `<${logicalId}Function>`,
  );
  expect(mappings).toHaveLength(1);
  const m = (mappings[0] as { Properties: Record<string, unknown> }).Properties;
  const fn = resourceOf(d, `${logicalId}Function`).Properties;
  const group = (m.AmazonManagedKafkaEventSourceConfig ?? m.SelfManagedKafkaEventSourceConfig) as {
    ConsumerGroupId: string;
  };
  const pollers = m.ProvisionedPollerConfig as
    | { MinimumPollers: number; MaximumPollers: number }
    | undefined;
  const hasControls = [
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "FunctionResponseTypes",
    "DestinationConfig",
  ].some((k) => k in m);
  const destination = (m.DestinationConfig as { OnFailure: { Destination: string } } | undefined)
    ?.OnFailure.Destination;
  if (destination !== undefined) expect(destination).toMatch(/^kafka:\/\//);
  const topics = m.Topics as string[];
  expect(topics).toHaveLength(1);
  const declared: TriggerDeclaration = {
    topic: topics[0] as string,
    batchSize: (m.BatchSize as number | undefined) ?? 100,
    maximumBatchingWindowInSeconds: (m.MaximumBatchingWindowInSeconds as number | undefined) ?? 0.5,
    startingPosition: m.StartingPosition as TriggerDeclaration["startingPosition"],
    consumerGroupId: group.ConsumerGroupId,
    filterCriteria: (
      (m.FilterCriteria as { Filters: { Pattern: string }[] } | undefined)?.Filters ?? []
    ).map((f) => JSON.parse(f.Pattern) as Record<string, unknown>),
    eventFlavour: d.parameters.KafkaFlavour as TriggerDeclaration["eventFlavour"],
    timeoutSeconds: fn.Timeout as number,
    memorySizeMb: fn.MemorySize as number,
  };
  if (m.StartingPositionTimestamp !== undefined) {
    declared.startingPositionTimestamp = m.StartingPositionTimestamp as number;
  }
  if (pollers !== undefined) {
    declared.provisionedPollers = {
      minimumPollers: pollers.MinimumPollers,
      maximumPollers: pollers.MaximumPollers,
    };
  }
  if (hasControls) {
    declared.errorControls = {
      maximumRetryAttempts: (m.MaximumRetryAttempts as number | undefined) ?? -1,
      maximumRecordAgeInSeconds: (m.MaximumRecordAgeInSeconds as number | undefined) ?? -1,
      bisectBatchOnFunctionError: (m.BisectBatchOnFunctionError as boolean | undefined) ?? false,
      functionResponseTypes:
        (m.FunctionResponseTypes as ErrorControls["functionResponseTypes"]) ?? [],
      ...(destination === undefined
        ? {}
        : { onFailureTopic: destination.slice("kafka://".length) }),
    };
  }
  return declared;
};

const everyFieldSet = everyFieldDeclaration;

describe("template.yaml (AWS SAM)", () => {
  it("is what `npm run template` generates from the declarations: it can't drift from the harness", () => {
    expect(committed).toBe(templateYaml());
  });

  it.each(registeredFunctions.map((f) => f.name))("deploys %s from its bundle", (fn) => {
    const f = template.Resources[`${logicalIdOf(fn)}Function`];
    expect(f?.Type).toBe("AWS::Serverless::Function");
    expect(f?.Properties.CodeUri).toBe(`dist/${fn}/`);
  });

  it("deploys every registered function, and only those", () => {
    const deployed = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === "AWS::Serverless::Function")
      .map(([id]) => id);
    expect(deployed.sort()).toEqual(
      registeredFunctions.map((f) => `${logicalIdOf(f.name)}Function`).sort(),
    );
  });
});

describe("a deploy with an incomplete parameter set is refused, naming what is missing", () => {
  const without = (params: Record<string, string>, name: string) =>
    Object.fromEntries(Object.entries(params).filter(([k]) => k !== name));
  it.each([
    ["MSK without MskClusterArn", without(msk, "MskClusterArn"), "MskClusterArn"],
    ["MSK without BootstrapServers", without(msk, "BootstrapServers"), "BootstrapServers"],
    ["MSK without SubnetIds", without(msk, "SubnetIds"), "SubnetIds"],
    ["MSK without SecurityGroupIds", without(msk, "SecurityGroupIds"), "SecurityGroupIds"],
    [
      "self-managed without BootstrapServers",
      without(selfManagedPublic, "BootstrapServers"),
      "BootstrapServers",
    ],
    [
      "self-managed without KafkaSecretArn",
      without(selfManagedPublic, "KafkaSecretArn"),
      "KafkaSecretArn",
    ],
    [
      "self-managed with subnets but no security groups",
      without(selfManagedInVpc, "SecurityGroupIds"),
      "SecurityGroupIds",
    ],
    ["the defaults alone", {}, "MskClusterArn"],
  ])("%s", (_, params, missing) => {
    const failures = deploy(template, params).ruleFailures;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.join("\n")).toContain(`needs ${missing}`);
  });

  it.each([
    ["MSK", msk],
    ["self-managed, public", selfManagedPublic],
    ["self-managed in a VPC, mTLS, private CA, KMS key", selfManagedInVpc],
  ])("accepts a complete set: %s", (_, params) => {
    expect(deploy(template, params).ruleFailures).toEqual([]);
  });
});

describe("the trigger AWS deploys is the one the harness runs, field for field", () => {
  describe.each([
    ...kafkaFunctions().map(
      (f) =>
        [`${f.name} as declared (template.yaml)`, () => f.trigger, () => template, f.name] as const,
    ),
    [
      "a declaration with every field set",
      () => everyFieldSet("msk"),
      () => withAggregateTrigger(everyFieldSet("msk")),
      "aggregate-temperatures",
    ] as const,
  ])("%s", (_, declaration, templateOf, functionName) => {
    it.each([
      ["MSK", msk],
      ["self-managed", selfManagedInVpc],
    ])("%s", (flavour, params) => {
      const d = deploy(templateOf(), params, LOCAL_STACK_NAME);
      const expected = { ...declaration(), eventFlavour: params.KafkaFlavour };
      expect(declarationFromDeployment(d, functionName)).toEqual(expected);
      void flavour;
    });
  });

  it("is the trigger the registry gives the harness", () => {
    expect(kafkaFunctionNamed("aggregate-temperatures").trigger).toBe(trigger);
  });

  it("gets a consumer group named after the stack: two stacks on one cluster never share it", () => {
    const group = (stack: string) =>
      (
        resourceOf(deploy(template, msk, stack), "AggregateTemperaturesMskTrigger").Properties
          .AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId: string }
      ).ConsumerGroupId;
    expect(group("sensors-prod")).toBe("sensors-prod-aggregate-temperatures");
    expect(group("sensors-staging")).toBe("sensors-staging-aggregate-temperatures");
    expect(group(LOCAL_STACK_NAME)).toBe(trigger.consumerGroupId);
  });

  it("writes error controls only with provisioned pollers, which AWS requires for them", () => {
    const t = resolveTrigger("aggregate-temperatures", {
      topic: "raw-temperature",
      errorControls: { maximumRetryAttempts: 2 },
    });
    expect(t.provisionedPollers).toEqual({ minimumPollers: 1, maximumPollers: 200 });
    const d = deploy(withAggregateTrigger(t), msk);
    expect(d.resources.AggregateTemperaturesMskTrigger?.Properties).toMatchObject({
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 200 },
      MaximumRetryAttempts: 2,
    });
  });
});

describe("sweep-idle-windows deploys as declared", () => {
  const d = deploy(template, { ...msk, IdleTimeoutMs: "30000" });
  const sweep = resourceOf(d, "SweepIdleWindowsFunction").Properties;
  it.each([
    [
      "its schedule",
      sweep.Events,
      { Schedule: { Type: "Schedule", Properties: { Schedule: sweepSchedule.expression } } },
    ],
    ["its timeout", sweep.Timeout, sweepSchedule.timeoutSeconds],
    ["its memory", sweep.MemorySize, sweepSchedule.memorySizeMb],
    ["one sweep at a time (reserved concurrency 1)", sweep.ReservedConcurrentExecutions, 1],
    [
      "a missed sweep dropped, not queued",
      sweep.EventInvokeConfig,
      {
        MaximumEventAgeInSeconds: sweepSchedule.maximumEventAgeInSeconds,
        MaximumRetryAttempts: sweepSchedule.maximumRetryAttempts,
      },
    ],
  ])("%s", (_, actual, expected) => {
    expect(actual).toEqual(expected);
  });

  it("as often as the harness runs it", () => {
    expect(sweepSchedule.expression).toBe(`rate(${sweepSchedule.periodSeconds / 60} minute)`);
  });

  it("only when idle closing is on", () => {
    expect(deploy(template, msk).resources.SweepIdleWindowsFunction).toBeUndefined();
  });
});

describe("self-managed Kafka", () => {
  const access = (params: Record<string, string>) =>
    resourceOf(deploy(template, params), "AggregateTemperaturesSelfManagedTrigger").Properties
      .SourceAccessConfigurations;

  it("in a VPC, behind a private CA: the credentials, the root CA, every subnet and security group", () => {
    expect(access(selfManagedInVpc)).toEqual([
      { Type: "CLIENT_CERTIFICATE_TLS_AUTH", URI: secret },
      { Type: "SERVER_ROOT_CA_CERTIFICATE", URI: rootCa },
      { Type: "VPC_SUBNET", URI: "subnet:subnet-0a" },
      { Type: "VPC_SUBNET", URI: "subnet:subnet-0b" },
      { Type: "VPC_SUBNET", URI: "subnet:subnet-0c" },
      { Type: "VPC_SECURITY_GROUP", URI: "security_group:sg-01" },
      { Type: "VPC_SECURITY_GROUP", URI: "security_group:sg-02" },
    ]);
  });

  it.each([
    [1, 1],
    [MAX_SUBNETS, MAX_SECURITY_GROUPS],
  ])("takes %i subnet(s) and %i security group(s)", (nSubnets, nGroups) => {
    const ids = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => `${prefix}-${i}`).join(",");
    const entries = access({
      ...selfManagedInVpc,
      SubnetIds: ids("subnet", nSubnets),
      SecurityGroupIds: ids("sg", nGroups),
    }) as { Type: string }[];
    expect(entries.filter((e) => e.Type === "VPC_SUBNET")).toHaveLength(nSubnets);
    expect(entries.filter((e) => e.Type === "VPC_SECURITY_GROUP")).toHaveLength(nGroups);
  });

  it("reachable publicly, with SASL/SCRAM: the credentials only, and no VPC for the functions", () => {
    const d = deploy(template, selfManagedPublic);
    expect(access(selfManagedPublic)).toEqual([{ Type: "SASL_SCRAM_512_AUTH", URI: secret }]);
    expect(resourceOf(d, "AggregateTemperaturesFunction").Properties.VpcConfig).toBeUndefined();
  });

  it("gives the producer the root CA the trigger trusts", () => {
    const env = resourceOf(deploy(template, selfManagedInVpc), "AggregateTemperaturesFunction")
      .Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables).toMatchObject({
      KAFKA_AUTH: "mtls",
      KAFKA_SECRET_ARN: secret,
      KAFKA_CA_SECRET_ARN: rootCa,
    });
  });
});

describe.each([
  ["MSK", msk],
  ["self-managed", selfManagedPublic],
])("the producers' brokers with %s: configured, never the event's", (_, params) => {
  it.each(["AggregateTemperaturesFunction", "SweepIdleWindowsFunction"])("%s", (fn) => {
    const d = deploy(template, { ...params, IdleTimeoutMs: "30000" });
    const env = resourceOf(d, fn).Properties.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.KAFKA_BROKERS).toBe(params.BootstrapServers);
  });
});

describe("operations", () => {
  const d = deploy(template, { ...msk, IdleTimeoutMs: "30000" });

  it("keeps the state table when the stack is deleted or the table replaced, with point-in-time recovery", () => {
    const table = template.Resources.StateTable;
    expect(table?.DeletionPolicy).toBe("Retain");
    expect(table?.UpdateReplacePolicy).toBe("Retain");
    expect(table?.Properties.PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });

  it("creates the table from the state store's design: key, attributes, indexes, TTL", () => {
    expect(template.Resources.StateTable?.Properties).toMatchObject({
      ...stateTableKeysAndIndexes(),
      TimeToLiveSpecification: { AttributeName: StateTableDesign.ttlAttribute, Enabled: true },
    });
  });

  it.each([
    [
      "AggregateTemperaturesOffsetLagAlarm",
      "AWS/Lambda",
      "OffsetLag",
      "<AggregateTemperaturesFunction>",
    ],
    ["AggregateTemperaturesErrorsAlarm", "AWS/Lambda", "Errors", "<AggregateTemperaturesFunction>"],
    [
      "AggregateTemperaturesThrottlesAlarm",
      "AWS/Lambda",
      "Throttles",
      "<AggregateTemperaturesFunction>",
    ],
    ["SweepIdleWindowsErrorsAlarm", "AWS/Lambda", "Errors", "<SweepIdleWindowsFunction>"],
    ["SweepIdleWindowsThrottlesAlarm", "AWS/Lambda", "Throttles", "<SweepIdleWindowsFunction>"],
    // The function's own EMF metric, written under the deployed function's name.
    [
      "AggregateTemperaturesDeadLettersAlarm",
      "SensorWindows",
      "deadLetters",
      "<AggregateTemperaturesFunction>",
    ],
  ])("alarms: %s on %s %s", (name, namespace, metric, functionName) => {
    expect(resourceOf(d, name).Properties).toMatchObject({
      Namespace: namespace,
      MetricName: metric,
      Dimensions: [{ Name: "FunctionName", Value: functionName }],
    });
  });

  it.each([
    ["aggregate-temperatures", { records: 3, deadLetters: 1 }],
    ["sweep-idle-windows", { sensorsIdle: 2, windowsClosed: 2, windowsEmitted: 2 }],
  ])(
    "%s writes its metrics where the alarms look: namespace, the deployed name as FunctionName",
    (_, counters) => {
      const lines: string[] = [];
      writeEmbeddedMetrics(counters, { AWS_LAMBDA_FUNCTION_NAME: "prod-Fn-1A2B" }, (l) =>
        lines.push(l),
      );
      const emf = JSON.parse(lines[0] as string) as {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
        FunctionName: string;
      };
      const alarm = template.Resources.AggregateTemperaturesDeadLettersAlarm?.Properties as {
        Namespace: string;
        Dimensions: { Name: string }[];
      };
      expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe(alarm.Namespace);
      expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
        alarm.Dimensions.map((x) => x.Name),
      ]);
      expect(emf.FunctionName).toBe("prod-Fn-1A2B");
      writeEmbeddedMetrics(counters, {}, (l) => lines.push(l));
      expect(lines).toHaveLength(1); // outside Lambda: nothing
    },
  );

  it("alarms on DynamoDB throttling of the table and of each of its indexes", () => {
    const metrics = resourceOf(d, "StateTableThrottlesAlarm").Properties.Metrics as {
      MetricStat?: {
        Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
      };
    }[];
    const watched = metrics.flatMap((m) =>
      m.MetricStat === undefined
        ? []
        : [
            `${m.MetricStat.Metric.MetricName} ${
              m.MetricStat.Metric.Dimensions.find((x) => x.Name === "GlobalSecondaryIndexName")
                ?.Value ?? "table"
            }`,
          ],
    );
    const scopes = [
      "table",
      ...stateTableKeysAndIndexes().GlobalSecondaryIndexes.map((i) => i.IndexName),
    ];
    expect(watched.sort()).toEqual(
      scopes.flatMap((s) => [`ReadThrottleEvents ${s}`, `WriteThrottleEvents ${s}`]).sort(),
    );
  });

  it("notifies the alarm topic when one is given", () => {
    const topic = "arn:aws:sns:eu-west-1:123456789012:alerts";
    const withTopic = deploy(template, { ...msk, AlarmTopicArn: topic });
    expect(
      resourceOf(withTopic, "AggregateTemperaturesErrorsAlarm").Properties.AlarmActions,
    ).toEqual([topic]);
    expect(
      resourceOf(d, "AggregateTemperaturesErrorsAlarm").Properties.AlarmActions,
    ).toBeUndefined();
  });

  it.each(["AggregateTemperatures", "SweepIdleWindows"])(
    "keeps %s's logs for LogRetentionDays",
    (fn) => {
      expect(resourceOf(d, `${fn}LogGroup`).Properties.RetentionInDays).toBe(30);
      expect(resourceOf(d, `${fn}Function`).Properties.LoggingConfig).toEqual({
        LogGroup: `<${fn}LogGroup>`,
      });
    },
  );
});
