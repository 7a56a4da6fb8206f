import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { BenchChildError } from "../errors.ts";

/** A bench child process: a fresh Node running one script of `bench/children/` through tsx. */
export interface BenchChild<T> {
  pid: number;
  /** Resolves when the child prints its `{"ready": true}` line (if it does). */
  ready: Promise<void>;
  /** The child's last JSON line, once it exits with 0. */
  result: Promise<T>;
  /** Asks the child to finish: closes its stdin, which the children take as "stop now". */
  stop(): void;
}

let profileDir: string | undefined;

/** From now on, every child writes a V8 CPU profile (`--cpu-prof`) into `dir` when it exits. */
export const profileChildrenInto = (dir: string): void => {
  profileDir = dir;
};

/** Whether children are profiled: bundles are then built unminified, so profiles name functions. */
export const profilingChildren = (): boolean => profileDir !== undefined;

/**
 * Starts `bench/children/<script>` in its own process, so that what it measures (RSS, a consumer's
 * throughput) is not mixed with the bench's own work. The child gets `input` as one JSON argument,
 * prints `{"ready": true}` when set up and its result as the last JSON line of stdout; its stderr
 * goes to the bench's.
 */
export const startChild = <T>(
  script: string,
  input: unknown,
  options: { nodeFlags?: readonly string[]; env?: Record<string, string> } = {},
): BenchChild<T> => {
  const path = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      ...(profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`]),
      "--import",
      "tsx",
      path,
      JSON.stringify(input),
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        ...options.env,
      },
    },
  );
  let out = "";
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('{"ready":true}')) markReady();
  });
  const result = new Promise<T>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) {
        reject(
          new BenchChildError(`bench child ${script} exited with ${code ?? signal}: ${out.trim()}`),
        );
        return;
      }
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new BenchChildError(`bench child ${script} printed no result: ${out.trim()}`));
      }
    });
  });
  // A child that dies before it is ready must not leave `ready` waiting forever.
  result.catch(() => {}).finally(markReady);
  return {
    pid: child.pid ?? -1,
    ready,
    result,
    stop: () => child.stdin.end(),
  };
};

/** Runs a child to completion and returns its result. */
export const runChild = <T>(
  script: string,
  input: unknown,
  options: { nodeFlags?: readonly string[]; env?: Record<string, string> } = {},
): Promise<T> => startChild<T>(script, input, options).result;
