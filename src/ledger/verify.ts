/**
 * verifyLedger: read the whole log and check every line: JSON, a known record version, every field, the hash,
 * the seq (contiguous from 1) and the chain (prev = previous hash; 64 zeros first). Reports the first bad line.
 *
 * A torn tail is an unterminated final line (bytes after the last '\n'), whatever they are: what a writer killed
 * mid-append (or a crash before writeback) leaves. A '\n'-terminated line that is damaged is corruption, even
 * at the end — a write is never cut after its '\n' — so repair never deletes a record that was complete.
 *
 * repairLedger: takes the writer lock, verifies, and truncates exactly a torn tail; anything else is refused
 * (RepairRefusedError names the first bad line) and the file is left untouched.
 */
import { ftruncateSync, fsyncSync, openSync, closeSync, fstatSync } from 'node:fs';
import { decodeRecord, RecordError, ZERO_HASH, type EventRecord } from '../events/index.js';
import { LedgerError, RepairRefusedError, type Fault } from './errors.js';
import { acquireLock } from './lock.js';
import { indexPathOf, lockPathOf } from './paths.js';
import { LineScanner, openLedgerFile } from './scan.js';
import { indexAnchor } from './seqindex.js';

export interface RecordContext {
  /** 1-based line number. */
  line: number;
  /** Byte offset of the line. */
  offset: number;
}

/**
 * A per-record hook (e.g. the replay engine re-deriving each outcome with the model): return a message to mark
 * the record bad (reason 'rejected'), or nothing to accept it. It sees records in order, already validated and
 * chained. Exceptions it throws propagate.
 */
export type VerifyHook = (record: EventRecord, ctx: RecordContext) => string | void | undefined;

export interface VerifyOptions {
  onRecord?: VerifyHook;
  /** Called every ~1 MiB with bytes checked so far and the file size (progress bars). */
  onProgress?: (bytes: number, size: number) => void;
  /**
   * A record the ledger must still contain. A valid prefix of a log (cut at a line boundary) chains perfectly;
   * only an outside anchor shows what is missing. 'index' (default): the last record the sidecar index saw;
   * false: none; or an explicit {seq, hash} (e.g. kept by an auditor).
   */
  anchor?: 'index' | false | { seq: number; hash: string };
}

export interface VerifyResult {
  ok: boolean;
  /** Records checked and found good (all of them when ok). */
  records: number;
  /** Seq and hash of the last good record (0 and 64 zeros when none). */
  lastSeq: number;
  lastHash: string;
  /** File size, and the offset just after the last good record. */
  size: number;
  goodBytes: number;
  firstBad?: Fault;
}

export function verifyLedger(path: string, opts: VerifyOptions = {}): VerifyResult {
  const fd = openLedgerFile(path);
  try {
    return verifyFd(path, fd, fstatSync(fd).size, opts);
  } finally {
    closeSync(fd);
  }
}

function verifyFd(path: string, fd: number, size: number, opts: VerifyOptions): VerifyResult {
  const result: VerifyResult = { ok: true, records: 0, lastSeq: 0, lastHash: ZERO_HASH, size, goodBytes: 0 };
  const bad = (f: Fault): VerifyResult => {
    result.ok = false;
    result.firstBad = f;
    return result;
  };
  const anchor = opts.anchor === false ? undefined : opts.anchor === undefined || opts.anchor === 'index' ? indexAnchor(path) : opts.anchor;
  const anchorName = opts.anchor === undefined || opts.anchor === 'index' ? `its index (${indexPathOf(path)})` : 'the anchor';
  const scanner = new LineScanner(fd, 0, size);
  let prevHash = ZERO_HASH;
  for (let chunk = scanner.next(); chunk; chunk = scanner.next()) {
    const { lines, offsets, firstLine } = chunk;
    for (let i = 0; i < lines.length; i++) {
      const line = firstLine + i;
      const offset = offsets[i];
      let raw: unknown;
      try {
        raw = JSON.parse(lines[i]);
      } catch (e) {
        return bad({ line, offset, reason: 'bad-json', message: `${path}:${line}: not JSON (${(e as Error).message})` });
      }
      const claimed = typeof raw === 'object' && raw !== null && Number.isSafeInteger((raw as { seq?: unknown }).seq) ? (raw as { seq: number }).seq : undefined;
      let rec: EventRecord;
      try {
        rec = decodeRecord(raw, { file: path, line }, { checkHash: true, text: lines[i] });
      } catch (e) {
        if (!(e instanceof RecordError)) throw e;
        return bad({ line, offset, reason: e.reason, message: e.message, ...(claimed !== undefined ? { seq: claimed } : {}) });
      }
      const expected = result.lastSeq + 1;
      if (rec.seq !== expected)
        return bad({ line, offset, seq: rec.seq, reason: 'bad-seq', message: `${path}:${line}: seq ${rec.seq}, expected ${expected} (seqs are contiguous from 1)` });
      if (rec.prev !== prevHash)
        return bad({
          line,
          offset,
          seq: rec.seq,
          reason: 'bad-prev',
          message:
            rec.seq === 1
              ? `${path}:${line}: the first record's prev is not 64 zeros`
              : `${path}:${line}: prev ${rec.prev.slice(0, 16)}… is not the hash of seq ${result.lastSeq} (${prevHash.slice(0, 16)}…): the chain is broken`,
        });
      if (opts.onRecord) {
        const why = opts.onRecord(rec, { line, offset });
        if (typeof why === 'string') return bad({ line, offset, seq: rec.seq, reason: 'rejected', message: `${path}:${line}: ${why}` });
      }
      if (anchor && rec.seq === anchor.seq && rec.hash !== anchor.hash)
        return bad({ line, offset, seq: rec.seq, reason: 'bad-hash', message: `${path}:${line}: seq ${rec.seq} has hash ${rec.hash.slice(0, 16)}…, but ${anchorName} saw ${anchor.hash.slice(0, 16)}…: the log was rewritten` });
      prevHash = rec.hash;
      result.records++;
      result.lastSeq = rec.seq;
      result.lastHash = rec.hash;
    }
    result.goodBytes = chunk.end;
    opts.onProgress?.(chunk.end, size);
  }
  if (anchor && result.lastSeq < anchor.seq) {
    const line = scanner.nextLine;
    return bad({
      line,
      offset: size,
      reason: 'truncated',
      message: `${path}:${line}: truncated: the log ends at seq ${result.lastSeq}, but ${anchorName} saw it reach seq ${anchor.seq}`,
    });
  }
  if (scanner.tailLength > 0) {
    const line = scanner.nextLine;
    return bad({
      line,
      offset: scanner.tailOffset,
      reason: 'torn-tail',
      message: `${path}:${line}: torn tail: ${scanner.tailLength} bytes without a final newline after seq ${result.lastSeq} (a writer died mid-append); repair removes them`,
    });
  }
  return result;
}

export interface RepairResult {
  /** Whether a torn tail was removed. */
  truncated: boolean;
  /** Bytes removed (0 when nothing was torn). */
  removedBytes: number;
  /** The ledger after repair. */
  records: number;
  lastSeq: number;
  size: number;
  /** The fault that was repaired. */
  repaired?: Fault;
}

/**
 * Remove a torn tail, and only that. Takes the writer lock (LockedError while a writer is active). A ledger
 * with any other fault is left untouched and RepairRefusedError names its first bad line.
 */
export function repairLedger(path: string, opts: { onWarning?: (m: string) => void; onRecord?: VerifyHook } = {}): RepairResult {
  const fdCheck = openLedgerFile(path); // LedgerNotFoundError before taking a lock for nothing
  closeSync(fdCheck);
  const lock = acquireLock(path, lockPathOf(path), opts.onWarning ?? ((m) => process.emitWarning(m, { code: 'TNS_LEDGER' })));
  try {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (e) {
      throw new LedgerError(path, `${path}: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      const v = verifyFd(path, fd, size, opts.onRecord ? { onRecord: opts.onRecord } : {});
      if (v.ok) return { truncated: false, removedBytes: 0, records: v.records, lastSeq: v.lastSeq, size };
      const f = v.firstBad!;
      if (f.reason !== 'torn-tail')
        throw new RepairRefusedError(path, { ...f, message: `${f.message} — not a torn tail: repair refuses to change the ledger (restore it from a copy, or cut it by hand at line ${f.line} knowing that records from there on are lost)` });
      ftruncateSync(fd, f.offset);
      fsyncSync(fd);
      return { truncated: true, removedBytes: size - f.offset, records: v.records, lastSeq: v.lastSeq, size: f.offset, repaired: f };
    } finally {
      closeSync(fd);
    }
  } finally {
    lock.release();
  }
}
