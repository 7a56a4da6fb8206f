// The entry of every harness sandbox (a worker thread). A worker does not inherit the loader tsx
// installed in the harness's thread (on Node 20, not even through execArgv's --import), so it
// registers tsx itself before importing the sandbox runtime and, through it, the function's
// TypeScript modules. Harmless for a bundled (.mjs) handler.
// https://tsx.is/dev-api/register-esm
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.runtime);
