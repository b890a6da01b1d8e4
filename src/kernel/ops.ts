/**
 * The operations the model applies: one per syscall (or host event) that touches namespaces.
 * Each carries the calling thread (tid) and decoded arguments. Kernel-assigned identities
 * (a child's pid, the fd an open returns) may be given: the model then uses them instead of
 * choosing its own, which is how imported traces bind model objects to real ones.
 */
import type { Cap, Timespec } from './types.js';

export type Errno =
  | 'EPERM'
  | 'ENOENT'
  | 'ESRCH'
  | 'EBADF'
  | 'EAGAIN'
  | 'ENOMEM'
  | 'EACCES'
  | 'EEXIST'
  | 'EINVAL'
  | 'ENOSPC'
  | 'ESPIPE'
  | 'ERANGE'
  | 'EUSERS'
  | 'E2BIG'
  | 'EFAULT'
  | 'ENOEXEC'
  | 'ENOTDIR'
  | 'EISDIR'
  | 'ENAMETOOLONG'
  | 'ELOOP'
  | 'EBUSY'
  | 'ECHILD'
  | 'EMFILE'
  | 'ENOSYS'
  | 'EOPNOTSUPP';

/** Linux errno numbers, for the live harness and strace's numeric forms. */
export const ERRNO_NUMBERS: Record<Errno, number> = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EBADF: 9,
  ECHILD: 10,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  ESPIPE: 29,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  EUSERS: 87,
  E2BIG: 7,
  ENOEXEC: 8,
  EOPNOTSUPP: 95,
};

/** clone/unshare/setns flag bits (include/uapi/linux/sched.h). */
export const CLONE = {
  CSIGNAL: 0x000000ff,
  NEWTIME: 0x00000080,
  VM: 0x00000100,
  FS: 0x00000200,
  FILES: 0x00000400,
  SIGHAND: 0x00000800,
  PIDFD: 0x00001000,
  PTRACE: 0x00002000,
  VFORK: 0x00004000,
  PARENT: 0x00008000,
  THREAD: 0x00010000,
  NEWNS: 0x00020000,
  SYSVSEM: 0x00040000,
  SETTLS: 0x00080000,
  PARENT_SETTID: 0x00100000,
  CHILD_CLEARTID: 0x00200000,
  DETACHED: 0x00400000,
  UNTRACED: 0x00800000,
  CHILD_SETTID: 0x01000000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  IO: 0x80000000,
  CLEAR_SIGHAND: 0x100000000,
  INTO_CGROUP: 0x200000000,
} as const;

/** The CLONE_NEW* bit of each namespace type. */
export const NS_FLAG = {
  mnt: CLONE.NEWNS,
  cgroup: CLONE.NEWCGROUP,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  user: CLONE.NEWUSER,
  pid: CLONE.NEWPID,
  net: CLONE.NEWNET,
  time: CLONE.NEWTIME,
} as const;

export const CLOCK = {
  REALTIME: 0,
  MONOTONIC: 1,
  PROCESS_CPUTIME_ID: 2,
  THREAD_CPUTIME_ID: 3,
  MONOTONIC_RAW: 4,
  REALTIME_COARSE: 5,
  MONOTONIC_COARSE: 6,
  BOOTTIME: 7,
  REALTIME_ALARM: 8,
  BOOTTIME_ALARM: 9,
  TAI: 11,
} as const;

export type OpenMode = 'r' | 'w' | 'rw';

/** A syscall made by thread `tid`. */
export type SyscallOp =
  /** fork(2): clone with SIGCHLD and nothing else. */
  | { call: 'fork'; tid: number; child?: number }
  /** vfork(2): CLONE_VM|CLONE_VFORK|SIGCHLD; the parent sleeps until the child execs or exits. */
  | { call: 'vfork'; tid: number; child?: number }
  /** Legacy clone(2): the low byte (0xff, including 0x80) is the exit signal, never a flag. */
  | { call: 'clone'; tid: number; flags: number; child?: number; pidfd?: number }
  /** clone3(2) with its struct clone_args. */
  | {
      call: 'clone3';
      tid: number;
      flags: number;
      exit_signal: number;
      /** The size argument (sizeof struct clone_args as passed). */
      size: number;
      set_tid?: number[];
      /** true when stack and stack_size are inconsistent (one zero, the other not). */
      badStack?: boolean;
      /** true when size exceeds struct clone_args and the extra bytes are not all zero (copy_struct_from_user: E2BIG). */
      tailNonZero?: boolean;
      child?: number;
      /** With CLONE_PIDFD: the fd number the kernel returned (binding). */
      pidfd?: number;
    }
  | { call: 'unshare'; tid: number; flags: number }
  | { call: 'setns'; tid: number; fd: number; nstype: number }
  /** execve: `fsError` is what the filesystem said (ENOENT, EACCES, ...): the model cannot know files. */
  | { call: 'execve'; tid: number; path: string; fsError?: Errno }
  /** exit(2): this thread only. */
  | { call: 'exit'; tid: number; code: number }
  /** exit_group(2), or death by a signal (`signal` set). */
  | { call: 'exit_group'; tid: number; code: number; signal?: string }
  /** wait4/waitid reaping a zombie child (`target` a tgid, or -1 for any). */
  | { call: 'wait'; tid: number; target: number }
  /** open/openat of a path. `fd` binds the number the kernel returned. */
  | { call: 'open'; tid: number; path: string; mode: OpenMode; cloexec?: boolean; fd?: number }
  | { call: 'close'; tid: number; fd: number }
  | { call: 'dup'; tid: number; fd: number; newfd?: number; cloexec?: boolean }
  | { call: 'read'; tid: number; fd: number; count: number }
  | { call: 'write'; tid: number; fd: number; data: string }
  | { call: 'pwrite'; tid: number; fd: number; data: string; offset: number }
  | { call: 'lseek'; tid: number; fd: number; offset: number; whence: 'SET' | 'CUR' | 'END' }
  | { call: 'readlink'; tid: number; path: string }
  | { call: 'pidfd_open'; tid: number; pid: number; flags: number; fd?: number }
  | { call: 'clock_gettime'; tid: number; clockid: number }
  /** An absolute timer armed on `clockid` (clock_nanosleep/timer_settime/timerfd_settime with ABSTIME, futex bitset). */
  | { call: 'timer_abs'; tid: number; api: 'clock_nanosleep' | 'timer_settime' | 'timerfd_settime' | 'futex'; clockid: number; deadline: Timespec }
  | { call: 'setresuid'; tid: number; ruid: number; euid: number; suid: number }
  | { call: 'capset'; tid: number; caps: Cap[] }
  | { call: 'prctl_dumpable'; tid: number; dumpable: boolean };

/** Host events: nothing a task did, but what the machine did. */
export type HostOp =
  /** Wall time passes: every clock advances by `ns` (a duration). */
  | { call: 'host.advance'; sec: number; nsec: number }
  /** A suspend of that duration: realtime and boottime advance, monotonic does not. */
  | { call: 'host.suspend'; sec: number; nsec: number }
  /** A process exists at the start (e.g. the first pid of a trace): created in the initial namespaces. */
  | { call: 'host.spawn'; pid: number; uid?: number; ppid?: number; caps?: Cap[] }
  /** The admin writes /proc/sys/user/max_time_namespaces of the initial user namespace. */
  | { call: 'host.sysctl'; name: 'user.max_time_namespaces'; value: number };

export type Op = SyscallOp | HostOp;
export type Call = Op['call'];

/** What came back: a return value, or an errno; plus outputs. */
export interface Outcome {
  ret: number;
  errno?: Errno;
  /** Text read (read) or the link target (readlink). */
  text?: string;
  /** A clock reading (clock_gettime) or the host deadline an absolute timer was converted to. */
  ts?: Timespec;
  /** The rule that decided the outcome, e.g. "setns: joining needs a single-threaded caller (EUSERS)". */
  rule?: string;
  /** Parts the model cannot predict (e.g. the idle time in /proc/uptime): not to be compared. */
  inexact?: ('ret' | 'text' | 'ts')[];
}

export function ok(ret = 0, extra: Omit<Outcome, 'ret' | 'errno'> = {}): Outcome {
  return { ret, ...extra };
}

export function fail(errno: Errno, rule: string): Outcome {
  return { ret: -1, errno, rule };
}
