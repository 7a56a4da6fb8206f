import { readFileSync } from "node:fs";

/*
 * The child side of `bench/scenarios/child-process.ts`: input as one JSON argument, `{"ready":true}`
 * once set up, the result as the last JSON line of stdout, and stdin closed as the request to stop.
 */

/** The JSON argument the bench passed. */
export const childInput = <T>(): T => JSON.parse(process.argv[2] ?? "{}") as T;

/** Tells the bench the child is set up (e.g. its consumer group joined). */
export const reportReady = () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`);

/** Prints the result and exits: open Kafka connections must not keep the child alive. */
export const reportResult = (result: unknown): void => {
  // Exit in the write callback, once stdout has taken the line.
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
};

/** Resolves when the bench closes stdin (asks the child to stop). */
export const stopRequested = (): Promise<void> =>
  new Promise((resolve) => {
    process.stdin.resume();
    process.stdin.once("end", resolve);
    process.stdin.once("close", resolve);
  });

/** The peak resident set size of this process so far, MB (Linux `VmHWM`, else current RSS). */
export const peakRssMb = (): number => {
  try {
    const hwm = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    if (hwm !== undefined) return Number(hwm) / 1024;
  } catch {
    // not Linux
  }
  return process.memoryUsage().rss / 2 ** 20;
};

/** The current resident set size, MB. */
export const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
