/**
 * Scenarios 1 and 2 in a process of their own, started with the V8 heap Lambda's Node.js runtime
 * gives aggregate-temperatures' declared MemorySize (`functions/lambda-heap.ts`): the handler is
 * measured as Lambda runs it, and the decode floor beside it in the same process, under the same
 * heap. Progress goes to stderr, the rows to stdout.
 */
import { type HandlerScenarioOptions, handlerScenario } from "../scenarios/handler.ts";
import { childInput, reportResult } from "./protocol.ts";

reportResult(await handlerScenario(childInput<HandlerScenarioOptions>()));
