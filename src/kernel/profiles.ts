/**
 * Kernel versions as data: each profile says which time-namespace behaviours a kernel has.
 * The checks consult these flags; there are no version comparisons anywhere else.
 */
export interface Profile {
  name: string;
  description: string;
  /** 5.6–6.1: copy_process refuses CLONE_VM or CLONE_THREAD while time_ns != time_ns_for_children (EINVAL). */
  cloneVmRefusedWhileTimensDiffer: boolean;
  /** 6.2+: execve switches the task to time_ns_for_children (exec_task_namespaces). */
  execSwitchesTimens: boolean;
  /** 6.3+: clone3 accepts CLONE_NEWTIME (before: the CSIGNAL bits, 0x80 included, are EINVAL in clone3). */
  clone3NewTime: boolean;
  /** 5.7+ (and 5.6.6): the offsets file takes "monotonic"/"boottime" besides the numeric clock ids. */
  offsetsSymbolicClocks: boolean;
  /** 5.7+: /proc/sys/user/max_time_namespaces exists and limits creation per (user namespace, uid). */
  maxTimeNamespacesSysctl: boolean;
  /** 5.8+: setns accepts a pidfd. */
  pidfdSetns: boolean;
  /** 5.9+: a pidfd setns may include CLONE_NEWTIME. */
  pidfdSetnsTime: boolean;
  /** 5.10+: FUTEX_WAIT_BITSET absolute timeouts are converted from the time namespace. */
  futexTimensConverted: boolean;
  /** 5.11+: /proc/stat btime and /proc/PID/stat start times are shown in the reader's time namespace. */
  procStatVirtualized: boolean;
  /** 6.9+: pidfd_open accepts PIDFD_THREAD (O_EXCL) for a non-leader thread. */
  pidfdThread: boolean;
  /** Newer kernels (seen on 6.18): pidfd_open of a pid that is not a thread-group leader is ENOENT (before: EINVAL). */
  pidfdOpenNonLeaderEnoent: boolean;
}

const base: Profile = {
  name: '6.3+',
  description: 'Linux 6.3 and later (this machine: 6.18): clone3 CLONE_NEWTIME, exec switch, pidfd setns.',
  cloneVmRefusedWhileTimensDiffer: false,
  execSwitchesTimens: true,
  clone3NewTime: true,
  offsetsSymbolicClocks: true,
  maxTimeNamespacesSysctl: true,
  pidfdSetns: true,
  pidfdSetnsTime: true,
  futexTimensConverted: true,
  procStatVirtualized: true,
  pidfdThread: true,
  pidfdOpenNonLeaderEnoent: true,
};

export const PROFILES: Record<string, Profile> = {
  '5.6': {
    ...base,
    name: '5.6',
    description: 'Linux 5.6, where time namespaces were introduced: unshare only, no exec switch, numeric clock ids.',
    cloneVmRefusedWhileTimensDiffer: true,
    execSwitchesTimens: false,
    clone3NewTime: false,
    offsetsSymbolicClocks: false,
    maxTimeNamespacesSysctl: false,
    pidfdSetns: false,
    pidfdSetnsTime: false,
    futexTimensConverted: false,
    procStatVirtualized: false,
    pidfdThread: false,
    pidfdOpenNonLeaderEnoent: false,
  },
  '6.1': {
    ...base,
    name: '6.1',
    description: 'Linux 6.1 (LTS): no exec switch, CLONE_VM/CLONE_THREAD refused while T != C, clone3 without CLONE_NEWTIME.',
    cloneVmRefusedWhileTimensDiffer: true,
    execSwitchesTimens: false,
    clone3NewTime: false,
    pidfdThread: false,
    pidfdOpenNonLeaderEnoent: false,
  },
  '6.2': {
    ...base,
    name: '6.2',
    description: 'Linux 6.2: exec switches to time_for_children; clone3 still refuses CLONE_NEWTIME.',
    clone3NewTime: false,
    pidfdThread: false,
    pidfdOpenNonLeaderEnoent: false,
  },
  '6.3+': base,
};

/** Accepts "6.3+", "6.3", "6.18", "5.6", ...: the newest profile not newer than the version. */
export function resolveProfile(name: string): Profile {
  if (PROFILES[name]) return PROFILES[name];
  const m = /^(\d+)\.(\d+)/.exec(name);
  if (!m) throw new RangeError(`unknown kernel profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  const v = Number(m[1]) * 1000 + Number(m[2]);
  if (v < 5006) throw new RangeError(`kernel ${name} has no time namespaces (they arrived in 5.6)`);
  if (v >= 6003) return PROFILES['6.3+'];
  if (v >= 6002) return PROFILES['6.2'];
  if (v >= 5007) return { ...PROFILES['6.1'], name, pidfdSetns: v >= 5008, pidfdSetnsTime: v >= 5009, futexTimensConverted: v >= 5010, procStatVirtualized: v >= 5011 };
  return PROFILES['5.6'];
}
