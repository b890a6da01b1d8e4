/**
 * From parsed strace records to kernel ops (src/kernel/ops.ts), streaming.
 *
 * Three parts:
 *  - strace argument text: top-level splitting, C strings, `-yy` fd annotations, flag sets (symbolic, -X raw
 *    numbers, -X verbose `0x80 /* CLONE_NEWTIME *\/`), structs and timespecs;
 *  - `StraceToOps`: one record in, zero or more TraceEvents out. It keeps its own model world (applied with the
 *    recorded outcomes as the truth) to know which fds are tracked, which tasks exist, and which time namespace a
 *    clock reading came from. Pids are bound on first sight: a child's pid from the clone return value, a pid seen
 *    without a creating line is adopted with host.spawn and a warning. Every syscall it does not model is skipped
 *    and counted by name.
 *  - `HostClock`: the host clock estimate (see the comment there) that turns readings into host.advance events.
 */
import {
  CLONE,
  CLOCK,
  ERRNO_NUMBERS,
  createWorld,
  type Cap,
  type Errno,
  type Op,
  type Outcome,
  type Timespec,
  type World,
  type WorldOptions,
} from '../kernel/index.js';
import { applyWithTruth } from './check.js';
import type { StraceRecord } from './strace/index.js';


/** Split "a, {b, c}, "d, e"" at top-level commas (strings, braces, brackets, parens and fd annotations nest). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      continue;
    }
    if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === 123 || c === 91 || c === 40 || c === 60) depth++;
    else if (c === 125 || c === 93 || c === 41 || c === 62) {
      // "=>" in clone3's "{...} => {...}" is not a closing bracket.
      if (!(c === 62 && text.charCodeAt(i - 1) === 61)) depth--;
    } else if (c === 44 && depth === 0) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
    i++;
  }
  const last = text.slice(start).trim();
  if (last !== '' || out.length > 0) out.push(last);
  return out;
}

/** Remove C comments (`/* 2 vars *\/`). */
export function stripComments(s: string): string {
  return s.indexOf('/*') < 0 ? s : s.replace(/\/\*.*?\*\//g, '').trim();
}

export interface CString {
  value: string;
  /** strace cut the string at -s: the value is a prefix. */
  truncated: boolean;
}

/** Decode a C string literal as strace prints it: "..." with \n \t \\ \" \xHH \NNN escapes, `...` after it when cut. */
export function parseCString(arg: string): CString | null {
  if (arg.charCodeAt(0) !== 34) return null;
  let out = '';
  let i = 1;
  const n = arg.length;
  while (i < n) {
    const c = arg[i];
    if (c === '"') {
      return { value: out, truncated: arg.slice(i + 1).startsWith('...') };
    }
    if (c !== '\\') {
      // Fast path: copy a run without escapes.
      let j = i;
      while (j < n && arg[j] !== '\\' && arg[j] !== '"') j++;
      out += arg.slice(i, j);
      i = j;
      continue;
    }
    const e = arg[i + 1];
    i += 2;
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'v':
        out += '\v';
        break;
      case 'f':
        out += '\f';
        break;
      case 'x': {
        out += String.fromCharCode(parseInt(arg.slice(i, i + 2), 16));
        i += 2;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          let j = i - 1;
          let k = 0;
          while (k < 3 && arg[j] >= '0' && arg[j] <= '7') {
            j++;
            k++;
          }
          out += String.fromCharCode(parseInt(arg.slice(i - 1, j), 8));
          i = j;
        } else out += e;
    }
  }
  return null;
}

/** An fd argument or return value with its optional -y/-yy annotation: `3</proc/1/timens_offsets>`, `7<time:[4026531834]>`. */
export interface FdArg {
  fd: number;
  annot?: string;
}

export function parseFd(arg: string): FdArg | null {
  const s = stripComments(arg);
  const m = /^(-?\d+|AT_FDCWD)(?:<(.*)>)?$/s.exec(s);
  if (!m) return null;
  return { fd: m[1] === 'AT_FDCWD' ? -100 : Number(m[1]), annot: m[2] };
}

/** An integer as strace prints it: decimal, 0x hex, 0 octal, possibly negative, possibly with a comment. */
export function parseInt0(arg: string): number | null {
  const s = stripComments(arg);
  if (/^-?\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return Number(s);
  if (/^0[0-7]+$/.test(s)) return parseInt(s, 8);
  return null;
}

export const SIGNALS: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18,
  SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27,
  SIGWINCH: 28, SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31, SIGRTMIN: 32,
};

const CLONE_NAMES: Record<string, number> = {};
for (const [k, v] of Object.entries(CLONE)) if (k !== 'CSIGNAL') CLONE_NAMES[`CLONE_${k}`] = v;

export const CLOCK_NAMES: Record<string, number> = {};
for (const [k, v] of Object.entries(CLOCK)) CLOCK_NAMES[`CLOCK_${k}`] = v;

export const OPEN_FLAGS: Record<string, number> = {
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000,
  O_APPEND: 0o2000, O_NONBLOCK: 0o4000, O_DSYNC: 0o10000, O_ASYNC: 0o20000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_NOATIME: 0o1000000, O_CLOEXEC: 0o2000000, O_SYNC: 0o4010000,
  O_PATH: 0o10000000, O_TMPFILE: 0o20200000,
};

/**
 * A flag set: names joined by '|' (CLONE_*, SIG*, O_*, other names in `extra`), numbers, `1<<N`. Returns null when
 * a name is unknown. Uses plain arithmetic (clone3 flags go beyond 32 bits).
 */
export function parseFlags(arg: string, extra?: Record<string, number>): number | null {
  if (extra !== undefined) return parseFlagsWith(arg, extra);
  // Without extra names the result depends on the text alone: the same flag sets come back on every line.
  let v = FLAGS_CACHE.get(arg);
  if (v === undefined) {
    v = parseFlagsWith(arg, NO_EXTRA);
    if (FLAGS_CACHE.size >= 4096) FLAGS_CACHE.clear();
    FLAGS_CACHE.set(arg, v);
  }
  return v;
}

const FLAGS_CACHE = new Map<string, number | null>();
const NO_EXTRA: Record<string, number> = {};

function parseFlagsWith(arg: string, extra: Record<string, number>): number | null {
  let s = arg.trim();
  // -X verbose: "0x80 /* CLONE_NEWTIME */" — the number is the truth.
  const verbose = /^(0x[0-9a-f]+|\d+)\s*\/\*.*\*\/$/i.exec(s);
  if (verbose) return Number(verbose[1]);
  s = stripComments(s);
  if (s === '') return null;
  let total = 0;
  for (const partRaw of s.split('|')) {
    const part = partRaw.trim();
    let v: number | undefined;
    if (/^-?\d+$/.test(part) || /^0x[0-9a-f]+$/i.test(part)) v = Number(part);
    else if (/^0[0-7]+$/.test(part)) v = parseInt(part, 8);
    else if (part in extra) v = extra[part];
    else if (part in CLONE_NAMES) v = CLONE_NAMES[part];
    else if (part in SIGNALS) v = SIGNALS[part];
    else if (part in OPEN_FLAGS) v = OPEN_FLAGS[part];
    else {
      const sh = /^1<<(\d+)$/.exec(part);
      if (sh) v = 2 ** Number(sh[1]);
    }
    if (v === undefined) return null;
    total = orNum(total, v);
  }
  return total;
}

/** Bitwise OR beyond 32 bits. */
export function orNum(a: number, b: number): number {
  const hi = (Math.floor(a / 0x100000000) | Math.floor(b / 0x100000000)) >>> 0;
  const lo = ((a >>> 0) | (b >>> 0)) >>> 0;
  return hi * 0x100000000 + lo;
}

/** `{a=1, b={c=2}}` → {a: '1', b: '{c=2}'} (one level). */
export function parseStruct(arg: string): Record<string, string> | null {
  const s = arg.trim();
  if (!s.startsWith('{')) return null;
  const end = matchingBrace(s, 0);
  const inner = s.slice(1, end < 0 ? s.length : end);
  const out: Record<string, string> = {};
  for (const f of splitArgs(inner)) {
    const eq = f.indexOf('=');
    if (eq > 0) out[f.slice(0, eq).trim()] = f.slice(eq + 1).trim();
  }
  return out;
}

export function matchingBrace(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      i++;
      while (i < s.length && s[i] !== '"') i += s[i] === '\\' ? 2 : 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** `{tv_sec=7445, tv_nsec=164381300}` → {sec, nsec}. */
export function parseTimespec(arg: string): { sec: number; nsec: number } | null {
  const st = parseStruct(arg);
  if (!st || st.tv_sec === undefined || st.tv_nsec === undefined) return null;
  const sec = parseInt0(st.tv_sec);
  const nsec = parseInt0(st.tv_nsec);
  if (sec === null || nsec === null) return null;
  return { sec, nsec };
}

export function parseClockId(arg: string): number | null {
  const s = stripComments(arg.trim());
  if (s in CLOCK_NAMES) return CLOCK_NAMES[s];
  const v = /^(0x[0-9a-f]+|\d+)\s*(?:\/\*.*\*\/)?$/i.exec(arg.trim());
  return v ? Number(v[1]) : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Records and events
// ---------------------------------------------------------------------------------------------------------------

/** One strace record, as the importer needs it (an adapter maps the parser's records to this). */
export interface ImportRecord {
  file: string;
  /** The first physical line (the `<unfinished ...>` one for a merged call). */
  line: number;
  /** The `<... resumed>` line of a merged call. */
  endLine?: number;
  pid: number;
  /** The trace timestamp in seconds (since the epoch with -ttt, since midnight with -t/-tt); absent without -t. */
  time?: number;
  kind: 'syscall' | 'exited' | 'killed' | 'signal' | 'other';
  /** Syscall name (kind syscall), or the signal name. */
  name: string;
  /** The argument text between the parentheses (after merging). */
  args: string;
  /** The return value; null for `?`. */
  ret: number | null;
  /** The -y/-yy annotation of the return value (`3</proc/1/timens_offsets>` → `/proc/1/timens_offsets`). */
  retAnnot?: string;
  errno?: string;
  /** kind exited: the exit code; kind killed: the signal name. */
  code?: number;
  signal?: string;
}

/** A clock reading turned into a sample of a host clock (the reading minus the caller's namespace offset). */
export type ClockBase = 'monotonic' | 'raw' | 'boottime' | 'realtime' | 'tai' | 'btime';

export interface ClockSample {
  base: ClockBase;
  /** Host-equivalent value in seconds (float: the estimate is about milliseconds). */
  value: number;
  /** The reading's own resolution in seconds (/proc/uptime: 0.01, btime: 1, coarse clocks: 0.01). */
  res: number;
}

/** What the importer emits: an op with the real kernel's outcome and where it came from. */
export interface TraceEvent {
  op: Op;
  /** The real kernel's outcome; absent when there is nothing to compare (exit, host events). */
  outcome?: Outcome;
  pid?: number;
  /** The syscall as the trace names it (openat, wait4, +++ exited, ...), or the host event. */
  call: string;
  src?: { file: string; line: number; endLine?: number };
  /** The trace timestamp, seconds (float); midnight wraps of -tt are unrolled. */
  t?: number;
  /** A fact the model is checked against that is not in the outcome: `fd 11<time:[4026532176]>` (-yy of the fd argument). */
  note?: string;
  /** Internal: the clock sample this reading gives (computed against the importer's own world). */
  sample?: ClockSample;
}

export interface ImportStats {
  records: number;
  events: number;
  /** Skipped syscalls by name. */
  skipped: Record<string, number>;
  warnings: string[];
  adopted: number[];
}

/** The pid of the model's own first task: PID_MAX_LIMIT, a pid no trace can show. */
export const OUTSIDE_PID = 4194304;

/** The world every import starts from: host clocks at zero (host.advance events bring them to the trace's). */
export function importWorldOptions(profile = '6.3+', rootCaps?: Cap[]): WorldOptions {
  return {
    profile,
    ...(rootCaps ? { rootCaps: [...rootCaps].sort() } : {}),
    firstPid: OUTSIDE_PID,
    host: { realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } },
  };
}

const INTERRUPTED = new Set(['EINTR', 'ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ERESTART_RESTARTBLOCK']);
const PROC_NS_OR_OFFSETS = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/(?:ns\/[a-z_]+|timens_offsets|uid_map|gid_map|setgroups)$/;
const PROC_FILES = new Set(['/proc/uptime', '/proc/stat', '/proc/sys/user/max_time_namespaces']);
const PROC_NS_LINK = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/ns\/[a-z_]+$/;
const TIMER_ABSTIME = 1;
const CAP_NUMBERS: Record<string, Cap> = {
  CAP_DAC_OVERRIDE: 'CAP_DAC_OVERRIDE',
  CAP_SETUID: 'CAP_SETUID',
  CAP_SYS_ADMIN: 'CAP_SYS_ADMIN',
  CAP_SYS_PTRACE: 'CAP_SYS_PTRACE',
  CAP_SYS_RESOURCE: 'CAP_SYS_RESOURCE',
  CAP_SYS_TIME: 'CAP_SYS_TIME',
  CAP_WAKE_ALARM: 'CAP_WAKE_ALARM',
};
const CAP_BITS: Record<number, Cap> = { 1: 'CAP_DAC_OVERRIDE', 7: 'CAP_SETUID', 21: 'CAP_SYS_ADMIN', 19: 'CAP_SYS_PTRACE', 24: 'CAP_SYS_RESOURCE', 25: 'CAP_SYS_TIME', 35: 'CAP_WAKE_ALARM' };

/** A pid seen without its creating line waits this many records for the clone that returns it, then is adopted. */
const DEFER_LIMIT = 256;

function isErrno(s: string): s is Errno {
  return Object.prototype.hasOwnProperty.call(ERRNO_NUMBERS, s);
}

/** Which host clock a clock id reads, and its resolution. */
export function clockBase(clockid: number): { base: ClockBase; res: number } | null {
  switch (clockid) {
    case CLOCK.MONOTONIC:
      return { base: 'monotonic', res: 0 };
    case CLOCK.MONOTONIC_COARSE:
      return { base: 'monotonic', res: 0.011 };
    case CLOCK.MONOTONIC_RAW:
      return { base: 'raw', res: 0 };
    case CLOCK.BOOTTIME:
    case CLOCK.BOOTTIME_ALARM:
      return { base: 'boottime', res: 0 };
    case CLOCK.REALTIME:
    case CLOCK.REALTIME_ALARM:
      return { base: 'realtime', res: 0 };
    case CLOCK.REALTIME_COARSE:
      return { base: 'realtime', res: 0.011 };
    case CLOCK.TAI:
      return { base: 'tai', res: 0 };
    default:
      return null;
  }
}

function secs(t: Timespec): number {
  return t.sec + t.nsec / 1e9;
}

/** The caller thread's active time namespace offsets (its T), zero when it has none. */
export function activeOffsets(world: World, tid: number): { monotonic: number; boottime: number } {
  const t = world.tasks[tid];
  const nsp = t && t.nsproxy !== null ? world.nsproxies[t.nsproxy] : undefined;
  const off = nsp ? world.namespaces[nsp.time]?.offsets : undefined;
  return off ? { monotonic: secs(off.monotonic), boottime: secs(off.boottime) } : { monotonic: 0, boottime: 0 };
}

/** Turn a reading into a host sample, given the caller's offsets. */
export function sampleOf(base: ClockBase, reading: number, res: number, off: { monotonic: number; boottime: number }): ClockSample {
  switch (base) {
    case 'monotonic':
    case 'raw':
      return { base, value: reading - off.monotonic, res };
    case 'boottime':
      return { base, value: reading - off.boottime, res };
    case 'btime':
      return { base, value: reading + off.boottime, res };
    default:
      return { base, value: reading, res };
  }
}

/** "7444.57 14614.21\n" → 7444.57 */
export function uptimeSeconds(text: string): number | null {
  const m = /^(\d+)\.(\d\d) /.exec(text);
  return m ? Number(m[1]) + Number(m[2]) / 100 : null;
}

export function btimeOf(text: string): number | null {
  const m = /(?:^|\n)btime (\d+)\n/.exec(text);
  return m ? Number(m[1]) : null;
}

export class TraceInputError extends Error {
  override name = 'TraceInputError';
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// StraceToOps
// ---------------------------------------------------------------------------------------------------------------

export interface StraceToOpsOptions {
  profile?: string;
  /** The uid of processes adopted without a creating line (default 0: strace usually runs as root). */
  uid?: number;
  /**
   * Root's capability set on the traced host when it is not every capability (e.g. a root without CAP_SYS_RESOURCE in
   * a container): the world's rootCaps (kept in the ledger as a `rootCaps=` annotation, see record.ts).
   */
  spawnCaps?: Cap[];
}

export class StraceToOps {
  readonly world: World;
  readonly stats: ImportStats = { records: 0, events: 0, skipped: {}, warnings: [], adopted: [] };
  private out: TraceEvent[] = [];
  private started = false;
  private readonly seen = new Set<number>();
  private readonly deferred = new Map<number, { since: number; recs: ImportRecord[] }>();
  /** timer ids (per tgid) and timerfds (per fd table) → clock id. */
  private readonly timers = new Map<string, number>();
  /** wait4/waitid records whose reaped child has not exited yet in the model (-ff sets are merged by start time). */
  private readonly waits = new Map<number, ImportRecord[]>();
  private lastTime: number | undefined;
  private dayShift = 0;

  constructor(private readonly opts: StraceToOpsOptions = {}) {
    this.world = createWorld(importWorldOptions(opts.profile, opts.spawnCaps));
  }

  push(r: ImportRecord): TraceEvent[] {
    this.out = [];
    this.stats.records++;
    this.handleOrDefer(r);
    this.expireDeferred();
    this.stats.events += this.out.length;
    return this.out;
  }

  /** End of input: adopt every pid still waiting for its creator. */
  end(): TraceEvent[] {
    this.out = [];
    for (const pid of [...this.deferred.keys()]) this.adoptDeferred(pid, 'the trace ends');
    for (const [pid, recs] of [...this.waits]) {
      this.waits.delete(pid);
      for (const r of recs) this.handleOrDefer(r);
    }
    this.stats.events += this.out.length;
    return this.out;
  }

  private skip(name: string): void {
    this.stats.skipped[name] = (this.stats.skipped[name] ?? 0) + 1;
  }

  /** A record the caller skipped without parsing it (a syscall that has no handler). */
  countSkip(name: string): void {
    this.stats.records++;
    this.stats.skipped[name] = (this.stats.skipped[name] ?? 0) + 1;
  }

  /** Whether the first process is known (records before it decide who is adopted first). */
  get startedTracing(): boolean {
    return this.started;
  }

  private warn(r: ImportRecord, msg: string): void {
    if (this.stats.warnings.length < 1000) this.stats.warnings.push(`${r.file}:${r.line}: ${msg}`);
  }

  private handleOrDefer(r: ImportRecord): void {
    const pid = r.pid;
    if (this.world.tasks[pid] === undefined) {
      const d = this.deferred.get(pid);
      if (d) {
        d.recs.push(r);
        return;
      }
      if (!this.started) {
        this.adopt(r, null);
      } else if (this.seen.has(pid)) {
        // A task the model already let go (exited and reaped): late lines of its threads.
        this.skip(r.kind === 'syscall' ? `${r.name} (after exit)` : `+++ ${r.kind} (after exit)`);
        return;
      } else {
        this.deferred.set(pid, { since: this.stats.records, recs: [r] });
        return;
      }
    } else if (this.world.tasks[pid].state === 'zombie') {
      this.skip(r.kind === 'syscall' ? `${r.name} (after exit)` : `+++ ${r.kind} (after exit)`);
      return;
    }
    this.handle(r);
  }

  private expireDeferred(): void {
    if (this.deferred.size === 0) return;
    for (const [pid, d] of this.deferred) {
      if (this.stats.records - d.since > DEFER_LIMIT) this.adoptDeferred(pid, `no clone returned it within ${DEFER_LIMIT} records`);
    }
  }

  private adoptDeferred(pid: number, why: string): void {
    const d = this.deferred.get(pid);
    if (!d) return;
    this.deferred.delete(pid);
    if (this.world.tasks[pid] === undefined) this.adopt(d.recs[0], why);
    for (const r of d.recs) this.handleOrDefer(r);
  }

  /** A pid without a creating line: it exists from the start (host.spawn), in the initial namespaces. */
  private adopt(r: ImportRecord, why: string | null): void {
    this.started = true;
    this.seen.add(r.pid);
    if (why !== null) {
      this.warn(r, `pid ${r.pid} appears without a creating clone/fork (${why}): adopted as a process in the initial namespaces`);
      this.stats.adopted.push(r.pid);
    }
    this.spawn(r, r.pid);
  }

  private spawn(r: ImportRecord, pid: number): void {
    this.seen.add(pid);
    const rr = { ...r, pid };
    this.emit(rr, { call: 'host.spawn', pid, ...(this.opts.uid ? { uid: this.opts.uid } : {}) }, undefined, { call: 'host.spawn' });
  }

  /**
   * A call names a process the trace never showed (/proc/1/..., pidfd_open(1)): when the kernel did not answer
   * ENOENT/ESRCH the process exists outside the trace, so it is adopted (host.spawn) before the call.
   */
  private outsider(r: ImportRecord, pid: number | null): void {
    if (pid === null || pid <= 0 || this.world.tasks[pid] !== undefined || this.seen.has(pid) || this.deferred.has(pid)) return;
    if (r.errno === 'ENOENT' || r.errno === 'ESRCH') return;
    this.warn(r, `pid ${pid} is outside the trace: adopted as a process in the initial namespaces`);
    this.stats.adopted.push(pid);
    this.spawn(r, pid);
  }

  private pidOfPath(path: string, r: ImportRecord): number | null {
    const m = /^\/proc\/(\d+)\//.exec(path);
    if (!m) return null;
    const pid = Number(m[1]);
    return pid === r.pid ? null : pid;
  }

  /**
   * A call on an fd the model does not know, that the kernel treated as open (no EBADF): the fd was opened by a
   * call the importer does not model; it is bound now as an untracked file (what -yy showed, if anything).
   */
  private untrackedFd(r: ImportRecord, fd: FdArg): void {
    if (fd.fd < 0 || this.fileKind(r.pid, fd.fd) !== null || r.errno === 'EBADF') return;
    const path = fd.annot !== undefined && fd.annot.startsWith('/') ? fd.annot.replace(/<.*$/s, '') : `(fd ${fd.fd})`;
    if (PROC_NS_OR_OFFSETS.test(path) || PROC_FILES.has(path)) return;
    this.emit(r, { call: 'open', tid: r.pid, path, mode: 'rw', fd: fd.fd }, { ret: fd.fd }, { call: `${r.name} (fd ${fd.fd} opened outside the trace)` });
  }

  private wallTime(r: ImportRecord): number | undefined {
    if (r.time === undefined) return undefined;
    let t = r.time + this.dayShift;
    // -t/-tt print the time of day: a jump back of more than 12 hours is midnight.
    if (this.lastTime !== undefined && t < this.lastTime - 43200) {
      this.dayShift += 86400;
      t += 86400;
    }
    this.lastTime = t;
    return t;
  }

  private emit(r: ImportRecord, op: Op, outcome: Outcome | undefined, extra: { call?: string; note?: string; sample?: ClockSample } = {}): void {
    const ev: TraceEvent = {
      op,
      outcome,
      pid: r.pid,
      call: extra.call ?? r.name,
      src: r.endLine !== undefined && r.endLine !== r.line ? { file: r.file, line: r.line, endLine: r.endLine } : { file: r.file, line: r.line },
    };
    const t = this.wallTime(r);
    if (t !== undefined) ev.t = t;
    if (extra.note !== undefined) ev.note = extra.note;
    if (extra.sample !== undefined) ev.sample = extra.sample;
    applyWithTruth(this.world, op, outcome);
    this.out.push(ev);
    if ('child' in op && typeof op.child === 'number' && this.world.tasks[op.child]) this.bound(op.child);
    if ((op.call === 'exit' || op.call === 'exit_group') && this.waits.size > 0) {
      for (const [pid, recs] of [...this.waits]) {
        const t = this.world.tasks[pid];
        if (t && t.state === 'running') continue;
        this.waits.delete(pid);
        for (const w of recs) this.handleOrDefer(w);
      }
    }
  }

  /** A wait that reaped `pid` while the model still runs it: it waits for the exit (true). */
  private waitLater(r: ImportRecord, pid: number): boolean {
    const t = this.world.tasks[pid];
    if (!t || t.state !== 'running') return false;
    const list = this.waits.get(pid);
    if (list) list.push(r);
    else this.waits.set(pid, [r]);
    return true;
  }

  /** A child pid is now known: its deferred lines run now, after the clone that made it. */
  private bound(pid: number): void {
    this.seen.add(pid);
    const d = this.deferred.get(pid);
    if (!d) return;
    this.deferred.delete(pid);
    for (const r of d.recs) this.handleOrDefer(r);
  }

  /** The recorded outcome, or null when the record must be skipped (interrupted, an errno the model does not know). */
  private outcome(r: ImportRecord): Outcome | null {
    if (r.errno !== undefined) {
      if (INTERRUPTED.has(r.errno)) {
        this.skip(`${r.name} (${r.errno})`);
        return null;
      }
      if (!isErrno(r.errno)) {
        this.skip(`${r.name} (${r.errno})`);
        return null;
      }
      return { ret: -1, errno: r.errno };
    }
    if (r.ret === null) return { ret: 0 };
    return { ret: r.ret };
  }

  private fileKind(tid: number, fd: number): string | null {
    const t = this.world.tasks[tid];
    if (!t || t.files === null) return null;
    const e = this.world.fdtables[t.files]?.fds[fd];
    if (!e) return null;
    const f = this.world.files[e.file];
    return f ? f.kind : null;
  }

  private tracked(tid: number, fd: number): boolean {
    const k = this.fileKind(tid, fd);
    return k !== null && k !== 'other';
  }

  private handle(r: ImportRecord): void {
    this.started = true;
    this.seen.add(r.pid);
    if (r.kind === 'exited' || r.kind === 'killed') return this.lifecycle(r);
    if (r.kind !== 'syscall') return; // signals and strace's own messages carry nothing the model needs
    const fn = HANDLERS[r.name];
    if (!fn) return this.skip(r.name);
    fn.call(this, r, r.args === '' ? [] : splitArgs(r.args));
  }

  private lifecycle(r: ImportRecord): void {
    const t = this.world.tasks[r.pid];
    if (!t || t.state !== 'running') return;
    if (r.kind === 'exited') this.emit(r, { call: 'exit_group', tid: r.pid, code: r.code ?? 0 }, undefined, { call: '+++ exited' });
    else
      this.emit(r, { call: 'exit_group', tid: r.pid, code: SIGNALS[r.signal ?? ''] ?? 0, signal: r.signal ?? 'SIGKILL' }, undefined, {
        call: `+++ killed by ${r.signal ?? '?'}`,
      });
  }

  // --- handlers ------------------------------------------------------------------------------------------------

  /** A path argument, resolved against a dirfd annotation when relative; null when it cannot be known. */
  private pathArg(arg: string | undefined, dirfd?: string): string | null {
    if (arg === undefined) return null;
    const s = parseCString(arg);
    if (!s || s.truncated) return null;
    if (s.value.startsWith('/')) return s.value;
    if (dirfd === undefined) return null;
    const d = parseFd(dirfd);
    if (!d || d.annot === undefined || !d.annot.startsWith('/')) return null;
    return `${d.annot.replace(/\/$/, '')}/${s.value}`;
  }

  private fdArg(arg: string | undefined): FdArg | null {
    return arg === undefined ? null : parseFd(arg);
  }

  private noteOf(a: FdArg): string | undefined {
    return a.annot !== undefined ? `fd ${a.fd}<${a.annot}>` : undefined;
  }

  cloneLike(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const child = out.errno === undefined && r.ret !== null && r.ret > 0 ? r.ret : undefined;
    if (r.name === 'fork' || r.name === 'vfork') {
      this.emit(r, { call: r.name, tid: r.pid, ...(child ? { child } : {}) }, out);
      return;
    }
    if (r.name === 'clone') {
      const named = args.find((a) => a.startsWith('flags='));
      const flags = parseFlags(named ? named.slice(6) : (args[0] ?? '0'));
      if (flags === null) return this.bad(r, `cannot read the clone flags "${named ?? args[0]}"`);
      let pidfd: number | undefined;
      const pf = args.find((a) => a.startsWith('parent_tid=') || a.startsWith('parent_tidptr='));
      if (flags % 0x2000 >= CLONE.PIDFD && pf) {
        const m = /\[(\d+)/.exec(pf);
        if (m) pidfd = Number(m[1]);
      }
      this.emit(r, { call: 'clone', tid: r.pid, flags, ...(child ? { child } : {}), ...(pidfd !== undefined ? { pidfd } : {}) }, out);
      return;
    }
    // clone3({...} => {...}, size)
    const size = parseInt0(args[args.length - 1] ?? '');
    if (size === null) return this.bad(r, 'cannot read the clone3 size');
    const first = args[0] ?? '';
    if (/\/\* bytes \d+\.\.\d+ \*\//.test(first)) {
      // strace shows the bytes beyond the struct only when they are not zero (the kernel then says E2BIG):
      // the clone3 op has no field for that.
      this.warn(r, 'clone3 with non-zero bytes beyond struct clone_args: not expressible as a model op, skipped');
      return this.skip('clone3 (non-zero struct tail)');
    }
    const arrow = first.indexOf('} => {');
    const st = parseStruct(arrow >= 0 ? first.slice(0, arrow + 1) : first);
    let flags = 0;
    let exitSignal = 0;
    let setTid: number[] | undefined;
    let badStack = false;
    if (st) {
      const f = st.flags !== undefined ? parseFlags(st.flags) : 0;
      const e = st.exit_signal !== undefined ? parseFlags(st.exit_signal) : 0;
      if (f === null || e === null) return this.bad(r, `cannot read clone3 flags/exit_signal in "${first}"`);
      flags = f;
      exitSignal = e;
      if (st.set_tid !== undefined) {
        const m = /^\[([^\]]*)\]/.exec(st.set_tid);
        if (m) setTid = m[1].split(',').map((x) => Number(x.trim())).filter((x) => Number.isFinite(x));
      }
      const stack = st.stack;
      const stackSize = st.stack_size;
      if (stack !== undefined && stackSize !== undefined) badStack = (stack === 'NULL' || stack === '0') !== (parseInt0(stackSize) === 0);
    }
    let pidfd: number | undefined;
    if (arrow >= 0) {
      const m = /pidfd=\[?(\d+)/.exec(first.slice(arrow));
      if (m) pidfd = Number(m[1]);
    }
    this.emit(
      r,
      {
        call: 'clone3',
        tid: r.pid,
        flags,
        exit_signal: exitSignal,
        size,
        ...(setTid && setTid.length ? { set_tid: setTid } : {}),
        ...(badStack ? { badStack } : {}),
        ...(child ? { child } : {}),
        ...(pidfd !== undefined ? { pidfd } : {}),
      },
      out,
    );
  }

  execve(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const pathArg = r.name === 'execveat' ? args[1] : args[0];
    const s = pathArg !== undefined ? parseCString(pathArg) : null;
    const path = s ? s.value : (pathArg ?? '');
    this.emit(r, { call: 'execve', tid: r.pid, path, ...(out.errno ? { fsError: out.errno } : {}) }, out);
  }

  exit(r: ImportRecord, args: string[]): void {
    const code = parseInt0(args[0] ?? '0') ?? 0;
    this.emit(r, { call: r.name === 'exit' ? 'exit' : 'exit_group', tid: r.pid, code }, undefined);
  }

  wait(r: ImportRecord, args: string[]): void {
    if (r.errno !== undefined && INTERRUPTED.has(r.errno)) return this.skip(`${r.name} (${r.errno})`);
    if (r.name === 'wait4') {
      const target = parseInt0(args[0] ?? '-1') ?? -1;
      if (r.errno === undefined && (r.ret === null || r.ret === 0)) return this.skip('wait4 (nothing reaped)');
      const out = this.outcome(r);
      if (!out) return;
      const t = out.errno === undefined ? r.ret! : target > 0 ? target : -1;
      if (out.errno === undefined && this.waitLater(r, t)) return;
      this.emit(r, { call: 'wait', tid: r.pid, target: t }, out);
      return;
    }
    // waitid(idtype, id, infop, options, rusage): returns 0; the reaped pid is si_pid.
    const options = args[3] ?? '';
    if (/WNOWAIT/.test(options) || (parseInt0(options) ?? 0) & 0x01000000) return this.skip('waitid (WNOWAIT)');
    if (r.errno !== undefined) {
      const out = this.outcome(r);
      if (!out) return;
      const id = parseInt0(args[1] ?? '') ?? -1;
      this.emit(r, { call: 'wait', tid: r.pid, target: /P_PID/.test(args[0] ?? '') && id > 0 ? id : -1 }, out);
      return;
    }
    const m = /si_pid=(\d+)/.exec(args[2] ?? '');
    if (!m) return this.skip('waitid (nothing reaped)');
    const pid = Number(m[1]);
    if (this.waitLater(r, pid)) return;
    this.emit(r, { call: 'wait', tid: r.pid, target: pid }, { ret: pid });
  }

  unshare(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const flags = parseFlags(args[0] ?? '');
    if (flags === null) return this.bad(r, `cannot read the unshare flags "${args[0]}"`);
    this.emit(r, { call: 'unshare', tid: r.pid, flags }, out);
  }

  setns(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const fd = this.fdArg(args[0]);
    const nstype = parseFlags(args[1] ?? '0');
    if (!fd || nstype === null) return this.bad(r, 'cannot read the setns arguments');
    this.untrackedFd(r, fd);
    this.emit(r, { call: 'setns', tid: r.pid, fd: fd.fd, nstype }, out, { note: this.noteOf(fd) });
  }

  open(r: ImportRecord, args: string[]): void {
    const at = r.name === 'openat' || r.name === 'openat2';
    const path = at ? this.pathArg(args[1], args[0]) : this.pathArg(args[0]);
    if (path === null || !(PROC_NS_OR_OFFSETS.test(path) || PROC_FILES.has(path))) return this.skip(r.name);
    const out = this.outcome(r);
    if (!out) return;
    let flagsText: string | undefined = at ? args[2] : args[1];
    if (r.name === 'openat2') {
      const st = parseStruct(args[2] ?? '');
      flagsText = st?.flags;
    }
    const flags = parseFlags(flagsText ?? '0');
    if (flags === null) return this.bad(r, `cannot read the open flags "${flagsText}"`);
    const acc = flags & 3;
    const mode = acc === 0 ? 'r' : acc === 1 ? 'w' : 'rw';
    const cloexec = (flags & OPEN_FLAGS.O_CLOEXEC) !== 0;
    if (out.errno === undefined && r.retAnnot !== undefined) out.text = r.retAnnot;
    this.outsider(r, this.pidOfPath(path, r));
    this.emit(
      r,
      { call: 'open', tid: r.pid, path, mode, ...(cloexec ? { cloexec } : {}), ...(out.errno === undefined ? { fd: out.ret } : {}) },
      out,
    );
  }

  close(r: ImportRecord, args: string[]): void {
    const fd = this.fdArg(args[0]);
    if (!fd || !this.tracked(r.pid, fd.fd)) return this.skip('close');
    const out = this.outcome(r);
    if (!out) return;
    this.emit(r, { call: 'close', tid: r.pid, fd: fd.fd }, out, { note: this.noteOf(fd) });
  }

  closeRange(r: ImportRecord, args: string[]): void {
    const lo = parseInt0(args[0] ?? '');
    const hiRaw = parseInt0(args[1] ?? '') ?? (/~0|UINT_MAX|4294967295/.test(args[1] ?? '') ? 0xffffffff : null);
    if (lo === null || hiRaw === null || r.errno !== undefined) return this.skip('close_range');
    const t = this.world.tasks[r.pid];
    if (!t || t.files === null) return this.skip('close_range');
    const fds = Object.keys(this.world.fdtables[t.files].fds).map(Number).filter((fd) => fd >= lo && fd <= hiRaw && this.tracked(r.pid, fd));
    if (fds.length === 0) return this.skip('close_range');
    for (const fd of fds) this.emit(r, { call: 'close', tid: r.pid, fd }, { ret: 0 }, { call: 'close_range' });
  }

  dup(r: ImportRecord, args: string[]): void {
    const old = this.fdArg(args[0]);
    if (!old) return this.skip(r.name);
    let newfd: number | undefined;
    let cloexec = false;
    if (r.name === 'fcntl' || r.name === 'fcntl64') {
      const cmd = stripComments(args[1] ?? '');
      if (cmd !== 'F_DUPFD' && cmd !== 'F_DUPFD_CLOEXEC') return this.skip(r.name);
      cloexec = cmd === 'F_DUPFD_CLOEXEC';
    } else if (r.name === 'dup2' || r.name === 'dup3') {
      const n = this.fdArg(args[1]);
      if (!n) return this.skip(r.name);
      newfd = n.fd;
      if (r.name === 'dup3') cloexec = /O_CLOEXEC/.test(args[2] ?? '') || ((parseInt0(args[2] ?? '0') ?? 0) & OPEN_FLAGS.O_CLOEXEC) !== 0;
    }
    const out = this.outcome(r);
    if (!out) return;
    const result = out.errno === undefined ? out.ret : undefined;
    if (!this.tracked(r.pid, old.fd)) {
      // dup2 of an untracked file over a tracked fd closes the tracked one.
      if (result !== undefined && this.tracked(r.pid, result) && result !== old.fd)
        this.emit(r, { call: 'close', tid: r.pid, fd: result }, { ret: 0 }, { call: `${r.name} (implicit close)` });
      else this.skip(r.name);
      return;
    }
    if (r.name === 'dup2' && newfd === old.fd) return this.skip('dup2 (same fd)');
    this.emit(r, { call: 'dup', tid: r.pid, fd: old.fd, ...(result !== undefined ? { newfd: result } : {}), ...(cloexec ? { cloexec } : {}) }, out, {
      note: this.noteOf(old),
    });
  }

  read(r: ImportRecord, args: string[]): void {
    const fd = this.fdArg(args[0]);
    if (!fd) return this.skip(r.name);
    const kind = this.fileKind(r.pid, fd.fd);
    if (kind === null || kind === 'other') return this.skip(r.name);
    const out = this.outcome(r);
    if (!out) return;
    const count = parseInt0(args[2] ?? '') ?? 0;
    let sample: ClockSample | undefined;
    if (out.errno === undefined) {
      const s = parseCString(args[1] ?? '');
      if (s) {
        out.text = s.value;
        if (s.truncated) out.inexact = ['text'];
        const f = this.world.files[this.world.fdtables[this.world.tasks[r.pid].files!].fds[fd.fd].file];
        if (f.kind === 'proc_text' && f.pos === 0) {
          const off = activeOffsets(this.world, r.pid);
          if (f.path === '/proc/uptime') {
            const up = uptimeSeconds(s.value);
            if (up !== null) {
              out.ts = { sec: Math.floor(up), nsec: Math.round((up - Math.floor(up)) * 100) * 10_000_000 };
              sample = sampleOf('boottime', up, 0.01, off);
            }
          } else {
            const bt = btimeOf(s.value);
            if (bt !== null) {
              out.ts = { sec: bt, nsec: 0 };
              sample = sampleOf('btime', bt, 1, off);
            }
          }
        }
      }
    }
    this.emit(r, { call: 'read', tid: r.pid, fd: fd.fd, count }, out, { note: this.noteOf(fd), sample });
  }

  write(r: ImportRecord, args: string[]): void {
    const fd = this.fdArg(args[0]);
    if (!fd || !this.tracked(r.pid, fd.fd)) return this.skip(r.name);
    const out = this.outcome(r);
    if (!out) return;
    const s = parseCString(args[1] ?? '');
    const count = parseInt0(args[2] ?? '');
    if (!s || count === null) return this.bad(r, `cannot read the ${r.name} data`);
    let data = s.value;
    if (s.truncated || data.length < count) {
      // strace cut the data (-s): only a write too long for the kernel's checks can be replayed.
      if (count < 4096) {
        this.warn(r, `${r.name} data cut by strace (-s) at ${data.length} of ${count} bytes: skipped (record with -s 4096)`);
        return this.skip(`${r.name} (data cut by -s)`);
      }
      data = data.padEnd(count, ' ');
    }
    if (r.name === 'pwrite64' || r.name === 'pwrite') {
      const offset = parseInt0(args[3] ?? '0') ?? 0;
      this.emit(r, { call: 'pwrite', tid: r.pid, fd: fd.fd, data, offset }, out, { call: r.name, note: this.noteOf(fd) });
    } else this.emit(r, { call: 'write', tid: r.pid, fd: fd.fd, data }, out, { note: this.noteOf(fd) });
  }

  lseek(r: ImportRecord, args: string[]): void {
    const fd = this.fdArg(args[0]);
    if (!fd || !this.tracked(r.pid, fd.fd)) return this.skip(r.name);
    const out = this.outcome(r);
    if (!out) return;
    const offset = parseInt0(args[1] ?? '0') ?? 0;
    const w = stripComments(args[2] ?? '');
    const whence = w === 'SEEK_SET' || w === '0' ? 'SET' : w === 'SEEK_CUR' || w === '1' ? 'CUR' : w === 'SEEK_END' || w === '2' ? 'END' : null;
    if (whence === null) return this.skip(`lseek (${w})`);
    this.emit(r, { call: 'lseek', tid: r.pid, fd: fd.fd, offset, whence }, out, { note: this.noteOf(fd) });
  }

  readlink(r: ImportRecord, args: string[]): void {
    const at = r.name === 'readlinkat';
    const path = at ? this.pathArg(args[1], args[0]) : this.pathArg(args[0]);
    if (path === null || !(PROC_NS_LINK.test(path) || path === '/proc/self' || path === '/proc/thread-self')) return this.skip(r.name);
    const out = this.outcome(r);
    if (!out) return;
    if (out.errno === undefined) {
      const s = parseCString(args[at ? 2 : 1] ?? '');
      if (s) {
        out.text = s.value;
        if (s.truncated) out.inexact = ['text'];
      }
    }
    this.outsider(r, this.pidOfPath(path, r));
    this.emit(r, { call: 'readlink', tid: r.pid, path }, out);
  }

  pidfdOpen(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const pid = parseInt0(args[0] ?? '');
    const flags = parseFlags(args[1] ?? '0', { PIDFD_NONBLOCK: 0o4000, PIDFD_THREAD: 0o200 });
    if (pid === null || flags === null) return this.bad(r, 'cannot read the pidfd_open arguments');
    if (out.errno === undefined && r.retAnnot !== undefined) out.text = r.retAnnot;
    this.outsider(r, pid);
    this.emit(r, { call: 'pidfd_open', tid: r.pid, pid, flags, ...(out.errno === undefined ? { fd: out.ret } : {}) }, out);
  }

  clockGettime(r: ImportRecord, args: string[]): void {
    const clockid = parseClockId(args[0] ?? '');
    if (clockid === null) return this.skip('clock_gettime (dynamic clock)');
    const out = this.outcome(r);
    if (!out) return;
    let sample: ClockSample | undefined;
    if (out.errno === undefined) {
      const ts = parseTimespec(args[1] ?? '');
      if (!ts) return this.skip('clock_gettime (no reading)');
      out.ts = ts;
      const b = clockBase(clockid);
      if (b) sample = sampleOf(b.base, secs(ts), b.res, activeOffsets(this.world, r.pid));
    }
    this.emit(r, { call: 'clock_gettime', tid: r.pid, clockid }, out, { sample });
  }

  timerCreate(r: ImportRecord, args: string[]): void {
    this.skip(r.name);
    if (r.errno !== undefined) return;
    const clockid = parseClockId(args[0] ?? '');
    if (clockid === null) return;
    if (r.name === 'timerfd_create') {
      if (r.ret !== null) this.timers.set(`fd:${this.fdTableOf(r.pid)}:${r.ret}`, clockid);
    } else {
      const m = /\[(\d+)\]/.exec(args[2] ?? '');
      if (m) this.timers.set(`timer:${this.world.tasks[r.pid]?.tgid ?? r.pid}:${m[1]}`, clockid);
    }
  }

  private fdTableOf(tid: number): number {
    return this.world.tasks[tid]?.files ?? -1;
  }

  timerAbs(r: ImportRecord, args: string[]): void {
    let clockid: number | null = null;
    let flagsArg: string;
    let tsArg: string;
    let api: 'clock_nanosleep' | 'timer_settime' | 'timerfd_settime';
    if (r.name === 'clock_nanosleep') {
      api = 'clock_nanosleep';
      clockid = parseClockId(args[0] ?? '');
      flagsArg = args[1] ?? '0';
      tsArg = args[2] ?? '';
    } else {
      api = r.name === 'timerfd_settime' ? 'timerfd_settime' : 'timer_settime';
      const id = api === 'timerfd_settime' ? this.fdArg(args[0])?.fd : parseInt0(args[0] ?? '');
      if (id === undefined || id === null) return this.skip(r.name);
      const key = api === 'timerfd_settime' ? `fd:${this.fdTableOf(r.pid)}:${id}` : `timer:${this.world.tasks[r.pid]?.tgid ?? r.pid}:${id}`;
      clockid = this.timers.get(key) ?? null;
      flagsArg = args[1] ?? '0';
      const st = parseStruct(args[2] ?? '');
      tsArg = st?.it_value ?? '';
    }
    const flags = parseFlags(flagsArg, { TIMER_ABSTIME: 1, TFD_TIMER_ABSTIME: 1, TFD_TIMER_CANCEL_ON_SET: 2 });
    if (clockid === null || flags === null || (flags & TIMER_ABSTIME) === 0) return this.skip(`${r.name}${flags !== null && (flags & TIMER_ABSTIME) === 0 ? ' (relative)' : ''}`);
    const deadline = parseTimespec(tsArg);
    if (!deadline) return this.skip(r.name);
    if (api !== 'clock_nanosleep' && deadline.sec === 0 && deadline.nsec === 0) return this.skip(`${r.name} (disarm)`);
    const out = this.outcome(r);
    if (!out) return;
    this.emit(r, { call: 'timer_abs', tid: r.pid, api, clockid, deadline }, out);
  }

  setuid(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const v = args.map((a) => parseInt0(a));
    if (v.some((x) => x === null)) return this.bad(r, `cannot read the ${r.name} arguments`);
    const n = v as number[];
    const t = this.world.tasks[r.pid];
    let op: Op;
    if (r.name === 'setresuid' || r.name === 'setresuid32') op = { call: 'setresuid', tid: r.pid, ruid: n[0], euid: n[1], suid: n[2] };
    else if (r.name === 'setreuid' || r.name === 'setreuid32') {
      // setreuid: the saved uid follows the new euid when the real uid is set or the euid moves off the real uid.
      const ruid = n[0];
      const euid = n[1];
      const sets = ruid !== -1 || (euid !== -1 && t && euid !== t.cred.uid);
      op = { call: 'setresuid', tid: r.pid, ruid, euid, suid: sets ? (euid !== -1 ? euid : (t?.cred.euid ?? -1)) : -1 };
    } else {
      // setuid: with CAP_SETUID all three, else only the euid.
      const priv = t !== undefined && t.cred.caps.includes('CAP_SETUID');
      op = priv ? { call: 'setresuid', tid: r.pid, ruid: n[0], euid: n[0], suid: n[0] } : { call: 'setresuid', tid: r.pid, ruid: -1, euid: n[0], suid: -1 };
    }
    this.emit(r, op, out);
  }

  capset(r: ImportRecord, args: string[]): void {
    const out = this.outcome(r);
    if (!out) return;
    const st = parseStruct(args[1] ?? '');
    if (!st || st.effective === undefined) return this.skip('capset (no data)');
    const caps = parseCaps(st.effective);
    if (caps === null) return this.bad(r, `cannot read the capability set "${st.effective}"`);
    this.emit(r, { call: 'capset', tid: r.pid, caps }, out);
  }

  prctl(r: ImportRecord, args: string[]): void {
    const opt = stripComments(args[0] ?? '');
    if (opt !== 'PR_SET_DUMPABLE' && opt !== '4' && opt !== '0x4') return this.skip('prctl');
    const out = this.outcome(r);
    if (!out) return;
    const v = stripComments(args[1] ?? '');
    const dumpable = !(v === 'SUID_DUMP_DISABLE' || v === '0');
    this.emit(r, { call: 'prctl_dumpable', tid: r.pid, dumpable }, out);
  }

  private bad(r: ImportRecord, msg: string): void {
    throw new TraceInputError(r.file, r.line, msg);
  }
}

/** `1<<CAP_SYS_ADMIN|1<<CAP_SYS_TIME`, `0`, `~(1<<CAP_X)`, a hex mask → the capabilities the model checks. */
export function parseCaps(text: string): Cap[] | null {
  const s = stripComments(text).trim();
  const all = Object.values(CAP_NUMBERS);
  if (s === '0') return [];
  const neg = /^~\((.*)\)$/.exec(s) ?? /^~(.*)$/.exec(s);
  if (neg) {
    const minus = neg[1] === '0' ? [] : parseCaps(neg[1]);
    return minus === null ? null : all.filter((c) => !minus.includes(c)).sort();
  }
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const v = BigInt(s);
    return Object.entries(CAP_BITS)
      .filter(([bit]) => (v >> BigInt(bit)) & 1n)
      .map(([, c]) => c)
      .sort();
  }
  const out: Cap[] = [];
  for (const part of s.split('|')) {
    const m = /^1<<(CAP_[A-Z_]+)$/.exec(part.trim());
    if (!m) {
      if (/^1<<\d+$/.test(part.trim())) continue;
      return null;
    }
    if (CAP_NUMBERS[m[1]]) out.push(CAP_NUMBERS[m[1]]);
  }
  return out.sort();
}

type Handler = (this: StraceToOps, r: ImportRecord, args: string[]) => void;
const P = StraceToOps.prototype;
const HANDLERS: Record<string, Handler> = {
  clone: P.cloneLike,
  clone2: P.cloneLike,
  clone3: P.cloneLike,
  fork: P.cloneLike,
  vfork: P.cloneLike,
  execve: P.execve,
  execveat: P.execve,
  exit: P.exit,
  exit_group: P.exit,
  wait4: P.wait,
  waitid: P.wait,
  unshare: P.unshare,
  setns: P.setns,
  open: P.open,
  openat: P.open,
  openat2: P.open,
  close: P.close,
  close_range: P.closeRange,
  dup: P.dup,
  dup2: P.dup,
  dup3: P.dup,
  fcntl: P.dup,
  fcntl64: P.dup,
  read: P.read,
  write: P.write,
  pwrite64: P.write,
  lseek: P.lseek,
  readlink: P.readlink,
  readlinkat: P.readlink,
  pidfd_open: P.pidfdOpen,
  clock_gettime: P.clockGettime,
  clock_gettime64: P.clockGettime,
  clock_nanosleep: P.timerAbs,
  timer_create: P.timerCreate,
  timerfd_create: P.timerCreate,
  timer_settime: P.timerAbs,
  timerfd_settime: P.timerAbs,
  setuid: P.setuid,
  setuid32: P.setuid,
  setresuid: P.setuid,
  setresuid32: P.setuid,
  setreuid: P.setuid,
  setreuid32: P.setuid,
  capset: P.capset,
  prctl: P.prctl,
};

// ---------------------------------------------------------------------------------------------------------------
// Host clock estimate
// ---------------------------------------------------------------------------------------------------------------

/**
 * The host clocks, estimated from the trace.
 *
 * Every clock reading is a sample of one host clock: the reading minus the caller's time-namespace offsets (from the
 * model: a reading in the initial namespace is the host clock itself). With timestamps (-t/-tt/-ttt) a host clock is
 * `t + c` for a constant c per clock (the clock and the timestamp run at the same rate, up to NTP slewing: at most
 * 500 ppm, allowed for as 0.1 % of the time since the last accepted sample). A sample is accepted when it agrees
 * with the current estimate within
 *
 *     TOL = 50 ms + the resolutions of both readings + 0.1 % × (time since the last accepted sample)
 *
 * and then becomes the estimate (so the estimate follows slewing); a sample that does not agree is reported by the
 * checker at its line and does not move the estimate. 50 ms covers strace's own delay between the timestamp and
 * the reading under load; a reading moved by 1 s or more is always outside it (over gaps shorter than ~950 s).
 * Without timestamps the estimate is the last accepted value and TOL is 250 ms (nothing tells how much time passed:
 * record with -tt). The first estimate of each clock comes from the first (up to) 3 samples of that clock within a
 * window of 500 events: the sample that agrees with the most others wins (the earliest on a tie), so a single
 * wrong first reading is found too. A clock with a single sample cannot be checked: it only anchors.
 * /proc/uptime counts as a BOOTTIME sample (resolution 10 ms); coarse clocks have 11 ms resolution; /proc/stat
 * btime is realtime − boottime, constant, resolution 1 s; MONOTONIC_RAW and TAI are clocks of their own (they differ
 * from MONOTONIC and REALTIME by amounts the model does not carry: the check uses the estimate, the model the offsets).
 */
export const CLOCK_TOL_BASE = 0.05;
export const CLOCK_TOL_UNTIMED = 0.25;
export const CLOCK_DRIFT = 1e-3;
const ANCHOR_SAMPLES = 3;
export const CLOCK_WINDOW = 500;

export interface SampleAt extends ClockSample {
  key: number;
  t?: number;
}

export interface ClockJudgement {
  /** The host value the estimate expects (seconds). */
  expected: number;
  tol: number;
  /** This sample is what the estimate was anchored on: nothing to compare it with. */
  unchecked: boolean;
  accepted: boolean;
}

interface BaseState {
  first: SampleAt[];
  firstIndex: number;
  anchor: SampleAt | null;
  resolved: boolean;
  /** After at least one accepted sample: the last one. */
  last: SampleAt | null;
}

function slope(base: ClockBase): number {
  return base === 'btime' ? 0 : 1;
}

function cOf(s: SampleAt): number {
  return s.t === undefined ? s.value : s.value - slope(s.base) * s.t;
}

function tolBetween(a: SampleAt, b: SampleAt): number {
  const extra = a.base === 'btime' ? 1 : 0;
  if (a.t === undefined || b.t === undefined) return CLOCK_TOL_UNTIMED + a.res + b.res + extra;
  return CLOCK_TOL_BASE + a.res + b.res + CLOCK_DRIFT * Math.abs(a.t - b.t) + extra;
}

export class HostClock {
  private readonly bases = new Map<ClockBase, BaseState>();
  private items = 0;
  /** Bases still waiting for their first samples (0: settled() has nothing to look at). */
  private unresolved = 0;

  /** An event entered the window (call for every event, with its sample if any). */
  enter(s: SampleAt | undefined): void {
    this.items++;
    if (!s) return;
    let st = this.bases.get(s.base);
    if (!st) {
      st = { first: [], firstIndex: this.items, anchor: null, resolved: false, last: null };
      this.bases.set(s.base, st);
      this.unresolved++;
    }
    if (!st.resolved) {
      st.first.push(s);
      if (st.first.length >= ANCHOR_SAMPLES) this.resolve(st);
    }
  }

  /** Whether an event may leave the window: no clock still waits for its first samples. */
  settled(): boolean {
    if (this.unresolved === 0) return true;
    for (const st of this.bases.values()) {
      if (st.resolved) continue;
      if (this.items - st.firstIndex >= CLOCK_WINDOW) this.resolve(st);
      else return false;
    }
    return true;
  }

  /** End of input: decide every anchor with what there is. */
  flush(): void {
    for (const st of this.bases.values()) if (!st.resolved) this.resolve(st);
  }

  private resolve(st: BaseState): void {
    let best = 0;
    let bestCount = -1;
    st.first.forEach((a, i) => {
      const n = st.first.filter((b) => Math.abs(cOf(a) - cOf(b)) <= tolBetween(a, b)).length;
      if (n > bestCount) {
        best = i;
        bestCount = n;
      }
    });
    st.anchor = st.first[best] ?? null;
    if (!st.resolved) this.unresolved--;
    st.resolved = true;
  }

  /** The estimate of a host clock at time t, from the samples judged so far (null when the clock has none). */
  estimate(base: ClockBase, t: number | undefined): number | null {
    const st = this.bases.get(base);
    if (!st) return null;
    if (!st.resolved) this.resolve(st);
    const ref = st.last ?? st.anchor;
    if (!ref) return null;
    if (t === undefined || ref.t === undefined) return ref.value;
    return cOf(ref) + slope(base) * t;
  }

  /** Judge a sample as its event leaves the window (in order). */
  judge(s: SampleAt): ClockJudgement {
    const st = this.bases.get(s.base)!;
    if (!st.resolved) this.resolve(st);
    const ref = st.last ?? st.anchor!;
    if (st.last === null && ref.key === s.key) {
      st.last = s;
      return { expected: s.value, tol: 0, unchecked: true, accepted: true };
    }
    const expected = s.t === undefined || ref.t === undefined ? ref.value : cOf(ref) + slope(s.base) * s.t;
    const tol = tolBetween(s, ref);
    const accepted = Math.abs(s.value - expected) <= tol;
    if (accepted) st.last = s;
    return { expected, tol, unchecked: false, accepted };
  }
}

/** Events wait here until the host clock estimate they need is settled. */
export class ClockWindow<T> {
  private readonly buf: { item: T; sample?: SampleAt }[] = [];
  private key = 0;
  constructor(readonly clock: HostClock = new HostClock()) {}

  push(item: T, sample: ClockSample | undefined, t: number | undefined): { item: T; sample?: SampleAt }[] {
    // built field by field (same fields, same order as a spread of the sample): object spread is slow here
    let s: SampleAt | undefined;
    if (sample) {
      s = { base: sample.base, value: sample.value, res: sample.res, key: ++this.key };
      if (t !== undefined) s.t = t;
    } else this.key++;
    this.clock.enter(s);
    const settled = this.clock.settled();
    // the common case once settled: nothing waits, the item leaves at once
    if (settled && this.buf.length === 0) return [{ item, sample: s }];
    this.buf.push({ item, sample: s });
    if (!settled && this.buf.length < CLOCK_WINDOW * 4) return [];
    return this.buf.splice(0, this.buf.length);
  }

  end(): { item: T; sample?: SampleAt }[] {
    this.clock.flush();
    return this.buf.splice(0, this.buf.length);
  }
}

const DEFAULT_UPTIME = 1000;
const HOST_DEPENDENT = new Set<Op['call']>(['clock_gettime', 'timer_abs', 'read', 'write', 'pwrite']);

function toNsBig(sec: number): bigint {
  return BigInt(Math.round(sec * 1e6)) * 1000n;
}

function nsToSpec(ns: bigint): { sec: number; nsec: number } {
  return { sec: Number(ns / 1_000_000_000n), nsec: Number(ns % 1_000_000_000n) };
}

/**
 * The importer's second stage: keeps events until the host clock estimate is settled, then puts host.advance /
 * host.suspend events before every event whose outcome depends on the host clocks, so that the model's host clocks
 * (which start at zero, see importWorldOptions) track the real ones. Each event's `t` becomes the estimated host
 * CLOCK_MONOTONIC (the time axis stored in the ledger as at.monotonic).
 */
export class ImportClock {
  private readonly win = new ClockWindow<TraceEvent>();
  private mono = 0n;
  private boot = 0n;
  private firstT: number | undefined;

  /** Events held until the first MONOTONIC/BOOTTIME sample tells the host's uptime (or CLOCK_WINDOW events pass). */
  private hold: TraceEvent[] | null = [];
  private sawUptime = false;

  push(ev: TraceEvent): TraceEvent[] {
    if (ev.t !== undefined && this.firstT === undefined) this.firstT = ev.t;
    if (ev.sample && (ev.sample.base === 'monotonic' || ev.sample.base === 'boottime')) this.sawUptime = true;
    if (!this.sawUptime && (this.hold !== null || HOST_DEPENDENT.has(ev.op.call))) {
      (this.hold ??= []).push(ev);
      if (this.hold.length < CLOCK_WINDOW) return [];
    }
    if (this.hold !== null) return this.unhold(ev);
    return this.release(this.win.push(ev, ev.sample, ev.t));
  }

  private unhold(last: TraceEvent | null): TraceEvent[] {
    const held = this.hold ?? [];
    this.hold = null;
    if (last !== null && held[held.length - 1] !== last) held.push(last);
    const out: TraceEvent[] = [];
    for (const e of held) for (const x of this.release(this.win.push(e, e.sample, e.t))) out.push(x);
    return out;
  }

  end(): TraceEvent[] {
    const out = this.unhold(null);
    for (const e of this.release(this.win.end())) out.push(e);
    return out;
  }

  private release(items: { item: TraceEvent; sample?: SampleAt }[]): TraceEvent[] {
    const out: TraceEvent[] = [];
    const clock = this.win.clock;
    for (const { item: ev, sample } of items) {
      const mono = clock.estimate('monotonic', ev.t);
      const bootEst = clock.estimate('boottime', ev.t);
      // Nothing tells the host's uptime: assume createWorld's default (1000 s) from the first timestamp on.
      const monoT = mono ?? bootEst ?? (ev.t !== undefined && this.firstT !== undefined ? DEFAULT_UPTIME + ev.t - this.firstT : DEFAULT_UPTIME);
      if (HOST_DEPENDENT.has(ev.op.call) && monoT !== null) {
        const target = toNsBig(monoT);
        if (target > this.mono) {
          const d = target - this.mono;
          out.push({ op: { call: 'host.advance', ...nsToSpec(d) }, call: 'host.advance' });
          this.mono += d;
          this.boot += d;
        }
        if (bootEst !== null) {
          const bt = toNsBig(bootEst);
          // A suspend is the only way boottime gets ahead of monotonic; 1 ms of noise is not one.
          if (bt - this.boot > 1_000_000n) {
            const d = bt - this.boot;
            out.push({ op: { call: 'host.suspend', ...nsToSpec(d) }, call: 'host.suspend' });
            this.boot += d;
          }
        }
      }
      if (sample) clock.judge(sample);
      if (monoT !== null) ev.t = monoT;
      else delete ev.t;
      delete ev.sample;
      out.push(ev);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The parser's records in, events out
// ---------------------------------------------------------------------------------------------------------------

/** Map a record of the strace parser (src/ingest/strace) to what the importer reads; null for nothing to do. */
export function fromParser(r: StraceRecord): ImportRecord | null {
  const kind = r.kind === 'syscall' ? 'syscall' : r.kind === 'exit' ? 'exited' : r.kind === 'killed' ? 'killed' : r.kind === 'signal' ? 'signal' : 'other';
  if (kind === 'other' || kind === 'signal') return null;
  const v = r.ret?.value;
  const out: ImportRecord = {
    file: r.file,
    line: r.line,
    pid: r.pid,
    kind,
    name: r.name ?? '',
    args: r.argsText,
    ret: v === undefined || r.interrupted ? null : Number(v),
  };
  if (r.endLine !== undefined) out.endLine = r.endLine;
  if (r.time) out.time = r.time.seconds;
  if (r.ret?.fd) out.retAnnot = r.ret.fd.detail !== undefined ? `${r.ret.fd.path}<${r.ret.fd.detail}>` : r.ret.fd.path;
  if (r.errno !== undefined) out.errno = r.errno;
  if (r.exitCode !== undefined) out.code = r.exitCode;
  if (r.signal !== undefined) out.signal = r.signal;
  // A call that never came back (the task exited or was killed inside it): only exit and exit_group mean anything.
  if (kind === 'syscall' && r.unfinished && out.name !== 'exit' && out.name !== 'exit_group') return null;
  return out;
}

export interface ImportOptions extends StraceToOpsOptions {}

/**
 * records → events: StraceToOps then ImportClock. push() takes the parser's records in order and returns the
 * events ready so far (host events included); end() returns the rest.
 */
export class TraceImport {
  readonly ops: StraceToOps;
  private readonly clock = new ImportClock();

  constructor(opts: ImportOptions = {}) {
    this.ops = new StraceToOps(opts);
  }

  get stats(): ImportStats {
    return this.ops.stats;
  }

  push(r: StraceRecord): TraceEvent[] {
    // Fast path: a syscall the importer does not model (most lines of a real trace) is only counted.
    if (r.kind === 'syscall' && this.ops.startedTracing && !Object.prototype.hasOwnProperty.call(HANDLERS, r.name ?? '')) {
      this.ops.countSkip(r.name ?? '???');
      return [];
    }
    const rec = fromParser(r);
    if (!rec) {
      this.ops.stats.records++;
      return [];
    }
    return this.feed(this.ops.push(rec));
  }

  pushImport(rec: ImportRecord): TraceEvent[] {
    return this.feed(this.ops.push(rec));
  }

  end(): TraceEvent[] {
    const out = this.feed(this.ops.end());
    for (const e of this.clock.end()) out.push(e);
    return out;
  }

  private feed(evs: TraceEvent[]): TraceEvent[] {
    if (evs.length === 0) return evs;
    const out: TraceEvent[] = [];
    for (const ev of evs) for (const e of this.clock.push(ev)) out.push(e);
    return out;
  }
}
