/** The end of a ledger: its last complete record, read without scanning the log. */
import { parseRecordLine, RecordError, ZERO_HASH, type EventRecord } from '../events/index.js';
import { LedgerCorruptError, TornTailError } from './errors.js';
import { countLines, lastLineBefore, lastNewlineEnd, withFile } from './scan.js';

export interface LedgerInfo {
  /** Size of the file in bytes. */
  size: number;
  /** Offset just after the last complete ('\n'-terminated) line. */
  end: number;
  /** The last complete record (undefined for an empty ledger). */
  last?: EventRecord;
  lastSeq: number;
  lastHash: string;
  /** Bytes after the last '\n': a torn tail (or a writer mid-append). */
  tornBytes: number;
}

/**
 * Read the last complete record of the ledger at `path` (hash checked) and whether a torn tail follows it. A bad
 * last record throws LedgerCorruptError. Does not scan the log (verifyLedger does).
 */
export function ledgerInfo(path: string): LedgerInfo {
  return withFile(path, (fd, size) => tailOf(path, fd, size));
}

export function tailOf(path: string, fd: number, size: number): LedgerInfo {
  const end = lastNewlineEnd(fd, size);
  const info: LedgerInfo = { size, end, lastSeq: 0, lastHash: ZERO_HASH, tornBytes: size - end };
  const last = lastLineBefore(fd, end);
  if (!last) return info;
  // The line number is not known without a scan; in a sound ledger it equals the seq.
  let rec: EventRecord;
  try {
    rec = parseRecordLine(last.text, { file: path, line: 0 }, { checkHash: true });
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    const line = countLines(fd, end);
    const detail = e.message.slice(`${path}:0: `.length);
    throw new LedgerCorruptError(path, { line, offset: last.offset, reason: e.reason, message: `${path}:${line}: ${detail} (the last record; run verify)` });
  }
  info.last = rec;
  info.lastSeq = rec.seq;
  info.lastHash = rec.hash;
  return info;
}

export function tornTailError(path: string, fd: number, info: LedgerInfo): TornTailError {
  const line = countLines(fd, info.end) + 1;
  return new TornTailError(path, {
    line,
    offset: info.end,
    reason: 'torn-tail',
    message: `${path}:${line}: torn tail: ${info.tornBytes} bytes without a final newline after seq ${info.lastSeq} (a writer died mid-append); run repair`,
  });
}
