import { TOPIC_NAME } from "../lib/env-settings.ts";
import { ConfigError } from "../lib/errors.ts";
import { type FilterPattern, validateFilterCriteria } from "./filter-criteria.ts";

export type { FilterPattern } from "./filter-criteria.ts";

/**
 * How a function is triggered by Kafka, declared once per function (`functions/<name>/trigger.ts`)
 * and read by both the local harness and the deployment template, so the two can't drift.
 * Names and ranges are those of Lambda's event source mapping:
 * https://docs.aws.amazon.com/lambda/latest/dg/msk-esm-parameters.html
 * https://docs.aws.amazon.com/lambda/latest/dg/kafka-esm-parameters.html
 */
export interface TriggerDeclaration {
  /** Exactly one topic per mapping. */
  topic: string;
  /** Records per batch, 1..10 000. Default 100. */
  batchSize: number;
  /** How long to gather a batch, 0..300 s. Default 0.5 s (Kafka's). */
  maximumBatchingWindowInSeconds: number;
  /** Where a group with no committed offsets starts. Default TRIM_HORIZON. */
  startingPosition: StartingPositionName;
  /** With AT_TIMESTAMP: Unix seconds. */
  startingPositionTimestamp?: number;
  /**
   * Default: `<stack name>-<function name>`, so two stacks on one cluster never share a group
   * (AWS's own default is the mapping's UUID, new with every replacement). Locally the stack is
   * `sensor-windows`; the template writes `${AWS::StackName}-<function name>`. A declared group is
   * used as it is, in both.
   */
  consumerGroupId: string;
  /** EventBridge patterns on the record's `value` and metadata, OR-ed, at most 5 (`filter-criteria.ts`). */
  filterCriteria: FilterPattern[];
  /** Which event shape the handler receives. Default msk. */
  eventFlavour: EventFlavourName;
  /** Function timeout, 1..840 s (14 minutes, the Kafka trigger's maximum). Default 60. */
  timeoutSeconds: number;
  /**
   * The function's memory, 128..10 240 MB; Lambda gives CPU in proportion. Default 1024. The
   * template deploys it; the harness reports it as `context.memoryLimitInMB`.
   * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
   */
  memorySizeMb: number;
  /**
   * Provisioned mode: event pollers kept ready. Absent = on-demand mode. Error controls need it,
   * so declaring them without it gets AWS's defaults (1 to 200 pollers).
   * https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html
   */
  provisionedPollers?: ProvisionedPollers;
  /** Provisioned-mode error controls; absent = retry until success (or the records expire). */
  errorControls?: ErrorControls;
}

export interface ProvisionedPollers {
  /** 1..200. AWS's default 1. */
  minimumPollers: number;
  /** minimumPollers..2000. AWS's default 200. */
  maximumPollers: number;
}

export const StartingPosition = {
  latest: "LATEST",
  trimHorizon: "TRIM_HORIZON",
  atTimestamp: "AT_TIMESTAMP",
} as const;
export type StartingPositionName = (typeof StartingPosition)[keyof typeof StartingPosition];

export const EventFlavour = { msk: "msk", selfManaged: "self-managed" } as const;
export type EventFlavourName = (typeof EventFlavour)[keyof typeof EventFlavour];

export interface ErrorControls {
  /** -1 = infinite (capped at 10 with a failure destination), or 0..10 000. */
  maximumRetryAttempts: number;
  /** -1 = infinite, or 60..604 800 s. */
  maximumRecordAgeInSeconds: number;
  bisectBatchOnFunctionError: boolean;
  /** `["ReportBatchItemFailures"]` to honour partial batch responses. */
  functionResponseTypes: "ReportBatchItemFailures"[];
  /** A Kafka topic on the same cluster for records given up on. */
  onFailureTopic?: string;
}

const defaults = {
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0.5,
  startingPosition: StartingPosition.trimHorizon,
  filterCriteria: [] as FilterPattern[],
  eventFlavour: EventFlavour.msk,
  timeoutSeconds: 60,
  memorySizeMb: 1024,
} as const;

/** AWS's defaults for a provisioned mapping's pollers. */
export const defaultProvisionedPollers: ProvisionedPollers = {
  minimumPollers: 1,
  maximumPollers: 200,
};

export type TriggerInput = Partial<Omit<TriggerDeclaration, "errorControls">> & {
  topic: string;
  errorControls?: Partial<ErrorControls>;
};

/** What the local harness calls its "stack": the prefix of default consumer groups. */
export const LOCAL_STACK_NAME = "sensor-windows";

/** The consumer group a function gets when none is declared: stable across restarts. */
export const defaultConsumerGroupId = (functionName: string, stackName = LOCAL_STACK_NAME) =>
  `${stackName}-${functionName}`;

/**
 * Applies the documented defaults and validates every setting, failing with a message that names
 * the setting, the allowed range and the value found.
 */
export const resolveTrigger = (functionName: string, input: TriggerInput): TriggerDeclaration => {
  const t = withDefaults(functionName, input);
  const where = `trigger of ${functionName}:`;
  for (const rule of triggerRules) rule(where, t);
  return t;
};

const withDefaults = (functionName: string, input: TriggerInput): TriggerDeclaration => ({
  ...defaults,
  consumerGroupId: defaultConsumerGroupId(functionName),
  ...stripUndefined({ ...input, errorControls: undefined, provisionedPollers: undefined }),
  topic: input.topic,
  ...(input.provisionedPollers === undefined && input.errorControls === undefined
    ? {}
    : { provisionedPollers: input.provisionedPollers ?? defaultProvisionedPollers }),
  ...(input.errorControls === undefined
    ? {}
    : {
        errorControls: {
          maximumRetryAttempts: -1,
          maximumRecordAgeInSeconds: -1,
          bisectBatchOnFunctionError: false,
          functionResponseTypes: [],
          ...stripUndefined(input.errorControls),
        },
      }),
});

/** One check of a resolved trigger; `where` starts its message. */
type TriggerRule = (where: string, t: TriggerDeclaration) => void;

const isTopicName = (name: string) => TOPIC_NAME.test.test(name);

const topicIsKafkaName: TriggerRule = (where, t) =>
  check(isTopicName(t.topic), `${where} Topic must be a Kafka topic name, got "${t.topic}"`);

const sizesInRange: TriggerRule = (where, t) => {
  checkRange(where, "BatchSize", t.batchSize, 1, 10_000, true);
  checkRange(
    where,
    "MaximumBatchingWindowInSeconds",
    t.maximumBatchingWindowInSeconds,
    0,
    300,
    false,
  );
  checkRange(where, "Timeout", t.timeoutSeconds, 1, 840, true);
  checkRange(where, "MemorySize", t.memorySizeMb, 128, 10_240, true);
};

/**
 * AWS takes the window in whole seconds; 0.5 s is Kafka's default, which only an unset window
 * gives (the template then leaves it out). Refused here, not at deploy time, so what the harness
 * runs is what AWS can run.
 * https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
 */
const batchingWindowInWholeSeconds: TriggerRule = (where, t) => {
  const seconds = t.maximumBatchingWindowInSeconds;
  check(
    seconds === 0.5 || Number.isInteger(seconds),
    `${where} MaximumBatchingWindowInSeconds is whole seconds in AWS (0..300), or 0.5, Kafka's default when unset; got ${seconds}: use ${Math.round(seconds)}`,
  );
};

const pollersInRange: TriggerRule = (where, { provisionedPollers: p }) => {
  if (p === undefined) return;
  checkRange(where, "MinimumPollers", p.minimumPollers, 1, 200, true);
  checkRange(where, "MaximumPollers", p.maximumPollers, p.minimumPollers, 2000, true);
};

const startingPositionKnown: TriggerRule = (where, t) => {
  check(
    Object.values(StartingPosition).includes(t.startingPosition),
    `${where} StartingPosition must be one of LATEST, TRIM_HORIZON, AT_TIMESTAMP, got "${t.startingPosition}"`,
  );
  if (t.startingPosition === StartingPosition.atTimestamp) {
    check(
      Number.isInteger(t.startingPositionTimestamp) && (t.startingPositionTimestamp ?? -1) >= 0,
      `${where} StartingPositionTimestamp (Unix seconds) is required with AT_TIMESTAMP, got ${t.startingPositionTimestamp}`,
    );
  } else {
    check(
      t.startingPositionTimestamp === undefined,
      `${where} StartingPositionTimestamp is only for StartingPosition AT_TIMESTAMP, got it with ${t.startingPosition}: add AT_TIMESTAMP (--starting-position AT_TIMESTAMP) or drop the timestamp`,
    );
  }
};

const consumerGroupIdLength: TriggerRule = (where, t) =>
  check(
    t.consumerGroupId.length > 0 && t.consumerGroupId.length <= 200,
    `${where} ConsumerGroupId must be 1..200 characters, got "${t.consumerGroupId}"`,
  );

const eventFlavourKnown: TriggerRule = (where, t) =>
  check(
    Object.values(EventFlavour).includes(t.eventFlavour),
    `${where} eventFlavour must be msk or self-managed, got "${t.eventFlavour}"`,
  );

const errorControlsInRange: TriggerRule = (where, { errorControls: e }) => {
  if (e === undefined) return;
  checkInfiniteOrRange(where, "MaximumRetryAttempts", e.maximumRetryAttempts, 0, 10_000);
  checkInfiniteOrRange(
    where,
    "MaximumRecordAgeInSeconds",
    e.maximumRecordAgeInSeconds,
    60,
    604_800,
  );
  check(
    e.functionResponseTypes.every((r) => r === "ReportBatchItemFailures"),
    `${where} FunctionResponseTypes may only hold "ReportBatchItemFailures", got ${JSON.stringify(e.functionResponseTypes)}`,
  );
};

const onFailureTopicElsewhere: TriggerRule = (where, t) => {
  const topic = t.errorControls?.onFailureTopic;
  if (topic === undefined) return;
  check(
    isTopicName(topic),
    `${where} on-failure destination must be a Kafka topic name, got "${topic}"`,
  );
  // AWS refuses it, to prevent a loop (kafka-on-failure-destination.html, "No recursion").
  check(
    topic !== t.topic,
    `${where} the on-failure destination "${topic}" is the trigger's own topic, which AWS refuses (records given up on would come back): use another topic`,
  );
};

/** The checks, in the order they run: the first that fails names what is wrong. */
const triggerRules: readonly TriggerRule[] = [
  topicIsKafkaName,
  sizesInRange,
  batchingWindowInWholeSeconds,
  pollersInRange,
  startingPositionKnown,
  consumerGroupIdLength,
  (where, t) => validateFilterCriteria(where, t.filterCriteria),
  eventFlavourKnown,
  errorControlsInRange,
  onFailureTopicElsewhere,
];

const checkRange = (
  where: string,
  name: string,
  value: number,
  min: number,
  max: number,
  integer: boolean,
) =>
  check(
    typeof value === "number" &&
      value >= min &&
      value <= max &&
      (!integer || Number.isInteger(value)),
    `${where} ${name} must be ${integer ? "an integer " : ""}${min}..${max}, got ${value}`,
  );

/** -1 (infinite), or an integer in min..max. */
const checkInfiniteOrRange = (
  where: string,
  name: string,
  value: number,
  min: number,
  max: number,
) =>
  check(
    value === -1 || (Number.isInteger(value) && value >= min && value <= max),
    `${where} ${name} must be -1 or ${min}..${max}, got ${value}`,
  );

const check = (ok: boolean, message: string) => {
  if (!ok) throw new ConfigError(message);
};

const stripUndefined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
