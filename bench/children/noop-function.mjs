// A Kafka-triggered function that does nothing: run in the harness's sandboxes, it measures what
// the harness itself costs (polling, building events, handing them to a sandbox). Plain JavaScript,
// like a bundle, so its sandbox loads no TypeScript.
export const handler = async () => {};
