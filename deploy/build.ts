import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { HANDLER_FILE, registeredFunctions } from "../functions/registry.ts";
import { zipFiles } from "./zip.ts";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));

/**
 * One bundle per function: ESM for the Node.js 20/22 Lambda runtimes, minified, with source maps,
 * everything bundled (kafkajs and the pinned AWS SDK v3 included, see README "Deploy"), from
 * `functions/<function>/handler.ts` into `dist/<function>/index.mjs`, plus `dist/<function>.zip`
 * to upload (handler `index.handler`). Every registered function is built (functions/registry.ts).
 */
export const buildFunction = async (name: string, outDir = join(root, "dist")) => {
  const dir = join(outDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(root, "functions", name, HANDLER_FILE)],
    outfile: join(dir, "index.mjs"),
    bundle: true,
    platform: "node",
    target: "node20", // runs on the nodejs20.x and nodejs22.x runtimes; the template uses 22
    format: "esm",
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    // kafkajs and parts of the SDK are CommonJS and `require` Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  const files = ["index.mjs", "index.mjs.map"].map((f) => ({
    name: f,
    data: readFileSync(join(dir, f)),
  }));
  const zip = join(outDir, `${name}.zip`);
  writeFileSync(zip, zipFiles(files));
  return {
    name,
    bundleBytes: statSync(join(dir, "index.mjs")).size,
    zipBytes: statSync(zip).size,
    dir,
    zip,
  };
};

const USAGE = `Usage: npm run build [-- --out DIR]

Bundles each function (${registeredFunctions.map((f) => f.name).join(", ")}) with esbuild into DIR/<function>/index.mjs
(default DIR: dist) and zips it as DIR/<function>.zip, ready for Lambda (handler: index.handler,
runtime nodejs20.x or nodejs22.x). Prints the sizes.
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { out: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
  } else {
    for (const { name } of registeredFunctions) {
      const r = await buildFunction(
        name,
        values.out === undefined ? undefined : resolve(values.out),
      );
      process.stdout.write(
        `${name}: bundle ${(r.bundleBytes / 1024).toFixed(0)} KiB, zip ${(r.zipBytes / 1024).toFixed(0)} KiB -> ${r.zip}\n`,
      );
    }
  }
}
