import { type ParseArgsConfig, parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";

/**
 * A number flag within a range, or its default; a bad value names the flag, the range and the
 * value. `integer`: whole numbers only (counts, sizes).
 */
export const numberFlag = (
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  min: number,
  max: number,
  options: { integer?: boolean } = {},
): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  const kind = options.integer ? "a whole number" : "a number";
  if (
    typeof raw !== "string" ||
    raw.trim() === "" ||
    !Number.isFinite(n) ||
    (options.integer && !Number.isInteger(n)) ||
    n < min ||
    n > max
  ) {
    throw new ConfigError(`--${name} must be ${kind} ${min}..${max}, got "${String(raw)}"`);
  }
  return n;
};

const HELP = { help: { type: "boolean", short: "h" } } as const;
type FlagOptions = NonNullable<ParseArgsConfig["options"]>;
/** The values of a CLI's flags, as `flagsOrUsage` returns them. */
export type Flags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ options: O }>>["values"];

/**
 * Parses a CLI's flags, `options` plus `-h`/`--help`; with `--help`, prints `usage` to stdout and
 * returns undefined (the CLI then exits 0).
 */
export const flagsOrUsage = <const O extends FlagOptions>(
  options: O,
  usage: string,
): Flags<O> | undefined => {
  const { values } = parseArgsOrUsageError({ options: { ...options, ...HELP } });
  if ((values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return undefined;
  }
  return values as Flags<O>;
};

/**
 * `parseArgs`, its refusals (an unknown flag, a missing value, a stray argument) turned into a
 * `ConfigError` pointing at `--help`: a usage error, exit code 2, no stack trace.
 */
export const parseArgsOrUsageError = <const C extends ParseArgsConfig>(config: C) => {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    if (!code.startsWith("ERR_PARSE_ARGS_")) throw error;
    throw new ConfigError(`${(error as Error).message} (--help lists the options)`);
  }
};

/**
 * Resolves at the first SIGINT or SIGTERM. `onSignal` runs at that signal and, as the listener for
 * the other one stays, at the other signal too.
 */
export const untilSignal = (onSignal: (signal: NodeJS.Signals) => void = () => {}) =>
  new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const)
      process.once(signal, () => {
        onSignal(signal);
        resolve();
      });
  });

const EXIT_CODE = { SIGINT: 130, SIGTERM: 143 } as const;

/** From now on, the next of `signals` exits at once, with the shell's code for it. */
export const exitOnNext = (...signals: readonly (keyof typeof EXIT_CODE)[]) => {
  for (const signal of signals) process.once(signal, () => process.exit(EXIT_CODE[signal]));
};

/** Runs a CLI's main, printing a clear message and exiting 1 on error (2 for usage errors). */
export const runCli = (name: string, main: () => Promise<number | undefined>) => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  main().then(
    (code) => process.exit(code ?? 0),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${name}: ${message}${unreachableHint(message)}\n`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    },
  );
};

/**
 * The way out when a service did not answer (a refused or unresolvable address, a connection
 * that timed out): most often the local stack is down, or the address is wrong.
 */
const unreachableHint = (message: string): string =>
  /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|Connection (error|timeout)/i.test(message)
    ? " (nothing answers there: npm run stack:status shows the local stack, npm run stack:up starts it; KAFKA_BROKERS or --brokers and DYNAMODB_ENDPOINT name other services)"
    : "";
