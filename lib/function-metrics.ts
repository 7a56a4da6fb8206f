/**
 * Counters a function adds to as it works (records, windows, late readings, dead letters...).
 *
 * In Lambda each line of {@link writeEmbeddedMetrics} is a CloudWatch Embedded Metric Format
 * record, which CloudWatch turns into metrics without any API call
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * {@link addMetrics} adds to an accumulator per thread, as a function's execution environment
 * would keep it: in the local harness each sandbox (a worker thread) drains its function's
 * counters after every invocation ({@link drainMetrics}) and sends them back with the result.
 * Totals over many invocations are the harness's own (`Harness.metrics`), never read from here:
 * several harnesses in one process (tests, benchmarks) each count only what they invoked.
 */
export type Counters = Record<string, number>;

/**
 * On `globalThis` under a registered symbol, so that every copy of this module in a thread adds to
 * the same accumulator: a bundled function (`npm run build`) carries its own copy.
 */
const ACCUMULATED = Symbol.for("sensor-windows.function-metrics");
const slots = globalThis as { [ACCUMULATED]?: Map<string, Counters> };
slots[ACCUMULATED] ??= new Map<string, Counters>();
const accumulated = slots[ACCUMULATED];

/** `counters` added to `into`, name by name (`into` is modified and returned). */
export const sumCounters = (into: Counters, counters: Readonly<Counters>): Counters => {
  for (const [name, value] of Object.entries(counters)) into[name] = (into[name] ?? 0) + value;
  return into;
};

/** Adds `counters` to what `functionName` has added in this thread since it was last drained. */
export const addMetrics = (functionName: string, counters: Counters): void => {
  accumulated.set(functionName, sumCounters(accumulated.get(functionName) ?? {}, counters));
};

/**
 * What `functionName` has added in this thread since the last drain, taken away: the next drain
 * starts from zero. Empty when it added nothing.
 */
export const drainMetrics = (functionName: string): Counters => {
  const drained = accumulated.get(functionName) ?? {};
  accumulated.delete(functionName);
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
