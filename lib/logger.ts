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
}

export interface LoggerOptions {
  level?: LogLevelName;
  /** Where lines go; defaults to stderr so stdout stays free for program output. */
  write?: (line: string) => void;
  fields?: LogFields;
}

/** Parses `LOG_LEVEL`; unknown values fall back to `info` rather than silencing logs. */
export const parseLogLevel = (raw: string | undefined): LogLevelName =>
  raw !== undefined && raw in LogLevel ? (raw as LogLevelName) : "info";

/** Creates a JSON-lines logger. Errors in fields are expanded to name, message and cause. */
export const createLogger = (options: LoggerOptions = {}): Logger => {
  const threshold = LogLevel[options.level ?? parseLogLevel(process.env.LOG_LEVEL)];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.fields ?? {};
  const emit = (level: Exclude<LogLevelName, "silent">, message: string, fields?: LogFields) => {
    if (LogLevel[level] < threshold) return;
    const line = { time: new Date().toISOString(), level, message, ...base, ...fields };
    write(JSON.stringify(line, replaceErrors));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
};

const replaceErrors = (_key: string, value: unknown): unknown =>
  value instanceof Error
    ? { name: value.name, message: value.message, cause: value.cause, stack: value.stack }
    : value;

/** A logger that drops everything: for tests and benchmarks. */
export const silentLogger: Logger = createLogger({ level: "silent" });
