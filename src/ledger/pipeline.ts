/**
 * Reading a ledger on two threads: a worker thread runs the sequential reader (src/ledger/reader.ts) with all its
 * checks — each field, the chain, the index seek — and hands each batch over as a tape (src/events/tape.ts: one
 * transferred ArrayBuffer); the calling thread rebuilds the records from it, which costs a fraction of parsing
 * them, and spends the time it saves replaying. The reading thread runs at most `ahead` batches in front.
 *
 * The same records in the same order, and the same errors after the same records, as readLedgerBatchesSync, with
 * three differences a replay does not see: records come as ReplayRecords — no `prev`, and a `hash` only on the
 * seqs that are multiples of `hashEvery` (snapshots need it) — with their keys in canonical order, and batches may
 * be cut smaller than `batchSize` (at most 1024 records: they die young).
 *
 * Used for long forward reads; anything else — few records, no validation asked, or no compiled worker script
 * next to this module (the TypeScript sources under a test runner) — is the sequential reader, whose records are
 * whole EventRecords (a ReplayRecord with every hash). TNS_PIPELINE=0 turns it off.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { compileTapeCodec, ReplayRecordSchema, type ReplayRecord } from '../events/index.js';
import { readLedgerBatchesSync, type ReadOptions } from './reader.js';
import { LedgerError } from './errors.js';
import { CANCEL, CONSUMED, CONTROL_BYTES, GONE, PRODUCED, errorOf, type Message, type Returned, type WorkerInput } from './pipeline-protocol.js';

export interface PipelineOptions extends ReadOptions {
  /** Records whose seq is a multiple of this keep their hash (default 0: none do). */
  hashEvery?: number;
  /** true: a reading thread whenever possible; false: never; 'auto' (default): for at least `minRecords` records. */
  thread?: boolean | 'auto';
  /** 'auto' reads on a thread when it expects at least this many records (default PIPELINE_MIN_RECORDS). */
  minRecords?: number;
  /** The number of records expected (toSeq - fromSeq + 1 when toSeq is given); 'auto' needs it. */
  expected?: number;
}

/** Below this, starting the thread (~30 ms) costs more than it saves. */
export const PIPELINE_MIN_RECORDS = 50_000;
/** Batches the reading thread may be ahead of the replaying one. */
const AHEAD = 4;
/** Records per tape handed over (a tape of the synth mix: ~0.5 MB). */
const TAPE_RECORDS = 4096;
/** Records per yielded batch at most (the reader's batchSize may ask fewer). */
const YIELD_RECORDS = 1024;
/** No message for this long while waiting: the reading thread is gone. */
const STALL_MS = 60_000;

const WORKER_URL = new URL('./pipeline-worker.js', import.meta.url);

function workerScript(): URL | undefined {
  try {
    return existsSync(fileURLToPath(WORKER_URL)) ? WORKER_URL : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a read with these options goes through a reading thread. */
export function usesReadingThread(opts: PipelineOptions = {}): boolean {
  const mode = opts.thread ?? 'auto';
  if (mode === false || process.env.TNS_PIPELINE === '0') return false;
  // The tape carries only what the schema allows: records from the trusted (unvalidated) path may not conform.
  if (opts.validate === false) return false;
  if (workerScript() === undefined) return false;
  if (mode === 'auto') {
    const n = opts.expected ?? (opts.toSeq !== undefined ? opts.toSeq - Math.max(1, opts.fromSeq ?? 1) + 1 : undefined);
    if (n === undefined || n < (opts.minRecords ?? PIPELINE_MIN_RECORDS)) return false;
  }
  return true;
}

const codec = compileTapeCodec(ReplayRecordSchema);

/** readLedgerBatchesSync for a replay: lean records (see the file comment), read on a second thread when that pays. */
export function* readReplayBatches(path: string, opts: PipelineOptions = {}): Generator<ReplayRecord[], void, undefined> {
  const every = opts.hashEvery ?? 0;
  const read: ReadOptions = { ...opts };
  for (const k of ['hashEvery', 'thread', 'minRecords', 'expected'] as const) delete (read as Record<string, unknown>)[k];
  if (!usesReadingThread(opts)) {
    yield* readLedgerBatchesSync(path, read);
    return;
  }
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  const words = new Int32Array(control);
  const { port1: port, port2 } = new MessageChannel();
  const input: WorkerInput = { path, opts: read, hashEvery: every, batchSize: TAPE_RECORDS, ahead: AHEAD, control, port: port2 };
  // As the sequential reader counts: a fractional size rounds up, NaN sets no bound (here: YIELD_RECORDS).
  const asked = Math.ceil(opts.batchSize ?? YIELD_RECORDS);
  const yieldSize = Number.isNaN(asked) ? YIELD_RECORDS : Math.max(1, Math.min(asked, YIELD_RECORDS));
  const worker = new Worker(WORKER_URL, { workerData: input, transferList: [port2] });
  worker.unref();
  // A failure on the reading thread that it could not post is seen through GONE (next()); unheard, the worker's
  // 'error' event would be thrown as an uncaught exception once this thread is back in its event loop.
  worker.on('error', () => {});
  const decoder = codec.decoder();
  let taken = 0;
  try {
    for (;;) {
      const m = next(port, words, taken, path);
      taken++;
      if (m.k === 'end') return;
      if (m.k === 'error') throw errorOf(m.e, path);
      Atomics.add(words, CONSUMED, 1);
      Atomics.notify(words, CONSUMED);
      const b = m.b;
      decoder.load(b);
      // Records are made as they are needed, a small batch at a time: they die young, and scavenges stay cheap.
      for (let done = 0; done < b.count; ) {
        const n = Math.min(yieldSize, b.count - done);
        const out = new Array<ReplayRecord>(n);
        for (let k = 0; k < n; k++) out[k] = decoder.read() as ReplayRecord;
        done += n;
        // Decoded: the tape goes back to be written again (the collector frees transferred buffers late: a 10M
        // replay kept ~80 MB of them).
        if (done === b.count) port.postMessage({ tape: b.tape } satisfies Returned, [b.tape.buffer as ArrayBuffer]);
        yield out;
      }
    }
  } finally {
    Atomics.store(words, CANCEL, 1);
    Atomics.notify(words, CONSUMED);
    void worker.terminate();
    port.close();
  }
}

/** Block until the reading thread's next message. */
function next(port: MessagePort, words: Int32Array, taken: number, path: string): Message {
  let since = Date.now();
  for (;;) {
    // Read before the count: a thread that is gone has counted every message it posted.
    const gone = Atomics.load(words, GONE) !== 0;
    const m = receiveMessageOnPort(port);
    if (m !== undefined) return m.message as Message;
    // Posted messages are counted after they are posted: wait for the count to pass what was taken.
    const produced = Atomics.load(words, PRODUCED);
    if (produced <= taken) {
      if (gone) throw new LedgerError(path, `${path}: the reading thread exited before the end of the read`);
      if (Atomics.wait(words, PRODUCED, produced, 1000) === 'timed-out' && Date.now() - since > STALL_MS)
        throw new LedgerError(path, `${path}: the reading thread sent nothing for ${STALL_MS / 1000} s`);
    } else {
      // Counted but not yet visible on the port: a moment (only this thread changes CONSUMED: a 1 ms sleep).
      Atomics.wait(words, CONSUMED, Atomics.load(words, CONSUMED), 1);
      if (Date.now() - since > STALL_MS) throw new LedgerError(path, `${path}: the reading thread's message did not arrive`);
    }
    if (Atomics.load(words, PRODUCED) !== produced) since = Date.now();
  }
}
