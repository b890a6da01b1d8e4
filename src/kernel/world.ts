/** Creating a world, allocating identities, looking things up. */
import { CAPS, type Cap, type Cred, type HostClocks, type Namespace, type NsType, type Task, type World } from './types.js';
import { PROFILES, resolveProfile, type Profile } from './profiles.js';

/** Misuse of the model (an op names a task or fd the world does not have, a binding conflict): not a kernel answer. */
export class ModelError extends Error {
  override name = 'ModelError';
}

/** PROC_DYNAMIC_FIRST: dynamic proc inode numbers start here. */
export const PROC_DYNAMIC_FIRST = 0xf0000000;

/** The static inode numbers of the initial namespaces (include/linux/proc_ns.h), and what the machine showed for the dynamic ones. */
export const INIT_INUMS: Record<NsType, number> = {
  ipc: 0xefffffff,
  uts: 0xeffffffe,
  user: 0xeffffffd,
  pid: 0xeffffffc,
  cgroup: 0xeffffffb,
  time: 0xeffffffa,
  net: 0xf0000000,
  mnt: 0xf0000001,
};

/** init_user_ns's default max_time_namespaces: max_threads / 2 (96364 seen on this machine kind). */
export const DEFAULT_MAX_TIME_NAMESPACES = 96364;
/** A new user namespace's ucount_max: INT_MAX. */
export const INT_MAX = 2147483647;

export interface WorldOptions {
  profile?: string;
  host?: HostClocks;
  /** The pid of the first task (default 1). */
  firstPid?: number;
  /** Its uid (default 0, root with every capability). */
  uid?: number;
  /** Where dynamic inode numbers start (default just above the initial mnt namespace). */
  inumBase?: number;
  maxTimeNamespaces?: number;
  /** TAI − UTC in seconds (default 37). */
  taiOffset?: number;
  /** Whether the host has an RTC, so the alarm clocks work (default false, as on this machine kind). */
  alarmClocks?: boolean;
  /** The capability set of root on this host (default: all); e.g. capsFromMask(CapEff of /proc/self/status). */
  rootCaps?: Cap[];
}

/** Capability numbers (include/uapi/linux/capability.h) of the capabilities the model uses. */
export const CAP_NUMBERS: Record<Cap, number> = {
  CAP_DAC_OVERRIDE: 1,
  CAP_SETUID: 7,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_WAKE_ALARM: 35,
  CAP_SETGID: 6,
  CAP_SETFCAP: 31,
};

/** The model's capabilities present in a CapEff-style mask (hex string like "000001fffeffffff", or a bigint). */
export function capsFromMask(mask: string | bigint): Cap[] {
  const m = typeof mask === 'bigint' ? mask : BigInt(`0x${mask.replace(/^0x/, '')}`);
  return CAPS.filter((c) => (m >> BigInt(CAP_NUMBERS[c])) & 1n);
}

export const ALL_CAPS: Cap[] = [...CAPS];

/** The last profile looked up, by name (worlds of one run share their profile; the name is compared, not looked up). */
let lastProfileName: string | undefined;
let lastProfile: Profile | undefined;

export function profileOf(world: World): Profile {
  const name = world.profile;
  if (name === lastProfileName && lastProfile !== undefined) return lastProfile;
  const p = PROFILES[name] ?? resolveProfile(name);
  lastProfileName = name;
  lastProfile = p;
  return p;
}

export function rootCred(userns: number, caps: Cap[] = ALL_CAPS): Cred {
  return { uid: 0, euid: 0, suid: 0, userns, caps: [...caps], permitted: [...caps], dumpable: true };
}

export function userCred(userns: number, uid: number): Cred {
  return { uid, euid: uid, suid: uid, userns, caps: [], permitted: [], dumpable: true };
}

export function createWorld(opts: WorldOptions = {}): World {
  const profile = resolveProfile(opts.profile ?? '6.3+');
  const host: HostClocks = opts.host
    ? { realtime: { ...opts.host.realtime }, monotonic: { ...opts.host.monotonic }, boottime: { ...opts.host.boottime } }
    : { realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: { sec: 1000, nsec: 0 }, boottime: { sec: 1000, nsec: 0 } };
  const firstPid = opts.firstPid ?? 1;
  const uid = opts.uid ?? 0;
  const init = { ...INIT_INUMS };
  const namespaces: Record<number, Namespace> = {};
  for (const type of Object.keys(init) as NsType[]) {
    const ns: Namespace = { inum: init[type], type, count: 1, owner: type === 'user' ? null : init.user, initial: true };
    if (type === 'time') {
      ns.offsets = { monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } };
      ns.frozen = true;
      ns.ucounts = null;
    }
    if (type === 'user') {
      ns.parent = null;
      ns.level = 0;
      ns.ownerUid = 0;
      ns.maxTimeNamespaces = opts.maxTimeNamespaces ?? DEFAULT_MAX_TIME_NAMESPACES;
    }
    if (type === 'pid') {
      ns.parent = null;
      ns.level = 0;
    }
    namespaces[ns.inum] = ns;
  }
  for (const k in namespaces) {
    const owner = namespaces[k].owner;
    if (owner !== null) namespaces[owner].count++;
  }
  const rootCaps = [...(opts.rootCaps ?? ALL_CAPS)].sort();
  const cred: Cred = uid === 0 ? rootCred(init.user, rootCaps) : userCred(init.user, uid);
  const world: World = {
    profile: profile.name,
    host,
    taiOffset: opts.taiOffset ?? 37,
    alarmClocks: opts.alarmClocks ?? false,
    rootCaps,
    tasks: {},
    nsproxies: {},
    namespaces,
    files: {},
    fdtables: {},
    mms: {},
    ucounts: {},
    init,
    initNsproxy: 1,
    reaper: 0,
    groups: {},
    children: {},
    inumNext: opts.inumBase ?? init.mnt + 1,
    inumFree: [],
    nextIds: { nsproxy: 2, file: 1, fdtable: 2, mm: 2, pid: firstPid + 1 },
    freeIds: { nsproxy: [], file: [], fdtable: [], mm: [] },
  };
  // init_nsproxy: one permanent reference plus the first task's.
  world.nsproxies[1] = {
    id: 1,
    count: 1,
    uts: init.uts,
    ipc: init.ipc,
    mnt: init.mnt,
    pid_for_children: init.pid,
    net: init.net,
    cgroup: init.cgroup,
    time: init.time,
    time_for_children: init.time,
  };
  for (const slot of ['uts', 'ipc', 'mnt', 'pid_for_children', 'net', 'cgroup', 'time', 'time_for_children'] as const) {
    namespaces[world.nsproxies[1][slot]].count++;
  }
  spawnTask(world, firstPid, 0, cred);
  return world;
}

/** A task that exists outside the model's history (the first task, or one a trace shows without its creation). */
export function spawnTask(world: World, pid: number, ppid: number, cred: Cred): Task {
  if (world.tasks[pid]) throw new ModelError(`task ${pid} already exists`);
  const nsp = world.nsproxies[world.initNsproxy];
  nsp.count++;
  const mm = newId(world, 'mm');
  world.mms[mm] = { id: mm, users: 1 };
  const files = newId(world, 'fdtable');
  world.fdtables[files] = { id: files, count: 1, fds: {} };
  // stdin, stdout and stderr are open, so the first file a task opens is fd 3 as on a real system.
  for (let fd = 0; fd < 3; fd++) {
    const id = newId(world, 'file');
    world.files[id] = { id, count: 1, kind: 'other', path: fd === 0 ? '/dev/stdin' : fd === 1 ? '/dev/stdout' : '/dev/stderr', mode: fd === 0 ? 'r' : 'w' };
    world.fdtables[files].fds[fd] = { file: id, cloexec: false };
  }
  const task: Task = {
    tid: pid,
    tgid: pid,
    ppid,
    // find_alive_thread of the parent process (its leader when it runs, or when the parent is outside the model)
    realParent: (world.groups[ppid] ?? []).find((x) => world.tasks[x].state === 'running') ?? ppid,
    state: 'running',
    nsproxy: nsp.id,
    pidns: world.init.pid,
    cred: { ...cred, caps: [...cred.caps], permitted: [...cred.permitted] },
    mm,
    files,
    vforkDoneFor: null,
    exitCode: null,
    exitSignal: 17,
  };
  addTask(world, task);
  world.namespaces[world.init.pid].count++;
  world.namespaces[cred.userns].count++;
  if (pid >= world.nextIds.pid) world.nextIds.pid = pid + 1;
  return task;
}

/** The kinds of the model's own objects, and the table each one lives in. */
export const OBJECT_TABLES = { nsproxy: 'nsproxies', file: 'files', fdtable: 'fdtables', mm: 'mms' } as const;
export type ObjectKind = keyof typeof OBJECT_TABLES;

/** The first id of each kind createWorld hands out (nsproxy 1 is init_nsproxy). */
export const FIRST_IDS: Record<ObjectKind, number> = { nsproxy: 1, file: 1, fdtable: 2, mm: 2 };

/**
 * An id for a new object (kmem_cache_alloc): the lowest freed one, else the next never used. Reusing ids keeps the
 * tables small and dense, as freed memory is reused.
 */
export function newId(world: World, kind: ObjectKind): number {
  const free = world.freeIds[kind];
  return free.length > 0 ? free.shift()! : world.nextIds[kind]++;
}

/** kmem_cache_free: the object's id may be reused. Freeing the last id handed out steps the counter back instead. */
export function freeId(world: World, kind: ObjectKind, id: number): void {
  const free = world.freeIds[kind];
  if (id === world.nextIds[kind] - 1) {
    let next = id;
    while (free.length > 0 && free[free.length - 1] === next - 1) next = free.pop()!;
    world.nextIds[kind] = next;
    return;
  }
  insertSorted(free, id);
}

/** Insert x into a sorted list, keeping it sorted (freed ids are few: a shift from the end is cheaper than splice). */
function insertSorted(list: number[], x: number): void {
  let i = list.length;
  list.push(x);
  while (i > 0 && list[i - 1] > x) {
    list[i] = list[i - 1];
    i--;
  }
  list[i] = x;
}

/**
 * What freeIds and nextIds must be for the objects the tables hold: every id below the highest live one that is not
 * live is free, and the counter is just past the highest live id (or at the first id when none is live). Used by
 * checkInvariants, and to complete a world written before freeIds existed (an older snapshot).
 */
export function derivedIds(world: World): { freeIds: World['freeIds']; nextIds: Omit<World['nextIds'], 'pid'> } {
  const freeIds = { nsproxy: [], file: [], fdtable: [], mm: [] } as World['freeIds'];
  const nextIds = { ...FIRST_IDS };
  for (const kind of Object.keys(OBJECT_TABLES) as ObjectKind[]) {
    const table = world[OBJECT_TABLES[kind]] as Record<number, unknown>;
    let top = FIRST_IDS[kind] - 1;
    for (const k in table) if (Number(k) > top) top = Number(k);
    for (let id = FIRST_IDS[kind]; id < top; id++) if (!(id in table)) freeIds[kind].push(id);
    nextIds[kind] = top + 1;
  }
  return { freeIds, nextIds };
}

/**
 * A world as this model keeps it: one written before freeIds existed (an older snapshot) gets them derived from
 * its tables, in a copy (the given world may be frozen). Other worlds are returned as they are.
 */
export function upgradeWorld(world: World): World {
  if ((world as Partial<World>).freeIds !== undefined) return world;
  const { freeIds, nextIds } = derivedIds(world);
  return { ...world, freeIds, nextIds: { ...nextIds, pid: world.nextIds.pid } };
}

/** A pid for a new task: the one the kernel gave (from a trace), or the next free one. */
export function allocPid(world: World, wanted?: number): number {
  if (wanted !== undefined) {
    if (world.tasks[wanted]) throw new ModelError(`the trace gives pid ${wanted} to a new task, but the model still has task ${wanted}`);
    if (wanted >= world.nextIds.pid) world.nextIds.pid = wanted + 1;
    return wanted;
  }
  while (world.tasks[world.nextIds.pid]) world.nextIds.pid++;
  return world.nextIds.pid++;
}

/** proc_alloc_inum: the lowest free dynamic inode number. */
export function allocInum(world: World): number {
  if (world.inumFree.length > 0) return world.inumFree.shift()!;
  while (world.namespaces[world.inumNext]) world.inumNext++;
  return world.inumNext++;
}

export function freeInum(world: World, inum: number): void {
  if (inum < PROC_DYNAMIC_FIRST) return;
  insertSorted(world.inumFree, inum);
}

/**
 * String(n), remembered: inode numbers are above V8's small-integer range, and turning such a number into text
 * costs ~200 ns each time (a Map lookup ~20 ns). Bounded: cleared when it grows past 4096 numbers.
 */
const numberTexts = new Map<number, string>();
export function numberText(n: number): string {
  let s = numberTexts.get(n);
  if (s === undefined) {
    if (numberTexts.size >= 4096) numberTexts.clear();
    s = String(n);
    numberTexts.set(n, s);
  }
  return s;
}

export function task(world: World, tid: number): Task {
  const t = world.tasks[tid];
  if (!t) throw new ModelError(`no task ${tid} in the model`);
  return t;
}


function without(list: number[] | undefined, x: number): void {
  if (!list) return;
  const i = list.indexOf(x);
  if (i >= 0) list.splice(i, 1);
}

/** Put a task in the table and the indexes (a new process also becomes its parent's child). */
export function addTask(world: World, t: Task): void {
  world.tasks[t.tid] = t;
  (world.groups[t.tgid] ??= []).push(t.tid);
  if (t.tid === t.tgid) (world.children[t.ppid] ??= []).push(t.tgid);
}

/** Take a task out of the table; when its thread group is gone, the process leaves its parent's children. */
export function removeTask(world: World, tid: number): void {
  const t = world.tasks[tid];
  delete world.tasks[tid];
  const group = world.groups[t.tgid];
  without(group, tid);
  if (group && group.length === 0) {
    delete world.groups[t.tgid];
    without(world.children[t.ppid], t.tgid);
    if (world.children[t.ppid]?.length === 0) delete world.children[t.ppid];
  }
}

/** de_thread: the exec'ing thread takes over the leader's pid (the leader was removed already). */
export function renameTask(world: World, from: number, to: number): void {
  const t = world.tasks[from];
  delete world.tasks[from];
  t.tid = to;
  world.tasks[to] = t;
  const group = world.groups[t.tgid];
  without(group, from);
  group.push(to);
  const children = world.children[t.tgid];
  if (children !== undefined) for (const c of children) for (const tid of world.groups[c] ?? []) if (world.tasks[tid].realParent === from) world.tasks[tid].realParent = to;
}

/**
 * forget_original_parent while the process lives on: the children of thread `tid` (leaving: released, or a leader
 * becoming a zombie) go to `heir`, by default find_alive_thread — the first running thread of the group in thread-list
 * order — at the tail of its children list (list_splice_tail_init), in their order. No live thread: nothing moves
 * (the process is done, and its children go to the reaper).
 */
export function adoptWithinGroup(world: World, tid: number, heir?: number): void {
  const t = world.tasks[tid];
  const children = world.children[t.tgid];
  if (children === undefined) return;
  const group = world.groups[t.tgid] ?? [];
  const to = heir ?? group.find((x) => x !== tid && world.tasks[x].state === 'running');
  if (to === undefined) return;
  const moved: number[] = [];
  for (const c of children) {
    const ct = world.tasks[c];
    if (ct !== undefined && (ct.realParent ?? t.tgid) === tid) moved.push(c);
  }
  if (moved.length === 0) return;
  for (const c of moved) {
    without(children, c);
    for (const x of world.groups[c] ?? [c]) world.tasks[x].realParent = to;
  }
  children.push(...moved);
}

/** Hand process `tgid` (every thread of it) to a new parent (its thread `realParent`, by default its leader). */
export function reparent(world: World, tgid: number, ppid: number, realParent = ppid): void {
  const old = world.tasks[tgid]?.ppid ?? world.tasks[(world.groups[tgid] ?? [])[0]]?.ppid;
  for (const tid of world.groups[tgid] ?? []) {
    world.tasks[tid].ppid = ppid;
    world.tasks[tid].realParent = realParent;
  }
  if (old !== undefined) {
    without(world.children[old], tgid);
    if (world.children[old]?.length === 0) delete world.children[old];
  }
  (world.children[ppid] ??= []).push(tgid);
}

/**
 * thread_group_empty(): the caller is the group leader and the only task on the thread list. A non-leader is never
 * alone (its leader stays on the list, as a zombie too, until the whole group is gone; seen live: unshare(CLONE_NEWUSER)
 * by the last live thread of a group whose leader exited is EINVAL).
 */
export function threadGroupEmpty(world: World, t: Task): boolean {
  if (t.tid !== t.tgid) return false;
  return (world.groups[t.tgid] ?? []).every((tid) => tid === t.tid);
}

/** current_is_single_threaded(): signal->live == 1 (no other live thread), and no other process shares the mm. */
export function isSingleThreaded(world: World, t: Task): boolean {
  for (const tid of world.groups[t.tgid] ?? []) if (tid !== t.tid && world.tasks[tid].state === 'running') return false;
  if (t.mm === null) return true;
  return world.mms[t.mm].users <= 1;
}

