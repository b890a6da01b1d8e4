/**
 * Record sources for the projection: a ledger file (read forward from a seq with the ledger's reader), an
 * array, or a live tail of a ledger that a writer is still appending to.
 */
import { statSync } from 'node:fs';
import { Observable, from } from 'rxjs';
import type { EventRecord } from '../events/index.js';
import { readLedgerBatchesSync, type ReadOptions } from '../ledger/index.js';

export interface LedgerSourceOptions {
  fromSeq?: number;
  toSeq?: number;
  /** Field-by-field validation of each record (default true; the chain is always checked). */
  validate?: boolean;
  /** Records per emitted array (default 1024). */
  batchSize?: number;
  /** Called after each array with the seq reached (progress). */
  onProgress?: (seq: number) => void;
}

function readOpts(o: LedgerSourceOptions): ReadOptions {
  const r: ReadOptions = { batchSize: o.batchSize ?? 1024 };
  if (o.fromSeq !== undefined) r.fromSeq = o.fromSeq;
  if (o.toSeq !== undefined) r.toSeq = o.toSeq;
  if (o.validate !== undefined) r.validate = o.validate;
  return r;
}

/**
 * The records of a ledger as arrays, synchronously on subscribe (the fastest path; unsubscribing — e.g. take() —
 * stops the read). A damaged line errors the stream with the ledger's LedgerCorruptError (file:line: field).
 */
export function fromLedger(path: string, opts: LedgerSourceOptions = {}): Observable<EventRecord[]> {
  return new Observable<EventRecord[]>((sub) => {
    try {
      for (const batch of readLedgerBatchesSync(path, readOpts(opts))) {
        if (sub.closed) return;
        sub.next(batch);
        opts.onProgress?.(batch[batch.length - 1].seq);
      }
      sub.complete();
    } catch (e) {
      sub.error(e);
    }
  });
}

/** Records from memory. */
export function fromRecords(records: readonly EventRecord[]): Observable<readonly EventRecord[]> {
  return from([records]);
}

export interface TailOptions extends LedgerSourceOptions {
  /** How often to look for new records, ms (default 100). */
  pollMs?: number;
  /** Stop (complete) once this seq has been emitted. */
  untilSeq?: number;
  /** Stop after this long without new records, ms (default: never). */
  idleMs?: number;
}

/**
 * A live tail: everything there now, then new records as a writer appends them (only complete, '\n'-terminated
 * lines: a record being written is picked up on the next poll). Never completes unless untilSeq or idleMs says so.
 */
export function tailLedger(path: string, opts: TailOptions = {}): Observable<EventRecord[]> {
  return new Observable<EventRecord[]>((sub) => {
    let next = Math.max(1, opts.fromSeq ?? 1);
    let lastSize = -1;
    let idleSince = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const poll = () => {
      timer = undefined;
      try {
        let size = -1;
        try {
          size = statSync(path).size;
        } catch {
          size = -1; // not created yet
        }
        if (size >= 0 && size !== lastSize) {
          lastSize = size;
          for (const batch of readLedgerBatchesSync(path, { ...readOpts(opts), fromSeq: next })) {
            if (sub.closed) return;
            const stop = opts.untilSeq !== undefined ? batch.findIndex((r) => r.seq >= opts.untilSeq!) : -1;
            const out = stop >= 0 ? batch.slice(0, stop + 1) : batch;
            sub.next(out);
            next = out[out.length - 1].seq + 1;
            idleSince = Date.now();
            opts.onProgress?.(next - 1);
            if (stop >= 0) {
              sub.complete();
              return;
            }
          }
        }
        if (opts.idleMs !== undefined && Date.now() - idleSince >= opts.idleMs) {
          sub.complete();
          return;
        }
        if (!sub.closed) timer = setTimeout(poll, opts.pollMs ?? 100);
      } catch (e) {
        sub.error(e);
      }
    };
    poll();
    return () => {
      if (timer) clearTimeout(timer);
    };
  });
}
