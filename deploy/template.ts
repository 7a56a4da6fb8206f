import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import {
  memorySizeMb as aggregateMemorySizeMb,
  trigger as aggregateTrigger,
} from "../functions/aggregate-temperatures/trigger.ts";
import { sweepSchedule } from "../functions/sweep-idle-windows/schedule.ts";
import type { TriggerDeclaration } from "../functions/trigger-declaration.ts";
import { StateTableDesign, stateTableKeysAndIndexes } from "../state/dynamodb-state-table.ts";

/**
 * The AWS SAM template, generated from the same declarations the harness runs from (each
 * function's trigger, the sweep's schedule, the state table's design), so the two never drift.
 * `npm run template` writes template.yaml; a test fails when the committed file is stale.
 *
 * Event source mappings are plain `AWS::Lambda::EventSourceMapping` resources, one per flavour,
 * each behind a condition: SAM events cannot be conditional.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
 */
export const renderTemplate = (): Record<string, unknown> => {
  const clusterPart = (n: number) => ({
    "Fn::Select": [n, { "Fn::Split": ["/", { Ref: "MskClusterArn" }] }],
  });
  const kafkaArn = (kind: "topic" | "group", name: unknown) => ({
    "Fn::Sub": [
      `arn:\${AWS::Partition}:kafka:\${AWS::Region}:\${AWS::AccountId}:${kind}/\${ClusterName}/\${ClusterUuid}/\${Name}`,
      { ClusterName: clusterPart(1), ClusterUuid: clusterPart(2), Name: name },
    ],
  });
  const tableArn = { "Fn::GetAtt": ["StateTable", "Arn"] };
  const environment = (extra: Record<string, unknown>) => ({
    Variables: {
      STATE_STORE: "dynamodb",
      STATE_TABLE: { Ref: "StateTable" },
      OUTPUT_TOPIC: { Ref: "OutputTopic" },
      LATE_TOPIC: { Ref: "LateTopic" },
      DEAD_LETTER_TOPIC: { Ref: "DeadLetterTopic" },
      WINDOW_SIZE_MS: { Ref: "WindowSizeMs" },
      WINDOW_GRACE_MS: { Ref: "WindowGraceMs" },
      CLOSING_STRATEGY: { Ref: "ClosingStrategy" },
      IDLE_TIMEOUT_MS: { Ref: "IdleTimeoutMs" },
      KAFKA_AUTH: { "Fn::If": ["IsMsk", "msk-iam", { Ref: "SelfManagedAuth" }] },
      KAFKA_SECRET_ARN: { "Fn::If": ["IsMsk", { Ref: "AWS::NoValue" }, { Ref: "KafkaSecretArn" }] },
      NODE_OPTIONS: "--enable-source-maps",
      ...extra,
    },
  });
  const policies = (readsSource: boolean) => [
    "AWSLambdaBasicExecutionRole",
    {
      Statement: [
        {
          Sid: "StateTable",
          Effect: "Allow",
          Action: [
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:ConditionCheckItem",
            "dynamodb:Query",
          ],
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub, not JavaScript
          Resource: [tableArn, { "Fn::Sub": "${StateTable.Arn}/index/*" }],
        },
      ],
    },
    {
      "Fn::If": [
        "IsMsk",
        {
          Statement: [
            {
              Sid: "MskCluster",
              Effect: "Allow",
              Action: [
                "kafka:DescribeCluster",
                "kafka:DescribeClusterV2",
                "kafka:GetBootstrapBrokers",
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeClusterDynamicConfiguration",
              ],
              Resource: { Ref: "MskClusterArn" },
            },
            ...(readsSource
              ? [
                  {
                    Sid: "ReadSourceTopic",
                    Effect: "Allow",
                    Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                    Resource: kafkaArn("topic", { Ref: "SourceTopic" }),
                  },
                  {
                    Sid: "ConsumerGroup",
                    Effect: "Allow",
                    Action: ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
                    Resource: kafkaArn("group", { Ref: "ConsumerGroupId" }),
                  },
                ]
              : []),
            {
              Sid: "WriteOutputTopics",
              Effect: "Allow",
              Action: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
              Resource: [
                kafkaArn("topic", { Ref: "OutputTopic" }),
                kafkaArn("topic", { Ref: "LateTopic" }),
                kafkaArn("topic", { Ref: "DeadLetterTopic" }),
              ],
            },
          ],
        },
        {
          Statement: [
            {
              Sid: "KafkaCredentials",
              Effect: "Allow",
              Action: ["secretsmanager:GetSecretValue"],
              Resource: { Ref: "KafkaSecretArn" },
            },
          ],
        },
      ],
    },
    // The function's ENIs in the VPC (MSK lives in one); EC2 describe calls take no resource ARN.
    "AWSLambdaVPCAccessExecutionRole",
  ];
  const mapping = (t: TriggerDeclaration, flavour: "msk" | "self-managed") => {
    if (
      t.maximumBatchingWindowInSeconds !== 0.5 &&
      !Number.isInteger(t.maximumBatchingWindowInSeconds)
    ) {
      throw new Error(
        `MaximumBatchingWindowInSeconds is whole seconds in AWS (or the 0.5 s default), got ${t.maximumBatchingWindowInSeconds}`,
      );
    }
    const group =
      flavour === "msk"
        ? "AmazonManagedKafkaEventSourceConfig"
        : "SelfManagedKafkaEventSourceConfig";
    return {
      Type: "AWS::Lambda::EventSourceMapping",
      Condition: flavour === "msk" ? "IsMsk" : "IsSelfManaged",
      Properties: {
        FunctionName: { Ref: "AggregateTemperaturesFunction" },
        Topics: [{ Ref: "SourceTopic" }],
        BatchSize: t.batchSize,
        // Unset means Kafka's default window of 0.5 s.
        ...(t.maximumBatchingWindowInSeconds === 0.5
          ? {}
          : { MaximumBatchingWindowInSeconds: t.maximumBatchingWindowInSeconds }),
        StartingPosition: t.startingPosition,
        ...(t.startingPositionTimestamp === undefined
          ? {}
          : { StartingPositionTimestamp: t.startingPositionTimestamp }),
        [group]: { ConsumerGroupId: { Ref: "ConsumerGroupId" } },
        ...(t.filterCriteria.length === 0
          ? {}
          : {
              FilterCriteria: {
                Filters: t.filterCriteria.map((p) => ({ Pattern: JSON.stringify(p) })),
              },
            }),
        ...(flavour === "msk"
          ? { EventSourceArn: { Ref: "MskClusterArn" } }
          : {
              SelfManagedEventSource: {
                Endpoints: {
                  KafkaBootstrapServers: { "Fn::Split": [",", { Ref: "BootstrapServers" }] },
                },
              },
              SourceAccessConfigurations: [
                {
                  Type: {
                    "Fn::If": ["IsMtls", "CLIENT_CERTIFICATE_TLS_AUTH", "SASL_SCRAM_512_AUTH"],
                  },
                  URI: { Ref: "KafkaSecretArn" },
                },
              ],
            }),
      },
    };
  };
  const vpc = {
    "Fn::If": [
      "HasVpc",
      { SubnetIds: { Ref: "SubnetIds" }, SecurityGroupIds: { Ref: "SecurityGroupIds" } },
      { Ref: "AWS::NoValue" },
    ],
  };
  const { ttlAttribute } = StateTableDesign;
  const t = aggregateTrigger;

  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Transform: "AWS::Serverless-2016-10-31",
    Description:
      "sensor-windows: event-time tumbling windows over Kafka, as Lambda functions behind an MSK or self-managed Kafka trigger. Generated by `npm run template`; do not edit.",
    Parameters: {
      KafkaFlavour: {
        Type: "String",
        AllowedValues: ["msk", "self-managed"],
        Default: t.eventFlavour,
        Description: "Amazon MSK (IAM auth) or self-managed Kafka",
      },
      MskClusterArn: {
        Type: "String",
        Default: "",
        Description: "MSK cluster ARN (KafkaFlavour=msk)",
      },
      BootstrapServers: {
        Type: "String",
        Default: "",
        Description:
          "host:port,... Self-managed: the brokers the trigger polls. MSK: the IAM bootstrap string (port 9098), for sweep-idle-windows",
      },
      SelfManagedAuth: {
        Type: "String",
        AllowedValues: ["sasl-scram", "mtls"],
        Default: "sasl-scram",
        Description: "SASL/SCRAM-SHA-512 or mutual TLS (KafkaFlavour=self-managed)",
      },
      KafkaSecretArn: {
        Type: "String",
        Default: "",
        Description:
          "Secrets Manager secret: {username,password} for SASL/SCRAM, or {certificate,privateKey} PEM for mTLS",
      },
      SourceTopic: { Type: "String", Default: t.topic },
      ConsumerGroupId: { Type: "String", Default: t.consumerGroupId },
      OutputTopic: { Type: "String", Default: "agg-temperature" },
      LateTopic: { Type: "String", Default: "agg-temperature-late" },
      DeadLetterTopic: { Type: "String", Default: "raw-temperature-dlq" },
      WindowSizeMs: { Type: "Number", Default: 10000, MinValue: 1 },
      WindowGraceMs: { Type: "Number", Default: 1000, MinValue: 0 },
      ClosingStrategy: { Type: "String", AllowedValues: ["key", "partition"], Default: "key" },
      IdleTimeoutMs: {
        Type: "Number",
        Default: 0,
        MinValue: 0,
        Description: "0 = off; > 0 deploys sweep-idle-windows on a schedule",
      },
      SubnetIds: {
        Type: "CommaDelimitedList",
        Default: "",
        Description: "VPC subnets for the functions (MSK lives in a VPC); empty = no VPC",
      },
      SecurityGroupIds: {
        Type: "CommaDelimitedList",
        Default: "",
        Description: "security groups for the functions",
      },
    },
    Conditions: {
      IsMsk: { "Fn::Equals": [{ Ref: "KafkaFlavour" }, "msk"] },
      IsSelfManaged: { "Fn::Equals": [{ Ref: "KafkaFlavour" }, "self-managed"] },
      IsMtls: { "Fn::Equals": [{ Ref: "SelfManagedAuth" }, "mtls"] },
      HasVpc: { "Fn::Not": [{ "Fn::Equals": [{ "Fn::Join": ["", { Ref: "SubnetIds" }] }, ""] }] },
      IdleClosingOn: { "Fn::Not": [{ "Fn::Equals": [{ Ref: "IdleTimeoutMs" }, 0] }] },
    },
    Globals: {
      Function: {
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
      },
    },
    Resources: {
      StateTable: {
        Type: "AWS::DynamoDB::Table",
        Properties: {
          ...stateTableKeysAndIndexes(),
          TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
        },
      },
      AggregateTemperaturesFunction: {
        Type: "AWS::Serverless::Function",
        Properties: {
          CodeUri: "dist/aggregate-temperatures/",
          Description: "Kafka batches of readings in, closed event-time windows out",
          Timeout: t.timeoutSeconds,
          MemorySize: aggregateMemorySizeMb,
          VpcConfig: vpc,
          Environment: environment({}),
          Policies: policies(true),
        },
      },
      AggregateTemperaturesMskTrigger: mapping(t, "msk"),
      AggregateTemperaturesSelfManagedTrigger: mapping(t, "self-managed"),
      SweepIdleWindowsFunction: {
        Type: "AWS::Serverless::Function",
        Condition: "IdleClosingOn",
        Properties: {
          CodeUri: "dist/sweep-idle-windows/",
          Description: "Closes and emits the windows of sensors that went quiet",
          Timeout: sweepSchedule.timeoutSeconds,
          MemorySize: sweepSchedule.memorySizeMb,
          VpcConfig: vpc,
          // A scheduled event carries no bootstrap servers: the sweep is told where Kafka is.
          Environment: environment({
            KAFKA_BROKERS: { Ref: "BootstrapServers" },
          }),
          Policies: policies(false),
          Events: {
            Sweep: { Type: "Schedule", Properties: { Schedule: sweepSchedule.expression } },
          },
        },
      },
    },
    Outputs: {
      AggregateTemperaturesFunctionArn: {
        Value: { "Fn::GetAtt": ["AggregateTemperaturesFunction", "Arn"] },
      },
      StateTableName: { Value: { Ref: "StateTable" } },
    },
  };
};

/** The template as written to template.yaml. */
export const templateYaml = (): string =>
  `# Generated by \`npm run template\` from functions/*/trigger.ts, functions/sweep-idle-windows/schedule.ts\n# and state/dynamodb-state-table.ts. Do not edit by hand: a test fails when this file is stale.\n${stringify(renderTemplate(), { lineWidth: 0, aliasDuplicateObjects: false })}`;

const USAGE = `Usage: npm run template

Writes template.yaml, the AWS SAM template, from the functions' trigger declarations
(functions/*/trigger.ts), the idle sweep's schedule and the state table's design. Run it after
changing any of them; a test fails while template.yaml is stale. Validate with
npm run lint:template (cfn-lint), deploy with sam deploy --guided (README, "Deploy").
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
  } else if (args.length > 0) {
    process.stderr.write(`template: takes no arguments, got "${args.join(" ")}" (--help)\n`);
    process.exit(2);
  } else {
    writeFileSync(new URL("../template.yaml", import.meta.url), templateYaml());
    process.stdout.write("template.yaml written\n");
  }
}
