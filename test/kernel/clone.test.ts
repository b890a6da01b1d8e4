// SEMANTICS.md §3.1–§3.2 and the fork/clone rows of §4.
import { describe, expect, it } from 'vitest';
import { CLONE, INIT_TIME, NEWTIME, SIGCHLD, Sim } from './helpers.js';

const clone3 = (tid: number, flags: number, extra: Record<string, unknown> = {}) =>
  ({ call: 'clone3', tid, flags, exit_signal: SIGCHLD, size: 88, ...extra }) as const;

describe('§3.2 fork without new namespaces', () => {
  it('T == C: the child shares the parent\'s nsproxy; no refcount change, no freeze', () => {
    const s = new Sim();
    const before = s.count(INIT_TIME);
    const c = s.fork(1);
    expect(s.w.tasks[c].nsproxy).toBe(s.w.tasks[1].nsproxy);
    expect(s.count(INIT_TIME)).toBe(before);
  });
  it('T != C, no CLONE_VM: the child gets a new nsproxy with T := C, C is frozen, C +2', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x = s.C(1);
    expect(s.ns(x).frozen).toBe(false);
    expect(s.count(x)).toBe(1);
    const c = s.fork(1);
    expect(s.w.tasks[c].nsproxy).not.toBe(s.w.tasks[1].nsproxy);
    expect(s.T(c)).toBe(x);
    expect(s.C(c)).toBe(x);
    expect(s.ns(x).frozen).toBe(true);
    expect(s.count(x)).toBe(3);
    expect(s.T(1)).toBe(INIT_TIME); // the parent's clocks do not change
  });
  it('T != C: threads, vfork children and CLONE_VM children share the nsproxy and stay in T, no freeze', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x = s.C(1);
    const th = s.thread(1);
    const vf = s.ok({ call: 'vfork', tid: 1 });
    const vm = s.ok({ call: 'clone', tid: 1, flags: CLONE.VM | SIGCHLD });
    for (const t of [th, vf, vm]) {
      expect(s.w.tasks[t].nsproxy).toBe(s.w.tasks[1].nsproxy);
      expect(s.T(t)).toBe(INIT_TIME);
    }
    expect(s.ns(x).frozen).toBe(false);
    expect(s.count(x)).toBe(1);
  });
  it('legacy clone: 0x80 is part of the exit signal, never CLONE_NEWTIME', () => {
    const s = new Sim();
    const c = s.ok({ call: 'clone', tid: 1, flags: NEWTIME | SIGCHLD });
    expect(s.w.tasks[c].exitSignal).toBe(0x91);
    expect(s.w.tasks[c].nsproxy).toBe(s.w.tasks[1].nsproxy);
    expect(s.T(c)).toBe(INIT_TIME);
  });
});

describe('§3.2 new namespaces in clone3', () => {
  it('clone3(CLONE_NEWTIME) creates X with T and C slots (count 2), frozen at once; the child cannot write its offsets', () => {
    const s = new Sim();
    s.unshareTime(1);
    const pending = s.C(1);
    const c = s.ok(clone3(1, NEWTIME));
    const x = s.T(c);
    expect(x).not.toBe(pending);
    expect(s.C(c)).toBe(x);
    expect(s.count(x)).toBe(2);
    expect(s.ns(x).frozen).toBe(true);
    expect(s.writeOffsets(c, 'monotonic 1 0').errno).toBe('EACCES');
    // the parent's own pending C is untouched and still writable
    expect(s.ns(pending).frozen).toBe(false);
    expect(s.writeOffsets(1, 'monotonic 7 0').ret).toBe(13);
    expect(s.ns(x).offsets!.monotonic.sec).toBe(0); // X copied the parent's C before the write
  });
  it('clone3 copies offsets from the parent\'s C, not its T', () => {
    const s = new Sim();
    s.unshareTime(1);
    s.writeOffsets(1, 'monotonic 100 0\nboottime 200 5');
    const c = s.ok(clone3(1, NEWTIME));
    expect(s.ns(s.T(c)).offsets).toEqual({ monotonic: { sec: 100, nsec: 0 }, boottime: { sec: 200, nsec: 5 } });
  });
  it('clone3(CLONE_NEWTIME|CLONE_VM): the child keeps the parent\'s T, its C is X (count 1, not frozen), and it enters X at exec', () => {
    const s = new Sim();
    const c = s.ok(clone3(1, NEWTIME | CLONE.VM | CLONE.VFORK));
    const x = s.C(c);
    expect(s.T(c)).toBe(INIT_TIME);
    expect(s.count(x)).toBe(1);
    expect(s.ns(x).frozen).toBe(false);
    expect(s.writeOffsets(c, 'boottime 5 0').ret).toBe(12);
    s.ok({ call: 'execve', tid: c, path: '/bin/true' });
    expect(s.T(c)).toBe(x);
    expect(s.ns(x).frozen).toBe(true);
    expect(s.count(x)).toBe(2);
  });
  it('CLONE_NEW* needs CAP_SYS_ADMIN in the child\'s user namespace', () => {
    const s = new Sim();
    const u = s.unprivileged(1);
    s.err(clone3(u, NEWTIME), 'EPERM');
    // ... which CLONE_NEWUSER provides
    const c = s.ok(clone3(u, NEWTIME | CLONE.NEWUSER));
    expect(s.ns(s.T(c)).owner).toBe(s.w.tasks[c].cred.userns);
  });
  it('a failure after the namespace step (set_tid in use → EEXIST) still leaves the pending C frozen', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x = s.C(1);
    s.err(clone3(1, 0, { set_tid: [1] }), 'EEXIST');
    expect(s.ns(x).frozen).toBe(true);
    expect(s.writeOffsets(1, 'monotonic 1 0').errno).toBe('EACCES');
    expect(s.count(x)).toBe(1);
  });
  it('clone3 with set_tid of a free pid gives exactly that pid', () => {
    const s = new Sim();
    expect(s.ok(clone3(1, 0, { set_tid: [4242] }))).toBe(4242);
  });
});

describe('§3.2 clone3 argument checks', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['size below 64', { size: 56 }, 'EINVAL'],
    ['size above a page', { size: 4097 }, 'E2BIG'],
    ['unknown flag bits', { flags: 0x400000000 }, 'EINVAL'],
    ['CLONE_DETACHED', { flags: CLONE.DETACHED }, 'EINVAL'],
    ['a CSIGNAL bit other than 0x80', { flags: 0x11 }, 'EINVAL'],
    ['exit_signal 65', { exit_signal: 65 }, 'EINVAL'],
    ['CLONE_THREAD with a non-zero exit_signal', { flags: CLONE.THREAD | CLONE.SIGHAND | CLONE.VM }, 'EINVAL'],
    ['CLONE_PARENT with a non-zero exit_signal', { flags: CLONE.PARENT }, 'EINVAL'],
    ['an inconsistent stack', { badStack: true }, 'EINVAL'],
    ['CLONE_SIGHAND with CLONE_CLEAR_SIGHAND', { flags: CLONE.SIGHAND + CLONE.VM + CLONE.CLEAR_SIGHAND }, 'EINVAL'], // +: the flag is above bit 31
    ['CLONE_THREAD without CLONE_SIGHAND', { flags: CLONE.THREAD | CLONE.VM, exit_signal: 0 }, 'EINVAL'],
    ['CLONE_SIGHAND without CLONE_VM', { flags: CLONE.SIGHAND }, 'EINVAL'],
    ['CLONE_NEWUSER with CLONE_FS', { flags: CLONE.NEWUSER | CLONE.FS }, 'EINVAL'],
    ['CLONE_NEWNS with CLONE_FS', { flags: CLONE.NEWNS | CLONE.FS }, 'EINVAL'],
    ['CLONE_NEWIPC with CLONE_SYSVSEM', { flags: CLONE.NEWIPC | CLONE.SYSVSEM }, 'EINVAL'],
  ];
  for (const [name, args, errno] of cases) {
    it(`${name} → ${errno}`, () => {
      const s = new Sim();
      s.err({ ...clone3(1, 0), ...args } as never, errno);
      expect(Object.keys(s.w.tasks)).toEqual(['1']);
    });
  }
  it('clone3({flags=CLONE_NEWTIME}) succeeds on 6.3+ and is EINVAL on 6.2', () => {
    expect(new Sim().ok(clone3(1, NEWTIME))).toBeGreaterThan(1);
    new Sim({ profile: '6.2' }).err(clone3(1, NEWTIME), 'EINVAL');
  });
});
