import { describe, expect, it } from "vitest";
import { OffsetCommitter } from "../../harness/emulator/offset-committer.ts";

/** A committer over a fake broker that refuses the first `refusals` requests. */
const committerWith = (refusals = 0, options: { stopping?: boolean } = {}) => {
  const requests: [number, number][][] = [];
  const committed = new Map<number, number>();
  let refused = 0;
  const committer = new OffsetCommitter({
    send: async (offsets) => {
      requests.push(offsets);
      await new Promise((r) => setTimeout(r, 5));
      if (refused++ < refusals) return false;
      for (const [p, o] of offsets) committed.set(p, o);
      return true;
    },
    backoff: async () => !options.stopping,
    onCommitted: () => {},
  });
  return { committer, requests, committed };
};

describe("the offset committer", () => {
  it("commits in the background, the latest offset of each partition winning", async () => {
    const { committer, requests, committed } = committerWith();
    committer.commit([[0, 10]]);
    committer.commit([
      [0, 20],
      [1, 5],
    ]);
    committer.commit([[0, 15]]); // older than what is pending: ignored
    await committer.flush();
    expect(committed).toEqual(
      new Map([
        [0, 20],
        [1, 5],
      ]),
    );
    // The first request went at once; what came while it was in flight shares the second.
    expect(requests).toEqual([
      [[0, 10]],
      [
        [0, 20],
        [1, 5],
      ],
    ]);
  });

  it("retries a refused request until it lands", async () => {
    const { committer, requests, committed } = committerWith(2);
    committer.commit([[3, 7]]);
    await committer.flush();
    expect(requests).toHaveLength(3);
    expect(committed.get(3)).toBe(7);
  });

  it("gives up when the mapping stops while it waits to retry", async () => {
    const { committer, requests, committed } = committerWith(5, { stopping: true });
    committer.commit([[3, 7]]);
    await committer.flush();
    expect(requests).toHaveLength(1);
    expect(committed.size).toBe(0);
  });

  it("forgets the partitions assigned elsewhere", async () => {
    const { committer, committed } = committerWith();
    committer.commit([[0, 1]]);
    committer.commit([[1, 4]]);
    committer.forget([1]);
    await committer.flush();
    expect(committed).toEqual(new Map([[0, 1]]));
  });
});
