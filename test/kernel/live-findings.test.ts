// Model rules found by the live differential harness (test/live/FINDINGS.md): each case was a disagreement with the
// real 6.18 kernel, decided by the kernel and its source.
import { describe, expect, it } from 'vitest';
import { CLONE, NEWTIME, Sim } from './helpers.js';

describe('fs/proc: capable_wrt_inode_uidgid needs the inode owner mapped in the caller\'s user namespace', () => {
  it('a non-dumpable task that unshared a user namespace cannot open its own timens_offsets for writing (EACCES)', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'setresuid', tid: b, ruid: 1000, euid: 1000, suid: 1000 }); // euid changed: not dumpable, files owned by root
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWUSER | NEWTIME }); // CAP_DAC_OVERRIDE there, but root is unmapped
    s.err({ call: 'open', tid: b, path: '/proc/self/timens_offsets', mode: 'w' }, 'EACCES');
    expect(s.open(b, '/proc/self/timens_offsets', 'r')).toBe(3);
  });
  it('the owner itself still opens for writing in a new user namespace (fsuid matches the inode uid)', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWUSER | NEWTIME });
    expect(s.open(b, '/proc/self/timens_offsets', 'w')).toBe(3);
  });
  it('root in the initial user namespace overrides the owner (CAP_DAC_OVERRIDE, every uid mapped)', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'setresuid', tid: b, ruid: 1000, euid: 1000, suid: 1000 });
    s.ok({ call: 'prctl_dumpable', tid: b, dumpable: true });
    expect(s.open(1, `/proc/${b}/timens_offsets`, 'w')).toBe(3);
  });
});

describe('pidns_for_children_get: no /proc/PID/ns/pid_for_children before the new pid namespace has a child reaper', () => {
  it('unshare(CLONE_NEWPID): ENOENT until the first child is forked', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWPID });
    s.err({ call: 'readlink', tid: b, path: '/proc/self/ns/pid_for_children' }, 'ENOENT');
    s.err({ call: 'open', tid: b, path: '/proc/self/ns/pid_for_children', mode: 'r' }, 'ENOENT');
    s.fork(b);
    expect(s.do({ call: 'readlink', tid: b, path: '/proc/self/ns/pid_for_children' }).text).toMatch(/^pid:\[\d+\]$/);
  });
  it('the initial pid namespace always has one', () => {
    const s = new Sim();
    expect(s.do({ call: 'readlink', tid: 1, path: '/proc/self/ns/pid_for_children' }).text).toBe('pid:[4026531836]');
  });
});
