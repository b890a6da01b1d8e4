/**
 * The checking half of the parallel reader (parallel.ts), run in a worker thread: it reads the same bytes of the
 * ledger as the main thread with every check on (field validation, chain, hashes when asked) and publishes how
 * far it got in shared memory; the first fault goes back as a message. It yields nothing: the main thread parses
 * its own records and only hands out a batch once this thread has checked up to its last seq.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import { CHECKED, STATE, STATE_DONE, STATE_FAILED, type CheckerFailure } from './check-protocol.js';
import type { ReadOptions } from './reader.js';

interface Data {
  path: string;
  opts: ReadOptions;
  shared: SharedArrayBuffer;
  port: MessagePort;
}

const { path, opts, shared, port } = workerData as Data;
const progress = new BigInt64Array(shared);

function publish(state: bigint | undefined, checked: number | undefined): void {
  if (checked !== undefined) Atomics.store(progress, CHECKED, BigInt(checked));
  if (state !== undefined) Atomics.store(progress, STATE, state);
  Atomics.notify(progress, CHECKED);
}

try {
  // Imported here, not at the top, so that even a module that fails to load is reported as a failure.
  const { readLedgerBatchesSync } = await import('./reader.js');
  const { LedgerCorruptError } = await import('./errors.js');
  try {
    for (const batch of readLedgerBatchesSync(path, opts)) publish(undefined, batch[batch.length - 1].seq);
    publish(STATE_DONE, undefined);
  } catch (e) {
    if (!(e instanceof LedgerCorruptError)) throw e;
    port.postMessage({ kind: 'corrupt', name: e.name, file: e.file, fault: e.fault } satisfies CheckerFailure);
    publish(STATE_FAILED, undefined);
  }
} catch (e) {
  const err = e as NodeJS.ErrnoException;
  port.postMessage({ kind: 'error', name: err?.name ?? 'Error', message: err?.message ?? String(e), ...(err?.code ? { code: err.code } : {}) } satisfies CheckerFailure);
  publish(STATE_FAILED, undefined);
}
port.close();
