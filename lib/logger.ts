/**
 * Structured JSON logs, one object per line: what CloudWatch Logs Insights and `jq` read best.
 * Lambda adds its own request id to each line, so we only add what Lambda can't know.
 */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevelName = keyof typeof LogLevel;

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /**
   * Writes a line another logger already formatted (a sandbox's) to this logger's destination, if
   * its level passes this logger's threshold.
   */
  write(line: string, level: Exclude<LogLevelName, "silent">): void;
}

export interface LoggerOptions {
  level?: LogLevelName;
  /** Where lines go; defaults to {@link setDefaultLogDestination}'s, stderr unless changed. */
  write?: (line: string) => void;
  fields?: LogFields;
}

/** Parses `LOG_LEVEL`; unknown values fall back to `info` rather than silencing logs. */
export const parseLogLevel = (raw: string | undefined): LogLevelName =>
  raw !== undefined && raw in LogLevel ? (raw as LogLevelName) : "info";

type LogDestination = (line: string, level: Exclude<LogLevelName, "silent">) => void;

/** Stderr, so stdout stays free for program output. */
const toStderr: LogDestination = (line) => process.stderr.write(`${line}\n`);

/**
 * The default destination lives on `globalThis` under a registered symbol, so that every copy of
 * this module in a thread shares it: a bundled function (`npm run build`) carries its own copy.
 */
const DESTINATION = Symbol.for("sensor-windows.log-destination");
const slots = globalThis as { [DESTINATION]?: LogDestination };

/**
 * Where loggers created without `write` send their lines, from now on (loggers already created
 * follow). A harness sandbox sends them to the harness, which writes them where its own lines go.
 */
export const setDefaultLogDestination = (destination: LogDestination): void => {
  slots[DESTINATION] = destination;
};

/** Creates a JSON-lines logger. Errors in fields are expanded to name, message and cause. */
export const createLogger = (options: LoggerOptions = {}): Logger => {
  const threshold = LogLevel[options.level ?? parseLogLevel(process.env.LOG_LEVEL)];
  const custom = options.write;
  const write: LogDestination = custom
    ? (line) => custom(line)
    : (line, level) => (slots[DESTINATION] ?? toStderr)(line, level);
  const base = options.fields ?? {};
  const emit = (level: Exclude<LogLevelName, "silent">, message: string, fields?: LogFields) => {
    if (LogLevel[level] < threshold) return;
    const line = { time: new Date().toISOString(), level, message, ...base, ...fields };
    write(JSON.stringify(line, replaceErrors), level);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
    write: (line, level) => {
      if (LogLevel[level] >= threshold) write(line, level);
    },
  };
};

const replaceErrors = (_key: string, value: unknown): unknown =>
  value instanceof Error
    ? { name: value.name, message: value.message, cause: value.cause, stack: value.stack }
    : value;

/** A logger that drops everything: for tests and benchmarks. */
export const silentLogger: Logger = createLogger({ level: "silent" });
