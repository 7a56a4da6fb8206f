import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FunctionFolderError, UnknownFunctionError } from "./errors.ts";
import {
  type FunctionDeclaration,
  FunctionKind,
  type KafkaFunctionDeclaration,
  type ScheduledFunctionDeclaration,
} from "./function-declaration.ts";
import type { KafkaHandler } from "./kafka-trigger-event.ts";

/*
 * Every function of the project, in one list: the folders under functions/ that hold a
 * function.ts. The harness runs them from here, `npm run build` bundles each one's handler.ts and
 * `npm run template` deploys them; nothing else lists them. Handlers are imported only when asked
 * for: importing one reads its configuration from the environment, as a Lambda cold start does.
 */

/** A scheduled function's handler: EventBridge's event in, whatever the run reports out. */
export type ScheduledHandler = (event?: unknown) => Promise<unknown>;

interface Registered {
  /** The function's folder. */
  dir: string;
  /** Its Lambda entry point, `handler.ts`, exporting `handler`: what the bundle is built from. */
  handlerFile: string;
}
export type RegisteredKafkaFunction = KafkaFunctionDeclaration &
  Registered & { loadHandler(): Promise<KafkaHandler> };
export type RegisteredScheduledFunction = ScheduledFunctionDeclaration &
  Registered & { loadHandler(): Promise<ScheduledHandler> };
export type RegisteredFunction = RegisteredKafkaFunction | RegisteredScheduledFunction;

/** The folder holding one folder per function. */
export const FUNCTIONS_DIR = fileURLToPath(new URL(".", import.meta.url));
export const DECLARATION_FILE = "function.ts";
export const HANDLER_FILE = "handler.ts";

/**
 * The functions declared under `dir`, by name: each folder with a function.ts exporting
 * `declaration` (`kafkaFunction(...)` or `scheduledFunction(...)`, functions/function-declaration.ts)
 * named like its folder, next to a handler.ts. Folders without function.ts (the testing kit) are
 * not functions.
 */
export const discoverFunctions = async (dir = FUNCTIONS_DIR): Promise<RegisteredFunction[]> => {
  // existsSync follows links: a function folder may be a symbolic link to one.
  const folders = readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, DECLARATION_FILE)))
    .sort();
  const found: RegisteredFunction[] = [];
  for (const folder of folders) {
    const file = join(dir, folder, DECLARATION_FILE);
    const declaration = (await import(pathToFileURL(file).href)).declaration as
      | FunctionDeclaration
      | undefined;
    if (
      declaration === undefined ||
      !(Object.values(FunctionKind) as string[]).includes(declaration.kind)
    ) {
      throw new FunctionFolderError(
        `${file} must export \`declaration\`: kafkaFunction({...}) or scheduledFunction({...}) from functions/function-declaration.ts`,
      );
    }
    if (declaration.name !== folder) {
      throw new FunctionFolderError(
        `${file} declares "${declaration.name}" in the folder "${folder}": a function is named after its folder`,
      );
    }
    const handlerFile = join(dir, folder, HANDLER_FILE);
    if (!existsSync(handlerFile)) {
      throw new FunctionFolderError(
        `${folder} has no ${HANDLER_FILE}: the Lambda entry point, exporting \`handler\``,
      );
    }
    const loadHandler = async () => {
      const handler = (await import(pathToFileURL(handlerFile).href)).handler;
      if (typeof handler !== "function") {
        throw new FunctionFolderError(`${handlerFile} must export \`handler\`, a function`);
      }
      return handler;
    };
    found.push({ ...declaration, dir: join(dir, folder), handlerFile, loadHandler } as never);
  }
  return found;
};

/** Every function under functions/, by name. */
export const registeredFunctions: readonly RegisteredFunction[] = await discoverFunctions();

export const isKafkaFunction = <F extends { kind: string }>(
  f: F,
): f is Extract<F, { kind: typeof FunctionKind.kafka }> => f.kind === FunctionKind.kafka;

export const kafkaFunctions = (
  functions: readonly RegisteredFunction[] = registeredFunctions,
): RegisteredKafkaFunction[] => functions.filter(isKafkaFunction);

export const scheduledFunctions = (
  functions: readonly RegisteredFunction[] = registeredFunctions,
): RegisteredScheduledFunction[] =>
  functions.filter((f): f is RegisteredScheduledFunction => f.kind === FunctionKind.scheduled);

/** The Kafka-triggered function called `name`; an `UnknownFunctionError` listing them otherwise. */
export const kafkaFunctionNamed = (
  name: string,
  functions: readonly RegisteredFunction[] = registeredFunctions,
): RegisteredKafkaFunction => {
  const all = kafkaFunctions(functions);
  const found = all.find((f) => f.name === name);
  if (found === undefined)
    throw new UnknownFunctionError(
      name,
      "Kafka-triggered",
      all.map((f) => f.name),
    );
  return found;
};

/** The scheduled function called `name`; an `UnknownFunctionError` listing them otherwise. */
export const scheduledFunctionNamed = (
  name: string,
  functions: readonly RegisteredFunction[] = registeredFunctions,
): RegisteredScheduledFunction => {
  const all = scheduledFunctions(functions);
  const found = all.find((f) => f.name === name);
  if (found === undefined)
    throw new UnknownFunctionError(
      name,
      "scheduled",
      all.map((f) => f.name),
    );
  return found;
};

/** `alert-on-threshold` → `AlertOnThreshold`: the prefix of the function's template resources. */
export const logicalIdOf = (name: string): string =>
  name
    .split("-")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
