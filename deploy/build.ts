import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { deflateRawSync } from "node:zlib";
import { build } from "esbuild";
import { HANDLER_FILE, registeredFunctions } from "../functions/registry.ts";
import { flagsOrUsage, runCli } from "../lib/cli-args.ts";

const root = resolve(fileURLToPath(new URL("..", import.meta.url)));

/**
 * What the files weigh DEFLATE-compressed, as in the zip SAM uploads (Lambda's limit is 50 MB
 * zipped: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
const compressedSize = (dir: string, files: readonly string[]): number =>
  files.reduce((n, f) => n + deflateRawSync(readFileSync(join(dir, f))).length, 0);

/**
 * One bundle per function: ESM for the Node.js 20/22 Lambda runtimes, minified, with source maps,
 * everything bundled (kafkajs and the pinned AWS SDK v3 included, see README "Deploy"), from
 * `functions/<function>/handler.ts` into `dist/<function>/index.mjs` (handler `index.handler`),
 * the folder the template's CodeUri names. Every registered function is built (functions/registry.ts).
 */
export const buildFunction = async (
  name: string,
  outDir = join(root, "dist"),
  // Unminified, a CPU profile names the bundle's functions (the bench's `--cpu-prof`).
  options: { minify: boolean } = { minify: true },
) => {
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
    minify: options.minify,
    // Error classes keep their names (`StateConflictError`, not a minified letter): logs and the
    // failure records say what failed, and errors crossing from the harness's shared-instances
    // thread are recognised by name. https://esbuild.github.io/api/#keep-names
    keepNames: true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    // kafkajs and parts of the SDK are CommonJS and `require` Node built-ins.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return {
    name,
    bundleBytes: statSync(join(dir, "index.mjs")).size,
    compressedBytes: compressedSize(dir, ["index.mjs", "index.mjs.map"]),
    dir,
  };
};

const USAGE = `Usage: npm run build [-- --out DIR]

Bundles each function (${registeredFunctions.map((f) => f.name).join(", ")}) with esbuild into DIR/<function>/index.mjs
(default DIR: dist), ready for Lambda (handler: index.handler, runtime nodejs20.x or nodejs22.x):
SAM zips each folder itself when it deploys (CodeUri). Prints the sizes, compressed as the upload
will be.
`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runCli("build", async () => {
    const values = flagsOrUsage({ out: { type: "string" } }, USAGE);
    if (values === undefined) return 0;
    for (const { name } of registeredFunctions) {
      const r = await buildFunction(
        name,
        values.out === undefined ? undefined : resolve(values.out),
      );
      process.stdout.write(
        `${name}: bundle ${(r.bundleBytes / 1024).toFixed(0)} KiB, about ${(r.compressedBytes / 1024).toFixed(0)} KiB compressed -> ${r.dir}\n`,
      );
    }
    return 0;
  });
}
