import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { defaultStackEndpoints } from "../../stack/endpoints.ts";

interface Service {
  image: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
}
const compose = parse(
  readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8"),
) as {
  services: Record<string, Service>;
};
const service = (name: string): Service => {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const kafkaPort = defaultStackEndpoints.kafkaBrokers.split(":")[1];
const dynamodbPort = new URL(defaultStackEndpoints.dynamodbEndpoint).port;

describe("docker-compose.yml (for users with Docker) matches the JVM stack", () => {
  it("has Redpanda, its Console and DynamoDB Local", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["console", "dynamodb-local", "redpanda"]);
  });

  it.each(["redpanda", "console", "dynamodb-local"])(
    "pins the image of %s to an exact version",
    (name) => {
      expect(service(name).image).toMatch(/:v?\d+\.\d+\.\d+$/);
    },
  );

  it("serves the Kafka API on the same host port as stack:up, advertised for the host", () => {
    const redpanda = service("redpanda");
    expect(redpanda.ports).toContain(`${kafkaPort}:${kafkaPort}`);
    expect(redpanda.command?.join(" ")).toContain(`external://localhost:${kafkaPort}`);
    expect(redpanda.command?.join(" ")).toMatch(/--mode dev-container --smp 1/);
    expect(redpanda.command?.join(" ")).toContain("auto_create_topics_enabled=false");
  });

  it("serves the Console on 8080, reading Redpanda's internal listener", () => {
    expect(service("console").ports).toContain("8080:8080");
    expect(service("console").environment?.KAFKA_BROKERS).toBe("redpanda:9092");
  });

  it("serves DynamoDB Local in memory on the same port as stack:up", () => {
    const dynamodb = service("dynamodb-local");
    expect(dynamodb.ports).toContain(`${dynamodbPort}:${dynamodbPort}`);
    expect(dynamodb.command).toEqual(
      expect.arrayContaining(["-inMemory", "-sharedDb", "-port", dynamodbPort]),
    );
  });
});
