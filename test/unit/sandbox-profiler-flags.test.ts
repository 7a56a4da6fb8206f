import { describe, expect, it } from "vitest";
import { cpuProfilerFlags } from "../../harness/emulator/sandbox-pool.ts";

/** A harness run with `--cpu-prof` profiles its sandboxes too; no other flag of the harness reaches them. */
describe("the flags a sandbox takes from the harness's", () => {
  it.each([
    { harness: [], sandbox: [] },
    { harness: ["--import", "tsx", "--max-old-space-size=512"], sandbox: [] },
    {
      harness: ["--cpu-prof", "--cpu-prof-dir=prof", "--import", "tsx"],
      sandbox: ["--cpu-prof", "--cpu-prof-dir=prof"],
    },
    {
      harness: ["--expose-gc", "--cpu-prof", "--cpu-prof-interval=100"],
      sandbox: ["--cpu-prof", "--cpu-prof-interval=100"],
    },
    { harness: ["--cpu-profile-like-but-not"], sandbox: [] },
  ])("$harness gives $sandbox", ({ harness, sandbox }) => {
    expect(cpuProfilerFlags(harness)).toEqual(sandbox);
  });
});
