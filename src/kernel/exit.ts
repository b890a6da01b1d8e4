/** kernel/exit.c: exit, exit_group (and death by a signal), zombies, reaping by wait, reparenting orphans. */
import { fail, ok, type Outcome } from './ops.js';
import type { Task, World } from './types.js';
import { exitResources, releaseThread } from './exec.js';
import { putNs } from './refs.js';
import { adoptWithinGroup, ModelError, removeTask, reparent, task } from './world.js';

/** do_exit for one thread. A non-leader is released at once; a leader stays a zombie until reaped. */
function doExit(world: World, t: Task, code: number): void {
  exitResources(world, t.tid);
  t.exitCode = code;
  if (t.tid !== t.tgid) {
    releaseThread(world, t.tid);
  } else {
    t.state = 'zombie';
    adoptWithinGroup(world, t.tid);
  }
  const leader = world.tasks[t.tgid];
  if (leader && groupDone(world, t.tgid)) {
    reparentChildren(world, t.tgid);
    // No parent in the model (or a thread-less exit_signal -1) means an outside reaper: reap at once.
    if (leader.ppid === world.reaper || !world.tasks[leader.ppid]) reap(world, leader.tid);
  }
}

/** Whether no thread of the group is running any more. */
function groupDone(world: World, tgid: number): boolean {
  const group = world.groups[tgid];
  if (group === undefined) return true;
  for (let i = 0; i < group.length; i++) if (world.tasks[group[i]].state === 'running') return false;
  return true;
}

/** forget_original_parent: children go to the reaper; zombies among them are reaped at once by it. */
function reparentChildren(world: World, tgid: number): void {
  const children = world.children[tgid];
  if (children === undefined) return;
  for (const child of [...children]) {
    if (child === tgid) continue;
    reparent(world, child, world.reaper);
    // reparent_leader: a zombie leader is handed to the new reaper only once its thread group is empty.
    const c = world.tasks[child];
    const groupLive = (world.groups[child] ?? []).some((tid) => tid !== child);
    if (c && c.state === 'zombie' && !groupLive) reap(world, c.tid);
  }
}

/** release_task: the zombie's pid, credentials and struct pid go. */
function reap(world: World, tid: number): void {
  const t = world.tasks[tid];
  putNs(world, t.cred.userns);
  putNs(world, t.pidns);
  removeTask(world, tid);
}

export function sysExit(world: World, tid: number, code: number): Outcome {
  const t = task(world, tid);
  if (t.state !== 'running') throw new ModelError(`task ${tid} has already exited`);
  doExit(world, t, code);
  return { ret: 0 };
}

export function sysExitGroup(world: World, tid: number, code: number): Outcome {
  const t = task(world, tid);
  if (t.state !== 'running') throw new ModelError(`task ${tid} has already exited`);
  const group = world.groups[t.tgid];
  // A single-threaded process (the common case) has no other thread to stop.
  if (group !== undefined && !(group.length === 1 && group[0] === t.tid)) {
    const others = group.map((x) => world.tasks[x]).filter((o) => o.tid !== t.tid && o.state === 'running');
    // Other threads die first (zap_other_threads), the leader last so the group ends as one zombie.
    for (const o of others.sort((a, b) => (a.tid === a.tgid ? 1 : b.tid === b.tgid ? -1 : a.tid - b.tid))) {
      if (world.tasks[o.tid]) doExit(world, world.tasks[o.tid], code);
    }
  }
  if (world.tasks[t.tid]) doExit(world, world.tasks[t.tid], code);
  return { ret: 0 };
}

/**
 * wait4/waitid: reap a zombie child (target a tgid, or -1 for any). ECHILD without such a child. __do_wait looks at
 * the children list of the calling thread first, then of each other thread of its process in thread-list order from
 * it (while_each_thread); in each list, the first child that is a zombie with every thread a zombie. Seen live: a
 * thread's wait(-1) reaps its own exited child before an older one its leader forked.
 */
export function sysWait(world: World, tid: number, target: number): Outcome {
  const t = task(world, tid);
  const list = world.children[t.tgid] ?? [];
  const group = world.groups[t.tgid];
  const single = group === undefined || group.length === 1;
  const start = single ? 0 : group.indexOf(t.tid);
  let any = false;
  let zombie: Task | undefined;
  let best = Infinity;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (target !== -1 && c !== target) continue;
    const ct = world.tasks[c];
    if (ct === undefined) continue;
    any = true;
    if (ct.state === 'zombie' && allZombies(world, ct.tgid)) {
      if (single) {
        zombie = ct;
        break;
      }
      // the rank of the thread whose list holds it, counted from the caller (a parent thread not in the group: last)
      const at = group.indexOf(ct.realParent ?? t.tgid);
      const rank = at < 0 ? group.length : (at - start + group.length) % group.length;
      if (rank < best) {
        best = rank;
        zombie = ct;
      }
    }
  }
  if (!any) return fail('ECHILD', `wait: no child ${target === -1 ? '' : target + ' '}of ${t.tgid} (ECHILD)`);
  if (!zombie) return fail('EAGAIN', `wait: no child of ${t.tgid} has exited yet (would block)`);
  const pid = zombie.tid;
  reap(world, pid);
  return { ret: pid };
}

function allZombies(world: World, tgid: number): boolean {
  const group = world.groups[tgid];
  if (group === undefined) return true;
  for (let i = 0; i < group.length; i++) if (world.tasks[group[i]].state !== 'zombie') return false;
  return true;
}
