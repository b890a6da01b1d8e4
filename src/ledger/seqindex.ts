/**
 * The sidecar index `<ledger>.idx`: the byte offset of every `stride`-th record (seq 1, 1+stride, 1+2·stride…),
 * so a reader seeks near any seq without reading the log before it.
 *
 * Binary, little-endian:
 *   0  8 bytes  magic "TNSIDX1\n"
 *   8  u32      stride
 *  12  u32      0 (reserved)
 *  16  f64      covered: the log size (bytes) the index describes, just after a '\n'
 *  24  f64      lastSeq: the seq of the record ending at `covered`
 *  32  32 bytes lastHash: that record's hash
 *  64  f64[]    offsets, one per stride (ceil(lastSeq / stride) entries)
 *
 * Never trusted over the log: on load, the record ending at `covered` must still be there with the same seq and
 * hash (else the index is stale — the log was truncated or rewritten — and is rebuilt); a log that grew is indexed
 * incrementally from `covered`. Readers also check that the record found at an offset has the seq expected there.
 * The index counts lines; it assumes a sound ledger (line n holds seq n) and refuses to build otherwise.
 */
import { readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CHUNK_BYTES, lastLineBefore, lastNewlineEnd, withFile } from './scan.js';
import { indexPathOf } from './paths.js';

const MAGIC = Buffer.from('TNSIDX1\n', 'latin1');
const HEADER = 64;
export const DEFAULT_STRIDE = 256;

export interface SeqIndex {
  stride: number;
  /** offsets[i] = byte offset of seq 1 + i·stride. */
  offsets: number[];
  lastSeq: number;
  lastHash: string;
  /** Bytes of the log this index covers (just after the '\n' of seq lastSeq). */
  covered: number;
}

export interface LoadIndexResult {
  index: SeqIndex;
  /** What was done: the sidecar was current, extended, (re)built, or could not be used at all. */
  status: 'current' | 'extended' | 'rebuilt' | 'built';
}

function emptyIndex(stride: number): SeqIndex {
  return { stride, offsets: [], lastSeq: 0, lastHash: '0'.repeat(64), covered: 0 };
}

export function encodeIndex(ix: SeqIndex): Buffer {
  const buf = Buffer.alloc(HEADER + 8 * ix.offsets.length);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(ix.stride, 8);
  buf.writeDoubleLE(ix.covered, 16);
  buf.writeDoubleLE(ix.lastSeq, 24);
  Buffer.from(ix.lastHash, 'hex').copy(buf, 32);
  for (let i = 0; i < ix.offsets.length; i++) buf.writeDoubleLE(ix.offsets[i], HEADER + 8 * i);
  return buf;
}

export function decodeIndex(buf: Buffer): SeqIndex | undefined {
  if (buf.length < HEADER || !buf.subarray(0, 8).equals(MAGIC)) return undefined;
  const stride = buf.readUInt32LE(8);
  const covered = buf.readDoubleLE(16);
  const lastSeq = buf.readDoubleLE(24);
  if (stride < 1 || !Number.isSafeInteger(covered) || !Number.isSafeInteger(lastSeq) || covered < 0 || lastSeq < 0) return undefined;
  const n = Math.ceil(lastSeq / stride);
  if (buf.length !== HEADER + 8 * n) return undefined;
  const offsets: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const o = buf.readDoubleLE(HEADER + 8 * i);
    if (!Number.isSafeInteger(o) || o < 0 || o >= covered || (i > 0 && o <= offsets[i - 1])) return undefined;
    offsets[i] = o;
  }
  return { stride, offsets, lastSeq, lastHash: buf.toString('hex', 32, 64), covered };
}

/** Is the record ending at `ix.covered` still the one the index describes? */
function stillMatches(fd: number, size: number, ix: SeqIndex): boolean {
  if (ix.covered > size) return false;
  if (ix.covered === 0) return ix.lastSeq === 0;
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, ix.covered - 1);
  if (one[0] !== 10) return false;
  const last = lastLineBefore(fd, ix.covered);
  if (!last) return false;
  const head = headOf(last.text);
  return head !== undefined && head.seq === ix.lastSeq && head.hash === ix.lastHash;
}

/** The seq and hash of a line, cheaply (no validation: the index is a hint). */
function headOf(text: string): { seq: number; hash: string } | undefined {
  try {
    const o = JSON.parse(text) as { seq?: unknown; hash?: unknown };
    if (typeof o !== 'object' || o === null || typeof o.seq !== 'number' || typeof o.hash !== 'string' || !/^[0-9a-f]{64}$/.test(o.hash)) return undefined;
    return { seq: o.seq, hash: o.hash };
  } catch {
    return undefined;
  }
}

/** Extend `ix` over the complete lines in [ix.covered, end). Returns false when line numbers and seqs disagree. */
function extend(fd: number, ix: SeqIndex, end: number): boolean {
  if (end <= ix.covered) return true;
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let line = ix.lastSeq; // lines seen so far
  const offsets = ix.offsets.slice();
  if (line % ix.stride === 0) offsets.push(ix.covered); // the next line starts a stride
  for (let pos = ix.covered; pos < end; ) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (got === 0) return false;
    let i = buf.indexOf(10, 0);
    while (i >= 0 && i < got) {
      line++;
      const next = pos + i + 1;
      if (line % ix.stride === 0 && next < end) offsets.push(next);
      i = buf.indexOf(10, i + 1);
    }
    pos += got;
  }
  const last = lastLineBefore(fd, end);
  const head = last ? headOf(last.text) : undefined;
  if (!head || head.seq !== line) return false;
  ix.offsets = offsets;
  ix.lastSeq = line;
  ix.lastHash = head.hash;
  ix.covered = end;
  return true;
}

/**
 * The index of the ledger at `path`, brought up to date with the log (loaded, extended or rebuilt) and saved
 * back to the sidecar when it changed (best effort: a read-only directory just means no sidecar). Returns
 * undefined when the log cannot be indexed (its lines and seqs disagree: the ledger is damaged; verify says where).
 */
export function loadIndex(path: string, opts: { stride?: number; save?: boolean } = {}): LoadIndexResult | undefined {
  const stride = opts.stride ?? DEFAULT_STRIDE;
  const ixPath = indexPathOf(path);
  return withFile(path, (fd, size) => {
    const end = lastNewlineEnd(fd, size);
    let status: LoadIndexResult['status'] = 'current';
    let ix: SeqIndex | undefined;
    let existed = false;
    try {
      ix = decodeIndex(readFileSync(ixPath));
      existed = true;
    } catch {
      ix = undefined;
    }
    if (ix && (ix.stride !== stride && opts.stride !== undefined)) ix = undefined;
    if (ix && !stillMatches(fd, size, ix)) ix = undefined;
    if (!ix) {
      ix = emptyIndex(stride);
      status = existed ? 'rebuilt' : 'built';
      if (!extend(fd, ix, end)) return undefined;
    } else if (ix.covered < end) {
      if (!extend(fd, ix, end)) {
        ix = emptyIndex(stride);
        status = 'rebuilt';
        if (!extend(fd, ix, end)) return undefined;
      } else status = 'extended';
    }
    if (status !== 'current' && opts.save !== false) saveIndex(ixPath, ix);
    return { index: ix, status };
  });
}

function saveIndex(ixPath: string, ix: SeqIndex): void {
  const tmp = `${ixPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, encodeIndex(ix));
    renameSync(tmp, ixPath);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing written */
    }
  }
}

/** Where to start reading for `seq`: the offset and line of the nearest indexed record at or before it. */
export function seekPoint(ix: SeqIndex, seq: number): { offset: number; line: number } {
  if (seq <= 1 || ix.offsets.length === 0) return { offset: 0, line: 1 };
  const i = Math.min(Math.floor((seq - 1) / ix.stride), ix.offsets.length - 1);
  return { offset: ix.offsets[i], line: 1 + i * ix.stride };
}

/** What the sidecar index last saw of the log (seq and hash of its last record), unchecked: an anchor for verify. */
export function indexAnchor(path: string): { seq: number; hash: string } | undefined {
  try {
    const ix = decodeIndex(readFileSync(indexPathOf(path)));
    return ix && ix.lastSeq > 0 ? { seq: ix.lastSeq, hash: ix.lastHash } : undefined;
  } catch {
    return undefined;
  }
}
