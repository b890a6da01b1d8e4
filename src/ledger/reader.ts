/**
 * Reading a ledger forward from any seq. Streaming with constant memory (1 MiB reads), seeking with the sidecar
 * index. A reader sees a consistent prefix: it reads the file as it was when reading started, up to the last
 * '\n' (an unterminated last line — a writer mid-append, or a torn tail — is not a record yet and is skipped;
 * verifyLedger reports it).
 *
 * Checks while reading (each can be turned off for speed): every record is validated field by field (`validate`,
 * default true) and chained to the one before it — contiguous seq, prev = previous hash (`chain`, default true).
 * Hashes are recomputed only with `hashes: true` (verifyLedger always does). A bad line throws
 * LedgerCorruptError naming the file, the line and the field.
 */
import { decodeRecord, RecordError, type EventRecord } from '../events/index.js';
import { LedgerCorruptError, type Fault } from './errors.js';
import { CHUNK_BYTES, LineScanner, openLedgerFile, withFile } from './scan.js';
import { loadIndex, seekPoint } from './seqindex.js';
import { closeSync, fstatSync, unlinkSync } from 'node:fs';
import { indexPathOf } from './paths.js';

export interface ReadOptions {
  /** First seq to yield (default 1). */
  fromSeq?: number;
  /** Last seq to yield (default: the end). */
  toSeq?: number;
  /** Validate each record field by field (default true). */
  validate?: boolean;
  /** Check seq contiguity and prev links (default true). */
  chain?: boolean;
  /** Recompute each record's hash (default false). */
  hashes?: boolean;
  /** Records per yielded batch at most (default 1024). */
  batchSize?: number;
  /** Use (and maintain) the sidecar index to seek (default true). */
  useIndex?: boolean;
}

function fault(path: string, line: number, offset: number, reason: Fault['reason'], message: string, seq?: number): LedgerCorruptError {
  return new LedgerCorruptError(path, { line, offset, reason, message, ...(seq !== undefined ? { seq } : {}) });
}

/** Parse one line of a ledger with the given checks. Throws LedgerCorruptError. */
function parseLine(path: string, text: string, line: number, offset: number, validate: boolean, hashes: boolean): EventRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fault(path, line, offset, 'bad-json', `${path}:${line}: not JSON (${(e as Error).message})`);
  }
  if (!validate && !hashes) {
    if (typeof raw !== 'object' || raw === null || (raw as { v?: unknown }).v !== 1)
      // Only current-version, object records take the no-validation path; anything else gets the full decode.
      return decodeOrFault(path, raw, text, line, offset, hashes);
    return raw as EventRecord;
  }
  return decodeOrFault(path, raw, text, line, offset, hashes);
}

function decodeOrFault(path: string, raw: unknown, text: string, line: number, offset: number, hashes: boolean): EventRecord {
  try {
    return decodeRecord(raw, { file: path, line }, hashes ? { checkHash: true, text } : {});
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    const seq = typeof raw === 'object' && raw !== null && Number.isSafeInteger((raw as { seq?: unknown }).seq) ? ((raw as { seq: number }).seq) : undefined;
    throw fault(path, line, offset, e.reason, e.message, seq);
  }
}

/**
 * The fast path: batches (arrays) of parsed records, for the replay engine. Synchronous (no promise per batch);
 * see readLedgerBatches for the async form.
 */
export function* readLedgerBatchesSync(path: string, opts: ReadOptions = {}): Generator<EventRecord[], void, undefined> {
  try {
    yield* readBatches(path, opts, false);
  } catch (e) {
    // The index pointed at the wrong record: it is only a hint. Rebuild it and read again (nothing was yielded).
    if (!(e instanceof IndexLie)) throw e;
    try {
      unlinkSync(indexPathOf(path));
    } catch {
      /* already gone */
    }
    yield* readBatches(path, opts, true);
  }
}

class IndexLie extends Error {}

/** The smallest read for a bounded seek (a few records' worth; the scanner's buffer grows for a longer line). */
const MIN_SEEK_CHUNK = 16 * 1024;

/**
 * The batches of the read; a fault is thrown after the records before it are yielded (the last batch may be
 * short), so a consumer always sees every good record up to the first bad line.
 */
function* readBatches(path: string, opts: ReadOptions, retried: boolean): Generator<EventRecord[], void, undefined> {
  let pending: EventRecord[] = [];
  try {
    yield* readBatchesFaulting(path, opts, retried, (b) => (pending = b));
  } catch (e) {
    // (An index that lied is found at the first record: nothing is pending, and the read starts over.)
    if (pending.length > 0 && !(e instanceof IndexLie)) yield pending;
    throw e;
  }
}

function* readBatchesFaulting(path: string, opts: ReadOptions, retried: boolean, current: (batch: EventRecord[]) => void): Generator<EventRecord[], void, undefined> {
  const fromSeq = Math.max(1, opts.fromSeq ?? 1);
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
  const validate = opts.validate !== false;
  const chain = opts.chain !== false;
  const hashes = opts.hashes === true;
  const batchSize = Math.max(1, opts.batchSize ?? 1024);
  if (toSeq < fromSeq) return;
  let start = { offset: 0, line: 1 };
  let chunkBytes = CHUNK_BYTES;
  if (fromSeq > 1 && opts.useIndex !== false) {
    const loaded = loadIndex(path);
    if (loaded) {
      const ix = loaded.index;
      if (fromSeq > ix.lastSeq) {
        // Past what the index covers: start at its last stride point (the log may have grown since).
        start = seekPoint(ix, ix.lastSeq);
      } else start = seekPoint(ix, fromSeq);
      // A short read (one record, a seek's few hundred): the stride point after toSeq says how many bytes are
      // needed, so read about that much rather than a whole chunk, of which every line would be decoded. Only the
      // size of the reads: a wrong offset (the index is a hint) just means more reads.
      const after = Math.floor((toSeq - 1) / ix.stride) + 1;
      if (after < ix.offsets.length) chunkBytes = Math.min(CHUNK_BYTES, Math.max(MIN_SEEK_CHUNK, ix.offsets[after] - start.offset));
    }
  }
  const fd = openLedgerFile(path);
  try {
    const size = fstatSync(fd).size;
    const scanner = new LineScanner(fd, start.offset, size, start.line, chunkBytes);
    let prevSeq: number | undefined;
    let prevHash: string | undefined;
    let batch: EventRecord[] = [];
    current(batch);
    let parsedAny = false;
    for (let chunk = scanner.next(); chunk; chunk = scanner.next()) {
      const { lines, offsets, firstLine } = chunk;
      for (let i = 0; i < lines.length; i++) {
        const line = firstLine + i;
        // Lines before fromSeq (after an index seek) are only parsed for their seq and hash when chaining.
        if (line < fromSeq && !chain) continue;
        let rec: EventRecord;
        try {
          rec = parseLine(path, lines[i], line, offsets[i], line >= fromSeq && validate, line >= fromSeq && hashes);
        } catch (e) {
          // The first line after an index seek is unreadable: the offset may be a lie (mid-line).
          if (!parsedAny && start.line > 1 && !retried && e instanceof LedgerCorruptError) throw new IndexLie();
          throw e;
        }
        const first = !parsedAny;
        if (rec.seq !== line) {
          if (first && start.line > 1 && !retried) throw new IndexLie();
          throw fault(path, line, offsets[i], 'bad-seq', `${path}:${line}: seq ${rec.seq} on line ${line} (expected ${line}: seqs are contiguous from 1)`, rec.seq);
        }
        parsedAny = true;
        if (chain) {
          if (prevHash !== undefined && rec.prev !== prevHash)
            throw fault(path, line, offsets[i], 'bad-prev', `${path}:${line}: prev does not match the hash of seq ${prevSeq}`, rec.seq);
          if (prevHash === undefined && line === 1 && rec.prev !== '0'.repeat(64))
            throw fault(path, line, offsets[i], 'bad-prev', `${path}:1: the first record's prev is not 64 zeros`, rec.seq);
          prevSeq = rec.seq;
          prevHash = rec.hash;
        }
        if (line < fromSeq) continue;
        if (line > toSeq) {
          const last = batch;
          current([]);
          if (last.length > 0) yield last;
          return;
        }
        batch.push(rec);
        if (batch.length >= batchSize) {
          const full = batch;
          current((batch = []));
          yield full;
        }
      }
    }
    const last = batch;
    current([]);
    if (last.length > 0) yield last;
  } finally {
    closeSync(fd);
  }
}

/** The fast path, async: batches of parsed records (yields to the event loop between reads). */
export async function* readLedgerBatches(path: string, opts: ReadOptions = {}): AsyncGenerator<EventRecord[], void, undefined> {
  let n = 0;
  for (const batch of readLedgerBatchesSync(path, opts)) {
    yield batch;
    if (++n % 16 === 0) await new Promise<void>((r) => setImmediate(r));
  }
}

/** Validated records one by one, streaming (constant memory). */
export async function* readLedger(path: string, opts: ReadOptions = {}): AsyncGenerator<EventRecord, void, undefined> {
  for await (const batch of readLedgerBatches(path, opts)) yield* batch;
}

/** Synchronous form of readLedger. */
export function* readLedgerSync(path: string, opts: ReadOptions = {}): Generator<EventRecord, void, undefined> {
  for (const batch of readLedgerBatchesSync(path, opts)) yield* batch;
}

/** The record with this seq (validated, hash checked), or undefined past the end. Seeks with the index. */
export function readRecordAt(path: string, seq: number): EventRecord | undefined {
  for (const batch of readLedgerBatchesSync(path, { fromSeq: seq, toSeq: seq, batchSize: 1, chain: false, hashes: true })) return batch[0];
  return undefined;
}

/** Count the complete lines without parsing (a quick size for progress bars). */
export function countRecords(path: string): number {
  return withFile(path, (fd, size) => {
    const s = new LineScanner(fd, 0, size);
    let n = 0;
    for (let c = s.next(); c; c = s.next()) n += c.lines.length;
    return n;
  });
}
