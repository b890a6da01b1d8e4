/**
 * One strace output line → one record (sync, allocation-light). Arguments are kept as text
 * (`argsText`) and parsed on demand with parseArgs(); the stream reader (reader.ts) merges
 * `<unfinished ...>` / `<... NAME resumed>` pairs and attributes lines that carry no pid.
 */
import { findClose, parseArgs, parseNumber, skipAnnotation, splitAnnotation, type Arg } from './values.js';

export type RecordKind = 'syscall' | 'exit' | 'killed' | 'signal' | 'info';

/** Where a record's pid came from. */
export type PidSource =
  | 'line' // "PID  " (-f -o) or "[pid N] " (-f, stderr) prefix
  | 'file' // the FILE.PID suffix of an -ff file
  | 'option' // the caller's `pid` option (a trace of one known process)
  | 'only-live' // no prefix: the only live traced process (strace drops the prefix then)
  | 'leader' // no prefix: the first traced process
  | 'message' // strace's own "Process N attached/detached" message
  | 'unknown'; // no prefix and nothing tells which process: pid is 0

export interface StraceTime {
  /** As printed: `02:00:43`, `02:00:43.524451` or `1795925752.333335`. */
  text: string;
  /** Seconds since midnight (-t, -tt; a reader adds 86400 per midnight crossed) or since the
   *  epoch (-ttt). */
  seconds: number;
  clock: 'day' | 'epoch';
}

export interface StraceRet {
  /** The number, or undefined for `?`. Values beyond ±2^53 are bigints. */
  value?: number | bigint;
  /** A -y/-yy annotated fd return: `= 3</proc/11535/timens_offsets>`, `= 3<time:[4026532176]>`. */
  fd?: { fd: number; path: string; detail?: string };
  /** The whole return part as printed after `= ` (without a -T duration). */
  text: string;
  /** strace's parenthesised note after the value (not the errno text): `flags O_WRONLY|O_LARGEFILE`. */
  comment?: string;
  /** `= ? <unavailable>`: strace could not read the result. */
  unavailable?: boolean;
}

export interface StraceRecord {
  file: string;
  /** 1-based line of the record's first line (the START line of a merged call). */
  line: number;
  /** Last line when the record spans several: the `<... NAME resumed>` line of a merged call,
   *  or the line after strace split one with "strace: Process N attached". */
  endLine?: number;
  pid: number;
  pidFrom: PidSource;
  time?: StraceTime;
  /** Time of the resumed line of a merged call. */
  endTime?: StraceTime;
  kind: RecordKind;
  /** Syscall name (`clone3`, `syscall_0x3e8`, `???`), or the info type for kind 'info'. */
  name?: string;
  /** Parsed arguments: filled for the syscalls the reader's `parseArgsFor` selects, else use
   *  recordArgs(record). */
  args?: Arg[];
  /** The argument text between the parens (merged across unfinished/resumed), the signal
   *  details `{si_signo=...}`, or the message of an info line. Always present. */
  argsText: string;
  ret?: StraceRet;
  /** `EPERM`, `ERESTARTSYS`, or `errno 530` when strace has no name for it. */
  errno?: string;
  /** `Operation not permitted`. */
  errnoText?: string;
  /** -T: seconds spent in the call. */
  durationSec?: number;
  /** kind 'exit': `+++ exited with N +++`. */
  exitCode?: number;
  /** kind 'killed' / 'signal': the signal name (`SIGKILL`); for -X raw, strace still prints names. */
  signal?: string;
  /** kind 'killed': `(core dumped)`. */
  coreDumped?: boolean;
  /** kind 'signal': `--- stopped by SIGSTOP ---` (a stop, not a delivery). */
  stopped?: boolean;
  /** A call that never completed: `<unfinished ...>` never resumed (exit, detach, end of
   *  file), or (from parseLine) the START half of a pair. */
  unfinished?: boolean;
  /** parseLine only: this is the `<... NAME resumed>` half; argsText is the rest after it. */
  resumed?: boolean;
  /** A `<... NAME resumed>` whose start was not in the input (e.g. traced with -p). */
  orphan?: boolean;
  /** The task left while in the call (`<unfinished ...>) = ?`): the result is unknown. */
  interrupted?: boolean;
  /** `<detached ...>`: strace detached while the call was in progress. */
  detached?: boolean;
  /** kind 'info': the pid a message is about (attached/detached/superseded). */
  subjectPid?: number;
  /** kind 'info' name 'superseded': `+++ superseded by execve in pid N +++`. */
  supersededBy?: number;
}

/** A line that is not strace output. `line` is 1-based; `file` is what the caller named. */
export class StraceParseError extends Error {
  override readonly name = 'StraceParseError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
    readonly text?: string,
  ) {
    super(`${file}:${line}: ${reason}${text !== undefined ? ` in: ${excerpt(text)}` : ''}`);
  }
}

function excerpt(s: string): string {
  return JSON.stringify(s.length > 120 ? s.slice(0, 117) + '...' : s);
}

export interface LineContext {
  file?: string;
  line?: number;
  /** pid for lines without a prefix (default: 0 with pidFrom 'unknown'). */
  pid?: number;
  pidFrom?: PidSource;
}

const UNFINISHED = '<unfinished ...>';
const DETACHED = '<detached ...>';
const NAME_RE = /^(?:[A-Za-z_][A-Za-z0-9_]*|\?\?\?)$/;

/**
 * Parse one line. Returns null for an empty (or all-blank) line; throws StraceParseError for
 * anything that is not strace output. The START half of an unfinished call comes back with
 * `unfinished: true`, the RESUMED half with `resumed: true`; StraceReader merges them.
 */
export function parseLine(text: string, ctx: LineContext = {}): StraceRecord | null {
  const file = ctx.file ?? '<input>';
  const lineNo = ctx.line ?? 1;
  let n = text.length;
  if (n > 0 && text.charCodeAt(n - 1) === 13) n--; // tolerate CRLF
  let i = 0;
  while (i < n && text.charCodeAt(i) === 32) i++;
  if (i === n) return null;
  const fail = (reason: string): never => {
    throw new StraceParseError(file, lineNo, reason, text);
  };

  // --- pid prefix: "PID  " (-o with -f) or "[pid N] " (stderr)
  let pid = -1;
  let c = text.charCodeAt(i);
  if (c >= 48 && c <= 57) {
    // digits then a space: a pid, unless this is a timestamp (digits followed by ':' or '.')
    let j = i;
    let v = 0;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d < 48 || d > 57) break;
      v = v * 10 + (d - 48);
      j++;
    }
    if (j < n && text.charCodeAt(j) === 32) {
      if (j - i > 10) fail('pid prefix is too long');
      pid = v;
      i = j;
      while (i < n && text.charCodeAt(i) === 32) i++;
    }
  } else if (c === 91 /* [ */ && text.startsWith('[pid ', i)) {
    let j = i + 5;
    while (j < n && text.charCodeAt(j) === 32) j++;
    let v = 0;
    const d0 = j;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d < 48 || d > 57) break;
      v = v * 10 + (d - 48);
      j++;
    }
    if (j === d0 || j - d0 > 10 || text.charCodeAt(j) !== 93 || text.charCodeAt(j + 1) !== 32) {
      fail('malformed "[pid N] " prefix');
    }
    pid = v;
    i = j + 2;
  }

  // --- timestamp: HH:MM:SS, HH:MM:SS.frac (-t/-tt) or SECONDS.frac (-ttt)
  let time: StraceTime | undefined;
  c = text.charCodeAt(i);
  if (c >= 48 && c <= 57) {
    const sp = text.indexOf(' ', i);
    const end = sp < 0 || sp > n ? n : sp;
    const ts = text.slice(i, end);
    time = parseTimestamp(ts);
    if (time === undefined) fail(`bad timestamp "${ts}" (expected HH:MM:SS, HH:MM:SS.micro or epoch.micro)`);
    if (sp < 0 || sp >= n) fail('nothing after the timestamp');
    i = end + 1;
    while (i < n && text.charCodeAt(i) === 32) i++;
  }
  if (i >= n) fail('nothing after the pid prefix');

  const rec: StraceRecord = {
    file,
    line: lineNo,
    pid: pid >= 0 ? pid : ctx.pid ?? 0,
    pidFrom: pid >= 0 ? 'line' : ctx.pid !== undefined ? ctx.pidFrom ?? 'option' : 'unknown',
    kind: 'syscall',
    argsText: '',
  };
  if (time) rec.time = time;

  c = text.charCodeAt(i);
  // --- lifecycle: +++ exited with N +++ / +++ killed by SIGX (core dumped) +++
  if (c === 43 /* + */) {
    if (!text.startsWith('+++ ', i) || !endsWithAt(text, n, ' +++')) fail('a "+++" line must look like "+++ exited with N +++"');
    const body = text.slice(i + 4, n - 4);
    let m: RegExpExecArray | null;
    if ((m = /^exited with (-?\d+)$/.exec(body))) {
      rec.kind = 'exit';
      rec.exitCode = Number(m[1]);
    } else if ((m = /^killed by (SIG[A-Z0-9_]+|\d+)( \(core dumped\))?$/.exec(body))) {
      rec.kind = 'killed';
      rec.signal = m[1];
      if (m[2]) rec.coreDumped = true;
    } else if ((m = /^superseded by execve in pid (\d+)$/.exec(body))) {
      rec.kind = 'info';
      rec.name = 'superseded';
      rec.supersededBy = Number(m[1]);
    } else {
      fail(`unknown "+++" line (expected "exited with N", "killed by SIGX" or "superseded by execve in pid N")`);
    }
    rec.argsText = body;
    return rec;
  }
  // --- signals: --- SIGX {...} --- / --- stopped by SIGX ---
  if (c === 45 /* - */) {
    if (!text.startsWith('--- ', i) || !endsWithAt(text, n, ' ---')) fail('a "---" line must look like "--- SIGX {...} ---"');
    const body = text.slice(i + 4, n - 4);
    rec.kind = 'signal';
    let m: RegExpExecArray | null;
    if ((m = /^stopped by (SIG[A-Z0-9_]+|\d+)$/.exec(body))) {
      rec.signal = m[1];
      rec.stopped = true;
      rec.argsText = '';
    } else if ((m = /^(SIG[A-Z0-9_]+|\d+)(?: (.*))?$/.exec(body))) {
      rec.signal = m[1];
      rec.argsText = m[2] ?? '';
    } else {
      fail('signal line without a signal name');
    }
    return rec;
  }
  // --- strace's own messages
  if (c === 115 /* s */ && text.startsWith('strace: ', i)) {
    return infoRecord(rec, text.slice(i + 8, n));
  }
  if (c === 91 /* [ */ && text.startsWith('[ Process PID=', i)) {
    rec.kind = 'info';
    rec.name = 'personality';
    rec.argsText = text.slice(i, n);
    return rec;
  }
  // --- -k stack trace lines " > /lib/libc.so(fn+0x1) [0x7f]"
  if (c === 62 /* > */ && text.charCodeAt(i + 1) === 32) {
    rec.kind = 'info';
    rec.name = 'stack';
    rec.argsText = text.slice(i + 2, n);
    return rec;
  }
  // --- <... NAME resumed>REST
  if (c === 60 /* < */) {
    if (!text.startsWith('<... ', i)) fail('expected "<... NAME resumed>"');
    const e = text.indexOf(' resumed>', i + 5);
    if (e < 0) fail('expected "<... NAME resumed>"');
    const name = text.slice(i + 5, e);
    if (!NAME_RE.test(name)) fail(`bad syscall name "${name}"`);
    rec.name = name;
    rec.resumed = true;
    finishCall(rec, text, e + 9, n, 1, fail);
    return rec;
  }
  // --- NAME(ARGS) = RET
  const p = text.indexOf('(', i);
  if (p < 0 || p >= n) fail('not a strace line: expected "NAME(...) = RET", "+++ ... +++", "--- ... ---", "<... NAME resumed>" or "strace: ..."');
  const name = text.slice(i, p);
  if (!NAME_RE.test(name)) fail(`bad syscall name "${name.length > 40 ? name.slice(0, 40) + '...' : name}"`);
  rec.name = name;
  finishCall(rec, text, p + 1, n, 1, fail);
  return rec;
}

function endsWithAt(s: string, n: number, suffix: string): boolean {
  return n >= suffix.length && s.startsWith(suffix, n - suffix.length);
}

function infoRecord(rec: StraceRecord, msg: string): StraceRecord {
  rec.kind = 'info';
  rec.argsText = msg;
  const m = /^Process (\d+) (attached|detached|suspended|resumed)\b/.exec(msg);
  if (m) {
    rec.name = m[2];
    rec.subjectPid = Number(m[1]);
  } else {
    rec.name = 'message';
  }
  return rec;
}

/**
 * Parse a call's tail from `start` (just inside its parens, `depth` 1): the argument text,
 * `) = RET [ERRNO (text)] [(comment)] [<duration>]`, or an `<unfinished ...>` / `<detached ...>` end.
 */
function finishCall(rec: StraceRecord, text: string, start: number, n: number, depth: number, fail: (r: string) => never): void {
  // START half of a split call
  if (endsWithAt(text, n, UNFINISHED)) {
    let e = n - UNFINISHED.length;
    if (e > start && text.charCodeAt(e - 1) === 32) e--;
    rec.argsText = text.slice(start, e);
    rec.unfinished = true;
    return;
  }
  if (endsWithAt(text, n, DETACHED)) {
    let e = n - DETACHED.length;
    if (e > start && text.charCodeAt(e - 1) === 32) e--;
    rec.argsText = text.slice(start, e);
    rec.detached = true;
    return;
  }
  // -T duration at the very end: " <0.000123>"
  let end = n;
  if (text.charCodeAt(end - 1) === 62 /* > */) {
    const lt = text.lastIndexOf(' <', end);
    if (lt > start) {
      const d = text.slice(lt + 2, end - 1);
      if (/^\d+(?:\.\d+)?$/.test(d)) {
        rec.durationSec = Number(d);
        end = lt;
      }
    }
  }
  const close = findClose(text, start, depth, end);
  if (close < 0) fail(`no closing ")" for ${rec.name}(...) and no "<unfinished ...>" at the end`);
  let argsEnd = close;
  if (endsWithAt(text, argsEnd, UNFINISHED)) {
    // "<... read resumed> <unfinished ...>) = ?": the task left while in the call
    argsEnd -= UNFINISHED.length;
    if (argsEnd > start && text.charCodeAt(argsEnd - 1) === 32) argsEnd--;
    rec.interrupted = true;
  }
  rec.argsText = text.slice(start, argsEnd);
  // ") = RET": strace pads with spaces to column 40
  let k = close + 1;
  while (k < end && text.charCodeAt(k) === 32) k++;
  if (text.charCodeAt(k) !== 61 /* = */ || text.charCodeAt(k + 1) !== 32) {
    fail(`expected " = RET" after ${rec.name}(...)`);
  }
  parseRet(rec, text, k + 2, end, fail);
}

const ERRNO_RE = /^(E[A-Z0-9_]+) \((.*)\)$/;

function parseRet(rec: StraceRecord, text: string, start: number, end: number, fail: (r: string) => never): void {
  const retText = text.slice(start, end);
  const ret: StraceRet = { text: retText };
  rec.ret = ret;
  // the value token
  let j = start;
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c === 32 || c === 60 /* < */) break;
    j++;
  }
  const tok = text.slice(start, j);
  if (tok !== '?') {
    const v = parseNumber(tok);
    if (v === undefined) fail(`bad return value "${tok}" (expected a number, 0x... or ?)`);
    ret.value = v;
  }
  // an annotated fd: = 3</path>
  if (j < end && text.charCodeAt(j) === 60) {
    const k = skipAnnotation(text, j, end);
    if (k < 0) fail('unterminated "<...>" after the return value');
    if (typeof ret.value !== 'number') fail('a "<...>" annotation after a return value that is not an fd');
    const a = splitAnnotation(text.slice(j + 1, k - 1));
    ret.fd = a.detail !== undefined ? { fd: ret.value, path: a.path, detail: a.detail } : { fd: ret.value, path: a.path };
    j = k;
  }
  if (j >= end) return;
  if (text.charCodeAt(j) !== 32) fail('unexpected text right after the return value');
  const rest = text.slice(j + 1, end);
  if (rest === '<unavailable>') {
    ret.unavailable = true;
    return;
  }
  // ERRNO (text) [more]
  const c0 = rest.charCodeAt(0);
  if (c0 === 69 /* E */) {
    const sp = rest.indexOf(' (');
    if (sp > 0) {
      const m = ERRNO_RE.exec(rest.slice(0, matchParen(rest, sp + 1) + 1));
      if (m) {
        rec.errno = m[1];
        rec.errnoText = m[2];
        const after = rest.slice(m[0].length).trim();
        if (after !== '') setComment(ret, after);
        return;
      }
    }
    fail(`bad error part "${rest}" (expected "ERRNO (message)")`);
  }
  if (rest.startsWith('(errno ')) {
    const e = rest.indexOf(')');
    if (e > 0) {
      rec.errno = rest.slice(1, e);
      const after = rest.slice(e + 1).trim();
      if (after !== '') setComment(ret, after);
      return;
    }
  }
  setComment(ret, rest);
}

function setComment(ret: StraceRet, s: string): void {
  const t = s.trim();
  ret.comment = t.charCodeAt(0) === 40 && t.charCodeAt(t.length - 1) === 41 ? t.slice(1, -1) : t;
}

/** Index of the ')' matching the '(' at `i` in s (plain nesting), or s.length - 1. */
function matchParen(s: string, i: number): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 40) depth++;
    else if (c === 41 && --depth === 0) return j;
  }
  return s.length - 1;
}

/** Parse a timestamp token as printed by -t (HH:MM:SS), -tt (HH:MM:SS.micro) or -ttt
 *  (epoch.micro). Returns undefined for anything else. */
export function parseTimestamp(ts: string): StraceTime | undefined {
  const n = ts.length;
  if (n >= 8 && ts.charCodeAt(2) === 58 && ts.charCodeAt(5) === 58) {
    const h = d2(ts, 0);
    const mi = d2(ts, 3);
    const s = d2(ts, 6);
    if (h < 0 || mi < 0 || s < 0 || h > 23 || mi > 59 || s > 60) return undefined;
    let frac = 0;
    if (n > 8) {
      if (ts.charCodeAt(8) !== 46 || n === 9) return undefined;
      let v = 0;
      let scale = 1;
      for (let i = 9; i < n; i++) {
        const c = ts.charCodeAt(i) - 48;
        if (c < 0 || c > 9) return undefined;
        v = v * 10 + c;
        scale *= 10;
      }
      frac = v / scale;
    }
    return { text: ts, seconds: h * 3600 + mi * 60 + s + frac, clock: 'day' };
  }
  let dot = -1;
  for (let i = 0; i < n; i++) {
    const c = ts.charCodeAt(i);
    if (c === 46 && dot < 0 && i > 0 && i < n - 1) dot = i;
    else if (c < 48 || c > 57) return undefined;
  }
  if (n === 0) return undefined;
  return { text: ts, seconds: Number(ts), clock: 'epoch' };
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/** The parsed arguments of a record (cached on the record). Signal records give their
 *  siginfo struct as the single element; other kinds give []. */
export function recordArgs(rec: StraceRecord): Arg[] {
  if (rec.args) return rec.args;
  if (rec.kind === 'syscall' || (rec.kind === 'signal' && rec.argsText !== '')) {
    rec.args = parseArgs(rec.argsText);
  } else {
    rec.args = [];
  }
  return rec.args;
}
