/**
 * The V8 heap Lambda's Node.js runtime gives a function of `memorySizeMb`: its bootstrap
 * (`/var/runtime/bootstrap` in AWS's Node.js base images, github.com/aws/aws-lambda-base-images)
 * starts node with a tenth of the memory for the young generation, half of it per semi-space, and
 * the rest for the old generation:
 * `--max-semi-space-size=$((mem / 10 / 2)) --max-old-space-size=$((mem - mem / 10))`.
 * A function's speed depends on it: with 10 000 sensors a batch's objects outlive Node's default
 * 16 MB semi-space and are copied into the old generation, where a 51 MB one lets them die young.
 */
export interface LambdaHeap {
  semiSpaceMb: number;
  oldSpaceMb: number;
}

export const lambdaHeap = (memorySizeMb: number): LambdaHeap => {
  const newSpaceMb = Math.floor(memorySizeMb / 10);
  return { semiSpaceMb: Math.floor(newSpaceMb / 2), oldSpaceMb: memorySizeMb - newSpaceMb };
};

/** The node flags that give a process the heap Lambda gives a function of `memorySizeMb`. */
export const lambdaHeapFlags = (memorySizeMb: number): string[] => {
  const { semiSpaceMb, oldSpaceMb } = lambdaHeap(memorySizeMb);
  return [`--max-semi-space-size=${semiSpaceMb}`, `--max-old-space-size=${oldSpaceMb}`];
};
