/**
 * Counters a function adds to as it works (records, windows, late readings, dead letters...).
 *
 * In Lambda each line of {@link emitMetrics} is a CloudWatch Embedded Metric Format record, which
 * CloudWatch turns into metrics without any API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * In the local harness, which runs handlers in its own process, `functionMetrics` is read directly.
 */
export type Counters = Record<string, number>;

const totals = new Map<string, Counters>();

/** Adds `counters` to the running totals of `functionName`. */
export const addMetrics = (functionName: string, counters: Counters): void => {
  const current = totals.get(functionName) ?? {};
  for (const [name, value] of Object.entries(counters))
    current[name] = (current[name] ?? 0) + value;
  totals.set(functionName, current);
};

/** The running totals of one function in this process (a copy). */
export const functionMetrics = (functionName: string): Counters => ({
  ...totals.get(functionName),
});

/** One EMF line for one invocation's counters, to write to stdout. */
export const embeddedMetricLine = (
  functionName: string,
  counters: Counters,
  now = Date.now(),
): string =>
  JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: "SensorWindows",
          Dimensions: [["FunctionName"]],
          Metrics: Object.keys(counters).map((Name) => ({ Name, Unit: "Count" })),
        },
      ],
    },
    FunctionName: functionName,
    ...counters,
  });

/**
 * In Lambda, writes one EMF line for an invocation's counters under the deployed function's name
 * (`AWS_LAMBDA_FUNCTION_NAME`): two stacks never mix their metrics, and the template's alarms find
 * them by that name. Elsewhere (the harness, tests) writes nothing.
 */
export const writeEmbeddedMetrics = (
  counters: Counters,
  env: Readonly<Record<string, string | undefined>> = process.env,
  write: (line: string) => void = (line) => process.stdout.write(line),
): void => {
  const deployedName = env.AWS_LAMBDA_FUNCTION_NAME;
  if (deployedName !== undefined) write(`${embeddedMetricLine(deployedName, counters)}\n`);
};
