// The CLI helpers live in lib/ so every command (harness, dashboard, ...) shares them.
export {
  exitOnNext,
  type Flags,
  flagsOrUsage,
  numberFlag,
  runCli,
  untilSignal,
} from "../../lib/cli-args.ts";
