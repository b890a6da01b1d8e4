/**
 * Writing scenario, restore and demo events to new ledgers through src/ledger (single-writer lock, hash chain,
 * group commit with fsync).
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, basename, extname, join } from 'node:path';
import { createLedger, LockedError } from '../ledger/index.js';
import type { EventInput } from '../events/schema.js';

/** The target ledger cannot be written: it exists (no --force), is not a regular file, or another writer holds it. */
export class LedgerExistsError extends Error {
  override name = 'LedgerExistsError';
}

/**
 * Write `records` as a new ledger at `path` (refuses an existing one unless `force`, which replaces it and its
 * sidecars: under the ledger's writer lock, held until the new ledger is in place, so a ledger another live process
 * is writing is refused, untouched). The new ledger is written to a temporary file and renamed into place only when
 * complete: on any failure the old ledger (or no file) is left as it was. `onWarning`: where a stale lock taken over
 * is reported (default: process.emitWarning). Returns the number of records.
 */
export function writeNewLedger(path: string, records: EventInput[], opts: { force?: boolean; onWarning?: (message: string) => void } = {}): number {
  if (existsSync(path) && !statSync(path).isFile()) throw new LedgerExistsError(`${path}: not a regular file`);
  const replace = existsSync(path);
  if (replace && !opts.force) throw new LedgerExistsError(`${path} already exists (a ledger is append-only: choose a new path, or --force to replace it)`);
  mkdirSync(dirname(path), { recursive: true });
  let w;
  try {
    w = createLedger(path, { replace, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  } catch (e) {
    throw e instanceof LockedError ? new LedgerExistsError(e.message) : e;
  }
  // Written to a temporary file, put in place by close(): a failure leaves the old ledger (or no file) as it was.
  try {
    w.append(records, { expectedLastSeq: 0 });
  } catch (e) {
    w.abort();
    throw e;
  }
  w.close();
  return records.length;
}

/** The ledger path of machine number `index` (0: `path` itself; then NAME.<machine>.EXT beside it). */
export function machineLedgerPath(path: string, index: number, machine: string): string {
  if (index === 0) return path;
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${machine}${ext || '.ndjson'}`);
}
