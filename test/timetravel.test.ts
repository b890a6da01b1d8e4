import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apply, CLOCK, holders, readClock, type Op, type World } from '../src/kernel/index.js';
import { readLedgerSync } from '../src/ledger/index.js';
import type { EventRecord } from '../src/events/index.js';
import { writeSynth } from '../src/replay/synth.js';
import { applySequentially } from '../src/replay/project.js';
import { bisect, clockBackwardsPredicate, diffIsEmpty, diffWorlds, freedPredicate, jsPredicate, SeqRangeError, stateAt, Timeline, why } from '../src/replay/timetravel.js';
import { inferGenesis } from '../src/replay/genesis.js';
import { createWorld } from '../src/kernel/index.js';

const plain = (w: World) => JSON.parse(JSON.stringify(w)) as World;

let dir: string;
let ledger: string;
let records: EventRecord[];

/** The world after each seq, computed independently: a plain mutable world and the kernel's apply, record by record. */
function* plainStates(): Generator<{ rec: EventRecord; w: World }> {
  const w = createWorld(inferGenesis(records).options);
  for (const rec of records) {
    if (!rec.op.call.startsWith('marker.')) apply(w, rec.op as Op);
    yield { rec, w };
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tns-tt-'));
  ledger = join(dir, 'l.ndjson');
  writeSynth(ledger, { events: 6000, seed: 21 });
  records = [...readLedgerSync(ledger)];
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('stateAt', () => {
  it('equals sequential apply at many seqs, from the genesis and from snapshots', () => {
    const first = new Timeline(ledger, { snapshotEvery: 1000 });
    expect(plain(first.stateAt(6000).world)).toEqual(plain(applySequentially(records)));
    // The forward replay left snapshots at every 1000.
    expect(readdirSync(`${ledger}.snap`).filter((f) => f.endsWith('.json')).length).toBe(6);
    for (const q of [0, 1, 2, 999, 1000, 1001, 2500, 4999, 5999]) {
      const s = new Timeline(ledger).stateAt(q);
      expect(s.seq).toBe(q);
      expect(s.from).toBe(Math.floor(q / 1000) * 1000);
      const expected = q === 0 ? createWorld(inferGenesis(records).options) : applySequentially(records.slice(0, q));
      expect(plain(s.world)).toEqual(plain(expected));
    }
  });

  it('a damaged snapshot is not trusted: the state is recomputed from the log', async () => {
    const { writeFileSync, readFileSync } = await import('node:fs');
    const f = join(`${ledger}.snap`, `${String(3000).padStart(16, '0')}.json`);
    // One bit of the stored state flipped (the bytes after the header line).
    const b = readFileSync(f);
    const nl = b.indexOf(10);
    b[nl + 1 + Math.floor((b.length - nl - 1) / 2)] ^= 4;
    writeFileSync(f, b);
    const s = stateAt(ledger, 3500);
    expect(s.from).toBe(2000);
    expect(plain(s.world)).toEqual(plain(applySequentially(records.slice(0, 3500))));
  });

  it('a state from a snapshot is deeply frozen; a step from a cached state shares what did not change with it', () => {
    const tl = new Timeline(ledger, { snapshotEvery: 0 });
    const a = tl.stateAt(4321);
    expect(a.from).toBe(4000);
    const frozen = (x: unknown): boolean => typeof x !== 'object' || x === null || (Object.isFrozen(x) && Object.values(x).every(frozen));
    expect(frozen(a.world)).toBe(true);
    const text = JSON.stringify(a.world);
    const b = tl.stateAt(4400);
    expect(b.from).toBe(4321);
    expect(plain(b.world)).toEqual(plain(applySequentially(records.slice(0, 4400))));
    expect(frozen(b.world)).toBe(true);
    expect(JSON.stringify(a.world)).toBe(text);
    const same = Object.keys(b.world.tasks).filter((k) => b.world.tasks[Number(k)] === a.world.tasks[Number(k)]);
    const unchanged = Object.keys(b.world.tasks).filter((k) => JSON.stringify(b.world.tasks[Number(k)]) === JSON.stringify(a.world.tasks[Number(k)]));
    expect(unchanged.length).toBeGreaterThan(0);
    expect(same).toEqual(unchanged);
  });

  it('past the end is an error naming the ledger', () => {
    expect(() => stateAt(ledger, 6001)).toThrow(SeqRangeError);
    expect(() => stateAt(ledger, 6001)).toThrow(/last seq 6000/);
  });

  it('step forward and back', () => {
    const tl = new Timeline(ledger);
    const a = tl.stateAt(1500);
    const b = tl.step(1500, 1);
    const c = tl.step(b.seq, -1);
    expect(b.seq).toBe(1501);
    expect(c.seq).toBe(1500);
    expect(plain(c.world)).toEqual(plain(a.world));
    expect(plain(b.world)).toEqual(plain(applySequentially(records.slice(0, 1501))));
    expect(tl.step(0, -1).seq).toBe(0);
  });
});

describe('diff', () => {
  it('a fork adds a task with the parent T/C; diff of a state with itself is empty', () => {
    const fork = records.find((r) => r.seq > 100 && r.op.call === 'fork' && r.outcome?.errno === undefined)!;
    const tl = new Timeline(ledger);
    const before = tl.stateAt(fork.seq - 1).world;
    const after = tl.stateAt(fork.seq).world;
    const d = diffWorlds(before, after);
    expect(d.tasks.added.map((t) => t.tid)).toEqual([fork.outcome!.ret]);
    const parent = before.tasks[(fork.op as { tid: number }).tid];
    const pn = before.nsproxies[parent.nsproxy!];
    // A forked child's T is the parent's C (timens_on_fork), and its C is the parent's C.
    expect(d.tasks.added[0].T).toBe(pn.time_for_children);
    expect(d.tasks.added[0].C).toBe(pn.time_for_children);
    expect(diffIsEmpty(diffWorlds(after, after))).toBe(true);
  });

  it('lists created and freed namespaces and refcount changes, as computed independently', () => {
    const tl = new Timeline(ledger);
    const a = tl.stateAt(2000).world;
    const b = tl.stateAt(2600).world;
    const d = diffWorlds(a, b);
    const created = Object.keys(b.namespaces).filter((k) => !a.namespaces[Number(k)] || a.namespaces[Number(k)].type !== b.namespaces[Number(k)].type).map(Number).sort();
    const freed = Object.keys(a.namespaces).filter((k) => !b.namespaces[Number(k)] || a.namespaces[Number(k)].type !== b.namespaces[Number(k)].type).map(Number).sort();
    expect(d.namespaces.created.map((n) => n.inum).sort()).toEqual(created);
    expect(d.namespaces.freed.map((n) => n.inum).sort()).toEqual(freed);
    for (const c of d.namespaces.changed) if (c.fields.includes('count')) expect(c.after.count).toBe(b.namespaces[c.inum].count);
  });
});

describe('bisect', () => {
  it('--freed: the first seq where a namespace that existed is gone', () => {
    // Pick a time namespace created after seq 100 and find when it is freed, independently.
    let target: number | undefined;
    let expected: number | null = null;
    let seen = false;
    for (const { rec, w } of plainStates()) {
      if (target === undefined && rec.seq > 100) {
        const t = Object.values(w.namespaces).find((n) => n.type === 'time' && !n.initial);
        if (t) target = t.inum;
      }
      if (target !== undefined) {
        if (w.namespaces[target]) seen = true;
        else if (seen) {
          expected = rec.seq;
          break;
        }
      }
    }
    expect(target).toBeDefined();
    const r = bisect(ledger, freedPredicate(target!));
    expect(r.seq).toBe(expected);
  });

  it("--clock-backwards: the first seq where a task's CLOCK_MONOTONIC reads lower than at the previous record", () => {
    let expected: number | null = null;
    let pid = 1;
    // Find, independently, a task and the first seq its clock goes down.
    const prev = new Map<number, { sec: number; nsec: number }>();
    for (const { rec, w } of plainStates()) {
      for (const k in w.tasks) {
        const t = w.tasks[k];
        if (t.nsproxy === null) {
          prev.delete(t.tid);
          continue;
        }
        const r = readClock(w, t, CLOCK.MONOTONIC);
        if (!r.ok) continue;
        const p = prev.get(t.tid);
        if (p && (r.ts.sec < p.sec || (r.ts.sec === p.sec && r.ts.nsec < p.nsec)) && expected === null) {
          expected = rec.seq;
          pid = t.tid;
        }
        prev.set(t.tid, r.ts);
      }
      for (const tid of [...prev.keys()]) if (!w.tasks[tid]) prev.delete(tid);
      if (expected !== null) break;
    }
    expect(expected).not.toBeNull();
    const r = bisect(ledger, clockBackwardsPredicate(pid));
    expect(r.seq).toBe(expected);
  });

  it('a JS predicate; never holding gives null', () => {
    const r = bisect(ledger, jsPredicate('ten tasks', (w) => Object.keys(w.tasks).length >= 10));
    let expected: number | null = null;
    for (const { rec, w } of plainStates())
      if (Object.keys(w.tasks).length >= 10) {
        expected = rec.seq;
        break;
      }
    expect(r.seq).toBe(expected);
    expect(bisect(ledger, jsPredicate('never', () => false)).seq).toBeNull();
  });
});

describe('why', () => {
  it("holders are the kernel's holders at that seq; the refcount history adds up to the count", () => {
    const at = 4000;
    const w = applySequentially(records.slice(0, at));
    const time = Object.values(w.namespaces).find((n) => n.type === 'time' && !n.initial && n.count > 1)!;
    const r = why(ledger, time.inum, at);
    expect(r.alive).toBe(true);
    expect(r.count).toBe(time.count);
    expect(r.holders.sort()).toEqual([...holders(w)[time.inum]].sort());
    expect(r.changes.reduce((s, c) => s + c.delta, 0)).toBe(time.count);
    expect(r.created!.seq).toBe(r.changes[0].seq);
    // Each change is real: the count before and after that record differ by delta (computed independently).
    for (const c of r.changes.slice(0, 5)) {
      const b = applySequentially(records.slice(0, c.seq - 1)).namespaces[time.inum];
      const a = applySequentially(records.slice(0, c.seq)).namespaces[time.inum];
      expect((a?.count ?? 0) - (b?.type === 'time' ? b.count : 0)).toBe(c.delta);
    }
  });

  it('the initial time namespace: alive from the start, its holders include the initial reference', () => {
    const r = why(ledger, 0xeffffffa, 10);
    expect(r.alive).toBe(true);
    expect(r.holders).toContain('initial');
  });
});
