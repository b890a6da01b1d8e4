/**
 * Streaming strace reader: files are read in chunks (never whole), lines are parsed with
 * parseLine, `<unfinished ...>` / `<... NAME resumed>` halves are merged per pid, lines
 * without a pid are attributed, and -ff sets (FILE.PID) are merged.
 *
 * Rules (the ones a reader of strace output has to choose):
 * - Order: records come out in the order their LAST line appears. A merged call comes out at
 *   its resumed line and keeps `line` = its START line and `endLine` = the resumed line.
 * - A START that is never resumed comes out with `unfinished: true` when the same pid starts
 *   another call, exits/is killed, or at the end of the input.
 * - A `<... NAME resumed>` with no START (tracing began with -p in the middle of a call) comes
 *   out alone with `orphan: true`. A resumed NAME that differs from the pending START's name is
 *   a StraceParseError.
 * - Lines without a pid (strace without -f, or -f on stderr, which omits "[pid N] " while only
 *   one tracee is alive) belong to: the `pid` option if given (an -ff file's suffix pid);
 *   else the only live tracee (strace drops the prefix exactly then); else the leader — the first
 *   traced process. The leader is learned from the first "strace: Process N attached" seen
 *   before any call (-p), from the first "[pid N]" prefix whose N was not announced as attached,
 *   or from the result of set_tid_address/getpid/gettid on a pid-less line. Pid-less records
 *   wait (in order, with everything after them) until the leader is known; if it never is (or
 *   more than `maxPendingPidless` records wait), they get pid 0 with pidFrom 'unknown'.
 * - "strace: Process N attached" printed in the middle of a call line (stderr output) splits
 *   that line: an info record comes out, and the call continues on the next physical line
 *   (the merged call has `line` = first part, `endLine` = continuation).
 * - -t/-tt times are seconds since midnight; a time more than 12 h earlier than the previous
 *   one in the same input is taken as the next day (+86400).
 * - -ff: one input per pid (pid = numeric suffix). When every file's first record has a time,
 *   records are merged by time (ties: file order, then line order); otherwise files are read
 *   one after another in ascending pid order, each in its own line order.
 */
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readdir } from 'node:fs/promises';
import { parseLine, StraceParseError, type PidSource, type StraceRecord } from './line.js';
import { parseArgs } from './values.js';

export interface StraceReadOptions {
  /** Skip bad lines (counted in stats) instead of throwing StraceParseError. */
  lenient?: boolean;
  /** The pid of lines that carry none (a trace of one known process, e.g. `strace -p PID -o F`). */
  pid?: number;
  /** Parse `args` eagerly for these syscalls (names, a predicate, or 'all'); others keep only
   *  argsText (use recordArgs()). Default: none. */
  parseArgsFor?: Iterable<string> | ((name: string) => boolean) | 'all';
  /** Called after every chunk with the bytes read so far and the total size. */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Read size in bytes (default 64 KiB). */
  chunkSize?: number;
  /** Pid-less records that may wait for the leader's pid (default 100000). */
  maxPendingPidless?: number;
  /** How many StraceParseErrors lenient mode keeps in stats.errors (default 20). */
  maxErrorsKept?: number;
}

export interface StraceStats {
  /** Physical lines read. */
  lines: number;
  /** Records produced. */
  records: number;
  bytes: number;
  /** Lines skipped in lenient mode. */
  badLines: number;
  /** The first few errors of lenient mode. */
  errors: StraceParseError[];
  /** START halves never resumed. */
  neverResumed: number;
  /** RESUMED halves without a START. */
  orphanResumes: number;
  /** Records whose pid could not be known (pid 0). */
  pidUnknown: number;
  /** The leader pid, when learned. */
  leader?: number;
}

export function emptyStats(): StraceStats {
  return { lines: 0, records: 0, bytes: 0, badLines: 0, errors: [], neverResumed: 0, orphanResumes: 0, pidUnknown: 0 };
}

const BATCH = 256;
const MIDLINE_RE = /strace: Process (\d+) (attached|detached)$/;
const LEADER_CALLS = new Set(['set_tid_address', 'getpid', 'gettid']);

/**
 * The synchronous core: feed physical lines in order with push(), then end(). Records are
 * appended to the `out` array given to each call.
 */
export class StraceAssembler {
  readonly stats: StraceStats;
  private readonly file: string;
  private readonly lenient: boolean;
  private readonly fixedPid: number | undefined;
  private readonly fixedPidFrom: PidSource;
  private readonly argsPred: ((name: string) => boolean) | undefined;
  private readonly maxPending: number;
  private readonly maxErrors: number;
  private readonly pending = new Map<number, StraceRecord>();
  private readonly live = new Set<number>();
  private readonly attached = new Set<number>();
  private leader: number | undefined;
  private leaderGivenUp = false;
  private sawCall = false;
  /** Records waiting for the leader's pid (the first is pid-less). */
  private queue: StraceRecord[] = [];
  /** Text of a line split by a mid-line strace message, and its line number. */
  private carry: string | undefined;
  private carryLine = 0;
  private dayOffset = 0;
  private lastDaySeconds = -1;

  constructor(file: string, opts: StraceReadOptions & { pidFrom?: PidSource } = {}, stats?: StraceStats) {
    this.file = file;
    this.stats = stats ?? emptyStats();
    this.lenient = opts.lenient ?? false;
    this.fixedPid = opts.pid;
    this.fixedPidFrom = opts.pidFrom ?? 'option';
    this.maxPending = opts.maxPendingPidless ?? 100000;
    this.maxErrors = opts.maxErrorsKept ?? 20;
    const p = opts.parseArgsFor;
    if (p === 'all') this.argsPred = () => true;
    else if (typeof p === 'function') this.argsPred = p;
    else if (p !== undefined) {
      const s = new Set(p);
      this.argsPred = (n) => s.has(n);
    }
    if (this.fixedPid !== undefined) this.leader = this.fixedPid;
  }

  /** Feed one physical line (without its newline). */
  push(text: string, lineNo: number, out: StraceRecord[]): void {
    this.stats.lines++;
    let line = lineNo;
    let endLine: number | undefined;
    if (this.carry !== undefined) {
      const head = this.carry;
      line = this.carryLine;
      this.carry = undefined;
      if (text.startsWith('[pid ') || text.startsWith('strace: ')) {
        // the split line was abandoned: what was printed is the START of an unfinished call
        this.handleLine(head + ' <unfinished ...>', line, undefined, out);
        line = lineNo;
      } else {
        text = head + text;
        endLine = lineNo;
      }
    }
    // "...strace: Process N attached" at the end of a partial call line (stderr output)
    const last = text.charCodeAt(text.length - 1);
    if (last === 100 /* d */) {
      const m = MIDLINE_RE.exec(text);
      if (m && m.index > 0 && text.slice(0, m.index).trim() !== '') {
        this.handleLine(text.slice(m.index), line, undefined, out);
        this.carry = text.slice(0, m.index);
        this.carryLine = line;
        return;
      }
    }
    this.handleLine(text, line, endLine, out);
  }

  /** End of input: flush the carry, the pid-less queue and the never-resumed STARTs. */
  end(out: StraceRecord[]): void {
    if (this.carry !== undefined) {
      const head = this.carry;
      this.carry = undefined;
      this.handleLine(head + ' <unfinished ...>', this.carryLine, undefined, out);
    }
    if (this.queue.length > 0) this.resolveLeader(undefined, out);
    for (const r of this.pending.values()) this.emitUnfinished(r, out);
    this.pending.clear();
  }

  private handleLine(text: string, line: number, endLine: number | undefined, out: StraceRecord[]): void {
    let r: StraceRecord | null;
    try {
      r = parseLine(text, { file: this.file, line });
    } catch (e) {
      if (e instanceof StraceParseError && this.lenient) {
        this.stats.badLines++;
        if (this.stats.errors.length < this.maxErrors) this.stats.errors.push(e);
        return;
      }
      throw e;
    }
    if (r === null) return;
    if (endLine !== undefined) r.endLine = endLine;
    if (r.time && r.time.clock === 'day') {
      let s = r.time.seconds + this.dayOffset;
      if (this.lastDaySeconds >= 0 && s < this.lastDaySeconds - 43200) {
        this.dayOffset += 86400;
        s += 86400;
      }
      r.time.seconds = s;
      this.lastDaySeconds = s;
    }
    this.attribute(r, out);
  }

  /** Decide the pid of a record, or queue it until the leader is known. */
  private attribute(r: StraceRecord, out: StraceRecord[]): void {
    if (r.kind === 'info' && r.subjectPid !== undefined) {
      r.pid = r.subjectPid;
      r.pidFrom = 'message';
      if (r.name === 'attached') {
        if (this.leader === undefined && !this.sawCall && this.queue.length === 0) this.setLeader(r.subjectPid);
        this.attached.add(r.subjectPid);
        this.live.add(r.subjectPid);
      } else if (r.name === 'detached') {
        this.live.delete(r.subjectPid);
      }
      if (this.queue.length > 0) this.queue.push(r);
      else this.deliver(r, out);
      return;
    }
    if (r.kind === 'syscall') this.sawCall = true;
    if (r.pidFrom === 'line') {
      if (this.leader === undefined && !this.attached.has(r.pid)) {
        this.setLeader(r.pid);
        if (this.queue.length > 0) this.resolveLeader(r.pid, out);
      }
      if (this.queue.length > 0) {
        this.queue.push(r);
        return;
      }
      this.deliver(r, out);
      return;
    }
    if (r.kind === 'info' && r.name === 'message') {
      // strace's own message about no particular process
      if (this.queue.length > 0) this.queue.push(r);
      else this.deliver(r, out);
      return;
    }
    // no pid on the line
    if (this.fixedPid !== undefined) {
      r.pid = this.fixedPid;
      r.pidFrom = this.fixedPidFrom;
      this.deliver(r, out);
      return;
    }
    if (this.leader === undefined && !this.leaderGivenUp) {
      // the leader reveals itself through these results
      if (r.kind === 'syscall' && !r.resumed && !r.unfinished && LEADER_CALLS.has(r.name!) && typeof r.ret?.value === 'number' && r.ret.value > 0) {
        const l = r.ret.value;
        this.setLeader(l);
        this.resolveLeader(l, out);
        this.attributeKnown(r);
        this.deliver(r, out);
        return;
      }
      (r as Queued).__pidless = true;
      this.queue.push(r);
      if (this.queue.length > this.maxPending) {
        this.leaderGivenUp = true;
        this.resolveLeader(undefined, out);
      }
      return;
    }
    if (this.queue.length > 0) {
      (r as Queued).__pidless = true;
      this.queue.push(r);
      return;
    }
    this.attributeKnown(r);
    this.deliver(r, out);
  }

  private attributeKnown(r: StraceRecord): void {
    if (this.leader === undefined) {
      r.pid = 0;
      r.pidFrom = 'unknown';
      this.stats.pidUnknown++;
      return;
    }
    if (this.live.size === 1) {
      const only = this.live.values().next().value as number;
      r.pid = only;
      r.pidFrom = only === this.leader ? 'leader' : 'only-live';
    } else {
      r.pid = this.leader;
      r.pidFrom = 'leader';
    }
  }

  private setLeader(pid: number): void {
    this.leader = pid;
    this.stats.leader = pid;
    this.live.add(pid);
  }

  /** Give the queued pid-less records their pid (the leader, or 0 when unknown) and deliver. */
  private resolveLeader(pid: number | undefined, out: StraceRecord[]): void {
    const q = this.queue;
    this.queue = [];
    for (const r of q) {
      if ((r as Queued).__pidless) {
        delete (r as Queued).__pidless;
        if (pid === undefined) {
          r.pid = 0;
          r.pidFrom = 'unknown';
          this.stats.pidUnknown++;
        } else {
          this.attributeKnown(r);
        }
      }
      this.deliver(r, out);
    }
  }

  /** Merge halves, track liveness, emit. */
  private deliver(r: StraceRecord, out: StraceRecord[]): void {
    const pid = r.pid;
    if (r.pidFrom === 'line' && r.kind !== 'exit' && r.kind !== 'killed') this.live.add(pid);
    switch (r.kind) {
      case 'syscall': {
        if (r.resumed) {
          const start = this.pending.get(pid);
          if (start === undefined) {
            delete r.resumed;
            if (r.unfinished) {
              // a resumed half that is itself unfinished: wait for the rest
              r.orphan = true;
              this.stats.orphanResumes++;
              this.pending.set(pid, r);
              return;
            }
            r.orphan = true;
            this.stats.orphanResumes++;
            this.emit(r, out);
            return;
          }
          if (start.name !== r.name) {
            this.pending.delete(pid);
            const err = new StraceParseError(
              this.file,
              r.line,
              `"<... ${r.name} resumed>" for pid ${pid}, but its unfinished call is ${start.name} (line ${start.line})`,
            );
            if (!this.lenient) throw err;
            this.stats.badLines++;
            if (this.stats.errors.length < this.maxErrors) this.stats.errors.push(err);
            this.emitUnfinished(start, out);
            return;
          }
          start.argsText += r.argsText;
          start.endLine = r.endLine ?? r.line;
          if (r.time) start.endTime = r.time;
          if (r.unfinished) return; // resumed, and unfinished again
          this.pending.delete(pid);
          delete start.unfinished;
          if (r.ret) start.ret = r.ret;
          if (r.errno !== undefined) start.errno = r.errno;
          if (r.errnoText !== undefined) start.errnoText = r.errnoText;
          if (r.durationSec !== undefined) start.durationSec = r.durationSec;
          if (r.interrupted) start.interrupted = true;
          if (r.detached) start.detached = true;
          this.emit(start, out);
          return;
        }
        if (r.unfinished) {
          const prev = this.pending.get(pid);
          if (prev) this.emitUnfinished(prev, out);
          this.pending.set(pid, r);
          return;
        }
        this.emit(r, out);
        return;
      }
      case 'exit':
      case 'killed': {
        const prev = this.pending.get(pid);
        if (prev) {
          this.pending.delete(pid);
          this.emitUnfinished(prev, out);
        }
        this.live.delete(pid);
        this.emit(r, out);
        return;
      }
      default:
        this.emit(r, out);
    }
  }

  private emitUnfinished(r: StraceRecord, out: StraceRecord[]): void {
    r.unfinished = true;
    this.stats.neverResumed++;
    this.emit(r, out);
  }

  private emit(r: StraceRecord, out: StraceRecord[]): void {
    if (r.kind === 'syscall' && this.argsPred !== undefined && this.argsPred(r.name!)) r.args = parseArgs(r.argsText);
    this.stats.records++;
    out.push(r);
  }
}

type Queued = StraceRecord & { __pidless?: boolean };

/** Split text into lines and feed an assembler (sync; for tests and small inputs). */
export function parseStraceText(
  text: string,
  opts: StraceReadOptions & { file?: string } = {},
): { records: StraceRecord[]; stats: StraceStats } {
  const a = new StraceAssembler(opts.file ?? '<input>', opts);
  const out: StraceRecord[] = [];
  let from = 0;
  let no = 0;
  const n = text.length;
  while (from < n) {
    let k = text.indexOf('\n', from);
    if (k < 0) k = n;
    a.push(text.slice(from, k), ++no, out);
    from = k + 1;
  }
  a.end(out);
  a.stats.bytes = n;
  return { records: out, stats: a.stats };
}

/** Read a file's lines in chunks (latin1: one char per byte) and yield batches of records. */
async function* fileBatches(
  path: string,
  opts: StraceReadOptions & { pidFrom?: PidSource },
  stats: StraceStats,
  label = path,
): AsyncGenerator<StraceRecord[]> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new StraceParseError(label, 0, `cannot open: ${(e as Error).message}`);
  }
  let next: Promise<{ bytesRead: number }> | undefined;
  try {
    const total = (await fh.stat()).size;
    const size = Math.max(4096, opts.chunkSize ?? 1 << 16);
    // Two buffers: the next chunk is read (on libuv's thread pool) while this one is parsed,
    // instead of the parser idling on every read.
    let buf = Buffer.allocUnsafe(size);
    let spare = Buffer.allocUnsafe(size);
    const asm = new StraceAssembler(label, opts, stats);
    let carry = '';
    let lineNo = 0;
    let readBytes = 0;
    next = fh.read(buf, 0, size, null);
    for (;;) {
      const { bytesRead } = await next;
      if (bytesRead === 0) break;
      readBytes += bytesRead;
      stats.bytes += bytesRead;
      // Keep the chunk a flat string: `carry + chunk` would make a cons string whose every
      // indexOf/slice is slow. Only the first line of a chunk joins the carried tail.
      const chunk = buf.toString('latin1', 0, bytesRead);
      [buf, spare] = [spare, buf];
      next = fh.read(buf, 0, size, null);
      let out: StraceRecord[] = [];
      let from = 0;
      for (;;) {
        const k = chunk.indexOf('\n', from);
        if (k < 0) break;
        if (from === 0 && carry !== '') {
          asm.push(carry + chunk.slice(0, k), ++lineNo, out);
          carry = '';
        } else {
          asm.push(chunk.slice(from, k), ++lineNo, out);
        }
        from = k + 1;
        // small batches: records die young (a chunk's worth held at once costs GC time)
        if (out.length >= BATCH) {
          yield out;
          out = [];
        }
      }
      carry = from === 0 ? carry + chunk : carry + chunk.slice(from);
      opts.onProgress?.(readBytes, total);
      if (out.length > 0) yield out;
    }
    const out: StraceRecord[] = [];
    if (carry !== '') asm.push(carry, ++lineNo, out);
    asm.end(out);
    if (out.length > 0) yield out;
  } finally {
    // a read still in flight when the consumer stopped (or a line threw) ends before the close
    if (next) await next.catch(() => undefined);
    await fh.close();
  }
}

/** An async stream of records with running statistics. Iterate once. */
export class StraceReader implements AsyncIterable<StraceRecord> {
  readonly stats: StraceStats = emptyStats();
  private used = false;
  constructor(private readonly source: (stats: StraceStats) => AsyncGenerator<StraceRecord[]>) {}

  /** Records in batches (cheaper than one await per record). */
  batches(): AsyncGenerator<StraceRecord[]> {
    if (this.used) throw new Error('StraceReader can be iterated only once');
    this.used = true;
    return this.source(this.stats);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StraceRecord> {
    for await (const b of this.batches()) yield* b;
  }

  /** Collect every record (small inputs and tests). */
  async toArray(): Promise<StraceRecord[]> {
    const all: StraceRecord[] = [];
    for await (const b of this.batches()) for (const r of b) all.push(r);
    return all;
  }
}

/** Read one strace output file (`strace -f -o FILE`, stderr output, or one -ff file with `pid`). */
export function readStrace(path: string, opts: StraceReadOptions = {}): StraceReader {
  return new StraceReader((stats) => fileBatches(path, opts, stats));
}

export interface FfFile {
  pid: number;
  path: string;
}

/** The pid of an -ff file from its name (`trace.11560` → 11560), or undefined. */
export function ffPidOf(path: string): number | undefined {
  const m = /\.(\d+)$/.exec(basename(path));
  return m ? Number(m[1]) : undefined;
}

/** The files of an -ff set `PREFIX.PID`, sorted by pid. */
export async function findFfFiles(prefix: string): Promise<FfFile[]> {
  const dir = dirname(prefix);
  const base = basename(prefix) + '.';
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new StraceParseError(prefix, 0, `cannot list the -ff set: ${(e as Error).message}`);
  }
  const files: FfFile[] = [];
  for (const n of names) {
    if (!n.startsWith(base)) continue;
    const rest = n.slice(base.length);
    if (/^\d+$/.test(rest)) files.push({ pid: Number(rest), path: join(dir, n) });
  }
  if (files.length === 0) throw new StraceParseError(prefix, 0, `no files named ${base}PID in ${dir}`);
  return files.sort((a, b) => a.pid - b.pid);
}

/**
 * Read an -ff set: `files` are paths ending in `.PID` (or a prefix: every `PREFIX.PID`).
 * Records are merged by time when every file has timestamps, else read file by file in
 * ascending pid order.
 */
export function readStraceFf(files: string[] | { prefix: string }, opts: StraceReadOptions = {}): StraceReader {
  return new StraceReader((stats) => ffBatches(files, opts, stats));
}

async function* ffBatches(
  files: string[] | { prefix: string },
  opts: StraceReadOptions,
  stats: StraceStats,
): AsyncGenerator<StraceRecord[]> {
  let set: FfFile[];
  if (Array.isArray(files)) {
    set = [];
    const seen = new Map<number, string>();
    for (const p of files) {
      const pid = ffPidOf(p);
      if (pid === undefined) throw new StraceParseError(p, 0, 'an -ff file name must end in .PID');
      const dup = seen.get(pid);
      if (dup !== undefined) throw new StraceParseError(p, 0, `pid ${pid} appears twice in the -ff set (also ${dup})`);
      seen.set(pid, p);
      set.push({ pid, path: p });
    }
    set.sort((a, b) => a.pid - b.pid);
  } else {
    set = await findFfFiles(files.prefix);
  }
  if (set.length === 0) return;
  const total = { n: 0 };
  const perFile = set.map((f) =>
    fileBatches(f.path, { ...opts, pid: f.pid, pidFrom: 'file', onProgress: undefined }, stats),
  );
  const heads: { batch: StraceRecord[]; i: number; done: boolean; gen: AsyncGenerator<StraceRecord[]>; last: number }[] = [];
  const report = () => opts.onProgress?.(stats.bytes, total.n);
  if (opts.onProgress) {
    const { stat } = await import('node:fs/promises');
    for (const f of set) {
      try {
        total.n += (await stat(f.path)).size;
      } catch {
        /* reported when opened */
      }
    }
  }
  for (const gen of perFile) {
    const h = { batch: [] as StraceRecord[], i: 0, done: false, gen, last: -Infinity };
    await refill(h);
    heads.push(h);
  }
  report();
  const timed = heads.every((h) => h.done || h.batch[0]?.time !== undefined);
  if (!timed) {
    for (const h of heads) {
      while (!h.done) {
        yield h.batch.slice(h.i);
        h.i = h.batch.length;
        await refill(h);
        report();
      }
    }
    return;
  }
  const out: StraceRecord[] = [];
  for (;;) {
    let best = -1;
    let bestT = Infinity;
    for (let k = 0; k < heads.length; k++) {
      const h = heads[k];
      if (h.done) continue;
      const r = h.batch[h.i];
      const t = r.time?.seconds ?? h.last;
      if (t < bestT) {
        bestT = t;
        best = k;
      }
    }
    if (best < 0) break;
    const h = heads[best];
    const r = h.batch[h.i++];
    if (r.time) h.last = r.time.seconds;
    out.push(r);
    if (h.i >= h.batch.length) {
      await refill(h);
      report();
    }
    if (out.length >= 4096) yield out.splice(0, out.length);
  }
  if (out.length > 0) yield out;

  async function refill(h: { batch: StraceRecord[]; i: number; done: boolean; gen: AsyncGenerator<StraceRecord[]> }) {
    for (;;) {
      const n = await h.gen.next();
      if (n.done) {
        h.done = true;
        h.batch = [];
        h.i = 0;
        return;
      }
      if (n.value.length > 0) {
        h.batch = n.value;
        h.i = 0;
        return;
      }
    }
  }
}
