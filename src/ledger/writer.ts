/**
 * The ledger writer: append-only NDJSON, one canonical record per line, hash-chained.
 *
 * Durability (`fsync`):
 *  - 'batch' (default): group commit. Appended records are buffered and written with ONE write(2) and ONE
 *    fsync(2) per `batchSize` records (default 1000), and on flush()/close(). A record is durable once flush()
 *    (or close()) returned, or once a later batch filled up.
 *  - 'always': every append() call is durable when it returns: one write + one fsync per call (a call's events
 *    are one group; a call larger than batchSize is written in groups of batchSize).
 *  - 'never': like 'batch' without fsync (the kernel writes back when it likes).
 * A record is committed when its '\n' is in the file. A process killed mid-write leaves the records of that
 * write that were completely written plus at most one torn line at the end (no '\n'): `repairLedger` removes
 * exactly that line. Records still in the buffer when a process dies were never in the ledger.
 *
 * Concurrency: the single-writer lock (`<ledger>.lock`, see lock.ts) is taken by default; append's
 * `expectedLastSeq` gives optimistic concurrency on top (a ConcurrencyError names both seqs). A writer opened
 * with `lock: false` checks before every append and every write that the file is still what it last saw, and
 * throws ConcurrencyError when another process appended.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { sealRecord, type EventInput, type EventRecord } from '../events/index.js';
import { ConcurrencyError, LedgerNotFoundError, WriterStateError } from './errors.js';
import { acquireLock, type LockHandle } from './lock.js';
import { lockPathOf } from './paths.js';
import { tailOf, tornTailError } from './tail.js';

export type FsyncPolicy = 'batch' | 'always' | 'never';

export interface OpenLedgerOptions {
  /** Create the file when missing (default false: LedgerNotFoundError). */
  create?: boolean;
  fsync?: FsyncPolicy;
  /** Records per group commit (default 1000). */
  batchSize?: number;
  /** Take the single-writer lock (default true). */
  lock?: boolean;
  /** Where warnings go (a stale lock taken over); default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

export interface AppendOptions {
  /** The seq the caller believes is last (0 for an empty ledger); a mismatch throws ConcurrencyError. */
  expectedLastSeq?: number;
}

export interface AppendResult {
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  /** The sealed records (v, seq, prev, hash assigned). */
  records: EventRecord[];
}

/** The staging buffer starts at 64 KiB, grows to the largest batch, and is dropped after a batch over 16 MiB. */
const INITIAL_BUFFER = 64 * 1024;
const MAX_KEPT_BUFFER = 16 * 1024 * 1024;

const defaultWarning = (m: string): void => {
  process.emitWarning(m, { code: 'TNS_LEDGER' });
};

export class LedgerWriter {
  private fd: number;
  private lockHandle: LockHandle | undefined;
  /**
   * Records appended but not yet written, as the bytes of their lines ('\n'-terminated), in `buf[0, used)`. The
   * buffer is reused from batch to batch: each sealed line is encoded into it once, and a batch is one write(2)
   * of a slice of it (no join of the lines, no Buffer of the whole batch made per write).
   */
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BUFFER);
  private used = 0;
  private pendingLines = 0;
  private pendingFirstSeq = 0;
  private _lastSeq: number;
  private _lastHash: string;
  private _durableSeq: number;
  /** Size of the file as this writer last wrote or saw it. */
  private size: number;
  private state: 'open' | 'closed' | 'failed' = 'open';
  private failure: Error | undefined;
  readonly fsync: FsyncPolicy;
  readonly batchSize: number;
  readonly locked: boolean;

  /** Use openLedger(). */
  constructor(
    readonly path: string,
    fd: number,
    lock: LockHandle | undefined,
    last: { seq: number; hash: string; size: number },
    opts: { fsync: FsyncPolicy; batchSize: number },
  ) {
    this.fd = fd;
    this.lockHandle = lock;
    this.locked = lock !== undefined;
    this._lastSeq = last.seq;
    this._lastHash = last.hash;
    this._durableSeq = last.seq;
    this.size = last.size;
    this.fsync = opts.fsync;
    this.batchSize = opts.batchSize;
  }

  /** The last seq appended (buffered records included). */
  get lastSeq(): number {
    return this._lastSeq;
  }
  get lastHash(): string {
    return this._lastHash;
  }
  /** The last seq written to the file (and fsynced unless fsync is 'never'). */
  get durableSeq(): number {
    return this._durableSeq;
  }
  /** Records appended but not yet written. */
  get pendingCount(): number {
    return this.pendingLines;
  }

  /**
   * Append events: each is validated (EventInputError naming the event and field), given seq/prev/hash, and
   * buffered or written per the fsync policy. All-or-nothing for validation: a bad event stages none of the call.
   */
  append(events: EventInput | readonly EventInput[], opts: AppendOptions = {}): AppendResult {
    this.usable();
    const list: readonly EventInput[] = Array.isArray(events) ? events : [events as EventInput];
    if (!this.locked) this.checkForeign();
    if (opts.expectedLastSeq !== undefined && opts.expectedLastSeq !== this._lastSeq)
      throw new ConcurrencyError(this.path, opts.expectedLastSeq, this._lastSeq);
    // Seal everything first so a bad event leaves no trace: lines are staged after what is already buffered and
    // dropped again if one fails. Where a group of batchSize records fills up is noted; the groups are written
    // (one write + fsync each) only once the whole call is sealed.
    const records: EventRecord[] = new Array(list.length);
    const stagedFrom = this.used;
    const linesBefore = this.pendingLines;
    const firstSeq = this._lastSeq + 1;
    let seq = this._lastSeq;
    let prev = this._lastHash;
    let lines = linesBefore;
    let cuts: number[] | undefined; // end offsets of full groups
    try {
      for (let i = 0; i < list.length; i++) {
        const { record, line } = sealRecord(list[i], ++seq, prev, i);
        records[i] = record;
        prev = record.hash;
        this.stage(line);
        if (++lines === this.batchSize) {
          (cuts ??= []).push(this.used);
          lines = 0;
        }
      }
    } catch (e) {
      this.used = stagedFrom;
      throw e;
    }
    if (linesBefore === 0 && list.length > 0) this.pendingFirstSeq = firstSeq;
    this.pendingLines = lines;
    if (cuts !== undefined) {
      // Each full group is batchSize records, the first one starting with what was already buffered.
      let from = 0;
      let groupFirst = this.pendingFirstSeq;
      for (const cut of cuts) {
        this.writeBytes(from, cut, groupFirst + this.batchSize - 1);
        from = cut;
        groupFirst += this.batchSize;
      }
      this.buf.copyWithin(0, from, this.used);
      this.used -= from;
      this.pendingFirstSeq = groupFirst;
    }
    this._lastSeq = seq;
    this._lastHash = prev;
    if (this.fsync === 'always' && this.pendingLines > 0) this.writePending();
    else if (this.used === 0) this.shrink();
    return { firstSeq, lastSeq: seq, lastHash: prev, records };
  }

  /** Write (and fsync, unless 'never') everything buffered. */
  flush(): void {
    this.usable();
    if (this.pendingLines > 0) this.writePending();
  }

  /** Flush, release the lock, close the file. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    try {
      if (this.state === 'open' && this.pendingLines > 0) this.writePending();
    } finally {
      this.state = 'closed';
      closeSync(this.fd);
      this.lockHandle?.release();
    }
  }

  private usable(): void {
    if (this.state === 'closed') throw new WriterStateError(this.path, `${this.path}: the writer is closed`);
    if (this.state === 'failed')
      throw new WriterStateError(this.path, `${this.path}: the writer failed earlier (${this.failure?.message}); verify and repair the ledger, then open it again`);
  }

  /** Without the lock: has someone else appended since we last looked? */
  private checkForeign(): void {
    const size = fstatSync(this.fd).size;
    if (size === this.size) return;
    const info = tailOf(this.path, this.fd, size);
    const ours = this._lastSeq;
    // Our buffered records chain onto a state that no longer is the end of the log: drop them.
    this.used = 0;
    this.pendingLines = 0;
    this._lastSeq = info.lastSeq;
    this._lastHash = info.lastHash;
    this._durableSeq = info.lastSeq;
    this.size = size;
    if (info.tornBytes > 0) {
      this.state = 'failed';
      this.failure = tornTailError(this.path, this.fd, info);
      throw this.failure;
    }
    throw new ConcurrencyError(this.path, ours, info.lastSeq);
  }

  /** Encode a sealed line (and its '\n') after the buffered bytes. */
  private stage(line: string): void {
    // UTF-16 → UTF-8 is at most 3 bytes per code unit, so this room is always enough for write() to take it all.
    const need = this.used + line.length * 3 + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(line, this.used);
    this.buf[this.used++] = 0x0a;
  }

  /** After a batch larger than usual, give the memory back. */
  private shrink(): void {
    if (this.buf.length > MAX_KEPT_BUFFER) this.buf = Buffer.allocUnsafe(INITIAL_BUFFER);
  }

  /** Write (and fsync, unless 'never') everything buffered. */
  private writePending(): void {
    this.writeBytes(0, this.used, this.pendingFirstSeq + this.pendingLines - 1);
    this.used = 0;
    this.pendingLines = 0;
    this.shrink();
  }

  /** One group commit: buf[from, to) holds whole lines ending with record `lastSeq`. */
  private writeBytes(from: number, to: number, lastSeq: number): void {
    if (!this.locked) this.checkForeign();
    try {
      let off = from;
      while (off < to) off += writeSync(this.fd, this.buf, off, to - off);
      if (this.fsync !== 'never') fsyncSync(this.fd);
    } catch (e) {
      this.state = 'failed';
      this.failure = e as Error;
      throw new WriterStateError(this.path, `${this.path}: write failed after seq ${this._durableSeq}: ${(e as Error).message}; the ledger may end with a torn line: verify and repair`);
    }
    this.size += to - from;
    this._durableSeq = lastSeq;
  }
}

/**
 * Open a ledger for appending. Takes the lock (LockedError when another live process holds it), reads the last
 * record (hash checked) to continue the chain, and refuses a ledger that ends with a torn line (TornTailError:
 * run repairLedger first) or a damaged last record (LedgerCorruptError).
 */
export function openLedger(path: string, opts: OpenLedgerOptions = {}): LedgerWriter {
  const fsyncPolicy = opts.fsync ?? 'batch';
  if (!['batch', 'always', 'never'].includes(fsyncPolicy)) throw new RangeError(`fsync: expected batch, always or never, got ${String(fsyncPolicy)}`);
  const batchSize = opts.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize: expected an integer ≥ 1, got ${batchSize}`);
  if (!existsSync(path)) {
    if (!opts.create) throw new LedgerNotFoundError(path);
  }
  const onWarning = opts.onWarning ?? defaultWarning;
  const lock = opts.lock === false ? undefined : acquireLock(path, lockPathOf(path), onWarning);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'a+', 0o644);
    const size = fstatSync(fd).size;
    const info = tailOf(path, fd, size);
    if (info.tornBytes > 0) throw tornTailError(path, fd, info);
    if (opts.create && size === 0) fsyncSync(fd);
    return new LedgerWriter(path, fd, lock, { seq: info.lastSeq, hash: info.lastHash, size }, { fsync: fsyncPolicy, batchSize });
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    lock?.release();
    throw e;
  }
}
