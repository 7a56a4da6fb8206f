import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { templateYaml } from "../../deploy/template.ts";
import { memorySizeMb, trigger } from "../../functions/aggregate-temperatures/trigger.ts";
import { kafkaTriggeredFunctions, scheduledFunctions } from "../../functions/registry.ts";
import { sweepSchedule } from "../../functions/sweep-idle-windows/schedule.ts";
import { StateTableDesign } from "../../state/dynamodb-state-table.ts";

const committed = readFileSync(new URL("../../template.yaml", import.meta.url), "utf8");
const template = parse(committed) as {
  Resources: Record<
    string,
    { Type: string; Condition?: string; Properties: Record<string, unknown> }
  >;
};
const resources = template.Resources;
const resource = (name: string) => {
  const r = resources[name];
  if (r === undefined) throw new Error(`template.yaml has no resource ${name}`);
  return r;
};
const logicalId = (fn: string) =>
  `${fn.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Function`;

describe("template.yaml (AWS SAM)", () => {
  it("is what `npm run template` generates from the declarations: it can't drift from the harness", () => {
    expect(committed).toBe(templateYaml());
  });

  it.each([...Object.keys(kafkaTriggeredFunctions), ...Object.keys(scheduledFunctions)])(
    "deploys %s from its bundle",
    (fn) => {
      const f = resource(logicalId(fn));
      expect(f.Type).toBe("AWS::Serverless::Function");
      expect(f.Properties.CodeUri).toBe(`dist/${fn}/`);
    },
  );

  it.each(["AggregateTemperaturesMskTrigger", "AggregateTemperaturesSelfManagedTrigger"])(
    "gives %s the declared trigger settings",
    (name) => {
      const p = resource(name).Properties;
      expect(p.Topics).toEqual([{ Ref: "SourceTopic" }]);
      expect(p.BatchSize).toBe(trigger.batchSize);
      expect(p.StartingPosition).toBe(trigger.startingPosition);
      expect(p.MaximumBatchingWindowInSeconds).toBe(
        trigger.maximumBatchingWindowInSeconds === 0.5
          ? undefined
          : trigger.maximumBatchingWindowInSeconds,
      );
      expect(JSON.stringify(p)).toContain('"ConsumerGroupId":{"Ref":"ConsumerGroupId"}');
      expect(committed).toContain(`Default: ${trigger.consumerGroupId}`);
      expect(committed).toContain(`Default: ${trigger.topic}`);
    },
  );

  it("gives each function the declared timeout and MemorySize, which the harness's sandboxes hold it to", () => {
    expect(resource("AggregateTemperaturesFunction").Properties).toMatchObject({
      Timeout: trigger.timeoutSeconds,
      MemorySize: memorySizeMb,
    });
    expect(resource("SweepIdleWindowsFunction").Properties).toMatchObject({
      Timeout: sweepSchedule.timeoutSeconds,
      MemorySize: sweepSchedule.memorySizeMb,
    });
  });

  it("runs sweep-idle-windows on the declared schedule, only when idle closing is on", () => {
    const sweep = resource("SweepIdleWindowsFunction");
    expect(sweep.Condition).toBe("IdleClosingOn");
    expect(JSON.stringify(sweep.Properties.Events)).toContain(sweepSchedule.expression);
  });

  it("creates the state table as the store expects: key, indexes, TTL, on-demand", () => {
    const p = resource("StateTable").Properties as Record<string, unknown>;
    expect(p.BillingMode).toBe("PAY_PER_REQUEST");
    expect(p.KeySchema).toEqual([
      { AttributeName: StateTableDesign.partitionKey, KeyType: "HASH" },
    ]);
    expect((p.GlobalSecondaryIndexes as { IndexName: string }[]).map((i) => i.IndexName)).toEqual([
      StateTableDesign.dueIndex.name,
      StateTableDesign.idleIndex.name,
    ]);
    expect(p.TimeToLiveSpecification).toEqual({
      AttributeName: StateTableDesign.ttlAttribute,
      Enabled: true,
    });
  });

  it("grants no Kafka or DynamoDB action on every resource (no '*')", () => {
    const statements: { Action: string[]; Resource: unknown }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        if ("Action" in node && "Resource" in node) statements.push(node as never);
        Object.values(node).forEach(walk);
      }
    };
    walk(resources);
    const scoped = statements.filter((st) =>
      st.Action.some((a) => /^(kafka|kafka-cluster|dynamodb):/.test(a)),
    );
    expect(scoped.length).toBeGreaterThanOrEqual(3);
    for (const st of scoped) expect(JSON.stringify(st.Resource)).not.toMatch(/^"\*"$|"\*"/);
  });
});
