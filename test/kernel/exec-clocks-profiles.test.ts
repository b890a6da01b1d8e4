// SEMANTICS.md §3.5 (exec), §3.6 (exit), §3.9 (clocks), §3.10 (absolute timers), §4 (refcounts) and §6 (profiles).
import { describe, expect, it } from 'vitest';
import { CLONE, INIT_TIME, NEWTIME, SIGCHLD, Sim } from './helpers.js';

describe('§3.5 execve', () => {
  it('6.2+: with T != C, exec switches T := C and freezes C (C +1, T −1); unshare --time without --fork relies on it', () => {
    const s = new Sim();
    s.unshareTime(1);
    s.writeOffsets(1, 'monotonic 3600 0');
    const x = s.C(1);
    const initBefore = s.count(INIT_TIME);
    s.ok({ call: 'execve', tid: 1, path: '/bin/sh' });
    expect(s.T(1)).toBe(x);
    expect(s.ns(x).frozen).toBe(true);
    expect(s.count(x)).toBe(2);
    expect(s.count(INIT_TIME)).toBe(initBefore - 1);
    expect(s.mono(1).sec).toBe(2522 + 3600);
  });
  it('with T == C exec changes nothing', () => {
    const s = new Sim();
    const nsp = s.w.tasks[1].nsproxy;
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' });
    expect(s.w.tasks[1].nsproxy).toBe(nsp);
  });
  it('a failed exec (ENOENT from the filesystem) switches nothing', () => {
    const s = new Sim();
    s.unshareTime(1);
    s.err({ call: 'execve', tid: 1, path: '/nope', fsError: 'ENOENT' }, 'ENOENT');
    expect(s.T(1)).toBe(INIT_TIME);
  });
  it('vfork + exec after unshare (posix_spawn): the child shares T until exec, then enters C; the parent stays', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x = s.C(1);
    const c = s.ok({ call: 'vfork', tid: 1 });
    expect(s.T(c)).toBe(INIT_TIME);
    s.ok({ call: 'execve', tid: c, path: '/bin/date' });
    expect(s.T(c)).toBe(x);
    expect(s.T(1)).toBe(INIT_TIME);
  });
  it('exec by a non-leader thread kills the other threads and takes the leader\'s pid', () => {
    const s = new Sim();
    const th = s.thread(1);
    s.thread(1);
    s.ok({ call: 'execve', tid: th, path: '/bin/true' });
    expect(Object.keys(s.w.tasks)).toEqual(['1']);
  });
  it('close-on-exec fds are closed, releasing the namespaces they pin', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x = s.C(1);
    s.ok({ call: 'open', tid: 1, path: '/proc/self/ns/time_for_children', mode: 'r', cloexec: true });
    s.unshareTime(1); // x is still pinned by the fd
    expect(s.ns(x)).toBeDefined();
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' });
    expect(s.ns(x)).toBeUndefined();
  });
});

describe('§3.6 exit', () => {
  it('the last task of an nsproxy releases T and C at exit', () => {
    const s = new Sim();
    s.unshareTime(1);
    const c = s.fork(1);
    const x = s.T(c);
    s.ok({ call: 'unshare', tid: 1, flags: NEWTIME }); // the parent lets go of x
    expect(s.count(x)).toBe(2);
    s.ok({ call: 'exit_group', tid: c, code: 0 });
    expect(s.ns(x)).toBeUndefined();
    expect(s.w.ucounts[`${s.w.init.user}:0`]).toBe(1); // only the parent's new C
  });
  it('exit_group takes every thread; the leader stays a zombie until waited for', () => {
    const s = new Sim();
    const c = s.fork(1);
    s.thread(c);
    s.ok({ call: 'exit_group', tid: c, code: 3 });
    expect(Object.values(s.w.tasks).filter((t) => t.tgid === c).map((t) => t.state)).toEqual(['zombie']);
    expect(s.ok({ call: 'wait', tid: 1, target: -1 })).toBe(c);
    s.err({ call: 'wait', tid: 1, target: -1 }, 'ECHILD');
  });
});

describe('§3.9 clocks', () => {
  const offsetsWorld = (alarmClocks = true) => {
    const s = new Sim({ alarmClocks });
    s.unshareTime(1);
    s.writeOffsets(1, 'monotonic 100 0\nboottime 200 5');
    const c = s.fork(1);
    return { s, c };
  };
  const table: [number, string, (s: Sim) => { sec: number; nsec: number }][] = [
    [0, 'REALTIME', (s) => s.w.host.realtime],
    [5, 'REALTIME_COARSE', (s) => s.w.host.realtime],
    [8, 'REALTIME_ALARM', (s) => s.w.host.realtime],
    [11, 'TAI', (s) => ({ sec: s.w.host.realtime.sec + 37, nsec: 0 })],
    [1, 'MONOTONIC', (s) => ({ sec: s.w.host.monotonic.sec + 100, nsec: 0 })],
    [4, 'MONOTONIC_RAW', (s) => ({ sec: s.w.host.monotonic.sec + 100, nsec: 0 })],
    [6, 'MONOTONIC_COARSE', (s) => ({ sec: s.w.host.monotonic.sec + 100, nsec: 0 })],
    [7, 'BOOTTIME', (s) => ({ sec: s.w.host.boottime.sec + 200, nsec: 5 })],
    [9, 'BOOTTIME_ALARM', (s) => ({ sec: s.w.host.boottime.sec + 200, nsec: 5 })],
  ];
  for (const [id, name, want] of table) {
    it(`${name} (${id}) inside a namespace`, () => {
      const { s, c } = offsetsWorld();
      expect(s.do({ call: 'clock_gettime', tid: c, clockid: id }).ts).toEqual(want(s));
    });
  }
  it('without an RTC device (this machine kind) the alarm clocks are EINVAL to read and EOPNOTSUPP for timers', () => {
    const { s, c } = offsetsWorld(false);
    s.err({ call: 'clock_gettime', tid: c, clockid: 8 }, 'EINVAL');
    s.err({ call: 'clock_gettime', tid: c, clockid: 9 }, 'EINVAL');
    s.err({ call: 'timer_abs', tid: c, api: 'timer_settime', clockid: 9, deadline: { sec: 1, nsec: 0 } }, 'EOPNOTSUPP');
  });
  it('CPU-time clocks are unchanged and not predicted; an invalid id → EINVAL', () => {
    const { s, c } = offsetsWorld();
    expect(s.do({ call: 'clock_gettime', tid: c, clockid: 2 }).inexact).toEqual(['ts']);
    s.err({ call: 'clock_gettime', tid: c, clockid: 10 }, 'EINVAL');
    s.err({ call: 'clock_gettime', tid: c, clockid: 12 }, 'EINVAL');
  });
  it('/proc/uptime first field + boottime offset; /proc/stat btime − boottime offset', () => {
    const { s, c } = offsetsWorld();
    const fd = s.open(c, '/proc/uptime');
    expect(s.do({ call: 'read', tid: c, fd, count: 100 }).ts).toEqual({ sec: 2800, nsec: 5 });
    const sfd = s.open(c, '/proc/stat');
    expect(s.do({ call: 'read', tid: c, fd: sfd, count: 100 }).ts).toEqual({ sec: 1_764_000_000 - 2600 - 201, nsec: 0 });
  });
  it('host time passing moves every clock; a suspend moves boottime and realtime but not monotonic', () => {
    const { s, c } = offsetsWorld();
    const m = s.mono(c);
    const b = s.boot(c);
    s.ok({ call: 'host.advance', sec: 10, nsec: 0 });
    s.ok({ call: 'host.suspend', sec: 60, nsec: 0 });
    expect(s.mono(c).sec - m.sec).toBe(10);
    expect(s.boot(c).sec - b.sec).toBe(70);
    s.err({ call: 'host.advance', sec: -1, nsec: 0 }, 'EINVAL');
  });
});

describe('§3.10 absolute timers', () => {
  it('a MONOTONIC/BOOTTIME deadline is moved to the host clock by the offset; below the offset it is 0; REALTIME is unchanged', () => {
    const s = new Sim();
    s.unshareTime(1);
    s.writeOffsets(1, 'monotonic 100 0\nboottime 200 0');
    const c = s.fork(1);
    const t = (clockid: number, sec: number, api: 'clock_nanosleep' | 'timerfd_settime' | 'timer_settime' | 'futex' = 'clock_nanosleep') =>
      s.do({ call: 'timer_abs', tid: c, api, clockid, deadline: { sec, nsec: 0 } }).ts;
    expect(t(1, 3000)).toEqual({ sec: 2900, nsec: 0 });
    expect(t(7, 3000, 'timerfd_settime')).toEqual({ sec: 2800, nsec: 0 });
    expect(t(1, 50)).toEqual({ sec: 0, nsec: 0 });
    expect(t(0, 3000)).toEqual({ sec: 3000, nsec: 0 });
    expect(t(1, 3000, 'futex')).toEqual({ sec: 2900, nsec: 0 });
    expect(s.do({ call: 'timer_abs', tid: 1, api: 'clock_nanosleep', clockid: 1, deadline: { sec: 3000, nsec: 0 } }).ts).toEqual({ sec: 3000, nsec: 0 });
    s.err({ call: 'timer_abs', tid: c, api: 'clock_nanosleep', clockid: 4, deadline: { sec: 1, nsec: 0 } }, 'EOPNOTSUPP');
  });
});

describe('§6 kernel profiles', () => {
  it('5.6–6.1: CLONE_VM or CLONE_THREAD while T != C → EINVAL; 6.2+ allows it', () => {
    for (const p of ['5.6', '6.1']) {
      const s = new Sim({ profile: p });
      s.unshareTime(1);
      s.err({ call: 'vfork', tid: 1 }, 'EINVAL');
      s.err({ call: 'clone', tid: 1, flags: CLONE.VM | CLONE.SIGHAND | CLONE.THREAD }, 'EINVAL');
      s.fork(1);
    }
    const s = new Sim({ profile: '6.2' });
    s.unshareTime(1);
    s.ok({ call: 'vfork', tid: 1 });
  });
  it('5.6 and 6.1: exec does not switch', () => {
    for (const p of ['5.6', '6.1']) {
      const s = new Sim({ profile: p });
      s.unshareTime(1);
      s.ok({ call: 'execve', tid: 1, path: '/bin/sh' });
      expect(s.T(1)).toBe(INIT_TIME);
    }
  });
  it('5.6: the offsets file takes numeric clock ids only; no max_time_namespaces sysctl; no pidfd setns', () => {
    const s = new Sim({ profile: '5.6' });
    s.unshareTime(1);
    expect(s.writeOffsets(1, 'monotonic 1 0').errno).toBe('EINVAL');
    expect(s.writeOffsets(1, '1 1 0').ret).toBe(5);
    s.err({ call: 'open', tid: 1, path: '/proc/sys/user/max_time_namespaces', mode: 'r' }, 'ENOENT');
    const c = s.fork(1);
    const pfd = s.ok({ call: 'pidfd_open', tid: 1, pid: c, flags: 0 });
    s.err({ call: 'setns', tid: 1, fd: pfd, nstype: NEWTIME }, 'EINVAL');
  });
  it('6.2: clone3 CLONE_NEWTIME → EINVAL; 6.3+: accepted', () => {
    new Sim({ profile: '6.2' }).err({ call: 'clone3', tid: 1, flags: NEWTIME, exit_signal: SIGCHLD, size: 88 }, 'EINVAL');
    new Sim({ profile: '6.18' }).ok({ call: 'clone3', tid: 1, flags: NEWTIME, exit_signal: SIGCHLD, size: 88 });
  });
});
