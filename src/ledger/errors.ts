/** Typed errors of the ledger. Each names the ledger file; faults in the log also name the line. */

/** What is wrong at the first bad line of a ledger. */
export type FaultReason = 'torn-tail' | 'bad-json' | 'bad-hash' | 'bad-prev' | 'bad-seq' | 'invalid' | 'rejected' | 'truncated';

export class LedgerError extends Error {
  override name = 'LedgerError';
  readonly code: string = 'ELEDGER';
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

/** The first bad line of a ledger. */
export interface Fault {
  /** 1-based line number in the ledger file. */
  line: number;
  /** Byte offset where that line starts. */
  offset: number;
  /** The seq the record claims, when it could be read. */
  seq?: number;
  reason: FaultReason;
  /** `FILE:LINE: what is wrong`. */
  message: string;
}

/** The log itself is damaged (or does not chain) at a line. */
export class LedgerCorruptError extends LedgerError {
  override name = 'LedgerCorruptError';
  override readonly code: string = 'ECORRUPT';
  readonly line: number;
  readonly reason: FaultReason;
  constructor(
    file: string,
    readonly fault: Fault,
  ) {
    super(file, fault.message);
    this.line = fault.line;
    this.reason = fault.reason;
  }
}

/** The ledger ends with a torn (unterminated) line: a writer died mid-append. `tns repair` removes exactly it. */
export class TornTailError extends LedgerCorruptError {
  override name = 'TornTailError';
  override readonly code = 'ETORN';
}

/** repairLedger refuses: the damage is not a torn tail, so truncating would lose or hide records. */
export class RepairRefusedError extends LedgerCorruptError {
  override name = 'RepairRefusedError';
  override readonly code = 'EREPAIR';
}

/** append() with an expectedLastSeq that is not the ledger's last seq (someone else appended, or a stale view). */
export class ConcurrencyError extends LedgerError {
  override name = 'ConcurrencyError';
  override readonly code = 'ECONFLICT';
  constructor(
    file: string,
    readonly expectedLastSeq: number,
    readonly actualLastSeq: number,
  ) {
    super(file, `${file}: expected the last seq to be ${expectedLastSeq}, but it is ${actualLastSeq} (another writer appended, or this view is stale)`);
  }
}

/** Another live process holds the single-writer lock. */
export class LockedError extends LedgerError {
  override name = 'LockedError';
  override readonly code = 'ELOCKED';
  constructor(
    file: string,
    readonly lockPath: string,
    readonly holderPid: number,
  ) {
    super(file, `${file}: locked by process ${holderPid} (${lockPath}); only one writer at a time`);
  }
}

export class LedgerNotFoundError extends LedgerError {
  override name = 'LedgerNotFoundError';
  override readonly code = 'ENOLEDGER';
  constructor(file: string) {
    super(file, `${file}: no such ledger (use create: true to start one)`);
  }
}

/** The writer is closed, or failed earlier (a write error may have left a torn tail: repair, then reopen). */
export class WriterStateError extends LedgerError {
  override name = 'WriterStateError';
  override readonly code = 'EWRITER';
}

/** A snapshot argument or file that cannot be used. */
export class SnapshotError extends LedgerError {
  override name = 'SnapshotError';
  override readonly code = 'ESNAPSHOT';
}
