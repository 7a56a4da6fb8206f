import { ConfigError } from "../lib/errors.ts";

/**
 * `npm run new-function` refused: a name that is not a function name, a folder that exists, a topic
 * Kafka would refuse, or a function the template can't deploy beside the others. A usage error,
 * never retryable: the message says what to change. Nothing is left behind.
 */
export class NewFunctionError extends ConfigError {}
