import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { windowStartFor } from "../../core/window-spec.ts";

/** The definition: the remainder brought into [0, size), for any time, before the epoch too. */
const byDefinition = (eventTime: number, sizeMs: number) =>
  eventTime - (((eventTime % sizeMs) + sizeMs) % sizeMs);

describe("windowStartFor", () => {
  it("is the definition's start for any time and size", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -4e12, max: 4e12 }),
          fc.maxSafeInteger(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.constantFrom(-0, 0, -1, 9_999, 10_000, -10_000, -10_001),
        ),
        fc.oneof(
          fc.constantFrom(10_000, 1, 60_000),
          fc.integer({ min: 1, max: 1e9 }),
          fc.double({ min: 0.001, max: 1e6, noNaN: true }),
        ),
        (eventTime, sizeMs) => {
          expect(windowStartFor(eventTime, { sizeMs, graceMs: 0 })).toBe(
            byDefinition(eventTime, sizeMs),
          );
        },
      ),
      { numRuns: 5_000 },
    );
  });
});
