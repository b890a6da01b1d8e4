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
import { apply, checkInvariants, CLONE, createWorld, readClock, type Op, type Outcome, type Timespec, type World, type WorldOptions } from '../kernel/index.js';
import type { CheckpointImage, ImageTask, ImageTimens } from './checkpoint.js';

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
  why: { monotonic: string; boottime: string };
  /** Left unfrozen (a pending time_for_children). */
  pending: boolean;
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
      /** The map image pid → restored pid (pids are kept: identity). */
      tasks: { tid: number; time: number | null; time_for_children: number | null }[];
    }
  | { ok: false; errno: 'ERANGE' | 'EINVAL'; error: string; namespaces: NamespacePlan[] };

export class RestoreError extends Error {
  override name = 'RestoreError';
}

const NSEC = 1_000_000_000n;
const KTIME_SEC_MAX = 9_223_372_036n;
const toNs = (t: Timespec) => BigInt(t.sec) * NSEC + BigInt(t.nsec);
function fromNs(ns: bigint): Timespec {
  let sec = ns / NSEC;
  let nsec = ns % NSEC;
  if (nsec < 0n) {
    nsec += NSEC;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}
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
      error: `${nsName} ${clock}: host ${fmt(hostNow)} + offset ${fmt(fromNs(O))} = ${after} s is outside [0, ${KTIME_SEC_MAX / 2n}] (ERANGE, the kernel refuses the write); ${why}`,
    };
  return { value: fromNs(O), why };
}

/** Plan and run the restore of `image` on a new host. Never throws for a kernel answer: ERANGE comes back as {ok:false}. */
export function restoreImage(image: CheckpointImage, opts: RestoreOptions): RestoreResult {
  const policy = opts.policy ?? 'freeze';
  const realtime = opts.host.realtime ?? (opts.elapsed ? fromNs(toNs(image.host.realtime) + toNs(opts.elapsed)) : image.host.realtime);
  const elapsed = opts.elapsed ?? (toNs(realtime) >= toNs(image.host.realtime) ? fromNs(toNs(realtime) - toNs(image.host.realtime)) : { sec: 0, nsec: 0 });
  const tids = new Set(image.tasks.map((t) => t.tid));
  let restorer = opts.restorerPid ?? 1;
  if (opts.restorerPid === undefined) while (tids.has(restorer)) restorer++;
  else if (tids.has(restorer)) throw new RestoreError(`restorer pid ${restorer} is a pid of the image`);
  const options: WorldOptions = {
    profile: opts.profile ?? image.profile,
    host: { monotonic: { ...opts.host.monotonic }, boottime: { ...opts.host.boottime }, realtime: { ...realtime } },
    firstPid: restorer,
  };
  const world = createWorld(options);

  // 1. The plan: offsets of every time namespace the tree uses, checked before anything is written.
  const zero = { sec: 0, nsec: 0 };
  const plans: NamespacePlan[] = [];
  for (const n of image.timens) {
    const name = `time:[${n.id}]`;
    const pending = n.tasks.length === 0;
    const mono = offsetFor('monotonic', n.monotonic, world.host.monotonic, zero, policy, elapsed, name);
    const boot = offsetFor('boottime', n.boottime, world.host.boottime, zero, policy, elapsed, name);
    const plan: NamespacePlan = {
      id: n.id,
      newId: null,
      offsets: { monotonic: 'value' in mono ? mono.value : zero, boottime: 'value' in boot ? boot.value : zero },
      checkpointed: { monotonic: n.monotonic, boottime: n.boottime },
      why: { monotonic: 'why' in mono ? mono.why : mono.error, boottime: 'why' in boot ? boot.why : boot.error },
      pending,
    };
    plans.push(plan);
    if ('error' in mono) return { ok: false, errno: 'ERANGE', error: mono.error, namespaces: plans };
    if ('error' in boot) return { ok: false, errno: 'ERANGE', error: boot.error, namespaces: plans };
  }
  for (const t of image.tasks)
    if (t.cred.userns !== image.namespaces.find((n) => n.type === 'user' && n.initial)?.id)
      return { ok: false, errno: 'EINVAL', error: `task ${t.tid} is in a non-initial user namespace: tns restores trees in the initial user namespace only`, namespaces: plans };

  // 2. Run it.
  const events: RestoreEvent[] = [];
  const run = (op: Op, purpose: string): Outcome => {
    const outcome = apply(world, op);
    events.push({ op, outcome, purpose });
    if (outcome.errno) throw new RestoreError(`restore step "${purpose}" (${op.call}) failed: ${outcome.rule ?? outcome.errno}`);
    return outcome;
  };
  const nsFd = new Map<number, number>(); // image time ns id → restorer's nsfs fd pinning its new namespace
  const active = plans.filter((p) => !p.pending);
  let nextHelper = restorer + 1;
  const freePid = () => {
    while (tids.has(nextHelper) || world.tasks[nextHelper]) nextHelper++;
    return nextHelper++;
  };
  for (const p of active) {
    // A helper child of the restorer creates the namespace; the restorer writes its offsets (numeric clock ids) and
    // keeps it alive with an nsfs fd of /proc/HELPER/ns/time_for_children; the helper then exits.
    const helper = run({ call: 'fork', tid: restorer, child: freePid() }, `fork a helper for time:[${p.id}]`).ret;
    run({ call: 'unshare', tid: helper, flags: CLONE.NEWTIME }, `helper unshares a new time namespace for time:[${p.id}]`);
    const ofd = run({ call: 'open', tid: restorer, path: `/proc/${helper}/timens_offsets`, mode: 'rw' }, `open the helper's timens_offsets`).ret;
    const read = run({ call: 'read', tid: restorer, fd: ofd, count: 4096 }, 'read the inherited offsets P');
    const P = parseShown(read.text ?? '');
    if (toNs(P.monotonic) !== 0n || toNs(P.boottime) !== 0n)
      throw new RestoreError(`the helper inherited non-zero offsets ${JSON.stringify(P)}: the plan assumed the host's`);
    run({ call: 'lseek', tid: restorer, fd: ofd, offset: 0, whence: 'SET' }, 'rewind the offsets file (a write needs position 0)');
    const data = `1 ${p.offsets.monotonic.sec} ${p.offsets.monotonic.nsec}\n7 ${p.offsets.boottime.sec} ${p.offsets.boottime.nsec}\n`;
    run({ call: 'write', tid: restorer, fd: ofd, data }, `write the offsets of time:[${p.id}]`);
    run({ call: 'close', tid: restorer, fd: ofd }, 'close the offsets file');
    const nfd = run({ call: 'open', tid: restorer, path: `/proc/${helper}/ns/time_for_children`, mode: 'r' }, `pin the new namespace for time:[${p.id}]`).ret;
    nsFd.set(p.id, nfd);
    p.newId = world.nsproxies[world.tasks[helper].nsproxy!].time_for_children;
    run({ call: 'exit_group', tid: helper, code: 0 }, 'the helper exits');
    run({ call: 'wait', tid: restorer, target: helper }, 'reap the helper');
  }

  // 3. The tree, parents first; each process enters its time namespace by setns, forks its children, drops the
  // restorer's fds it inherited, and only then re-creates a pending time_for_children; threads come last.
  const procs = image.tasks.filter((t) => !t.thread);
  const threads = image.tasks.filter((t) => t.thread);
  const childrenOf = (pid: number) => procs.filter((t) => t.ppid === pid && t.tid !== pid);
  const root = procs.find((t) => t.tid === image.root);
  if (!root) throw new RestoreError(`the image root ${image.root} is not a process of the image`);
  const restoreProc = (t: ImageTask, parent: number) => {
    run({ call: 'fork', tid: parent, child: t.tid }, `fork task ${t.tid}`);
    if (t.ns) {
      const fd = nsFd.get(t.ns.time);
      if (fd === undefined) throw new RestoreError(`no restored namespace for time:[${t.ns.time}] of task ${t.tid}`);
      run({ call: 'setns', tid: t.tid, fd, nstype: CLONE.NEWTIME }, `task ${t.tid} enters the namespace that continues time:[${t.ns.time}]`);
    }
    for (const c of childrenOf(t.tid)) restoreProc(c, t.tid);
    for (const fd of [...nsFd.values()]) run({ call: 'close', tid: t.tid, fd }, `task ${t.tid} closes the restorer's namespace fd`);
    if (t.ns && t.ns.time_for_children !== t.ns.time) restorePending(t, t.ns.time_for_children);
    if (t.cred.uid !== 0 || t.cred.euid !== 0 || t.cred.suid !== 0)
      run({ call: 'setresuid', tid: t.tid, ruid: t.cred.uid, euid: t.cred.euid, suid: t.cred.suid }, `task ${t.tid} takes its credentials`);
    if (t.state === 'zombie') run({ call: 'exit_group', tid: t.tid, code: 0 }, `task ${t.tid} was a zombie`);
  };
  const restorePending = (t: ImageTask, id: number) => {
    const p = plans.find((x) => x.id === id)!;
    run({ call: 'unshare', tid: t.tid, flags: CLONE.NEWTIME }, `task ${t.tid} re-creates its pending time_for_children time:[${id}]`);
    const fd = run({ call: 'open', tid: t.tid, path: '/proc/self/timens_offsets', mode: 'w' }, 'open its timens_offsets').ret;
    const data = `1 ${p.offsets.monotonic.sec} ${p.offsets.monotonic.nsec}\n7 ${p.offsets.boottime.sec} ${p.offsets.boottime.nsec}\n`;
    run({ call: 'write', tid: t.tid, fd, data }, `write the offsets of the pending time:[${id}] (left unfrozen)`);
    run({ call: 'close', tid: t.tid, fd }, 'close the offsets file');
    p.newId = world.nsproxies[world.tasks[t.tid].nsproxy!].time_for_children;
    if (image.timens.find((n) => n.id === id)?.frozen) {
      // It was frozen (a child had entered it): a short-lived child freezes the new one the same way.
      const c = run({ call: 'fork', tid: t.tid, child: freePid() }, `a short-lived child of ${t.tid} freezes time:[${id}] as the checkpointed one was`).ret;
      run({ call: 'exit_group', tid: c, code: 0 }, 'the short-lived child exits');
      run({ call: 'wait', tid: t.tid, target: c }, 'reap it');
    }
  };
  try {
    restoreProc(root, restorer);
    for (const t of threads) {
      const THREAD = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM;
      run({ call: 'clone', tid: t.tgid, flags: THREAD, child: t.tid }, `thread ${t.tid} of ${t.tgid}`);
      const leader = image.tasks.find((x) => x.tid === t.tgid);
      if (t.ns && leader?.ns && t.ns.time !== leader.ns.time) throw new RestoreError(`thread ${t.tid} is in another time namespace than its leader: no restorer can recreate that`);
      if (t.ns && t.ns.time_for_children !== t.ns.time && t.ns.time_for_children !== leader?.ns?.time_for_children) restorePending(t, t.ns.time_for_children);
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
  return { ok: true, policy, options, world, events, namespaces: plans, proof, restorer, tasks: taskList };
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
