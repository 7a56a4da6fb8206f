import { ConfigError } from "./errors.ts";

/** A number flag within a range, or its default; a bad value names the flag, the range and the value. */
export const numberFlag = (
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(`--${name} must be a number ${min}..${max}, got "${String(raw)}"`);
  }
  return n;
};

/** Runs a CLI's main, printing a clear message and exiting 1 on error (2 for usage errors). */
export const runCli = (name: string, main: () => Promise<number | undefined>) => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    },
  );
};
