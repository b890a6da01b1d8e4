// Restore planning (src/replay/restore-plan.ts): CRIU's offsets arithmetic, ERANGE before writing, the ops a
// restorer issues — run through the kernel model, which must answer exactly what each step expects.
import { PYTHON } from './helpers/live-writes.js';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { apply, checkInvariants, createWorld, showOffsets, CLONE, type Op, type Outcome, type World } from '../src/kernel/index.js';
import { offsetRangeError } from '../src/kernel/timens.js';
import {
  CheckpointError,
  clockValues,
  clocksAt,
  kernelRangeError,
  planClock,
  planRestore,
  validateCheckpoint,
  verifyRestore,
  type CheckpointDescription,
  type ClockReading,
  type RestorePlan,
} from '../src/replay/restore-plan.js';
import { add, compare, formatOffset, sub, ts, KTIME_SEC_MAX, KTIME_SEC_MAX_HALF, type Timespec } from '../src/replay/timespec.js';

const Z = { monotonic: ts(0), boottime: ts(0) };

function world(host: { monotonic: Timespec; boottime: Timespec }, firstPid = 1): World {
  return createWorld({ host: { realtime: ts(1_764_000_000), ...host }, firstPid });
}

/** Apply every step; each outcome must match the step's expectation and leave the model's invariants intact. */
function run(w: World, plan: RestorePlan): Outcome[] {
  return plan.steps.map((s, i) => {
    const out = apply(w, s.op);
    const where = `step ${i} ${s.kind} ${JSON.stringify(s.op)}: ${out.rule ?? ''}`;
    expect(checkInvariants(w), where).toEqual([]);
    if (s.expect?.ret !== undefined) expect(out.ret, where).toBe(s.expect.ret);
    if (s.expect?.text !== undefined) expect(out.text, where).toBe(s.expect.text);
    if (s.expect?.ts !== undefined) expect(out.ts, where).toEqual(s.expect.ts);
    return out;
  });
}

function read(w: World, tid: number): ClockReading {
  const m = apply(w, { call: 'clock_gettime', tid, clockid: 1 });
  const b = apply(w, { call: 'clock_gettime', tid, clockid: 7 });
  return { tid, monotonic: m.ts!, boottime: b.ts!, host: { monotonic: w.host.monotonic, boottime: w.host.boottime } };
}

const container: CheckpointDescription = {
  timens: [{ id: 'ct', monotonic: ts(5000, 250_000_000), boottime: ts(6000, 999_999_999), offsets: { monotonic: ts(-100), boottime: ts(0, 5) } }],
  tasks: [
    { pid: 100, tid: 100, ppid: 1, timens: 'ct' },
    { pid: 100, tid: 102, ppid: 1, timens: 'ct' },
    { pid: 101, tid: 101, ppid: 100, timens: 'ct' },
  ],
};

describe('CRIU freeze restore of one container', () => {
  const host = { monotonic: ts(100, 500_000_000), boottime: ts(120) };
  const plan = planRestore(container, { host });

  it('computes O = D − (now − P) per clock, exactly', () => {
    expect(plan.ok).toBe(true);
    const ns = plan.namespaces[0];
    expect(ns.offsets.monotonic).toEqual(ts(4899, 750_000_000));
    expect(ns.offsets.boottime).toEqual(ts(5880, 999_999_999));
    expect(ns.clocks.monotonic.inherited).toEqual(ts(0));
    expect(ns.clocks.monotonic.now).toEqual(host.monotonic);
    expect(ns.clocks.monotonic.line).toBe('1 4899 750000000\n');
    expect(ns.clocks.boottime.line).toBe('7 5880 999999999\n');
    expect(ns.clocks.monotonic.formula).toContain('O = D − (now − P)');
    expect(ns.creator).toBe(100);
    expect(ns.inheritedFrom).toBeNull();
    expect(ns.members).toEqual([100, 101, 102]);
    expect(plan.beyondCriu).toEqual([]);
  });

  it('issues the ops CRIU issues, in its order, each with a reason', () => {
    const kinds = plan.steps.map((s) => s.kind);
    expect(kinds).toEqual([
      'task.fork',
      'timens.unshare',
      'timens.read-inherited',
      'timens.read-inherited',
      'timens.close',
      'timens.open-offsets',
      'timens.read-clock',
      'timens.write-offset',
      'timens.read-clock',
      'timens.write-offset',
      'timens.close',
      'timens.open-for-children',
      'timens.setns',
      'timens.close',
      'task.fork',
      'thread.clone',
    ]);
    for (const s of plan.steps) expect(s.why.length).toBeGreaterThan(10);
    expect(plan.ops[0]).toEqual({ call: 'clone3', tid: 1, flags: 0, exit_signal: 17, size: 88, set_tid: [100], child: 100 });
    expect(plan.ops[1]).toEqual({ call: 'unshare', tid: 100, flags: CLONE.NEWTIME });
    const writes = plan.ops.filter((o): o is Extract<Op, { call: 'write' }> => o.call === 'write').map((o) => o.data);
    expect(writes).toEqual(['1 4899 750000000\n', '7 5880 999999999\n']); // numeric ids, monotonic first
    expect(plan.ops).toContainEqual({ call: 'open', tid: 100, path: '/proc/100/timens_offsets', mode: 'rw', fd: 3 });
    expect(plan.ops).toContainEqual({ call: 'setns', tid: 100, fd: 3, nstype: CLONE.NEWTIME });
    expect(plan.ops.at(-1)).toEqual({ call: 'clone', tid: 100, flags: CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM, child: 102 });
  });

  it('the kernel model accepts every step and the clocks continue from D', () => {
    const w = world(host);
    run(w, plan);
    const readings = [100, 101, 102].map((t) => read(w, t));
    for (const r of readings) {
      expect(r.monotonic).toEqual(container.timens[0].monotonic);
      expect(r.boottime).toEqual(container.timens[0].boottime);
    }
    const verdict = verifyRestore(container, plan, readings);
    expect(verdict.ok).toBe(true);
    expect(verdict.tasks.every((t) => t.checks.some((c) => c.relation === '==' && c.why.includes('restore instant')))).toBe(true);
    // Later: still ≥ D, equal to host + O, no longer the instant.
    apply(w, { call: 'host.advance', sec: 7, nsec: 600_000_000 });
    apply(w, { call: 'host.suspend', sec: 30, nsec: 0 });
    const later = [100, 101, 102].map((t) => read(w, t));
    expect(later[0].monotonic).toEqual(ts(5007, 850_000_000));
    expect(later[0].boottime).toEqual(ts(6038, 599_999_999));
    expect(verifyRestore(container, plan, later).ok).toBe(true);
    // The offsets are frozen: a second write is EACCES.
    const fd = apply(w, { call: 'open', tid: 100, path: '/proc/100/timens_offsets', mode: 'w' }).ret;
    expect(apply(w, { call: 'write', tid: 100, fd, data: '1 0 0\n' }).errno).toBe('EACCES');
  });

  it('a reading below D, a wrong offset or a missing task fails the verdict', () => {
    const good = { tid: 100, monotonic: ts(5000, 250_000_000), boottime: ts(6000, 999_999_999), host };
    const back = { ...good, tid: 101, monotonic: ts(5000, 249_999_999) };
    const v = verifyRestore(container, plan, [good, back]);
    expect(v.ok).toBe(false);
    expect(v.missing).toEqual([102]);
    const t101 = v.tasks.find((t) => t.tid === 101)!;
    expect(t101.ok).toBe(false);
    expect(t101.checks.find((c) => !c.ok)!.why).toMatch(/went backwards/);
    const stray = verifyRestore(container, plan, [good, { ...good, tid: 102 }, { ...good, tid: 101 }, { ...good, tid: 999 }]);
    expect(stray.unknown).toEqual([999]);
    expect(stray.ok).toBe(false);
  });

  it('negative offsets (the new host has been up longer) keep a positive nsec, and the model agrees', () => {
    const h = { monotonic: ts(90_000, 100), boottime: ts(90_500) };
    const p = planRestore(container, { host: h });
    expect(p.namespaces[0].offsets.monotonic).toEqual(ts(-85_000, 249_999_900));
    expect(p.namespaces[0].clocks.monotonic.line).toBe('1 -85000 249999900\n');
    const w = world(h);
    run(w, p);
    expect(read(w, 101).monotonic).toEqual(ts(5000, 250_000_000));
  });
});

describe('advance policy (gVisor-like)', () => {
  it('O = D + elapsed − now: downtime counted, never backwards', () => {
    const host = { monotonic: ts(10), boottime: ts(10) };
    const plan = planRestore(container, { host, policy: 'advance', elapsed: ts(3600, 1) });
    expect(plan.namespaces[0].offsets.monotonic).toEqual(ts(8590, 250_000_001));
    expect(plan.namespaces[0].clocks.monotonic.target).toEqual(ts(8600, 250_000_001));
    const w = world(host);
    run(w, plan);
    const r = read(w, 102);
    expect(r.monotonic).toEqual(ts(8600, 250_000_001));
    const v = verifyRestore(container, plan, [read(w, 100), read(w, 101), r]);
    expect(v.ok).toBe(true);
    expect(v.tasks[0].checks.some((c) => c.why.startsWith('advance'))).toBe(true);
  });
  it('needs a non-negative elapsed time', () => {
    expect(() => planRestore(container, { host: Z, policy: 'advance' })).toThrow(CheckpointError);
    expect(() => planRestore(container, { host: Z, policy: 'advance', elapsed: ts(-1) })).toThrow(/negative/);
    expect(() => planRestore(container, { host: Z, policy: 'sideways' as never })).toThrow(/freeze or advance/);
  });
});

describe('ERANGE before writing, exactly where the kernel says ERANGE', () => {
  const one = (D: Timespec): CheckpointDescription => ({
    timens: [{ id: 1, monotonic: D, boottime: D, offsets: Z }],
    tasks: [{ pid: 10, tid: 10, ppid: 1, timens: 1 }],
  });
  const host = { monotonic: ts(50), boottime: ts(60) };

  it('D at KTIME_SEC_MAX/2 + 0.999999999 s is fine, one nanosecond more is ERANGE', () => {
    const okPlan = planRestore(one(ts(KTIME_SEC_MAX_HALF, 999_999_999)), { host });
    expect(okPlan.ok).toBe(true);
    const w = world(host);
    run(w, okPlan);
    expect(read(w, 10).monotonic).toEqual(ts(KTIME_SEC_MAX_HALF, 999_999_999));

    const bad = planRestore(one(ts(KTIME_SEC_MAX_HALF + 1)), { host });
    expect(bad.ok).toBe(false);
    expect(bad.errors.map((e) => [e.ns, e.clock, e.errno])).toEqual([
      [1, 'monotonic', 'ERANGE'],
      [1, 'boottime', 'ERANGE'],
    ]);
    expect(bad.errors[0].reason).toMatch(/KTIME_SEC_MAX\/2 \(4611686018 s\)/);
    // The model, given the same writes, answers ERANGE too (the plan found it first).
    const w2 = world(host);
    const outs = bad.steps.map((s) => apply(w2, s.op));
    const writes = bad.steps.map((s, i) => [s.kind, outs[i]] as const).filter(([k]) => k === 'timens.write-offset');
    expect(writes.map(([, o]) => o.errno)).toEqual(['ERANGE', 'ERANGE']);
  });

  it('advance: D + elapsed crossing KTIME_SEC_MAX/2 is ERANGE', () => {
    const D = ts(KTIME_SEC_MAX_HALF - 10);
    expect(planRestore(one(D), { host, policy: 'advance', elapsed: ts(10) }).ok).toBe(true);
    const p = planRestore(one(D), { host, policy: 'advance', elapsed: ts(10, 1_000_000_000) });
    expect(p.ok).toBe(false);
  });

  it('an offset beyond ±KTIME_SEC_MAX is ERANGE before the sum is looked at', () => {
    expect(kernelRangeError('monotonic', ts(9_300_000_000), ts(-KTIME_SEC_MAX - 1, 0))).toMatch(/exceeds KTIME_SEC_MAX \(9223372036\)/);
    expect(kernelRangeError('monotonic', ts(KTIME_SEC_MAX + 10), ts(-KTIME_SEC_MAX))).toBeNull();
    const p = planRestore(one(ts(5)), { host: { monotonic: ts(KTIME_SEC_MAX + 6), boottime: ts(1) } });
    expect(p.errors.map((e) => e.clock)).toEqual(['monotonic']);
    expect(p.errors[0].reason).toMatch(/KTIME_SEC_MAX/);
  });

  it('kernelRangeError agrees with the kernel model for any host clock and offset (property)', () => {
    const t = (lo: number, hi: number) => fc.record({ sec: fc.integer({ min: lo, max: hi }), nsec: fc.integer({ min: 0, max: 999_999_999 }) });
    fc.assert(
      fc.property(t(0, 12_000_000_000), t(-12_000_000_000, 12_000_000_000), (h, o) => {
        expect(kernelRangeError('monotonic', h, o) === null).toBe(offsetRangeError(h, o) === null);
      }),
      { numRuns: 3000 },
    );
    // boundaries exactly
    expect(kernelRangeError('boottime', ts(0), ts(KTIME_SEC_MAX_HALF, 999_999_999))).toBeNull();
    expect(kernelRangeError('boottime', ts(0, 1), ts(KTIME_SEC_MAX_HALF, 999_999_999))).toMatch(/ERANGE/);
    expect(kernelRangeError('boottime', ts(5), ts(-5))).toBeNull();
    expect(kernelRangeError('boottime', ts(5), ts(-6, 999_999_999))).toMatch(/negative/);
  });
});

describe('nested and several time namespaces (beyond CRIU)', () => {
  const nested: CheckpointDescription = {
    timens: [
      { id: 'A', monotonic: ts(1000), boottime: ts(2000), offsets: Z },
      { id: 'B', parent: 'A', monotonic: ts(777, 123), boottime: ts(50_000, 999_999_999), offsets: Z },
      { id: 'C', monotonic: ts(3), boottime: ts(4), offsets: Z },
    ],
    tasks: [
      { pid: 100, tid: 100, ppid: 1, timens: 'A' },
      { pid: 101, tid: 101, ppid: 100, timens: 'B' },
      { pid: 102, tid: 102, ppid: 101, timens: 'B' },
      { pid: 103, tid: 103, ppid: 101, timens: 'A' },
      { pid: 104, tid: 104, ppid: 100, timens: 'C' },
      { pid: 200, tid: 200, ppid: 1, timens: 'B' },
    ],
  };
  const host = { monotonic: ts(42, 999_999_999), boottime: ts(4242) };
  const plan = planRestore(nested, { host });

  it('a nested namespace inherits its parent namespace offsets as P, and still gets D − host', () => {
    const B = plan.namespaces.find((n) => n.id === 'B')!;
    const A = plan.namespaces.find((n) => n.id === 'A')!;
    expect(B.creator).toBe(101);
    expect(B.inheritedFrom).toBe('A');
    expect(B.depth).toBe(1);
    expect(B.clocks.monotonic.inherited).toEqual(A.offsets.monotonic);
    expect(B.clocks.monotonic.now).toEqual(ts(1000)); // 101 reads A's clock before writing
    expect(B.offsets.monotonic).toEqual(sub(ts(777, 123), host.monotonic));
    expect(B.joiners).toEqual([200]);
    expect(A.joiners).toEqual([103]);
    expect(plan.namespaces.find((n) => n.id === 'C')!.inheritedFrom).toBe('A');
    expect(plan.beyondCriu.join('\n')).toMatch(/single time namespace per tree/);
    expect(plan.beyondCriu.join('\n')).toMatch(/Can't dump nested time namespace/);
    expect(plan.beyondCriu.join('\n')).toMatch(/setns from another namespace/);
  });

  it('the model runs it and every task reads its own namespace D', () => {
    const w = world(host);
    const outs = run(w, plan);
    // the read of P in 101 shows A's offsets in the kernel's format
    const readP = plan.steps.findIndex((s) => s.pid === 101 && s.op.call === 'read');
    expect(outs[readP].text).toBe(showOffsets(plan.namespaces.find((n) => n.id === 'A')!.offsets));
    const readings = [100, 101, 102, 103, 104, 200].map((t) => read(w, t));
    const D = Object.fromEntries(nested.timens.map((n) => [n.id, n.monotonic]));
    const byTid = Object.fromEntries(nested.tasks.map((t) => [t.tid, t.timens]));
    for (const r of readings) expect(r.monotonic, `tid ${r.tid}`).toEqual(D[byTid[r.tid]]);
    expect(verifyRestore(nested, plan, readings).ok).toBe(true);
    expect(clocksAt(plan, 'B', host).boottime).toEqual(ts(50_000, 999_999_999));
  });
});

describe('a restorer that itself runs in a time namespace (P ≠ 0 for the root)', () => {
  it('P and now come from the restorer namespace; O is still absolute', () => {
    const host = { monotonic: ts(500), boottime: ts(600) };
    const P = { monotonic: ts(-100, 250_000_000), boottime: ts(1_000_000) };
    // Put pid 2 in a namespace with offsets P: pid 1 unshares, writes, forks 2.
    const w = world(host);
    apply(w, { call: 'unshare', tid: 1, flags: CLONE.NEWTIME });
    const fd = apply(w, { call: 'open', tid: 1, path: '/proc/1/timens_offsets', mode: 'w' }).ret;
    expect(apply(w, { call: 'write', tid: 1, fd, data: `1 ${formatOffset(P.monotonic)}\n7 ${formatOffset(P.boottime)}\n` }).errno).toBeUndefined();
    apply(w, { call: 'close', tid: 1, fd });
    apply(w, { call: 'fork', tid: 1, child: 2 });
    const plan = planRestore(container, { host, restorerPid: 2, restorerOffsets: P });
    const ns = plan.namespaces[0];
    expect(ns.clocks.monotonic.inherited).toEqual(P.monotonic);
    expect(ns.clocks.monotonic.now).toEqual(add(host.monotonic, P.monotonic));
    expect(ns.offsets.monotonic).toEqual(sub(ts(5000, 250_000_000), host.monotonic));
    run(w, plan);
    expect(read(w, 101).monotonic).toEqual(ts(5000, 250_000_000));
  });
});

describe('properties: freeze reads D at the restore instant and never less after; advance ≥ D + elapsed', () => {
  const tsArb = (lo: number, hi: number) => fc.record({ sec: fc.integer({ min: lo, max: hi }), nsec: fc.integer({ min: 0, max: 999_999_999 }) });

  it('for random D, P, now', () => {
    fc.assert(
      fc.property(tsArb(0, 4_000_000_000), tsArb(-1_000_000, 1_000_000), tsArb(0, 500_000_000), tsArb(0, 100_000_000), (D, P, host, later) => {
        const c = planClock('monotonic', D, host, P, 'freeze', ts(0));
        expect(c.erange).toBeNull();
        expect(c.atRestore).toEqual(D);
        expect(compare(add(add(host, later), c.offset), D)).toBeGreaterThanOrEqual(0);
        const e = planClock('boottime', D, host, P, 'advance', later);
        expect(compare(e.atRestore, add(D, later))).toBe(0);
        expect(compare(add(host, e.offset), D)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('migration chain A → B → C through the kernel model keeps both clocks non-decreasing', () => {
    fc.assert(
      fc.property(
        tsArb(0, 1_000_000_000),
        tsArb(0, 1_000_000_000),
        tsArb(0, 100_000),
        tsArb(0, 1_000_000_000),
        tsArb(0, 100_000),
        fc.constantFrom<'freeze' | 'advance'>('freeze', 'advance'),
        tsArb(0, 5_000),
        (hostA, hostB, runB, hostC, runC, policy, downtime) => {
          // On A: a container whose namespace has some offsets; checkpoint = its clock values.
          const offA = { monotonic: ts(123, 456), boottime: ts(-7, 0) };
          let D = clockValues(offA, { monotonic: hostA, boottime: add(hostA, ts(9)) });
          const floor = { ...D };
          for (const [h, run_] of [
            [hostB, runB],
            [hostC, runC],
          ] as const) {
            const cp: CheckpointDescription = {
              timens: [{ id: 'ct', monotonic: D.monotonic, boottime: D.boottime, offsets: offA }],
              tasks: [
                { pid: 300, tid: 300, ppid: 1, timens: 'ct' },
                { pid: 301, tid: 301, ppid: 300, timens: 'ct' },
              ],
            };
            const hostNow = { monotonic: h, boottime: add(h, ts(1)) };
            const plan = planRestore(cp, { host: hostNow, policy, elapsed: downtime });
            if (!plan.ok) return; // an ERANGE case is reported, not attempted
            const w = world(hostNow);
            run(w, plan);
            const at = read(w, 301);
            const want = policy === 'freeze' ? D : { monotonic: add(D.monotonic, downtime), boottime: add(D.boottime, downtime) };
            expect(at.monotonic).toEqual(want.monotonic);
            expect(at.boottime).toEqual(want.boottime);
            apply(w, { call: 'host.advance', sec: run_.sec, nsec: run_.nsec });
            const after = read(w, 300);
            expect(verifyRestore(cp, plan, [at, after, read(w, 301)]).ok).toBe(true);
            expect(compare(after.monotonic, floor.monotonic)).toBeGreaterThanOrEqual(0);
            expect(compare(after.boottime, floor.boottime)).toBeGreaterThanOrEqual(0);
            // the next checkpoint: host clock at that point + the namespace offsets
            D = clockValues(plan.namespaces[0].offsets, w.host);
            expect(D.monotonic).toEqual(after.monotonic);
            floor.monotonic = D.monotonic;
            floor.boottime = D.boottime;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('bad checkpoints get typed errors naming the path', () => {
  const base = () => JSON.parse(JSON.stringify(container));
  const cases: [string, (c: any) => void, RegExp][] = [
    ['root', (c) => Object.assign(c, { timens: 5 }), /timens: expected an array/],
    ['nsec', (c) => (c.timens[0].monotonic.nsec = 1_000_000_000), /timens\[0\]\.monotonic: expected integer sec and 0 <= nsec < 1000000000/],
    ['float', (c) => (c.timens[0].boottime.sec = 1.5), /timens\[0\]\.boottime/],
    ['dup id', (c) => c.timens.push({ ...c.timens[0] }), /timens\[1\]\.id: duplicate id "ct"/],
    ['parent', (c) => (c.timens[0].parent = 'nope'), /timens\[0\]\.parent: no time namespace with id "nope"/],
    ['cycle', (c) => (c.timens[0].parent = 'ct'), /is a cycle/],
    ['task ns', (c) => (c.tasks[1].timens = 'x'), /tasks\[1\]\.timens: no time namespace/],
    ['dup tid', (c) => (c.tasks[2].tid = 102), /tasks\[2\]\.tid: duplicate tid 102/],
    ['no leader', (c) => (c.tasks[1].pid = 555), /thread 102 has no leader task 555/],
    ['pid', (c) => (c.tasks[0].pid = -3), /tasks\[0\]\.pid: expected a pid/],
    ['offsets', (c) => delete c.timens[0].offsets, /timens\[0\]\.offsets: expected \{monotonic, boottime\}/],
  ];
  for (const [name, mutate, re] of cases)
    it(name, () => {
      const c = base();
      mutate(c);
      expect(() => validateCheckpoint(c, 'image.json')).toThrow(re);
      try {
        validateCheckpoint(c, 'image.json');
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
        expect((e as Error).message.startsWith('image.json: ')).toBe(true);
      }
    });

  it('a thread in another namespace than its leader is impossible', () => {
    const c = base();
    c.timens.push({ id: 'other', monotonic: ts(1), boottime: ts(1), offsets: Z });
    c.tasks[1].timens = 'other';
    expect(() => validateCheckpoint(c)).toThrow(/threads of a process always share one/);
  });

  it('the restorer pid must not be a restored pid', () => {
    expect(() => planRestore(container, { host: Z, restorerPid: 101 })).toThrow(/restorer pid 101 is also a task/);
    const p = planRestore(container, { host: { monotonic: ts(1), boottime: ts(1) }, restorerPid: 7, spawnRestorer: true });
    expect(p.ops[0]).toEqual({ call: 'host.spawn', pid: 7, ppid: 0 });
    expect(p.ops[1]).toMatchObject({ call: 'clone3', tid: 7, set_tid: [100] });
  });

  it('namespaces without tasks are noted, not invented', () => {
    const c = base();
    c.timens.push({ id: 'empty', monotonic: ts(1), boottime: ts(1), offsets: Z });
    const p = planRestore(c, { host: { monotonic: ts(1), boottime: ts(1) } });
    expect(p.namespaces.map((n) => n.id)).toEqual(['ct']);
    expect(p.notes[0]).toMatch(/"empty" has no task/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The real kernel: the plan's lines, written the way CRIU writes them, make the clocks continue from D.

const LIVE_SCRIPT = String.raw`
import ctypes, os, sys, json, time
libc = ctypes.CDLL(None, use_errno=True)
arg = json.loads(sys.argv[1])
if arg["phase"] == "host":
    print(json.dumps([time.clock_gettime_ns(time.CLOCK_MONOTONIC), time.clock_gettime_ns(time.CLOCK_BOOTTIME)])); sys.exit(0)
if libc.unshare(0x80) != 0:
    print(json.dumps({"error": "unshare: " + os.strerror(ctypes.get_errno())})); sys.exit(0)
fd = os.open("/proc/self/timens_offsets", os.O_RDWR)
res = []
for line in arg["lines"]:
    try: res.append(os.write(fd, line.encode()))
    except OSError as e: res.append(-e.errno)
os.close(fd)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, json.dumps([time.clock_gettime_ns(time.CLOCK_MONOTONIC), time.clock_gettime_ns(time.CLOCK_BOOTTIME)]).encode()); os._exit(0)
os.waitpid(pid, 0)
print(json.dumps({"writes": res, "child": json.loads(os.read(r, 4096))}))
`;
function live(arg: object): any {
  const r = spawnSync(PYTHON, ['-c', LIVE_SCRIPT, JSON.stringify(arg)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
const liveReason = (() => {
  if (process.getuid?.() !== 0) return 'needs root (CAP_SYS_ADMIN and CAP_SYS_TIME)';
  try {
    const probe = live({ phase: 'write', lines: [] });
    return probe.error ? `no time namespaces here (${probe.error})` : null;
  } catch (e) {
    return `python3 unavailable: ${(e as Error).message}`;
  }
})();
if (liveReason) console.warn(`skipping live restore-plan tests: ${liveReason}`);

describe.skipIf(liveReason !== null)('on the real kernel', () => {
  const nsToTs = (ns: number | bigint) => {
    const b = BigInt(ns);
    return ts(Number(b / 1_000_000_000n), Number(b % 1_000_000_000n));
  };
  for (const [name, D] of [
    ['a checkpoint from a long-running host (positive offsets)', { monotonic: ts(900_000, 123_456_789), boottime: ts(950_000, 999_999_999) }],
    ['a checkpoint from a freshly booted host (negative offsets)', { monotonic: ts(1, 500_000_000), boottime: ts(2) }],
  ] as const)
    it(`${name}: the first task reads D plus the few milliseconds since the host clocks were sampled`, () => {
      const [m, b] = live({ phase: 'host' });
      const host = { monotonic: nsToTs(m), boottime: nsToTs(b) };
      const cp: CheckpointDescription = { timens: [{ id: 1, ...D, offsets: Z }], tasks: [{ pid: 10, tid: 10, ppid: 1, timens: 1 }] };
      const plan = planRestore(cp, { host });
      expect(plan.ok).toBe(true);
      const lines = plan.namespaces[0];
      const out = live({ phase: 'write', lines: [lines.clocks.monotonic.line, lines.clocks.boottime.line] });
      expect(out.writes).toEqual([lines.clocks.monotonic.line.length, lines.clocks.boottime.line.length]);
      const [cm, cb] = out.child.map(nsToTs);
      for (const [got, want] of [
        [cm, D.monotonic],
        [cb, D.boottime],
      ] as const) {
        expect(compare(got, want)).toBeGreaterThanOrEqual(0); // never backwards
        expect(compare(got, add(want, ts(5)))).toBeLessThan(0); // and only the sampling delay ahead
      }
    });
  it('a D past KTIME_SEC_MAX/2 is refused by the plan and by the kernel alike (ERANGE)', () => {
    const [m, b] = live({ phase: 'host' });
    const D = ts(KTIME_SEC_MAX_HALF + 1);
    const plan = planRestore({ timens: [{ id: 1, monotonic: D, boottime: D, offsets: Z }], tasks: [{ pid: 10, tid: 10, ppid: 1, timens: 1 }] }, { host: { monotonic: nsToTs(m), boottime: nsToTs(b) } });
    expect(plan.errors.map((e) => e.clock)).toEqual(['monotonic', 'boottime']);
    const out = live({ phase: 'write', lines: [plan.namespaces[0].clocks.monotonic.line, plan.namespaces[0].clocks.boottime.line] });
    expect(out.writes).toEqual([-34, -34]);
  });
});
