/** Credentials and capabilities: ns_capable (cap_capable), ptrace_may_access, setresuid, capset. */
import type { Cap, Cred, Task, World } from './types.js';

/**
 * cap_capable(cred, target_ns, cap): walk up from the target user namespace. In the cred's own namespace the
 * effective set decides; the owner (euid) of a child namespace of the cred's namespace has every capability in it;
 * a capability in an ancestor covers every descendant.
 */
export function nsCapable(world: World, cred: Cred, target: number, cap: Cap): boolean {
  let ns = target;
  const credLevel = world.namespaces[cred.userns]?.level ?? 0;
  for (;;) {
    if (ns === cred.userns) return cred.caps.includes(cap);
    const u = world.namespaces[ns];
    if (!u || (u.level ?? 0) <= credLevel) return false;
    if (u.parent === cred.userns && u.ownerUid === cred.euid) return true;
    if (u.parent == null) return false;
    ns = u.parent;
  }
}

/**
 * mm->user_ns: the user namespace the task was in when its mm was made (its last exec; fork copies it); the initial
 * user namespace when unknown, or when the task has no mm any more (an exited task: see ptraceMayAccess).
 */
export function mmUserns(world: World, t: Task): number {
  if (t.mm === null) return world.init.user;
  const mm = world.mms[t.mm];
  return mm?.userns ?? world.init.user;
}

/**
 * __ptrace_may_access(task, PTRACE_MODE_READ_*): same thread group; or the caller's uid equals the target's
 * uid, euid and suid and the target is dumpable; or CAP_SYS_PTRACE over the target's user namespace. Then the
 * LSM hook cap_ptrace_access_check (security/commoncap.c): the caller must be in the target's user namespace with
 * a superset of the target's permitted capabilities (effective ones for FSCREDS, permitted ones for REALCREDS), or
 * have CAP_SYS_PTRACE over the target's user namespace. (gids and other LSMs are not modelled; Yama only restricts
 * attach, not read.)
 */
export function ptraceMayAccess(world: World, caller: Task, target: Task, mode: 'fscreds' | 'realcreds' = 'fscreds'): boolean {
  if (caller.tgid === target.tgid) return true;
  const c = caller.cred;
  const t = target.cred;
  // caller_uid: the fsuid (= euid here) for PTRACE_MODE_FSCREDS, the real uid for REALCREDS.
  const callerUid = mode === 'fscreds' ? c.euid : c.uid;
  const sameUser = callerUid === t.euid && callerUid === t.suid && callerUid === t.uid;
  const ptraceCap = nsCapable(world, c, t.userns, 'CAP_SYS_PTRACE');
  if (!sameUser && !ptraceCap) return false;
  // if (mm && get_dumpable(mm) != SUID_DUMP_USER && !ptrace_has_cap(mm->user_ns, mode)): the mm's user namespace.
  // A task without an mm (exited: a zombie) is judged by the dumpability it had at exit_mm (task->user_dumpable) and
  // needs CAP_SYS_PTRACE in the initial user namespace to override it — "ptrace: slightly saner 'get_dumpable()'
  // logic" (mainline 2026-05, CVE-2026-46333, in the 6.18 stable series). Seen live: a non-dumpable zombie that had
  // exec'd in a child user namespace is EACCES even for that namespace's owner, who passes while it runs.
  if (!t.dumpable && !nsCapable(world, c, mmUserns(world, target), 'CAP_SYS_PTRACE')) return false;
  const callerCaps = mode === 'fscreds' ? c.caps : c.permitted;
  const subset = c.userns === t.userns && t.permitted.every((cap) => callerCaps.includes(cap));
  return subset || ptraceCap;
}

/** prepare_creds: a copy of a cred (field by field, so it also works on an immer draft). */
export function cloneCred(c: Cred): Cred {
  return { uid: c.uid, euid: c.euid, suid: c.suid, userns: c.userns, caps: c.caps.slice(), permitted: c.permitted.slice(), dumpable: c.dumpable };
}

/** make_kuid(ns, uid): the global uid that `uid` of user namespace `userns` is, or null when unmapped. */
export function makeKuid(world: World, userns: number, uid: number): number | null {
  const ns = world.namespaces[userns];
  if (!ns || ns.uidMap === undefined) return uid;
  for (const e of ns.uidMap ?? []) if (uid >= e.first && uid < e.first + e.count) return e.lower + (uid - e.first);
  return null;
}

/** kuid_has_mapping(ns, kuid): whether a global uid has a name in user namespace `userns`. */
export function kuidMapped(world: World, userns: number, kuid: number): boolean {
  const ns = world.namespaces[userns];
  if (!ns || ns.uidMap === undefined) return true;
  return (ns.uidMap ?? []).some((e) => kuid >= e.lower && kuid < e.lower + e.count);
}

/**
 * setresuid(ruid, euid, suid), -1 keeps a value. Unprivileged callers may only use their current r/e/s uids;
 * CAP_SETUID in the caller's user namespace allows any mapped uid. Capabilities follow
 * cap_emulate_setxuid: leaving uid 0 in all three clears permitted and effective; euid 0 → non-zero clears effective;
 * euid non-zero → 0 restores effective from permitted.
 */
export function setresuid(world: World, t: Task, r: number, e: number, s: number): 'ok' | 'EPERM' | 'EINVAL' {
  const c = t.cred;
  const want = [r, e, s];
  if (want.some((v) => v !== -1 && (v < 0 || v > 0xfffffffe))) return 'EINVAL';
  // make_kuid in the caller's user namespace: an unmapped id is EINVAL.
  const k = want.map((v) => (v === -1 ? -1 : makeKuid(world, c.userns, v)));
  if (k.some((v) => v === null)) return 'EINVAL';
  const [kr, ke, ks] = k as number[];
  const privileged = nsCapable(world, c, c.userns, 'CAP_SETUID');
  if (!privileged) {
    const mine = [c.uid, c.euid, c.suid];
    if ([kr, ke, ks].some((v) => v !== -1 && !mine.includes(v))) return 'EPERM';
  }
  const old = { ...c };
  if (kr !== -1) c.uid = kr;
  if (ke !== -1) c.euid = ke;
  if (ks !== -1) c.suid = ks;
  // cap_emulate_setxuid, with root = make_kuid(user_ns, 0).
  const root = makeKuid(world, c.userns, 0);
  const isRoot = (v: number) => root !== null && v === root;
  if ((isRoot(old.uid) || isRoot(old.euid) || isRoot(old.suid)) && !isRoot(c.uid) && !isRoot(c.euid) && !isRoot(c.suid)) {
    c.permitted = [];
    c.caps = [];
  }
  if (isRoot(old.euid) && !isRoot(c.euid)) c.caps = [];
  if (!isRoot(old.euid) && isRoot(c.euid)) c.caps = [...c.permitted];
  // commit_creds: a changed euid makes the mm non-dumpable (suid_dumpable = 0), for every thread sharing it.
  if (old.euid !== c.euid) setDumpable(world, t, false);
  return 'ok';
}

/** capset: the new effective set must be within the permitted set; the permitted set may only shrink. */
export function capset(t: Task, caps: Cap[]): 'ok' | 'EPERM' {
  const c = t.cred;
  if (caps.some((cap) => !c.permitted.includes(cap))) return 'EPERM';
  c.caps = [...caps].sort();
  c.permitted = [...caps].sort();
  return 'ok';
}

/** The dumpable flag lives in the mm: every task sharing it sees the change (an mm with one user is only this task's). */
export function setDumpable(world: World, t: Task, dumpable: boolean): void {
  t.cred.dumpable = dumpable;
  if (t.mm === null || world.mms[t.mm].users <= 1) return;
  for (const k in world.tasks) {
    const o = world.tasks[k];
    if (o.mm === t.mm) o.cred.dumpable = dumpable;
  }
}
