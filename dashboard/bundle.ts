import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { DashboardBundleError } from "./errors.ts";

/** A file the server sends as is. */
export interface Asset {
  contentType: string;
  body: Buffer;
}

const pageDir = fileURLToPath(new URL("./page/", import.meta.url));

/**
 * The page, built when the server starts: esbuild bundles the page's TypeScript, uPlot and the CSS
 * from node_modules in memory (a fraction of a second, no network, nothing written to disk), so the page
 * works offline and can never be stale against its source.
 */
export const buildPage = async (): Promise<Map<string, Asset>> => {
  let outputs: { path: string; contents: Uint8Array }[];
  try {
    const result = await build({
      entryPoints: { app: `${pageDir}main.ts` },
      bundle: true,
      write: false,
      outdir: "/dashboard-page",
      format: "iife",
      target: ["chrome110", "firefox110", "safari16"],
      minify: true,
      legalComments: "none",
      logLevel: "silent",
    });
    outputs = result.outputFiles;
  } catch (error) {
    throw new DashboardBundleError(error instanceof Error ? error.message : String(error), error);
  }
  const assets = new Map<string, Asset>([
    [
      "/",
      {
        contentType: "text/html; charset=utf-8",
        body: await readFile(`${pageDir}index.html`),
      },
    ],
  ]);
  for (const file of outputs) {
    const name = basename(file.path);
    assets.set(`/${name}`, {
      contentType: name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript",
      body: Buffer.from(file.contents),
    });
  }
  return assets;
};
