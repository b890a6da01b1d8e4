/** kernel/nsproxy.c setns(fd, nstype): by an nsfs fd or by a pidfd, with each namespace type's install check. */
import { CLONE, fail, NS_FLAG, ok, type Outcome } from './ops.js';
import type { Cred, Namespace, Nsproxy, NsType, Task, World } from './types.js';
import { cloneCred, nsCapable, ptraceMayAccess } from './cred.js';
import { copyNsproxy, getNs, putNs, putNsproxy, setSlot, switchTaskNamespaces } from './refs.js';
import { timensCommit } from './timens.js';
import { ALL_CAPS, isSingleThreaded, ModelError, profileOf, task, threadGroupEmpty } from './world.js';
import { fileAt } from './files.js';

const SETNS_KNOWN = CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWTIME | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWCGROUP;

type InstallResult = { ok: true } | { ok: false; errno: 'EPERM' | 'EUSERS' | 'EINVAL'; rule: string };

interface NsSet {
  nsproxy: Nsproxy;
  cred: Cred | null;
}

/** The ns_ops->install check and effect of one namespace into the nsset. */
function install(world: World, me: Task, set: NsSet, ns: Namespace): InstallResult {
  const cur = me.cred;
  const setCred = set.cred ?? cur;
  switch (ns.type) {
    case 'time': {
      if (!isSingleThreaded(world, me))
        return { ok: false, errno: 'EUSERS', rule: 'setns time: the caller is not single-threaded (another thread, or a process sharing its mm) (EUSERS)' };
      // ns_capable judges the current cred; the second target is nsset->cred's user namespace (the joined one with CLONE_NEWUSER).
      if (!nsCapable(world, cur, ns.owner!, 'CAP_SYS_ADMIN') || !nsCapable(world, cur, setCred.userns, 'CAP_SYS_ADMIN'))
        return { ok: false, errno: 'EPERM', rule: 'setns time: needs CAP_SYS_ADMIN over the namespace\'s owner and over the (new) cred\'s user namespace (EPERM)' };
      setSlot(world, set.nsproxy, 'time', ns.inum);
      setSlot(world, set.nsproxy, 'time_for_children', ns.inum);
      return { ok: true };
    }
    case 'user': {
      if (ns.inum === cur.userns) return { ok: false, errno: 'EINVAL', rule: 'setns user: already in that user namespace (EINVAL)' };
      if (!threadGroupEmpty(world, me)) return { ok: false, errno: 'EINVAL', rule: 'setns user: multithreaded caller (EINVAL)' };
      if (!nsCapable(world, cur, ns.inum, 'CAP_SYS_ADMIN'))
        return { ok: false, errno: 'EPERM', rule: 'setns user: needs CAP_SYS_ADMIN in the target user namespace (EPERM)' };
      const cred = set.cred!;
      cred.userns = ns.inum;
      // set_cred_user_ns: the full capability set in the joined namespace.
      cred.caps = [...ALL_CAPS];
      cred.permitted = [...ALL_CAPS];
      return { ok: true };
    }
    case 'pid': {
      if (!nsCapable(world, cur, ns.owner!, 'CAP_SYS_ADMIN') || !nsCapable(world, cur, setCred.userns, 'CAP_SYS_ADMIN'))
        return { ok: false, errno: 'EPERM', rule: 'setns pid: needs CAP_SYS_ADMIN over the owner and in the caller\'s user namespace (EPERM)' };
      // Only the active pid namespace or a descendant of it.
      let p: number | null | undefined = ns.inum;
      while (p != null && p !== me.pidns) p = world.namespaces[p]?.parent;
      if (p == null) return { ok: false, errno: 'EINVAL', rule: 'setns pid: not the active pid namespace or a descendant (EINVAL)' };
      setSlot(world, set.nsproxy, 'pid_for_children', ns.inum);
      return { ok: true };
    }
    default: {
      const type = ns.type as Exclude<NsType, 'time' | 'user' | 'pid'>;
      if (!nsCapable(world, cur, ns.owner!, 'CAP_SYS_ADMIN') || !nsCapable(world, cur, setCred.userns, 'CAP_SYS_ADMIN'))
        return { ok: false, errno: 'EPERM', rule: `setns ${type}: needs CAP_SYS_ADMIN over the owner and in the caller's user namespace (EPERM)` };
      setSlot(world, set.nsproxy, type, ns.inum);
      return { ok: true };
    }
  }
}

export function sysSetns(world: World, tid: number, fd: number, nstype: number): Outcome {
  const me = task(world, tid);
  if (me.state !== 'running') throw new ModelError(`task ${tid} is a zombie and cannot call setns`);
  const file = fileAt(world, me, fd);
  if (!file) return fail('EBADF', `setns: fd ${fd} is not open (EBADF)`);
  const profile = profileOf(world);
  let flags: number;
  let nsfsTarget: Namespace | null = null;
  if (file.kind === 'nsfs') {
    nsfsTarget = world.namespaces[file.ns];
    const want = NS_FLAG[nsfsTarget.type];
    if (nstype && nstype !== want)
      return fail('EINVAL', `setns: fd ${fd} is a ${nsfsTarget.type} namespace, nstype 0x${nstype.toString(16)} asks for another type (EINVAL)`);
    flags = want;
  } else if (file.kind === 'pidfd' && profile.pidfdSetns) {
    if (!nstype || nstype < 0 || nstype > 0xffffffff || ((nstype >>> 0) & ~SETNS_KNOWN) !== 0)
      return fail('EINVAL', `setns: pidfd with nstype 0x${(nstype >>> 0).toString(16)}: needs known CLONE_NEW* bits (EINVAL)`);
    if (nstype & CLONE.NEWTIME && !profile.pidfdSetnsTime)
      return fail('EINVAL', `setns (${profile.name}): CLONE_NEWTIME by pidfd arrived in 5.9 (EINVAL)`);
    flags = nstype;
  } else {
    return fail('EINVAL', `setns: fd ${fd} is neither an nsfs file nor a pidfd (EINVAL)`);
  }

  // prepare_nsset: a private copy of the caller's nsproxy (and cred when CLONE_NEWUSER).
  const set: NsSet = { nsproxy: copyNsproxy(world, world.nsproxies[me.nsproxy!]), cred: flags & CLONE.NEWUSER ? cloneCred(me.cred) : null };
  const abort = (errno: InstallResult & { ok: false }): Outcome => {
    putNsproxy(world, set.nsproxy.id);
    return fail(errno.errno, errno.rule);
  };

  const targets: Namespace[] = [];
  if (nsfsTarget) targets.push(nsfsTarget);
  else {
    // validate_nsset: a snapshot of the target task's namespaces, in the kernel's order.
    const target = world.tasks[(file as { pid: number }).pid];
    if (!target) {
      putNsproxy(world, set.nsproxy.id);
      return fail('ESRCH', 'setns: the pidfd\'s process has been reaped (ESRCH)');
    }
    if (!ptraceMayAccess(world, me, target, 'realcreds')) {
      putNsproxy(world, set.nsproxy.id);
      return fail('EPERM', `setns: no ptrace read access to ${target.tid} (EPERM)`);
    }
    if (target.nsproxy === null) {
      putNsproxy(world, set.nsproxy.id);
      return fail('ESRCH', `setns: process ${target.tid} has exited (no nsproxy) (ESRCH)`);
    }
    const tn = world.nsproxies[target.nsproxy];
    const order: [number, number][] = [
      [CLONE.NEWUSER, target.cred.userns],
      [CLONE.NEWNS, tn.mnt],
      [CLONE.NEWUTS, tn.uts],
      [CLONE.NEWIPC, tn.ipc],
      [CLONE.NEWPID, target.pidns],
      [CLONE.NEWCGROUP, tn.cgroup],
      [CLONE.NEWNET, tn.net],
      [CLONE.NEWTIME, tn.time],
    ];
    for (const [bit, inum] of order) if (flags & bit) targets.push(world.namespaces[inum]);
  }
  for (const ns of targets) {
    const r = install(world, me, set, ns);
    if (!r.ok) return abort(r);
  }

  // commit_nsset: creds first, then timens_commit, then switch_task_namespaces.
  if (set.cred) {
    getNs(world, set.cred.userns);
    putNs(world, me.cred.userns);
    me.cred = set.cred;
  }
  if (flags & CLONE.NEWTIME) timensCommit(world, set.nsproxy.time);
  switchTaskNamespaces(world, tid, set.nsproxy.id);
  return { ret: 0 };
}
