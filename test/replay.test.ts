import { describe, expect, it } from 'vitest';
import { lastValueFrom, last } from 'rxjs';
import { apply, CLONE, createWorld, type Op, type World } from '../src/kernel/index.js';
import { sealRecord, ZERO_HASH, type EventInput, type EventRecord } from '../src/events/index.js';
import { Synth } from '../src/replay/synth.js';
import { applySequentially, project, Projector, type Engine } from '../src/replay/project.js';
import { fromRecords } from '../src/replay/source.js';

/** Seal inputs into a ledger's records (seq, prev, hash) in memory. */
function seal(inputs: EventInput[]): EventRecord[] {
  let prev = ZERO_HASH;
  return inputs.map((input, i) => {
    const { record } = sealRecord(input, i + 1, prev);
    prev = record.hash;
    return record;
  });
}

const plain = (w: World) => JSON.parse(JSON.stringify(w)) as World;

function synthRecords(n: number, seed: number): EventRecord[] {
  const s = new Synth({ events: n, seed });
  const out: EventInput[] = [];
  for (let b = s.next(512); b.length; b = s.next(512)) out.push(...b);
  return seal(out);
}

function run(records: EventRecord[], engine: Engine, batch: number) {
  const p = new Projector({ engine });
  for (let i = 0; i < records.length; i += batch) p.step(records.slice(i, i + batch));
  return p;
}

describe('projection', () => {
  const records = synthRecords(4000, 11);

  for (const engine of ['shadow', 'draft', 'mutable'] as const)
    for (const batch of [1, 7, 1000])
      it(`${engine} engine, batches of ${batch}: equals plain sequential apply`, () => {
        const p = run(records, engine, batch);
        expect(p.divergences).toEqual([]);
        expect(plain(p.current!.world)).toEqual(plain(applySequentially(records)));
        expect(p.current!.seq).toBe(4000);
      });

  it('the rxjs operator emits one state per batch, the last equal to sequential apply, states frozen and sharing structure', async () => {
    const states: World[] = [];
    const final = await lastValueFrom(
      fromRecords(records).pipe(project({ batchSize: 500 }), (s) => {
        s.subscribe((r) => states.push(r.world));
        return s.pipe(last());
      }),
    );
    expect(final.seq).toBe(4000);
    expect(plain(final.world)).toEqual(plain(applySequentially(records)));
    expect(Object.isFrozen(final.world)).toBe(true);
    expect(Object.isFrozen(final.world.namespaces)).toBe(true);
    // The initial time namespace's offsets never change: the same frozen object in consecutive states.
    const init = final.world.init.time;
    expect(states.length).toBeGreaterThan(2);
    expect(states[states.length - 2].namespaces[init].offsets).toBe(states[states.length - 1].namespaces[init].offsets);
  });

  it('an earlier state is not changed by later batches', () => {
    const p = new Projector({});
    const first = p.step(records.slice(0, 1000));
    const snapshot = JSON.stringify(first.world);
    p.step(records.slice(1000, 3000));
    expect(JSON.stringify(first.world)).toBe(snapshot);
  });
});

describe('finish() and a given working copy', () => {
  const records = synthRecords(3000, 12);

  it('finish(): the working world frozen as the state, equal to materialize(); later states share structure with it and do not change it', () => {
    const p = new Projector({ engine: 'shadow' });
    p.advance(records.slice(0, 1000));
    const early = p.materialize();
    p.advance(records.slice(1000, 1700));
    const work = p.working();
    const fin = p.finish()!;
    expect(fin.seq).toBe(1700);
    expect(fin.world).toBe(work); // handed over, not compared and copied
    expect(Object.isFrozen(fin.world.tasks)).toBe(true);
    expect(Object.isFrozen(fin.world.namespaces[fin.world.init.time].offsets)).toBe(true);
    expect(plain(fin.world)).toEqual(plain(applySequentially(records.slice(0, 1700))));
    const frozenText = JSON.stringify(fin.world);
    expect(p.finish()!.world).toBe(fin.world); // nothing since: the same state
    p.advance(records.slice(1700, 2200));
    expect(p.working()).not.toBe(fin.world);
    const next = p.materialize();
    expect(plain(next.world)).toEqual(plain(applySequentially(records.slice(0, 2200))));
    expect(JSON.stringify(fin.world)).toBe(frozenText);
    expect(next.world.namespaces[next.world.init.time].offsets).toBe(fin.world.namespaces[fin.world.init.time].offsets);
    expect(plain(early.world)).toEqual(plain(applySequentially(records.slice(0, 1000))));
    expect(new Projector({}).finish()).toBeUndefined();
  });

  for (const engine of ['shadow', 'mutable'] as const)
    it(`${engine}: a start state with a working copy — the copy is the working world, the start state stays the rebuild checkpoint`, () => {
      const mixed: EventInput[] = [];
      for (let i = 0; i < 40; i++) {
        mixed.push({ op: { call: 'fork', tid: 1, child: 10 + i }, pid: 1, outcome: { ret: 10 + i } });
        // The model throws (no task 5000+i): the working world is rebuilt from the checkpoint.
        if (i % 3 === 0) mixed.push({ op: { call: 'unshare', tid: 5000 + i, flags: CLONE.NEWTIME }, pid: 5000 + i, outcome: { ret: 0 } });
      }
      const all = seal(mixed);
      const head = new Projector({ engine: 'shadow' });
      head.step(all.slice(0, 20));
      const start = head.current!.world;
      const startText = JSON.stringify(start);
      const working = JSON.parse(startText) as World;
      const p = new Projector({ engine, start: { seq: 20, world: start, working } });
      expect(p.working()).toBe(working);
      for (let i = 20; i < all.length; i += 3) p.advance(all.slice(i, i + 3));
      const one = new Projector({ engine });
      one.step(all);
      expect(plain(p.finish()!.world)).toEqual(plain(one.current!.world));
      expect(p.divergences.map((d) => d.seq)).toEqual(one.divergences.filter((d) => d.seq > 20).map((d) => d.seq));
      expect(JSON.stringify(start)).toBe(startText);
    });
});

/** A little history: task 1 forks 2; 2 drops root; then whatever the test adds. */
function base(): EventInput[] {
  return [
    { op: { call: 'marker.profile', profile: '6.3+' } },
    { op: { call: 'fork', tid: 1, child: 2 }, pid: 1, outcome: { ret: 2 }, recorded: true },
  ];
}

function world(inputs: EventInput[], engine: Engine = 'shadow') {
  const p = new Projector({ engine });
  p.step(seal(inputs));
  return { w: p.current!.world, d: p.divergences };
}

describe('recorded outcomes are the truth', () => {
  for (const engine of ['shadow', 'draft', 'mutable'] as const) {
    it(`${engine}: the kernel failed where the model succeeds → divergence, the event is rolled back`, () => {
      const { w, d } = world([...base(), { op: { call: 'unshare', tid: 2, flags: CLONE.NEWTIME }, pid: 2, outcome: { ret: -1, errno: 'EPERM' }, recorded: true, src: { file: 't.strace', line: 9 } }], engine);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ seq: 3, line: 9, file: 't.strace', pid: 2, call: 'unshare', kind: 'divergence', resolution: 'rolled-back', fields: ['errno', 'ret'] });
      expect(d[0].recorded.errno).toBe('EPERM');
      expect(d[0].model!.ret).toBe(0);
      // Nothing of the unshare is left: task 2's C is still the initial time namespace, no new namespace exists.
      const nsp = w.nsproxies[w.tasks[2].nsproxy!];
      expect(nsp.time_for_children).toBe(w.init.time);
      expect(Object.values(w.namespaces).filter((n) => n.type === 'time')).toHaveLength(1);
    });

    it(`${engine}: the kernel succeeded where the model refuses (EPERM) → the call is forced, credentials put back`, () => {
      const { w, d } = world(
        [
          ...base(),
          { op: { call: 'setresuid', tid: 2, ruid: 1000, euid: 1000, suid: 1000 }, pid: 2, outcome: { ret: 0 }, recorded: true },
          { op: { call: 'unshare', tid: 2, flags: CLONE.NEWTIME }, pid: 2, outcome: { ret: 0 }, recorded: true },
        ],
        engine,
      );
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ seq: 4, call: 'unshare', resolution: 'forced', fields: ['errno', 'ret'] });
      expect(d[0].model!.errno).toBe('EPERM');
      const t = w.tasks[2];
      const C = w.nsproxies[t.nsproxy!].time_for_children;
      expect(C).not.toBe(w.init.time);
      expect(w.namespaces[C]).toMatchObject({ type: 'time', frozen: false, count: 1 });
      expect(t.cred.caps).toEqual([]);
      expect(t.cred.euid).toBe(1000);
    });

    it(`${engine}: a write the model finds frozen but the kernel accepted → forced, the namespace unfrozen with the new offsets`, () => {
      const { w, d } = world(
        [
          ...base(),
          { op: { call: 'unshare', tid: 2, flags: CLONE.NEWTIME }, pid: 2, outcome: { ret: 0 }, recorded: true },
          { op: { call: 'open', tid: 2, path: '/proc/self/timens_offsets', mode: 'rw', fd: 3 }, pid: 2, outcome: { ret: 3 }, recorded: true },
          { op: { call: 'fork', tid: 2, child: 3 }, pid: 2, outcome: { ret: 3 }, recorded: true },
          { op: { call: 'write', tid: 2, fd: 3, data: 'monotonic 500 0\n' }, pid: 2, outcome: { ret: 16 }, recorded: true },
        ],
        engine,
      );
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ seq: 6, call: 'write', resolution: 'forced' });
      expect(d[0].model!.errno).toBe('EACCES');
      const C = w.nsproxies[w.tasks[2].nsproxy!].time_for_children;
      expect(w.namespaces[C].offsets!.monotonic).toEqual({ sec: 500, nsec: 0 });
      expect(w.namespaces[C].frozen).toBe(false);
    });

    it(`${engine}: a refusal nothing can lift (EBADF) stays unresolved and the world is unchanged`, () => {
      const before = world(base(), engine).w;
      const { w, d } = world([...base(), { op: { call: 'setns', tid: 2, fd: 7, nstype: CLONE.NEWTIME }, pid: 2, outcome: { ret: 0 }, recorded: true }], engine);
      expect(d[0]).toMatchObject({ call: 'setns', resolution: 'unresolved' });
      expect(plain(w)).toEqual(plain(before));
    });

    it(`${engine}: a fork without a child binding is rebound to the recorded pid`, () => {
      const { w, d } = world([...base(), { op: { call: 'fork', tid: 2 }, pid: 2, outcome: { ret: 4242 }, recorded: true }], engine);
      expect(d[0]).toMatchObject({ call: 'fork', resolution: 'rebound', fields: ['ret'] });
      expect(w.tasks[4242]).toBeDefined();
      expect(w.tasks[3]).toBeUndefined();
    });

    it(`${engine}: a model-computed outcome that the model no longer computes is a determinism bug`, () => {
      const { d } = world([...base(), { op: { call: 'clock_gettime', tid: 1, clockid: 1 }, pid: 1, outcome: { ret: 0, ts: { sec: 1, nsec: 0 } }, recorded: false }], engine);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ kind: 'determinism', fields: ['ts'], resolution: 'kept-model' });
    });

    it(`${engine}: an event the model cannot apply (unknown task) is a model error, skipped, and the batch goes on`, () => {
      const { w, d } = world([...base(), { op: { call: 'fork', tid: 99, child: 100 }, pid: 99, outcome: { ret: 100 } }, { op: { call: 'fork', tid: 2, child: 5 }, pid: 2, outcome: { ret: 5 } }], engine);
      expect(d).toHaveLength(1);
      expect(d[0]).toMatchObject({ kind: 'model-error', seq: 3, resolution: 'unresolved' });
      expect(w.tasks[100]).toBeUndefined();
      expect(w.tasks[5]).toBeDefined();
    });
  }

  for (const engine of ['shadow', 'draft', 'mutable'] as const)
    it(`${engine}: many events the model cannot apply in one batch: each skipped, the others applied as if they were not there`, () => {
      const good: EventInput[] = [];
      const mixed: EventInput[] = [];
      for (let i = 0; i < 120; i++) {
        const fork: EventInput = { op: { call: 'fork', tid: 1, child: 10 + i }, pid: 1, outcome: { ret: 10 + i } };
        good.push(fork);
        mixed.push(fork, { op: { call: 'unshare', tid: 5000 + i, flags: CLONE.NEWTIME }, pid: 5000 + i, outcome: { ret: 0 } });
      }
      const p = new Projector({ engine });
      p.step(seal(mixed));
      expect(p.divergences).toHaveLength(120);
      expect(p.divergences.every((d) => d.kind === 'model-error')).toBe(true);
      expect(plain(p.current!.world)).toEqual(plain(applySequentially(seal(good))));
    });

  for (const engine of ['shadow', 'draft', 'mutable'] as const)
    for (const batch of [1, 3, 50])
      it(`${engine}, advance() in batches of ${batch} without a state per batch: events that throw rebuild from the checkpoint, earlier divergences are reported once`, () => {
        const good: EventInput[] = [];
        const mixed: EventInput[] = [];
        for (let i = 0; i < 40; i++) {
          const fork: EventInput = { op: { call: 'fork', tid: 1, child: 10 + i }, pid: 1, outcome: { ret: 10 + i } };
          // A model-computed clock reading the model no longer computes: a determinism divergence, world unchanged.
          const read: EventInput = { op: { call: 'clock_gettime', tid: 1, clockid: 1 }, pid: 1, outcome: { ret: 0, ts: { sec: i, nsec: 7 } }, recorded: false };
          good.push(fork, read);
          mixed.push(fork, read);
          if (i % 3 === 0) mixed.push({ op: { call: 'unshare', tid: 5000 + i, flags: CLONE.NEWTIME }, pid: 5000 + i, outcome: { ret: 0 } });
        }
        const records = seal(mixed);
        const p = new Projector({ engine });
        for (let i = 0, n = 0; i < records.length; i += batch, n++) {
          p.advance(records.slice(i, i + batch));
          if (n % 5 === 4) p.materialize();
        }
        const one = new Projector({ engine });
        one.step(records);
        const key = (d: { seq: number; kind: string }) => `${d.seq}:${d.kind}`;
        expect(p.divergences.map(key)).toEqual(one.divergences.map(key));
        expect(p.divergences.filter((d) => d.kind === 'model-error')).toHaveLength(14);
        expect(p.divergences.filter((d) => d.kind === 'determinism')).toHaveLength(40);
        const s = p.materialize();
        expect(s.seq).toBe(records.length);
        if (engine !== 'mutable') expect(Object.isFrozen(s.world)).toBe(true);
        expect(plain(s.world)).toEqual(plain(applySequentially(seal(good))));
        // The working world is the state's content.
        expect(plain(p.working())).toEqual(plain(s.world));
      });

  for (const engine of ['shadow', 'mutable'] as const)
    it(`${engine}: past the periodic checkpoint (a copy every 4096 records), a throwing event rebuilds from it, and a state made afterwards has every record`, () => {
      const good: EventInput[] = [];
      const mixed: EventInput[] = [];
      for (let i = 0; i < 2500; i++) {
        const child = 10 + i;
        const life: EventInput[] = [
          { op: { call: 'fork', tid: 1, child }, pid: 1, outcome: { ret: child } },
          { op: { call: 'exit_group', tid: child, code: 0 }, pid: child, outcome: { ret: 0 } },
          { op: { call: 'wait', tid: 1, target: child }, pid: 1, outcome: { ret: child } },
        ];
        good.push(...life);
        mixed.push(...life);
        if (i % 997 === 996) mixed.push({ op: { call: 'unshare', tid: 90000 + i, flags: CLONE.NEWTIME }, pid: 90000 + i, outcome: { ret: 0 } });
      }
      const records = seal(mixed);
      const p = new Projector({ engine });
      const states: unknown[] = [];
      for (let i = 0; i < records.length; i += 1000) {
        p.advance(records.slice(i, i + 1000));
        // A state now and then: it must hold every record so far, checkpoint copies or not.
        if (i === 5000) states.push(plain(p.materialize().world));
      }
      expect(p.divergences.map((d) => [d.kind, d.seq])).toEqual([['model-error', 2992], ['model-error', 5984]]);
      // The first 6000 records hold both throwing ones: 5998 good ones.
      expect(states).toEqual([plain(applySequentially(seal(good.slice(0, 5998))))]);
      const s = p.materialize();
      expect(s.seq).toBe(records.length);
      expect(plain(s.world)).toEqual(plain(applySequentially(seal(good))));
    });

  it('clock readings are compared within the tolerance, and inexact parts not at all', () => {
    const w = createWorld();
    const mono = apply(w, { call: 'clock_gettime', tid: 1, clockid: 1 } as Op).ts!;
    const near = { sec: mono.sec, nsec: mono.nsec + 50_000_000 };
    const far = { sec: mono.sec + 1, nsec: mono.nsec };
    const { d } = world([
      { op: { call: 'clock_gettime', tid: 1, clockid: 1 }, pid: 1, outcome: { ret: 0, ts: near }, recorded: true },
      { op: { call: 'clock_gettime', tid: 1, clockid: 1 }, pid: 1, outcome: { ret: 0, ts: far }, recorded: true },
      { op: { call: 'clock_gettime', tid: 1, clockid: 1 }, pid: 1, outcome: { ret: 0, ts: far, inexact: ['ts'] }, recorded: true },
    ]);
    expect(d.map((x) => [x.seq, x.fields])).toEqual([[2, ['ts']]]);
  });
});

describe('live tail', () => {
  it('projects a ledger while a writer appends to it', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openLedger } = await import('../src/ledger/index.js');
    const { tailLedger } = await import('../src/replay/source.js');
    const dir = mkdtempSync(join(tmpdir(), 'tns-tail-'));
    try {
      const path = join(dir, 't.ndjson');
      const s = new Synth({ events: 3000, seed: 8 });
      const inputs: EventInput[] = [];
      for (let b = s.next(500); b.length; b = s.next(500)) inputs.push(...b);
      const w = openLedger(path, { create: true, fsync: 'never', batchSize: 100 });
      w.append(inputs.slice(0, 1000));
      w.flush();
      let i = 1000;
      const timer = setInterval(() => {
        if (i >= 3000) return;
        w.append(inputs.slice(i, i + 500));
        w.flush();
        i += 500;
      }, 20);
      const final = await lastValueFrom(tailLedger(path, { pollMs: 10, untilSeq: 3000 }).pipe(project({ batchSize: 256 })));
      clearInterval(timer);
      w.close();
      expect(final.seq).toBe(3000);
      expect(plain(final.world)).toEqual(plain(applySequentially(seal(inputs))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
