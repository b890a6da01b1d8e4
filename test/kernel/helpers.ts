/** Small helpers for the kernel rule tests: a world, op shorthands, and invariant checks after every op. */
import { expect } from 'vitest';
import { apply, checkInvariants, createWorld, CLONE, type Op, type Outcome, type World, type WorldOptions } from '../../src/kernel/index.js';

export { CLONE };
export const NEWTIME = CLONE.NEWTIME;
export const SIGCHLD = 17;

export class Sim {
  readonly w: World;
  constructor(opts: WorldOptions = {}) {
    this.w = createWorld({ host: { realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: { sec: 2522, nsec: 0 }, boottime: { sec: 2600, nsec: 0 } }, ...opts });
  }
  /** Apply one op and check every invariant afterwards. */
  do(op: Op): Outcome {
    const out = apply(this.w, op);
    expect(checkInvariants(this.w), `invariants after ${JSON.stringify(op)}`).toEqual([]);
    return out;
  }
  ok(op: Op): number {
    const out = this.do(op);
    expect(out.errno, `${op.call} should succeed: ${out.rule}`).toBeUndefined();
    return out.ret;
  }
  err(op: Op, errno: string): Outcome {
    const out = this.do(op);
    expect(out.errno, `${op.call} → ${out.rule ?? 'ok'}`).toBe(errno);
    expect(out.ret).toBe(-1);
    return out;
  }
  T(tid: number): number {
    return this.w.nsproxies[this.w.tasks[tid].nsproxy!].time;
  }
  C(tid: number): number {
    return this.w.nsproxies[this.w.tasks[tid].nsproxy!].time_for_children;
  }
  ns(inum: number) {
    return this.w.namespaces[inum];
  }
  count(inum: number): number {
    return this.w.namespaces[inum]?.count ?? 0;
  }
  open(tid: number, path: string, mode: 'r' | 'w' | 'rw' = 'r'): number {
    return this.ok({ call: 'open', tid, path, mode });
  }
  /** Write offsets through a fresh fd of /proc/<pid>/timens_offsets; returns the outcome. */
  writeOffsets(tid: number, data: string, pid: number | 'self' = 'self'): Outcome {
    const fd = this.open(tid, `/proc/${pid}/timens_offsets`, 'w');
    const out = this.do({ call: 'write', tid, fd, data });
    this.ok({ call: 'close', tid, fd });
    return out;
  }
  readOffsets(tid: number, pid: number | 'self' = 'self'): string {
    const fd = this.open(tid, `/proc/${pid}/timens_offsets`, 'r');
    const out = this.do({ call: 'read', tid, fd, count: 4096 });
    this.ok({ call: 'close', tid, fd });
    return out.text ?? '';
  }
  /** Read a whole proc file through a fresh fd. */
  readOffsetsLike(tid: number, path: string): string {
    const fd = this.open(tid, path, 'r');
    const out = this.do({ call: 'read', tid, fd, count: 4096 });
    this.ok({ call: 'close', tid, fd });
    return out.text ?? '';
  }
  mono(tid: number): { sec: number; nsec: number } {
    return this.do({ call: 'clock_gettime', tid, clockid: 1 }).ts!;
  }
  boot(tid: number): { sec: number; nsec: number } {
    return this.do({ call: 'clock_gettime', tid, clockid: 7 }).ts!;
  }
  fork(tid: number): number {
    return this.ok({ call: 'fork', tid });
  }
  thread(tid: number): number {
    return this.ok({ call: 'clone', tid, flags: CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM });
  }
  unshareTime(tid: number): number {
    return this.ok({ call: 'unshare', tid, flags: NEWTIME });
  }
  /** A task of an unprivileged uid (forked from root, then setresuid). */
  unprivileged(from: number, uid = 65534): number {
    const t = this.fork(from);
    this.ok({ call: 'setresuid', tid: t, ruid: uid, euid: uid, suid: uid });
    return t;
  }
}

export const INIT_TIME = 4026531834;
