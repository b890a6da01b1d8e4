/**
 * Reading a ledger file as lines, fast: large reads, '\n' found with Buffer.indexOf, one string per line, byte
 * offsets kept (for the index, for torn-tail truncation and for error messages). Only '\n'-terminated lines are
 * returned; bytes after the last '\n' are the unterminated tail (a writer mid-append, or a torn line).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LedgerError, LedgerNotFoundError } from './errors.js';

/** Open a ledger read-only; a missing file is a LedgerNotFoundError, other failures a LedgerError naming it. */
export function openLedgerFile(path: string): number {
  try {
    const fd = openSync(path, 'r');
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new LedgerError(path, `${path}: not a regular file`);
    }
    return fd;
  } catch (e) {
    if (e instanceof LedgerError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LedgerNotFoundError(path);
    throw new LedgerError(path, `${path}: ${(e as Error).message}`);
  }
}

export interface LineChunk {
  lines: string[];
  /** Byte offset of the start of each line. */
  offsets: number[];
  /** Line number (1-based) of lines[0]. */
  firstLine: number;
  /** Byte offset just after the last line's '\n'. */
  end: number;
}

export const CHUNK_BYTES = 1 << 20;

export class LineScanner {
  private buf: Buffer;
  /** File offset of buf[0]. */
  private bufStart: number;
  /** Valid bytes in buf. */
  private bufLen = 0;
  /** Offset of the next unread byte of the file. */
  private readPos: number;
  private line: number;
  private done = false;
  /** After next() returned null: offset and length of the unterminated bytes at the end (length 0: none). */
  tailOffset: number;
  tailLength = 0;

  constructor(
    private readonly fd: number,
    start: number,
    /** Read up to this byte offset (exclusive): a fixed view of a file that may be growing. */
    private readonly limit: number,
    firstLine = 1,
    chunkBytes = CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.bufStart = start;
    this.readPos = start;
    this.line = firstLine;
    this.tailOffset = start;
  }

  /** The next run of complete lines, or null at the end. */
  next(): LineChunk | null {
    if (this.done) return null;
    for (;;) {
      // Fill the buffer behind what is left of a partial line.
      if (this.readPos < this.limit) {
        if (this.bufLen === this.buf.length) {
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, this.bufLen);
          this.buf = bigger;
        }
        const want = Math.min(this.buf.length - this.bufLen, this.limit - this.readPos);
        const n = readSync(this.fd, this.buf, this.bufLen, want, this.readPos);
        if (n === 0) {
          // The file shrank under us: stop at what was read.
          this.readPos = this.limit;
        } else {
          this.bufLen += n;
          this.readPos += n;
        }
      }
      const lastNl = this.buf.lastIndexOf(10, this.bufLen - 1);
      if (lastNl < 0 || this.bufLen === 0) {
        if (this.readPos >= this.limit) return this.finish();
        continue; // a line longer than the buffer: read more (the buffer grows)
      }
      const lines: string[] = [];
      const offsets: number[] = [];
      const buf = this.buf;
      let s = 0;
      while (s <= lastNl) {
        const e = buf.indexOf(10, s);
        lines.push(buf.toString('utf8', s, e));
        offsets.push(this.bufStart + s);
        s = e + 1;
      }
      const chunk: LineChunk = { lines, offsets, firstLine: this.line, end: this.bufStart + lastNl + 1 };
      this.line += lines.length;
      // Keep the partial line at the front.
      const rest = this.bufLen - (lastNl + 1);
      if (rest > 0) buf.copy(buf, 0, lastNl + 1, this.bufLen);
      this.bufStart += lastNl + 1;
      this.bufLen = rest;
      return chunk;
    }
  }

  /** The bytes of the unterminated tail (valid after next() returned null). */
  tailText(): string {
    return this.buf.toString('utf8', 0, this.tailLength);
  }

  /** The line number the tail (or the next line) has. */
  get nextLine(): number {
    return this.line;
  }

  private finish(): null {
    this.done = true;
    this.tailOffset = this.bufStart;
    this.tailLength = this.bufLen;
    return null;
  }
}

/** Run fn with a read-only fd of the file and its size at open time. */
export function withFile<T>(path: string, fn: (fd: number, size: number) => T): T {
  const fd = openLedgerFile(path);
  try {
    return fn(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/**
 * The last '\n'-terminated line ending at or before `end` (its text and start offset), or null when there is
 * none. Reads backwards in small blocks.
 */
export function lastLineBefore(fd: number, end: number): { text: string; offset: number; line?: undefined } | null {
  if (end <= 0) return null;
  const one = Buffer.alloc(1);
  readSync(fd, one, 0, 1, end - 1);
  if (one[0] !== 10) throw new RangeError('lastLineBefore: end is not just after a newline');
  let block = 4096;
  for (;;) {
    const from = Math.max(0, end - 1 - block);
    const len = end - 1 - from;
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, buf, got, len - got, from + got);
      if (n === 0) break;
      got += n;
    }
    const nl = buf.lastIndexOf(10, got - 1);
    if (nl >= 0) return { text: buf.toString('utf8', nl + 1, got), offset: from + nl + 1 };
    if (from === 0) return { text: buf.toString('utf8', 0, got), offset: 0 };
    block *= 4;
  }
}

/** Offset just after the last '\n' at or before `end` (0 when none), and whether bytes follow it. */
export function lastNewlineEnd(fd: number, end: number): number {
  let pos = end;
  const block = 65536;
  const buf = Buffer.allocUnsafe(block);
  while (pos > 0) {
    const from = Math.max(0, pos - block);
    const n = readSync(fd, buf, 0, pos - from, from);
    const nl = buf.lastIndexOf(10, n - 1);
    if (nl >= 0) return from + nl + 1;
    pos = from;
  }
  return 0;
}

/** Number of '\n' in the first `end` bytes (for line numbers in error messages without parsing). */
export function countLines(fd: number, end: number): number {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let n = 0;
  for (let pos = 0; pos < end; ) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (got === 0) break;
    let i = buf.indexOf(10, 0);
    while (i >= 0 && i < got) {
      n++;
      i = buf.indexOf(10, i + 1);
    }
    pos += got;
  }
  return n;
}
