/**
 * The kernel model: a World and `apply(world, op)`, which runs one operation with the kernel's checks in the
 * kernel's order, changes the world and returns the outcome. Pure: no I/O, no clocks, no randomness. The world may
 * be a plain object or an immer draft.
 */
import { fail, ok, type Op, type Outcome } from './ops.js';
import type { World } from './types.js';
import { sysClone } from './fork.js';
import { sysUnshare } from './unshare.js';
import { sysSetns } from './setns.js';
import { sysExecve } from './exec.js';
import { sysExit, sysExitGroup, sysWait } from './exit.js';
import { closeFd, sysDup, sysLseek, sysOpen, sysPidfdOpen, sysRead, sysReadlink, sysWrite } from './files.js';
import { hostAdvance, sysClockGettime, sysTimerAbs } from './clocks.js';
import { capset, setDumpable, setresuid } from './cred.js';
import { ModelError, rootCred, spawnTask, task, userCred } from './world.js';

export * from './types.js';
export * from './ops.js';
export { createWorld, ModelError, profileOf, capsFromMask, CAP_NUMBERS, type WorldOptions, INIT_INUMS, PROC_DYNAMIC_FIRST, upgradeWorld } from './world.js';
export { PROFILES, resolveProfile, type Profile } from './profiles.js';
export { checkInvariants } from './invariants.js';
export { holders } from './refs.js';
export { showOffsets, parseOffsetsWrite } from './timens.js';
export { readClock } from './clocks.js';

/**
 * Run one operation. The cases are in order of frequency on the synth mix: op.call strings (from JSON.parse) are
 * compared with each case in turn, so the common calls are found first.
 */
export function apply(world: World, op: Op): Outcome {
  switch (op.call) {
    case 'clock_gettime':
      return sysClockGettime(world, op.tid, op.clockid);
    case 'open':
      return sysOpen(world, op);
    case 'setns':
      return sysSetns(world, op.tid, op.fd, op.nstype);
    case 'exit_group':
      return sysExitGroup(world, op.tid, op.code);
    case 'unshare':
      return sysUnshare(world, op.tid, op.flags);
    case 'close':
      return closeFd(world, task(world, op.tid), op.fd);
    case 'readlink':
      return sysReadlink(world, op);
    case 'host.advance':
      return hostAdvance(world, { sec: op.sec, nsec: op.nsec }, false);
    case 'write':
    case 'pwrite':
      return sysWrite(world, op);
    case 'execve':
      return sysExecve(world, op.tid, op.path, op.fsError);
    case 'fork':
    case 'vfork':
    case 'clone':
    case 'clone3':
      return sysClone(world, op);
    case 'read':
      return sysRead(world, op);
    case 'wait':
      return sysWait(world, op.tid, op.target);
    case 'timer_abs':
      return sysTimerAbs(world, op);
    case 'host.suspend':
      return hostAdvance(world, { sec: op.sec, nsec: op.nsec }, true);
    case 'lseek':
      return sysLseek(world, op);
    case 'pidfd_open':
      return sysPidfdOpen(world, op);
    case 'exit':
      return sysExit(world, op.tid, op.code);
    case 'setresuid': {
      const r = setresuid(world, task(world, op.tid), op.ruid, op.euid, op.suid);
      return r === 'ok' ? { ret: 0 } : fail(r, `setresuid: ${r === 'EPERM' ? 'needs CAP_SETUID for other uids' : 'uid not mapped in the user namespace'} (${r})`);
    }
    case 'dup':
      return sysDup(world, op);
    case 'capset': {
      const r = capset(task(world, op.tid), op.caps);
      return r === 'ok' ? { ret: 0 } : fail(r, 'capset: cannot raise capabilities beyond the permitted set (EPERM)');
    }
    case 'prctl_dumpable': {
      setDumpable(world, task(world, op.tid), op.dumpable);
      return { ret: 0 };
    }
    case 'host.spawn': {
      const uid = op.uid ?? 0;
      const cred = uid === 0 ? rootCred(world.init.user, world.rootCaps) : userCred(world.init.user, uid);
      // A process seen first in a trace may have a capability set of its own (the tracer's CapEff, say).
      if (op.caps) cred.caps = cred.permitted = [...op.caps].sort();
      spawnTask(world, op.pid, op.ppid ?? world.reaper, cred);
      return ok(op.pid);
    }
    case 'host.sysctl': {
      if (!Number.isInteger(op.value) || op.value < 0 || op.value > 2147483647) return fail('EINVAL', 'sysctl: value outside [0, INT_MAX] (EINVAL)');
      world.namespaces[world.init.user].maxTimeNamespaces = op.value;
      return { ret: 0 };
    }
    default: {
      const never: never = op;
      throw new ModelError(`unknown operation ${(never as { call: string }).call}`);
    }
  }
}
