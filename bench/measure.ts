/** A figure measured over several runs: median, with min and max, as the table shows it. */
export interface Measured {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export const summarize = (samples: number[]): Measured => {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0, runs: samples.length };
};

/** Runs `run` `warmups` times unmeasured, then `runs` times, returning each run's figure. */
export const repeat = async (
  warmups: number,
  runs: number,
  run: () => Promise<number>,
): Promise<number[]> => {
  for (let i = 0; i < warmups; i++) await run();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(await run());
  return samples;
};

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

export const fmt = (n: number): string =>
  Math.abs(n) >= 1000
    ? Math.round(n).toLocaleString("en-US")
    : n >= 10
      ? n.toFixed(0)
      : n.toFixed(2);

export const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);
