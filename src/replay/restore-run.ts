/**
 * Restore a checkpoint image into a new world (another host, freshly booted say): plan the ops a restorer issues,
 * apply them with the kernel model (every one must succeed), then prove that every restored task reads
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME ≥ the checkpointed values (freeze: equal at the restore instant).
 *
 * The offsets follow SEMANTICS.md §7, per clock and per namespace, in exact nanoseconds:
 *   freeze  (CRIU):          O = D − (now − P)
 *   advance (gVisor-like):   O = D + elapsed − (now − P)
 * where D is the namespace's clock value in the image, now the restorer's reading of the clock, and P the offset the
 * new namespace inherited (what /proc/self/timens_offsets shows right after unshare). Each namespace is created by a
 * helper child of the restorer whose time_for_children is the host's, so now − P is the host clock exactly.
 * A value outside what the kernel accepts (|O| > KTIME_SEC_MAX, host + O outside [0, KTIME_SEC_MAX/2]) is an ERANGE
 * reported before anything is written.
 */
import { fromNs, toNs } from '../kernel/timespec.js';
import { apply, checkInvariants, CLONE, createWorld, readClock, type Op, type Outcome, type Timespec, type World, type WorldOptions } from '../kernel/index.js';
import { GENESIS_PID, genesisOptions, type CheckpointImage, type ImageTask, type ImageTimens } from './checkpoint.js';
import { CheckpointError as PlanInputError, planRestore, verifyRestore, type CheckpointDescription, type RestorePlan, type RestoreVerdict } from './restore-plan.js';

export type RestorePolicy = 'freeze' | 'advance';

export interface RestoreOptions {
  host: { monotonic: Timespec; boottime: Timespec; realtime?: Timespec };
  policy?: RestorePolicy;
  /** advance: the time that passed between checkpoint and restore (default: the realtime difference, else 0). */
  elapsed?: Timespec;
  /** Kernel profile of the new host (default: the image's). */
  profile?: string;
  /** The pid of the restorer process (default: the lowest pid not in the image). */
  restorerPid?: number;
  /** A name for the image in messages. */
  image?: string;
}

/** The offsets one namespace gets, and why (the formula with the numbers). */
export interface NamespacePlan {
  /** The namespace's id in the image. */
  id: number;
  /** The namespace that recreates it on the new host. */
  newId: number | null;
  offsets: { monotonic: Timespec; boottime: Timespec };
  /** The clock values D from the image. */
  checkpointed: { monotonic: Timespec; boottime: Timespec };
  /** P: the offsets the new namespace inherits at unshare (what timens_offsets shows before the write). */
  inherited: { monotonic: Timespec; boottime: Timespec };
  why: { monotonic: string; boottime: string };
  /** No task runs in it: it is only some task's time_for_children. */
  pending: boolean;
  /** helper: a child of the restorer unshares it; unshare: the task whose time_for_children it is re-creates it. */
  createdBy: { how: 'helper' } | { how: 'unshare'; tid: number };
}

export interface ProofLine {
  tid: number;
  clock: 'monotonic' | 'boottime';
  checkpointed: Timespec;
  restored: Timespec;
  ok: boolean;
  detail: string;
}

export interface RestoreEvent {
  op: Op;
  outcome: Outcome;
  /** What this step is for, e.g. "write the offsets of time:[4026532176]". */
  purpose: string;
}

export type RestoreResult =
  | {
      ok: true;
      policy: RestorePolicy;
      options: WorldOptions;
      world: World;
      events: RestoreEvent[];
      namespaces: NamespacePlan[];
      proof: ProofLine[];
      restorer: number;
      /** The restored tasks (pids are kept) and the namespaces they are in on the new host. */
      tasks: { tid: number; time: number | null; time_for_children: number | null }[];
      /** restore-plan's plan and verdict, when it planned the restore. */
      plan?: RestorePlan;
      verdict?: RestoreVerdict;
      /** Where the restore goes beyond CRIU, and other remarks. */
      notes: string[];
    }
  | { ok: false; errno: 'ERANGE' | 'EINVAL'; error: string; namespaces: NamespacePlan[] };

export class RestoreError extends Error {
  override name = 'RestoreError';
}

const NSEC = 1_000_000_000n;
const KTIME_SEC_MAX = 9_223_372_036n;
const fmt = (t: Timespec) => {
  const ns = toNs(t);
  const a = ns < 0n ? -ns : ns;
  return `${ns < 0n ? '-' : ''}${a / NSEC}.${(a % NSEC).toString().padStart(9, '0')}`;
};

/** The offsets of one clock: the formula, the range checks, and the words that explain it. */
function offsetFor(
  clock: 'monotonic' | 'boottime',
  D: Timespec,
  hostNow: Timespec,
  inherited: Timespec,
  policy: RestorePolicy,
  elapsed: Timespec,
  nsName: string,
): { value: Timespec; why: string } | { error: string } {
  const now = toNs(hostNow) + toNs(inherited); // what the restorer reads inside its namespace
  const P = toNs(inherited);
  const e = policy === 'advance' ? toNs(elapsed) : 0n;
  const O = toNs(D) + e - (now - P);
  const why =
    policy === 'freeze'
      ? `O = D − (now − P) = ${fmt(D)} − (${fmt(fromNs(now))} − ${fmt(inherited)}) = ${fmt(fromNs(O))}`
      : `O = D + elapsed − (now − P) = ${fmt(D)} + ${fmt(elapsed)} − (${fmt(fromNs(now))} − ${fmt(inherited)}) = ${fmt(fromNs(O))}`;
  const sec = fromNs(O).sec;
  if (BigInt(sec) > KTIME_SEC_MAX || BigInt(sec) < -KTIME_SEC_MAX)
    return { error: `${nsName} ${clock}: offset ${fmt(fromNs(O))} s exceeds KTIME_SEC_MAX ${KTIME_SEC_MAX} (ERANGE); ${why}` };
  const after = fromNs(toNs(hostNow) + O).sec;
  if (after < 0 || BigInt(after) > KTIME_SEC_MAX / 2n)
    return {
      error: `${nsName} ${clock}: host ${fmt(hostNow)} + offset ${fmt(fromNs(O))} = ${after} s is outside [0, KTIME_SEC_MAX/2 = ${KTIME_SEC_MAX / 2n}] (ERANGE, the kernel refuses the write); ${why}`,
    };
  return { value: fromNs(O), why };
}

/**
 * Plan and run the restore of `image` on a new host. Never throws for a kernel answer: ERANGE comes back as
 * {ok:false} before anything is written. The plan is restore-plan's (CRIU's steps, one creator per namespace,
 * joiners by setns); a tree where some task has a pending time_for_children (an unshare not yet entered, or
 * entered only by its children) needs the identity "child's time == parent's time_for_children" kept, which
 * restore-plan does not model: that case is planned here, by the task that owns the namespace re-creating it.
 */
export function restoreImage(image: CheckpointImage, opts: RestoreOptions): RestoreResult {
  const pending = image.tasks.some((t) => t.ns && t.state === 'running' && t.ns.time_for_children !== t.ns.time);
  return pending ? restoreWithPending(image, opts) : restoreWithPlan(image, opts);
}

/**
 * What both restore paths start from: the policy, the new host's realtime (given, or the old one plus the elapsed
 * time), the elapsed time (given, or the realtime difference), and the restorer's pid (the lowest one the image does
 * not use, or the one given — never a pid of the image or the genesis).
 */
function restoreSetup(image: CheckpointImage, opts: RestoreOptions) {
  const policy = opts.policy ?? 'freeze';
  const realtime = opts.host.realtime ?? (opts.elapsed ? fromNs(toNs(image.host.realtime) + toNs(opts.elapsed)) : image.host.realtime);
  const elapsed = opts.elapsed ?? (toNs(realtime) >= toNs(image.host.realtime) ? fromNs(toNs(realtime) - toNs(image.host.realtime)) : { sec: 0, nsec: 0 });
  const tids = new Set(image.tasks.map((t) => t.tid));
  let restorer = opts.restorerPid ?? 1;
  if (opts.restorerPid === undefined) while (tids.has(restorer)) restorer++;
  else if (tids.has(restorer) || restorer === GENESIS_PID) throw new RestoreError(`restorer pid ${restorer} is a pid of the image or the genesis`);
  return { policy, realtime, elapsed, restorer, tids };
}

function restoreWithPending(image: CheckpointImage, opts: RestoreOptions): RestoreResult {
  const { policy, realtime, elapsed, restorer, tids } = restoreSetup(image, opts);
  const options: WorldOptions = genesisOptions(opts.profile ?? image.profile, { monotonic: opts.host.monotonic, boottime: opts.host.boottime, realtime });
  const world = createWorld(options);

  // 1. The plan: offsets of every time namespace the tree uses, checked before anything is written. A namespace
  // that is some task's time_for_children while not its time (an unshare not yet entered, or entered only by its
  // children) is re-created by that task's own unshare; every other one by a helper child of the restorer.
  const zero = { sec: 0, nsec: 0 };
  const procsFirst = [...image.tasks.filter((t) => !t.thread), ...image.tasks.filter((t) => t.thread)];
  const creatorOf = (id: number) => procsFirst.find((t) => t.ns && t.ns.time_for_children === id && t.ns.time !== id);
  const plans: NamespacePlan[] = [];
  for (const n of image.timens) {
    const creator = creatorOf(n.id);
    plans.push({
      id: n.id,
      newId: null,
      offsets: { monotonic: zero, boottime: zero },
      inherited: { monotonic: zero, boottime: zero },
      checkpointed: { monotonic: n.monotonic, boottime: n.boottime },
      why: { monotonic: '', boottime: '' },
      pending: n.tasks.length === 0,
      createdBy: creator ? { how: 'unshare', tid: creator.tid } : { how: 'helper' },
    });
  }
  const planOf = (id: number) => plans.find((p) => p.id === id)!;
  // P: a helper inherits the host's offsets (zero); a task's unshare copies its time_for_children, which after its
  // setns is the namespace it runs in.
  for (const p of plans)
    if (p.createdBy.how === 'unshare') {
      const tid = p.createdBy.tid;
      const creator = image.tasks.find((t) => t.tid === tid)!;
      const parentPlan = planOf(creator.ns!.time);
      if (parentPlan.createdBy.how === 'unshare' && parentPlan.createdBy.tid === tid)
        return { ok: false, errno: 'EINVAL', error: `time:[${p.id}] cannot be re-created: its creator ${tid} is in it`, namespaces: plans };
    }
  const computed = new Set<number>();
  const compute = (p: NamespacePlan): string | null => {
    if (computed.has(p.id)) return null;
    if (p.createdBy.how === 'unshare') {
      const tid = p.createdBy.tid;
      const parent = planOf(image.tasks.find((t) => t.tid === tid)!.ns!.time);
      const err = compute(parent);
      if (err) return err;
      p.inherited = structuredClone(parent.offsets);
    }
    const name = `time:[${p.id}]`;
    for (const clock of ['monotonic', 'boottime'] as const) {
      const r = offsetFor(clock, p.checkpointed[clock], world.host[clock], p.inherited[clock], policy, elapsed, name);
      if ('error' in r) {
        p.why[clock] = r.error;
        return r.error;
      }
      p.offsets[clock] = r.value;
      p.why[clock] = r.why;
    }
    computed.add(p.id);
    return null;
  };
  for (const p of plans) {
    const err = compute(p);
    if (err) return { ok: false, errno: 'ERANGE', error: err, namespaces: plans };
  }
  const initUser = image.namespaces.find((n) => n.type === 'user' && n.initial)?.id;
  for (const t of image.tasks)
    if (t.cred.userns !== initUser)
      return { ok: false, errno: 'EINVAL', error: `task ${t.tid} is in a non-initial user namespace: tns restores trees in the initial user namespace only`, namespaces: plans };

  // 2. Run it.
  const events: RestoreEvent[] = [];
  const run = (op: Op, purpose: string): Outcome => {
    const outcome = apply(world, op);
    events.push({ op, outcome, purpose });
    if (outcome.errno) throw new RestoreError(`restore step "${purpose}" (${op.call}) failed: ${outcome.rule ?? outcome.errno}`);
    return outcome;
  };
  const offsetsText = (p: NamespacePlan) =>
    `1 ${p.offsets.monotonic.sec} ${p.offsets.monotonic.nsec}\n7 ${p.offsets.boottime.sec} ${p.offsets.boottime.nsec}\n`;
  const nsFd = new Map<number, number>(); // image time ns id → restorer's nsfs fd pinning its new namespace
  run({ call: 'host.spawn', pid: restorer }, `the restorer (pid ${restorer}) runs on the new host, in the host's time namespace`);
  let nextHelper = restorer + 1;
  const freePid = () => {
    while (tids.has(nextHelper) || world.tasks[nextHelper]) nextHelper++;
    return nextHelper++;
  };
  const T = (tid: number) => world.nsproxies[world.tasks[tid].nsproxy!].time;
  const C = (tid: number) => world.nsproxies[world.tasks[tid].nsproxy!].time_for_children;
  const restorePending = (tid: number, p: NamespacePlan, entered: boolean) => {
    run({ call: 'unshare', tid, flags: CLONE.NEWTIME }, `task ${tid} re-creates time:[${p.id}] as its time_for_children`);
    const fd = run({ call: 'open', tid, path: '/proc/self/timens_offsets', mode: 'rw' }, 'open its timens_offsets').ret;
    const shown = parseShown(run({ call: 'read', tid, fd, count: 4096 }, 'read the inherited offsets P').text ?? '');
    if (toNs(shown.monotonic) !== toNs(p.inherited.monotonic) || toNs(shown.boottime) !== toNs(p.inherited.boottime))
      throw new RestoreError(`task ${tid} inherited offsets ${JSON.stringify(shown)}, the plan expected ${JSON.stringify(p.inherited)}`);
    run({ call: 'lseek', tid, fd, offset: 0, whence: 'SET' }, 'rewind the offsets file (a write needs position 0)');
    run({ call: 'write', tid, fd, data: offsetsText(p) }, `write the offsets of time:[${p.id}]`);
    run({ call: 'close', tid, fd }, 'close the offsets file');
    p.newId = C(tid);
    const img = image.timens.find((n) => n.id === p.id)!;
    if (img.frozen && !entered) {
      // It was frozen (a child had entered it and is gone): a short-lived child freezes the new one the same way.
      const c = run({ call: 'fork', tid, child: freePid() }, `a short-lived child of ${tid} freezes time:[${p.id}] as the checkpointed one was`).ret;
      run({ call: 'exit_group', tid: c, code: 0 }, 'the short-lived child exits');
      run({ call: 'wait', tid, target: c }, 'reap it');
    }
  };
  const procs = image.tasks.filter((t) => !t.thread);
  const threads = image.tasks.filter((t) => t.thread);
  const childrenOf = (pid: number) => procs.filter((t) => t.ppid === pid && t.tid !== pid);
  const root = procs.find((t) => t.tid === image.root);
  const restoreProc = (t: ImageTask, parent: number) => {
    run({ call: 'fork', tid: parent, child: t.tid }, `fork task ${t.tid}`);
    if (t.ns) {
      const p = planOf(t.ns.time);
      if (p.newId === null || T(t.tid) !== p.newId) {
        const fd = nsFd.get(t.ns.time);
        if (fd === undefined)
          throw new RestoreError(`task ${t.tid} is in time:[${t.ns.time}], which its creator re-creates, but ${t.tid} is not its child forked after that unshare`);
        run({ call: 'setns', tid: t.tid, fd, nstype: CLONE.NEWTIME }, `task ${t.tid} enters the namespace that continues time:[${t.ns.time}]`);
      }
    }
    const kids = childrenOf(t.tid);
    const pendingHere = t.ns && t.ns.time_for_children !== t.ns.time ? planOf(t.ns.time_for_children) : null;
    const mine = pendingHere && pendingHere.createdBy.how === 'unshare' && pendingHere.createdBy.tid === t.tid ? pendingHere : null;
    const after = mine ? kids.filter((k) => k.ns?.time === mine.id) : [];
    for (const k of kids) if (!after.includes(k)) restoreProc(k, t.tid);
    if (mine) restorePending(t.tid, mine, after.length > 0);
    else if (pendingHere) throw new RestoreError(`task ${t.tid} shares a pending time_for_children with another task: no restorer can recreate that`);
    for (const k of after) restoreProc(k, t.tid);
    for (const fd of [...nsFd.values()]) run({ call: 'close', tid: t.tid, fd }, `task ${t.tid} closes the restorer's namespace fd`);
    if (t.cred.uid !== 0 || t.cred.euid !== 0 || t.cred.suid !== 0)
      run({ call: 'setresuid', tid: t.tid, ruid: t.cred.uid, euid: t.cred.euid, suid: t.cred.suid }, `task ${t.tid} takes its credentials`);
    if (t.state === 'zombie') run({ call: 'exit_group', tid: t.tid, code: 0 }, `task ${t.tid} was a zombie`);
  };
  try {
    if (!root) throw new RestoreError(`the image root ${image.root} is not a process of the image`);
    for (const p of plans) {
      if (p.createdBy.how !== 'helper') continue;
      // A helper child of the restorer creates the namespace; the restorer writes its offsets (numeric clock ids)
      // and keeps it alive with an nsfs fd of /proc/HELPER/ns/time_for_children; the helper then exits.
      const helper = run({ call: 'fork', tid: restorer, child: freePid() }, `fork a helper for time:[${p.id}]`).ret;
      run({ call: 'unshare', tid: helper, flags: CLONE.NEWTIME }, `the helper unshares a new time namespace for time:[${p.id}]`);
      const ofd = run({ call: 'open', tid: restorer, path: `/proc/${helper}/timens_offsets`, mode: 'rw' }, "open the helper's timens_offsets").ret;
      const shown = parseShown(run({ call: 'read', tid: restorer, fd: ofd, count: 4096 }, 'read the inherited offsets P').text ?? '');
      if (toNs(shown.monotonic) !== 0n || toNs(shown.boottime) !== 0n)
        throw new RestoreError(`the helper inherited non-zero offsets ${JSON.stringify(shown)}: the plan assumed the host's`);
      run({ call: 'lseek', tid: restorer, fd: ofd, offset: 0, whence: 'SET' }, 'rewind the offsets file (a write needs position 0)');
      run({ call: 'write', tid: restorer, fd: ofd, data: offsetsText(p) }, `write the offsets of time:[${p.id}]`);
      run({ call: 'close', tid: restorer, fd: ofd }, 'close the offsets file');
      const nfd = run({ call: 'open', tid: restorer, path: `/proc/${helper}/ns/time_for_children`, mode: 'r' }, `pin the new namespace for time:[${p.id}]`).ret;
      nsFd.set(p.id, nfd);
      p.newId = C(helper);
      run({ call: 'exit_group', tid: helper, code: 0 }, 'the helper exits');
      run({ call: 'wait', tid: restorer, target: helper }, 'reap the helper');
    }
    restoreProc(root, restorer);
    for (const t of threads) {
      const THREAD = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM;
      run({ call: 'clone', tid: t.tgid, flags: THREAD, child: t.tid }, `thread ${t.tid} of ${t.tgid}`);
      if (!t.ns) continue;
      if (planOf(t.ns.time).newId !== T(t.tid)) throw new RestoreError(`thread ${t.tid} is in another time namespace than its leader: no restorer can recreate that`);
      const p = planOf(t.ns.time_for_children);
      if (p.createdBy.how === 'unshare' && p.createdBy.tid === t.tid) restorePending(t.tid, p, false);
    }
    for (const fd of [...nsFd.values()]) run({ call: 'close', tid: restorer, fd }, 'the restorer closes its namespace fd');
  } catch (e) {
    if (e instanceof RestoreError) return { ok: false, errno: 'EINVAL', error: e.message, namespaces: plans };
    throw e;
  }
  const bad = checkInvariants(world);
  if (bad.length) throw new RestoreError(`the model broke its invariants during the restore: ${bad.join('; ')}`);

  // 4. The proof: every restored running task reads ≥ D (freeze: = D).
  const proof: ProofLine[] = [];
  for (const t of image.tasks) {
    if (!t.ns || t.state !== 'running') continue;
    const n = image.timens.find((x) => x.id === t.ns!.time) as ImageTimens;
    const live = world.tasks[t.tid];
    for (const clock of ['monotonic', 'boottime'] as const) {
      const r = readClock(world, live, clock === 'monotonic' ? 1 : 7);
      if (!r.ok) throw new RestoreError(r.rule);
      const D = n[clock];
      const ge = toNs(r.ts) >= toNs(D);
      const eq = toNs(r.ts) === toNs(D);
      const ok = policy === 'freeze' ? eq : ge;
      proof.push({
        tid: t.tid,
        clock,
        checkpointed: D,
        restored: r.ts,
        ok,
        detail: `task ${t.tid} ${clock}: checkpointed ${fmt(D)}, restored ${fmt(r.ts)} (${eq ? '=' : ge ? '>' : '<, went BACKWARDS'})`,
      });
    }
  }
  const taskList = image.tasks.map((t) => {
    const live = world.tasks[t.tid];
    const nsp = live?.nsproxy != null ? world.nsproxies[live.nsproxy] : null;
    return { tid: t.tid, time: nsp?.time ?? null, time_for_children: nsp?.time_for_children ?? null };
  });
  const notes = [
    'a task had a pending time_for_children: tns re-created it by that task (unshare, offsets write, then the children that live in it); CRIU dumps no such tree',
  ];
  return { ok: true, policy, options, world, events, namespaces: plans, proof, restorer, tasks: taskList, notes };
}

/** Parse what /proc/PID/timens_offsets shows ("monotonic  S  N\nboottime  S  N\n"). */
function parseShown(text: string): { monotonic: Timespec; boottime: Timespec } {
  const out = { monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } };
  for (const line of text.split('\n')) {
    const m = /^(monotonic|boottime)\s+(-?\d+)\s+(\d+)$/.exec(line.trim());
    if (m) out[m[1] as 'monotonic'] = { sec: Number(m[2]), nsec: Number(m[3]) };
  }
  return out;
}

/** The parts of the image restore-plan reads: every time namespace a running task is in, and the running tasks. */
export function imageToDescription(image: CheckpointImage): { desc: CheckpointDescription; skipped: string[] } {
  const skipped: string[] = [];
  const running = image.tasks.filter((t) => t.ns && t.state === 'running');
  for (const t of image.tasks) if (!running.includes(t)) skipped.push(`task ${t.tid} was a zombie: it is not restored`);
  const used = new Set(running.map((t) => t.ns!.time));
  const procT = new Map(running.filter((t) => !t.thread).map((t) => [t.tid, t.ns!.time]));
  const timens = image.timens
    .filter((n) => used.has(n.id))
    .map((n) => {
      // "parent": the namespace of the parent process of the first process in it, when that differs (informational).
      const first = running.find((t) => !t.thread && t.ns!.time === n.id);
      const parentT = first ? procT.get(first.ppid) : undefined;
      return { id: n.id, parent: parentT !== undefined && parentT !== n.id ? parentT : null, monotonic: n.monotonic, boottime: n.boottime, offsets: n.offsets };
    });
  for (const n of image.timens) if (!used.has(n.id)) skipped.push(`time:[${n.id}] has no running task: nothing re-creates it`);
  const tasks = running.map((t) => ({ pid: t.tgid, tid: t.tid, ppid: procT.has(t.ppid) ? t.ppid : 0, timens: t.ns!.time }));
  return { desc: { timens, tasks }, skipped };
}

function restoreWithPlan(image: CheckpointImage, opts: RestoreOptions): RestoreResult {
  const { policy, realtime, elapsed, restorer } = restoreSetup(image, opts);
  const { desc, skipped } = imageToDescription(image);
  const initUser = image.namespaces.find((n) => n.type === 'user' && n.initial)?.id;
  for (const t of image.tasks)
    if (t.cred.userns !== initUser)
      return { ok: false, errno: 'EINVAL', error: `task ${t.tid} is in a non-initial user namespace: tns restores trees in the initial user namespace only`, namespaces: [] };
  let plan: RestorePlan;
  try {
    plan = planRestore(desc, { host: { ...opts.host, realtime }, policy, elapsed, restorerPid: restorer });
  } catch (e) {
    if (e instanceof PlanInputError) return { ok: false, errno: 'EINVAL', error: e.message, namespaces: [] };
    throw e;
  }
  const namespaces: NamespacePlan[] = plan.namespaces.map((n) => ({
    id: Number(n.id),
    newId: null,
    offsets: n.offsets,
    inherited: { monotonic: n.clocks.monotonic.inherited, boottime: n.clocks.boottime.inherited },
    checkpointed: { monotonic: n.clocks.monotonic.checkpointed, boottime: n.clocks.boottime.checkpointed },
    why: { monotonic: n.clocks.monotonic.formula, boottime: n.clocks.boottime.formula },
    pending: false,
    createdBy: { how: 'unshare', tid: n.creator },
  }));
  if (!plan.ok) return { ok: false, errno: 'ERANGE', error: plan.errors.map((e) => `time:[${e.ns}] ${e.reason}`).join('; '), namespaces };

  const options: WorldOptions = genesisOptions(opts.profile ?? image.profile, { monotonic: opts.host.monotonic, boottime: opts.host.boottime, realtime });
  const world = createWorld(options);
  const events: RestoreEvent[] = [];
  const apply1 = (op: Op, purpose: string, expect?: { ret?: number; text?: string; ts?: Timespec }) => {
    const outcome = apply(world, op);
    events.push({ op, outcome, purpose });
    if (outcome.errno) throw new RestoreError(`restore step "${purpose}" (${op.call}) failed: ${outcome.rule ?? outcome.errno}`);
    if (expect?.ret !== undefined && outcome.ret !== expect.ret) throw new RestoreError(`restore step "${purpose}": the plan expected ${expect.ret}, the model returned ${outcome.ret}`);
    if (expect?.text !== undefined && outcome.text !== expect.text)
      throw new RestoreError(`restore step "${purpose}": the plan expected ${JSON.stringify(expect.text)}, the model read ${JSON.stringify(outcome.text)}`);
    if (expect?.ts !== undefined && (!outcome.ts || toNs(outcome.ts) !== toNs(expect.ts)))
      throw new RestoreError(`restore step "${purpose}": the plan expected ${fmt(expect.ts)}, the model read ${outcome.ts ? fmt(outcome.ts) : 'nothing'}`);
    return outcome;
  };
  try {
    apply1({ call: 'host.spawn', pid: restorer }, `the restorer (criu restore, pid ${restorer}) runs on the new host, in the host's time namespace`);
    for (const step of plan.steps) apply1(step.op, step.why, step.expect);
    // Credentials last: a task that gave up root could no longer setns.
    for (const t of image.tasks)
      if (world.tasks[t.tid] && (t.cred.uid !== 0 || t.cred.euid !== 0 || t.cred.suid !== 0))
        apply1({ call: 'setresuid', tid: t.tid, ruid: t.cred.uid, euid: t.cred.euid, suid: t.cred.suid }, `task ${t.tid} takes its credentials back (uid ${t.cred.uid})`);
  } catch (e) {
    if (e instanceof RestoreError) return { ok: false, errno: 'EINVAL', error: e.message, namespaces };
    throw e;
  }
  const bad = checkInvariants(world);
  if (bad.length) throw new RestoreError(`the model broke its invariants during the restore: ${bad.join('; ')}`);
  for (const n of namespaces) {
    const creator = world.tasks[(n.createdBy as { tid: number }).tid];
    n.newId = creator?.nsproxy != null ? world.nsproxies[creator.nsproxy].time : null;
  }

  // The proof: restore-plan's verdict over the readings every restored task takes at the restore instant.
  const readings = desc.tasks.map((t) => {
    const live = world.tasks[t.tid];
    const m = readClock(world, live, 1);
    const b = readClock(world, live, 7);
    if (!m.ok || !b.ok) throw new RestoreError(`task ${t.tid} cannot read its clocks`);
    return { tid: t.tid, monotonic: m.ts, boottime: b.ts, host: { monotonic: world.host.monotonic, boottime: world.host.boottime } };
  });
  const verdict = verifyRestore(desc, plan, readings);
  const proof: ProofLine[] = [];
  for (const tv of verdict.tasks)
    for (const clock of ['monotonic', 'boottime'] as const) {
      const checks = tv.checks.filter((c) => c.clock === clock);
      const r = readings.find((x) => x.tid === tv.tid)![clock];
      const D = checks[0].checkpointed;
      const ok = checks.every((c) => c.ok);
      const rel = toNs(r) === toNs(D) ? '=' : toNs(r) > toNs(D) ? '>' : '<, went BACKWARDS';
      proof.push({
        tid: tv.tid,
        clock,
        checkpointed: D,
        restored: r,
        ok,
        detail: `task ${tv.tid} ${clock}: checkpointed ${fmt(D)}, restored ${fmt(r)} (${rel})${ok ? '' : `: ${checks.filter((c) => !c.ok).map((c) => c.why).join('; ')}`}`,
      });
    }
  if (verdict.missing.length) proof.push(...verdict.missing.map((tid) => ({ tid, clock: 'monotonic' as const, checkpointed: { sec: 0, nsec: 0 }, restored: { sec: 0, nsec: 0 }, ok: false, detail: `task ${tid} was not restored` })));
  const taskList = image.tasks.map((t) => {
    const live = world.tasks[t.tid];
    const nsp = live?.nsproxy != null ? world.nsproxies[live.nsproxy] : null;
    return { tid: t.tid, time: nsp?.time ?? null, time_for_children: nsp?.time_for_children ?? null };
  });
  return { ok: true, policy, options, world, events, namespaces, proof, restorer, tasks: taskList, plan, verdict, notes: [...plan.beyondCriu, ...plan.notes, ...skipped] };
}
