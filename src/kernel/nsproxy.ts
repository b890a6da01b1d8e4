/**
 * kernel/nsproxy.c: create_new_namespaces, copy_namespaces (fork), timens_on_fork, unshare_nsproxy_namespaces.
 */
import { NS_FLAG, type Errno } from './ops.js';
import type { Namespace, Nsproxy, NsType, Task, World } from './types.js';
import { copyNsproxy, newNs, putNsproxy, setSlot } from './refs.js';
import { cloneTimeNs, timensCommit } from './timens.js';
import { allocInum } from './world.js';

export type NsResult = { ok: true; nsproxy: Nsproxy } | { ok: false; errno: Errno; rule: string };

/** The namespace types create_new_namespaces copies, in its order, with the nsproxy slot each one fills. */
const CREATE_ORDER: { type: Exclude<NsType, 'user' | 'time'>; slot: 'mnt' | 'uts' | 'ipc' | 'pid_for_children' | 'cgroup' | 'net' }[] = [
  { type: 'mnt', slot: 'mnt' },
  { type: 'uts', slot: 'uts' },
  { type: 'ipc', slot: 'ipc' },
  { type: 'pid', slot: 'pid_for_children' },
  { type: 'cgroup', slot: 'cgroup' },
  { type: 'net', slot: 'net' },
];

/**
 * create_new_namespaces(flags, tsk, user_ns): a new nsproxy referencing tsk's namespaces, with a new namespace,
 * owned by `userns`, for each CLONE_NEW* flag. Time: the new T references the old T; with CLONE_NEWTIME the new C
 * is a fresh namespace copying the old C's offsets, otherwise it references the old C. On failure everything
 * taken is released.
 */
export function createNewNamespaces(world: World, flags: number, from: Nsproxy, userns: number, creatorEuid: number): NsResult {
  const nsp = copyNsproxy(world, from);
  for (const { type, slot } of CREATE_ORDER) {
    if (!(flags & NS_FLAG[type])) continue;
    let ns: Namespace;
    if (type === 'pid') {
      const parent = world.namespaces[from.pid_for_children];
      const extra = { parent: parent.inum, level: (parent.level ?? 0) + 1 };
      world.namespaces[parent.inum].count++;
      ns = newNs(world, type, allocInum(world), userns, extra);
    } else ns = newNs(world, type, allocInum(world), userns);
    setSlot(world, nsp, slot, ns.inum);
    ns.count--; // setSlot took the nsproxy's reference; drop the creation reference
  }
  if (flags & NS_FLAG.time) {
    const x = cloneTimeNs(world, userns, creatorEuid, from.time_for_children);
    if (x === 'ENOSPC') {
      putNsproxy(world, nsp.id);
      return {
        ok: false,
        errno: 'ENOSPC',
        rule: 'clone_time_ns: max_time_namespaces reached for the user namespace or one of its ancestors (ENOSPC)',
      };
    }
    setSlot(world, nsp, 'time_for_children', x.inum);
    x.count--;
  }
  return { ok: true, nsproxy: nsp };
}

/**
 * timens_on_fork(nsproxy, tsk): when T != C the new task's T becomes C, and C is frozen (committed).
 */
export function timensOnFork(world: World, nsp: Nsproxy): void {
  if (nsp.time === nsp.time_for_children) return;
  setSlot(world, nsp, 'time', nsp.time_for_children);
  timensCommit(world, nsp.time);
}

export const ALL_NEW_NS_BUT_USER =
  NS_FLAG.mnt | NS_FLAG.uts | NS_FLAG.ipc | NS_FLAG.pid | NS_FLAG.net | NS_FLAG.cgroup | NS_FLAG.time;

export function nsproxyOfTask(world: World, t: Task): Nsproxy {
  if (t.nsproxy === null) throw new Error(`model invariant: task ${t.tid} has no nsproxy`);
  return world.nsproxies[t.nsproxy];
}
