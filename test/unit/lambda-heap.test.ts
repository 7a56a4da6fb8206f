import { describe, expect, it } from "vitest";
import { lambdaHeap, lambdaHeapFlags } from "../../functions/lambda-heap.ts";

/** As Lambda's Node.js bootstrap sizes the heap: a tenth young (half per semi-space), the rest old. */
describe("the V8 heap Lambda gives a function", () => {
  it.each([
    { memorySizeMb: 128, semiSpaceMb: 6, oldSpaceMb: 116 },
    { memorySizeMb: 1024, semiSpaceMb: 51, oldSpaceMb: 922 },
    { memorySizeMb: 1769, semiSpaceMb: 88, oldSpaceMb: 1593 },
    { memorySizeMb: 10240, semiSpaceMb: 512, oldSpaceMb: 9216 },
  ])("of $memorySizeMb MB: semi-space $semiSpaceMb MB, old space $oldSpaceMb MB", (c) => {
    expect(lambdaHeap(c.memorySizeMb)).toEqual({
      semiSpaceMb: c.semiSpaceMb,
      oldSpaceMb: c.oldSpaceMb,
    });
    expect(lambdaHeapFlags(c.memorySizeMb)).toEqual([
      `--max-semi-space-size=${c.semiSpaceMb}`,
      `--max-old-space-size=${c.oldSpaceMb}`,
    ]);
  });
});
