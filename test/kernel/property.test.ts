// SEMANTICS.md §2 invariants as properties over thousands of random operation sequences.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { apply, checkInvariants, createWorld, CLONE, type Op, type World } from '../../src/kernel/index.js';
import { cmp } from '../../src/kernel/timespec.js';

/** An abstract action: interpreted against the current world so that it only names tasks and fds that exist. */
type Action = [kind: number, a: number, b: number, c: number];

const OFFSET_TEXTS = ['monotonic 100 0', 'boottime -50 500000000', '1 5 0\n7 6 0\n', 'monotonic 9223372037 0', 'bogus 1 0', 'monotonic -999999 0', ''];
const CLONE_FLAGS = [0, CLONE.NEWTIME, CLONE.VM | CLONE.VFORK, CLONE.NEWTIME | CLONE.VM, CLONE.NEWUSER | CLONE.NEWTIME, CLONE.VM | CLONE.SIGHAND | CLONE.THREAD | CLONE.FILES];
const UNSHARE_FLAGS = [CLONE.NEWTIME, CLONE.NEWUSER | CLONE.NEWTIME, CLONE.NEWUSER, CLONE.NEWUTS, CLONE.THREAD, 0x80000000];
const NS_PATHS = ['time', 'time_for_children', 'user', 'uts'];

function pick<T>(xs: T[], i: number): T {
  return xs[Math.abs(i) % xs.length];
}

function toOp(w: World, [kind, a, b, c]: Action): Op | null {
  const live = Object.values(w.tasks).filter((t) => t.state === 'running');
  if (live.length === 0) return null;
  const t = pick(live, a);
  const tid = t.tid;
  const fds = t.files !== null ? Object.keys(w.fdtables[t.files].fds).map(Number) : [];
  const fdOf = (kinds: string[]) => {
    const mine = fds.filter((f) => kinds.includes(w.files[w.fdtables[t.files!].fds[f].file].kind));
    // mostly an fd of the right kind, sometimes any fd or a closed one (EBADF paths)
    if (mine.length && c % 8 !== 0) return pick(mine, b);
    return fds.length && c % 16 !== 0 ? pick(fds, b) : 99;
  };
  const fd = fdOf(['nsfs', 'pidfd', 'timens_offsets']);
  const other = pick(Object.values(w.tasks), c).tid;
  switch (kind % 16) {
    case 0:
      return { call: 'fork', tid };
    case 1:
      return { call: 'clone3', tid, flags: pick(CLONE_FLAGS, b), exit_signal: pick(CLONE_FLAGS, b) & CLONE.THREAD ? 0 : 17, size: 88 };
    case 2:
      return { call: 'unshare', tid, flags: pick(UNSHARE_FLAGS, b) };
    case 3:
      return { call: 'setns', tid, fd: fdOf(['nsfs', 'pidfd']), nstype: c % 3 === 0 ? 0 : c % 3 === 1 ? CLONE.NEWTIME : CLONE.NEWTIME | CLONE.NEWUSER };
    case 4:
      return { call: 'open', tid, path: `/proc/${other}/ns/${pick(NS_PATHS, b)}`, mode: 'r' };
    case 5:
      return { call: 'open', tid, path: `/proc/${c % 3 ? 'self' : other}/timens_offsets`, mode: b % 3 === 0 ? 'rw' : 'w' };
    case 6:
      return { call: 'write', tid, fd: fdOf(['timens_offsets']), data: pick(OFFSET_TEXTS, c) };
    case 7:
      return { call: 'close', tid, fd };
    case 8:
      return { call: 'execve', tid, path: '/bin/x' };
    case 9:
      // keep one task alive so that sequences go on
      if (live.length === 1) return { call: 'fork', tid };
      return { call: b % 2 ? 'exit_group' : 'exit', tid, code: 0 };
    case 10:
      return { call: 'wait', tid, target: -1 };
    case 11:
      return { call: 'clock_gettime', tid, clockid: b % 2 ? 1 : 7 };
    case 12:
      return b % 2 ? { call: 'host.advance', sec: c % 100, nsec: (a * 7919) % 1e9 } : { call: 'host.suspend', sec: c % 50, nsec: 0 };
    case 13:
      return { call: 'setresuid', tid, ruid: 1000, euid: 1000, suid: 1000 };
    case 14:
      return { call: 'pidfd_open', tid, pid: other, flags: 0 };
    default:
      return { call: 'read', tid, fd: fdOf(['timens_offsets']), count: 64 };
  }
}

const action = fc.tuple(fc.nat(15), fc.nat(50), fc.nat(50), fc.nat(100));

describe('§2 invariants hold over random operation sequences', () => {
  it('refcount == holders, nothing outlives its last holder, T frozen, frozen never reverts, ucounts == live namespaces, clocks never go back within a namespace', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 60 }), fc.constantFrom('6.3+', '6.2', '6.1', '5.6'), (actions, profile) => {
        const w = createWorld({ profile, maxTimeNamespaces: 6 });
        const frozen = new Set<number>();
        const lastClock = new Map<string, { ns: number; ts: { sec: number; nsec: number } }>();
        for (const act of actions) {
          const op = toOp(w, act);
          if (!op) break;
          const out = apply(w, op);
          const bad = checkInvariants(w);
          if (bad.length) throw new Error(`after ${JSON.stringify(op)} → ${JSON.stringify(out)}:\n${bad.join('\n')}`);
          for (const inum of frozen) if (w.namespaces[inum] && !w.namespaces[inum].frozen) throw new Error(`time:[${inum}] unfroze`);
          for (const k in w.namespaces) if (w.namespaces[k].type === 'time' && w.namespaces[k].frozen) frozen.add(Number(k));
          // A namespace that was freed may have its inode number reused by an unfrozen one.
          for (const inum of [...frozen]) if (!w.namespaces[inum]) frozen.delete(inum);
          if (op.call === 'clock_gettime' && out.ts && w.tasks[op.tid]?.nsproxy != null) {
            const key = `${op.tid}:${op.clockid}`;
            const T = w.nsproxies[w.tasks[op.tid].nsproxy!].time;
            const prev = lastClock.get(key);
            if (prev && prev.ns === T && cmp(out.ts, prev.ts) < 0) throw new Error(`${key} went back in time:[${T}]`);
            lastClock.set(key, { ns: T, ts: out.ts });
          }
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });

  it('every error leaves the world exactly as it was (syscalls that fail have no side effects, except the documented freeze)', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => {
        const w = createWorld({ maxTimeNamespaces: 4 });
        for (const act of actions) {
          const op = toOp(w, act);
          if (!op) break;
          const before = JSON.stringify(w);
          const out = apply(w, op);
          if (out.errno && op.call !== 'clone3' && op.call !== 'read') {
            const after = JSON.parse(JSON.stringify(w));
            const was = JSON.parse(before);
            // ids handed out for scratch objects may advance; everything else must be unchanged
            after.nextIds = was.nextIds;
            after.inumNext = was.inumNext;
            after.inumFree = was.inumFree;
            expect(after, `${JSON.stringify(op)} → ${out.errno}`).toEqual(was);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
