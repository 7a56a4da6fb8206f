import { parseArgsOrUsageError, runCli } from "../lib/cli-args.ts";
import { readStackEndpoints } from "./endpoints.ts";
import { stackDir, stackStatus, startStack, stopStack } from "./stack.ts";
import { StackVersions } from "./versions.ts";

const HELP = `Usage: npm run stack:<command>   (or: tsx stack/cli.ts <command>)

Runs the local stack on the JVM, no Docker needed:
  Apache Kafka ${StackVersions.kafka} (KRaft, single node)  KAFKA_BROKERS      default localhost:19092
  DynamoDB Local (in memory)               DYNAMODB_ENDPOINT  default http://localhost:8000

Commands:
  up      start what is not answering yet (idempotent), wait until both answer
  down    stop the processes 'up' started, and only those
  status  show each service, its pid and whether it answers (exit 1 if not both)

Jars, data, logs and pid files live in ${stackDir} (git-ignored).
With Docker instead: docker compose up -d   (docker-compose.yml: Redpanda, Console, DynamoDB Local)
`;

// The AWS SDK's Node 20 notice is not news to someone starting a local stack; the README covers it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const main = async () => {
  const { positionals, values } = parseArgsOrUsageError({
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    process.stdout.write(HELP);
    return command === undefined && !values.help ? 2 : 0;
  }
  const endpoints = readStackEndpoints();
  const progress = (line: string) => process.stderr.write(`stack: ${line}\n`);
  switch (command) {
    case "up": {
      const t0 = Date.now();
      const started = await startStack({ endpoints, progress });
      progress(
        started.length === 0
          ? "already up, nothing to do"
          : `up in ${((Date.now() - t0) / 1000).toFixed(1)} s (started ${started.join(", ")})`,
      );
      return 0;
    }
    case "down": {
      const stopped = await stopStack({ endpoints, progress });
      progress(
        stopped.length === 0 ? "nothing of ours was running" : `stopped ${stopped.join(", ")}`,
      );
      return 0;
    }
    case "status": {
      const services = await stackStatus({ endpoints });
      for (const s of services) {
        process.stdout.write(
          `${s.name.padEnd(9)} ${s.address.padEnd(24)} ${s.answers ? "answering" : "NOT answering"}${
            s.pid === undefined
              ? s.answers
                ? " (not started by stack:up)"
                : ""
              : ` (pid ${s.pid})`
          }\n`,
        );
      }
      return services.every((s) => s.answers) ? 0 : 1;
    }
    default:
      process.stderr.write(`unknown command "${command}": use up, down or status (--help)\n`);
      return 2;
  }
};

runCli("stack", main);
