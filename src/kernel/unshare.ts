/** kernel/fork.c ksys_unshare, in the kernel's order. */
import { CLONE, fail, ok, type Outcome } from './ops.js';
import type { Cred, World } from './types.js';
import { cloneCred, nsCapable } from './cred.js';
import { ALL_NEW_NS_BUT_USER, createNewNamespaces, nsproxyOfTask } from './nsproxy.js';
import { getNs, putNs, switchTaskNamespaces } from './refs.js';
import { createUserNs } from './userns.js';
import { isSingleThreaded, ModelError, task, threadGroupEmpty } from './world.js';

const UNSHARE_KNOWN =
  CLONE.THREAD | CLONE.FS | CLONE.NEWNS | CLONE.SIGHAND | CLONE.VM | CLONE.FILES | CLONE.SYSVSEM | CLONE.NEWUTS |
  CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWCGROUP | CLONE.NEWTIME;

export function sysUnshare(world: World, tid: number, flagsIn: number): Outcome {
  const t = task(world, tid);
  if (t.state !== 'running') throw new ModelError(`task ${tid} is a zombie and cannot call unshare`);
  if (!Number.isInteger(flagsIn) || flagsIn < 0 || flagsIn > 0xffffffff || ((flagsIn >>> 0) & ~UNSHARE_KNOWN) !== 0)
    return fail('EINVAL', `unshare: unknown flag bits in 0x${(flagsIn >>> 0).toString(16)} (EINVAL)`);
  let flags = flagsIn;
  if (flags & CLONE.NEWUSER) flags |= CLONE.THREAD | CLONE.FS;
  if (flags & CLONE.VM) flags |= CLONE.SIGHAND;
  if (flags & CLONE.SIGHAND) flags |= CLONE.THREAD;
  if (flags & CLONE.NEWNS) flags |= CLONE.FS;
  // check_unshare_flags: THREAD/SIGHAND/VM only "work" when there is nothing to unshare.
  if (flags & (CLONE.THREAD | CLONE.SIGHAND | CLONE.VM) && !threadGroupEmpty(world, t))
    return fail('EINVAL', `unshare: CLONE_THREAD${flagsIn & CLONE.NEWUSER ? ' (implied by CLONE_NEWUSER)' : ''} in a multithreaded process (EINVAL)`);
  if (flags & CLONE.VM && !isSingleThreaded(world, t))
    return fail('EINVAL', 'unshare: CLONE_VM while another process shares the mm (EINVAL)');

  // unshare_userns: a new cred in a new user namespace.
  let newCred: Cred | null = null;
  if (flags & CLONE.NEWUSER) {
    newCred = cloneCred(t.cred);
    const r = createUserNs(world, newCred);
    if (!r.ok) return fail(r.errno, `unshare: ${r.rule}`);
  }
  const dropNewCred = () => {
    if (newCred) {
      getNs(world, newCred.userns);
      putNs(world, newCred.userns);
    }
  };

  // unshare_nsproxy_namespaces
  const nsFlags = flags & ALL_NEW_NS_BUT_USER;
  let newNsp: number | null = null;
  if (nsFlags) {
    const cred = newCred ?? t.cred;
    if (!nsCapable(world, cred, cred.userns, 'CAP_SYS_ADMIN')) {
      dropNewCred();
      return fail('EPERM', 'unshare: CLONE_NEW* needs CAP_SYS_ADMIN in the (new) user namespace (EPERM)');
    }
    const r = createNewNamespaces(world, nsFlags, nsproxyOfTask(world, t), cred.userns, cred.euid);
    if (!r.ok) {
      dropNewCred();
      return fail(r.errno, `unshare: ${r.rule}`);
    }
    newNsp = r.nsproxy.id;
  }

  if (newCred) {
    getNs(world, newCred.userns);
    putNs(world, t.cred.userns);
    t.cred = newCred;
  }
  if (newNsp !== null) switchTaskNamespaces(world, tid, newNsp);
  return { ret: 0 };
}
