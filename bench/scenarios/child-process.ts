import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Runs a bench script in a fresh Node process and returns the JSON it prints last. */
export const runChild = <T>(script: string, args: string[], nodeFlags: string[] = []): Promise<T> =>
  new Promise((resolve, reject) => {
    const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
    const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", path, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("exit", (code) => {
      const line = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0) reject(new Error(`${script} exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as T);
    });
  });
