// kernel/user_namespace.c: uid_map / gid_map / setgroups writes, and what a written map changes (setresuid, nested
// user namespaces, root's capabilities at exec, CAP_DAC_OVERRIDE on /proc files).
import { describe, expect, it } from 'vitest';
import { CLONE, NEWTIME, Sim } from './helpers.js';
import { parseIdMap } from '../../src/kernel/idmap.js';

const NEWUSER = CLONE.NEWUSER;

function write(s: Sim, tid: number, path: string, data: string) {
  const fd = s.open(tid, path, 'w');
  const out = s.do({ call: 'write', tid, fd, data });
  s.ok({ call: 'close', tid, fd });
  return out;
}

describe('uid_map', () => {
  it('an unprivileged process maps its own uid once (the single-id self map), then may create nested user namespaces', () => {
    const s = new Sim();
    const u = s.unprivileged(1, 65534);
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true });
    s.ok({ call: 'unshare', tid: u, flags: NEWUSER });
    // before the map: the creator's uid has no name inside, so a nested user namespace is EPERM
    const probe = s.fork(u);
    s.err({ call: 'unshare', tid: probe, flags: NEWUSER }, 'EPERM');
    expect(write(s, u, '/proc/self/uid_map', '0 65534 1\n').ret).toBe(10);
    expect(write(s, u, '/proc/self/uid_map', '0 65534 1\n').errno).toBe('EPERM'); // only once
    s.ok({ call: 'setresuid', tid: u, ruid: 0, euid: 0, suid: 0 }); // uid 0 inside is kuid 65534
    expect(s.w.tasks[u].cred.euid).toBe(65534);
    s.ok({ call: 'unshare', tid: u, flags: NEWUSER | NEWTIME });
    const fd = s.open(u, '/proc/self/uid_map', 'r');
    expect(s.do({ call: 'read', tid: u, fd, count: 100 }).text).toBe('');
  });
  it('mapping someone else\'s uid needs CAP_SETUID over the parent, for the writer and the opener', () => {
    const s = new Sim();
    const u = s.unprivileged(1, 1000);
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true });
    s.ok({ call: 'unshare', tid: u, flags: NEWUSER });
    expect(write(s, u, '/proc/self/uid_map', '0 0 1').errno).toBe('EPERM');
    expect(write(s, u, '/proc/self/uid_map', '0 1000 2').errno).toBe('EPERM');
    // root of the parent writes a range into the child's map
    expect(write(s, 1, `/proc/${u}/uid_map`, '0 100000 65536\n').ret).toBe(15);
    expect(s.readOffsetsLike(1, `/proc/${u}/uid_map`)).toBe('         0     100000      65536\n');
  });
  it('parse errors are EINVAL: missing field, trailing text, zero count, overlaps, id 4294967295', () => {
    for (const bad of ['0 1', '0 1 1 x', '0 1 0', '0 1 5\n2 10 1', '4294967295 0 1', '', '\n']) expect(typeof parseIdMap(bad)).toBe('string');
    expect(parseIdMap('  0   1000   1  \n10 2000 5')).toEqual([{ first: 0, lower: 1000, count: 1 }, { first: 10, lower: 2000, count: 5 }]);
  });
  it('the initial user namespace\'s map cannot be written; a process outside namespace and parent gets EPERM', () => {
    const s = new Sim();
    expect(write(s, 1, '/proc/self/uid_map', '0 0 1').errno).toBe('EPERM');
  });
  it('setgroups: deny is permanent; gid_map self map needs it', () => {
    const s = new Sim();
    const u = s.unprivileged(1, 1000);
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true });
    s.ok({ call: 'unshare', tid: u, flags: NEWUSER });
    expect(write(s, u, '/proc/self/gid_map', '0 1000 1').errno).toBe('EPERM');
    expect(write(s, u, '/proc/self/setgroups', 'deny').ret).toBe(4);
    expect(write(s, u, '/proc/self/setgroups', 'allow').errno).toBe('EPERM');
    expect(write(s, u, '/proc/self/gid_map', '0 1000 1').ret).toBe(8);
    expect(write(s, u, '/proc/self/setgroups', 'maybe').errno).toBe('EINVAL');
  });
});
