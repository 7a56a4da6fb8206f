// The CLI helpers live in lib/ so every command (harness, dashboard, ...) shares them.
export { numberFlag, runCli } from "../../lib/cli-args.ts";
