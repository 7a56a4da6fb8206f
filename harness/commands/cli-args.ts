// The CLI helpers live in lib/ so every command (harness, dashboard, ...) shares them.
export { exitOnNext, flagsOrUsage, numberFlag, runCli, untilSignal } from "../../lib/cli-args.ts";
