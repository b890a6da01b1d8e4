/**
 * Reading a ledger forward from its start on both cores: the main thread parses the records without field
 * validation (the trusted fast path of readLedgerBatchesSync), while a worker thread (check-worker.ts) reads the
 * same bytes with every check on — each field, the chain, and the hashes when asked. A batch is handed out only
 * once the checker has passed its last seq, so a consumer never sees a record that the sequential reader would
 * have refused, and the first fault is the sequential reader's own (LedgerCorruptError naming file, line and
 * field). What it saves is the validation (and hashing) time on the thread that replays.
 *
 * For long forward reads; anything else — a read from a seq, a small file, no checks asked, or no compiled worker
 * script next to this module (the TypeScript sources under a test runner) — is the sequential reader.
 * TNS_READ_WORKER=0 turns it off. Measured on this project's 2-vCPU machine (bench/replay.bench.mjs), replay
 * with it is no faster than replay validating in-thread (the second core also runs V8's parallel scavenges), so
 * the replay path does not use it yet: it is the base for moving more of the read off the replaying thread.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { EventRecord } from '../events/index.js';
import { readLedgerBatchesSync, type ReadOptions } from './reader.js';
import { LedgerCorruptError, LedgerError } from './errors.js';
import { CHECKED, STATE, STATE_DONE, STATE_FAILED, type CheckerFailure } from './check-protocol.js';

export interface CheckedReadOptions extends ReadOptions {
  /** 'auto' (default): a checking thread for files of at least `minBytes`; true: whenever possible; false: never. */
  parallel?: boolean | 'auto';
  /** Smallest file 'auto' checks on a second thread (default 8 MiB: below that, starting the thread costs more than it saves). */
  minBytes?: number;
}

export const PARALLEL_MIN_BYTES = 8 << 20;
/** The checker's batches: small, so the main thread rarely waits for it. */
const CHECK_BATCH = 256;
/** No progress for this long while the main thread waits: the checking thread is gone. */
const STALL_MS = 60_000;

const WORKER_URL = new URL('./check-worker.js', import.meta.url);

/** The compiled worker script, or undefined when this module runs from sources that have none. */
function workerScript(): URL | undefined {
  try {
    return existsSync(fileURLToPath(WORKER_URL)) ? WORKER_URL : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a read with these options would use the checking thread. */
export function usesCheckingThread(path: string, opts: CheckedReadOptions = {}): boolean {
  const mode = opts.parallel ?? 'auto';
  if (mode === false || process.env.TNS_READ_WORKER === '0') return false;
  if (opts.validate === false && opts.hashes !== true) return false; // nothing to check but the chain
  if ((opts.fromSeq ?? 1) > 1) return false;
  if (workerScript() === undefined) return false;
  if (mode === 'auto') {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      return false; // the sequential reader reports it
    }
    if (size < (opts.minBytes ?? PARALLEL_MIN_BYTES)) return false;
  }
  return true;
}

/**
 * readLedgerBatchesSync's contract (same batches, same errors), with the checks on a second thread when that
 * pays (see usesCheckingThread).
 */
export function* readLedgerBatchesChecked(path: string, opts: CheckedReadOptions = {}): Generator<EventRecord[], void, undefined> {
  if (!usesCheckingThread(path, opts)) {
    yield* readLedgerBatchesSync(path, opts);
    return;
  }
  // Both threads read the same bytes: the file as it is now (a writer may be appending).
  const endOffset = opts.endOffset ?? statSync(path).size;
  const base: ReadOptions = { endOffset, useIndex: false };
  if (opts.toSeq !== undefined) base.toSeq = opts.toSeq;
  if (opts.chain !== undefined) base.chain = opts.chain;
  const shared = new SharedArrayBuffer(16);
  const progress = new BigInt64Array(shared);
  const { port1, port2 } = new MessageChannel();
  const checkOpts: ReadOptions = { ...base, batchSize: CHECK_BATCH, validate: opts.validate !== false, hashes: opts.hashes === true };
  const worker = new Worker(WORKER_URL, { workerData: { path, opts: checkOpts, shared, port: port2 }, transferList: [port2] });

  let failed: Error | undefined;
  const failure = (): Error => (failed ??= checkerFailure());
  const checkerFailure = (): Error => {
    // The message is posted before the state is published; it is on the port by now (wait briefly if not).
    let m = receiveMessageOnPort(port1);
    for (let i = 0; m === undefined && i < 100; i++) {
      Atomics.wait(progress, STATE, STATE_FAILED, 10);
      m = receiveMessageOnPort(port1);
    }
    const f = m?.message as CheckerFailure | undefined;
    if (f?.kind === 'corrupt') return new LedgerCorruptError(f.file, f.fault);
    return new LedgerError(path, `${path}: checking failed: ${f ? f.message : 'the checking thread reported no reason'}`);
  };
  /** Block until the checker has passed `seq` (true), finished without reaching it (false), or failed (throws). */
  const checkedUpTo = (seq: number): boolean => {
    const want = BigInt(seq);
    let last = Atomics.load(progress, CHECKED);
    let since = Date.now();
    for (;;) {
      if (last >= want) return true;
      const state = Atomics.load(progress, STATE);
      if (state === STATE_FAILED) {
        // Its batches are coarser than ours: every line before its fault is good.
        const f = failure();
        if (f instanceof LedgerCorruptError && f.line > seq) return true;
        throw f;
      }
      if (state === STATE_DONE) return Atomics.load(progress, CHECKED) >= want;
      Atomics.wait(progress, CHECKED, last, 100);
      const now = Atomics.load(progress, CHECKED);
      if (now !== last) {
        last = now;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) throw new LedgerError(path, `${path}: the checking thread made no progress for ${STALL_MS / 1000} s (at seq ${last})`);
    }
  };

  try {
    try {
      const main = readLedgerBatchesSync(path, { ...base, batchSize: opts.batchSize ?? 1024, validate: false, hashes: false });
      for (;;) {
        const r = main.next();
        if (r.done) break;
        const batch = r.value;
        if (!checkedUpTo(batch[batch.length - 1].seq)) throw new LedgerError(path, `${path}: the checking thread stopped before seq ${batch[batch.length - 1].seq}`);
        yield batch;
      }
    } catch (e) {
      // The main thread's own fault (bad JSON, a broken chain) or the checker's: the checker checks every line in
      // order, so its first fault, when it has one, is the one the sequential reader reports.
      if (!(e instanceof LedgerCorruptError) || e === failed) throw e;
      checkedUpTo(e.line);
      throw e;
    }
    // Everything the main thread read is checked; the checker reads the same bytes, so it is done or nearly.
  } finally {
    port1.close();
    void worker.terminate();
  }
}
