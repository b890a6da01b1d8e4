/**
 * One example per event type: the source of events/examples/<call>.json (each sealed as the first record of a
 * ledger: seq 1, prev 64 zeros). Realistic values from the time-namespace scenarios this repository records.
 */
import { CLONE, CLOCK } from '../kernel/ops.js';
import type { EventInput, EventOp } from './schema.js';

const wall = '2025-01-14T02:00:43.524451Z';

export const EXAMPLES: { [C in EventOp['call']]: EventInput & { op: Extract<EventOp, { call: C }> } } = {
  fork: { op: { call: 'fork', tid: 11522, child: 11523 }, pid: 11522, outcome: { ret: 11523 }, recorded: true, at: { wall }, src: { file: 'unshare-fork.strace', line: 57 } },
  vfork: { op: { call: 'vfork', tid: 200, child: 201 }, pid: 200, outcome: { ret: 201 }, recorded: false },
  clone: {
    op: { call: 'clone', tid: 11522, flags: CLONE.CHILD_CLEARTID | CLONE.CHILD_SETTID | 17, child: 11524 },
    pid: 11522,
    outcome: { ret: 11524 },
    recorded: true,
    src: { file: 'unshare-fork.strace', line: 61 },
  },
  clone3: {
    op: { call: 'clone3', tid: 300, flags: CLONE.NEWTIME | CLONE.PIDFD, exit_signal: 0, size: 88, child: 301, pidfd: 3 },
    pid: 300,
    outcome: { ret: -1, errno: 'EINVAL', rule: 'clone3: CLONE_NEWTIME needs a 6.3+ kernel (EINVAL)' },
    recorded: false,
    note: 'under the 6.1 profile',
  },
  unshare: {
    op: { call: 'unshare', tid: 11522, flags: CLONE.NEWTIME },
    pid: 11522,
    outcome: { ret: 0 },
    recorded: true,
    at: { monotonic: { sec: 5021, nsec: 117000000 }, wall },
    src: { file: 'unshare-fork.strace', line: 55 },
  },
  setns: {
    op: { call: 'setns', tid: 400, fd: 3, nstype: CLONE.NEWTIME },
    pid: 400,
    outcome: { ret: -1, errno: 'EUSERS', rule: 'setns: joining needs a single-threaded caller (EUSERS)' },
    recorded: true,
    src: { file: 'setns-demo.strace', line: 12 },
  },
  execve: { op: { call: 'execve', tid: 11523, path: '/bin/sh' }, pid: 11523, outcome: { ret: 0 }, recorded: true },
  exit: { op: { call: 'exit', tid: 402, code: 0 }, pid: 400, outcome: { ret: 0 }, recorded: false },
  exit_group: { op: { call: 'exit_group', tid: 11523, code: 0 }, pid: 11523, outcome: { ret: 0 }, recorded: true },
  wait: { op: { call: 'wait', tid: 11522, target: -1 }, pid: 11522, outcome: { ret: 11523 }, recorded: true },
  open: {
    op: { call: 'open', tid: 11523, path: '/proc/self/timens_offsets', mode: 'r', cloexec: true, fd: 3 },
    pid: 11523,
    outcome: { ret: 3 },
    recorded: true,
  },
  close: { op: { call: 'close', tid: 11523, fd: 3 }, pid: 11523, outcome: { ret: 0 }, recorded: true },
  dup: { op: { call: 'dup', tid: 500, fd: 3, newfd: 10, cloexec: true }, pid: 500, outcome: { ret: 10 }, recorded: false },
  read: {
    op: { call: 'read', tid: 11523, fd: 3, count: 4096 },
    pid: 11523,
    outcome: { ret: 47, text: 'monotonic        3600         0\nboottime         7200         0\n' },
    recorded: true,
  },
  write: {
    op: { call: 'write', tid: 11522, fd: 3, data: 'monotonic 3600 0' },
    pid: 11522,
    outcome: { ret: 16 },
    recorded: true,
  },
  pwrite: {
    op: { call: 'pwrite', tid: 600, fd: 4, data: 'boottime 7200 0', offset: 0 },
    pid: 600,
    outcome: { ret: -1, errno: 'EACCES', rule: 'write timens_offsets: the namespace is frozen: a task has entered it (EACCES)' },
    recorded: false,
  },
  lseek: { op: { call: 'lseek', tid: 600, fd: 4, offset: 0, whence: 'SET' }, pid: 600, outcome: { ret: 0 }, recorded: false },
  readlink: {
    op: { call: 'readlink', tid: 11523, path: '/proc/self/ns/time' },
    pid: 11523,
    outcome: { ret: 21, text: 'time:[4026532176]' },
    recorded: true,
  },
  pidfd_open: { op: { call: 'pidfd_open', tid: 700, pid: 701, flags: 0, fd: 5 }, pid: 700, outcome: { ret: 5 }, recorded: false },
  clock_gettime: {
    op: { call: 'clock_gettime', tid: 11523, clockid: CLOCK.BOOTTIME },
    pid: 11523,
    outcome: { ret: 0, ts: { sec: 12221, nsec: 117300421 } },
    recorded: true,
  },
  timer_abs: {
    op: { call: 'timer_abs', tid: 800, api: 'clock_nanosleep', clockid: CLOCK.MONOTONIC, deadline: { sec: 3700, nsec: 0 } },
    pid: 800,
    outcome: { ret: 0, ts: { sec: 100, nsec: 0 } },
    recorded: false,
  },
  setresuid: {
    op: { call: 'setresuid', tid: 900, ruid: 1000, euid: 1000, suid: 1000 },
    pid: 900,
    outcome: { ret: 0 },
    recorded: false,
  },
  capset: { op: { call: 'capset', tid: 900, caps: ['CAP_SYS_ADMIN', 'CAP_SYS_TIME'] }, pid: 900, outcome: { ret: 0 }, recorded: false },
  prctl_dumpable: { op: { call: 'prctl_dumpable', tid: 900, dumpable: false }, pid: 900, outcome: { ret: 0 }, recorded: false },
  'host.advance': { op: { call: 'host.advance', sec: 1, nsec: 500000000 }, outcome: { ret: 0 }, recorded: false },
  'host.suspend': { op: { call: 'host.suspend', sec: 3600, nsec: 0 }, outcome: { ret: 0 }, recorded: false, note: 'laptop lid closed for an hour' },
  'host.spawn': { op: { call: 'host.spawn', pid: 11522, uid: 0 }, outcome: { ret: 0 }, recorded: false, src: { file: 'unshare-fork.strace', line: 1 } },
  'host.sysctl': { op: { call: 'host.sysctl', name: 'user.max_time_namespaces', value: 2 }, outcome: { ret: 0 }, recorded: false },
  'marker.checkpoint': { op: { call: 'marker.checkpoint', pid: 11523, at: 41, image: 'ckpt/11523' }, note: 'criu dump -t 11523' },
  'marker.restore': {
    op: {
      call: 'marker.restore',
      pid: 11523,
      from: 42,
      image: 'ckpt/11523',
      offsets: { monotonic: { sec: 86400, nsec: 0 }, boottime: { sec: 90000, nsec: 0 } },
    },
    note: 'restored on another host: offsets keep CLOCK_MONOTONIC and CLOCK_BOOTTIME continuous',
  },
  'marker.annotation': { op: { call: 'marker.annotation', text: 'the child is now in time:[4026532176]' } },
  'marker.genesis': {
    op: {
      call: 'marker.genesis',
      world: {
        profile: '6.3+',
        host: { realtime: { sec: 1764000000, nsec: 0 }, monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } },
        firstPid: 4194304,
        rootCaps: ['CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_TIME'],
        alarmClocks: false,
      },
    },
    note: 'imported from an strace of Linux 6.18, recorded by a root without CAP_SYS_RESOURCE',
  },
  'marker.profile': { op: { call: 'marker.profile', profile: '6.3+' }, note: 'recorded on Linux 6.18' },
};
