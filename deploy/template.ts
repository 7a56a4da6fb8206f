import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type { BatchSummary } from "../functions/aggregate-temperatures/aggregate-handler.ts";
import { readAggregateConfig } from "../functions/aggregate-temperatures/config.ts";
import { trigger as aggregateTrigger } from "../functions/aggregate-temperatures/trigger.ts";
import { sweepSchedule } from "../functions/sweep-idle-windows/schedule.ts";
import {
  defaultConsumerGroupId,
  type TriggerDeclaration,
} from "../functions/trigger-declaration.ts";
import { StateTableDesign, stateTableKeysAndIndexes } from "../state/dynamodb-state-table.ts";
import { type PermissionName, Permissions } from "./iam-permissions.ts";

/**
 * The AWS SAM template, generated from the same declarations the harness runs from (each
 * function's trigger, the sweep's schedule, the state table's design), so the two never drift.
 * `npm run template` writes template.yaml; a test fails when the committed file is stale, and
 * another reads every declared field back out of it.
 *
 * Event source mappings are plain `AWS::Lambda::EventSourceMapping` resources, one per flavour,
 * each behind a condition: SAM events cannot be conditional.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-eventsourcemapping.html
 *
 * Conditions name a flavour "ready" only with every parameter it needs (`MskReady`,
 * `SelfManagedReady`): `Rules` refuse a deploy where the chosen flavour is not ready, with a
 * message naming what is missing, and cfn-lint, which checks each resource under the parameter
 * values its conditions allow, never sees an empty ARN where one is required.
 */

/** What the template is generated from; tests render it from other declarations too. */
export interface TemplateDeclarations {
  aggregateTrigger: TriggerDeclaration;
  sweep: typeof sweepSchedule;
}

export const DeployedFunctions = {
  aggregate: { name: "aggregate-temperatures", logicalId: "AggregateTemperatures" },
  sweep: { name: "sweep-idle-windows", logicalId: "SweepIdleWindows" },
} as const;

/**
 * Lambda's limits on a function's VPC configuration. The self-managed trigger takes one
 * VPC_SUBNET / VPC_SECURITY_GROUP entry per id; CloudFormation cannot map a list to a list of
 * objects, so the template holds one conditional entry per possible position.
 * https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html
 */
export const MAX_SUBNETS = 16;
export const MAX_SECURITY_GROUPS = 5;

/** The EMF metric the dead-letter alarm watches: a field of the batch summary the function writes. */
const DEAD_LETTERS_METRIC: keyof BatchSummary = "deadLetters";

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not JavaScript
const STACK_NAME = "${AWS::StackName}";

const ref = (name: string) => ({ Ref: name });
const getAtt = (resource: string, attribute: string) => ({
  "Fn::GetAtt": [resource, attribute],
});
const sub = (template: string, vars?: Record<string, unknown>) => ({
  "Fn::Sub": vars === undefined ? template : [template, vars],
});
const ifThen = (condition: string, yes: unknown, no: unknown = ref("AWS::NoValue")) => ({
  "Fn::If": [condition, yes, no],
});
const equals = (a: unknown, b: unknown) => ({ "Fn::Equals": [a, b] });
const not = (c: unknown) => ({ "Fn::Not": [c] });
const and = (...cs: unknown[]) => ({ "Fn::And": cs });
const condition = (name: string) => ({ Condition: name });
const notEmpty = (parameter: string) => not(equals(ref(parameter), ""));
const listNotEmpty = (parameter: string) => not(equals({ "Fn::Join": ["", ref(parameter)] }, ""));
/** The list parameter's i-th item, or "" past its end (padded, so Fn::Select never fails). */
const nthItem = (parameter: string, i: number, max: number) => ({
  "Fn::Select": [
    i,
    {
      "Fn::Split": [
        ",",
        { "Fn::Join": ["", [{ "Fn::Join": [",", ref(parameter)] }, ",".repeat(max)]] },
      ],
    },
  ],
});

/** A topic, group or cluster ARN of the MSK cluster, as MSK IAM access control names them. */
const kafkaArn = (kind: "cluster" | "topic" | "group", name?: unknown) => {
  const part = (n: number) => ({
    "Fn::Select": [n, { "Fn::Split": ["/", ref("MskClusterArn")] }],
  });
  return kind === "cluster"
    ? ref("MskClusterArn")
    : sub(
        `arn:\${AWS::Partition}:kafka:\${AWS::Region}:\${AWS::AccountId}:${kind}/\${ClusterName}/\${ClusterUuid}/\${Name}`,
        { ClusterName: part(1), ClusterUuid: part(2), Name: name },
      );
};

/** The consumer group: the declared one, or `<stack name>-<function>` (the harness's default with the stack's name). */
export const consumerGroupIdOf = (t: TriggerDeclaration, functionName: string): unknown =>
  t.consumerGroupId === defaultConsumerGroupId(functionName)
    ? sub(defaultConsumerGroupId(functionName, STACK_NAME))
    : t.consumerGroupId;

/** `kafka://<topic>`: a Kafka topic on the source cluster as the on-failure destination. */
export const kafkaDestination = (topic: string) => `kafka://${topic}`;

/**
 * The event source mapping's settings from the trigger declaration, one property per declared
 * field, in the names of `AWS::Lambda::EventSourceMapping`. Absent properties take AWS's defaults,
 * which are the declaration's defaults.
 */
export const mappingSettings = (
  t: TriggerDeclaration,
  functionName: string,
  flavour: "msk" | "self-managed",
) => {
  if (
    t.maximumBatchingWindowInSeconds !== 0.5 &&
    !Number.isInteger(t.maximumBatchingWindowInSeconds)
  ) {
    throw new Error(
      `MaximumBatchingWindowInSeconds is whole seconds in AWS (or the 0.5 s default), got ${t.maximumBatchingWindowInSeconds}`,
    );
  }
  const e = t.errorControls;
  const p = t.provisionedPollers;
  return {
    Topics: [t.topic],
    BatchSize: t.batchSize,
    // Unset means Kafka's default window of 0.5 s, which CloudFormation's integer cannot say.
    ...(t.maximumBatchingWindowInSeconds === 0.5
      ? {}
      : { MaximumBatchingWindowInSeconds: t.maximumBatchingWindowInSeconds }),
    StartingPosition: t.startingPosition,
    ...(t.startingPositionTimestamp === undefined
      ? {}
      : { StartingPositionTimestamp: t.startingPositionTimestamp }),
    [flavour === "msk"
      ? "AmazonManagedKafkaEventSourceConfig"
      : "SelfManagedKafkaEventSourceConfig"]: {
      ConsumerGroupId: consumerGroupIdOf(t, functionName),
    },
    ...(t.filterCriteria.length === 0
      ? {}
      : {
          FilterCriteria: {
            Filters: t.filterCriteria.map((f) => ({ Pattern: JSON.stringify(f) })),
          },
        }),
    // Error controls work in provisioned mode only.
    // https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html
    ...(p === undefined
      ? {}
      : {
          ProvisionedPollerConfig: {
            MinimumPollers: p.minimumPollers,
            MaximumPollers: p.maximumPollers,
          },
        }),
    ...(e === undefined
      ? {}
      : {
          MaximumRetryAttempts: e.maximumRetryAttempts,
          MaximumRecordAgeInSeconds: e.maximumRecordAgeInSeconds,
          BisectBatchOnFunctionError: e.bisectBatchOnFunctionError,
          ...(e.functionResponseTypes.length === 0
            ? {}
            : { FunctionResponseTypes: e.functionResponseTypes }),
          // https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure-destination.html
          ...(e.onFailureTopic === undefined
            ? {}
            : {
                DestinationConfig: {
                  OnFailure: { Destination: kafkaDestination(e.onFailureTopic) },
                },
              }),
        }),
  };
};

/** One IAM statement of a documented group, on `resource`. */
const grant = (
  sid: string,
  group: PermissionName,
  resource: unknown,
  actions?: readonly string[],
) => ({
  Sid: sid,
  Effect: "Allow",
  Action: [...(actions ?? Permissions[group].actions)],
  Resource: resource,
});

export const renderTemplate = (
  declarations: TemplateDeclarations = { aggregateTrigger, sweep: sweepSchedule },
): Record<string, unknown> => {
  const t = declarations.aggregateTrigger;
  const sweep = declarations.sweep;
  const { aggregate: agg, sweep: sw } = DeployedFunctions;
  const defaults = readAggregateConfig({});
  const { ttlAttribute } = StateTableDesign;
  const table = stateTableKeysAndIndexes();
  const tableArn = getAtt("StateTable", "Arn");
  const onFailureTopic = t.errorControls?.onFailureTopic;

  const environment = {
    Variables: {
      STATE_STORE: "dynamodb",
      STATE_TABLE: ref("StateTable"),
      OUTPUT_TOPIC: ref("OutputTopic"),
      LATE_TOPIC: ref("LateTopic"),
      DEAD_LETTER_TOPIC: ref("DeadLetterTopic"),
      WINDOW_SIZE_MS: ref("WindowSizeMs"),
      WINDOW_GRACE_MS: ref("WindowGraceMs"),
      CLOSING_STRATEGY: ref("ClosingStrategy"),
      IDLE_TIMEOUT_MS: ref("IdleTimeoutMs"),
      // The producer's brokers are configured, never taken from the event (see lazyKafkaSink).
      KAFKA_BROKERS: ref("BootstrapServers"),
      KAFKA_AUTH: ifThen("IsMsk", "msk-iam", ref("SelfManagedAuth")),
      KAFKA_SECRET_ARN: ifThen("IsMsk", ref("AWS::NoValue"), ref("KafkaSecretArn")),
      KAFKA_CA_SECRET_ARN: ifThen("SelfManagedRootCa", ref("KafkaRootCaSecretArn")),
      NODE_OPTIONS: "--enable-source-maps",
    },
  };

  /** The execution role of one function: the documented groups its flavour needs, nothing else. */
  const role = (fn: "aggregate" | "sweep") => {
    const { logicalId } = DeployedFunctions[fn];
    const outputTopics =
      fn === "aggregate"
        ? [
            kafkaArn("topic", ref("OutputTopic")),
            kafkaArn("topic", ref("LateTopic")),
            kafkaArn("topic", ref("DeadLetterTopic")),
          ]
        : [kafkaArn("topic", ref("OutputTopic"))]; // the sweep emits closed windows only
    const statements: unknown[] = [
      grant("Logs", "logs", getAtt(`${logicalId}LogGroup`, "Arn")),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
      grant("StateTable", "stateTable", [tableArn, sub("${StateTable.Arn}/index/*")]),
      ...(fn === "aggregate"
        ? [
            ifThen("MskReady", grant("MskCluster", "mskCluster", kafkaArn("cluster"))),
            ifThen(
              "MskReady",
              grant("MskIamConsumerCluster", "mskIamConsumer", kafkaArn("cluster"), [
                "kafka-cluster:Connect",
                "kafka-cluster:DescribeClusterDynamicConfiguration",
              ]),
            ),
            ifThen(
              "MskReady",
              grant("MskIamConsumerTopic", "mskIamConsumer", kafkaArn("topic", t.topic), [
                "kafka-cluster:DescribeTopic",
                "kafka-cluster:ReadData",
              ]),
            ),
            ifThen(
              "MskReady",
              grant(
                "MskIamConsumerGroup",
                "mskIamConsumer",
                kafkaArn("group", consumerGroupIdOf(t, agg.name)),
                ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"],
              ),
            ),
            ...(onFailureTopic === undefined
              ? []
              : [
                  ifThen(
                    "MskReady",
                    grant(
                      "MskOnFailureDestination",
                      "mskOnFailureDestination",
                      kafkaArn("topic", onFailureTopic),
                    ),
                  ),
                ]),
            ifThen(
              "NeedsEventPollerVpc",
              grant("EventPollerNetworkInterfaces", "eventPollerVpc", "*"),
            ),
          ]
        : []),
      ifThen(
        "MskReady",
        grant("MskIamProducerCluster", "mskIamProducer", kafkaArn("cluster"), [
          "kafka-cluster:Connect",
        ]),
      ),
      ifThen(
        "MskReady",
        grant("MskIamProducerTopics", "mskIamProducer", outputTopics, [
          "kafka-cluster:DescribeTopic",
          "kafka-cluster:WriteData",
        ]),
      ),
      // EC2's network-interface actions take no resource ARN.
      ifThen("HasVpc", grant("FunctionNetworkInterfaces", "functionVpc", "*")),
      ifThen(
        "SelfManagedReady",
        grant("KafkaSecrets", "kafkaSecrets", [
          ref("KafkaSecretArn"),
          ifThen("SelfManagedRootCa", ref("KafkaRootCaSecretArn")),
        ]),
      ),
      ifThen("SecretsUseKmsKey", grant("SecretsKey", "secretsKey", ref("SecretsKmsKeyArn"))),
    ];
    return {
      Type: "AWS::IAM::Role",
      ...(fn === "sweep" ? { Condition: "IdleClosingOn" } : {}),
      Properties: {
        Description: `sensor-windows ${DeployedFunctions[fn].name}: what AWS documents for the chosen Kafka flavour (deploy/iam-permissions.ts)`,
        AssumeRolePolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "lambda.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        },
        Policies: [
          {
            PolicyName: "sensor-windows",
            PolicyDocument: { Version: "2012-10-17", Statement: statements },
          },
        ],
      },
    };
  };

  const logGroup = (fn: "aggregate" | "sweep") => ({
    Type: "AWS::Logs::LogGroup",
    ...(fn === "sweep" ? { Condition: "IdleClosingOn" } : {}),
    Properties: {
      LogGroupName: sub(`/aws/lambda/${STACK_NAME}-${DeployedFunctions[fn].name}`),
      RetentionInDays: ref("LogRetentionDays"),
    },
  });

  const vpcConfig = ifThen("HasVpc", {
    SubnetIds: ref("SubnetIds"),
    SecurityGroupIds: ref("SecurityGroupIds"),
  });

  const func = (
    fn: "aggregate" | "sweep",
    description: string,
    timeoutSeconds: number,
    memorySizeMb: number,
  ) => ({
    CodeUri: `dist/${DeployedFunctions[fn].name}/`,
    Handler: "index.handler",
    Runtime: "nodejs22.x",
    Architectures: ["arm64"],
    Description: description,
    Timeout: timeoutSeconds,
    MemorySize: memorySizeMb,
    Role: getAtt(`${DeployedFunctions[fn].logicalId}Role`, "Arn"),
    LoggingConfig: { LogGroup: ref(`${DeployedFunctions[fn].logicalId}LogGroup`) },
    VpcConfig: vpcConfig,
    Environment: environment,
  });

  const selfManagedAccess = [
    {
      Type: ifThen("IsMtls", "CLIENT_CERTIFICATE_TLS_AUTH", "SASL_SCRAM_512_AUTH"),
      URI: ref("KafkaSecretArn"),
    },
    ifThen("SelfManagedRootCa", {
      Type: "SERVER_ROOT_CA_CERTIFICATE",
      URI: ref("KafkaRootCaSecretArn"),
    }),
    ...Array.from({ length: MAX_SUBNETS }, (_, i) =>
      ifThen(`SelfManagedSubnet${i + 1}`, {
        Type: "VPC_SUBNET",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        URI: sub("subnet:${Id}", { Id: nthItem("SubnetIds", i, MAX_SUBNETS) }),
      }),
    ),
    ...Array.from({ length: MAX_SECURITY_GROUPS }, (_, i) =>
      ifThen(`SelfManagedSecurityGroup${i + 1}`, {
        Type: "VPC_SECURITY_GROUP",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        URI: sub("security_group:${Id}", {
          Id: nthItem("SecurityGroupIds", i, MAX_SECURITY_GROUPS),
        }),
      }),
    ),
  ];

  const mapping = (flavour: "msk" | "self-managed") => ({
    Type: "AWS::Lambda::EventSourceMapping",
    Condition: flavour === "msk" ? "MskReady" : "SelfManagedReady",
    Properties: {
      FunctionName: ref(`${agg.logicalId}Function`),
      ...mappingSettings(t, agg.name, flavour),
      ...(flavour === "msk"
        ? { EventSourceArn: ref("MskClusterArn") }
        : {
            SelfManagedEventSource: {
              Endpoints: { KafkaBootstrapServers: { "Fn::Split": [",", ref("BootstrapServers")] } },
            },
            SourceAccessConfigurations: selfManagedAccess,
          }),
    },
  });

  const alarmActions = {
    AlarmActions: ifThen("HasAlarmTopic", [ref("AlarmTopicArn")]),
    OKActions: ifThen("HasAlarmTopic", [ref("AlarmTopicArn")]),
  };
  /** An alarm on one metric's sum (or maximum) per period, above a threshold. */
  const alarm = (o: {
    condition?: string;
    description: string;
    namespace: string;
    metric: string;
    dimensions: { Name: string; Value: unknown }[];
    statistic: "Sum" | "Maximum";
    periodSeconds: number;
    evaluationPeriods: number;
    threshold: unknown;
  }) => ({
    Type: "AWS::CloudWatch::Alarm",
    ...(o.condition === undefined ? {} : { Condition: o.condition }),
    Properties: {
      AlarmDescription: o.description,
      Namespace: o.namespace,
      MetricName: o.metric,
      Dimensions: o.dimensions,
      Statistic: o.statistic,
      Period: o.periodSeconds,
      EvaluationPeriods: o.evaluationPeriods,
      Threshold: o.threshold,
      ComparisonOperator: "GreaterThanThreshold",
      // No data is no traffic, not trouble.
      TreatMissingData: "notBreaching",
      ...alarmActions,
    },
  });
  const byFunction = (fn: "aggregate" | "sweep") => [
    { Name: "FunctionName", Value: ref(`${DeployedFunctions[fn].logicalId}Function`) },
  ];
  const functionAlarms = (fn: "aggregate" | "sweep") => {
    const { logicalId, name } = DeployedFunctions[fn];
    const cond = fn === "sweep" ? { condition: "IdleClosingOn" } : {};
    return {
      [`${logicalId}ErrorsAlarm`]: alarm({
        ...cond,
        description: `${name} failed invocations (the trigger retries the batch; the sweep waits for the next minute)`,
        namespace: "AWS/Lambda",
        metric: "Errors",
        dimensions: byFunction(fn),
        statistic: "Sum",
        periodSeconds: 300,
        evaluationPeriods: 1,
        threshold: 0,
      }),
      [`${logicalId}ThrottlesAlarm`]: alarm({
        ...cond,
        description: `${name} throttled invocations (account concurrency, or for the sweep, one sweep outlasting the minute)`,
        namespace: "AWS/Lambda",
        metric: "Throttles",
        dimensions: byFunction(fn),
        statistic: "Sum",
        periodSeconds: 300,
        evaluationPeriods: 1,
        threshold: 0,
      }),
    };
  };
  // Throttling on the table or any of its indexes (an index that can't keep up throttles writes).
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
  const tableScopes = [undefined, ...table.GlobalSecondaryIndexes.map((i) => i.IndexName)];
  const throttleMetrics = tableScopes.flatMap((index, n) =>
    ["ReadThrottleEvents", "WriteThrottleEvents"].map((metric, m) => ({
      Id: `t${n}${m}`,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: "AWS/DynamoDB",
          MetricName: metric,
          Dimensions: [
            { Name: "TableName", Value: ref("StateTable") },
            ...(index === undefined ? [] : [{ Name: "GlobalSecondaryIndexName", Value: index }]),
          ],
        },
        Period: 300,
        Stat: "Sum",
      },
    })),
  );

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
        Description: "Amazon MSK (IAM access control) or self-managed Kafka (SASL/SCRAM or mTLS)",
      },
      MskClusterArn: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[^/]+/[^/]+$",
        ConstraintDescription:
          "an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)",
        Description: "MSK: the cluster's ARN. Required with KafkaFlavour=msk",
      },
      BootstrapServers: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^[^,\\s]+:[0-9]{1,5}(,[^,\\s]+:[0-9]{1,5})*$",
        ConstraintDescription: "host:port[,host:port...]",
        Description:
          "host:port,... Always required: the brokers the functions produce to (MSK: the IAM bootstrap brokers, port 9098, from aws kafka get-bootstrap-brokers); self-managed: also the brokers the trigger reads",
      },
      SelfManagedAuth: {
        Type: "String",
        AllowedValues: ["sasl-scram", "mtls"],
        Default: "sasl-scram",
        Description: "Self-managed: SASL/SCRAM-SHA-512 or mutual TLS",
      },
      KafkaSecretArn: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
        ConstraintDescription: "a Secrets Manager secret ARN",
        Description:
          'Self-managed, required: {"username","password"} for SASL/SCRAM, or {"certificate","privateKey"[,"privateKeyPassword"]} (PEM) for mTLS',
      },
      KafkaRootCaSecretArn: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$",
        ConstraintDescription: "a Secrets Manager secret ARN",
        Description:
          'Self-managed, when a private CA signed the broker certificates: a secret {"certificate": PEM of the root CA}; the trigger and the producer both trust it',
      },
      SecretsKmsKeyArn: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$",
        ConstraintDescription: "a KMS key ARN",
        Description:
          "Self-managed, when the secrets are encrypted with a customer-managed KMS key: its ARN",
      },
      SubnetIds: {
        Type: "CommaDelimitedList",
        Default: "",
        Description: `The functions' (and a self-managed trigger's) VPC subnets, at most ${MAX_SUBNETS}. Required with MSK; empty = no VPC (self-managed Kafka reachable publicly)`,
      },
      SecurityGroupIds: {
        Type: "CommaDelimitedList",
        Default: "",
        Description: `Their security groups, at most ${MAX_SECURITY_GROUPS}; required with SubnetIds`,
      },
      OutputTopic: { Type: "String", Default: defaults.outputTopic, Description: "Closed windows" },
      LateTopic: {
        Type: "String",
        Default: defaults.lateTopic,
        Description: "Readings that came after their window closed",
      },
      DeadLetterTopic: {
        Type: "String",
        Default: defaults.deadLetterTopic,
        Description: "Records that are not readings",
      },
      WindowSizeMs: { Type: "Number", Default: defaults.windowSizeMs, MinValue: 1 },
      WindowGraceMs: { Type: "Number", Default: defaults.windowGraceMs, MinValue: 0 },
      ClosingStrategy: {
        Type: "String",
        AllowedValues: ["key", "partition"],
        Default: defaults.closingStrategy,
      },
      IdleTimeoutMs: {
        Type: "Number",
        Default: 0,
        MinValue: 0,
        Description: `0 = off; above 0 also deploys sweep-idle-windows on an EventBridge ${sweep.expression} schedule`,
      },
      LogRetentionDays: {
        Type: "Number",
        Default: 30,
        AllowedValues: [
          1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
          2922, 3288, 3653,
        ],
        Description: "How long the functions' logs are kept",
      },
      OffsetLagAlarmThreshold: {
        Type: "Number",
        Default: 100000,
        MinValue: 1,
        Description:
          "Records the trigger may fall behind the source topic (OffsetLag) for 5 minutes before the alarm",
      },
      AlarmTopicArn: {
        Type: "String",
        Default: "",
        AllowedPattern: "^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$",
        ConstraintDescription: "an SNS topic ARN",
        Description:
          "SNS topic the alarms notify; empty = alarms without actions (visible in CloudWatch)",
      },
    },
    Rules: {
      MskParameters: {
        RuleCondition: equals(ref("KafkaFlavour"), "msk"),
        Assertions: [
          {
            Assert: notEmpty("MskClusterArn"),
            AssertDescription:
              "KafkaFlavour=msk needs MskClusterArn, the cluster's ARN (aws kafka list-clusters-v2)",
          },
          {
            Assert: notEmpty("BootstrapServers"),
            AssertDescription:
              "KafkaFlavour=msk needs BootstrapServers: the cluster's IAM bootstrap brokers, port 9098 (aws kafka get-bootstrap-brokers), which the functions produce to",
          },
          {
            Assert: not({ "Fn::Contains": [ref("SubnetIds"), ""] }),
            AssertDescription:
              "KafkaFlavour=msk needs SubnetIds: subnets of the cluster's VPC, where the functions run to reach the brokers",
          },
          {
            Assert: not({ "Fn::Contains": [ref("SecurityGroupIds"), ""] }),
            AssertDescription:
              "KafkaFlavour=msk needs SecurityGroupIds: security groups that let the functions reach the brokers on port 9098",
          },
        ],
      },
      SelfManagedParameters: {
        RuleCondition: equals(ref("KafkaFlavour"), "self-managed"),
        Assertions: [
          {
            Assert: notEmpty("BootstrapServers"),
            AssertDescription:
              "KafkaFlavour=self-managed needs BootstrapServers, the brokers as host:port,...",
          },
          {
            Assert: notEmpty("KafkaSecretArn"),
            AssertDescription:
              "KafkaFlavour=self-managed needs KafkaSecretArn, the secret with the SASL/SCRAM or mTLS credentials",
          },
        ],
      },
      VpcParameters: {
        RuleCondition: not({ "Fn::Contains": [ref("SubnetIds"), ""] }),
        Assertions: [
          {
            Assert: not({ "Fn::Contains": [ref("SecurityGroupIds"), ""] }),
            AssertDescription:
              "SubnetIds needs SecurityGroupIds: a function in a VPC needs security groups",
          },
        ],
      },
      SecurityGroupParameters: {
        RuleCondition: not({ "Fn::Contains": [ref("SecurityGroupIds"), ""] }),
        Assertions: [
          {
            Assert: not({ "Fn::Contains": [ref("SubnetIds"), ""] }),
            AssertDescription:
              "SecurityGroupIds needs SubnetIds: security groups apply in a VPC's subnets",
          },
        ],
      },
    },
    Conditions: {
      IsMsk: equals(ref("KafkaFlavour"), "msk"),
      IsSelfManaged: equals(ref("KafkaFlavour"), "self-managed"),
      IsMtls: equals(ref("SelfManagedAuth"), "mtls"),
      HasMskCluster: notEmpty("MskClusterArn"),
      HasBrokers: notEmpty("BootstrapServers"),
      HasSecret: notEmpty("KafkaSecretArn"),
      HasRootCa: notEmpty("KafkaRootCaSecretArn"),
      HasKmsKey: notEmpty("SecretsKmsKeyArn"),
      HasAlarmTopic: notEmpty("AlarmTopicArn"),
      HasVpc: and(listNotEmpty("SubnetIds"), listNotEmpty("SecurityGroupIds")),
      MskReady: and(
        condition("IsMsk"),
        condition("HasMskCluster"),
        condition("HasBrokers"),
        condition("HasVpc"),
      ),
      SelfManagedReady: and(
        condition("IsSelfManaged"),
        condition("HasBrokers"),
        condition("HasSecret"),
      ),
      SelfManagedInVpc: and(condition("SelfManagedReady"), condition("HasVpc")),
      SelfManagedRootCa: and(condition("SelfManagedReady"), condition("HasRootCa")),
      SecretsUseKmsKey: and(condition("SelfManagedReady"), condition("HasKmsKey")),
      NeedsEventPollerVpc: { "Fn::Or": [condition("MskReady"), condition("SelfManagedInVpc")] },
      IdleClosingOn: not(equals(ref("IdleTimeoutMs"), 0)),
      ...Object.fromEntries(
        Array.from({ length: MAX_SUBNETS }, (_, i) => [
          `SelfManagedSubnet${i + 1}`,
          and(condition("SelfManagedInVpc"), not(equals(nthItem("SubnetIds", i, MAX_SUBNETS), ""))),
        ]),
      ),
      ...Object.fromEntries(
        Array.from({ length: MAX_SECURITY_GROUPS }, (_, i) => [
          `SelfManagedSecurityGroup${i + 1}`,
          and(
            condition("SelfManagedInVpc"),
            not(equals(nthItem("SecurityGroupIds", i, MAX_SECURITY_GROUPS), "")),
          ),
        ]),
      ),
    },
    Resources: {
      StateTable: {
        Type: "AWS::DynamoDB::Table",
        // Open windows live here only: a stack deleted or a table replaced must not take them along.
        DeletionPolicy: "Retain",
        UpdateReplacePolicy: "Retain",
        Properties: {
          ...table,
          TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      },
      [`${agg.logicalId}LogGroup`]: logGroup("aggregate"),
      [`${agg.logicalId}Role`]: role("aggregate"),
      [`${agg.logicalId}Function`]: {
        Type: "AWS::Serverless::Function",
        Properties: func(
          "aggregate",
          "Kafka batches of readings in, closed event-time windows out",
          t.timeoutSeconds,
          t.memorySizeMb,
        ),
      },
      [`${agg.logicalId}MskTrigger`]: mapping("msk"),
      [`${agg.logicalId}SelfManagedTrigger`]: mapping("self-managed"),
      [`${sw.logicalId}LogGroup`]: logGroup("sweep"),
      [`${sw.logicalId}Role`]: role("sweep"),
      [`${sw.logicalId}Function`]: {
        Type: "AWS::Serverless::Function",
        Condition: "IdleClosingOn",
        Properties: {
          ...func(
            "sweep",
            "Closes and emits the windows of sensors that went quiet",
            sweep.timeoutSeconds,
            sweep.memorySizeMb,
          ),
          ReservedConcurrentExecutions: sweep.reservedConcurrentExecutions,
          EventInvokeConfig: {
            MaximumEventAgeInSeconds: sweep.maximumEventAgeInSeconds,
            MaximumRetryAttempts: sweep.maximumRetryAttempts,
          },
          Events: { Sweep: { Type: "Schedule", Properties: { Schedule: sweep.expression } } },
        },
      },
      // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
      [`${agg.logicalId}OffsetLagAlarm`]: alarm({
        description: `The trigger of ${agg.name} is more than OffsetLagAlarmThreshold records behind ${t.topic} (OffsetLag, the maximum over the topic's partitions)`,
        namespace: "AWS/Lambda",
        metric: "OffsetLag",
        dimensions: byFunction("aggregate"),
        statistic: "Maximum",
        periodSeconds: 60,
        evaluationPeriods: 5,
        threshold: ref("OffsetLagAlarmThreshold"),
      }),
      ...functionAlarms("aggregate"),
      ...functionAlarms("sweep"),
      [`${agg.logicalId}DeadLettersAlarm`]: alarm({
        description: `${agg.name} sent records that are not readings to the dead-letter topic (the function's own ${DEAD_LETTERS_METRIC} metric)`,
        namespace: "SensorWindows",
        metric: DEAD_LETTERS_METRIC,
        dimensions: byFunction("aggregate"),
        statistic: "Sum",
        periodSeconds: 300,
        evaluationPeriods: 1,
        threshold: 0,
      }),
      StateTableThrottlesAlarm: {
        Type: "AWS::CloudWatch::Alarm",
        Properties: {
          AlarmDescription:
            "DynamoDB throttled reads or writes of the state table or its indexes (the functions retry; batches slow down)",
          Metrics: [
            ...throttleMetrics,
            {
              Id: "throttles",
              Expression: `SUM([${throttleMetrics.map((m) => m.Id).join(",")}])`,
              Label: "state table throttle events",
              ReturnData: true,
            },
          ],
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: "GreaterThanThreshold",
          TreatMissingData: "notBreaching",
          ...alarmActions,
        },
      },
    },
    Outputs: {
      AggregateTemperaturesFunctionArn: { Value: getAtt(`${agg.logicalId}Function`, "Arn") },
      ConsumerGroupId: {
        Description: "The trigger's consumer group on the cluster",
        Value: consumerGroupIdOf(t, agg.name),
      },
      StateTableName: { Value: ref("StateTable") },
      LogGroups: {
        Value: {
          "Fn::Join": [
            ",",
            [
              ref(`${agg.logicalId}LogGroup`),
              ifThen("IdleClosingOn", ref(`${sw.logicalId}LogGroup`), ""),
            ],
          ],
        },
      },
    },
  };
};

/**
 * The template as written to template.yaml. Dates (the format and policy versions) are quoted:
 * YAML 1.1 readers, PyYAML among them (SAM CLI, cfn-lint), would otherwise read a date.
 */
export const templateYaml = (declarations?: TemplateDeclarations): string =>
  `# Generated by \`npm run template\` from functions/*/trigger.ts, functions/sweep-idle-windows/schedule.ts,\n# state/dynamodb-state-table.ts and deploy/iam-permissions.ts. Do not edit by hand: a test fails when this file is stale.\n${stringify(
    renderTemplate(declarations),
    { lineWidth: 0, aliasDuplicateObjects: false },
  ).replace(/: (\d{4}-\d{2}-\d{2})$/gm, ': "$1"')}`;

const USAGE = `Usage: npm run template

Writes template.yaml, the AWS SAM template, from the functions' trigger declarations
(functions/*/trigger.ts), the idle sweep's schedule, the state table's design and the documented
IAM permissions (deploy/iam-permissions.ts). Run it after changing any of them; a test fails while
template.yaml is stale. Validate with npm run lint:template (cfn-lint and sam validate --lint),
deploy with npm run deploy (README, "Deploy").
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
