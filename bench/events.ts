import type { KafkaMessage } from "kafkajs";
import type { KafkaTriggerEvent, KafkaTriggerRecord } from "../functions/kafka-trigger-event.ts";
import {
  buildTriggerEvent,
  localClusterArn,
  toTriggerRecord,
} from "../functions/kafka-trigger-event-builder.ts";
import {
  defaultGeneratorOptions,
  generateRecord,
  seededRandom,
} from "../harness/producer/reading-generator.ts";

/** Where the bench's event time starts: a fixed instant, so every run sees the same windows. */
const EVENT_TIME_ORIGIN = Date.UTC(2026, 0, 1);

export interface ReadingStreamOptions {
  /** Sensors `Sensor1`..`SensorN`, each reading from a random one, as the seed's producer. */
  sensors: number;
  /** Partitions of the source topic; a sensor's readings all go to partition `index % partitions`. */
  partitions?: number;
  topic?: string;
  seed?: number;
}

/**
 * Readings as the seed's producer makes them (random sensor, integer value 0..100, naive ISO `ts`
 * with microseconds, a `uuid` header), with event time advancing a random 0..1 s per reading as
 * the seed's pacing does, so windows close as they would in production (a 10 s window holds about
 * 20 readings across the sensors). Turned into trigger records exactly as the harness turns
 * consumed messages into them. Stateful: offsets and event time continue from one event to the
 * next, so a store that saw earlier events never takes later ones for replays.
 */
export class ReadingStream {
  readonly #random: () => number;
  readonly #generator;
  readonly #partitions: number;
  readonly #topic: string;
  readonly #offsets: number[];
  #eventTime = EVENT_TIME_ORIGIN;

  constructor(options: ReadingStreamOptions) {
    this.#random = seededRandom(options.seed ?? 7);
    this.#generator = { ...defaultGeneratorOptions, sensors: options.sensors, seed: 0 };
    this.#partitions = options.partitions ?? 6;
    this.#topic = options.topic ?? "raw-temperature";
    this.#offsets = new Array<number>(this.#partitions).fill(0);
  }

  /** The next MSK event of `size` records, grouped by partition as Lambda delivers them. */
  nextEvent(size: number): KafkaTriggerEvent {
    const records: KafkaTriggerRecord[] = new Array(size);
    for (let i = 0; i < size; i++) {
      this.#eventTime += Math.floor(this.#random() * 1000);
      const generated = generateRecord(this.#eventTime, this.#generator, this.#random);
      const key = generated.key ?? "";
      const partition = (Number(key.slice("Sensor".length)) - 1) % this.#partitions;
      const offset = this.#offsets[partition] ?? 0;
      this.#offsets[partition] = offset + 1;
      const message: KafkaMessage = {
        key: Buffer.from(key),
        value: Buffer.from(generated.value ?? ""),
        timestamp: generated.timestamp,
        attributes: 0,
        offset: String(offset),
        headers: generated.headers,
      };
      records[i] = toTriggerRecord(this.#topic, partition, message);
    }
    // Stable sort by partition keeps each partition's records in offset order.
    records.sort((a, b) => a.partition - b.partition);
    return buildTriggerEvent(
      {
        flavour: "msk",
        bootstrapServers: ["localhost:19092"],
        clusterArn: localClusterArn("bench"),
      },
      records,
    );
  }

  /** `count` events of `size` records each. */
  events(count: number, size: number): KafkaTriggerEvent[] {
    return Array.from({ length: count }, () => this.nextEvent(size));
  }
}

/**
 * The decode floor: what any handler of these events must do at least, base64-decode each record's
 * key and value and JSON-parse the value. Returns a checksum so the work can't be optimized away.
 */
export const decodeFloor = (events: readonly KafkaTriggerEvent[]): number => {
  let sum = 0;
  for (const event of events) {
    for (const records of Object.values(event.records)) {
      for (const r of records) {
        const key = Buffer.from(r.key ?? "", "base64").toString("utf8");
        const value = JSON.parse(Buffer.from(r.value ?? "", "base64").toString("utf8")) as {
          value: number;
        };
        sum += value.value + key.length;
      }
    }
  }
  return sum;
};

/** Records in `events`. */
export const recordCount = (events: readonly KafkaTriggerEvent[]): number => {
  let n = 0;
  for (const event of events)
    for (const records of Object.values(event.records)) n += records.length;
  return n;
};
