/** kernel/fork.c: fork, vfork, clone, clone3 → copy_process, in the kernel's order of checks. */
import { CLONE, fail, ok, type Errno, type Outcome, type SyscallOp } from './ops.js';
import type { Cred, FdEntry, Task, World } from './types.js';
import { cloneCred, nsCapable } from './cred.js';
import { createNewNamespaces, ALL_NEW_NS_BUT_USER, nsproxyOfTask, timensOnFork } from './nsproxy.js';
import { getNs, putNs, putNsproxy } from './refs.js';
import { createUserNs } from './userns.js';
import { ModelError, addTask, allocPid, newId, profileOf, task } from './world.js';
import { installFd, newFile } from './files.js';

/** struct kernel_clone_args, as far as the model needs it. */
export interface CloneArgs {
  flags: number;
  exitSignal: number;
  setTid?: number[];
  child?: number;
  pidfd?: number;
  /** Which entry point: for the messages. */
  via: 'fork' | 'vfork' | 'clone' | 'clone3';
}

const CLONE3_SIZE_VER0 = 64;
const PAGE_SIZE = 4096;
const NSIG = 64;

/** The syscall entry points: decode into kernel_clone_args, with clone3's own argument checks. */
export function sysClone(world: World, op: Extract<SyscallOp, { call: 'fork' | 'vfork' | 'clone' | 'clone3' }>): Outcome {
  switch (op.call) {
    case 'fork':
      return kernelClone(world, op.tid, { flags: 0, exitSignal: 17, child: op.child, via: 'fork' });
    case 'vfork':
      return kernelClone(world, op.tid, { flags: CLONE.VM | CLONE.VFORK, exitSignal: 17, child: op.child, via: 'vfork' });
    case 'clone': {
      // Legacy clone: the low byte (0x80 included) is the exit signal, never a flag.
      const low = op.flags % 0x100000000;
      return kernelClone(world, op.tid, {
        flags: low - (low & CLONE.CSIGNAL),
        exitSignal: low & CLONE.CSIGNAL,
        child: op.child,
        pidfd: op.pidfd,
        via: 'clone',
      });
    }
    case 'clone3': {
      if (op.size > PAGE_SIZE) return fail('E2BIG', `clone3: size ${op.size} is larger than a page (E2BIG)`);
      if (op.size < CLONE3_SIZE_VER0) return fail('EINVAL', `clone3: size ${op.size} is below CLONE_ARGS_SIZE_VER0 (64) (EINVAL)`);
      if (op.tailNonZero) return fail('E2BIG', `clone3: bytes past struct clone_args are not zero (copy_struct_from_user) (E2BIG)`);
      const setTid = op.set_tid ?? [];
      if (setTid.length > 32) return fail('EINVAL', 'clone3: set_tid_size exceeds MAX_PID_NS_LEVEL (EINVAL)');
      if (!Number.isInteger(op.exit_signal) || op.exit_signal < 0 || op.exit_signal > 0xff || op.exit_signal > NSIG)
        return fail('EINVAL', `clone3: exit_signal ${op.exit_signal} is not a valid signal (EINVAL)`);
      const flags = op.flags;
      const high = Math.floor(flags / 0x100000000);
      const low = flags % 0x100000000;
      const known = high & ~(CLONE.CLEAR_SIGHAND / 0x100000000 | CLONE.INTO_CGROUP / 0x100000000);
      if (known !== 0) return fail('EINVAL', `clone3: unknown flag bits 0x${flags.toString(16)} (EINVAL)`);
      const csignalAllowed = profileOf(world).clone3NewTime ? CLONE.CSIGNAL & ~CLONE.NEWTIME : CLONE.CSIGNAL;
      if (low & CLONE.DETACHED || low & csignalAllowed)
        return fail(
          'EINVAL',
          low & CLONE.NEWTIME && !profileOf(world).clone3NewTime
            ? 'clone3: CLONE_NEWTIME is a CSIGNAL bit before 6.3 (EINVAL)'
            : 'clone3: CLONE_DETACHED and the CSIGNAL bits are not flags in clone3 (EINVAL)',
        );
      if (high & (CLONE.CLEAR_SIGHAND / 0x100000000) && low & CLONE.SIGHAND)
        return fail('EINVAL', 'clone3: CLONE_SIGHAND with CLONE_CLEAR_SIGHAND (EINVAL)');
      if (low & (CLONE.THREAD | CLONE.PARENT) && op.exit_signal !== 0)
        return fail('EINVAL', 'clone3: CLONE_THREAD/CLONE_PARENT need exit_signal 0 (EINVAL)');
      if (op.badStack) return fail('EINVAL', 'clone3: stack and stack_size disagree (EINVAL)');
      return kernelClone(world, op.tid, {
        flags,
        exitSignal: op.exit_signal,
        setTid,
        child: op.child,
        pidfd: op.pidfd,
        via: 'clone3',
      });
    }
  }
}

function has(flags: number, bit: number): boolean {
  return Math.floor(flags / bit) % 2 === 1;
}

/** copy_process + wake_up_new_task, as far as namespaces, credentials, mm and files go. */
export function kernelClone(world: World, tid: number, args: CloneArgs): Outcome {
  const parent = task(world, tid);
  if (parent.state !== 'running') throw new ModelError(`task ${tid} is a zombie and cannot call ${args.via}`);
  const f = args.flags;
  const profile = profileOf(world);
  if (has(f, CLONE.NEWNS) && has(f, CLONE.FS)) return fail('EINVAL', 'copy_process: CLONE_NEWNS with CLONE_FS (EINVAL)');
  if (has(f, CLONE.NEWUSER) && has(f, CLONE.FS)) return fail('EINVAL', 'copy_process: CLONE_NEWUSER with CLONE_FS (EINVAL)');
  if (has(f, CLONE.THREAD) && !has(f, CLONE.SIGHAND)) return fail('EINVAL', 'copy_process: CLONE_THREAD without CLONE_SIGHAND (EINVAL)');
  if (has(f, CLONE.SIGHAND) && !has(f, CLONE.VM)) return fail('EINVAL', 'copy_process: CLONE_SIGHAND without CLONE_VM (EINVAL)');
  const pnsp = nsproxyOfTask(world, parent);
  if (has(f, CLONE.THREAD)) {
    if (has(f, CLONE.NEWUSER) || has(f, CLONE.NEWPID) || parent.pidns !== pnsp.pid_for_children)
      return fail('EINVAL', 'copy_process: a thread cannot be in another user or pid namespace (EINVAL)');
  }
  if (has(f, CLONE.PIDFD) && has(f, CLONE.DETACHED)) return fail('EINVAL', 'copy_process: CLONE_PIDFD with CLONE_DETACHED (EINVAL)');
  if (profile.cloneVmRefusedWhileTimensDiffer && (has(f, CLONE.THREAD) || has(f, CLONE.VM)) && pnsp.time !== pnsp.time_for_children)
    return fail(
      'EINVAL',
      `copy_process (${profile.name}): CLONE_VM/CLONE_THREAD while time_for_children differs from time (EINVAL)`,
    );

  // copy_creds: CLONE_NEWUSER makes the child's user namespace here.
  const cred: Cred = cloneCred(parent.cred);
  let newUserns: number | null = null;
  if (has(f, CLONE.NEWUSER)) {
    const r = createUserNs(world, cred);
    if (!r.ok) return fail(r.errno, r.rule);
    newUserns = r.inum;
  }
  const undoUserns = () => {
    if (newUserns !== null) {
      getNs(world, newUserns);
      putNs(world, newUserns);
    }
  };

  // copy_namespaces(flags, p), with the child's credentials.
  let nspId: number;
  /** The child's time namespace timens_on_fork froze (named in the set_tid EEXIST rule: the freeze is not undone). */
  let frozenForChild: number | null = null;
  const newNsFlags = f & ALL_NEW_NS_BUT_USER;
  if (!newNsFlags && (has(f, CLONE.VM) || pnsp.time === pnsp.time_for_children)) {
    pnsp.count++;
    nspId = pnsp.id;
  } else {
    if (newNsFlags && !nsCapable(world, cred, cred.userns, 'CAP_SYS_ADMIN')) {
      undoUserns();
      return fail('EPERM', `${args.via}: CLONE_NEW* needs CAP_SYS_ADMIN in the child's user namespace (EPERM)`);
    }
    if (has(f, CLONE.NEWIPC) && has(f, CLONE.SYSVSEM)) {
      undoUserns();
      return fail('EINVAL', 'copy_namespaces: CLONE_NEWIPC with CLONE_SYSVSEM (EINVAL)');
    }
    const r = createNewNamespaces(world, newNsFlags, pnsp, cred.userns, cred.euid);
    if (!r.ok) {
      undoUserns();
      return fail(r.errno, r.rule);
    }
    if (!has(f, CLONE.VM)) {
      if (r.nsproxy.time !== r.nsproxy.time_for_children) frozenForChild = r.nsproxy.time_for_children;
      timensOnFork(world, r.nsproxy);
    }
    nspId = r.nsproxy.id;
  }

  // alloc_pid in the child's pid_for_children namespace, honouring clone3's set_tid.
  const childPidns = world.nsproxies[nspId].pid_for_children;
  let wanted = args.child;
  if (args.setTid && args.setTid.length > 0) {
    const pidns = world.namespaces[childPidns];
    const bail = (errno: Errno, rule: string): Outcome => {
      putNsproxy(world, nspId);
      undoUserns();
      return fail(errno, rule);
    };
    if (args.setTid.length > (pidns.level ?? 0) + 1)
      return bail('EINVAL', 'alloc_pid: set_tid_size is larger than the pid namespace nesting (EINVAL)');
    const t0 = args.setTid[0];
    if (t0 < 1 || t0 >= 4194304) return bail('EINVAL', `alloc_pid: set_tid ${t0} is out of range (EINVAL)`);
    if (!nsCapable(world, parent.cred, pidns.owner ?? world.init.user, 'CAP_SYS_ADMIN'))
      return bail('EPERM', 'alloc_pid: set_tid needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE over the pid namespace (EPERM)');
    if (world.tasks[t0])
      return bail('EEXIST', `alloc_pid: set_tid ${t0} is in use (EEXIST)${frozenForChild !== null ? `; time:[${frozenForChild}] frozen` : ''}`);
    if (wanted !== undefined && wanted !== t0)
      throw new ModelError(`clone3 set_tid ${t0} but the trace returned pid ${wanted}`);
    wanted = t0;
  }

  const childTid = allocPid(world, wanted);
  const isThread = has(f, CLONE.THREAD);
  let mm: number | null = parent.mm;
  if (has(f, CLONE.VM)) {
    if (mm !== null) world.mms[mm].users++;
  } else {
    mm = newId(world, 'mm');
    // dup_mm keeps the parent mm's user_ns.
    const parentMm = parent.mm === null ? undefined : world.mms[parent.mm];
    world.mms[mm] = parentMm?.userns !== undefined ? { id: mm, users: 1, userns: parentMm.userns } : { id: mm, users: 1 };
  }
  let files: number | null = parent.files;
  if (has(f, CLONE.FILES)) {
    if (files !== null) world.fdtables[files].count++;
  } else if (files !== null) {
    files = dupFdTable(world, files);
  }
  const child: Task = {
    tid: childTid,
    tgid: isThread ? parent.tgid : childTid,
    ppid: isThread || has(f, CLONE.PARENT) ? parent.ppid : parent.tgid,
    realParent: isThread || has(f, CLONE.PARENT) ? (parent.realParent ?? parent.ppid) : parent.tid,
    state: 'running',
    nsproxy: nspId,
    pidns: childPidns,
    cred,
    mm,
    files,
    vforkDoneFor: has(f, CLONE.VFORK) ? parent.tid : null,
    exitCode: null,
    exitSignal: isThread ? -1 : args.exitSignal,
  };
  addTask(world, child);
  getNs(world, childPidns);
  getNs(world, cred.userns);
  if (has(f, CLONE.PIDFD)) {
    const file = newFile(world, { kind: 'pidfd', pid: childTid, mode: 'rw' });
    installFd(world, parent, file, true, args.pidfd);
  }
  return { ret: childTid };
}

/** dup_fd: a copy of the table whose fds point at the same open files. */
export function dupFdTable(world: World, id: number): number {
  const from = world.fdtables[id];
  const nid = newId(world, 'fdtable');
  // Keyed by the fd numbers as Object.keys gives them (about twice as fast as for-in on such a table).
  const fromFds: Record<string, FdEntry> = from.fds;
  const fds: Record<string, FdEntry> = {};
  for (const k of Object.keys(fromFds)) {
    const e = fromFds[k];
    fds[k] = { file: e.file, cloexec: e.cloexec };
    world.files[e.file].count++;
  }
  world.fdtables[nid] = { id: nid, count: 1, fds };
  return nid;
}
