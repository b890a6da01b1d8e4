/**
 * A new ledger written at a path, possibly replacing the ledger there (`--force` of tns synth, import, scenario,
 * restore).
 *
 * The target's single-writer lock is taken FIRST and held until the new ledger is in place (or discarded), so a
 * ledger that another live process is writing is never touched: LockedError (naming the holder's pid). A stale lock
 * (its holder gone) is taken over with a warning (`onWarning`).
 *
 * The records go to a temporary file beside the target (`L.<pid>.<hex>.tmp`, same directory, so the final rename is
 * atomic). Only close() — everything written and fsynced — puts it in place: renamed over the old ledger (replace),
 * or linked to the target name (a new ledger: link(2) fails rather than overwrite a file that appeared meanwhile).
 * The old ledger's index and snapshots (`L.idx`, `L.snap/`) describe the old content: they are removed before the
 * rename and again after it (a reader may have rebuilt them from the old content in between); none is ever made for
 * the temporary name (nothing reads it). abort(), or a close()
 * that fails, removes the temporary file and leaves the target exactly as it was (or absent, if it was). A process
 * killed while writing leaves the target untouched and the temporary file behind (its name says whose it was).
 */
import { closeSync, fsyncSync, linkSync, openSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { LedgerError, WriterStateError } from './errors.js';
import { acquireLock } from './lock.js';
import { indexPathOf, lockPathOf, snapshotDirOf } from './paths.js';
import { openLedger, type LedgerWriter, type OpenLedgerOptions } from './writer.js';

export interface CreateLedgerOptions extends Omit<OpenLedgerOptions, 'create' | 'lock'> {
  /** Replace the ledger at the path (and drop its index and snapshots). Without it, a file at the path is an error. */
  replace?: boolean;
}

/** The writer of a new ledger: close() puts it in place, abort() discards it. */
export interface NewLedgerWriter extends LedgerWriter {
  /** The ledger's final path (`path` is the temporary file being written). */
  readonly target: string;
  /**
   * Flush, fsync and close the new ledger and put it at the target (replacing the old one and its sidecars), then
   * release the lock. If that fails the new ledger is discarded and the target left as it was. Idempotent.
   */
  close(): void;
  /** Discard the new ledger (the target is left as it was) and release the lock. Idempotent; no-op after close(). */
  abort(): void;
}

function removeQuietly(p: string, recursive = false): void {
  try {
    rmSync(p, { force: true, recursive });
  } catch {
    /* best effort: a cache that cannot be removed is checked against the log when read */
  }
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported everywhere (and the data itself is fsynced) */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Open a writer for a new ledger that will be at `path` once closed. The ledger file itself is replaced by rename,
 * never removed recursively: a directory at the path is an error (EISDIR from the rename, or EEXIST), never removed.
 */
export function createLedger(path: string, opts: CreateLedgerOptions = {}): NewLedgerWriter {
  const { replace, ...open } = opts;
  const held = acquireLock(path, lockPathOf(path), open.onWarning ?? ((m) => process.emitWarning(m, { code: 'TNS_LEDGER' })));
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let writer: LedgerWriter;
  try {
    closeSync(openSync(tmp, 'wx', 0o644)); // ours alone: never an existing file
    // Our lock is on the target: the temporary file needs none (nobody else knows its name).
    writer = openLedger(tmp, { ...open, create: true, lock: false });
  } catch (e) {
    removeQuietly(tmp);
    held.release();
    throw e;
  }
  let state: 'open' | 'done' = 'open';
  const discard = (): void => {
    removeQuietly(tmp);
    removeQuietly(indexPathOf(tmp));
    removeQuietly(snapshotDirOf(tmp), true);
  };
  const innerClose = writer.close.bind(writer);
  const innerAppend = writer.append.bind(writer);
  const innerFlush = writer.flush.bind(writer);
  const abort = (): void => {
    if (state === 'done') return;
    state = 'done';
    try {
      innerClose();
    } catch {
      /* the file is discarded anyway */
    } finally {
      discard();
      held.release();
    }
  };
  // A failed write leaves the writer unusable: the new ledger is discarded at once, and the error names the target
  // (not the temporary file, which is gone) and says the target is unchanged.
  const failed = (e: unknown): unknown => {
    if (!(e instanceof WriterStateError) || !e.message.includes(': write failed after seq ')) return e;
    abort();
    const why = e.message.startsWith(`${tmp}: `) ? e.message.slice(tmp.length + 2).replace(/; the ledger may end with a torn line.*$/, '') : e.message;
    return new WriterStateError(path, `${path}: writing the new ledger failed (${why}); ${replace ? `${path} is unchanged` : 'nothing was written'}`);
  };
  const w = writer as NewLedgerWriter;
  Object.defineProperty(w, 'target', { value: path, enumerable: true });
  w.append = ((events, o) => {
    try {
      return innerAppend(events, o);
    } catch (e) {
      throw failed(e);
    }
  }) as LedgerWriter['append'];
  w.flush = () => {
    try {
      innerFlush();
    } catch (e) {
      throw failed(e);
    }
  };
  w.abort = abort;
  w.close = () => {
    if (state === 'done') return;
    try {
      innerClose();
    } catch (e) {
      const err = failed(e);
      abort();
      throw err;
    }
    state = 'done';
    try {
      if (replace) {
        removeQuietly(indexPathOf(path));
        removeQuietly(snapshotDirOf(path), true);
        renameSync(tmp, path);
      } else {
        linkSync(tmp, path); // EEXIST: a file appeared at the path meanwhile; it is not overwritten
        unlinkSync(tmp);
      }
    } catch (e) {
      discard();
      held.release();
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new LedgerError(path, `${path}: a file appeared at this path while the new ledger was written; it is left alone and the new ledger discarded`);
      throw e;
    }
    fsyncDir(dirname(path));
    // (For a new ledger: an index or snapshots left at these names by a ledger removed by hand are not its.)
    removeQuietly(indexPathOf(path));
    removeQuietly(snapshotDirOf(path), true);
    held.release();
  };
  return w;
}
