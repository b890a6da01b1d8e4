/**
 * Restore planning for time namespaces, the way CRIU does it (criu/timens.c), extended to what CRIU refuses
 * (several time namespaces per tree, "nested" ones).
 *
 * Pure functions: a checkpoint description and the new host's clocks in, a plan out — per namespace and clock
 * the offsets to write and why, the ERANGE cases the kernel would answer (found before anything is written),
 * and the list of kernel Ops a restorer issues, each with a human reason and, where the model can predict it,
 * the outcome to expect. A second function judges clock readings taken after the restore.
 *
 * CRIU's restore of one namespace (prepare_timens, run by the root task of the tree before it forks):
 *   unshare(CLONE_NEWTIME); parse_timens_offsets → P (the inherited offsets, copied from time_for_children);
 *   fd = open_proc_rw(PROC_SELF, "timens_offsets");
 *   clock_gettime(CLOCK_MONOTONIC) → now;  O = D − (now − P), normalised;  dprintf(fd, "%d %ld %ld\n", 1, O)
 *   clock_gettime(CLOCK_BOOTTIME)  → now;  O = D − (now − P), normalised;  dprintf(fd, "%d %ld %ld\n", 7, O)
 *   close; open "ns/time_for_children"; setns(fd, CLONE_NEWTIME) (which freezes the offsets).
 * The kernel keeps no hierarchy of time namespaces: every offset is relative to the host clock. When the task
 * that creates a namespace reads its clocks with T == C (as it does here), now − P is exactly the host clock,
 * so "nested" namespaces get absolute offsets too; the plan still records P and now as CRIU computes them.
 */
import { CLONE, type Op } from '../kernel/ops.js';
import type { TimensOffsets } from '../kernel/types.js';
import { showOffsets } from '../kernel/timens.js';
import {
  KTIME_SEC_MAX,
  KTIME_SEC_MAX_HALF,
  ZERO,
  add,
  compare,
  eq,
  formatOffset,
  formatSeconds,
  isNormalized,
  sub,
  type Timespec,
} from './timespec.js';

export type TimensId = string | number;
export type ClockName = 'monotonic' | 'boottime';
export const CLOCK_NAMES: readonly ClockName[] = ['monotonic', 'boottime'];
/** The numeric clock ids CRIU writes (CLOCK_MONOTONIC, CLOCK_BOOTTIME). */
export const CLOCK_IDS: Record<ClockName, 1 | 7> = { monotonic: 1, boottime: 7 };

/** One time namespace of a checkpoint, as CRIU's timens.img has it plus what tns knows besides. */
export interface CheckpointTimens {
  id: TimensId;
  /** The namespace whose task created this one (tns goes beyond CRIU here). Informational: the kernel has no time namespace hierarchy. */
  parent?: TimensId | null;
  /** D: the namespace's clock values at the checkpoint (host clock + offsets). */
  monotonic: Timespec;
  boottime: Timespec;
  /** The offsets the namespace had on the old host. */
  offsets: TimensOffsets;
}

export interface CheckpointTask {
  pid: number;
  tid: number;
  ppid: number;
  /** The id of the time namespace the task is in (its T). */
  timens: TimensId;
}

export interface CheckpointDescription {
  timens: CheckpointTimens[];
  tasks: CheckpointTask[];
}

export interface HostClocksNow {
  monotonic: Timespec;
  boottime: Timespec;
  realtime?: Timespec;
}

export type RestorePolicy = 'freeze' | 'advance';

export interface RestoreOptions {
  /** The new host's clocks at the restore instant. */
  host: HostClocksNow;
  /** freeze (CRIU, default): downtime invisible; advance (gVisor-like): the clocks move on by `elapsed`. */
  policy?: RestorePolicy;
  /** advance: the time that passed between checkpoint and restore (required for advance). */
  elapsed?: Timespec;
  /** The restorer (criu) process: default 1, the first task of a fresh world. */
  restorerPid?: number;
  /** Emit a host.spawn for the restorer (when it is not the world's first task). */
  spawnRestorer?: boolean;
  /**
   * The offsets of the restorer's own time namespace (its T == C), when criu itself runs inside one: the root
   * tasks inherit them as P and read now = host + P. Default: the host's initial namespace (zero).
   */
  restorerOffsets?: TimensOffsets;
}

/** Bad checkpoint description or options: names the JSON path of the offending part. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly source = 'checkpoint',
  ) {
    super(`${source}: ${path}: ${reason}`);
  }
}

export interface ClockPlan {
  clock: ClockName;
  clockid: 1 | 7;
  /** D: the clock value at the checkpoint. */
  checkpointed: Timespec;
  /** What the clock must read at the restore instant: D (freeze) or D + elapsed (advance). */
  target: Timespec;
  /** The creating task's clock reading before it writes (host + the offsets of its time namespace). */
  now: Timespec;
  /** P: the offsets the new namespace inherited from the creator's time_for_children. */
  inherited: Timespec;
  /** O = target − (now − P), normalised. */
  offset: Timespec;
  /** host clock + O: what the kernel range-checks and what the clock reads right after setns. */
  atRestore: Timespec;
  /** The line written to timens_offsets (numeric clock id, as CRIU's dprintf). */
  line: string;
  /** The formula with its numbers. */
  formula: string;
  /** Why the kernel would refuse the write with ERANGE, or null. */
  erange: string | null;
}

export interface NamespacePlan {
  id: TimensId;
  parent: TimensId | null;
  /** Nesting depth by `parent` (0 for a top-level namespace). */
  depth: number;
  /** The pid that creates it (unshare + write + setns). */
  creator: number;
  /** The namespace its offsets are copied from at unshare: null means the restorer's own (the host's, by default). */
  inheritedFrom: TimensId | null;
  offsets: TimensOffsets;
  clocks: Record<ClockName, ClockPlan>;
  /** Every tid restored in it. */
  members: number[];
  /** Pids that enter it by setns (their parent process is in another namespace). */
  joiners: number[];
}

export interface PlanRangeError {
  ns: TimensId;
  clock: ClockName;
  errno: 'ERANGE';
  reason: string;
}

export type StepKind =
  | 'restorer.spawn'
  | 'task.fork'
  | 'thread.clone'
  | 'timens.unshare'
  | 'timens.read-inherited'
  | 'timens.open-offsets'
  | 'timens.read-clock'
  | 'timens.write-offset'
  | 'timens.close'
  | 'timens.open-for-children'
  | 'timens.setns'
  | 'timens.join';

export interface RestoreStep {
  kind: StepKind;
  op: Op;
  why: string;
  ns?: TimensId;
  pid?: number;
  /** What the kernel should answer, where it is predictable. */
  expect?: { ret?: number; text?: string; ts?: Timespec };
}

export interface RestorePlan {
  policy: RestorePolicy;
  elapsed: Timespec;
  host: HostClocksNow;
  restorer: number;
  namespaces: NamespacePlan[];
  steps: RestoreStep[];
  /** The steps' ops, in order. */
  ops: Op[];
  /** False when a write would fail with ERANGE: the restore must not be attempted (the steps still show what would be issued). */
  ok: boolean;
  errors: PlanRangeError[];
  /** Where this plan goes beyond what CRIU restores. */
  beyondCriu: string[];
  /** Other remarks (e.g. namespaces without tasks). */
  notes: string[];
}

const SIGCHLD = 17;
/** sizeof(struct clone_args) as CRIU passes it (CLONE_ARGS_SIZE_VER2). */
const CLONE_ARGS_SIZE = 88;
const THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM;
/** The fd every open of the plan uses: restored tasks start with 0-2 only and close before the next open. */
const FD = 3;

// ---------------------------------------------------------------------------------------------------------
// Validation of untrusted input (a checkpoint image's JSON, CLI values)

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is TimensId => (typeof v === 'string' && v.length > 0) || (typeof v === 'number' && Number.isSafeInteger(v));

function checkTimespec(v: unknown, path: string, source: string): Timespec {
  if (!isObj(v)) throw new CheckpointError(path, 'expected {sec, nsec}', source);
  if (!isNormalized(v))
    throw new CheckpointError(path, `expected integer sec and 0 <= nsec < 1000000000, got ${JSON.stringify(v)}`, source);
  return { sec: v.sec, nsec: v.nsec };
}

function checkPid(v: unknown, path: string, source: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > 4194304)
    throw new CheckpointError(path, `expected a pid (an integer in [0, 4194304]), got ${JSON.stringify(v)}`, source);
  return v;
}

/**
 * Check a checkpoint description (parsed JSON) and return it typed: timespecs normalised and exact, ids unique,
 * parents existing and acyclic, every task in a known namespace, every thread with its leader and in the leader's
 * namespace (all threads of a process share one time namespace: setns of time needs a single-threaded caller).
 */
export function validateCheckpoint(input: unknown, source = 'checkpoint'): CheckpointDescription {
  if (!isObj(input)) throw new CheckpointError('(root)', 'expected an object with timens and tasks', source);
  if (!Array.isArray(input.timens)) throw new CheckpointError('timens', 'expected an array', source);
  if (!Array.isArray(input.tasks)) throw new CheckpointError('tasks', 'expected an array', source);
  const timens: CheckpointTimens[] = [];
  const ids = new Map<string, number>();
  input.timens.forEach((raw, i) => {
    const p = `timens[${i}]`;
    if (!isObj(raw)) throw new CheckpointError(p, 'expected an object', source);
    if (!isId(raw.id)) throw new CheckpointError(`${p}.id`, 'expected a non-empty string or an integer', source);
    const key = String(raw.id);
    if (ids.has(key)) throw new CheckpointError(`${p}.id`, `duplicate id ${JSON.stringify(raw.id)} (also timens[${ids.get(key)}])`, source);
    ids.set(key, i);
    if (raw.parent !== undefined && raw.parent !== null && !isId(raw.parent))
      throw new CheckpointError(`${p}.parent`, 'expected an id or null', source);
    if (!isObj(raw.offsets)) throw new CheckpointError(`${p}.offsets`, 'expected {monotonic, boottime}', source);
    timens.push({
      id: raw.id,
      parent: (raw.parent as TimensId | null | undefined) ?? null,
      monotonic: checkTimespec(raw.monotonic, `${p}.monotonic`, source),
      boottime: checkTimespec(raw.boottime, `${p}.boottime`, source),
      offsets: {
        monotonic: checkTimespec(raw.offsets.monotonic, `${p}.offsets.monotonic`, source),
        boottime: checkTimespec(raw.offsets.boottime, `${p}.offsets.boottime`, source),
      },
    });
  });
  timens.forEach((ns, i) => {
    if (ns.parent === null || ns.parent === undefined) return;
    if (!ids.has(String(ns.parent))) throw new CheckpointError(`timens[${i}].parent`, `no time namespace with id ${JSON.stringify(ns.parent)}`, source);
    // Walk up: a cycle comes back to the start.
    const seen = new Set<string>([String(ns.id)]);
    let cur: TimensId | null | undefined = ns.parent;
    while (cur !== null && cur !== undefined) {
      if (seen.has(String(cur))) throw new CheckpointError(`timens[${i}].parent`, `the parent chain of ${JSON.stringify(ns.id)} is a cycle`, source);
      seen.add(String(cur));
      cur = timens[ids.get(String(cur))!].parent;
    }
  });
  const tasks: CheckpointTask[] = [];
  const tids = new Map<number, number>();
  input.tasks.forEach((raw, i) => {
    const p = `tasks[${i}]`;
    if (!isObj(raw)) throw new CheckpointError(p, 'expected an object', source);
    const pid = checkPid(raw.pid, `${p}.pid`, source);
    const tid = checkPid(raw.tid ?? raw.pid, `${p}.tid`, source);
    const ppid = checkPid(raw.ppid, `${p}.ppid`, source);
    if (pid === 0 || tid === 0) throw new CheckpointError(`${p}.pid`, 'pid 0 cannot be restored', source);
    if (!isId(raw.timens) || !ids.has(String(raw.timens)))
      throw new CheckpointError(`${p}.timens`, `no time namespace with id ${JSON.stringify(raw.timens)}`, source);
    if (tids.has(tid)) throw new CheckpointError(`${p}.tid`, `duplicate tid ${tid} (also tasks[${tids.get(tid)}])`, source);
    tids.set(tid, i);
    tasks.push({ pid, tid, ppid, timens: timens[ids.get(String(raw.timens))!].id });
  });
  tasks.forEach((t, i) => {
    if (t.tid === t.pid) return;
    const leader = tasks.find((l) => l.tid === t.pid);
    if (!leader) throw new CheckpointError(`tasks[${i}].pid`, `thread ${t.tid} has no leader task ${t.pid} in the checkpoint`, source);
    if (String(leader.timens) !== String(t.timens))
      throw new CheckpointError(
        `tasks[${i}].timens`,
        `thread ${t.tid} is in time namespace ${JSON.stringify(t.timens)} but its leader ${t.pid} is in ${JSON.stringify(leader.timens)}; threads of a process always share one (setns of time needs a single-threaded caller)`,
        source,
      );
  });
  return { timens, tasks };
}

// ---------------------------------------------------------------------------------------------------------
// Offsets

/** The clock values a namespace with these offsets shows at the given host clocks (D at a checkpoint). */
export function clockValues(offsets: TimensOffsets, host: { monotonic: Timespec; boottime: Timespec }): Record<ClockName, Timespec> {
  return { monotonic: add(host.monotonic, offsets.monotonic), boottime: add(host.boottime, offsets.boottime) };
}

/**
 * proc_timens_set_offset's range check for one record: |sec| <= KTIME_SEC_MAX, then host clock + offset
 * (timespec64_add, normalised) within [0, KTIME_SEC_MAX / 2] seconds. Returns the reason or null.
 */
export function kernelRangeError(clock: ClockName, host: Timespec, offset: Timespec): string | null {
  if (offset.sec > KTIME_SEC_MAX || offset.sec < -KTIME_SEC_MAX)
    return `${clock} offset ${formatSeconds(offset)} s: |${offset.sec}| s exceeds KTIME_SEC_MAX (${KTIME_SEC_MAX}) (ERANGE)`;
  const t = add(host, offset);
  if (t.sec < 0)
    return `${clock}: host clock ${formatSeconds(host)} s + offset ${formatSeconds(offset)} s = ${formatSeconds(t)} s is negative (ERANGE)`;
  if (t.sec > KTIME_SEC_MAX_HALF)
    return `${clock}: host clock ${formatSeconds(host)} s + offset ${formatSeconds(offset)} s = ${formatSeconds(t)} s exceeds KTIME_SEC_MAX/2 (${KTIME_SEC_MAX_HALF} s) (ERANGE)`;
  return null;
}

/**
 * CRIU's arithmetic for one clock: O = target − (now − P), with now the creating task's reading (host + the
 * offsets of its T) and P the offsets the new namespace inherited (its creator's C; T == C here).
 */
export function planClock(
  clock: ClockName,
  checkpointed: Timespec,
  host: Timespec,
  inherited: Timespec,
  policy: RestorePolicy,
  elapsed: Timespec,
): ClockPlan {
  const now = add(host, inherited);
  const target = policy === 'freeze' ? checkpointed : add(checkpointed, elapsed);
  const offset = sub(target, sub(now, inherited));
  const atRestore = add(host, offset);
  const f = formatSeconds;
  const formula =
    policy === 'freeze'
      ? `O = D − (now − P) = ${f(checkpointed)} − (${f(now)} − ${f(inherited)}) = ${f(offset)} s`
      : `O = D + elapsed − (now − P) = ${f(checkpointed)} + ${f(elapsed)} − (${f(now)} − ${f(inherited)}) = ${f(offset)} s`;
  return {
    clock,
    clockid: CLOCK_IDS[clock],
    checkpointed,
    target,
    now,
    inherited,
    offset,
    atRestore,
    line: `${CLOCK_IDS[clock]} ${formatOffset(offset)}\n`,
    formula,
    erange: kernelRangeError(clock, host, offset),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The plan

interface Proc {
  pid: number;
  ppid: number;
  timens: TimensId;
  threads: number[];
  children: Proc[];
}

/** Plan the restore of a checkpoint on a host whose clocks read `opts.host` at the restore instant. */
export function planRestore(checkpoint: CheckpointDescription, opts: RestoreOptions): RestorePlan {
  const cp = validateCheckpoint(checkpoint);
  const policy = opts.policy ?? 'freeze';
  if (policy !== 'freeze' && policy !== 'advance') throw new CheckpointError('policy', `expected freeze or advance, got ${JSON.stringify(policy)}`, 'options');
  if (policy === 'advance' && opts.elapsed === undefined)
    throw new CheckpointError('elapsed', 'the advance policy needs the elapsed time between checkpoint and restore', 'options');
  const elapsed = opts.elapsed === undefined ? ZERO : checkTimespec(opts.elapsed, 'elapsed', 'options');
  if (policy === 'advance' && elapsed.sec < 0) throw new CheckpointError('elapsed', 'elapsed time cannot be negative', 'options');
  const host: HostClocksNow = {
    monotonic: checkTimespec(opts.host?.monotonic, 'host.monotonic', 'options'),
    boottime: checkTimespec(opts.host?.boottime, 'host.boottime', 'options'),
    ...(opts.host?.realtime !== undefined ? { realtime: checkTimespec(opts.host.realtime, 'host.realtime', 'options') } : {}),
  };
  const restorer = checkPid(opts.restorerPid ?? 1, 'restorerPid', 'options');
  if (cp.tasks.some((t) => t.tid === restorer))
    throw new CheckpointError('restorerPid', `the restorer pid ${restorer} is also a task to restore; choose another restorer pid`, 'options');

  const nsById = new Map(cp.timens.map((n) => [String(n.id), n]));
  const depthOf = (id: TimensId): number => {
    let d = 0;
    for (let p = nsById.get(String(id))!.parent; p !== null && p !== undefined; p = nsById.get(String(p))!.parent) d++;
    return d;
  };

  // The process tree: leaders with their threads, children sorted by pid (CRIU walks its pstree in order).
  const procs = new Map<number, Proc>();
  for (const t of cp.tasks) if (t.tid === t.pid) procs.set(t.pid, { pid: t.pid, ppid: t.ppid, timens: t.timens, threads: [], children: [] });
  for (const t of cp.tasks) if (t.tid !== t.pid) procs.get(t.pid)!.threads.push(t.tid);
  const roots: Proc[] = [];
  for (const p of procs.values()) {
    const parent = p.ppid !== p.pid ? procs.get(p.ppid) : undefined;
    if (parent) parent.children.push(p);
    else roots.push(p);
  }
  const byPid = (a: Proc, b: Proc) => a.pid - b.pid;
  roots.sort(byPid);
  for (const p of procs.values()) {
    p.children.sort(byPid);
    p.threads.sort((a, b) => a - b);
  }

  const plans = new Map<string, NamespacePlan>();
  const steps: RestoreStep[] = [];
  const errors: PlanRangeError[] = [];
  const notes: string[] = [];
  const beyondCriu: string[] = [];

  if (opts.spawnRestorer)
    steps.push({
      kind: 'restorer.spawn',
      op: { call: 'host.spawn', pid: restorer, ppid: 0 },
      pid: restorer,
      why: `the restorer (criu restore) runs as pid ${restorer} on the new host, in the host's time namespace`,
    });

  const restorerOffsets: TimensOffsets = opts.restorerOffsets
    ? {
        monotonic: checkTimespec(opts.restorerOffsets.monotonic, 'restorerOffsets.monotonic', 'options'),
        boottime: checkTimespec(opts.restorerOffsets.boottime, 'restorerOffsets.boottime', 'options'),
      }
    : { monotonic: ZERO, boottime: ZERO };
  const offsetsOf = (id: TimensId | null): TimensOffsets => (id === null ? restorerOffsets : plans.get(String(id))!.offsets);

  const createNs = (p: Proc, from: TimensId | null): void => {
    const ns = nsById.get(String(p.timens))!;
    const P = offsetsOf(from);
    const clocks = {
      monotonic: planClock('monotonic', ns.monotonic, host.monotonic, P.monotonic, policy, elapsed),
      boottime: planClock('boottime', ns.boottime, host.boottime, P.boottime, policy, elapsed),
    };
    const plan: NamespacePlan = {
      id: ns.id,
      parent: ns.parent ?? null,
      depth: depthOf(ns.id),
      creator: p.pid,
      inheritedFrom: from,
      offsets: { monotonic: clocks.monotonic.offset, boottime: clocks.boottime.offset },
      clocks,
      members: [],
      joiners: [],
    };
    plans.set(String(ns.id), plan);
    for (const c of CLOCK_NAMES) if (clocks[c].erange) errors.push({ ns: ns.id, clock: c, errno: 'ERANGE', reason: clocks[c].erange! });

    const id = ns.id;
    const pid = p.pid;
    const fromText = from === null ? "the restorer's (host) time namespace" : `time namespace ${JSON.stringify(from)}`;
    const push = (kind: StepKind, op: Op, why: string, expect?: RestoreStep['expect']) =>
      steps.push({ kind, op, why, ns: id, pid, ...(expect ? { expect } : {}) });
    push(
      'timens.unshare',
      { call: 'unshare', tid: pid, flags: CLONE.NEWTIME },
      `prepare_timens: pid ${pid} creates time namespace ${JSON.stringify(id)} as its time_for_children; the offsets start as a copy of ${fromText}'s (P); pid ${pid} itself stays where it is`,
      { ret: 0 },
    );
    const offsetsPath = `/proc/${pid}/timens_offsets`;
    push('timens.read-inherited', { call: 'open', tid: pid, path: offsetsPath, mode: 'r', fd: FD }, 'parse_timens_offsets: open the offsets file to read P', { ret: FD });
    push('timens.read-inherited', { call: 'read', tid: pid, fd: FD, count: 4096 }, `P = monotonic ${formatOffset(P.monotonic)}, boottime ${formatOffset(P.boottime)}`, {
      text: showOffsets(P),
    });
    push('timens.close', { call: 'close', tid: pid, fd: FD }, 'done reading P', { ret: 0 });
    push(
      'timens.open-offsets',
      { call: 'open', tid: pid, path: offsetsPath, mode: 'rw', fd: FD },
      'open_proc_rw(PROC_SELF, "timens_offsets"): O_RDWR; offsets can be written until a task enters the namespace',
      { ret: FD },
    );
    for (const c of CLOCK_NAMES) {
      const cl = clocks[c];
      push('timens.read-clock', { call: 'clock_gettime', tid: pid, clockid: cl.clockid }, `now (${c}) = ${formatSeconds(cl.now)} s as pid ${pid} reads it`, { ret: 0, ts: cl.now });
      push(
        'timens.write-offset',
        { call: 'write', tid: pid, fd: FD, data: cl.line },
        `${policy === 'freeze' ? 'freeze' : 'advance'}: ${cl.formula}; written as "${cl.line.trimEnd()}" with the numeric clock id ${cl.clockid}, as CRIU's dprintf("%d %ld %ld\\n")` +
          (cl.erange ? ` — the kernel will refuse: ${cl.erange}` : `; the clock will read ${formatSeconds(cl.atRestore)} s`),
        cl.erange ? undefined : { ret: cl.line.length },
      );
    }
    push('timens.close', { call: 'close', tid: pid, fd: FD }, 'close the offsets file', { ret: 0 });
    push(
      'timens.open-for-children',
      { call: 'open', tid: pid, path: `/proc/${pid}/ns/time_for_children`, mode: 'r', fd: FD },
      'open ns/time_for_children to enter the new namespace',
      { ret: FD },
    );
    push(
      'timens.setns',
      { call: 'setns', tid: pid, fd: FD, nstype: CLONE.NEWTIME },
      `switch_ns_by_fd: pid ${pid} enters ${JSON.stringify(id)}; this freezes its offsets and its clocks now read monotonic ${formatSeconds(clocks.monotonic.atRestore)} s, boottime ${formatSeconds(clocks.boottime.atRestore)} s`,
      { ret: 0 },
    );
    push('timens.close', { call: 'close', tid: pid, fd: FD }, 'close the namespace fd (the tasks keep the namespace alive)', { ret: 0 });
  };

  const visit = (p: Proc, parentPid: number, parentNs: TimensId | null): void => {
    steps.push({
      kind: 'task.fork',
      op: { call: 'clone3', tid: parentPid, flags: 0, exit_signal: SIGCHLD, size: CLONE_ARGS_SIZE, set_tid: [p.pid], child: p.pid },
      pid: p.pid,
      ...(parentNs === null ? {} : { ns: parentNs }),
      why: `pid ${parentPid} recreates pid ${p.pid} with clone3(set_tid=[${p.pid}]) so it keeps its pid; it starts in ${parentNs === null ? "the restorer's time namespace" : `time namespace ${JSON.stringify(parentNs)}`}`,
      expect: { ret: p.pid },
    });
    const key = String(p.timens);
    if (!plans.has(key)) {
      createNs(p, parentNs);
    } else if (parentNs === null || String(parentNs) !== key) {
      const target = plans.get(key)!;
      target.joiners.push(p.pid);
      const path = `/proc/${target.creator}/ns/time`;
      const push = (op: Op, why: string, expect: RestoreStep['expect']) => steps.push({ kind: 'timens.join', op, why, ns: p.timens, pid: p.pid, expect });
      push({ call: 'open', tid: p.pid, path, mode: 'r', fd: FD }, `pid ${p.pid} belongs to ${JSON.stringify(p.timens)}, created earlier by pid ${target.creator}: open its ns/time`, { ret: FD });
      push({ call: 'setns', tid: p.pid, fd: FD, nstype: CLONE.NEWTIME }, `setns: pid ${p.pid} joins ${JSON.stringify(p.timens)} (already frozen)`, { ret: 0 });
      push({ call: 'close', tid: p.pid, fd: FD }, 'close the namespace fd', { ret: 0 });
    }
    plans.get(key)!.members.push(p.pid);
    for (const c of p.children) visit(c, p.pid, p.timens);
    for (const tid of p.threads) {
      steps.push({
        kind: 'thread.clone',
        op: { call: 'clone', tid: p.pid, flags: THREAD_FLAGS, child: tid },
        pid: p.pid,
        ns: p.timens,
        why: `pid ${p.pid} recreates its thread ${tid}; threads share the process's nsproxy, so it is in ${JSON.stringify(p.timens)} too`,
        expect: { ret: tid },
      });
      plans.get(key)!.members.push(tid);
    }
  };
  for (const r of roots) visit(r, restorer, null);

  for (const ns of cp.timens)
    if (!plans.has(String(ns.id))) notes.push(`time namespace ${JSON.stringify(ns.id)} has no task in the checkpoint: nothing recreates it`);
  const namespaces = cp.timens.filter((n) => plans.has(String(n.id))).map((n) => plans.get(String(n.id))!);
  if (namespaces.length > 1)
    beyondCriu.push(`${namespaces.length} time namespaces in one tree: CRIU restores a single time namespace per tree (tns creates each one in its first task)`);
  if (cp.timens.some((n) => n.parent !== null && n.parent !== undefined))
    beyondCriu.push('nested time namespaces: CRIU refuses to dump them ("Can\'t dump nested time namespace"); tns restores each with absolute offsets');
  for (const n of namespaces)
    if (n.joiners.length > 0)
      beyondCriu.push(`time namespace ${JSON.stringify(n.id)} is entered by setns from another namespace (pids ${n.joiners.join(', ')}): CRIU restores no such tree`);

  return {
    policy,
    elapsed,
    host,
    restorer,
    namespaces,
    steps,
    ops: steps.map((s) => s.op),
    ok: errors.length === 0,
    errors,
    beyondCriu,
    notes,
  };
}

/** The clocks a task in the namespace reads when the host clocks are `host` (host + offsets). */
export function clocksAt(plan: RestorePlan, ns: TimensId, host: { monotonic: Timespec; boottime: Timespec }): Record<ClockName, Timespec> {
  const n = plan.namespaces.find((x) => String(x.id) === String(ns));
  if (!n) throw new CheckpointError('ns', `the plan has no time namespace ${JSON.stringify(ns)}`, 'plan');
  return clockValues(n.offsets, host);
}

// ---------------------------------------------------------------------------------------------------------
// Proof after restore

export interface ClockReading {
  tid: number;
  monotonic: Timespec;
  boottime: Timespec;
  /** The host clocks when the reading was taken; equal to the plan's host means "at the restore instant". */
  host?: { monotonic: Timespec; boottime: Timespec };
}

export interface ClockCheck {
  clock: ClockName;
  reading: Timespec;
  checkpointed: Timespec;
  relation: '>=' | '==';
  /** The value compared with (D, D + elapsed, or host + O). */
  against: Timespec;
  ok: boolean;
  why: string;
}

export interface TaskVerdict {
  tid: number;
  pid: number;
  timens: TimensId;
  ok: boolean;
  checks: ClockCheck[];
}

export interface RestoreVerdict {
  ok: boolean;
  tasks: TaskVerdict[];
  /** Checkpointed tids with no reading. */
  missing: number[];
  /** Readings of tids the checkpoint does not have. */
  unknown: number[];
}

/**
 * Judge clock readings taken in restored tasks: each must be ≥ the checkpointed value D (never backwards);
 * with advance, ≥ D + elapsed; when the reading says which host clocks it was taken at, it must equal
 * host + O (the planned offsets took effect), and at the restore instant it must equal D (freeze) or
 * D + elapsed (advance) exactly.
 */
export function verifyRestore(checkpoint: CheckpointDescription, plan: RestorePlan, readings: ClockReading[]): RestoreVerdict {
  const cp = validateCheckpoint(checkpoint);
  const byTid = new Map(cp.tasks.map((t) => [t.tid, t]));
  const nsById = new Map(cp.timens.map((n) => [String(n.id), n]));
  const tasks: TaskVerdict[] = [];
  const unknown: number[] = [];
  const seen = new Set<number>();
  for (const r of readings) {
    const t = byTid.get(r.tid);
    if (!t) {
      unknown.push(r.tid);
      continue;
    }
    seen.add(r.tid);
    const ns = nsById.get(String(t.timens))!;
    const np = plan.namespaces.find((n) => String(n.id) === String(t.timens));
    const checks: ClockCheck[] = [];
    for (const c of CLOCK_NAMES) {
      const reading = checkTimespec(r[c], `readings[tid ${r.tid}].${c}`, 'readings');
      const D = ns[c];
      const f = formatSeconds;
      checks.push({
        clock: c,
        reading,
        checkpointed: D,
        relation: '>=',
        against: D,
        ok: compare(reading, D) >= 0,
        why: `${c} ${f(reading)} s ${compare(reading, D) >= 0 ? '≥' : '<'} checkpointed ${f(D)} s${compare(reading, D) >= 0 ? '' : ': the clock went backwards'}`,
      });
      if (plan.policy === 'advance') {
        const floor = add(D, plan.elapsed);
        checks.push({
          clock: c,
          reading,
          checkpointed: D,
          relation: '>=',
          against: floor,
          ok: compare(reading, floor) >= 0,
          why: `advance: ${c} ${f(reading)} s must be ≥ D + elapsed = ${f(floor)} s`,
        });
      }
      if (r.host && np) {
        const hostC = checkTimespec(r.host[c], `readings[tid ${r.tid}].host.${c}`, 'readings');
        const expected = add(hostC, np.offsets[c]);
        checks.push({
          clock: c,
          reading,
          checkpointed: D,
          relation: '==',
          against: expected,
          ok: eq(reading, expected),
          why: `host ${f(hostC)} s + planned offset ${formatOffset(np.offsets[c])} = ${f(expected)} s${eq(reading, expected) ? '' : `, but the task read ${f(reading)} s`}`,
        });
        if (eq(hostC, plan.host[c])) {
          const want = np.clocks[c].target;
          checks.push({
            clock: c,
            reading,
            checkpointed: D,
            relation: '==',
            against: want,
            ok: eq(reading, want),
            why: `at the restore instant ${c} must read ${plan.policy === 'freeze' ? 'D' : 'D + elapsed'} = ${f(want)} s exactly`,
          });
        }
      }
    }
    tasks.push({ tid: r.tid, pid: t.pid, timens: t.timens, ok: checks.every((x) => x.ok), checks });
  }
  const missing = cp.tasks.filter((t) => !seen.has(t.tid)).map((t) => t.tid);
  return { ok: missing.length === 0 && unknown.length === 0 && tasks.every((t) => t.ok), tasks, missing, unknown };
}
