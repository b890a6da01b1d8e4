/**
 * The kernel objects tns models, named as the kernel names them.
 *
 * Everything here is plain data (records keyed by id, arrays, numbers, strings) so that a
 * World can be an immer draft, frozen, serialised to JSON and diffed. No Maps, no classes.
 */

/** A struct timespec: signed seconds, nanoseconds in [0, 1e9). */
export interface Timespec {
  sec: number;
  nsec: number;
}

/** struct timens_offsets. */
export interface TimensOffsets {
  monotonic: Timespec;
  boottime: Timespec;
}

export const NS_TYPES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NsType = (typeof NS_TYPES)[number];

/** The nsproxy slots, named as the /proc/PID/ns/ links that show them. */
export const NSPROXY_SLOTS = [
  'uts',
  'ipc',
  'mnt',
  'pid_for_children',
  'net',
  'cgroup',
  'time',
  'time_for_children',
] as const;
export type NsproxySlot = (typeof NSPROXY_SLOTS)[number];

/** Which namespace type each /proc/PID/ns/<name> link shows. */
export const NS_LINKS: Record<string, NsType> = {
  uts: 'uts',
  ipc: 'ipc',
  mnt: 'mnt',
  pid: 'pid',
  pid_for_children: 'pid',
  net: 'net',
  cgroup: 'cgroup',
  time: 'time',
  time_for_children: 'time',
  user: 'user',
};

/**
 * A namespace of any type, identified by its proc inode number (ns_common.inum).
 * `count` is ns_common.count: the number of holders (see holders() in refs.ts).
 */
export interface Namespace {
  inum: number;
  type: NsType;
  count: number;
  /** The owning user namespace (ns->user_ns); null only for the initial user namespace. */
  owner: number | null;
  /** True for the namespaces that exist at boot (init_time_ns, init_user_ns, ...): never freed. */
  initial: boolean;
  /** time: the ucounts charge (owner user namespace, creator euid) taken at creation. */
  ucounts?: { userns: number; uid: number } | null;
  /** time: offsets and the frozen flag (timens_commit sets it once, forever). */
  offsets?: TimensOffsets;
  frozen?: boolean;
  /** user and pid: the parent namespace of the same type and the nesting level (init: 0). */
  parent?: number | null;
  level?: number;
  /** user: the creator's euid (ns->owner), and its ucounts limit for time namespaces. */
  ownerUid?: number;
  maxTimeNamespaces?: number;
  /**
   * user: the uid_map as written (each extent maps [first, first+count) of this namespace to global kuids from
   * `lower`); null until written — a fresh user namespace maps nothing, its ids show as the overflow id. The initial
   * namespace maps every id to itself (undefined).
   */
  uidMap?: IdExtent[] | null;
  /** user: whether a gid_map was written (gids are otherwise not modelled), and whether setgroups was denied. */
  gidMapped?: boolean;
  setgroupsDenied?: boolean;
  /** user: whether the creator had CAP_SETFCAP in the parent (verify_root_map lets it map the parent's root). */
  parentCouldSetfcap?: boolean;
}

/** One extent of a uid_map, with `lower` already translated to the global (kernel) uid. */
export interface IdExtent {
  first: number;
  lower: number;
  count: number;
}

/** struct nsproxy: shared by every task that points at it. Values are namespace inums. */
export interface Nsproxy {
  id: number;
  count: number;
  uts: number;
  ipc: number;
  mnt: number;
  pid_for_children: number;
  net: number;
  cgroup: number;
  time: number;
  time_for_children: number;
}

/** The capabilities the model's checks use (a task with "all" has every one of them). */
export const CAPS = [
  'CAP_DAC_OVERRIDE',
  'CAP_SETUID',
  'CAP_SYS_ADMIN',
  'CAP_SYS_PTRACE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_WAKE_ALARM',
  'CAP_SETGID',
  'CAP_SETFCAP',
] as const;
export type Cap = (typeof CAPS)[number];

/** The parts of struct cred the model needs. */
export interface Cred {
  /** Real, effective and saved uid, as global kuids. */
  uid: number;
  euid: number;
  suid: number;
  /** cred->user_ns (an inum). */
  userns: number;
  /** Effective capabilities, sorted. */
  caps: Cap[];
  /** Permitted capabilities, sorted (setresuid away from root clears them; capset cannot exceed them). */
  permitted: Cap[];
  /** PR_SET_DUMPABLE state, affects ptrace access; true unless set otherwise. */
  dumpable: boolean;
}

/** An open file description (struct file). Shared by fds across dup/fork until the last close. */
export type OpenFile =
  | { id: number; count: number; kind: 'nsfs'; ns: number; nsType: NsType; mode: AccessMode }
  | { id: number; count: number; kind: 'pidfd'; pid: number; mode: AccessMode }
  | {
      id: number;
      count: number;
      kind: 'timens_offsets';
      /** The tgid whose file this is (/proc/<tgid>/timens_offsets). */
      pid: number;
      /** The opener's credentials, judged at write time (file->f_cred). */
      cred: Cred;
      pos: number;
      mode: AccessMode;
      /** The seq_file buffer: text shown by an earlier read or lseek and not yet consumed, and the iterator index. */
      seq?: { buf: string; index: number };
    }
  | { id: number; count: number; kind: 'proc_text'; path: '/proc/uptime' | '/proc/stat'; pos: number; mode: AccessMode }
  | { id: number; count: number; kind: 'sysctl'; name: 'user.max_time_namespaces'; userns: number; pos: number; mode: AccessMode }
  /** /proc/PID/uid_map, gid_map, setgroups: the target's user namespace (referenced) and the opener's credentials. */
  | { id: number; count: number; kind: 'idmap'; map: 'uid' | 'gid' | 'setgroups'; userns: number; cred: Cred; pos: number; mode: AccessMode }
  | { id: number; count: number; kind: 'other'; path: string; mode: AccessMode };

export type AccessMode = 'r' | 'w' | 'rw';

export interface FdEntry {
  file: number;
  cloexec: boolean;
}

/** struct files_struct: shared by CLONE_FILES children and threads. */
export interface FdTable {
  id: number;
  count: number;
  fds: Record<number, FdEntry>;
}

/** struct mm_struct, only as an identity with the number of users (mm_users). */
export interface Mm {
  id: number;
  users: number;
  /** mm->user_ns: the user namespace of the task that exec'd it (judges ptrace access to non-dumpable tasks). */
  userns?: number;
}

export type TaskState = 'running' | 'zombie';

export interface Task {
  tid: number;
  tgid: number;
  /** The parent process (tgid of real_parent); 0 for the first task. */
  ppid: number;
  /**
   * real_parent itself: the thread of process `ppid` whose children list holds this process — the thread that forked
   * it (CLONE_PARENT and CLONE_THREAD copy the creator's own real_parent), moved to another live thread of that process
   * when it exits. wait(-1) looks at the caller's own children first, then each other thread's in thread-list order.
   * Absent (a world from before it was kept, or a parent outside the model): ppid's leader.
   */
  realParent?: number;
  state: TaskState;
  /** null once the task has exited (exit_task_namespaces). */
  nsproxy: number | null;
  /** The pid namespace the task's struct pid lives in (task_active_pid_ns). */
  pidns: number;
  cred: Cred;
  mm: number | null;
  files: number | null;
  /** The vfork parent this child must release (by exec or exit), if any. */
  vforkDoneFor: number | null;
  exitCode: number | null;
  /** The exit signal to send the parent (legacy clone: the CSIGNAL byte). */
  exitSignal: number;
}

/** The host's clocks, as the initial time namespace sees them. */
export interface HostClocks {
  realtime: Timespec;
  monotonic: Timespec;
  boottime: Timespec;
}

export interface World {
  profile: string;
  host: HostClocks;
  /** The TAI - UTC offset in seconds (CLOCK_TAI = REALTIME + this). */
  taiOffset: number;
  /** Whether the alarm clocks work (they need an RTC device; without one they are EINVAL / EOPNOTSUPP). */
  alarmClocks: boolean;
  /** The capabilities root has on this host (a container may lack some, e.g. CAP_SYS_RESOURCE). */
  rootCaps: Cap[];
  tasks: Record<number, Task>;
  nsproxies: Record<number, Nsproxy>;
  namespaces: Record<number, Namespace>;
  files: Record<number, OpenFile>;
  fdtables: Record<number, FdTable>;
  mms: Record<number, Mm>;
  /** ucounts: "<userns inum>:<uid>" -> live time namespaces charged to it. */
  ucounts: Record<string, number>;
  /** The initial namespaces by type, and the init nsproxy (both hold a permanent reference). */
  init: Record<NsType, number>;
  initNsproxy: number;
  /** The task that adopts orphans (0: a reaper outside the model, which reaps zombies at once). */
  reaper: number;
  /**
   * Indexes kept with the task table (checked by checkInvariants), so that thread-group and child lookups do not scan
   * every task: tgid → the tids of its thread group (zombie leader included), and parent tgid → child tgids.
   */
  groups: Record<number, number[]>;
  children: Record<number, number[]>;
  /** proc_alloc_inum: the next never-used dynamic inode number, and freed ones (sorted; the lowest is reused first). */
  inumNext: number;
  inumFree: number[];
  /** Counters for the model's own identities: the next never-used id of each kind. */
  nextIds: { nsproxy: number; file: number; fdtable: number; mm: number; pid: number };
  /**
   * Freed ids of the model's own objects (struct file, files_struct, nsproxy, mm_struct: not numbers the kernel
   * shows), sorted; the lowest is reused first, as the kernel reuses freed memory. Exactly the ids below
   * nextIds[kind] that no live object has, and nextIds[kind] − 1 is live (freeing the last id steps the counter
   * back), so the lists follow from the tables (checked by checkInvariants).
   */
  freeIds: { nsproxy: number[]; file: number[]; fdtable: number[]; mm: number[] };
}
