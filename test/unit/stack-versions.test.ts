import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { StackVersions } from "../../stack/versions.ts";

describe("the local stack's versions are declared once", () => {
  it("stack/pom.xml's defaults (for a hand-run mvn) equal stack/versions.ts", () => {
    const pom = readFileSync(new URL("../../stack/pom.xml", import.meta.url), "utf8");
    expect(pom).toContain(`<kafka.version>${StackVersions.kafka}</kafka.version>`);
    expect(pom).toContain(`<scala.binary>${StackVersions.scala}</scala.binary>`);
  });
});
