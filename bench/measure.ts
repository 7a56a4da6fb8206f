/** A figure measured over several runs: median, with min and max, as the table shows it. */
export interface Measured {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Median, min and max of `samples`. */
export const summarize = (samples: readonly number[]): Measured => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, runs: samples.length };
};

/** How many times to run a measurement: unmeasured warm-ups first, then measured runs. */
export interface Repetitions {
  warmups: number;
  runs: number;
}

/** Runs `run` `warmups` times unmeasured, then `runs` times, returning each run's figure. */
export const repeat = async (
  { warmups, runs }: Repetitions,
  run: () => Promise<number>,
): Promise<number[]> => {
  for (let i = 0; i < warmups; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await run());
  return samples;
};

/**
 * Runs a figure and its baseline alternately (baseline, figure, baseline, figure...), so that a
 * noisy neighbour slowing the machine for a while slows both: the ratio stays meaningful where the
 * absolute numbers drift. Returns both sets of samples, warm-ups left out.
 */
export const repeatPaired = async (
  repetitions: Repetitions,
  baseline: () => Promise<number>,
  figure: () => Promise<number>,
): Promise<{ baseline: number[]; figure: number[] }> => {
  const out = { baseline: [] as number[], figure: [] as number[] };
  for (let i = 0; i < repetitions.warmups + repetitions.runs; i++) {
    const b = await baseline();
    const f = await figure();
    if (i >= repetitions.warmups) {
      out.baseline.push(b);
      out.figure.push(f);
    }
  }
  return out;
};

/** Records per second for `records` handled in `ms`. */
export const perSecond = (records: number, ms: number): number => (records / ms) * 1000;

/** One row of the results table. */
export interface ResultRow {
  scenario: string;
  case: string;
  metric: string;
  value: Measured;
  baseline?: { name: string; value: Measured };
  /** value / baseline (medians), when a baseline exists. */
  ratio?: number;
  target?: string;
  met?: boolean;
  note?: string;
}

/** A row with its baseline and their ratio (medians). */
export const compared = (
  row: Omit<ResultRow, "baseline" | "ratio">,
  baselineName: string,
  baseline: Measured,
): ResultRow => ({
  ...row,
  baseline: { name: baselineName, value: baseline },
  ratio: row.value.median / baseline.median,
});

/** Numbers as the table shows them: thousands separated, small values with two decimals. */
export const fmt = (n: number): string =>
  Math.abs(n) >= 1000
    ? Math.round(n).toLocaleString("en-US")
    : Math.abs(n) >= 10
      ? n.toFixed(0)
      : n.toFixed(2);

/** `1,000`: counts and sizes in labels. */
export const count = (n: number): string => n.toLocaleString("en-US");

/** A progress line for the person watching, on stderr (stdout carries the table). */
export const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** The results as a Markdown table. */
export const resultTable = (rows: readonly ResultRow[]): string =>
  [
    "| scenario | case | metric | median | min..max | runs | baseline (median) | ratio | target | met |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...rows
      .map((r) =>
        [
          r.scenario,
          r.note ? `${r.case} (${r.note})` : r.case,
          r.metric,
          fmt(r.value.median),
          `${fmt(r.value.min)}..${fmt(r.value.max)}`,
          String(r.value.runs),
          r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value.median)}` : "",
          r.ratio === undefined ? "" : `${(r.ratio * 100).toFixed(0)}%`,
          r.target ?? "",
          r.met === undefined ? "" : r.met ? "yes" : "**no**",
        ].join(" | "),
      )
      .map((line) => `| ${line} |`),
  ].join("\n");
