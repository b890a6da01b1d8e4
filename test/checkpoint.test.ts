/**
 * Checkpoint images (capture, validation, schema) and restore (freeze/advance formula, ERANGE before writing,
 * the proof, nested namespaces, migration chains A → B → C as a property).
 */
import { fromNs, toNs } from '../src/kernel/timespec.js';

const NS = 1_000_000_000n;
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apply, checkInvariants, CLONE, createWorld, readClock, type Op, type Timespec, type World } from '../src/kernel/index.js';
import { captureImage, CheckpointError, imageSchema, ImageError, validateImage, type CheckpointImage } from '../src/replay/checkpoint.js';
import { restoreImage } from '../src/replay/restore-run.js';

function must(w: World, op: Op): number {
  const o = apply(w, op);
  if (o.errno) throw new Error(`${op.call}: ${o.rule}`);
  return o.ret;
}

/** A container: runtime 100 unshares, writes offsets, forks init 101, which forks 102 and a thread. */
function container(mono: Timespec, boot: Timespec, host = { monotonic: { sec: 5000, nsec: 0 }, boottime: { sec: 5100, nsec: 0 } }) {
  const w = createWorld({ firstPid: 100, host: { realtime: { sec: 1764000000, nsec: 0 }, ...host } });
  must(w, { call: 'unshare', tid: 100, flags: CLONE.NEWTIME });
  const fd = must(w, { call: 'open', tid: 100, path: '/proc/self/timens_offsets', mode: 'w' });
  must(w, { call: 'write', tid: 100, fd, data: `monotonic ${mono.sec} ${mono.nsec}\nboottime ${boot.sec} ${boot.nsec}\n` });
  must(w, { call: 'close', tid: 100, fd });
  const init = must(w, { call: 'fork', tid: 100 });
  const child = must(w, { call: 'fork', tid: init });
  const thread = must(w, { call: 'clone', tid: child, flags: CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM });
  return { w, init, child, thread };
}

const mono = (w: World, tid: number) => {
  const r = readClock(w, w.tasks[tid], 1);
  if (!r.ok) throw new Error(r.rule);
  return r.ts;
};
const boot = (w: World, tid: number) => {
  const r = readClock(w, w.tasks[tid], 7);
  if (!r.ok) throw new Error(r.rule);
  return r.ts;
};

describe('captureImage', () => {
  it('captures the tree, threads, credentials, namespaces with owners, and D = host + offsets per time namespace', () => {
    const { w, init, child, thread } = container({ sec: 86400, nsec: 123 }, { sec: -100, nsec: 999999999 });
    must(w, { call: 'host.advance', sec: 10, nsec: 5 });
    const img = captureImage(w, init, { ledger: 'x.ndjson', seq: 7 });
    expect(img.format).toBe('tns-checkpoint');
    expect(img.version).toBe(1);
    expect(img.tasks.map((t) => t.tid)).toEqual([init, child, thread]);
    expect(img.tasks.find((t) => t.tid === thread)).toMatchObject({ thread: true, tgid: child });
    expect(img.tasks[0].cred).toMatchObject({ uid: 0, euid: 0 });
    expect(img.timens).toHaveLength(1);
    const n = img.timens[0];
    expect(n.tasks).toEqual([init, child, thread]);
    expect(n.frozen).toBe(true);
    expect(n.offsets).toEqual({ monotonic: { sec: 86400, nsec: 123 }, boottime: { sec: -100, nsec: 999999999 } });
    // D = host + offsets, exact: 5010.000000005 + 86400.000000123; 5110.000000005 − 99.000000001
    expect(n.monotonic).toEqual({ sec: 91410, nsec: 128 });
    expect(n.boottime).toEqual({ sec: 5011, nsec: 4 });
    expect(n.monotonic).toEqual(mono(w, child));
    expect(n.boottime).toEqual(boot(w, thread));
    // every namespace used, with the owner (initial) user namespace
    const types = new Set(img.namespaces.map((x) => x.type));
    for (const t of ['uts', 'ipc', 'mnt', 'net', 'cgroup', 'pid', 'user']) expect(types.has(t as never)).toBe(true);
    expect(img.namespaces.find((x) => x.type === 'user')).toMatchObject({ initial: true, owner: null, level: 0 });
    expect(img.criu).toEqual({ accepts: true, refusals: [] });
    expect(img.source).toEqual({ ledger: 'x.ndjson', seq: 7 });
    expect(validateImage(JSON.parse(JSON.stringify(img)), 'img.json')).toEqual(img);
  });

  it('nested and pending time namespaces: captured, with CRIU refusals and a note that tns goes beyond CRIU', () => {
    const { w, init, child } = container({ sec: 10, nsec: 0 }, { sec: 0, nsec: 0 });
    must(w, { call: 'unshare', tid: child, flags: CLONE.NEWTIME });
    const gc = must(w, { call: 'fork', tid: child });
    must(w, { call: 'unshare', tid: init, flags: CLONE.NEWTIME });
    const img = captureImage(w, init);
    expect(img.timens).toHaveLength(3);
    expect(img.criu.accepts).toBe(false);
    expect(img.criu.refusals.join(' ')).toMatch(/Can't dump nested time namespace/);
    expect(img.criu.refusals.join(' ')).toMatch(/time_for_children differs/);
    expect(img.notes.join(' ')).toMatch(/tns goes beyond CRIU/);
    const pending = img.timens.find((n) => n.pendingFor.includes(init))!;
    expect(pending.frozen).toBe(false);
    expect(pending.tasks).toEqual([]);
    expect(img.timens.find((n) => n.tasks.includes(gc))!.pendingFor).toContain(child);
  });

  it('refuses what cannot be checkpointed', () => {
    const { w, child, thread } = container({ sec: 1, nsec: 0 }, { sec: 1, nsec: 0 });
    expect(() => captureImage(w, 4242)).toThrow(CheckpointError);
    expect(() => captureImage(w, thread)).toThrow(/is a thread of/);
    must(w, { call: 'exit_group', tid: child, code: 0 });
    expect(() => captureImage(w, child)).toThrow(/zombie/);
  });
});

describe('validateImage (an image file is untrusted input)', () => {
  const good = () => JSON.parse(JSON.stringify(captureImage(container({ sec: 1, nsec: 0 }, { sec: 1, nsec: 0 }).w, 101))) as Record<string, any>;
  const cases: [string, (o: Record<string, any>) => void, RegExp][] = [
    ['format', (o) => (o.format = 'criu'), /^f\.json: format: expected "tns-checkpoint"/],
    ['version', (o) => (o.version = 2), /version: this tns reads image version 1/],
    ['nsec range', (o) => (o.timens[0].monotonic.nsec = 1e9), /timens\[0\]\.monotonic\.nsec: must be in \[0, 999999999\]/],
    ['sec type', (o) => (o.timens[0].offsets.boottime.sec = '5'), /timens\[0\]\.offsets\.boottime\.sec: expected an integer/],
    ['root', (o) => (o.root = 9999), /root: the root 9999 is not among the tasks/],
    ['duplicate tid', (o) => o.tasks.push(o.tasks[0]), /tasks\[\d+\]\.tid: task 101 appears twice/],
    ['time ns ref', (o) => (o.tasks[0].ns.time = 1), /tasks\[0\]\.ns\.time: time:\[1\] is not in timens/],
    ['not an object', (o) => (o.host = []), /host: expected an object/],
  ];
  for (const [name, mutate, re] of cases)
    it(name, () => {
      const o = good();
      mutate(o);
      expect(() => validateImage(o, 'f.json')).toThrow(ImageError);
      expect(() => validateImage(o, 'f.json')).toThrow(re);
    });
});

describe('the image JSON Schema', () => {
  it('events/checkpoint-image.schema.json is generated from imageSchema() and is not stale', () => {
    const path = join(import.meta.dirname, '..', 'events', 'checkpoint-image.schema.json');
    const want = `${JSON.stringify(imageSchema(), null, 2)}\n`;
    if (process.env.TNS_UPDATE_SCHEMA || !existsSync(path)) writeFileSync(path, want);
    expect(readFileSync(path, 'utf8')).toBe(want);
  });
});

describe('restore', () => {
  it('freeze: O = D − (now − P) exactly, every task reads D at the restore instant, clocks then move with the host', () => {
    const { w, init, child, thread } = container({ sec: 86400, nsec: 999999999 }, { sec: 1, nsec: 1 });
    const img = captureImage(w, init);
    const r = restoreImage(img, { host: { monotonic: { sec: 7, nsec: 500000000 }, boottime: { sec: 8, nsec: 0 } } });
    if (!r.ok) throw new Error(r.error);
    const D = img.timens[0];
    expect(r.namespaces[0].offsets.monotonic).toEqual(fromNs(toNs(D.monotonic) - toNs({ sec: 7, nsec: 500000000 })));
    expect(r.namespaces[0].offsets.boottime).toEqual(fromNs(toNs(D.boottime) - 8n * NS));
    expect(r.namespaces[0].why.monotonic).toMatch(/^O = D − \(now − P\) = 91400\.999999999 − \(7\.500000000 − 0\.000000000\) = 91393\.499999999 s$/);
    for (const tid of [init, child, thread]) {
      expect(mono(r.world, tid)).toEqual(D.monotonic);
      expect(boot(r.world, tid)).toEqual(D.boottime);
    }
    expect(r.proof.every((p) => p.ok)).toBe(true);
    expect(r.proof).toHaveLength(6);
    expect(checkInvariants(r.world)).toEqual([]);
    // The restorer's events include the numeric offsets write and the setns into the new namespace.
    const calls = r.events.map((e) => e.op.call);
    expect(calls).toContain('unshare');
    expect(calls).toContain('setns');
    // numeric clock ids, one record per write, as CRIU's dprintf
    const writes = r.events.flatMap((e) => (e.op.call === 'write' ? [e.op.data] : []));
    expect(writes).toEqual(['1 91393 499999999\n', '7 5093 1\n']);
    expect(r.plan).toBeDefined();
    expect(r.verdict?.ok).toBe(true);
    expect(r.events.every((e) => !e.outcome.errno)).toBe(true);
    // restored pids are the image pids; the namespaces are fresh and frozen
    expect(r.world.tasks[thread].tgid).toBe(child);
    const T = r.world.nsproxies[r.world.tasks[init].nsproxy!].time;
    expect(r.world.namespaces[T].frozen).toBe(true);
    must(r.world, { call: 'host.advance', sec: 2, nsec: 0 });
    expect(mono(r.world, child)).toEqual(fromNs(toNs(D.monotonic) + 2n * NS));
  });

  it('advance: O = D + elapsed − now; the downtime is counted, never backwards', () => {
    const { w, init } = container({ sec: 100, nsec: 0 }, { sec: 100, nsec: 0 });
    const img = captureImage(w, init);
    const r = restoreImage(img, { host: { monotonic: { sec: 50, nsec: 0 }, boottime: { sec: 60, nsec: 0 } }, policy: 'advance', elapsed: { sec: 30, nsec: 250 } });
    if (!r.ok) throw new Error(r.error);
    expect(mono(r.world, init)).toEqual(fromNs(toNs(img.timens[0].monotonic) + 30n * NS + 250n));
    expect(r.proof.every((p) => p.ok && toNs(p.restored) > toNs(p.checkpointed))).toBe(true);
  });

  it('advance without --elapsed uses the realtime difference between the hosts', () => {
    const { w, init } = container({ sec: 100, nsec: 0 }, { sec: 100, nsec: 0 });
    const img = captureImage(w, init);
    const r = restoreImage(img, { host: { monotonic: { sec: 50, nsec: 0 }, boottime: { sec: 60, nsec: 0 }, realtime: { sec: 1764000600, nsec: 0 } }, policy: 'advance' });
    if (!r.ok) throw new Error(r.error);
    expect(toNs(mono(r.world, init)) - toNs(img.timens[0].monotonic)).toBe(600n * NS);
  });

  it('ERANGE is reported before anything is written', () => {
    const { w, init } = container({ sec: 4611680000, nsec: 0 }, { sec: 0, nsec: 0 });
    const img = captureImage(w, init);
    const r = restoreImage(img, { host: { monotonic: { sec: 10, nsec: 0 }, boottime: { sec: 10, nsec: 0 } }, policy: 'advance', elapsed: { sec: 86400, nsec: 0 } });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errno).toBe('ERANGE');
    expect(r.error).toMatch(/monotonic: host clock 10\.000000000 s \+ offset .* exceeds KTIME_SEC_MAX\/2 \(4611686018 s\) \(ERANGE\)/);
    expect('events' in r).toBe(false);
  });

  it('nested namespaces and a pending time_for_children are re-created; each task continues its own clocks', () => {
    const { w, init, child } = container({ sec: 10, nsec: 0 }, { sec: 20, nsec: 0 });
    must(w, { call: 'unshare', tid: child, flags: CLONE.NEWTIME });
    const fd = must(w, { call: 'open', tid: child, path: '/proc/self/timens_offsets', mode: 'w' });
    must(w, { call: 'write', tid: child, fd, data: 'monotonic 5000 7\n' });
    must(w, { call: 'close', tid: child, fd });
    const gc = must(w, { call: 'fork', tid: child });
    must(w, { call: 'unshare', tid: init, flags: CLONE.NEWTIME }); // pending, not entered
    const img = captureImage(w, init);
    const r = restoreImage(img, { host: { monotonic: { sec: 3, nsec: 0 }, boottime: { sec: 3, nsec: 0 } } });
    if (!r.ok) throw new Error(r.error);
    expect(r.proof.every((p) => p.ok)).toBe(true);
    expect(mono(r.world, gc)).toEqual(mono(w, gc));
    expect(mono(r.world, child)).toEqual(mono(w, child));
    const nsp = (wd: World, t: number) => wd.nsproxies[wd.tasks[t].nsproxy!];
    // the grandchild's time is the child's time_for_children, as before
    expect(nsp(r.world, gc).time).toBe(nsp(r.world, child).time_for_children);
    expect(nsp(r.world, gc).time).not.toBe(nsp(r.world, child).time);
    // init's pending namespace is back, not frozen, with the offsets it had
    const pend = r.world.namespaces[nsp(r.world, init).time_for_children];
    expect(pend.frozen).toBe(false);
    expect(nsp(r.world, init).time_for_children).not.toBe(nsp(r.world, init).time);
    expect(toNs(r.world.host.monotonic) + toNs(pend.offsets!.monotonic)).toBe(toNs(w.host.monotonic) + toNs(w.namespaces[nsp(w, init).time_for_children].offsets!.monotonic));
    expect(checkInvariants(r.world)).toEqual([]);
  });

  it('a tree in the host time namespace is restored into a new one, like CRIU does', () => {
    const w = createWorld({ firstPid: 10, host: { realtime: { sec: 1764000000, nsec: 0 }, monotonic: { sec: 99999, nsec: 0 }, boottime: { sec: 99999, nsec: 0 } } });
    const app = must(w, { call: 'fork', tid: 10 });
    const img = captureImage(w, app);
    expect(img.timens[0].initial).toBe(true);
    expect(img.notes.join(' ')).toMatch(/host \(initial\) time namespace/);
    const r = restoreImage(img, { host: { monotonic: { sec: 1, nsec: 0 }, boottime: { sec: 1, nsec: 0 } } });
    if (!r.ok) throw new Error(r.error);
    expect(r.world.nsproxies[r.world.tasks[app].nsproxy!].time).not.toBe(r.world.init.time);
    expect(mono(r.world, app)).toEqual({ sec: 99999, nsec: 0 });
  });

  it('a tree in a non-initial user namespace is refused with a reason (not restored half-way)', () => {
    const w = createWorld({ firstPid: 10 });
    const c = must(w, { call: 'fork', tid: 10 });
    must(w, { call: 'unshare', tid: c, flags: CLONE.NEWUSER | CLONE.NEWTIME });
    const gc = must(w, { call: 'fork', tid: c });
    const img = captureImage(w, gc);
    expect(img.namespaces.filter((n) => n.type === 'user')).toHaveLength(2);
    const r = restoreImage(img, { host: { monotonic: { sec: 1, nsec: 0 }, boottime: { sec: 1, nsec: 0 } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(/non-initial user namespace/);
  });

  it('migration chains A → B → C → ...: clocks never go backwards (property)', () => {
    const tsArb = (min: number, max: number) => fc.record({ sec: fc.integer({ min, max }), nsec: fc.integer({ min: 0, max: 999999999 }) });
    fc.assert(
      fc.property(
        tsArb(-1000, 10_000_000),
        tsArb(-1000, 10_000_000),
        fc.array(
          fc.record({
            mono: tsArb(0, 50_000_000),
            bootExtra: tsArb(0, 1_000_000),
            policy: fc.constantFrom('freeze' as const, 'advance' as const),
            elapsed: tsArb(0, 100_000),
            run: tsArb(0, 100_000),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (m, b, hops) => {
          let { w, init, child } = container(m, b, { monotonic: { sec: 2_000_000, nsec: 0 }, boottime: { sec: 2_000_000, nsec: 0 } });
          let last = { mono: mono(w, child), boot: boot(w, child) };
          for (const hop of hops) {
            const img = captureImage(w, init);
            const host = { monotonic: hop.mono, boottime: fromNs(toNs(hop.mono) + toNs(hop.bootExtra)) };
            const r = restoreImage(img, { host, policy: hop.policy, elapsed: hop.elapsed });
            if (!r.ok) throw new Error(r.error);
            expect(r.proof.every((p) => p.ok)).toBe(true);
            const now = { mono: mono(r.world, child), boot: boot(r.world, child) };
            expect(toNs(now.mono) >= toNs(last.mono)).toBe(true);
            expect(toNs(now.boot) >= toNs(last.boot)).toBe(true);
            if (hop.policy === 'freeze') expect(now.mono).toEqual(last.mono);
            else expect(toNs(now.mono) - toNs(last.mono)).toBe(toNs(hop.elapsed));
            must(r.world, { call: 'host.advance', ...hop.run });
            w = r.world;
            last = { mono: mono(w, child), boot: boot(w, child) };
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

export type { CheckpointImage };
