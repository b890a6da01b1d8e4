/** fs/exec.c begin_new_exec: de_thread, a new mm (vfork parent released), unshare_files + close-on-exec, exec_task_namespaces. */
import { fail, ok, type Outcome } from './ops.js';
import type { World } from './types.js';
import { nsproxyOfTask, timensOnFork } from './nsproxy.js';
import { copyNsproxy, putNs, switchTaskNamespaces } from './refs.js';
import { dupFdTable } from './fork.js';
import { closeFd, putFdTable } from './files.js';
import { adoptWithinGroup, ALL_CAPS, freeId, ModelError, newId, profileOf, removeTask, renameTask, task } from './world.js';
import { makeKuid } from './cred.js';
import type { Cap, Cred } from './types.js';
import type { Errno } from './ops.js';

export function sysExecve(world: World, tid: number, path: string, fsError?: Errno): Outcome {
  let t = task(world, tid);
  if (t.state !== 'running') throw new ModelError(`task ${tid} is a zombie and cannot exec`);
  if (fsError) return fail(fsError, `execve ${path}: ${fsError} from the filesystem`);

  // de_thread: every other thread dies (released at once); a non-leader takes over the leader's pid.
  const group = world.groups[t.tgid];
  if (group.length !== 1 || group[0] !== t.tid) for (const tid of [...group]) if (tid !== t.tid) releaseThread(world, tid, t.tid);
  if (t.tid !== t.tgid) {
    const tgid = t.tgid;
    renameTask(world, t.tid, tgid);
    t = world.tasks[tgid];
  }

  // exec_mmap: a new mm; mm_release wakes a vfork parent.
  if (t.mm !== null) mmput(world, t.mm);
  const mm = newId(world, 'mm');
  // bprm_mm_init → mm_alloc: mm->user_ns is the exec'ing task's user namespace.
  world.mms[mm] = { id: mm, users: 1, userns: t.cred.userns };
  t.mm = mm;
  t.vforkDoneFor = null;

  // unshare_files, then close the close-on-exec fds.
  if (t.files !== null) {
    const table = world.fdtables[t.files];
    if (table.count > 1) {
      const copy = dupFdTable(world, t.files);
      putFdTable(world, t.files);
      t.files = copy;
    }
    const fds = world.fdtables[t.files].fds;
    // The fd numbers first (closeFd deletes from the table), in fd order.
    const keys = Object.keys(fds);
    for (let i = 0; i < keys.length; i++) if (fds[keys[i] as unknown as number].cloexec) closeFd(world, t, Number(keys[i]));
  }
  execCreds(world, t.cred);

  // exec_task_namespaces (6.2+): T := C, freezing C.
  if (profileOf(world).execSwitchesTimens) {
    const nsp = nsproxyOfTask(world, t);
    if (nsp.time !== nsp.time_for_children) {
      const copy = copyNsproxy(world, nsp);
      timensOnFork(world, copy);
      switchTaskNamespaces(world, t.tid, copy.id);
    }
  }
  return { ret: 0 };
}

/** mmput: drop one user of an mm; the last one frees it. */
function mmput(world: World, id: number): void {
  const mm = world.mms[id];
  mm.users--;
  if (mm.users > 0) return;
  delete world.mms[id];
  freeId(world, 'mm', id);
}

/**
 * A thread that dies without becoming a zombie (de_thread, or a non-leader's exit): everything released. Its
 * children go to `heir` (de_thread: the exec'ing thread), by default to the first live thread of its process.
 */
export function releaseThread(world: World, tid: number, heir?: number): void {
  adoptWithinGroup(world, tid, heir);
  const o = world.tasks[tid];
  // A vfork child's completion belonged to this task: nobody waits for it any more (the tid may be taken over by
  // the thread that exec'd).
  // (a vfork child is a process: it is among the children of this thread's process)
  for (const c of world.children[o.tgid] ?? []) if (world.tasks[c]?.vforkDoneFor === tid) world.tasks[c].vforkDoneFor = null;
  exitResources(world, tid);
  putNs(world, o.cred.userns);
  putNs(world, o.pidns);
  removeTask(world, tid);
}

/** do_exit's releases: the mm (waking a vfork parent), the fd table, the nsproxy (exit_task_namespaces). */
export function exitResources(world: World, tid: number): void {
  const t = world.tasks[tid];
  if (t.mm !== null) {
    mmput(world, t.mm);
    t.mm = null;
  }
  t.vforkDoneFor = null;
  if (t.files !== null) {
    putFdTable(world, t.files);
    t.files = null;
  }
  if (t.nsproxy !== null) switchTaskNamespaces(world, tid, null);
}

/**
 * cap_bprm_creds_from_file for a binary without file capabilities (and an empty ambient set), and begin_new_exec's
 * dumpability. handle_privileged_root: when uid 0 of the task's user namespace is a valid id and the real or
 * effective uid is it, the new permitted set is the bounding set (effective too when the euid is root); anyone else
 * ends with no capabilities — also root in a user namespace without a uid map (make_kuid(ns, 0) is invalid there).
 * A changed id (euid ≠ uid) makes the exec secure: the mm is not dumpable (suid_dumpable 0); otherwise dumpable.
 */
function execCreds(world: World, c: Cred): void {
  const root = makeKuid(world, c.userns, 0);
  const isReal = root !== null && c.uid === root;
  const isEff = root !== null && c.euid === root;
  const oldPermitted = c.permitted;
  c.permitted = isReal || isEff ? (c.userns === world.init.user ? sortedCopy(world.rootCaps) : ALL_CAPS_SORTED.slice()) : [];
  c.caps = isEff ? c.permitted.slice() : [];
  // begin_new_exec sets SUID_DUMP_USER unless euid != uid; then commit_creds makes the mm non-dumpable when the
  // permitted set grew (cred_cap_issubset fails), e.g. root exec'ing after dropping capabilities (seen live).
  c.dumpable = c.euid === c.uid && isSubset(c.permitted, oldPermitted);
}

const ALL_CAPS_SORTED: readonly Cap[] = [...ALL_CAPS].sort();

/** [...list].sort() without the sort when the list is sorted already (rootCaps is; the default sort orders by code units, as `<` does). */
function sortedCopy(list: readonly Cap[]): Cap[] {
  for (let i = 1; i < list.length; i++) if (list[i - 1] > list[i]) return [...list].sort();
  return list.slice();
}

function isSubset(sub: readonly Cap[], of: readonly Cap[]): boolean {
  for (let i = 0; i < sub.length; i++) if (!of.includes(sub[i])) return false;
  return true;
}
