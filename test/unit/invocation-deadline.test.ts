import { describe, expect, it } from "vitest";
import { invocationDeadline } from "../../functions/invocation-deadline.ts";

describe("invocationDeadline: the function timeout, less a margin to return in", () => {
  it("is 2 s before the time Lambda's context says is left", () => {
    const before = Date.now();
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 60_000 }) as number;
    expect(deadline).toBeGreaterThanOrEqual(before + 58_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 58_000);
  });

  it.each([
    ["no context", undefined],
    ["a context without getRemainingTimeInMillis", {}],
  ])("is undefined with %s", (_name, context) => {
    expect(invocationDeadline(context)).toBeUndefined();
  });
});
