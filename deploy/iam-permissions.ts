/**
 * Every IAM action the stack's roles hold, grouped as AWS documents them, each group with its
 * source and what needs it. The template (deploy/template.ts) grants these groups and nothing
 * else; test/unit/deploy-permissions.test.ts checks, per Kafka flavour, that each role holds
 * exactly the groups that flavour needs.
 */
export interface DocumentedPermission {
  /** Who uses the actions: Lambda's event pollers (the trigger), the function's code, or Lambda itself. */
  usedBy: "event source mapping" | "function code" | "Lambda";
  actions: readonly string[];
  /** The AWS page that lists these actions. */
  source: string;
  why: string;
}

export const Permissions = {
  logs: {
    usedBy: "Lambda",
    actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html",
    why: "the function's and its event pollers' logs, in the log group the stack creates (with its retention); logs:CreateLogGroup, which the basic policy adds, is for a group Lambda would create itself, and is left out",
  },
  mskCluster: {
    usedBy: "event source mapping",
    actions: ["kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers"],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html",
    why: "the trigger finds the MSK cluster's brokers; DescribeClusterV2 alone, as AWS recommends (it also covers MSK Serverless)",
  },
  mskIamConsumer: {
    usedBy: "event source mapping",
    actions: [
      "kafka-cluster:Connect",
      "kafka-cluster:DescribeClusterDynamicConfiguration",
      "kafka-cluster:DescribeGroup",
      "kafka-cluster:AlterGroup",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:ReadData",
    ],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/msk-cluster-auth.html",
    why: "the trigger reads the source topic as its consumer group with IAM access control",
  },
  mskOnFailureDestination: {
    usedBy: "event source mapping",
    actions: ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/kafka-on-failure.html",
    why: "the trigger writes the records it gives up on to the on-failure topic; MSK's producer case pairs WriteData with DescribeTopic (and Connect, which the consumer's grant has; iam-access-control-use-cases.html)",
  },
  eventPollerVpc: {
    usedBy: "event source mapping",
    actions: [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeVpcs",
      "ec2:DeleteNetworkInterface",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
    ],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html",
    why: "the trigger's pollers reach brokers inside a VPC (MSK always; self-managed Kafka when it runs in one, https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html)",
  },
  functionVpc: {
    usedBy: "Lambda",
    actions: [
      "ec2:CreateNetworkInterface",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
      "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses",
      "ec2:UnassignPrivateIpAddresses",
    ],
    source: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html",
    why: "the function itself runs in the VPC, to produce to brokers there (AWSLambdaVPCAccessExecutionRole's actions)",
  },
  mskIamProducer: {
    usedBy: "function code",
    actions: [
      "kafka-cluster:Connect",
      "kafka-cluster:WriteDataIdempotently",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:WriteData",
    ],
    source:
      "https://docs.aws.amazon.com/msk/latest/developerguide/iam-access-control-use-cases.html",
    why: 'the function produces its output topics with IAM access control, idempotently ("Produce data idempotently"): with WriteData on named topics rather than all, MSK allows idempotent writes only with WriteDataIdempotently on the cluster, deprecated by KIP-679 or not (create-iam-access-control-policies.html)',
  },
  kafkaSecrets: {
    usedBy: "event source mapping",
    actions: ["secretsmanager:GetSecretValue"],
    source:
      "https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html#smaa-api-actions-secrets",
    why: "the trigger (and the function's producer, which uses the same secrets) reads the SASL/SCRAM or mTLS credentials and the private root CA",
  },
  secretsKey: {
    usedBy: "event source mapping",
    actions: ["kms:Decrypt"],
    source:
      "https://docs.aws.amazon.com/lambda/latest/dg/with-kafka-permissions.html#smaa-api-actions-secrets",
    why: "the secrets are encrypted with a customer-managed KMS key",
  },
  stateTable: {
    usedBy: "function code",
    actions: [
      "dynamodb:GetItem",
      "dynamodb:BatchGetItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:UpdateItem",
      "dynamodb:Query",
    ],
    source:
      "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html",
    why: "the state store's calls: GetItem and BatchGetItem (a partition's head and segments), BatchWriteItem (segments), UpdateItem (commit and mark on the head), Query (the idle index)",
  },
} as const satisfies Record<string, DocumentedPermission>;

export type PermissionName = keyof typeof Permissions;

/**
 * The IAM actions that authorize each DynamoDB call the state store makes (a transaction is
 * authorized per item), so a test can check the store's calls against `stateTable`.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html
 */
export const DynamoDbCallActions: Record<string, readonly string[]> = {
  BatchGetItemCommand: ["dynamodb:BatchGetItem"],
  BatchWriteItemCommand: ["dynamodb:BatchWriteItem"],
  GetItemCommand: ["dynamodb:GetItem"],
  PutItemCommand: ["dynamodb:PutItem"],
  UpdateItemCommand: ["dynamodb:UpdateItem"],
  DeleteItemCommand: ["dynamodb:DeleteItem"],
  QueryCommand: ["dynamodb:Query"],
  ScanCommand: ["dynamodb:Scan"],
  TransactGetItemsCommand: ["dynamodb:GetItem"],
  // TransactWriteItemsCommand: per item, below.
  "TransactWriteItem.Put": ["dynamodb:PutItem"],
  "TransactWriteItem.Update": ["dynamodb:UpdateItem"],
  "TransactWriteItem.Delete": ["dynamodb:DeleteItem"],
  "TransactWriteItem.ConditionCheck": ["dynamodb:ConditionCheckItem"],
};
