/**
 * The scenario language: one statement per line, `#` comments, double-quoted strings with C escapes.
 * parseScenario(text, file) → Scenario, or a ScenarioError naming the file and line. The language is
 * documented in replay/README.md.
 */
import { CAPS, CLONE, NSPROXY_SLOTS, NS_TYPES, type Errno, type OpenMode } from '../kernel/index.js';
import type {
  Approx,
  CallSpec,
  ClockTerm,
  Cmp,
  Expectation,
  FdRef,
  HostClocksSpec,
  InlineExpect,
  Loc,
  NsRef,
  Scenario,
  Statement,
  TaskRef,
} from './ast.js';
import { isErrno, parseClock, parseDurationNs, parseFlags, parseInt10, parseSecondsNs, ValueError } from './values.js';

/** Bad scenario input (or a failure to run it): always names the file and the line. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  /** When running stopped at this error: what the run had found up to there (a RunResult). */
  partial?: unknown;
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly detail: string,
  ) {
    super(`${file}${line !== null ? `:${line}` : ''}: ${detail}`);
  }
}

interface Token {
  text: string;
  /** True when any part of the token was inside double quotes (then it is never a keyword). */
  quoted: boolean;
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', v: '\v', f: '\f' };

/** Split a line into tokens; `#` outside quotes starts a comment. */
export function tokenize(line: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length || line[i] === '#') break;
    let text = '';
    let quoted = false;
    while (i < line.length && !/\s/.test(line[i])) {
      if (line[i] === '"') {
        quoted = true;
        i++;
        let closed = false;
        while (i < line.length) {
          const c = line[i];
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          if (c === '\\') {
            const e = line[i + 1];
            if (e === undefined) throw new ValueError('a backslash ends the line inside a string');
            if (e === 'x') {
              const hex = line.slice(i + 2, i + 4);
              if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ValueError(`bad escape "\\x${hex}" (want \\xHH)`);
              text += String.fromCharCode(parseInt(hex, 16));
              i += 4;
              continue;
            }
            if (!(e in ESCAPES)) throw new ValueError(`unknown escape "\\${e}" (known: \\n \\t \\r \\0 \\\\ \\" \\xHH)`);
            text += ESCAPES[e];
            i += 2;
            continue;
          }
          text += c;
          i++;
        }
        if (!closed) throw new ValueError('unterminated string (a missing closing ")');
        continue;
      }
      text += line[i++];
    }
    out.push({ text, quoted });
  }
  return out;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const KEYWORDS = new Set(['scenario', 'title', 'shows', 'profile', 'host', 'task', 'let', 'expect', 'checkpoint', 'restore', 'note']);
const CMPS: Cmp[] = ['==', '!=', '<=', '>=', '<', '>'];
const SLOTS = new Set<string>([...NSPROXY_SLOTS, 'user', 'pid']);
const THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM;

/** A cursor over one line's tokens, with errors that carry the location. */
class Line {
  i = 0;
  constructor(
    readonly toks: Token[],
    readonly loc: Loc,
  ) {}
  fail(msg: string): never {
    throw new ScenarioError(this.loc.file, this.loc.line, msg);
  }
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  done(): boolean {
    return this.i >= this.toks.length;
  }
  next(what: string): Token {
    const t = this.toks[this.i++];
    if (!t) this.fail(`missing ${what}`);
    return t;
  }
  word(what: string): string {
    return this.next(what).text;
  }
  isWord(w: string): boolean {
    const t = this.peek();
    return !!t && !t.quoted && t.text === w;
  }
  eat(w: string): boolean {
    if (this.isWord(w)) {
      this.i++;
      return true;
    }
    return false;
  }
  expectWord(w: string): void {
    if (!this.eat(w)) this.fail(`expected "${w}"${this.peek() ? `, got "${this.peek()!.text}"` : ''}`);
  }
  rest(): Token[] {
    const r = this.toks.slice(this.i);
    this.i = this.toks.length;
    return r;
  }
  end(): void {
    if (!this.done()) this.fail(`unexpected "${this.peek()!.text}"`);
  }
  /** Run a value parser, turning ValueError into a located ScenarioError. */
  v<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof ValueError) this.fail(e.message);
      throw e;
    }
  }
  /** key=value options until the end (or until a non key=value token); unknown keys are errors. */
  options(allowed: string[]): Record<string, string> {
    const opts: Record<string, string> = {};
    while (!this.done()) {
      const t = this.peek()!;
      const eq = t.text.indexOf('=');
      if (t.quoted && eq < 0) break;
      if (eq <= 0) break;
      const key = t.text.slice(0, eq);
      if (!allowed.includes(key)) this.fail(`unknown option "${key}" (known: ${allowed.join(', ')})`);
      if (key in opts) this.fail(`option "${key}" given twice`);
      opts[key] = t.text.slice(eq + 1);
      this.i++;
    }
    return opts;
  }
}

function taskRef(l: Line, text: string): TaskRef {
  if (/^\d+$/.test(text)) return { pid: Number(text) };
  if (!NAME_RE.test(text)) l.fail(`"${text}" is not a task name or pid`);
  return { name: text };
}

function fdRef(l: Line, text: string): FdRef {
  if (/^\d+$/.test(text)) return { fd: Number(text) };
  if (!NAME_RE.test(text)) l.fail(`"${text}" is not an fd name or number`);
  return { name: text };
}

function approx(l: Line, text: string): Approx {
  const m = /^([^±]+?)(?:(?:±|\+-)(.+))?$/.exec(text);
  if (!m) l.fail(`"${text}" is not a value (e.g. 87400, 87400.5±0.001)`);
  return l.v(() => ({ ns: parseSecondsNs(m[1]), tol: m[2] !== undefined ? parseSecondsNs(m[2]) : 0n }));
}

function cmp(l: Line): Cmp {
  const t = l.word('a comparison (==, !=, <, <=, >, >=)');
  if (!(CMPS as string[]).includes(t)) l.fail(`"${t}" is not a comparison (==, !=, <, <=, >, >=)`);
  return t as Cmp;
}

/** @A.time, time:@A.time, time:[4026532176], init.time, or a name bound with `let`. */
export function nsRef(l: Line, text: string): NsRef {
  let type: string | undefined;
  let rest = text;
  const pre = /^([a-z]+):(.+)$/.exec(text);
  if (pre && (NS_TYPES as readonly string[]).includes(pre[1])) {
    type = pre[1];
    rest = pre[2];
  }
  let m = /^@([A-Za-z_][A-Za-z0-9_-]*|\d+)\.([a-z_]+)$/.exec(rest);
  if (m) {
    if (!SLOTS.has(m[2])) l.fail(`"${m[2]}" is not a namespace link (known: ${[...SLOTS].join(', ')})`);
    return { kind: 'slot', task: taskRef(l, m[1]), slot: m[2], type };
  }
  m = /^\[(\d+)\]$/.exec(rest);
  if (m) {
    if (!type) l.fail(`"${text}": a literal inode number needs its type, e.g. time:[4026532176]`);
    return { kind: 'inum', inum: Number(m[1]), type };
  }
  m = /^init\.([a-z]+)$/.exec(rest);
  if (m) {
    if (!(NS_TYPES as readonly string[]).includes(m[1])) l.fail(`"${m[1]}" is not a namespace type`);
    return { kind: 'init', type: m[1] };
  }
  if (NAME_RE.test(rest) && !KEYWORDS.has(rest)) return { kind: 'name', name: rest, type };
  return l.fail(`"${text}" is not a namespace reference (e.g. @A.time, time:@B.time_for_children, time:[4026532176], init.time)`);
}

function hostClocks(l: Line, opts: Record<string, string>): HostClocksSpec {
  const c: HostClocksSpec = {};
  for (const k of ['monotonic', 'boottime', 'realtime'] as const) {
    if (opts[k] === undefined) continue;
    const ns = l.v(() => parseSecondsNs(opts[k]));
    if (ns < 0n) l.fail(`host ${k} cannot be negative`);
    c[k] = ns;
  }
  return c;
}

function inlineExpects(l: Line): InlineExpect[] {
  const out: InlineExpect[] = [];
  if (l.done()) l.fail('"expect" needs something to expect (ok, fail, an errno, ret=N, ts=V, text="...", rule~"...")');
  while (!l.done()) {
    const t = l.next('an expectation');
    const s = t.text;
    if (!t.quoted && s === 'ok') out.push({ kind: 'ok' });
    else if (!t.quoted && s === 'fail') out.push({ kind: 'fail' });
    else if (!t.quoted && isErrno(s)) out.push({ kind: 'errno', errno: s as Errno });
    else if (s.startsWith('ret=')) out.push({ kind: 'ret', value: l.v(() => parseInt10(s.slice(4), 'ret')) });
    else if (s.startsWith('ts=')) out.push({ kind: 'ts', value: approx(l, s.slice(3)) });
    else if (s.startsWith('text=')) out.push({ kind: 'text', value: s.slice(5) });
    else if (s.startsWith('rule~')) out.push({ kind: 'rule', contains: s.slice(5) });
    else if (/^E[A-Z0-9]+$/.test(s)) l.fail(`"${s}" is not an errno tns knows`);
    else l.fail(`"${s}" is not an expectation (ok, fail, an errno, ret=N, ts=V[±T], text="...", rule~"...")`);
  }
  return out;
}

function parseCall(l: Line, call: string): CallSpec {
  const intArg = (what: string, def?: number): number => {
    if (l.done() || l.isWord('->') || l.isWord('expect')) {
      if (def === undefined) l.fail(`${call}: missing ${what}`);
      return def;
    }
    return l.v(() => parseInt10(l.word(what), what));
  };
  const fd = () => fdRef(l, l.word('an fd'));
  switch (call) {
    case 'fork':
    case 'vfork':
      return { call };
    case 'thread':
      return { call: 'clone', flags: THREAD_FLAGS };
    case 'clone':
      return { call: 'clone', flags: l.v(() => parseFlags(l.word('clone flags'))) };
    case 'clone3': {
      const flags = l.v(() => parseFlags(l.word('clone3 flags')));
      const o = l.options(['exit_signal', 'size', 'set_tid']);
      const exitSignal = o.exit_signal !== undefined ? l.v(() => parseFlags(o.exit_signal)) : flags & CLONE.THREAD ? 0 : 17;
      const size = o.size !== undefined ? l.v(() => parseInt10(o.size, 'size')) : 88;
      const setTid = o.set_tid !== undefined ? o.set_tid.split(',').map((x) => l.v(() => parseInt10(x, 'set_tid'))) : undefined;
      return { call: 'clone3', flags, exitSignal, size, setTid };
    }
    case 'unshare':
      return { call: 'unshare', flags: l.v(() => parseFlags(l.word('unshare flags'))) };
    case 'setns': {
      const f = fd();
      const nstype = l.done() || l.isWord('expect') ? 0 : l.v(() => parseFlags(l.word('nstype')));
      return { call: 'setns', fd: f, nstype };
    }
    case 'exec':
    case 'execve': {
      const path = { text: l.word('a path') };
      const o = l.options(['fsError']);
      if (o.fsError !== undefined && !isErrno(o.fsError)) l.fail(`fsError: "${o.fsError}" is not an errno`);
      return { call: 'execve', path, fsError: o.fsError as Errno | undefined };
    }
    case 'exit':
    case 'exit_group':
      return { call, code: intArg('an exit code', 0) };
    case 'wait': {
      const w = l.word('a child task (or any)');
      return { call: 'wait', target: w === 'any' || w === '-1' ? { any: true } : taskRef(l, w) };
    }
    case 'open': {
      const path = { text: l.word('a path') };
      let mode: OpenMode = 'r';
      let cloexec = false;
      while (!l.done() && !l.isWord('->') && !l.isWord('expect')) {
        const w = l.word('an open mode');
        if (w === 'r' || w === 'w' || w === 'rw') mode = w;
        else if (w === 'cloexec') cloexec = true;
        else l.fail(`open: "${w}" is not a mode (r, w, rw) or cloexec`);
      }
      return { call: 'open', path, mode, cloexec };
    }
    case 'close':
      return { call: 'close', fd: fd() };
    case 'dup':
      return { call: 'dup', fd: fd() };
    case 'read': {
      const f = fd();
      return { call: 'read', fd: f, count: intArg('a count', 4096) };
    }
    case 'write': {
      const f = fd();
      return { call: 'write', fd: f, data: { text: l.word('the data to write (a "quoted string")') } };
    }
    case 'pwrite': {
      const f = fd();
      const data = { text: l.word('the data') };
      return { call: 'pwrite', fd: f, data, offset: intArg('an offset') };
    }
    case 'lseek': {
      const f = fd();
      const offset = intArg('an offset');
      let whence: 'SET' | 'CUR' | 'END' = 'SET';
      if (!l.done() && !l.isWord('expect') && !l.isWord('->')) {
        const w = l.word('whence').replace(/^SEEK_/, '');
        if (w !== 'SET' && w !== 'CUR' && w !== 'END') l.fail(`lseek: "${w}" is not SET, CUR or END`);
        whence = w;
      }
      return { call: 'lseek', fd: f, offset, whence };
    }
    case 'readlink':
      return { call: 'readlink', path: { text: l.word('a path') } };
    case 'pidfd_open': {
      const target = taskRef(l, l.word('a task'));
      const flags = l.done() || l.isWord('->') || l.isWord('expect') ? 0 : l.v(() => parseFlags(l.word('flags')));
      return { call: 'pidfd_open', target, flags };
    }
    case 'clock_gettime':
      return { call: 'clock_gettime', clockid: l.v(() => parseClock(l.word('a clock'))) };
    case 'timer_abs': {
      const api = l.word('an api (clock_nanosleep, timer_settime, timerfd_settime, futex)');
      if (!['clock_nanosleep', 'timer_settime', 'timerfd_settime', 'futex'].includes(api))
        l.fail(`timer_abs: "${api}" is not clock_nanosleep, timer_settime, timerfd_settime or futex`);
      const clockid = l.v(() => parseClock(l.word('a clock')));
      const deadlineNs = l.v(() => parseSecondsNs(l.word('a deadline in seconds')));
      return { call: 'timer_abs', api: api as 'futex', clockid, deadlineNs };
    }
    case 'setuid':
    case 'setresuid': {
      const r = intArg('a uid');
      if (call === 'setuid' || l.done() || l.isWord('expect')) return { call: 'setresuid', ruid: r, euid: r, suid: r };
      const e = intArg('an euid');
      return { call: 'setresuid', ruid: r, euid: e, suid: intArg('an suid') };
    }
    case 'capset': {
      const caps: string[] = [];
      while (!l.done() && !l.isWord('expect')) {
        const c = l.word('a capability');
        if (c === 'none') continue;
        if (!(CAPS as readonly string[]).includes(c)) l.fail(`capset: "${c}" is not a capability tns models (${CAPS.join(', ')})`);
        caps.push(c);
      }
      return { call: 'capset', caps };
    }
    case 'prctl_dumpable': {
      const v = intArg('0 or 1');
      if (v !== 0 && v !== 1) l.fail('prctl_dumpable: want 0 or 1');
      return { call: 'prctl_dumpable', dumpable: v === 1 };
    }
    default:
      return l.fail(
        `unknown call "${call}" (known: fork, vfork, thread, clone, clone3, unshare, setns, execve, exit, exit_group, wait, open, close, dup, read, write, pwrite, lseek, readlink, pidfd_open, clock_gettime, timer_abs, setresuid, setuid, capset, prctl_dumpable)`,
      );
  }
}

function clockTerm(l: Line): ClockTerm {
  const task = taskRef(l, l.word('a task'));
  const clockid = l.v(() => parseClock(l.word('a clock')));
  let shiftNs = 0n;
  if (l.isWord('+') || l.isWord('-')) {
    const neg = l.word('+ or -') === '-';
    const d = l.v(() => parseDurationNs(l.word('a duration')));
    shiftNs = neg ? -d : d;
  }
  return { task, clockid, shiftNs };
}

function parseExpectation(l: Line): Expectation {
  const first = l.word('an expectation');
  switch (first) {
    case 'refcount': {
      const ns = nsRef(l, l.word('a namespace'));
      const c = cmp(l);
      return { kind: 'refcount', ns, cmp: c, value: l.v(() => parseInt10(l.word('a count'), 'refcount')) };
    }
    case 'frozen':
      return { kind: 'frozen', ns: nsRef(l, l.word('a namespace')), negate: false };
    case 'not': {
      if (l.eat('frozen')) return { kind: 'frozen', ns: nsRef(l, l.word('a namespace')), negate: true };
      return l.fail('"expect not" is followed by "frozen NS" (or write "expect A not in SLOT of B")');
    }
    case 'offsets': {
      const ns = nsRef(l, l.word('a namespace'));
      const o = l.options(['monotonic', 'boottime']);
      if (o.monotonic === undefined && o.boottime === undefined) l.fail('expect offsets: give monotonic=V and/or boottime=V');
      return {
        kind: 'offsets',
        ns,
        monotonic: o.monotonic !== undefined ? approx(l, o.monotonic) : undefined,
        boottime: o.boottime !== undefined ? approx(l, o.boottime) : undefined,
      };
    }
    case 'clock': {
      const left = clockTerm(l);
      const c = cmp(l);
      if (l.eat('clock')) return { kind: 'clock', left, cmp: c, right: clockTerm(l) };
      return { kind: 'clock', left, cmp: c, right: approx(l, l.word('a value in seconds')) };
    }
    case 'ucounts': {
      const o = l.options(['uid', 'userns']);
      const uid = o.uid !== undefined ? l.v(() => parseInt10(o.uid, 'uid')) : 0;
      const userns = o.userns !== undefined ? nsRef(l, o.userns) : undefined;
      const c = cmp(l);
      return { kind: 'ucounts', uid, userns, cmp: c, value: l.v(() => parseInt10(l.word('a count'), 'ucounts')) };
    }
    case 'task': {
      const task = taskRef(l, l.word('a task'));
      const st = l.word('running, zombie or gone');
      if (st !== 'running' && st !== 'zombie' && st !== 'gone') l.fail(`"${st}" is not running, zombie or gone`);
      return { kind: 'task-state', task, state: st };
    }
    case 'image': {
      const image = l.word('an image name');
      if (l.eat('timens')) {
        const c = cmp(l);
        return { kind: 'image-timens', image, cmp: c, value: l.v(() => parseInt10(l.word('a count'), 'timens')) };
      }
      if (l.eat('criu')) {
        const w = l.word('accepts or refuses');
        if (w !== 'accepts' && w !== 'refuses') l.fail(`"${w}" is not accepts or refuses`);
        return { kind: 'image-criu', image, accepts: w === 'accepts' };
      }
      const task = taskRef(l, l.word('a task'));
      const clock = l.word('monotonic or boottime');
      if (clock !== 'monotonic' && clock !== 'boottime') l.fail(`"${clock}" is not monotonic or boottime`);
      const c = cmp(l);
      return { kind: 'image-clock', image, task, clock, cmp: c, value: approx(l, l.word('a value')) };
    }
    case 'invariants':
      return { kind: 'invariants' };
    default: {
      // "A in time_for_children of B", "A not in time of B", or "NS == NS".
      const second = l.peek();
      if (second && !second.quoted && (second.text === 'in' || second.text === 'not')) {
        const negate = l.eat('not');
        l.expectWord('in');
        const slot = l.word('a namespace link');
        if (!SLOTS.has(slot)) l.fail(`"${slot}" is not a namespace link (known: ${[...SLOTS].join(', ')})`);
        l.expectWord('of');
        return { kind: 'in-ns-of', task: taskRef(l, first), slot, of: taskRef(l, l.word('a task')), negate };
      }
      if (second && (second.text === '==' || second.text === '!=')) {
        const a = nsRef(l, first);
        const c = l.word('== or !=') as '==' | '!=';
        return { kind: 'ns-compare', a, cmp: c, b: nsRef(l, l.word('a namespace')) };
      }
      return l.fail(
        `unknown expectation "${first}" (refcount, frozen, not frozen, offsets, clock, ucounts, task, image, invariants, "A in SLOT of B", "NS == NS")`,
      );
    }
  }
}

function parseLine(l: Line): Statement | null {
  if (l.done()) return null;
  const loc = l.loc;
  const head = l.next('a statement');
  const restText = () =>
    l
      .rest()
      .map((t) => t.text)
      .join(' ');
  if (head.quoted) l.fail(`a statement cannot start with a string ("${head.text}")`);
  switch (head.text) {
    case 'scenario':
    case 'title':
      return { kind: 'title', text: restText(), loc };
    case 'shows':
      return { kind: 'shows', text: restText(), loc };
    case 'note':
      return { kind: 'note', text: restText(), loc };
    case 'profile': {
      const name = l.word('a kernel profile (e.g. 6.3+, 5.6)');
      l.end();
      return { kind: 'profile', name, loc };
    }
    case 'host': {
      if (l.eat('advance')) {
        const ns = l.v(() => parseDurationNs(l.word('a duration')));
        if (ns < 0n) l.fail('host time only moves forward');
        l.end();
        return { kind: 'host-time', suspend: false, ns, loc };
      }
      if (l.eat('suspend')) {
        const ns = l.v(() => parseDurationNs(l.word('a duration')));
        if (ns < 0n) l.fail('a suspend lasts a positive duration');
        l.end();
        return { kind: 'host-time', suspend: true, ns, loc };
      }
      if (l.eat('sysctl')) {
        const t = l.word('max_time_namespaces=N');
        const m = /^(?:user\.)?max_time_namespaces=(-?\d+)$/.exec(t);
        if (!m) l.fail(`host sysctl: only user.max_time_namespaces=N is modelled, got "${t}"`);
        const expects = l.eat('expect') ? inlineExpects(l) : [];
        l.end();
        return { kind: 'sysctl', value: Number(m[1]), expects, loc };
      }
      const o = l.options(['monotonic', 'boottime', 'realtime', 'name']);
      l.end();
      if (Object.keys(o).length === 0) l.fail('host: want advance DUR, suspend DUR, sysctl max_time_namespaces=N, or [name=NAME] monotonic=S boottime=S realtime=S');
      if (o.name !== undefined && !NAME_RE.test(o.name)) l.fail(`"${o.name}" is not a machine name`);
      return { kind: 'host-clocks', clocks: hostClocks(l, o), name: o.name, loc };
    }
    case 'task': {
      const name = l.word('a task name');
      if (!NAME_RE.test(name) || KEYWORDS.has(name) || /^\d+$/.test(name)) l.fail(`"${name}" cannot be a task name`);
      const o = l.options(['pid', 'uid', 'parent']);
      l.end();
      if (o.pid === undefined) l.fail(`task ${name}: pid=N is required`);
      const pid = l.v(() => parseInt10(o.pid, 'pid'));
      if (pid < 1) l.fail('pid must be ≥ 1');
      const uid = o.uid !== undefined ? l.v(() => parseInt10(o.uid, 'uid')) : 0;
      return { kind: 'task', name, pid, uid, parent: o.parent, loc };
    }
    case 'let': {
      const name = l.word('a name');
      if (!NAME_RE.test(name) || KEYWORDS.has(name)) l.fail(`"${name}" cannot be a name`);
      l.expectWord('=');
      const ns = nsRef(l, l.word('a namespace'));
      l.end();
      return { kind: 'let', name, ns, loc };
    }
    case 'expect': {
      const text = l.toks
        .slice(l.i)
        .map((t) => (t.quoted ? JSON.stringify(t.text) : t.text))
        .join(' ');
      const expectation = parseExpectation(l);
      l.end();
      return { kind: 'expect', expectation, text, loc };
    }
    case 'checkpoint': {
      let image = 'image';
      if (l.peek() && !l.peek()!.text.includes('=') && !l.isWord('->')) image = l.word('an image name');
      const o = l.options(['pid', 'at']);
      if (l.eat('->')) image = l.word('an image name');
      l.end();
      if (o.at !== undefined && o.at !== 'here') l.fail('checkpoint: inside a scenario the checkpoint is taken "at=here"; use `tns checkpoint --at` on a ledger');
      if (o.pid === undefined) l.fail('checkpoint: pid=TASK is required (the root of the tree to capture)');
      return { kind: 'checkpoint', image, pid: taskRef(l, o.pid), loc };
    }
    case 'restore': {
      const image = l.word('an image name');
      let machine: string | undefined;
      if (l.eat('on')) machine = l.word('a machine name');
      const o = l.options(['monotonic', 'boottime', 'realtime', 'policy', 'elapsed', 'as']);
      if (o.as !== undefined) machine = o.as;
      if (machine !== undefined && !NAME_RE.test(machine)) l.fail(`"${machine}" is not a machine name`);
      if (o.monotonic === undefined || o.boottime === undefined) l.fail('restore: the new host needs monotonic=S and boottime=S');
      const policy = o.policy ?? 'freeze';
      if (policy !== 'freeze' && policy !== 'advance') l.fail(`restore: policy "${policy}" is not freeze or advance`);
      const elapsedNs = o.elapsed !== undefined ? l.v(() => parseDurationNs(o.elapsed)) : undefined;
      if (elapsedNs !== undefined && elapsedNs < 0n) l.fail('restore: elapsed cannot be negative');
      const expects = l.eat('expect') ? inlineExpects(l) : [];
      l.end();
      return { kind: 'restore', image, machine, clocks: hostClocks(l, o), policy, elapsedNs, expects, loc };
    }
    default: {
      const task = taskRef(l, head.text);
      const call = l.word('a call (e.g. fork, unshare, open, write, clock_gettime)');
      const spec = parseCall(l, call);
      let bind: string | undefined;
      if (l.eat('->')) {
        bind = l.word('a name to bind');
        if (!NAME_RE.test(bind) || KEYWORDS.has(bind)) l.fail(`"${bind}" cannot be a name`);
      }
      const expects = l.eat('expect') ? inlineExpects(l) : [];
      l.end();
      if (bind && !['fork', 'vfork', 'clone', 'clone3', 'open', 'dup', 'pidfd_open'].includes(spec.call))
        l.fail(`${spec.call} does not return something to bind with "->" (only fork, vfork, thread, clone, clone3, open, dup, pidfd_open do)`);
      return { kind: 'call', task, spec, bind, expects, loc };
    }
  }
}

/** Parse a whole scenario. Errors name the file and line. */
export function parseScenario(text: string, file: string): Scenario {
  const sc: Scenario = { file, shows: [], statements: [] };
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const loc = { file, line: n + 1 };
    let toks: Token[];
    try {
      toks = tokenize(lines[n]);
    } catch (e) {
      if (e instanceof ValueError) throw new ScenarioError(file, n + 1, e.message);
      throw e;
    }
    const st = parseLine(new Line(toks, loc));
    if (!st) continue;
    if (st.kind === 'title') {
      if (sc.title !== undefined) throw new ScenarioError(file, n + 1, 'a scenario has one title');
      sc.title = st.text;
    } else if (st.kind === 'shows') sc.shows.push(st.text);
    else if (st.kind === 'profile') {
      if (sc.profile !== undefined) throw new ScenarioError(file, n + 1, 'profile given twice');
      if (sc.statements.some((s) => !['note', 'title', 'shows'].includes(s.kind)))
        throw new ScenarioError(file, n + 1, 'profile must come before the first task or event');
      sc.profile = st.name;
    }
    sc.statements.push(st);
  }
  return sc;
}
