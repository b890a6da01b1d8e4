/**
 * The reading thread of the pipeline (src/ledger/pipeline.ts): the sequential reader with all its checks (every
 * field, the chain, the index seek), each batch written to a tape and handed over; then 'end', or the error the
 * reader threw. Waits while it is `ahead` batches in front of the replaying thread, and stops when told to.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { TapeEncoder } from '../events/index.js';
import { CANCEL, CONSUMED, GONE, PRODUCED, errorShape, type Message, type Returned, type WorkerInput } from './pipeline-protocol.js';

const input = workerData as WorkerInput;
const port = input.port;
const control = new Int32Array(input.control);
const every = input.hashEvery;
/** Set once 'end' or 'error' is posted. */
let answered = false;

// A thread that stops without its last message (an uncaught error, process.exit, a module that fails to load)
// says so: the replaying thread, blocked waiting for a message, would otherwise wait for the stall timeout.
process.on('exit', () => {
  if (answered) return;
  Atomics.store(control, GONE, 1);
  Atomics.notify(control, PRODUCED);
});

function post(m: Message, transfer: ArrayBuffer[] = []): void {
  port.postMessage(m, transfer);
  if (m.k !== 'batch') answered = true;
  Atomics.add(control, PRODUCED, 1);
  Atomics.notify(control, PRODUCED);
}

/** Wait until the replaying thread has room for another batch; false when it stopped. */
function room(): boolean {
  for (;;) {
    if (Atomics.load(control, CANCEL) !== 0) return false;
    const consumed = Atomics.load(control, CONSUMED);
    if (Atomics.load(control, PRODUCED) - consumed < input.ahead) return true;
    Atomics.wait(control, CONSUMED, consumed, 1000);
  }
}

/**
 * The reader's batches are kept small (few parsed records alive at a time: the young generation's scavenges stay
 * cheap); the tape handed over holds up to `batchSize` records.
 */
const READ_BATCH = 256;

/** Tapes the replaying thread has finished with (their memory is reused rather than left to the collector). */
const spare: Float64Array[] = [];

let encoder: TapeEncoder | undefined;

function flush(): boolean {
  if (encoder === undefined || encoder.count === 0) return true;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) spare.push((m.message as Returned).tape);
  const b = encoder.take(spare.pop());
  if (!room()) return false;
  post({ k: 'batch', b }, [b.tape.buffer as ArrayBuffer]);
  return true;
}

try {
  // Loaded here, so that a failure to load is reported as the read's error.
  const { compileTapeCodec, ReplayRecordSchema } = await import('../events/index.js');
  const { readLedgerBatchesSync } = await import('./reader.js');
  const enc = (encoder = compileTapeCodec(ReplayRecordSchema).encoder());
  let open = true;
  for (const batch of readLedgerBatchesSync(input.path, { ...input.opts, batchSize: Math.min(READ_BATCH, input.batchSize) })) {
    for (let k = 0; k < batch.length; k++) {
      const rec = batch[k] as { seq: number; hash?: string };
      // The chain is checked: replay keeps a hash only where it was asked for (a snapshot's seq).
      if (every === 0 || rec.seq % every !== 0) rec.hash = undefined;
      enc.write(rec);
    }
    if (enc.count >= input.batchSize && !(open = flush())) break;
  }
  if (open && flush() && Atomics.load(control, CANCEL) === 0) post({ k: 'end' });
} catch (e) {
  // Records read before the fault are handed over first, as the sequential reader yields them before throwing.
  if (flush()) post({ k: 'error', e: errorShape(e) });
}
