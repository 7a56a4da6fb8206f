import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { registeredFunctions } from "../functions/registry.ts";
import {
  type ErrorControls,
  type EventFlavourName,
  type ProvisionedPollers,
  resolveTrigger,
  type TriggerDeclaration,
} from "../functions/trigger-declaration.ts";
import { templateYaml, withTrigger } from "./template.ts";

/**
 * A trigger declaration with every field away from its default. The unit tests read each field
 * back out of the template rendered from it; `npm run lint:template` lints that template too, so
 * the properties the project's own trigger leaves unset (error controls, provisioned pollers, the
 * on-failure destination, filters, AT_TIMESTAMP) are checked by cfn-lint and SAM as well.
 */
export const everyFieldDeclaration = (flavour: EventFlavourName = "msk"): TriggerDeclaration => {
  const provisionedPollers: Required<ProvisionedPollers> = {
    minimumPollers: 2,
    maximumPollers: 20,
  };
  const errorControls: Required<ErrorControls> = {
    maximumRetryAttempts: 3,
    maximumRecordAgeInSeconds: 3600,
    bisectBatchOnFunctionError: true,
    functionResponseTypes: ["ReportBatchItemFailures"],
    onFailureTopic: "raw-temperature-failed",
  };
  const full: Required<TriggerDeclaration> = {
    topic: "readings",
    batchSize: 500,
    maximumBatchingWindowInSeconds: 2,
    startingPosition: "AT_TIMESTAMP",
    startingPositionTimestamp: 1_700_000_000,
    consumerGroupId: "sensor-windows-shared-group",
    filterCriteria: [{ value: { sensor: [{ prefix: "t-" }] } }],
    eventFlavour: flavour,
    timeoutSeconds: 120,
    memorySizeMb: 2048,
    provisionedPollers,
    errorControls,
  };
  return resolveTrigger("aggregate-temperatures", full);
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined || process.argv.length > 3) {
    process.stderr.write("Usage: tsx deploy/every-field-example.ts OUT.yaml\n");
    process.exit(2);
  }
  writeFileSync(
    out,
    templateYaml(
      withTrigger(registeredFunctions, "aggregate-temperatures", everyFieldDeclaration()),
    ),
  );
}
