import type { Producer } from "kafkajs";
import { generateRecord, type ReadingGeneratorOptions, seededRandom } from "./reading-generator.ts";

export interface ProduceOptions {
  topic: string;
  count: number;
  /** Readings per second; undefined = the seed's pacing (a random 0..1 s pause each). */
  rate?: number;
  /** As fast as possible, in batches, event time advancing as the seed's pacing would. */
  fast?: boolean;
  generator: ReadingGeneratorOptions;
  /** Called about once a second with the number produced so far. */
  progress?: (produced: number) => void;
  /** Stops early when it returns true. */
  stopped?: () => boolean;
}

/**
 * Produces synthetic readings. Paced modes stamp readings with the wall clock; `fast` mode
 * simulates the seed's 0..1 s pacing in event time (and sets the Kafka timestamp to it) so a
 * million readings still make realistic windows.
 */
export const produceReadings = async (
  producer: Producer,
  options: ProduceOptions,
): Promise<number> => {
  const random = seededRandom(options.generator.seed);
  let produced = 0;
  let lastProgress = Date.now();
  const report = () => {
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      options.progress?.(produced);
    }
  };
  if (options.fast) {
    let eventTime = Date.now() - Math.floor(options.count * 500);
    while (produced < options.count && !options.stopped?.()) {
      const n = Math.min(5_000, options.count - produced);
      const messages = Array.from({ length: n }, () => {
        eventTime += Math.floor(random() * 1000);
        return generateRecord(eventTime, options.generator, random);
      });
      await producer.send({ topic: options.topic, acks: -1, messages });
      produced += n;
      report();
    }
  } else {
    while (produced < options.count && !options.stopped?.()) {
      await producer.send({
        topic: options.topic,
        acks: -1,
        messages: [generateRecord(Date.now(), options.generator, random)],
      });
      produced++;
      report();
      const pauseMs = options.rate === undefined ? random() * 1000 : 1000 / options.rate;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
  options.progress?.(produced);
  return produced;
};
