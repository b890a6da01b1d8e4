// SEMANTICS.md §1 (objects) and §2 (invariants as concrete cases).
import { describe, expect, it } from 'vitest';
import { Sim, INIT_TIME, NEWTIME } from './helpers.js';
import { capsFromMask } from '../../src/kernel/index.js';

describe('§1 the initial time namespace', () => {
  it('has inode 4026531834 (0xEFFFFFFA), zero offsets, is frozen and starts with refcount 3', () => {
    const s = new Sim();
    const init = s.ns(INIT_TIME);
    expect(init.type).toBe('time');
    expect(init.offsets).toEqual({ monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } });
    expect(init.frozen).toBe(true);
    expect(init.count).toBe(3);
    expect(s.ok({ call: 'readlink', tid: 1, path: '/proc/self/ns/time' })).toBe('time:[4026531834]'.length);
  });
  it('is never freed, even when every task leaves it', () => {
    const s = new Sim();
    s.unshareTime(1);
    const c = s.C(1);
    const fd = s.open(1, '/proc/self/ns/time_for_children');
    s.ok({ call: 'setns', tid: 1, fd, nstype: NEWTIME });
    expect(s.T(1)).toBe(c);
    expect(s.count(INIT_TIME)).toBe(3); // the permanent reference + init_nsproxy's T and C slots; the task's are gone
    expect(s.ns(INIT_TIME)).toBeDefined();
  });
});

describe('§1 inode numbers', () => {
  it('are allocated lowest-free and a freed number is reused by the next namespace', () => {
    const s = new Sim();
    s.unshareTime(1);
    const x1 = s.C(1);
    s.unshareTime(1); // x1 was unfrozen and had no other holder: freed
    const x2 = s.C(1);
    expect(s.ns(x1)).toBeUndefined();
    expect(x2).toBeGreaterThan(x1);
    s.unshareTime(1); // x2 freed, x1's number comes back
    expect(s.C(1)).toBe(x1);
  });
});

describe('§1 time state is per thread', () => {
  it('a non-leader thread that unshares changes only its own time_for_children', () => {
    const s = new Sim();
    const th = s.thread(1);
    expect(s.w.tasks[th].nsproxy).toBe(s.w.tasks[1].nsproxy);
    s.unshareTime(th);
    expect(s.C(th)).not.toBe(INIT_TIME);
    expect(s.C(1)).toBe(INIT_TIME);
    expect(s.T(th)).toBe(INIT_TIME);
  });
  it('/proc/self/timens_offsets of a thread shows the process (leader), /proc/thread-self/.. does not exist for it', () => {
    const s = new Sim();
    const th = s.thread(1);
    s.unshareTime(th);
    expect(s.writeOffsets(th, 'monotonic 5 0\n').errno).toBe('EACCES'); // the leader's C is init: frozen
    expect(s.writeOffsets(th, 'monotonic 5 0\n', th).ret).toBe(14); // /proc/<tid>/ resolves to the thread itself
    s.err({ call: 'open', tid: th, path: `/proc/1/task/${th}/timens_offsets`, mode: 'r' }, 'ENOENT');
  });
});

describe('§1 ucounts and max_time_namespaces', () => {
  it('charges (user namespace, euid); the limit gives ENOSPC and freeing releases the charge', () => {
    const s = new Sim({ maxTimeNamespaces: 2 });
    const a = s.fork(1);
    const b = s.fork(1);
    s.unshareTime(a);
    s.unshareTime(b);
    expect(s.w.ucounts[`${s.w.init.user}:0`]).toBe(2);
    const c = s.fork(1);
    s.err({ call: 'unshare', tid: c, flags: NEWTIME }, 'ENOSPC');
    s.ok({ call: 'exit_group', tid: a, code: 0 });
    s.ok({ call: 'wait', tid: 1, target: a });
    expect(s.w.ucounts[`${s.w.init.user}:0`]).toBe(1);
    s.unshareTime(c);
  });
  it('the charge walks up every ancestor user namespace; a level over its limit gives ENOSPC and undoes the levels below', () => {
    const s = new Sim({ maxTimeNamespaces: 1 });
    const a = s.fork(1);
    s.unshareTime(a); // (init, 0) = 1 = limit
    const b = s.fork(1);
    s.ok({ call: 'unshare', tid: b, flags: 0x10000000 }); // CLONE_NEWUSER: owner uid 0
    const userns = s.w.tasks[b].cred.userns;
    s.err({ call: 'unshare', tid: b, flags: NEWTIME }, 'ENOSPC'); // (child, 0) fine, (init, 0) over
    expect(s.w.ucounts[`${userns}:0`]).toBeUndefined();
    expect(s.w.ucounts[`${s.w.init.user}:0`]).toBe(1);
  });
  it('root without CAP_SYS_RESOURCE (a container, like this machine) cannot open the sysctl for writing', () => {
    const s = new Sim({ rootCaps: capsFromMask('000001fffeffffff') });
    expect(s.w.tasks[1].cred.caps).not.toContain('CAP_SYS_RESOURCE');
    s.err({ call: 'open', tid: 1, path: '/proc/sys/user/max_time_namespaces', mode: 'w' }, 'EACCES');
    s.open(1, '/proc/sys/user/max_time_namespaces', 'r');
    // ... but root of a child user namespace has it there
    s.ok({ call: 'unshare', tid: 1, flags: 0x10000000 });
    s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
  });
  it('the sysctl is written through /proc/sys/user/max_time_namespaces of the writer\'s user namespace', () => {
    const s = new Sim();
    const fd = s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
    expect(s.ok({ call: 'write', tid: 1, fd, data: '1\n' })).toBe(2);
    expect(s.w.namespaces[s.w.init.user].maxTimeNamespaces).toBe(1);
    // sysctl_writes_strict: a second write on the same fd (position 2) is ignored (seen live, see live-findings.test.ts)
    expect(s.ok({ call: 'write', tid: 1, fd, data: '-1\n' })).toBe(3);
    expect(s.w.namespaces[s.w.init.user].maxTimeNamespaces).toBe(1);
    const fd2 = s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
    s.err({ call: 'write', tid: 1, fd: fd2, data: '-1\n' }, 'EINVAL');
    s.err({ call: 'write', tid: 1, fd: fd2, data: 'x\n' }, 'EINVAL');
    const u = s.unprivileged(1);
    s.err({ call: 'open', tid: u, path: '/proc/sys/user/max_time_namespaces', mode: 'w' }, 'EACCES');
  });
});

describe('§2 exit and zombies', () => {
  it('an exiting task drops its nsproxy before it is reaped; a zombie has no ns/time, empty offsets, write ESRCH', () => {
    const s = new Sim();
    s.unshareTime(1);
    const child = s.fork(1); // enters C, freezes it
    const x = s.T(child);
    const wfd = s.open(1, `/proc/${child}/timens_offsets`, 'w');
    expect(s.count(x)).toBe(3); // parent's C slot + the child's nsproxy T and C slots
    s.ok({ call: 'exit_group', tid: child, code: 0 });
    expect(s.w.tasks[child].state).toBe('zombie');
    expect(s.w.tasks[child].nsproxy).toBeNull();
    s.err({ call: 'open', tid: 1, path: `/proc/${child}/ns/time`, mode: 'r' }, 'ENOENT');
    expect(s.readOffsets(1, child)).toBe('');
    s.err({ call: 'write', tid: 1, fd: wfd, data: 'monotonic 1 0' }, 'ESRCH');
    s.ok({ call: 'wait', tid: 1, target: child });
    s.err({ call: 'open', tid: 1, path: `/proc/${child}/timens_offsets`, mode: 'r' }, 'ENOENT');
    s.err({ call: 'write', tid: 1, fd: wfd, data: 'monotonic 1 0' }, 'ESRCH');
  });
});
