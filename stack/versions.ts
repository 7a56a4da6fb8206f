/**
 * The versions of the local stack, declared once: the Maven fetch (stack/pom.xml takes it as the
 * `kafka.version` property), the jar check, the progress lines and `--help` all read them.
 * Kafka 3.9.x is the last line that still speaks the old protocol versions kafkajs uses.
 */
export const StackVersions = { kafka: "3.9.1", scala: "2.13" } as const;
