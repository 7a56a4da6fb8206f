import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import type {
  FunctionDeclaration,
  FunctionSetting,
  KafkaFunctionDeclaration,
} from "../functions/function-declaration.ts";
import {
  discoverFunctions,
  isKafkaFunction,
  logicalIdOf,
  registeredFunctions,
} from "../functions/registry.ts";
import {
  defaultConsumerGroupId,
  type TriggerDeclaration,
} from "../functions/trigger-declaration.ts";
import { ConfigError } from "../lib/errors.ts";
import { StateTableDesign, stateTableKeysAndIndexes } from "../state/dynamodb-state-table.ts";
import { type PermissionName, Permissions } from "./iam-permissions.ts";

/**
 * The AWS SAM template, generated from the same declarations the harness runs from (every function
 * registered under functions/: its trigger or schedule, settings, output topics, what it uses; the
 * state table's design), so the two never drift, and a new function deploys with no edit here.
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

/**
 * Lambda's limits on a function's VPC configuration. The self-managed trigger takes one
 * VPC_SUBNET / VPC_SECURITY_GROUP entry per id; CloudFormation cannot map a list to a list of
 * objects, so the template holds one conditional entry per possible position.
 * https://docs.aws.amazon.com/lambda/latest/api/API_VpcConfig.html
 */
export const MAX_SUBNETS = 16;
export const MAX_SECURITY_GROUPS = 5;

/** Where the functions' own metrics go (lib/function-metrics.ts writes them there). */
const METRICS_NAMESPACE = "SensorWindows";

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
    ...provisionedPollerSettings(t.provisionedPollers),
    ...errorControlSettings(t.errorControls),
  };
};

const provisionedPollerSettings = (p: TriggerDeclaration["provisionedPollers"]) =>
  p === undefined
    ? {}
    : {
        ProvisionedPollerConfig: {
          MinimumPollers: p.minimumPollers,
          MaximumPollers: p.maximumPollers,
        },
      };

const errorControlSettings = (e: TriggerDeclaration["errorControls"]) =>
  e === undefined
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

/**
 * Resources of the stack, each id once: two functions whose names make the same resource id (or
 * an id of the stack's own) would overwrite each other silently.
 */
const addResource = (
  resources: Record<string, unknown>,
  id: string,
  resource: unknown,
  owner: string,
) => {
  if (id in resources) {
    throw new ConfigError(
      `template: ${owner} makes the resource ${id}, which another part of the stack already has; rename the function`,
    );
  }
  resources[id] = resource;
};

/** A template parameter from a function's setting (CloudFormation's fields). */
const parameterOf = (s: FunctionSetting) => ({
  Type: s.type,
  Default: s.default,
  ...(s.allowedValues === undefined ? {} : { AllowedValues: [...s.allowedValues] }),
  ...(s.minValue === undefined ? {} : { MinValue: s.minValue }),
  ...(s.maxValue === undefined ? {} : { MaxValue: s.maxValue }),
  Description: s.description,
});

/**
 * The template parameters the functions' settings take, each once. Functions may share one (the
 * aggregate and the sweep read the same window rules) only if they declare it alike.
 */
const settingParameters = (functions: readonly FunctionDeclaration[]) => {
  const parameters: Record<string, ReturnType<typeof parameterOf>> = {};
  const declaredBy: Record<string, string> = {};
  for (const fn of functions) {
    for (const s of Object.values(fn.settings)) {
      const p = parameterOf(s);
      const earlier = parameters[s.parameter];
      if (earlier !== undefined && JSON.stringify(earlier) !== JSON.stringify(p)) {
        throw new ConfigError(
          `template: ${fn.name} and ${declaredBy[s.parameter]} declare the parameter ${s.parameter} differently; share one declaration or rename one`,
        );
      }
      if (s.parameter in STACK_PARAMETERS) {
        throw new ConfigError(
          `template: ${fn.name}'s setting ${s.env} takes the parameter ${s.parameter}, one of the stack's own; rename it`,
        );
      }
      parameters[s.parameter] = p;
      declaredBy[s.parameter] ??= fn.name;
    }
  }
  return parameters;
};

/** The names of the parameters the stack declares itself, which no setting may take. */
const STACK_PARAMETERS = Object.fromEntries(
  [
    "KafkaFlavour",
    "MskClusterArn",
    "BootstrapServers",
    "SelfManagedAuth",
    "KafkaSecretArn",
    "KafkaRootCaSecretArn",
    "SecretsKmsKeyArn",
    "SubnetIds",
    "SecurityGroupIds",
    "LogRetentionDays",
    "OffsetLagAlarmThreshold",
    "AlarmTopicArn",
  ].map((n) => [n, true]),
);

const tableArn = getAtt("StateTable", "Arn");

/** The condition a function deploys under (a scheduled function's `deployedWhen`), if any. */
const conditionOf = (fn: FunctionDeclaration) => fn.deployedWhen?.name;
const withCondition = (fn: FunctionDeclaration) =>
  conditionOf(fn) === undefined ? {} : { Condition: conditionOf(fn) };

/**
 * The template, from the functions' declarations (by default every function registered under
 * functions/): per function a log group, an execution role holding what its declaration needs, the
 * function and, for a Kafka function, its trigger in both flavours and its alarms.
 */
export const renderTemplate = (
  functions: readonly FunctionDeclaration[] = registeredFunctions,
): Record<string, unknown> => {
  const usesTable = functions.some((f) => f.stateTable);
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Transform: "AWS::Serverless-2016-10-31",
    Description:
      "sensor-windows: event-time tumbling windows over Kafka, as Lambda functions behind an MSK or self-managed Kafka trigger. Generated by `npm run template`; do not edit.",
    Parameters: parameters(functions),
    Rules: { ...flavourRules, ...vpcRules },
    Conditions: conditions(functions),
    Resources: resources(functions, usesTable),
    Outputs: outputs(functions, usesTable),
  };
};

const parameters = (functions: readonly FunctionDeclaration[]) => ({
  ...kafkaParameters(functions.filter(isKafkaFunction)[0]?.trigger.eventFlavour ?? "msk"),
  ...vpcParameters,
  ...settingParameters(functions),
  ...operationParameters,
});

/** Which Kafka, where, and the secrets to reach it; the flavour defaults to the first trigger's. */
const kafkaParameters = (defaultFlavour: string) => ({
  KafkaFlavour: {
    Type: "String",
    AllowedValues: ["msk", "self-managed"],
    Default: defaultFlavour,
    Description: "Amazon MSK (IAM access control) or self-managed Kafka (SASL/SCRAM or mTLS)",
  },
  MskClusterArn: {
    Type: "String",
    Default: "",
    AllowedPattern: "^$|^arn:aws[a-z-]*:kafka:[a-z0-9-]+:[0-9]{12}:cluster/[^/]+/[^/]+$",
    ConstraintDescription: "an MSK cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID)",
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
  ...secretParameters,
});

const secretParameters = {
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
};

const vpcParameters = {
  SubnetIds: {
    Type: "CommaDelimitedList",
    Default: "",
    Description: `The functions' (and a self-managed trigger's) VPC subnets, at most ${MAX_SUBNETS}. Required with MSK; empty = no VPC (self-managed Kafka reachable publicly). A self-managed trigger takes at most 22 access entries: subnets, security groups, the secret and the root CA together`,
  },
  SecurityGroupIds: {
    Type: "CommaDelimitedList",
    Default: "",
    Description: `Their security groups, at most ${MAX_SECURITY_GROUPS}; required with SubnetIds`,
  },
};

/** Logs and alarms. */
const operationParameters = {
  LogRetentionDays: {
    Type: "Number",
    Default: 30,
    AllowedValues: [
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
      3288, 3653,
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
};

const hasItems = (parameter: string) => not({ "Fn::Contains": [ref(parameter), ""] });

const flavourRules = {
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
        Assert: hasItems("SubnetIds"),
        AssertDescription:
          "KafkaFlavour=msk needs SubnetIds: subnets of the cluster's VPC, where the functions run to reach the brokers",
      },
      {
        Assert: hasItems("SecurityGroupIds"),
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
};

const vpcRules = {
  VpcParameters: {
    RuleCondition: hasItems("SubnetIds"),
    Assertions: [
      {
        Assert: hasItems("SecurityGroupIds"),
        AssertDescription:
          "SubnetIds needs SecurityGroupIds: a function in a VPC needs security groups",
      },
    ],
  },
  SecurityGroupParameters: {
    RuleCondition: hasItems("SecurityGroupIds"),
    Assertions: [
      {
        Assert: hasItems("SubnetIds"),
        AssertDescription:
          "SecurityGroupIds needs SubnetIds: security groups apply in a VPC's subnets",
      },
    ],
  },
};

const conditions = (functions: readonly FunctionDeclaration[]) => ({
  ...flavourConditions,
  ...deployConditions(functions),
  ...positionConditions("SelfManagedSubnet", "SubnetIds", MAX_SUBNETS),
  ...positionConditions("SelfManagedSecurityGroup", "SecurityGroupIds", MAX_SECURITY_GROUPS),
});

const flavourConditions = {
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
};

/** A scheduled function's `deployedWhen`: its parameter is not the value that turns it off. */
const deployConditions = (functions: readonly FunctionDeclaration[]) =>
  Object.fromEntries(
    functions.flatMap((fn) => {
      const when = fn.deployedWhen;
      return when === undefined ? [] : [[when.name, not(equals(ref(when.parameter), when.isNot))]];
    }),
  );

/** `<prefix><n>`: a self-managed trigger in a VPC, and the list parameter has an n-th item. */
const positionConditions = (prefix: string, parameter: string, max: number) =>
  Object.fromEntries(
    Array.from({ length: max }, (_, i) => [
      `${prefix}${i + 1}`,
      and(condition("SelfManagedInVpc"), not(equals(nthItem(parameter, i, max), ""))),
    ]),
  );

const resources = (functions: readonly FunctionDeclaration[], usesTable: boolean) => {
  const all: Record<string, unknown> = usesTable ? stateTableResources() : {};
  for (const fn of functions) {
    const id = logicalIdOf(fn.name);
    const add = (resourceId: string, resource: unknown) =>
      addResource(all, resourceId, resource, `the function ${fn.name}`);
    add(`${id}LogGroup`, logGroup(fn));
    add(`${id}Role`, role(fn));
    add(`${id}Function`, functionResource(fn));
    if (isKafkaFunction(fn)) {
      add(`${id}MskTrigger`, mapping(fn, "msk"));
      add(`${id}SelfManagedTrigger`, mapping(fn, "self-managed"));
    }
    for (const [alarmId, a] of Object.entries(functionAlarms(fn))) add(alarmId, a);
  }
  return all;
};

const stateTableResources = () => ({
  StateTable: {
    Type: "AWS::DynamoDB::Table",
    // Open windows live here only: a stack deleted or a table replaced must not take them along.
    DeletionPolicy: "Retain",
    UpdateReplacePolicy: "Retain",
    Properties: {
      ...stateTableKeysAndIndexes(),
      TimeToLiveSpecification: { AttributeName: StateTableDesign.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    },
  },
  StateTableThrottlesAlarm: stateTableThrottlesAlarm(),
});

const logGroup = (fn: FunctionDeclaration) => ({
  Type: "AWS::Logs::LogGroup",
  ...withCondition(fn),
  Properties: {
    LogGroupName: sub(`/aws/lambda/${STACK_NAME}-${fn.name}`),
    RetentionInDays: ref("LogRetentionDays"),
  },
});

/** The execution role of one function: the documented groups it needs, nothing else. */
const role = (fn: FunctionDeclaration) => {
  const outputTopics = fn.outputTopics.map((key) =>
    kafkaArn("topic", ref((fn.settings[key] as FunctionSetting).parameter)),
  );
  const t = isKafkaFunction(fn) ? fn.trigger : undefined;
  const statements: unknown[] = [
    grant("Logs", "logs", getAtt(`${logicalIdOf(fn.name)}LogGroup`, "Arn")),
    ...(fn.stateTable
      ? // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        [grant("StateTable", "stateTable", [tableArn, sub("${StateTable.Arn}/index/*")])]
      : []),
    ...(t === undefined ? [] : triggerStatements(t, fn.name)),
    ...(outputTopics.length === 0 ? [] : producerStatements(outputTopics)),
    // EC2's network-interface actions take no resource ARN.
    ifThen("HasVpc", grant("FunctionNetworkInterfaces", "functionVpc", "*")),
    // The trigger reads the secrets to connect, the function's producer to produce.
    ...(t === undefined && outputTopics.length === 0 ? [] : secretStatements),
  ];
  return {
    Type: "AWS::IAM::Role",
    ...withCondition(fn),
    Properties: {
      Description: `sensor-windows ${fn.name}: what AWS documents for the chosen Kafka flavour (deploy/iam-permissions.ts)`,
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

/** What the trigger needs: with MSK, to read its topic as its group; in a VPC, the pollers' ENIs. */
const triggerStatements = (t: TriggerDeclaration, functionName: string) => {
  const onFailureTopic = t.errorControls?.onFailureTopic;
  return [
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
        kafkaArn("group", consumerGroupIdOf(t, functionName)),
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
    ifThen("NeedsEventPollerVpc", grant("EventPollerNetworkInterfaces", "eventPollerVpc", "*")),
  ];
};

/** What the function's producer needs with MSK: to write its output topics, and only those. */
const producerStatements = (outputTopics: unknown[]) => [
  ifThen(
    "MskReady",
    grant("MskIamProducerCluster", "mskIamProducer", kafkaArn("cluster"), [
      "kafka-cluster:Connect",
      "kafka-cluster:WriteDataIdempotently",
    ]),
  ),
  ifThen(
    "MskReady",
    grant("MskIamProducerTopics", "mskIamProducer", outputTopics, [
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:WriteData",
    ]),
  ),
];

const secretStatements = [
  ifThen(
    "SelfManagedReady",
    grant("KafkaSecrets", "kafkaSecrets", [
      ref("KafkaSecretArn"),
      ifThen("SelfManagedRootCa", ref("KafkaRootCaSecretArn")),
    ]),
  ),
  ifThen("SecretsUseKmsKey", grant("SecretsKey", "secretsKey", ref("SecretsKmsKeyArn"))),
];

const functionResource = (fn: FunctionDeclaration) => {
  const logicalId = logicalIdOf(fn.name);
  const runs = isKafkaFunction(fn) ? fn.trigger : fn.schedule;
  const base = {
    CodeUri: `dist/${fn.name}/`,
    Handler: "index.handler",
    Runtime: "nodejs22.x",
    Architectures: ["arm64"],
    Description: fn.description,
    Timeout: runs.timeoutSeconds,
    MemorySize: runs.memorySizeMb,
    Role: getAtt(`${logicalId}Role`, "Arn"),
    LoggingConfig: { LogGroup: ref(`${logicalId}LogGroup`) },
    VpcConfig: vpcConfig,
    Environment: environment(fn),
  };
  if (isKafkaFunction(fn)) return { Type: "AWS::Serverless::Function", Properties: base };
  const s = fn.schedule;
  return {
    Type: "AWS::Serverless::Function",
    ...withCondition(fn),
    Properties: {
      ...base,
      ...(s.reservedConcurrentExecutions === undefined
        ? {}
        : { ReservedConcurrentExecutions: s.reservedConcurrentExecutions }),
      // https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configure.html
      EventInvokeConfig: {
        MaximumEventAgeInSeconds: s.maximumEventAgeInSeconds,
        MaximumRetryAttempts: s.maximumRetryAttempts,
      },
      Events: { Schedule: { Type: "Schedule", Properties: { Schedule: s.expression } } },
    },
  };
};

const vpcConfig = ifThen("HasVpc", {
  SubnetIds: ref("SubnetIds"),
  SecurityGroupIds: ref("SecurityGroupIds"),
});

const environment = (fn: FunctionDeclaration) => ({
  Variables: {
    ...(fn.stateTable ? { STATE_STORE: "dynamodb", STATE_TABLE: ref("StateTable") } : {}),
    ...Object.fromEntries(Object.values(fn.settings).map((s) => [s.env, ref(s.parameter)])),
    // The producer's brokers are configured, never taken from the event (see lazyKafkaSink).
    KAFKA_BROKERS: ref("BootstrapServers"),
    KAFKA_AUTH: ifThen("IsMsk", "msk-iam", ref("SelfManagedAuth")),
    KAFKA_SECRET_ARN: ifThen("IsMsk", ref("AWS::NoValue"), ref("KafkaSecretArn")),
    KAFKA_CA_SECRET_ARN: ifThen("SelfManagedRootCa", ref("KafkaRootCaSecretArn")),
    NODE_OPTIONS: "--enable-source-maps",
  },
});

const mapping = (fn: KafkaFunctionDeclaration, flavour: "msk" | "self-managed") => ({
  Type: "AWS::Lambda::EventSourceMapping",
  Condition: flavour === "msk" ? "MskReady" : "SelfManagedReady",
  Properties: {
    FunctionName: ref(`${logicalIdOf(fn.name)}Function`),
    ...mappingSettings(fn.trigger, fn.name, flavour),
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

/** `<type>` entries, one per possible position of the list parameter, each behind its condition. */
const positionAccess = (
  conditionPrefix: string,
  type: string,
  uriPrefix: string,
  parameter: string,
  max: number,
) =>
  Array.from({ length: max }, (_, i) =>
    ifThen(`${conditionPrefix}${i + 1}`, {
      Type: type,
      URI: sub(`${uriPrefix}:\${Id}`, { Id: nthItem(parameter, i, max) }),
    }),
  );

const selfManagedAccess = [
  {
    Type: ifThen("IsMtls", "CLIENT_CERTIFICATE_TLS_AUTH", "SASL_SCRAM_512_AUTH"),
    URI: ref("KafkaSecretArn"),
  },
  ifThen("SelfManagedRootCa", {
    Type: "SERVER_ROOT_CA_CERTIFICATE",
    URI: ref("KafkaRootCaSecretArn"),
  }),
  ...positionAccess("SelfManagedSubnet", "VPC_SUBNET", "subnet", "SubnetIds", MAX_SUBNETS),
  ...positionAccess(
    "SelfManagedSecurityGroup",
    "VPC_SECURITY_GROUP",
    "security_group",
    "SecurityGroupIds",
    MAX_SECURITY_GROUPS,
  ),
];

const alarmActions = {
  AlarmActions: ifThen("HasAlarmTopic", [ref("AlarmTopicArn")]),
  OKActions: ifThen("HasAlarmTopic", [ref("AlarmTopicArn")]),
};

/** An alarm on one metric's sum (or maximum) per period, above a threshold. */
const alarm = (o: {
  condition?: string | undefined;
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

/** The metric's sum over 5 minutes above 0: any at all. */
const anyIn5Minutes = {
  statistic: "Sum",
  periodSeconds: 300,
  evaluationPeriods: 1,
  threshold: 0,
} as const;

const byFunction = (fn: FunctionDeclaration) => [
  { Name: "FunctionName", Value: ref(`${logicalIdOf(fn.name)}Function`) },
];

// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
const functionAlarms = (fn: FunctionDeclaration): Record<string, unknown> => {
  const logicalId = logicalIdOf(fn.name);
  const kafkaFn = isKafkaFunction(fn) ? fn : undefined;
  const reserved = isKafkaFunction(fn) ? undefined : fn.schedule.reservedConcurrentExecutions;
  const common = {
    condition: conditionOf(fn),
    namespace: "AWS/Lambda",
    dimensions: byFunction(fn),
  };
  return {
    ...(kafkaFn === undefined
      ? {}
      : {
          [`${logicalId}OffsetLagAlarm`]: alarm({
            ...common,
            description: `The trigger of ${fn.name} is more than OffsetLagAlarmThreshold records behind ${kafkaFn.trigger.topic} (OffsetLag, the maximum over the topic's partitions)`,
            metric: "OffsetLag",
            statistic: "Maximum",
            periodSeconds: 60,
            evaluationPeriods: 5,
            threshold: ref("OffsetLagAlarmThreshold"),
          }),
        }),
    [`${logicalId}ErrorsAlarm`]: alarm({
      ...common,
      description: `${fn.name} failed invocations (${kafkaFn === undefined ? "the next scheduled run does the work again" : "the trigger retries the batch"})`,
      metric: "Errors",
      ...anyIn5Minutes,
    }),
    [`${logicalId}ThrottlesAlarm`]: alarm({
      ...common,
      description: `${fn.name} throttled invocations (account concurrency${reserved === undefined ? "" : `, or a run outlasting the schedule with reserved concurrency ${reserved}`})`,
      metric: "Throttles",
      ...anyIn5Minutes,
    }),
    ...ownMetricAlarms(fn),
  };
};

/** The alarms a function declares on its own metrics (`metricAlarms`). */
const ownMetricAlarms = (fn: FunctionDeclaration) =>
  Object.fromEntries(
    fn.metricAlarms.map((m) => [
      `${logicalIdOf(fn.name)}${m.metric.charAt(0).toUpperCase()}${m.metric.slice(1)}Alarm`,
      alarm({
        condition: conditionOf(fn),
        description: `${fn.name} ${m.description} (the function's own ${m.metric} metric)`,
        namespace: METRICS_NAMESPACE,
        metric: m.metric,
        dimensions: byFunction(fn),
        ...anyIn5Minutes,
      }),
    ]),
  );

const stateTableThrottlesAlarm = () => {
  const throttleMetrics = stateTableThrottleMetrics();
  return {
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
  };
};

// Throttling on the table or any of its indexes (an index that can't keep up throttles writes).
// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html
const stateTableThrottleMetrics = () => {
  const indexes = stateTableKeysAndIndexes().GlobalSecondaryIndexes.map((i) => i.IndexName);
  return [undefined, ...indexes].flatMap((index, n) =>
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
};

const outputs = (functions: readonly FunctionDeclaration[], usesTable: boolean) => ({
  ...Object.fromEntries(functions.flatMap(functionOutputs)),
  ...(usesTable ? { StateTableName: { Value: ref("StateTable") } } : {}),
  LogGroups: {
    Value: {
      "Fn::Join": [
        ",",
        functions.map((fn) => {
          const group = ref(`${logicalIdOf(fn.name)}LogGroup`);
          const condition = conditionOf(fn);
          return condition === undefined ? group : ifThen(condition, group, "");
        }),
      ],
    },
  },
});

/** A function's ARN and, for a Kafka function, the consumer group its trigger reads with. */
const functionOutputs = (fn: FunctionDeclaration): [string, unknown][] => {
  const id = logicalIdOf(fn.name);
  return [
    [`${id}FunctionArn`, { ...withCondition(fn), Value: getAtt(`${id}Function`, "Arn") }],
    ...(isKafkaFunction(fn)
      ? ([
          [
            `${id}ConsumerGroupId`,
            {
              Description: `The consumer group the trigger of ${fn.name} reads with, on the cluster`,
              Value: consumerGroupIdOf(fn.trigger, fn.name),
            },
          ],
        ] as [string, unknown][])
      : []),
  ];
};

/**
 * The template as written to template.yaml. Dates (the format and policy versions) are quoted:
 * YAML 1.1 readers, PyYAML among them (SAM CLI, cfn-lint), would otherwise read a date.
 */
export const templateYaml = (
  functions: readonly FunctionDeclaration[] = registeredFunctions,
): string =>
  `# Generated by \`npm run template\` from functions/*/function.ts (each function's trigger or schedule,\n# settings and outputs), state/dynamodb-state-table.ts and deploy/iam-permissions.ts. Do not edit by hand: a test fails when this file is stale.\n${stringify(
    renderTemplate(functions),
    { lineWidth: 0, aliasDuplicateObjects: false },
  ).replace(/: (\d{4}-\d{2}-\d{2})$/gm, ': "$1"')}`;

/** The functions with `name`'s trigger replaced: to render the template of another declaration. */
export const withTrigger = <F extends FunctionDeclaration>(
  functions: readonly F[],
  name: string,
  trigger: TriggerDeclaration,
): F[] => {
  if (!functions.some((f) => f.name === name && isKafkaFunction(f))) {
    throw new ConfigError(
      `withTrigger: no Kafka function ${name} among ${functions.map((f) => f.name).join(", ")}`,
    );
  }
  return functions.map((f) => (f.name === name && isKafkaFunction(f) ? { ...f, trigger } : f));
};

/** Writes `root`/template.yaml from the functions under `root`/functions. */
export const writeTemplate = async (root: string): Promise<readonly FunctionDeclaration[]> => {
  const functions = await discoverFunctions(join(root, "functions"));
  writeFileSync(join(root, "template.yaml"), templateYaml(functions));
  return functions;
};

const USAGE = `Usage: npm run template

Writes template.yaml, the AWS SAM template, from every function's declaration
(functions/<name>/function.ts: its trigger or schedule, settings, output topics, state), the state
table's design and the documented IAM permissions (deploy/iam-permissions.ts). Run it after
changing any of them (npm run new-function runs it for you); a test fails while template.yaml is
stale. Validate with npm run lint:template (cfn-lint and sam validate --lint), deploy with npm run
deploy (README, "Deploy").
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(USAGE);
  } else if (args.length > 0) {
    process.stderr.write(`template: takes no arguments, got "${args.join(" ")}" (--help)\n`);
    process.exit(2);
  } else {
    const functions = await writeTemplate(fileURLToPath(new URL("..", import.meta.url)));
    process.stdout.write(`template.yaml written: ${functions.map((f) => f.name).join(", ")}\n`);
  }
}
