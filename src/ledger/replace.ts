/**
 * A new ledger written at a path, replacing the ledger there (`--force` of tns synth, import, scenario, restore).
 *
 * The target's single-writer lock is taken FIRST and held until the new ledger's writer is closed; the old ledger
 * and its sidecars are removed only under it. So a ledger that another live process is writing is never removed:
 * LockedError (naming the holder's pid) and the file is untouched. (Removing first, then opening the writer, deleted
 * that ledger and then failed on its lock.) A stale lock (its holder gone) is taken over with a warning.
 */
import { rmSync } from 'node:fs';
import { acquireLock } from './lock.js';
import { indexPathOf, lockPathOf, snapshotDirOf } from './paths.js';
import { openLedger, type LedgerWriter, type OpenLedgerOptions } from './writer.js';

export interface CreateLedgerOptions extends Omit<OpenLedgerOptions, 'create' | 'lock'> {
  /** Remove the ledger at the path (and its index and snapshots) under its lock first. */
  replace?: boolean;
}

/**
 * Open a writer for a new ledger at `path` (created when missing). With `replace`, the existing ledger is removed
 * while its lock is held; the writer's close() releases that lock. The ledger file itself is removed without
 * recursion: a directory at the path is an error, never removed.
 */
export function createLedger(path: string, opts: CreateLedgerOptions = {}): LedgerWriter {
  const { replace, ...open } = opts;
  if (!replace) return openLedger(path, { ...open, create: true });
  const held = acquireLock(path, lockPathOf(path), open.onWarning ?? ((m) => process.emitWarning(m, { code: 'TNS_LEDGER' })));
  let writer: LedgerWriter;
  try {
    rmSync(path, { force: true });
    rmSync(indexPathOf(path), { force: true });
    rmSync(snapshotDirOf(path), { recursive: true, force: true });
    // Our lock is already on the file: the writer must not take it again (it would find itself the holder).
    writer = openLedger(path, { ...open, create: true, lock: false });
  } catch (e) {
    held.release();
    throw e;
  }
  const close = writer.close.bind(writer);
  writer.close = () => {
    try {
      close();
    } finally {
      held.release();
    }
  };
  return writer;
}
