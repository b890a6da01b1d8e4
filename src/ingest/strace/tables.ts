/**
 * Name → number tables for the constants strace prints symbolically, so that a trace taken
 * with `-X raw` (numbers) and one taken with the default abbreviations (names) decode to the
 * same numbers. Values are Linux x86_64 (include/uapi/linux/sched.h, asm-generic/fcntl.h,
 * asm/signal.h, linux/time.h, linux/fcntl.h).
 */

/** clone / clone3 / unshare / setns flag bits (include/uapi/linux/sched.h). */
export const CLONE_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  CSIGNAL: 0x000000ff,
  CLONE_NEWTIME: 0x00000080,
  CLONE_VM: 0x00000100,
  CLONE_FS: 0x00000200,
  CLONE_FILES: 0x00000400,
  CLONE_SIGHAND: 0x00000800,
  CLONE_PIDFD: 0x00001000,
  CLONE_PTRACE: 0x00002000,
  CLONE_VFORK: 0x00004000,
  CLONE_PARENT: 0x00008000,
  CLONE_THREAD: 0x00010000,
  CLONE_NEWNS: 0x00020000,
  CLONE_SYSVSEM: 0x00040000,
  CLONE_SETTLS: 0x00080000,
  CLONE_PARENT_SETTID: 0x00100000,
  CLONE_CHILD_CLEARTID: 0x00200000,
  CLONE_DETACHED: 0x00400000,
  CLONE_UNTRACED: 0x00800000,
  CLONE_CHILD_SETTID: 0x01000000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
  CLONE_IO: 0x80000000,
  // clone3-only bits (64-bit flags field)
  CLONE_CLEAR_SIGHAND: 0x100000000,
  CLONE_INTO_CGROUP: 0x200000000,
});

/** open/openat flags (asm-generic/fcntl.h, x86_64). O_RDONLY is 0. */
export const OPEN_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  O_RDONLY: 0o0,
  O_WRONLY: 0o1,
  O_RDWR: 0o2,
  O_ACCMODE: 0o3,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  O_NOCTTY: 0o400,
  O_TRUNC: 0o1000,
  O_APPEND: 0o2000,
  O_NONBLOCK: 0o4000,
  O_NDELAY: 0o4000,
  O_DSYNC: 0o10000,
  O_ASYNC: 0o20000,
  FASYNC: 0o20000,
  O_DIRECT: 0o40000,
  O_LARGEFILE: 0o100000,
  O_DIRECTORY: 0o200000,
  O_NOFOLLOW: 0o400000,
  O_NOATIME: 0o1000000,
  O_CLOEXEC: 0o2000000,
  O_SYNC: 0o4010000,
  O_PATH: 0o10000000,
  O_TMPFILE: 0o20200000,
});

/**
 * Signal numbers (x86_64). strace prints real-time signals relative to the kernel's
 * SIGRTMIN (32): SIGRTMIN = 32, SIGRT_1 = 33 ... SIGRT_32 = 64.
 */
export const SIGNALS: Readonly<Record<string, number>> = (() => {
  const t: Record<string, number> = {
    SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGIOT: 6, SIGBUS: 7,
    SIGFPE: 8, SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14,
    SIGTERM: 15, SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21,
    SIGTTOU: 22, SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
    SIGIO: 29, SIGPOLL: 29, SIGPWR: 30, SIGSYS: 31, SIGRTMIN: 32,
  };
  for (let i = 1; i <= 32; i++) t[`SIGRT_${i}`] = 32 + i;
  return Object.freeze(t);
})();

/** Clock ids (include/uapi/linux/time.h). */
export const CLOCK_IDS: Readonly<Record<string, number>> = Object.freeze({
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  CLOCK_PROCESS_CPUTIME_ID: 2,
  CLOCK_THREAD_CPUTIME_ID: 3,
  CLOCK_MONOTONIC_RAW: 4,
  CLOCK_REALTIME_COARSE: 5,
  CLOCK_MONOTONIC_COARSE: 6,
  CLOCK_BOOTTIME: 7,
  CLOCK_REALTIME_ALARM: 8,
  CLOCK_BOOTTIME_ALARM: 9,
  CLOCK_TAI: 11,
});

/** *at() constants and a few other values that appear next to the flags above. */
export const MISC_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  AT_FDCWD: -100,
  AT_SYMLINK_NOFOLLOW: 0x100,
  AT_REMOVEDIR: 0x200,
  AT_SYMLINK_FOLLOW: 0x400,
  AT_NO_AUTOMOUNT: 0x800,
  AT_EMPTY_PATH: 0x1000,
  TIMER_ABSTIME: 1,
  NULL: 0,
  // pidfd_open / pidfd_send_signal
  PIDFD_NONBLOCK: 0o4000,
});

/** Every table merged: no name appears in two tables with different values. */
export const ALL_CONSTANTS: Readonly<Record<string, number>> = Object.freeze({
  ...CLONE_FLAGS,
  ...OPEN_FLAGS,
  ...SIGNALS,
  ...CLOCK_IDS,
  ...MISC_CONSTANTS,
});

const NUMBER_BY_NAME = new Map<string, number>(Object.entries(ALL_CONSTANTS));

/** The number of one symbolic constant strace prints (CLONE_NEWTIME, O_CLOEXEC, SIGCHLD,
 *  CLOCK_BOOTTIME, AT_FDCWD ...), or undefined when the name is not in the tables. */
export function constantValue(name: string): number | undefined {
  return NUMBER_BY_NAME.get(name);
}

/** Inverse lookups for one table: number → the first name with that value. */
export function nameOf(table: Readonly<Record<string, number>>, value: number): string | undefined {
  for (const k in table) if (table[k] === value) return k;
  return undefined;
}

/** The names of the bits set in `value` according to `table` (single-bit entries only),
 *  plus the remaining unnamed bits as a number (0 when every bit has a name). */
export function flagNames(
  table: Readonly<Record<string, number>>,
  value: number | bigint,
): { names: string[]; rest: bigint } {
  let rest = BigInt(value);
  const names: string[] = [];
  for (const k in table) {
    const v = BigInt(table[k]);
    if (v > 0n && (v & (v - 1n)) === 0n && (rest & v) === v) {
      names.push(k);
      rest &= ~v;
    }
  }
  return { names, rest };
}
