import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildSync } from "esbuild";

const compiled = new Map<string, URL>();

/**
 * A worker thread's TypeScript entry compiled to one JavaScript file, once per process: the
 * thread then runs without tsx, whose loader costs each thread a hooks thread (another V8 isolate:
 * tens of MB) and time at every start.
 * https://nodejs.org/docs/latest-v20.x/api/module.html#customization-hooks
 */
export const compiledWorkerEntry = (source: URL): URL => {
  const found = compiled.get(source.href);
  if (found !== undefined) return found;
  const dir = mkdtempSync(join(tmpdir(), "sensor-windows-worker-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, "entry.mjs");
  const built = buildSync({
    entryPoints: [fileURLToPath(source)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "warning",
  });
  writeFileSync(outfile, built.outputFiles[0]?.contents ?? "");
  const url = pathToFileURL(outfile);
  compiled.set(source.href, url);
  return url;
};
