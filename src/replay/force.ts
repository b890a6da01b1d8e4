/**
 * Forcing a call the kernel let through but the model refused: "recorded outcomes are the truth".
 *
 * The world the model has is wrong somewhere (a capability it thinks the caller lacks, a namespace it thinks is
 * frozen, a ucounts charge it thinks is at the limit). Replay cannot know the right world, but it can re-apply the
 * call with the model's refusal lifted, so the call's effects (a new namespace, joined namespaces, new offsets, a
 * child) are in the world as they were on the real machine. What is lifted, in the order the refusals come:
 *
 *  - EPERM / EACCES from a capability or ptrace check: the caller's effective and permitted capabilities become
 *    the full set (and the opener's f_cred for a write to a timens_offsets file, which is judged with it). After
 *    the call they are put back — on the caller, on a child the call created and on a file it opened, wherever
 *    they are still the full set — because the kernel's success proves one capability over one namespace, not
 *    all of them; keeping the full set would hide later divergences. A call that changed the credentials itself
 *    (setresuid dropping them, unshare/setns moving to a new user namespace) keeps what it made.
 *  - EACCES from a frozen time namespace (a write to timens_offsets): the namespace is unfrozen, and stays so:
 *    the kernel accepted the write, which proves no task had entered it.
 *  - ENOSPC from max_time_namespaces: the limits along the caller's user-namespace chain are lifted for the call
 *    and put back after (the kernel proves the count was below the limit, the model's count is what is off).
 *
 * Refusals that no relaxation can lift (EBADF, ENOENT, ESRCH, EUSERS, ECHILD, EINVAL from arguments...) stay
 * unresolved: the world is left as before the call, and the divergence says so.
 *
 * Precondition: `world` is the state before the call, and the model's first try failed (a failed call has no side
 * effects in the model — a property its tests check), so nothing needs undoing from it.
 */
import { apply, CAPS, type Cap, type Cred, type Op, type Outcome, type World } from '../kernel/index.js';

const ALL: Cap[] = [...CAPS].sort();
const INT_MAX = 2147483647;

type Relaxation = 'caps' | 'unfreeze' | 'limits';

function isFull(caps: readonly Cap[]): boolean {
  if (caps.length !== ALL.length) return false;
  for (let i = 0; i < ALL.length; i++) if (caps[i] !== ALL[i]) return false;
  return true;
}

/** The timens_offsets file an fd names (write/pwrite), if any. */
function offsetsFile(world: World, op: Op): { id: number; cred: Cred; pid: number } | null {
  if (op.call !== 'write' && op.call !== 'pwrite') return null;
  const t = world.tasks[op.tid];
  if (!t || t.files === null) return null;
  const e = world.fdtables[t.files]?.fds[op.fd];
  const f = e ? world.files[e.file] : undefined;
  return f && f.kind === 'timens_offsets' ? { id: f.id, cred: f.cred, pid: f.pid } : null;
}

function relaxationFor(world: World, op: Op, out: Outcome, done: Set<Relaxation>): Relaxation | null {
  const e = out.errno;
  if (e === 'EACCES' && /frozen/.test(out.rule ?? '') && offsetsFile(world, op) && !done.has('unfreeze')) return 'unfreeze';
  if ((e === 'EPERM' || e === 'EACCES') && !done.has('caps') && 'tid' in op) return 'caps';
  if (e === 'ENOSPC' && !done.has('limits') && 'tid' in op) return 'limits';
  return null;
}

export interface Forced {
  outcome: Outcome;
  /** The relaxations used, e.g. "caps+unfreeze". */
  how: string;
}

/**
 * Re-apply `op` (which the model just refused with `first`) with the refusal lifted, on `world` (a draft or a
 * plain world). Returns the successful outcome, or null when nothing lifted the refusal (then `world` is exactly
 * as it was). May throw what apply throws (ModelError): the caller treats that as unresolved.
 */
export function forceSuccess(world: World, op: Op, first: Outcome): Forced | null {
  const done = new Set<Relaxation>();
  const order: Relaxation[] = [];
  const tid = 'tid' in op ? op.tid : undefined;
  const caller = tid !== undefined ? world.tasks[tid] : undefined;
  const savedCaps = caller ? { userns: caller.cred.userns, caps: [...caller.cred.caps], permitted: [...caller.cred.permitted], tgid: caller.tgid } : null;
  const file = offsetsFile(world, op);
  const savedFileCaps = file ? { caps: [...file.cred.caps], permitted: [...file.cred.permitted] } : null;
  const savedLimits: [number, number | undefined][] = [];
  let out = first;
  for (;;) {
    const r = relaxationFor(world, op, out, done);
    if (r === null) break;
    done.add(r);
    order.push(r);
    if (r === 'caps' && caller) {
      caller.cred.caps = [...ALL];
      caller.cred.permitted = [...ALL];
      if (file) {
        const f = world.files[file.id] as { cred: Cred };
        f.cred.caps = [...ALL];
        f.cred.permitted = [...ALL];
      }
    } else if (r === 'unfreeze' && file) {
      const target = world.tasks[file.pid];
      if (target && target.nsproxy !== null) world.namespaces[world.nsproxies[target.nsproxy].time_for_children].frozen = false;
    } else if (r === 'limits' && caller) {
      let ns: number | null | undefined = caller.cred.userns;
      while (ns != null) {
        const u: World['namespaces'][number] | undefined = world.namespaces[ns];
        if (!u) break;
        savedLimits.push([ns, u.maxTimeNamespaces]);
        u.maxTimeNamespaces = INT_MAX;
        ns = u.parent;
      }
    }
    out = apply(world, op);
    if (out.errno === undefined) break;
  }
  const succeeded = out.errno === undefined && order.length > 0;

  // Put back what was lifted (except the unfreeze a successful write proves).
  if (savedCaps) {
    const putBack = (cred: Cred) => {
      if (cred.userns === savedCaps.userns && isFull(cred.caps)) {
        cred.caps = [...savedCaps.caps];
        cred.permitted = [...savedCaps.permitted];
      }
    };
    if (done.has('caps')) {
      // The caller may have been renamed to its tgid by an exec from a non-leader thread.
      const now = world.tasks[tid!] ?? world.tasks[savedCaps.tgid];
      if (now) putBack(now.cred);
      if (succeeded && (op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3')) {
        const child = world.tasks[out.ret];
        if (child) putBack(child.cred);
      }
      if (succeeded && op.call === 'open' && now && now.files !== null) {
        const e = world.fdtables[now.files]?.fds[out.ret];
        const f = e ? world.files[e.file] : undefined;
        if (f && f.kind === 'timens_offsets') putBack(f.cred);
      }
      if (file && savedFileCaps) {
        const f = world.files[file.id];
        if (f && f.kind === 'timens_offsets' && isFull(f.cred.caps)) {
          f.cred.caps = [...savedFileCaps.caps];
          f.cred.permitted = [...savedFileCaps.permitted];
        }
      }
    }
  }
  for (const [ns, limit] of savedLimits) {
    const u = world.namespaces[ns];
    if (u) u.maxTimeNamespaces = limit;
  }
  if (!succeeded && done.has('unfreeze') && file) {
    const target = world.tasks[file.pid];
    if (target && target.nsproxy !== null) world.namespaces[world.nsproxies[target.nsproxy].time_for_children].frozen = true;
  }
  return succeeded ? { outcome: out, how: `re-applied with ${order.join('+')} lifted` } : null;
}
