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

describe('fs/proc task_dump_owner: who owns /proc/PID/timens_offsets', () => {
  it('an exited task has no mm: its files are owned by global root, so its uid-1000 parent cannot open them for writing', () => {
    const s = new Sim();
    const u = s.fork(1);
    s.ok({ call: 'setresuid', tid: u, ruid: 1000, euid: 1000, suid: 1000 });
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true });
    const z = s.fork(u);
    const fd = s.open(u, `/proc/${z}/timens_offsets`, 'w'); // dumpable, euid 1000: owned by 1000
    s.ok({ call: 'close', tid: u, fd });
    s.ok({ call: 'exit_group', tid: z, code: 1 });
    const out = s.err({ call: 'open', tid: u, path: `/proc/${z}/timens_offsets`, mode: 'w' }, 'EACCES');
    expect(out.rule).toMatch(/owned by uid 0/);
    expect(s.open(u, `/proc/${z}/timens_offsets`, 'r')).toBeGreaterThanOrEqual(0); // reading needs no ownership
  });
  it('a non-dumpable task\'s files belong to root of its mm\'s user namespace: the namespace of its last exec', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWUSER });
    const um = s.open(1, `/proc/${b}/uid_map`, 'w');
    s.ok({ call: 'write', tid: 1, fd: um, data: '0 1000 1\n' });
    const u = s.fork(1);
    s.ok({ call: 'setresuid', tid: u, ruid: 1000, euid: 1000, suid: 1000 });
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true });
    s.ok({ call: 'prctl_dumpable', tid: b, dumpable: false });
    // the mm was made in the initial user namespace (fork copies it): root there is global root
    expect(s.err({ call: 'open', tid: u, path: `/proc/${b}/timens_offsets`, mode: 'w' }, 'EACCES').rule).toMatch(/owned by uid 0/);
    s.ok({ call: 'execve', tid: b, path: '/bin/true' });
    s.ok({ call: 'prctl_dumpable', tid: b, dumpable: false });
    // now made in b's user namespace, whose root is uid 1000 outside: u owns the file
    expect(s.open(u, `/proc/${b}/timens_offsets`, 'w')).toBeGreaterThanOrEqual(0);
  });
});

describe('kernel/exit.c: children lists are per thread (real_parent is the forking thread)', () => {
  it('wait(-1) from a thread reaps its own exited child before an older one of its leader, then the leader\'s', () => {
    const s = new Sim();
    const c1 = s.fork(1);
    const t = s.thread(1);
    const c2 = s.fork(t);
    s.ok({ call: 'exit_group', tid: c1, code: 1 });
    s.ok({ call: 'exit_group', tid: c2, code: 2 });
    expect(s.ok({ call: 'wait', tid: t, target: -1 })).toBe(c2);
    expect(s.ok({ call: 'wait', tid: t, target: -1 })).toBe(c1);
  });
  it('the leader looks at its own list first, then the threads after it', () => {
    const s = new Sim();
    const t = s.thread(1);
    const c1 = s.fork(t);
    const c2 = s.fork(1);
    s.ok({ call: 'exit_group', tid: c1, code: 1 });
    s.ok({ call: 'exit_group', tid: c2, code: 2 });
    expect(s.ok({ call: 'wait', tid: 1, target: -1 })).toBe(c2);
    expect(s.ok({ call: 'wait', tid: 1, target: -1 })).toBe(c1);
  });
  it('an exiting thread\'s children go to the tail of the first live thread\'s list (find_alive_thread, list_splice_tail)', () => {
    const s = new Sim();
    const t = s.thread(1);
    const d1 = s.fork(t);
    const d2 = s.fork(1);
    s.ok({ call: 'exit', tid: t, code: 0 });
    expect(s.w.tasks[d1].realParent).toBe(1);
    s.ok({ call: 'exit_group', tid: d1, code: 3 });
    s.ok({ call: 'exit_group', tid: d2, code: 4 });
    expect(s.ok({ call: 'wait', tid: 1, target: -1 })).toBe(d2);
    expect(s.ok({ call: 'wait', tid: 1, target: -1 })).toBe(d1);
  });
  it('a leader that exits while a thread runs hands its children to that thread; de_thread hands every child to the exec\'ing thread', () => {
    const s = new Sim();
    const p = s.fork(1);
    const c = s.fork(p);
    const t = s.thread(p);
    s.ok({ call: 'exit', tid: p, code: 0 });
    expect(s.w.tasks[c].realParent).toBe(t);
    const t2 = s.thread(t);
    const c2 = s.fork(t2);
    s.ok({ call: 'execve', tid: t2, path: '/bin/true' }); // t2 becomes pid p
    expect(s.w.tasks[c].realParent).toBe(p);
    expect(s.w.tasks[c2].realParent).toBe(p);
    s.ok({ call: 'exit_group', tid: c, code: 0 });
    expect(s.ok({ call: 'wait', tid: p, target: -1 })).toBe(c);
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

describe('security/commoncap.c cap_ptrace_access_check after __ptrace_may_access', () => {
  it('a task in a child user namespace cannot open or readlink the ns links of a root task outside it (EACCES)', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWUSER | NEWTIME }); // same uid 0, but another user namespace
    s.err({ call: 'open', tid: b, path: '/proc/1/ns/time', mode: 'r' }, 'EACCES');
    s.err({ call: 'readlink', tid: b, path: '/proc/1/ns/time' }, 'EACCES');
    // the other way round: root outside has CAP_SYS_PTRACE over the child user namespace
    expect(s.open(1, `/proc/${b}/ns/time_for_children`, 'r')).toBe(3);
  });
  it('same uid, same user namespace, but fewer capabilities than the target: EACCES; with CAP_SYS_PTRACE: allowed', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'capset', tid: b, caps: ['CAP_SETUID', 'CAP_SYS_TIME'] });
    s.err({ call: 'open', tid: b, path: '/proc/1/ns/time', mode: 'r' }, 'EACCES');
    const c = s.fork(1);
    s.ok({ call: 'capset', tid: c, caps: ['CAP_SYS_PTRACE'] });
    expect(s.open(c, '/proc/1/ns/time', 'r')).toBe(3);
  });
  it('setns by pidfd judges the permitted set (PTRACE_MODE_READ_REALCREDS): EPERM from a child user namespace', () => {
    const s = new Sim();
    const b = s.fork(1);
    const pfd = s.ok({ call: 'pidfd_open', tid: b, pid: 1, flags: 0 });
    s.ok({ call: 'unshare', tid: b, flags: CLONE.NEWUSER });
    s.err({ call: 'setns', tid: b, fd: pfd, nstype: NEWTIME }, 'EPERM');
  });
});

describe('pidfd_open and pwrite error precedence', () => {
  it('pidfd_open of a non-leader thread: ENOENT on 6.18, EINVAL on the 6.1 profile', () => {
    const s = new Sim();
    const th = s.thread(1);
    s.err({ call: 'pidfd_open', tid: th, pid: th, flags: 0 }, 'ENOENT');
    const old = new Sim({ profile: '6.1' });
    const th2 = old.thread(1);
    old.err({ call: 'pidfd_open', tid: 1, pid: th2, flags: 0 }, 'EINVAL');
  });
  it('pwrite on a read-only timens_offsets fd: ESPIPE (FMODE_PWRITE is tested before FMODE_WRITE)', () => {
    const s = new Sim();
    const fd = s.open(1, '/proc/self/timens_offsets', 'r');
    s.err({ call: 'pwrite', tid: 1, fd, data: 'monotonic 1 0\n', offset: 0 }, 'ESPIPE');
    s.err({ call: 'write', tid: 1, fd, data: 'monotonic 1 0\n' }, 'EBADF');
  });
});

describe('execve: cap_bprm_creds_from_file and dumpability', () => {
  it('root in a user namespace without a uid map loses every capability at exec: a later unshare(CLONE_NEWTIME) is EPERM', () => {
    const s = new Sim();
    s.ok({ call: 'unshare', tid: 1, flags: CLONE.NEWUSER | NEWTIME });
    s.ok({ call: 'unshare', tid: 1, flags: NEWTIME }); // before exec: full capabilities in the new user namespace
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' });
    s.err({ call: 'unshare', tid: 1, flags: NEWTIME }, 'EPERM');
    expect(s.w.tasks[1].cred.caps).toEqual([]);
  });
  it('root in the initial user namespace gets the bounding set back at exec (after capset dropped some)', () => {
    const s = new Sim({ rootCaps: ['CAP_SYS_ADMIN', 'CAP_SYS_TIME', 'CAP_SETUID'] });
    s.ok({ call: 'capset', tid: 1, caps: ['CAP_SETUID'] });
    s.err({ call: 'unshare', tid: 1, flags: NEWTIME }, 'EPERM');
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' });
    expect(s.w.tasks[1].cred.caps).toEqual(['CAP_SETUID', 'CAP_SYS_ADMIN', 'CAP_SYS_TIME']);
    s.ok({ call: 'unshare', tid: 1, flags: NEWTIME });
  });
  it('euid ≠ uid: permitted is the bounding set, effective empty, and the exec leaves the task non-dumpable', () => {
    const s = new Sim();
    const b = s.fork(1);
    s.ok({ call: 'setresuid', tid: b, ruid: -1, euid: 1000, suid: -1 });
    s.ok({ call: 'execve', tid: b, path: '/bin/true' });
    const c = s.w.tasks[b].cred;
    expect(c.caps).toEqual([]);
    expect(c.permitted.length).toBeGreaterThan(0);
    expect(c.dumpable).toBe(false);
    s.ok({ call: 'setresuid', tid: b, ruid: -1, euid: 0, suid: -1 });
    expect(s.w.tasks[b].cred.caps).toEqual(c.permitted);
  });
});

describe('proc_sys_call_handler: a sysctl write is judged with the writer\'s credentials at write time', () => {
  it('max_time_namespaces opened writable in a child user namespace, written after exec dropped the capabilities: EPERM', () => {
    const s = new Sim();
    s.ok({ call: 'unshare', tid: 1, flags: CLONE.NEWUSER });
    const fd = s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
    expect(s.ok({ call: 'write', tid: 1, fd, data: '5\n' })).toBe(2);
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' });
    s.err({ call: 'write', tid: 1, fd, data: '5\n' }, 'EPERM');
  });
});

describe('seq_file: timens_offsets reads come from the buffer filled by an earlier show', () => {
  it('the rest of a partly read buffer is the old text even after the offsets changed', () => {
    const s = new Sim();
    s.unshareTime(1);
    const rd = s.open(1, '/proc/self/timens_offsets', 'r');
    expect(s.do({ call: 'read', tid: 1, fd: rd, count: 10 }).text).toBe('monotonic ');
    expect(s.writeOffsets(1, 'monotonic 77 0').ret).toBe(14);
    expect(s.do({ call: 'read', tid: 1, fd: rd, count: 200 }).text).toBe('          0         0\nboottime            0         0\n');
    expect(s.do({ call: 'read', tid: 1, fd: rd, count: 200 }).ret).toBe(0); // drained: EOF, no new show
    s.ok({ call: 'lseek', tid: 1, fd: rd, offset: 0, whence: 'SET' });
    expect(s.do({ call: 'read', tid: 1, fd: rd, count: 200 }).text).toBe('monotonic          77         0\nboottime            0         0\n');
  });
  it('lseek to a non-zero position takes a snapshot that survives the target (a thread that died in de_thread)', () => {
    const s = new Sim();
    const th = s.thread(1);
    const fd = s.open(th, `/proc/${th}/timens_offsets`, 'r');
    expect(s.ok({ call: 'lseek', tid: 1, fd, offset: 10, whence: 'SET' })).toBe(10);
    s.ok({ call: 'execve', tid: 1, path: '/bin/true' }); // the thread is gone
    expect(s.do({ call: 'read', tid: 1, fd, count: 200 }).ret).toBe(54);
    s.err({ call: 'lseek', tid: 1, fd, offset: 5, whence: 'SET' }, 'ESRCH'); // traverse shows again: the task is gone
    s.err({ call: 'read', tid: 1, fd, count: 200 }, 'ESRCH'); // reset to 0 by seq_lseek, a fresh show fails
  });
});

describe('seq_file: a read at position 0 starts afresh', () => {
  it('a zombie\'s file read once (empty), then reaped: the next read at 0 shows again and gets ESRCH', () => {
    const s = new Sim();
    const b = s.fork(1);
    const fd = s.open(1, `/proc/${b}/timens_offsets`, 'r');
    s.ok({ call: 'exit', tid: b, code: 0 });
    expect(s.do({ call: 'read', tid: 1, fd, count: 200 }).ret).toBe(0);
    s.ok({ call: 'wait', tid: 1, target: b });
    s.err({ call: 'read', tid: 1, fd, count: 200 }, 'ESRCH');
  });
});

describe('de_thread: a vfork parent killed by its thread\'s exec', () => {
  it('the vfork child no longer holds the tid that the exec\'ing thread takes over', () => {
    const s = new Sim();
    const th = s.thread(1);
    const v = s.ok({ call: 'vfork', tid: 1 });
    expect(s.w.tasks[v].vforkDoneFor).toBe(1);
    s.ok({ call: 'execve', tid: th, path: '/bin/true' }); // the leader (asleep in vfork) dies; th becomes pid 1
    expect(s.w.tasks[1].state).toBe('running');
    expect(s.w.tasks[v].vforkDoneFor).toBeNull();
  });
});

describe('proc_dointvec_minmax: writing /proc/sys/user/max_time_namespaces', () => {
  it('one value is taken, the rest is a short write; a second write on the same fd is ignored (sysctl_writes_strict)', () => {
    const s = new Sim();
    s.ok({ call: 'unshare', tid: 1, flags: CLONE.NEWUSER });
    const fd = s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
    expect(s.ok({ call: 'write', tid: 1, fd, data: '1 686 382408776' })).toBe(2);
    expect(s.ok({ call: 'write', tid: 1, fd, data: '5\n' })).toBe(2); // ignored, but reported as written
    expect(s.w.namespaces[s.w.tasks[1].cred.userns].maxTimeNamespaces).toBe(1);
    const fd2 = s.open(1, '/proc/sys/user/max_time_namespaces', 'w');
    s.err({ call: 'write', tid: 1, fd: fd2, data: '5x\n' }, 'EINVAL');
    s.err({ call: 'write', tid: 1, fd: fd2, data: 'monotonic 1 0\n' }, 'EINVAL');
    s.err({ call: 'write', tid: 1, fd: fd2, data: '-1\n' }, 'EINVAL');
    expect(s.ok({ call: 'write', tid: 1, fd: fd2, data: '  0x10\n' })).toBe(7);
    expect(s.w.namespaces[s.w.tasks[1].cred.userns].maxTimeNamespaces).toBe(16);
  });
});

describe('__ptrace_may_access: a non-dumpable target needs CAP_SYS_PTRACE over its mm\'s user namespace', () => {
  it('the owner of a child user namespace cannot read the ns links of a non-dumpable task in it whose mm comes from outside', () => {
    const s = new Sim();
    s.ok({ call: 'setresuid', tid: 1, ruid: 1000, euid: 1000, suid: 1000 }); // not dumpable any more
    const t1 = s.ok({ call: 'clone', tid: 1, flags: CLONE.NEWUSER | 17 }); // mm copied: user_ns is the initial one
    const t2 = s.thread(t1);
    s.err({ call: 'open', tid: 1, path: `/proc/${t2}/ns/user`, mode: 'r' }, 'EACCES');
    s.ok({ call: 'execve', tid: t1, path: '/bin/true' }); // a new mm in t1's user namespace, dumpable again
    expect(s.open(1, `/proc/${t1}/ns/user`, 'r')).toBeGreaterThan(2);
  });
});

describe('thread_group_empty and PTRACE_MODE_FSCREDS', () => {
  it('the last live thread of a group whose leader exited is not alone: unshare(CLONE_NEWUSER) is EINVAL, setns time is fine', () => {
    const s = new Sim();
    const b = s.fork(1);
    const th = s.thread(b);
    s.ok({ call: 'exit', tid: b, code: 3 });
    s.err({ call: 'unshare', tid: th, flags: CLONE.NEWUSER | NEWTIME }, 'EINVAL');
    s.ok({ call: 'unshare', tid: th, flags: NEWTIME });
  });
  it('opening /proc/PID/ns/* compares the fsuid (euid), not the real uid, with the target\'s uids', () => {
    const s = new Sim();
    const a = s.fork(1);
    s.ok({ call: 'setresuid', tid: a, ruid: 1000, euid: 1000, suid: 1000 });
    s.ok({ call: 'prctl_dumpable', tid: a, dumpable: true });
    const b = s.fork(1);
    s.ok({ call: 'setresuid', tid: b, ruid: -1, euid: 1000, suid: -1 }); // real uid 0, no effective capabilities
    expect(s.open(b, `/proc/${a}/ns/time`, 'r')).toBeGreaterThan(2);
  });
});

describe('proc_doulongvec_minmax reads', () => {
  it('max_time_namespaces read in pieces: the first read gets what fits, the next one is EOF', () => {
    const s = new Sim();
    const fd = s.open(1, '/proc/sys/user/max_time_namespaces', 'r');
    expect(s.do({ call: 'read', tid: 1, fd, count: 3 }).text).toBe('963');
    expect(s.do({ call: 'read', tid: 1, fd, count: 200 }).ret).toBe(0);
  });
});

describe('__ptrace_may_access on an exited task', () => {
  it('a non-dumpable zombie stays unreadable (EACCES, not ENOENT)', () => {
    const s = new Sim();
    s.ok({ call: 'setresuid', tid: 1, ruid: 1000, euid: 1000, suid: 1000 });
    s.ok({ call: 'unshare', tid: 1, flags: CLONE.NEWUSER | NEWTIME });
    const t2 = s.ok({ call: 'clone3', tid: 1, flags: NEWTIME, exit_signal: 17, size: 88 });
    s.ok({ call: 'exit_group', tid: t2, code: 1 });
    s.err({ call: 'readlink', tid: 1, path: `/proc/${t2}/ns/time_for_children` }, 'EACCES');
  });
  it('its dumpability at exit is overridden only by CAP_SYS_PTRACE in the initial user namespace, not over the namespace it exec\'d in', () => {
    const s = new Sim();
    const a = s.fork(1);
    s.ok({ call: 'setresuid', tid: a, ruid: -1, euid: 1000, suid: -1 });
    const t1 = s.ok({ call: 'clone3', tid: a, flags: CLONE.NEWUSER | NEWTIME, exit_signal: 17, size: 88 }); // owned by euid 1000
    s.ok({ call: 'execve', tid: t1, path: '/bin/true' }); // euid != uid: not dumpable, mm->user_ns = t1's namespace
    expect(s.open(a, `/proc/${t1}/ns/time`, 'r')).toBeGreaterThan(2); // running: a's capabilities there suffice
    s.ok({ call: 'exit_group', tid: t1, code: 1 });
    s.err({ call: 'open', tid: a, path: `/proc/${t1}/ns/time`, mode: 'r' }, 'EACCES');
    s.ok({ call: 'setresuid', tid: a, ruid: -1, euid: 0, suid: -1 }); // root again: CAP_SYS_PTRACE in the initial namespace
    s.err({ call: 'open', tid: a, path: `/proc/${t1}/ns/time`, mode: 'r' }, 'ENOENT');
  });
});

describe('exec raising capabilities, and reparenting a zombie leader', () => {
  it('root that dropped capabilities regains them at exec but becomes non-dumpable (commit_creds)', () => {
    const s = new Sim();
    const th = s.thread(1);
    s.ok({ call: 'capset', tid: th, caps: [] });
    s.ok({ call: 'execve', tid: th, path: '/bin/true' });
    expect(s.w.tasks[1].cred.dumpable).toBe(false);
    s.ok({ call: 'capset', tid: 1, caps: ['CAP_SYS_ADMIN'] });
    const k = s.ok({ call: 'clone3', tid: 1, flags: NEWTIME, exit_signal: 17, size: 88 });
    s.err({ call: 'open', tid: k, path: '/proc/1/ns/time_for_children', mode: 'r' }, 'EACCES');
  });
  it('a zombie leader whose thread still runs is not reaped when its parent exits', () => {
    const s = new Sim();
    const p = s.fork(1);
    const c = s.fork(p);
    const th = s.thread(c);
    s.ok({ call: 'exit', tid: c, code: 0 });
    s.ok({ call: 'exit_group', tid: p, code: 0 });
    expect(s.w.tasks[c].state).toBe('zombie');
    s.ok({ call: 'exit', tid: th, code: 0 });
    expect(s.w.tasks[c]).toBeUndefined();
  });
});

describe('/proc/PID/ns has only the namespace links: any other name is ENOENT (checked: open and readlink here)', () => {
  it('names that are properties of every JavaScript object are not links', () => {
    const s = new Sim();
    for (const name of ['constructor', '__proto__', '__definegetter__', 'timez']) {
      s.err({ call: 'readlink', tid: 1, path: `/proc/self/ns/${name}` }, 'ENOENT');
      s.err({ call: 'open', tid: 1, path: `/proc/self/ns/${name}`, mode: 'r' }, 'ENOENT');
    }
    expect(s.do({ call: 'readlink', tid: 1, path: '/proc/self/ns/time' }).text).toMatch(/^time:\[\d+\]$/);
  });
});
