/**
 * Counters a function adds to as it works (records, windows, late readings, dead letters...).
 *
 * In Lambda each line of {@link emitMetrics} is a CloudWatch Embedded Metric Format record, which
 * CloudWatch turns into metrics without any API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * In the local harness each invocation runs in a sandbox (a worker thread), which drains its
 * counters after every invocation ({@link drainMetrics}) and sends them back with the result; the
 * harness adds them to its own totals, which its status line reads with `functionMetrics`.
 */
export type Counters = Record<string, number>;

/**
 * On `globalThis` under a registered symbol, so that every copy of this module in a thread adds to
 * the same totals: a bundled function (`npm run build`) carries its own copy.
 */
const TOTALS = Symbol.for("sensor-windows.function-metrics");
const slots = globalThis as { [TOTALS]?: Map<string, Counters> };
slots[TOTALS] ??= new Map<string, Counters>();
const totals = slots[TOTALS];

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

/** The running totals of every function in this thread, taken away: the next ones start from zero. */
export const drainMetrics = (): Record<string, Counters> => {
  const drained = Object.fromEntries(totals);
  totals.clear();
  return drained;
};

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
