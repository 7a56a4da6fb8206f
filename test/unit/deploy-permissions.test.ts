import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  DynamoDbCallActions,
  type PermissionName,
  Permissions,
} from "../../deploy/iam-permissions.ts";
import { renderTemplate, withTrigger } from "../../deploy/template.ts";
import { trigger } from "../../functions/aggregate-temperatures/trigger.ts";
import { registeredFunctions } from "../../functions/registry.ts";
import { resolveTrigger } from "../../functions/trigger-declaration.ts";
import { deploy, type Template } from "../support/cloudformation.ts";

const template = parse(
  readFileSync(new URL("../../template.yaml", import.meta.url), "utf8"),
) as Template;

const base = { IdleTimeoutMs: "30000" };
const vpc = { SubnetIds: "subnet-0a,subnet-0b", SecurityGroupIds: "sg-01" };
const secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:kafka-AbCdEf";
const msk = {
  ...base,
  ...vpc,
  KafkaFlavour: "msk",
  MskClusterArn: "arn:aws:kafka:eu-west-1:123456789012:cluster/sensors/0b1c2d3e-4f5a-2",
  BootstrapServers: "b-1.sensors:9098",
};
const selfManaged = {
  ...base,
  KafkaFlavour: "self-managed",
  BootstrapServers: "kafka-1.example.com:9096",
  KafkaSecretArn: secret,
};

interface Statement {
  Sid: string;
  Action: string[];
  Resource: unknown;
}
const statementsOf = (role: { Properties: Record<string, unknown> } | undefined): Statement[] => {
  if (role === undefined) throw new Error("no such role in this deployment");
  const policies = role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
};
const actionsOf = (statements: Statement[]) =>
  [...new Set(statements.flatMap((s) => s.Action))].sort();
const documented = (groups: PermissionName[]) =>
  [...new Set(groups.flatMap((g) => Permissions[g].actions))].sort();

describe.each([
  [
    "MSK with IAM access control",
    msk,
    [
      "logs",
      "stateTable",
      "mskCluster",
      "mskIamConsumer",
      "eventPollerVpc",
      "functionVpc",
      "mskIamProducer",
    ],
    ["logs", "stateTable", "functionVpc", "mskIamProducer"],
    ["logs", "mskCluster", "mskIamConsumer", "eventPollerVpc", "functionVpc", "mskIamProducer"],
  ],
  [
    "self-managed, SASL/SCRAM, public",
    selfManaged,
    ["logs", "stateTable", "kafkaSecrets"],
    ["logs", "stateTable", "kafkaSecrets"],
    ["logs", "kafkaSecrets"],
  ],
  [
    "self-managed, mTLS, in a VPC",
    { ...selfManaged, ...vpc, SelfManagedAuth: "mtls" },
    ["logs", "stateTable", "kafkaSecrets", "eventPollerVpc", "functionVpc"],
    ["logs", "stateTable", "kafkaSecrets", "functionVpc"],
    ["logs", "kafkaSecrets", "eventPollerVpc", "functionVpc"],
  ],
  [
    "self-managed, secrets under a customer-managed KMS key",
    { ...selfManaged, SecretsKmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd" },
    ["logs", "stateTable", "kafkaSecrets", "secretsKey"],
    ["logs", "stateTable", "kafkaSecrets", "secretsKey"],
    ["logs", "kafkaSecrets", "secretsKey"],
  ],
] as [string, Record<string, string>, PermissionName[], PermissionName[], PermissionName[]][])(
  "the roles with %s",
  (_, params, aggregateGroups, sweepGroups, alertGroups) => {
    const d = deploy(template, params);
    it("aggregate-temperatures holds exactly the documented actions it needs", () => {
      expect(actionsOf(statementsOf(d.resources.AggregateTemperaturesRole))).toEqual(
        documented(aggregateGroups),
      );
    });
    it("sweep-idle-windows holds exactly the documented actions it needs", () => {
      expect(actionsOf(statementsOf(d.resources.SweepIdleWindowsRole))).toEqual(
        documented(sweepGroups),
      );
    });
    it("alert-on-threshold holds exactly the documented actions it needs: no state table", () => {
      expect(actionsOf(statementsOf(d.resources.AlertOnThresholdRole))).toEqual(
        documented(alertGroups),
      );
    });
  },
);

describe("what the roles grant", () => {
  const everyStatement = [msk, selfManaged, { ...selfManaged, ...vpc }].flatMap((params) =>
    Object.values(deploy(template, params).resources)
      .filter((r) => r.Type === "AWS::IAM::Role")
      .flatMap((role) => statementsOf(role)),
  );

  it("is documented: every action is in deploy/iam-permissions.ts, with its source", () => {
    const known = new Set(Object.values(Permissions).flatMap((p) => p.actions));
    for (const s of everyStatement) for (const a of s.Action) expect(known).toContain(a);
    for (const p of Object.values(Permissions))
      expect(p.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
  });

  it("names its resources, except EC2's network-interface actions, which take none", () => {
    for (const s of everyStatement) {
      const star = JSON.stringify(s.Resource).includes('"*"');
      expect(star, s.Sid).toBe(s.Action.every((a) => a.startsWith("ec2:")));
    }
  });

  it.each([
    ["AlertOnThresholdRole", "raw-temperature", "sensor-windows-alert-on-threshold", ["alerts"]],
    [
      "AggregateTemperaturesRole",
      trigger.topic,
      "sensor-windows-aggregate-temperatures",
      ["agg-temperature", "agg-temperature-late", "raw-temperature-dlq"],
    ],
  ])(
    "lets %s read only its source topic as its group, and write only its output topics",
    (role, topic, group, outputs) => {
      const statements = statementsOf(deploy(template, msk).resources[role]);
      const byResource = (sid: string) => statements.find((s) => s.Sid === sid)?.Resource;
      const arn = "arn:aws:kafka:eu-west-1:123456789012:topic/sensors/0b1c2d3e-4f5a-2";
      expect(byResource("MskIamConsumerTopic")).toBe(`${arn}/${topic}`);
      expect(byResource("MskIamConsumerGroup")).toBe(
        `${arn.replace(":topic/", ":group/")}/${group}`,
      );
      expect(byResource("MskIamProducerTopics")).toEqual(outputs.map((t) => `${arn}/${t}`));
    },
  );

  it("lets sweep-idle-windows write the aggregate's three topics: it emits what a crashed batch left", () => {
    const statements = statementsOf(deploy(template, msk).resources.SweepIdleWindowsRole);
    const arn = "arn:aws:kafka:eu-west-1:123456789012:topic/sensors/0b1c2d3e-4f5a-2";
    expect(statements.find((s) => s.Sid === "MskIamProducerTopics")?.Resource).toEqual(
      ["agg-temperature", "agg-temperature-late", "raw-temperature-dlq"].map((t) => `${arn}/${t}`),
    );
  });

  it("lets every MSK producer write idempotently: WriteDataIdempotently on the cluster", () => {
    for (const role of [
      "AggregateTemperaturesRole",
      "SweepIdleWindowsRole",
      "AlertOnThresholdRole",
    ]) {
      const statements = statementsOf(deploy(template, msk).resources[role]);
      expect(statements.find((s) => s.Sid === "MskIamProducerCluster")?.Action, role).toContain(
        "kafka-cluster:WriteDataIdempotently",
      );
    }
  });

  it("lets an MSK trigger write its on-failure topic when one is declared", () => {
    const t = resolveTrigger("aggregate-temperatures", {
      topic: "raw-temperature",
      errorControls: { maximumRetryAttempts: 3, onFailureTopic: "raw-temperature-failed" },
    });
    const rendered = JSON.parse(
      JSON.stringify(renderTemplate(withTrigger(registeredFunctions, "aggregate-temperatures", t))),
    );
    const statements = statementsOf(deploy(rendered, msk).resources.AggregateTemperaturesRole);
    expect(statements.find((s) => s.Sid === "MskOnFailureDestination")).toMatchObject({
      Action: [...Permissions.mskOnFailureDestination.actions],
      Resource:
        "arn:aws:kafka:eu-west-1:123456789012:topic/sensors/0b1c2d3e-4f5a-2/raw-temperature-failed",
    });
  });
});

describe("the state table's permissions match the calls the state store makes", () => {
  // Read from the source, so a new call in state/ fails here until it is granted (and documented).
  // Per file: the table's own creation (ensureStateTable) is for local tables only.
  const runtime = readdirSync(new URL("../../state/", import.meta.url))
    .filter((f) => f.endsWith(".ts"))
    .map((f) =>
      readFileSync(new URL(`../../state/${f}`, import.meta.url), "utf8").replace(
        /export const ensureStateTable[\s\S]*$/,
        "",
      ),
    )
    .join("\n");
  const calls = [
    ...new Set([...runtime.matchAll(/new (\w+Command)\(/g)].map((m) => m[1] as string)),
  ];
  const transactItems = runtime.includes("TransactWriteItemsCommand")
    ? ["Put", "Update", "Delete", "ConditionCheck"].filter((k) =>
        new RegExp(`\\b${k}: \\{`).test(runtime),
      )
    : [];

  it.each([
    ...calls.filter((c) => c !== "TransactWriteItemsCommand"),
    ...transactItems.map((k) => `TransactWriteItem.${k}`),
  ])("%s is granted", (call) => {
    const needed = DynamoDbCallActions[call];
    expect(needed, `add ${call} to DynamoDbCallActions`).toBeDefined();
    for (const action of needed ?? []) expect(Permissions.stateTable.actions).toContain(action);
  });

  it("and nothing else is", () => {
    const used = new Set(
      [...calls, ...transactItems.map((k) => `TransactWriteItem.${k}`)].flatMap(
        (c) => DynamoDbCallActions[c] ?? [],
      ),
    );
    expect([...Permissions.stateTable.actions].sort()).toEqual([...used].sort());
  });
});
