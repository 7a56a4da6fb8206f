/**
 * The Node.js flags of a process that runs the harness (`npm run harness`, `npm start`; the
 * bench's harness and bare-consumer processes get the same), declared here once: `package.json`'s
 * scripts carry them, and a unit test holds the two together.
 *
 * `--max-old-space-size` bounds the poller's heap. Without it V8 sizes a heap limit from the
 * machine's memory (4 GB on a 24 GB machine) and lets the heap grow far past what the poller keeps
 * alive: the fetched records it holds are a few tens of MB, but kafkajs decodes each fetch into
 * fresh objects, ~0.5 KB a record, as fast as the broker serves them. Any limit from 256 MB to
 * 1 GB made V8 collect sooner: in `npm run bench` (1 000 000 readings, memory store) the harness's
 * peak RSS fell from ~645 to ~450 MB at batch 10 000 and from ~327 to ~286 MB at batch 100, and it
 * stayed flat (0.96..1.04 over the run's second half, against up to 1.19), with no change in
 * records/s beyond the runs' noise. 512 MB leaves room for what a poller may hold at once: a batch
 * fetched and one in flight per partition, each up to a 6 MB event.
 * https://nodejs.org/docs/latest-v20.x/api/cli.html#--max-old-space-sizesize-in-megabytes
 */
export const HARNESS_NODE_FLAGS = ["--max-old-space-size=512"] as const;
