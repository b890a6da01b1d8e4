/**
 * Run a parsed scenario against the kernel model: each statement becomes kernel ops (applied with the model,
 * outcomes computed, never recorded from outside), markers, or expectations checked against the world.
 * A scenario may checkpoint a tree and restore it on another machine: each machine has its own world and events.
 */
import {
  apply,
  checkInvariants,
  createWorld,
  ModelError,
  readClock,
  resolveProfile,
  type Cap,
  type Op,
  type Outcome,
  type Task,
  type Timespec,
  type World,
  type WorldOptions,
} from '../kernel/index.js';
import type { Approx, CallSpec, ClockTerm, Cmp, Expectation, HostClocksSpec, InlineExpect, Loc, NsRef, Scenario, Statement, TaskRef } from './ast.js';
import { parseScenario, ScenarioError } from './parse.js';
import { captureImage, CheckpointError, GENESIS_PID, genesisOptions, type CheckpointImage } from '../replay/checkpoint.js';
import { restoreImage, type RestoreResult } from '../replay/restore-run.js';
import { clockName, formatNs, nsToTimespec, timespecToNs } from './values.js';

/** One event a scenario produced on a machine: a kernel op with the model's outcome, or a marker. */
export type ScenarioEvent =
  | { kind: 'op'; op: Op; outcome: Outcome; line: number }
  | { kind: 'marker'; call: 'marker.checkpoint' | 'marker.restore' | 'marker.annotation'; data: Record<string, unknown>; line: number };

/** A machine (host) of the scenario: the first one, then one per restore. */
export interface Machine {
  name: string;
  /** The options its world was created with (the genesis of its ledger). */
  options: WorldOptions;
  world: World;
  events: ScenarioEvent[];
  /** How it came to be: null for the first machine, else the restore that made it. */
  restoredFrom: { image: string; line: number; result: RestoreResult } | null;
  /** The last pid handed out on this machine. */
  lastPid: number;
}

export interface ExpectResult {
  file: string;
  line: number;
  machine: string;
  /** The scenario text of the expectation. */
  text: string;
  ok: boolean;
  /** What was seen (and why it fails). */
  detail: string;
}

export interface RunResult {
  scenario: Scenario;
  machines: Machine[];
  results: ExpectResult[];
  images: Record<string, CheckpointImage>;
  ok: boolean;
}

export interface RunOptions {
  /** Override the scenario's profile (e.g. run the same scenario under 5.6). */
  profile?: string;
}

const DEFAULT_HOST = { realtime: 1_764_000_000n * 1_000_000_000n, monotonic: 1000n * 1_000_000_000n, boottime: 1000n * 1_000_000_000n };

/** Parse and run scenario text. */
export function runScenarioText(text: string, file: string, opts: RunOptions = {}): RunResult {
  return runScenario(parseScenario(text, file), text, opts);
}

export function runScenario(sc: Scenario, source: string, opts: RunOptions = {}): RunResult {
  return new Runner(sc, source, opts).run();
}

class Runner {
  readonly lines: string[];
  readonly machines: Machine[] = [];
  readonly results: ExpectResult[] = [];
  readonly images: Record<string, CheckpointImage> = {};
  host: HostClocksSpec = {};
  hostName = 'host1';
  tasks = new Map<string, number>();
  fds = new Map<string, number>();
  nsNames = new Map<string, number>();
  /** Why a name is unbound (the call that should have bound it failed). */
  unbound = new Map<string, string>();
  readonly profile: string;

  constructor(
    readonly sc: Scenario,
    source: string,
    opts: RunOptions,
  ) {
    this.lines = source.split(/\r?\n/);
    this.profile = opts.profile ?? sc.profile ?? '6.3+';
    try {
      resolveProfile(this.profile);
    } catch (e) {
      const st = sc.statements.find((s) => s.kind === 'profile');
      throw new ScenarioError(sc.file, opts.profile ? null : (st?.loc.line ?? null), (e as Error).message);
    }
  }

  get m(): Machine | undefined {
    return this.machines[this.machines.length - 1];
  }

  fail(loc: Loc, msg: string): never {
    throw new ScenarioError(loc.file, loc.line, msg);
  }

  world(loc: Loc): World {
    if (!this.m) this.fail(loc, 'no task yet: declare the first task with "task NAME pid=N" before this');
    return this.m.world;
  }

  srcText(loc: Loc): string {
    const raw = this.lines[loc.line - 1] ?? '';
    return raw.replace(/\s+#.*$/, '').trim();
  }

  record(loc: Loc, text: string, ok: boolean, detail: string): void {
    this.results.push({ file: loc.file, line: loc.line, machine: this.m?.name ?? '-', text, ok, detail });
  }

  run(): RunResult {
    const result = (): RunResult => ({ scenario: this.sc, machines: this.machines, results: this.results, images: this.images, ok: this.results.every((r) => r.ok) });
    try {
      for (const st of this.sc.statements) this.step(st);
    } catch (e) {
      if (e instanceof ScenarioError) e.partial = result();
      throw e;
    }
    return result();
  }

  /** Apply one op on the current machine, as an event; a ModelError is the scenario's fault, at its line. */
  applyOp(loc: Loc, op: Op): Outcome {
    const m = this.m!;
    let out: Outcome;
    try {
      out = apply(m.world, op);
    } catch (e) {
      if (e instanceof ModelError) this.fail(loc, e.message);
      throw e;
    }
    m.events.push({ kind: 'op', op, outcome: out, line: loc.line });
    const bad = checkInvariants(m.world);
    if (bad.length) this.record(loc, this.srcText(loc), false, `the model broke its invariants: ${bad.join('; ')}`);
    return out;
  }

  step(st: Statement): void {
    const loc = st.loc;
    switch (st.kind) {
      case 'title':
      case 'shows':
      case 'profile':
        return;
      case 'note':
        if (this.m) this.m.events.push({ kind: 'marker', call: 'marker.annotation', data: { text: st.text }, line: loc.line });
        return;
      case 'host-clocks':
        if (this.m) this.fail(loc, 'host clocks are set before the first task; later, use "host advance DUR" or "host suspend DUR"');
        this.host = { ...this.host, ...st.clocks };
        if (st.name) this.hostName = st.name;
        return;
      case 'host-time':
        this.world(loc);
        this.applyOp(loc, { call: st.suspend ? 'host.suspend' : 'host.advance', ...nsToTimespec(st.ns) });
        return;
      case 'sysctl': {
        this.world(loc);
        const out = this.applyOp(loc, { call: 'host.sysctl', name: 'user.max_time_namespaces', value: st.value });
        this.checkInline(loc, st.expects, out);
        return;
      }
      case 'task':
        return this.declareTask(st);
      case 'let':
        this.nsNames.set(st.name, this.resolveNs(loc, st.ns));
        return;
      case 'call':
        return this.call(st);
      case 'expect':
        return this.expect(st.expectation, st.text, loc);
      case 'checkpoint':
        return this.checkpoint(st);
      case 'restore':
        return this.restore(st);
    }
  }

  declareTask(st: Extract<Statement, { kind: 'task' }>): void {
    const loc = st.loc;
    if (this.tasks.has(st.name)) this.fail(loc, `task ${st.name} is already declared`);
    if (st.pid === GENESIS_PID) this.fail(loc, `pid ${GENESIS_PID} is the model's own first task (the ledger's genesis): choose another pid`);
    if (!this.m) {
      if (st.parent) this.fail(loc, 'the first task has no parent in the scenario');
      const h = { ...DEFAULT_HOST, ...this.host };
      const options = genesisOptions(this.profile, { realtime: nsToTimespec(h.realtime), monotonic: nsToTimespec(h.monotonic), boottime: nsToTimespec(h.boottime) });
      this.machines.push({ name: this.hostName, options, world: createWorld(options), events: [], restoredFrom: null, lastPid: 0 });
    }
    const w = this.m!.world;
    if (w.tasks[st.pid]) this.fail(loc, `pid ${st.pid} is already taken`);
    const ppid = st.parent !== undefined ? this.taskPid(loc, { name: st.parent }) : undefined;
    const out = this.applyOp(loc, { call: 'host.spawn', pid: st.pid, uid: st.uid, ...(ppid !== undefined ? { ppid } : {}) });
    if (out.errno) this.fail(loc, `cannot spawn task ${st.name}: ${out.rule ?? out.errno}`);
    this.tasks.set(st.name, st.pid);
  }

  /** The next pid the kernel would give: one above the highest in use on this machine (never the genesis pid). */
  nextPid(): number {
    const w = this.m!.world;
    let max = 0;
    for (const k in w.tasks) if (Number(k) !== GENESIS_PID && Number(k) > max) max = Number(k);
    let p = Math.max(max, this.m!.lastPid) + 1;
    while (w.tasks[p]) p++;
    this.m!.lastPid = p;
    return p;
  }

  taskPid(loc: Loc, ref: TaskRef): number {
    if ('pid' in ref) return ref.pid;
    const pid = this.tasks.get(ref.name);
    if (pid === undefined) {
      const why = this.unbound.get(ref.name);
      this.fail(loc, why ? `${ref.name} is not bound: ${why}` : `unknown task ${ref.name} (declare it with "task ${ref.name} pid=N" or bind it with "-> ${ref.name}")`);
    }
    return pid;
  }

  liveTask(loc: Loc, ref: TaskRef): Task {
    const pid = this.taskPid(loc, ref);
    const t = this.world(loc).tasks[pid];
    if (!t) this.fail(loc, `task ${'name' in ref ? `${ref.name} (${pid})` : pid} does not exist${this.m!.restoredFrom ? ' on this machine (it was not part of the restored tree)' : ''}`);
    return t;
  }

  fdNum(loc: Loc, ref: { name: string } | { fd: number }): number {
    if ('fd' in ref) return ref.fd;
    const fd = this.fds.get(ref.name);
    if (fd === undefined) {
      const why = this.unbound.get(ref.name);
      this.fail(loc, why ? `${ref.name} is not bound: ${why}` : `unknown fd ${ref.name} (bind it with "open PATH -> ${ref.name}")`);
    }
    return fd;
  }

  /** {NAME} in a path or data → the pid (tgid) of task NAME. */
  subst(loc: Loc, text: string): string {
    return text.replace(/\{([A-Za-z_][A-Za-z0-9_-]*)\}/g, (_, name: string) => String(this.liveTask(loc, { name }).tgid));
  }

  buildOp(loc: Loc, tid: number, spec: CallSpec): Op {
    switch (spec.call) {
      case 'fork':
      case 'vfork':
        return { call: spec.call, tid };
      case 'clone':
        return { call: 'clone', tid, flags: spec.flags };
      case 'clone3':
        return { call: 'clone3', tid, flags: spec.flags, exit_signal: spec.exitSignal, size: spec.size, ...(spec.setTid ? { set_tid: spec.setTid } : {}) };
      case 'unshare':
        return { call: 'unshare', tid, flags: spec.flags };
      case 'setns':
        return { call: 'setns', tid, fd: this.fdNum(loc, spec.fd), nstype: spec.nstype };
      case 'execve':
        return { call: 'execve', tid, path: this.subst(loc, spec.path.text), ...(spec.fsError ? { fsError: spec.fsError } : {}) };
      case 'exit':
      case 'exit_group':
        return { call: spec.call, tid, code: spec.code };
      case 'wait':
        return { call: 'wait', tid, target: 'any' in spec.target ? -1 : this.taskPid(loc, spec.target) };
      case 'open':
        return { call: 'open', tid, path: this.subst(loc, spec.path.text), mode: spec.mode, ...(spec.cloexec ? { cloexec: true } : {}) };
      case 'close':
        return { call: 'close', tid, fd: this.fdNum(loc, spec.fd) };
      case 'dup':
        return { call: 'dup', tid, fd: this.fdNum(loc, spec.fd) };
      case 'read':
        return { call: 'read', tid, fd: this.fdNum(loc, spec.fd), count: spec.count };
      case 'write':
        return { call: 'write', tid, fd: this.fdNum(loc, spec.fd), data: this.subst(loc, spec.data.text) };
      case 'pwrite':
        return { call: 'pwrite', tid, fd: this.fdNum(loc, spec.fd), data: this.subst(loc, spec.data.text), offset: spec.offset };
      case 'lseek':
        return { call: 'lseek', tid, fd: this.fdNum(loc, spec.fd), offset: spec.offset, whence: spec.whence };
      case 'readlink':
        return { call: 'readlink', tid, path: this.subst(loc, spec.path.text) };
      case 'pidfd_open':
        return { call: 'pidfd_open', tid, pid: this.taskPid(loc, spec.target), flags: spec.flags };
      case 'clock_gettime':
        return { call: 'clock_gettime', tid, clockid: spec.clockid };
      case 'timer_abs':
        return { call: 'timer_abs', tid, api: spec.api, clockid: spec.clockid, deadline: nsToTimespec(spec.deadlineNs) };
      case 'setresuid':
        return { call: 'setresuid', tid, ruid: spec.ruid, euid: spec.euid, suid: spec.suid };
      case 'capset':
        return { call: 'capset', tid, caps: spec.caps as Cap[] };
      case 'prctl_dumpable':
        return { call: 'prctl_dumpable', tid, dumpable: spec.dumpable };
    }
  }

  call(st: Extract<Statement, { kind: 'call' }>): void {
    const loc = st.loc;
    const t = this.liveTask(loc, st.task);
    if (t.state === 'zombie') this.fail(loc, `task ${t.tid} has exited (a zombie cannot make calls)`);
    const op = this.buildOp(loc, t.tid, st.spec);
    // The kernel hands out pids in order; the scenario does the same and records the pid in the event (a binding),
    // so a replay of the ledger needs no allocator of its own.
    if ((op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') && op.child === undefined) op.child = this.nextPid();
    const out = this.applyOp(loc, op);
    if (st.bind) {
      const isTask = ['fork', 'vfork', 'clone', 'clone3'].includes(st.spec.call);
      if (out.errno) {
        (isTask ? this.tasks : this.fds).delete(st.bind);
        this.unbound.set(st.bind, `${st.spec.call} at line ${loc.line} failed with ${out.errno}`);
      } else {
        this.unbound.delete(st.bind);
        if (isTask) this.tasks.set(st.bind, out.ret);
        else this.fds.set(st.bind, out.ret);
      }
    }
    this.checkInline(loc, st.expects, out);
  }

  checkInline(loc: Loc, expects: InlineExpect[], out: Outcome): void {
    if (!expects.length) return;
    const seen = out.errno ? `${out.errno} (${out.rule ?? 'no rule'})` : `ret=${out.ret}${out.ts ? ` ts=${formatNs(timespecToNs(out.ts), false)}` : ''}${out.text !== undefined ? ` text=${JSON.stringify(out.text)}` : ''}`;
    const fails: string[] = [];
    for (const e of expects) {
      switch (e.kind) {
        case 'ok':
          if (out.errno) fails.push(`expected success, got ${out.errno}`);
          break;
        case 'fail':
          if (!out.errno) fails.push('expected a failure, got success');
          break;
        case 'errno':
          if (out.errno !== e.errno) fails.push(`expected ${e.errno}, got ${out.errno ?? 'success'}`);
          break;
        case 'ret':
          if (out.ret !== e.value) fails.push(`expected ret=${e.value}, got ${out.ret}`);
          break;
        case 'ts':
          if (!out.ts) fails.push('expected a clock reading, got none');
          else if (!near(timespecToNs(out.ts), e.value)) fails.push(`expected ts=${showApprox(e.value)}, got ${formatNs(timespecToNs(out.ts), false)}`);
          break;
        case 'text':
          if (out.text !== e.value) fails.push(`expected text=${JSON.stringify(e.value)}, got ${JSON.stringify(out.text)}`);
          break;
        case 'rule':
          if (!(out.rule ?? '').includes(e.contains)) fails.push(`expected the rule to mention ${JSON.stringify(e.contains)}, got ${JSON.stringify(out.rule ?? '')}`);
          break;
      }
    }
    this.record(loc, this.srcText(loc), fails.length === 0, fails.length ? `${fails.join('; ')} — model: ${seen}` : seen);
  }

  resolveNs(loc: Loc, ref: NsRef): number {
    const w = this.world(loc);
    let inum: number;
    switch (ref.kind) {
      case 'slot': {
        const t = this.liveTask(loc, ref.task);
        if (ref.slot === 'user') inum = t.cred.userns;
        else if (ref.slot === 'pid') inum = t.pidns;
        else {
          if (t.nsproxy === null) this.fail(loc, `task ${t.tid} has exited: it has no ${ref.slot} namespace`);
          inum = w.nsproxies[t.nsproxy][ref.slot as 'time'];
        }
        break;
      }
      case 'inum':
        inum = ref.inum;
        break;
      case 'init':
        inum = w.init[ref.type as 'time'];
        break;
      case 'name': {
        const v = this.nsNames.get(ref.name);
        if (v === undefined) this.fail(loc, `unknown namespace name ${ref.name} (bind it with "let ${ref.name} = @TASK.SLOT")`);
        inum = v;
        break;
      }
    }
    const type = ref.type ?? ('type' in ref ? ref.type : undefined);
    const ns = w.namespaces[inum];
    if (ns && type && ns.type !== type) this.fail(loc, `${ns.type}:[${inum}] is not a ${type} namespace`);
    return inum;
  }

  readClockNs(loc: Loc, term: ClockTerm): bigint {
    const w = this.world(loc);
    const t = this.liveTask(loc, term.task);
    if (t.nsproxy === null) this.fail(loc, `task ${t.tid} has exited: it reads no clock`);
    const r = readClock(w, t, term.clockid);
    if (!r.ok) this.fail(loc, r.rule);
    return timespecToNs(r.ts) + term.shiftNs;
  }

  expect(e: Expectation, text: string, loc: Loc): void {
    const w = this.world(loc);
    const rec = (ok: boolean, detail: string) => this.record(loc, `expect ${text}`, ok, detail);
    switch (e.kind) {
      case 'refcount': {
        const inum = this.resolveNs(loc, e.ns);
        const count = w.namespaces[inum]?.count ?? 0;
        return rec(compare(count, e.cmp, e.value), `${w.namespaces[inum]?.type ?? 'namespace'}:[${inum}] refcount ${count}${w.namespaces[inum] ? '' : ' (freed)'}`);
      }
      case 'frozen': {
        const inum = this.resolveNs(loc, e.ns);
        const ns = w.namespaces[inum];
        if (!ns) return rec(false, `namespace ${inum} has been freed`);
        if (ns.type !== 'time') this.fail(loc, `${ns.type}:[${inum}] is not a time namespace: only time namespaces freeze`);
        return rec(!!ns.frozen !== e.negate, `time:[${inum}] is ${ns.frozen ? 'frozen' : 'not frozen'}`);
      }
      case 'offsets': {
        const inum = this.resolveNs(loc, e.ns);
        const ns = w.namespaces[inum];
        if (!ns) return rec(false, `namespace ${inum} has been freed`);
        if (ns.type !== 'time') this.fail(loc, `${ns.type}:[${inum}] is not a time namespace`);
        const mono = timespecToNs(ns.offsets!.monotonic);
        const boot = timespecToNs(ns.offsets!.boottime);
        const ok = (!e.monotonic || near(mono, e.monotonic)) && (!e.boottime || near(boot, e.boottime));
        return rec(ok, `time:[${inum}] offsets monotonic=${formatNs(mono)} boottime=${formatNs(boot)}`);
      }
      case 'ns-compare': {
        const a = this.resolveNs(loc, e.a);
        const b = this.resolveNs(loc, e.b);
        return rec((a === b) === (e.cmp === '=='), `${a} ${a === b ? '==' : '!='} ${b}`);
      }
      case 'in-ns-of': {
        const t = this.liveTask(loc, e.task);
        const of = this.liveTask(loc, e.of);
        const slotOf = e.slot === 'time_for_children' ? 'time' : e.slot === 'pid_for_children' ? 'pid' : e.slot;
        const mine = this.resolveNs(loc, { kind: 'slot', task: { pid: t.tid }, slot: slotOf });
        const theirs = this.resolveNs(loc, { kind: 'slot', task: { pid: of.tid }, slot: e.slot });
        return rec((mine === theirs) !== e.negate, `${t.tid} ${slotOf}:[${mine}], ${of.tid} ${e.slot}:[${theirs}]`);
      }
      case 'clock': {
        const l = this.readClockNs(loc, e.left);
        const lname = `${describeTask(e.left.task)} ${clockName(e.left.clockid)}`;
        if ('ns' in e.right) {
          const r = e.right;
          const ok = e.cmp === '==' ? near(l, r) : e.cmp === '!=' ? !near(l, r) : compare(l, e.cmp, r.ns);
          return rec(ok, `${lname} = ${formatNs(l, false)}`);
        }
        const r = this.readClockNs(loc, e.right);
        return rec(compare(l, e.cmp, r), `${lname} = ${formatNs(l, false)}, ${describeTask(e.right.task)} ${clockName(e.right.clockid)} = ${formatNs(r, false)}`);
      }
      case 'ucounts': {
        const userns = e.userns ? this.resolveNs(loc, e.userns) : w.init.user;
        const n = w.ucounts[`${userns}:${e.uid}`] ?? 0;
        return rec(compare(n, e.cmp, e.value), `ucounts (user:[${userns}], uid ${e.uid}) time namespaces = ${n}`);
      }
      case 'task-state': {
        const pid = this.taskPid(loc, e.task);
        const t = w.tasks[pid];
        const st = t ? t.state : 'gone';
        return rec(st === e.state, `task ${pid} is ${st}`);
      }
      case 'image-timens': {
        const img = this.image(loc, e.image);
        return rec(compare(img.timens.length, e.cmp, e.value), `image ${e.image} has ${img.timens.length} time namespace(s)`);
      }
      case 'image-criu': {
        const img = this.image(loc, e.image);
        return rec(img.criu.accepts === e.accepts, img.criu.accepts ? 'CRIU accepts this tree' : `CRIU refuses: ${img.criu.refusals.join('; ')}`);
      }
      case 'image-clock': {
        const img = this.image(loc, e.image);
        const pid = this.taskPid(loc, e.task);
        const t = img.tasks.find((x) => x.tid === pid);
        if (!t) this.fail(loc, `task ${pid} is not in image ${e.image}`);
        if (!t.ns) this.fail(loc, `task ${pid} was a zombie in image ${e.image}`);
        const tn = img.timens.find((n) => n.id === t.ns!.time)!;
        const v = timespecToNs(tn[e.clock]);
        const ok = e.cmp === '==' ? near(v, e.value) : e.cmp === '!=' ? !near(v, e.value) : compare(v, e.cmp, e.value.ns);
        return rec(ok, `image ${e.image}: time:[${tn.id}] ${e.clock} D = ${formatNs(v, false)}`);
      }
      case 'invariants': {
        const bad = checkInvariants(w);
        return rec(bad.length === 0, bad.length ? bad.join('; ') : 'all invariants hold');
      }
    }
  }

  image(loc: Loc, name: string): CheckpointImage {
    const img = this.images[name];
    if (!img) this.fail(loc, `no image ${name} (take one with "checkpoint ${name} pid=TASK")`);
    return img;
  }

  checkpoint(st: Extract<Statement, { kind: 'checkpoint' }>): void {
    const loc = st.loc;
    const w = this.world(loc);
    const pid = this.taskPid(loc, st.pid);
    let img: CheckpointImage;
    try {
      img = captureImage(w, pid, { scenario: loc.file, scenarioLine: loc.line });
    } catch (e) {
      if (e instanceof CheckpointError) this.fail(loc, e.message);
      throw e;
    }
    this.images[st.image] = img;
    this.m!.events.push({
      kind: 'marker',
      call: 'marker.checkpoint',
      data: {
        image: st.image,
        root: pid,
        tasks: img.tasks.map((t) => t.tid),
        timens: img.timens.map((n) => ({ id: n.id, monotonic: n.monotonic, boottime: n.boottime, offsets: n.offsets })),
        criu: img.criu,
        notes: img.notes,
      },
      line: loc.line,
    });
  }

  restore(st: Extract<Statement, { kind: 'restore' }>): void {
    const loc = st.loc;
    const img = this.image(loc, st.image);
    const name = st.machine ?? `host${this.machines.length + 1}`;
    if (this.machines.some((m) => m.name === name)) this.fail(loc, `machine ${name} already exists`);
    const result = restoreImage(img, {
      host: {
        monotonic: nsToTimespec(st.clocks.monotonic!),
        boottime: nsToTimespec(st.clocks.boottime!),
        ...(st.clocks.realtime !== undefined ? { realtime: nsToTimespec(st.clocks.realtime) } : {}),
      },
      policy: st.policy,
      ...(st.elapsedNs !== undefined ? { elapsed: nsToTimespec(st.elapsedNs) } : {}),
      profile: this.profile,
      image: st.image,
    });
    const out: Outcome = result.ok ? { ret: 0 } : { ret: -1, errno: result.errno, rule: result.error };
    if (st.expects.length) this.checkInline(loc, st.expects, out);
    else if (!result.ok) this.record(loc, this.srcText(loc), false, `restore failed: ${result.error}`);
    if (!result.ok) return;
    const events: ScenarioEvent[] = result.events.map((e) => ({ kind: 'op', op: e.op, outcome: e.outcome, line: loc.line }));
    events.push({ kind: 'marker', call: 'marker.restore', data: { image: st.image, root: img.root, policy: st.policy, namespaces: result.namespaces, proof: result.proof }, line: loc.line });
    this.machines.push({ name, options: result.options, world: result.world, events, restoredFrom: { image: st.image, line: loc.line, result }, lastPid: 0 });
    // The restored tree keeps its pids: names of tasks that were in the image stay bound; fds do not carry over.
    for (const [n, pid] of [...this.tasks]) if (!result.world.tasks[pid]) this.tasks.delete(n);
    this.fds.clear();
    if (result.restorer !== undefined) this.tasks.set('restorer', result.restorer);
    const bad = result.proof.filter((p) => !p.ok);
    this.record(
      loc,
      `restore proof (${st.policy})`,
      bad.length === 0,
      bad.length ? bad.map((p) => p.detail).join('; ') : `every restored task reads monotonic and boottime ≥ the checkpointed values${st.policy === 'freeze' ? ' (equal at the restore instant)' : ''}`,
    );
  }
}

function near(v: bigint, a: Approx): boolean {
  const d = v - a.ns;
  return (d < 0n ? -d : d) <= a.tol;
}

function showApprox(a: Approx): string {
  return `${formatNs(a.ns)}${a.tol ? `±${formatNs(a.tol)}` : ''}`;
}

function compare<T extends number | bigint>(a: T, cmp: Cmp, b: T): boolean {
  switch (cmp) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function describeTask(ref: TaskRef): string {
  return 'name' in ref ? ref.name : String(ref.pid);
}

export type { Timespec };
