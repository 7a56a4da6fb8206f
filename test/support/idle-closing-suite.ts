import { describe, expect, it } from "vitest";
import type { TemperatureState } from "../../core/temperature-aggregation.ts";
import { SweepPartitionsError } from "../../functions/errors.ts";
import type { WindowStateStore } from "../../functions/partition-step.ts";
import type { RecordSink } from "../../functions/record-sink.ts";
import { createSweepHandler } from "../../functions/sweep-idle-windows/sweep-handler.ts";
import { MemoryRecordSink } from "../../functions/testing/memory-record-sink.ts";
import { silentLogger } from "../../lib/logger.ts";
import { CLAIM_LEASE_MS } from "../../state/window-state-store.ts";
import { aggregateWith, rulesWith, TOPICS } from "./aggregate-handler-suite.ts";
import { mskEvent, readingRecord } from "./trigger-events.ts";

export type IdleStoreFactory = () => Promise<WindowStateStore<TemperatureState>>;

const IDLE_MS = 30_000;
/** Event time and wall clock start together, as for a live sensor. */
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

/** A store whose commits wait until two loads happened, so two callers read the same version. */
const bothReadBeforeAnyWrite = <S>(inner: WindowStateStore<S>): WindowStateStore<S> => {
  let loads = 0;
  let release: () => void = () => {};
  const bothLoaded = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    async load(id) {
      const loaded = await inner.load(id);
      if (++loads === 2) release();
      return loaded;
    },
    readOutputs: (id, entries) => inner.readOutputs(id, entries),
    findPartitionsIdle: (now) => inner.findPartitionsIdle(now),
    markEmitted: (id, seqs, after) => inner.markEmitted(id, seqs, after),
    markProduced: (id, seq, produced) => inner.markProduced(id, seq, produced),
    async commit(id, change) {
      await bothLoaded;
      return inner.commit(id, change);
    },
  };
};

/** A wall clock the test moves by hand. */
const fakeClock = (start: number) => {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
};

interface WindowOut {
  sensor: string;
  start: number;
  closedBy: string;
  temperature: { count: number };
}

/**
 * Idle closing (`IDLE_TIMEOUT_MS`) over a state store: the last window of a sensor that stops
 * sending is emitted once, by the sweep, after the timeout, and the decision holds afterwards.
 */
export const describeIdleClosing = (storeName: string, newStore: IdleStoreFactory) => {
  describe(`idle closing over the ${storeName} store`, () => {
    const setup = async () => {
      const rules = rulesWith();
      const store = await newStore();
      const sink = new MemoryRecordSink();
      const clock = fakeClock(T0);
      const aggregate = aggregateWith(store, sink, rules, {
        now: clock.now,
        idleTimeoutMs: IDLE_MS,
      });
      const sweep = createSweepHandler({
        rules,
        store,
        sink,
        topics: TOPICS,
        idleTimeoutMs: IDLE_MS,
        logger: silentLogger,
        now: clock.now,
      });
      const windows = () => sink.values<WindowOut>(TOPICS.windows);
      return { store, sink, clock, aggregate, sweep, windows };
    };
    const readings = (times: number[], firstOffset = 0) =>
      times.map((dt, i) =>
        readingRecord({ sensor: "Quiet", ts: T0 + dt, offset: firstOffset + i, value: 20 + i }),
      );

    it("emits the last window of a sensor that stopped sending once the timeout passed, marked idle", async () => {
      const { clock, aggregate, sweep, windows } = await setup();
      await aggregate(mskEvent(readings([1_000, 2_000, 12_000])));
      expect(windows().map((w) => [w.start - T0, w.closedBy])).toEqual([[0, "stream-time"]]);

      clock.advance(IDLE_MS - 1);
      expect(await sweep()).toMatchObject({ windowsClosed: 0 });
      clock.advance(1);
      expect(await sweep()).toMatchObject({
        partitionsDue: 1,
        windowsClosed: 1,
        windowsEmitted: 1,
      });
      expect(windows().map((w) => [w.start - T0, w.closedBy, w.temperature.count])).toEqual([
        [0, "stream-time", 2],
        [10_000, "idle", 1],
      ]);
      clock.advance(60_000);
      expect(await sweep()).toMatchObject({ windowsEmitted: 0 });
      expect(windows()).toHaveLength(2);
    });

    it("does not close a window whose end + grace is still ahead of the wall clock", async () => {
      const { clock, aggregate, sweep, windows } = await setup();
      // Event time runs a minute ahead of the wall clock.
      await aggregate(mskEvent(readings([60_000])));
      clock.advance(IDLE_MS);
      expect(await sweep()).toMatchObject({ windowsClosed: 0 });
      clock.advance(41_000);
      expect(await sweep()).toMatchObject({ windowsClosed: 1 });
      expect(windows()).toHaveLength(1);
    });

    it("makes a reading that arrives later for the closed window late, and a replay emits nothing", async () => {
      const { clock, aggregate, sweep, windows, sink } = await setup();
      const first = mskEvent(readings([1_000, 2_000]));
      await aggregate(first);
      clock.advance(IDLE_MS);
      await sweep();
      const summary = await aggregate(mskEvent(readings([3_000], 2)));
      expect(summary.late).toBe(1);
      expect(sink.values(TOPICS.late)).toEqual([
        expect.objectContaining({ windowStart: T0, lateByMs: 0 }),
      ]);
      await aggregate(first);
      expect(windows().map((w) => [w.start - T0, w.closedBy, w.temperature.count])).toEqual([
        [0, "idle", 2],
      ]);
    });

    it("emits exactly once when the sweep and a batch race for the same sensor", async () => {
      const { store, sink, clock, windows } = await setup();
      await aggregateWith(store, sink, rulesWith(), { now: clock.now, idleTimeoutMs: IDLE_MS })(
        mskEvent(readings([1_000])),
      );
      clock.advance(IDLE_MS);
      // Both read the sensor before either writes: a real race, whatever the scheduling.
      const racing = bothReadBeforeAnyWrite(store);
      const aggregate = aggregateWith(racing, sink, rulesWith(), {
        now: clock.now,
        idleTimeoutMs: IDLE_MS,
      });
      const sweep = createSweepHandler({
        rules: rulesWith(),
        store: racing,
        sink,
        topics: TOPICS,
        idleTimeoutMs: IDLE_MS,
        logger: silentLogger,
        now: clock.now,
      });
      // The batch brings a reading for the same window while the sweep decides to close it:
      // whichever stores its decision first wins, the other fails its conditional write.
      const outcomes = await Promise.allSettled([
        sweep(),
        aggregate(mskEvent(readings([2_000], 1))),
      ]);
      for (const o of outcomes) {
        if (o.status === "rejected")
          expect(String(o.reason)).toMatch(/changed underneath|conflict/i);
      }
      // The loser is retried (the trigger retries the batch; the next sweep comes anyway).
      await aggregate(mskEvent(readings([2_000], 1)));
      clock.advance(IDLE_MS);
      await sweep();
      const first = windows().filter((w) => w.start === T0);
      expect(first).toHaveLength(1);
      expect([1, 2]).toContain(first[0]?.temperature.count);
    });

    it("sweeps every other partition when one keeps failing, and that one once it recovers", async () => {
      const { store, sink, clock, windows } = await setup();
      await aggregateWith(store, sink, rulesWith(), { now: clock.now, idleTimeoutMs: IDLE_MS })(
        mskEvent([
          readingRecord({ sensor: "Refused", ts: T0 + 1_000, offset: 0, partition: 0 }),
          readingRecord({ sensor: "Quiet", ts: T0 + 1_000, offset: 0, partition: 1 }),
        ]),
      );
      let refusing = true;
      const refusingSink: RecordSink = {
        async send(batches) {
          const refused = batches.some((b) => b.records.some((r) => String(r.key) === "Refused"));
          if (refusing && refused) throw new Error("the broker refuses this record (injected)");
          await sink.send(batches);
        },
      };
      const sweep = createSweepHandler({
        rules: rulesWith(),
        store,
        sink: refusingSink,
        topics: TOPICS,
        idleTimeoutMs: IDLE_MS,
        logger: silentLogger,
        now: clock.now,
      });
      clock.advance(IDLE_MS);
      const failed = await sweep().catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(SweepPartitionsError);
      expect((failed as SweepPartitionsError).partitionIds).toEqual(["raw-temperature-0"]);
      expect(windows().map((w) => w.sensor)).toEqual(["Quiet"]);
      refusing = false;
      // Its decision is committed, its outputs owed: the sweep finds it again once their claim lapses.
      clock.advance(CLAIM_LEASE_MS);
      await sweep();
      expect(
        windows()
          .map((w) => w.sensor)
          .sort(),
      ).toEqual(["Quiet", "Refused"]);
    });
  });
};
