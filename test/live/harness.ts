/**
 * The differential harness: runs a scenario on the live kernel (through tnsexec) and in the model, op by op, and
 * compares every outcome (ret, errno, text, clock readings within a tolerance), then after each op which namespace
 * every task is in (all ten /proc/TID/ns links), the fd tables, the task lifecycle (running / zombie / reaped) and the
 * freeing of namespaces (by the kernel's lowest-free inode reuse). Namespace identities are compared through a
 * bijection between real inode numbers and model inums: bound on first sight, checked both ways afterwards.
 *
 * A scenario names tasks (the first one is `root`, default "A") and fds; the harness resolves names to the real
 * tids and fd numbers the kernel returned and hands those to the model as bindings (`child`, `fd`, `pidfd`).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import {
  apply,
  capsFromMask,
  checkInvariants,
  CLOCK,
  CLONE,
  createWorld,
  ERRNO_NUMBERS,
  ModelError,
  NS_FLAG,
  type Errno,
  type Op,
  type Outcome,
  type Timespec,
  type World,
} from '../../src/kernel/index.js';
import { nsOfLink } from '../../src/kernel/files.js';
import { LiveError, LiveSession, liveFds, nsInode, procState, type HostReading } from './live.js';

/** A task or fd reference: a scenario name, or a plain number. */
export type Ref = string | number;

/** One scenario step: an Op in which `tid` is replaced by `task` (a name) and ids may be names. */
export interface ScenarioOp {
  call: Op['call'];
  /** The calling task's name (default: the root task). */
  task?: string;
  /** Names the child (fork/vfork/clone/clone3) or the new fd (open/dup/pidfd_open). */
  as?: string;
  /** clone/clone3 with CLONE_PIDFD: names the pidfd. */
  pidfdAs?: string;
  /** What the live kernel must answer (checked so that a scenario really exercises its row). */
  expect?: { errno?: Errno | null; ret?: number };
  /** Free text: what this step shows. */
  note?: string;
  [field: string]: unknown;
}

export interface Scenario {
  name: string;
  /** The SEMANTICS.md rows this scenario exercises. */
  covers?: string[];
  /** The root task's name (default "A"). */
  root?: string;
  ops: ScenarioOp[];
}

export interface RunOptions {
  /** Clock tolerance in ns (default 100 ms). */
  clockToleranceNs?: number;
  profile?: string;
  /** Check the scenario's `expect` fields (default true). */
  checkExpect?: boolean;
  /**
   * Whether an op may be skipped (its task is gone or blocked, or a name it uses was never bound because the op that
   * should have made it failed). Default false: a skipped op is a mismatch, so no scenario silently loses the ops
   * that matter. An op may also say `"maySkip": true` itself.
   */
  allowSkip?: boolean;
  /**
   * A deliberate error for the harness's own tests: the model's host clocks start this many ns off the live ones
   * (positive: ahead). Default 0.
   */
  modelClockSkewNs?: number;
}

/** Root's effective capabilities on this host (this container's root lacks CAP_SYS_RESOURCE). */
export function hostCapEff(): string {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error('/proc/self/status has no CapEff line');
  return m[1];
}

/** Whether the host has an RTC device (the alarm clocks need one). */
export function hostHasRtc(): boolean {
  try {
    return existsSync('/sys/class/rtc') && readdirSync('/sys/class/rtc').length > 0;
  } catch {
    return false;
  }
}

export interface RunResult {
  name: string;
  executed: number;
  skipped: number;
  /** live errnos seen, for coverage statistics. */
  errnos: Record<string, number>;
  mismatch: Mismatch | null;
}

export class Mismatch extends Error {
  override name = 'Mismatch';
  constructor(
    readonly scenario: string,
    readonly index: number,
    readonly what: string,
    readonly report: string,
  ) {
    super(report);
  }
}

const LINKS = ['time', 'time_for_children', 'user', 'pid', 'pid_for_children', 'mnt', 'uts', 'ipc', 'net', 'cgroup'] as const;
const ERRNO_NAMES: Record<number, Errno> = Object.fromEntries(Object.entries(ERRNO_NUMBERS).map(([k, v]) => [v, k as Errno]));
const CLONE_NAMES = CLONE as Record<string, number>;

export function errnoName(n: number): string {
  return ERRNO_NAMES[n] ?? `E#${n}`;
}

/** flags given as a number, "NEWTIME|VM", or ["NEWTIME", "VM", 17]. */
export function flagsOf(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const parts = Array.isArray(v) ? v : String(v).split('|');
  let f = 0;
  for (const p of parts) {
    if (typeof p === 'number') f += p;
    else {
      const k = p.trim().replace(/^CLONE_/, '');
      if (/^(0x[0-9a-f]+|\d+)$/i.test(k)) f += Number(k);
      else if (k === 'SIGCHLD') f += 17;
      else if (k in CLONE_NAMES) f += CLONE_NAMES[k];
      else if (k in NS_FLAG) f += NS_FLAG[k as keyof typeof NS_FLAG];
      else throw new Error(`unknown flag ${p}`);
    }
  }
  return f;
}

function hex(s: string): string {
  return s.length === 0 ? '-' : Buffer.from(s, 'latin1').toString('hex');
}
function unhex(s: string | undefined): string {
  return !s || s === '-' ? '' : Buffer.from(s, 'hex').toString('latin1');
}
const tsNs = (t: Timespec): bigint => BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
const nsTs = (n: bigint): Timespec => {
  let sec = n / 1_000_000_000n;
  let nsec = n % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
};
const fmtTs = (t: Timespec | undefined): string => (t ? `${t.sec}.${String(t.nsec).padStart(9, '0')}` : '-');

/** What the live kernel answered for one op. */
interface LiveOutcome {
  ret: number;
  errno?: string;
  text?: string;
  ts?: Timespec;
  timer?: { kind: 'rem' | 'slept'; d: Timespec };
  /** a non-answer (exit) */
  none?: boolean;
  extra?: string[];
}

function parseReply(line: string | null, what: string): LiveOutcome {
  if (line === null) throw new LiveError(`no answer from the live task for ${what}`);
  const p = line.split(' ');
  if (p[0] !== 'R') throw new LiveError(`bad answer "${line}" for ${what}`);
  const ret = Number(p[1]);
  const e = Number(p[2]);
  return { ret, errno: ret === -1 && e ? errnoName(e) : undefined, extra: p.slice(3) };
}

/** The namespace a /proc/TID/ns/<link> shows in the model, or null (ENOENT): the model's own ns_get_path. */
function modelLink(world: World, tid: number, link: string): number | null {
  const t = world.tasks[tid];
  return t ? nsOfLink(world, t, link) : null;
}

function hostNow(h: HostReading, clockid: number): Timespec {
  switch (clockid) {
    case CLOCK.MONOTONIC:
    case CLOCK.MONOTONIC_RAW:
    case CLOCK.MONOTONIC_COARSE:
      return h.monotonic;
    case CLOCK.BOOTTIME:
    case CLOCK.BOOTTIME_ALARM:
      return h.boottime;
    case CLOCK.TAI:
      return h.tai;
    default:
      return h.realtime;
  }
}

/** One scenario run: a live session, a model world, the name tables and the inode bijection. */
class Run {
  world!: World;
  live!: LiveSession;
  names = new Map<string, number>();
  fds = new Map<string, number>();
  modelToReal = new Map<number, number>();
  realToModel = new Map<number, number>();
  /** Real inums whose model namespace was freed (and not bound again since): the kernel must have freed them. */
  freedReal = new Set<number>();
  /** vfork parents sleeping until their child execs or exits: parent tid -> child tid. */
  vforkPending = new Map<number, number>();
  knownTids = new Set<number>();
  last!: HostReading;
  done: string[] = [];
  executed = 0;
  skipped = 0;
  errnos: Record<string, number> = {};
  index = -1;
  tol: bigint;

  constructor(
    readonly scenario: Scenario,
    readonly opts: RunOptions,
  ) {
    this.tol = BigInt(opts.clockToleranceNs ?? 100_000_000);
  }

  /** Whether a task's children are made in a pid namespace other than the initial one. */
  inNestedPidns(tid: number): boolean {
    const t = this.world.tasks[tid];
    const nsp = t?.nsproxy != null ? this.world.nsproxies[t.nsproxy] : null;
    return nsp !== null && nsp.pid_for_children !== this.world.init.pid;
  }

  fail(what: string, details: string[]): never {
    const op = this.scenario.ops[this.index];
    const lines = [
      `differential mismatch in scenario "${this.scenario.name}" at op #${this.index}${op ? ` ${JSON.stringify(op)}` : ''}`,
      `  ${what}`,
      ...details.map((d) => `  ${d}`),
      `  ops so far (resolved, live tids):`,
      ...this.done.map((d, i) => `    ${String(i).padStart(3)} ${d}`),
    ];
    throw new Mismatch(this.scenario.name, this.index, what, lines.join('\n'));
  }

  async start(): Promise<void> {
    this.live = await LiveSession.start();
    const h = await this.live.clk();
    this.last = h;
    const [base] = await this.live.probe(1);
    const root = this.scenario.root ?? 'A';
    const skew = BigInt(this.opts.modelClockSkewNs ?? 0);
    const skewed = (t: Timespec) => nsTs(tsNs(t) + skew);
    this.world = createWorld({
      profile: this.opts.profile ?? '6.3+',
      host: { realtime: skewed(h.realtime), monotonic: skewed(h.monotonic), boottime: skewed(h.boottime) },
      taiOffset: Math.round(Number(tsNs(h.tai) - tsNs(h.realtime)) / 1e9),
      firstPid: this.live.t0,
      uid: 0,
      inumBase: base,
      maxTimeNamespaces: this.live.savedMaxTimeNamespaces,
      rootCaps: capsFromMask(hostCapEff()),
      alarmClocks: hostHasRtc(),
    });
    this.names.set(root, this.live.t0);
    this.knownTids.add(this.live.t0);
    await this.compareState();
  }

  async close(): Promise<void> {
    await this.live?.close();
  }

  // ---------- name resolution ----------
  task(name: string | undefined): number | null {
    return this.names.get(name ?? this.scenario.root ?? 'A') ?? null;
  }
  ref(v: unknown, table: Map<string, number>): number | null {
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      if (/^-?\d+$/.test(v)) return Number(v);
      return table.get(v) ?? null;
    }
    return null;
  }
  path(p: unknown): string | null {
    let ok = true;
    const s = String(p ?? '').replace(/\{([^}]+)\}/g, (_, n: string) => {
      const t = this.names.get(n);
      if (t === undefined) ok = false;
      return String(t);
    });
    return ok ? s : null;
  }

  /** The model Op (with the live bindings still to fill) and the live command; null when a name is unbound. */
  resolve(s: ScenarioOp): { op: Op; cmd: string } | null {
    const tid = this.task(s.task);
    if (tid === null) return null;
    switch (s.call) {
      case 'fork':
        return { op: { call: 'fork', tid }, cmd: 'fork' };
      case 'vfork':
        return { op: { call: 'vfork', tid }, cmd: 'vfork' };
      case 'clone': {
        const flags = flagsOf(s.flags);
        return { op: { call: 'clone', tid, flags }, cmd: `clone ${flags}` };
      }
      case 'clone3': {
        const flags = flagsOf(s.flags);
        const exit_signal = typeof s.exit_signal === 'number' ? s.exit_signal : 17;
        const size = typeof s.size === 'number' ? s.size : 88;
        const setTid: number[] = [];
        for (const r of (s.set_tid as unknown[] | undefined) ?? []) {
          const v = this.ref(r, this.names);
          if (v === null) return null;
          setTid.push(v);
        }
        const badStack = s.badStack === true;
        const op: Op = { call: 'clone3', tid, flags, exit_signal, size, ...(setTid.length ? { set_tid: setTid } : {}), ...(badStack ? { badStack } : {}) };
        return { op, cmd: `clone3 ${flags} ${exit_signal} ${size} ${badStack ? 1 : 0} ${setTid.length} ${setTid.join(' ')}`.trim() };
      }
      case 'unshare': {
        const flags = flagsOf(s.flags);
        return { op: { call: 'unshare', tid, flags }, cmd: `unshare ${flags}` };
      }
      case 'setns': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const nstype = typeof s.nstype === 'string' ? (s.nstype in NS_FLAG ? NS_FLAG[s.nstype as keyof typeof NS_FLAG] : flagsOf(s.nstype)) : ((s.nstype as number | undefined) ?? 0);
        return { op: { call: 'setns', tid, fd, nstype }, cmd: `setns ${fd} ${nstype}` };
      }
      case 'execve': {
        const path = (s.path as string | undefined) ?? '@self';
        const fsError = s.fsError as Errno | undefined;
        return { op: { call: 'execve', tid, path, ...(fsError ? { fsError } : {}) }, cmd: `exec ${hex(path)}` };
      }
      case 'exit':
      case 'exit_group': {
        const code = typeof s.code === 'number' ? s.code : 0;
        return { op: { call: s.call, tid, code }, cmd: `${s.call} ${code}` };
      }
      case 'wait': {
        const target = s.target === undefined ? -1 : this.ref(s.target, this.names);
        if (target === null) return null;
        return { op: { call: 'wait', tid, target }, cmd: `wait ${target}` };
      }
      case 'open': {
        const path = this.path(s.path);
        if (path === null) return null;
        const mode = (s.mode as 'r' | 'w' | 'rw' | undefined) ?? 'r';
        const cloexec = s.cloexec === true;
        return { op: { call: 'open', tid, path, mode, ...(cloexec ? { cloexec } : {}) }, cmd: `open ${hex(path)} ${mode} ${cloexec ? 1 : 0}` };
      }
      case 'close': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        return { op: { call: 'close', tid, fd }, cmd: `close ${fd}` };
      }
      case 'dup': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const newfd = typeof s.newfd === 'number' ? s.newfd : undefined;
        const cloexec = s.cloexec === true;
        return { op: { call: 'dup', tid, fd, ...(newfd !== undefined ? { newfd } : {}), ...(cloexec ? { cloexec } : {}) }, cmd: `dup ${fd} ${newfd ?? -1} ${cloexec ? 1 : 0}` };
      }
      case 'read': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const count = typeof s.count === 'number' ? s.count : 4096;
        return { op: { call: 'read', tid, fd, count }, cmd: `read ${fd} ${count}` };
      }
      case 'write': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const data = String(s.data ?? '');
        return { op: { call: 'write', tid, fd, data }, cmd: `write ${fd} ${hex(data)}` };
      }
      case 'pwrite': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const data = String(s.data ?? '');
        const offset = typeof s.offset === 'number' ? s.offset : 0;
        return { op: { call: 'pwrite', tid, fd, data, offset }, cmd: `pwrite ${fd} ${offset} ${hex(data)}` };
      }
      case 'lseek': {
        const fd = this.ref(s.fd, this.fds);
        if (fd === null) return null;
        const offset = typeof s.offset === 'number' ? s.offset : 0;
        const whence = (s.whence as 'SET' | 'CUR' | 'END' | undefined) ?? 'SET';
        return { op: { call: 'lseek', tid, fd, offset, whence }, cmd: `lseek ${fd} ${offset} ${whence}` };
      }
      case 'readlink': {
        const path = this.path(s.path);
        if (path === null) return null;
        return { op: { call: 'readlink', tid, path }, cmd: `readlink ${hex(path)}` };
      }
      case 'pidfd_open': {
        const pid = this.ref(s.pid, this.names);
        if (pid === null) return null;
        const flags = typeof s.flags === 'number' ? s.flags : 0;
        return { op: { call: 'pidfd_open', tid, pid, flags }, cmd: `pidfd_open ${pid} ${flags}` };
      }
      case 'clock_gettime': {
        const clockid = typeof s.clockid === 'string' ? (CLOCK as Record<string, number>)[s.clockid] : (s.clockid as number);
        return { op: { call: 'clock_gettime', tid, clockid }, cmd: `clock ${clockid}` };
      }
      case 'timer_abs': {
        const api = (s.api as 'clock_nanosleep' | 'timer_settime' | 'timerfd_settime' | 'futex' | undefined) ?? 'timerfd_settime';
        const clockid = typeof s.clockid === 'string' ? (CLOCK as Record<string, number>)[s.clockid] : (s.clockid as number);
        let deadline = s.deadline as Timespec | undefined;
        if (!deadline) {
          // deadlineIn: ms from the task's current reading of that clock *as the model sees it*: a model with the
          // wrong offsets converts it to a different host deadline than the kernel does.
          const r = apply(structuredClone(this.world), { call: 'clock_gettime', tid, clockid });
          const base = r.ts ?? { sec: 0, nsec: 0 };
          const d = tsNs(base) + BigInt(Math.round(Number(s.deadlineIn ?? 0) * 1e6));
          deadline = d < 0n ? { sec: 0, nsec: 0 } : nsTs(d);
        }
        return { op: { call: 'timer_abs', tid, api, clockid, deadline }, cmd: `timer ${api} ${clockid} ${deadline.sec} ${deadline.nsec}` };
      }
      case 'setresuid': {
        const ruid = (s.ruid as number | undefined) ?? -1;
        const euid = (s.euid as number | undefined) ?? -1;
        const suid = (s.suid as number | undefined) ?? -1;
        return { op: { call: 'setresuid', tid, ruid, euid, suid }, cmd: `setresuid ${ruid} ${euid} ${suid}` };
      }
      case 'capset': {
        const caps = (s.caps as string[] | undefined) ?? [];
        return { op: { call: 'capset', tid, caps: caps as never }, cmd: `capset ${caps.join(' ')}`.trim() };
      }
      case 'prctl_dumpable': {
        const dumpable = s.dumpable !== false;
        return { op: { call: 'prctl_dumpable', tid, dumpable }, cmd: `dumpable ${dumpable ? 1 : 0}` };
      }
      default:
        throw new Error(`scenario "${this.scenario.name}" op #${this.index}: ${s.call} cannot run on the live kernel`);
    }
  }

  // ---------- the main loop ----------
  async step(s: ScenarioOp): Promise<void> {
    const r = this.resolve(s);
    const tid = this.task(s.task);
    const t = tid === null ? undefined : this.world.tasks[tid];
    if (!r || !t || t.state !== 'running' || this.vforkPending.has(tid!) || !this.live.conns.has(tid!)) {
      const why = !t ? `task ${s.task ?? this.scenario.root ?? 'A'} does not exist` : t.state !== 'running' ? `task ${tid} is ${t.state}` : this.vforkPending.has(tid!) ? `task ${tid} sleeps in vfork` : !this.live.conns.has(tid!) ? `task ${tid} has no live connection` : 'a name it uses is unbound';
      if (!this.opts.allowSkip && s.maySkip !== true) this.fail(`op skipped: ${why}`, ['(a scenario must not refer to tasks or fds that do not exist at that point; set "maySkip": true on the op if intended)']);
      this.skipped++;
      this.done.push(`(skipped) ${JSON.stringify(s)}`);
      return;
    }
    const { op, cmd } = r;
    // Host time: read the host clocks in the initial namespaces and tell the model how much time passed.
    const h = await this.live.clk();
    const dMono = tsNs(h.monotonic) - tsNs(this.last.monotonic);
    const dBoot = tsNs(h.boottime) - tsNs(this.last.boottime);
    if (dMono > 0n) apply(this.world, { call: 'host.advance', ...nsTs(dMono) });
    if (dBoot - dMono > 1_000_000n) apply(this.world, { call: 'host.suspend', ...nsTs(dBoot - dMono) });
    this.last = h;

    const before = new Set(Object.keys(this.world.namespaces).map(Number));
    const lv = await this.runLive(op, cmd, s);
    this.executed++;
    if (lv.errno) this.errnos[lv.errno] = (this.errnos[lv.errno] ?? 0) + 1;
    else this.errnos.ok = (this.errnos.ok ?? 0) + 1;

    // Bindings: the kernel's identities go to the model.
    const bound = { ...op } as Op & Record<string, unknown>;
    if (!lv.errno) {
      if (op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') {
        bound.child = lv.ret;
        const pidfd = lv.extra?.[0];
        if ((op.call === 'clone' || op.call === 'clone3') && op.flags % 0x2000 >= CLONE.PIDFD && pidfd !== undefined) bound.pidfd = Number(pidfd);
      }
      if (op.call === 'open' || op.call === 'pidfd_open') bound.fd = lv.ret;
      if (op.call === 'dup' && op.newfd === undefined) bound.newfd = lv.ret;
    }
    const desc = `${JSON.stringify(bound)} → live ${this.fmtLive(lv)}`;
    let mo: Outcome;
    try {
      mo = apply(this.world, bound);
    } catch (e) {
      if (e instanceof ModelError) this.fail('the model refused the op (ModelError)', [`op: ${JSON.stringify(bound)}`, `live: ${this.fmtLive(lv)}`, `model: ${e.message}`]);
      throw e;
    }
    this.done.push(`${desc}; model ${this.fmtModel(mo)}`);
    const bad = checkInvariants(this.world);
    if (bad.length) this.fail('model invariants broken', bad);

    // The live reading happened somewhere between `h` and now: on a busy machine the round trip to the live task can
    // take longer than the tolerance, so a clock read is judged against that window, not against `h` alone.
    let elapsed = 0n;
    if (op.call === 'clock_gettime' || op.call === 'read') {
      const after = await this.live.clk();
      const dm = tsNs(after.monotonic) - tsNs(h.monotonic);
      const db = tsNs(after.boottime) - tsNs(h.boottime);
      elapsed = dm > db ? dm : db;
    }
    this.compareOutcome(bound, lv, mo, h, elapsed);
    if (s.expect && this.opts.checkExpect !== false) {
      const want = s.expect;
      if (want.errno !== undefined && (lv.errno ?? null) !== want.errno)
        this.fail(`the scenario expects ${want.errno ?? 'success'} from the live kernel`, [`live: ${this.fmtLive(lv)}`]);
      if (want.ret !== undefined && lv.ret !== want.ret) this.fail(`the scenario expects ret ${want.ret}`, [`live: ${this.fmtLive(lv)}`]);
    }

    // Names for what the op created.
    if (!lv.errno && !lv.none) {
      if ((op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') && s.as) this.names.set(s.as, lv.ret);
      if ((op.call === 'open' || op.call === 'pidfd_open' || op.call === 'dup') && s.as) this.fds.set(s.as, lv.ret);
      if ((op.call === 'clone' || op.call === 'clone3') && s.pidfdAs && bound.pidfd !== undefined) this.fds.set(s.pidfdAs, bound.pidfd as number);
    }

    // What the op freed in the model must be freed in the kernel (its inode number is free again).
    const freed: number[] = [];
    for (const inum of before) {
      if (this.world.namespaces[inum]) continue;
      const real = this.modelToReal.get(inum);
      this.modelToReal.delete(inum);
      if (real !== undefined) {
        freed.push(real);
        this.freedReal.add(real);
      }
    }
    await this.settle();
    await this.compareState();
    if (freed.length) await this.probeCheck(freed);
  }

  fmtLive(l: LiveOutcome): string {
    if (l.none) return '(no answer: exited)';
    let s = l.errno ? `-1 ${l.errno}` : `${l.ret}`;
    if (l.text !== undefined) s += ` text=${JSON.stringify(l.text)}`;
    if (l.ts) s += ` ts=${fmtTs(l.ts)}`;
    if (l.timer) s += ` ${l.timer.kind}=${fmtTs(l.timer.d)}`;
    return s;
  }
  fmtModel(m: Outcome): string {
    let s = m.errno ? `-1 ${m.errno}` : `${m.ret}`;
    if (m.text !== undefined) s += ` text=${JSON.stringify(m.text)}`;
    if (m.ts) s += ` ts=${fmtTs(m.ts)}`;
    if (m.rule) s += ` [${m.rule}]`;
    return s;
  }

  /** Run one op on the live kernel. */
  async runLive(op: Op, cmd: string, s: ScenarioOp): Promise<LiveOutcome> {
    const live = this.live;
    if (op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') {
      const parent = op.tid;
      const vfork = op.call === 'vfork' || ((op.call === 'clone' || op.call === 'clone3') && Math.floor(op.flags / CLONE.VFORK) % 2 === 1);
      live.send(parent, cmd);
      if (vfork) {
        // The parent answers only once the child has exec'd or exited: the child's hello is the result.
        const conn = live.conns.get(parent)!;
        const t0 = Date.now();
        for (;;) {
          if (live.helloQueued()) {
            const c = (await live.nextHello(10))!;
            this.knownTids.add(c.tid);
            this.vforkPending.set(parent, c.tid);
            return { ret: c.tid, extra: [] };
          }
          if (conn.lines.pending()) {
            const lv = parseReply(await live.reply(parent), cmd);
            if (!lv.errno) this.fail('vfork parent answered before its child existed', [this.fmtLive(lv)]);
            return lv;
          }
          if (Date.now() - t0 > live.replyTimeoutMs) this.fail('live task did not answer', [`task ${parent}: ${cmd}`]);
          await new Promise((r) => setTimeout(r, 1));
        }
      }
      const lv = parseReply(await live.reply(parent), cmd);
      if (!lv.errno) {
        const c = await live.nextHello(live.replyTimeoutMs);
        if (!c) this.fail('the new live task did not connect', [`expected ${lv.ret}`]);
        // A child in a new pid namespace says hello with its pid there (1, ...): the parent's answer is its global pid.
        if (c.tid !== lv.ret) {
          if (/^\d+$/.test(String(c.tid)) && this.inNestedPidns(parent)) live.rekey(c.tid, lv.ret);
          else this.fail('the new live task did not connect', [`expected ${lv.ret}, got ${c.tid}`]);
        }
        this.knownTids.add(lv.ret);
      }
      return lv;
    }
    if (op.call === 'exit' || op.call === 'exit_group') {
      live.send(op.tid, cmd);
      return { ret: 0, none: true };
    }
    if (op.call === 'execve') {
      const lv = parseReply(await live.cmd(op.tid, cmd), cmd);
      if (!lv.errno) {
        const newTid = Number(lv.extra?.[0]);
        if (newTid !== op.tid) {
          // de_thread killed the old leader (and any vfork sleep it was in): its connection goes to the exec'ing thread.
          this.vforkPending.delete(newTid);
          live.rekey(op.tid, newTid);
          for (const [n, v] of this.names) if (v === op.tid) this.names.set(n, newTid);
        }
        lv.extra = [];
      }
      return lv;
    }
    const tid = (op as { tid: number }).tid;
    const line = await live.cmd(tid, cmd, op.call === 'timer_abs' ? 5000 : live.replyTimeoutMs);
    if (line === null) this.fail('live task did not answer', [`task ${tid}: ${cmd}`]);
    const lv = parseReply(line, cmd);
    switch (op.call) {
      case 'read':
      case 'readlink':
        lv.text = unhex(lv.extra?.[0]);
        break;
      case 'clock_gettime':
        if (!lv.errno) lv.ts = { sec: Number(lv.extra?.[0]), nsec: Number(lv.extra?.[1]) };
        break;
      case 'timer_abs':
        if (!lv.errno) lv.timer = { kind: lv.extra?.[0] as 'rem' | 'slept', d: { sec: Number(lv.extra?.[1]), nsec: Number(lv.extra?.[2]) } };
        break;
    }
    void s;
    return lv;
  }

  /** `elapsed`: host time that passed between `h` and the end of the live op (a live reading may be that much later). */
  compareOutcome(op: Op, lv: LiveOutcome, mo: Outcome, h: HostReading, elapsed = 0n): void {
    const show = () => [`live:  ${this.fmtLive(lv)}`, `model: ${this.fmtModel(mo)}`];
    if (lv.none) return;
    if ((lv.errno ?? null) !== (mo.errno ?? null)) this.fail(`errno differs: live ${lv.errno ?? 'success'}, model ${mo.errno ?? 'success'}`, show());
    if (lv.errno) return;
    const inexact = new Set(mo.inexact ?? []);
    const linkText = (x: string | undefined) => (x ? /^([a-z]+):\[(\d+)\]$/.exec(x) : null);
    if (op.call === 'readlink' && linkText(lv.text)) {
      const l = linkText(lv.text)!;
      const m = linkText(mo.text);
      if (!m || m[1] !== l[1]) this.fail('readlink text differs', show());
      this.bind(Number(m[2]), Number(l[2]), `readlink ${op.path}`);
      return;
    }
    if (!inexact.has('ret') && lv.ret !== mo.ret) this.fail(`return value differs: live ${lv.ret}, model ${mo.ret}`, show());
    const file = op.call === 'read' ? this.fileOf(op.tid, op.fd) : null;
    if (op.call === 'read' && file?.kind === 'proc_text') {
      if (file.path === '/proc/uptime') {
        const m = /^(\d+)\.(\d\d) /.exec(lv.text ?? '');
        if (m && mo.ts) {
          const liveNs = BigInt(m[1]) * 1_000_000_000n + BigInt(m[2]) * 10_000_000n;
          const d = liveNs - tsNs(mo.ts);
          if (d > this.tol + 10_000_000n + elapsed || d < -this.tol - 10_000_000n) this.fail(`/proc/uptime differs by ${Number(d) / 1e6} ms (${Number(elapsed) / 1e6} ms passed during the read)`, show());
        }
      } else {
        const m = /(?:^|\n)btime (\d+)\n/.exec(lv.text ?? '');
        if (m && mo.ts) {
          const d = Number(m[1]) - mo.ts.sec;
          if (Math.abs(d) > 1) this.fail(`/proc/stat btime differs by ${d} s`, show());
        }
      }
      return;
    }
    if (!inexact.has('text') && mo.text !== undefined && lv.text !== mo.text) this.fail('text differs', show());
    if (op.call === 'clock_gettime' && !inexact.has('ts')) {
      // The model has one host monotonic clock; MONOTONIC_RAW is not slewed and drifts from it (seen: 0.2 s here):
      // compare it with the model's reading moved by the host's current RAW − MONOTONIC difference.
      const rawDrift = op.clockid === CLOCK.MONOTONIC_RAW ? tsNs(h.raw) - tsNs(h.monotonic) : 0n;
      const d = tsNs(lv.ts!) - tsNs(mo.ts!) - rawDrift;
      if (d > this.tol + elapsed || d < -this.tol) this.fail(`clock ${op.clockid} differs by ${Number(d) / 1e6} ms (${Number(elapsed) / 1e6} ms passed during the call)`, show());
    }
    if (op.call === 'timer_abs' && lv.timer && mo.ts) {
      const now = hostNow(h, op.clockid);
      const modelWait = tsNs(mo.ts) - tsNs(now);
      const liveWait = tsNs(lv.timer.d);
      if (lv.timer.kind === 'rem') {
        // An expired timer reports 0 remaining: compare only when the model's deadline is clearly on one side.
        const liveExpired = liveWait === 0n;
        if (liveExpired && modelWait > this.tol) this.fail(`the live timer had expired, the model's fires in ${Number(modelWait) / 1e6} ms`, show());
        if (!liveExpired && modelWait < -this.tol) this.fail(`the model's timer had expired, the live one fires in ${Number(liveWait) / 1e6} ms`, show());
        if (!liveExpired && modelWait >= -this.tol) {
          const d = liveWait - modelWait;
          if (d > this.tol || d < -this.tol) this.fail(`absolute timer: live fires in ${Number(liveWait) / 1e6} ms, model in ${Number(modelWait) / 1e6} ms`, show());
        }
      } else {
        const want = modelWait > 0n ? modelWait : 0n;
        const d = liveWait - want;
        if (d > this.tol || d < -this.tol) this.fail(`absolute sleep: live slept ${Number(liveWait) / 1e6} ms, model predicts ${Number(want) / 1e6} ms`, show());
      }
    }
  }

  fileOf(tid: number, fd: number) {
    const t = this.world.tasks[tid];
    if (!t || t.files === null) return null;
    const e = this.world.fdtables[t.files]?.fds[fd];
    return e ? this.world.files[e.file] : null;
  }

  /** The bijection between model inums and real inode numbers. */
  bind(model: number, real: number, where: string): void {
    const ns = this.world.namespaces[model];
    // The initial namespaces with static inode numbers (include/linux/proc_ns.h) must match exactly.
    if (ns?.initial && model < 0xf0000000 && real !== model)
      this.fail(`initial ${ns.type} namespace: live inode ${real}, model ${model}`, [`at ${where}`]);
    const r = this.modelToReal.get(model);
    if (r === real) return;
    if (r !== undefined)
      this.fail(`namespace identity differs at ${where}`, [`model ${this.world.namespaces[model]?.type}:[${model}] was real ${r} before, is real ${real} here`]);
    const m = this.realToModel.get(real);
    if (m !== undefined && m !== model && this.world.namespaces[m] && this.modelToReal.get(m) === real)
      this.fail(`namespace identity differs at ${where}`, [
        `real ${real} is model ${this.world.namespaces[m].type}:[${m}] (still alive in the model), but here the model shows ${this.world.namespaces[model]?.type}:[${model}]`,
      ]);
    this.modelToReal.set(model, real);
    this.realToModel.set(real, model);
    this.freedReal.delete(real);
  }

  /** Wait until every task's live lifecycle state (running / zombie / gone) is the model's. */
  async settle(): Promise<void> {
    for (const tid of Object.keys(this.world.tasks).map(Number)) this.knownTids.add(tid);
    for (const tid of [...this.knownTids]) {
      const t = this.world.tasks[tid];
      const want = t ? t.state : 'gone';
      const t0 = Date.now();
      let live = '';
      for (;;) {
        const st = procState(tid);
        live = st === null ? 'gone' : st === 'Z' || st === 'X' ? 'zombie' : 'running';
        if (live === want) break;
        if (Date.now() - t0 > 2000) this.fail(`task ${tid} is ${live} on the live kernel, ${want} in the model`, [`/proc/${tid}/stat state ${procState(tid)}`]);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (want === 'gone') {
        this.knownTids.delete(tid);
        this.live.forget(tid);
      }
    }
    // vfork parents whose child has exec'd or exited answer now.
    for (const [parent, child] of [...this.vforkPending]) {
      const p = this.world.tasks[parent];
      if (!p || p.state !== 'running') {
        this.vforkPending.delete(parent);
        continue;
      }
      const c = this.world.tasks[child];
      if (c && c.state === 'running' && c.vforkDoneFor === parent) continue;
      const lv = parseReply(await this.live.reply(parent), `vfork of ${child}`);
      if (lv.errno || lv.ret !== child) this.fail(`the vfork parent ${parent} woke with ${this.fmtLive(lv)}, expected ${child}`, []);
      this.vforkPending.delete(parent);
    }
  }

  /** Which namespace each task is in, and its fd table, live against the model. */
  async compareState(): Promise<void> {
    for (const k of Object.keys(this.world.tasks)) {
      const tid = Number(k);
      const t = this.world.tasks[tid];
      for (const link of LINKS) {
        const m = modelLink(this.world, tid, link);
        const r = nsInode(tid, link);
        if (m === null) {
          if (r !== 'ENOENT') this.fail(`/proc/${tid}/ns/${link}: live ${r}, model has none (ENOENT)`, []);
          continue;
        }
        if (typeof r !== 'number') this.fail(`/proc/${tid}/ns/${link}: live ${r}, model ${this.world.namespaces[m]?.type}:[${m}]`, []);
        this.bind(m, r, `/proc/${tid}/ns/${link}`);
      }
      if (t.state !== 'running' || t.files === null) continue;
      const fds = liveFds(tid);
      if (fds === null) continue;
      const table = this.world.fdtables[t.files].fds;
      const modelFds = Object.keys(table).map(Number).sort((a, b) => a - b);
      const liveList = [...fds.keys()].sort((a, b) => a - b);
      if (modelFds.join(',') !== liveList.join(','))
        this.fail(`fd table of ${tid} differs`, [`live fds ${liveList.join(',')}`, `model fds ${modelFds.join(',')}`]);
      for (const fd of modelFds) {
        const f = this.world.files[table[fd].file];
        const target = fds.get(fd)!;
        const m = /^([a-z]+):\[(\d+)\]$/.exec(target);
        const ok =
          f.kind === 'nsfs'
            ? m !== null && m[1] === f.nsType
            : f.kind === 'pidfd'
              ? target === 'anon_inode:[pidfd]'
              : f.kind === 'timens_offsets'
                ? target.endsWith('/timens_offsets')
                : f.kind === 'proc_text'
                  ? target === f.path
                  : f.kind === 'sysctl'
                    ? target === '/proc/sys/user/max_time_namespaces'
                    : true;
        if (!ok) this.fail(`fd ${fd} of ${tid} differs`, [`live ${target}`, `model ${JSON.stringify(f)}`]);
        if (f.kind === 'nsfs') this.bind(f.ns, Number(m![2]), `fd ${fd} of ${tid}`);
      }
    }
  }

  /**
   * The kernel hands out the lowest free inode number. `expectFree` (real numbers the model freed) must come back
   * from a probe, and no real number of a namespace the model holds alive may.
   */
  async probeCheck(expectFree: number[]): Promise<void> {
    const alive = new Map<number, number>();
    for (const [m, r] of this.modelToReal) if (this.world.namespaces[m]) alive.set(r, m);
    const want = [...expectFree].filter((r) => !alive.has(r));
    const top = Math.max(0, ...want, ...alive.keys());
    let problems: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      let k = 8;
      let got: number[] = [];
      for (;;) {
        got = await this.live.probe(k);
        if (got.length < k || Math.max(...got) >= top || k >= 512) break;
        k *= 4;
      }
      const seen = new Set(got);
      const max = Math.max(0, ...got);
      problems = [];
      for (const r of want)
        if (!seen.has(r) && r <= max) problems.push(`real inode ${r} (model ${this.realToModel.get(r)}) was freed in the model, but the kernel still holds it`);
      for (const r of got)
        if (alive.has(r)) {
          const m = alive.get(r)!;
          problems.push(`real inode ${r} is free in the kernel, but the model still holds ${this.world.namespaces[m].type}:[${m}] (count ${this.world.namespaces[m].count})`);
        }
      if (problems.length === 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    this.fail('namespace freeing differs', problems);
  }

  async finish(): Promise<void> {
    await this.probeCheck([...this.freedReal]);
  }
}

/** Run one scenario on the live kernel and in the model. Never throws for a disagreement: see `mismatch`. */
export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const run = new Run(scenario, opts);
  let mismatch: Mismatch | null = null;
  try {
    await run.start();
    for (run.index = 0; run.index < scenario.ops.length; run.index++) await run.step(scenario.ops[run.index]);
    run.index = scenario.ops.length;
    await run.finish();
  } catch (e) {
    if (e instanceof Mismatch) mismatch = e;
    else if (e instanceof LiveError)
      mismatch = new Mismatch(scenario.name, run.index, e.message, `live harness error in "${scenario.name}" at op #${run.index}: ${e.message}\n${run.done.map((d, i) => `    ${i} ${d}`).join('\n')}`);
    else throw e;
  } finally {
    await run.close();
  }
  return { name: scenario.name, executed: run.executed, skipped: run.skipped, errnos: run.errnos, mismatch };
}
