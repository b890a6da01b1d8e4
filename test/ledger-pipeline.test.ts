/**
 * The two-thread reader (src/ledger/pipeline.ts): the records, the order, the faults and the replayed states are
 * the sequential reader's. A worker thread cannot load TypeScript, so the modules are transpiled from src into a
 * directory inside the project (where immer and rxjs resolve) and loaded from there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildLedgerModules } from './helpers/ledger-writer-build.js';
import { usesReadingThread as usesReadingThreadFromSources } from '../src/ledger/pipeline.js';
import { ZERO_HASH, sealRecord, type EventInput } from '../src/events/index.js';

const ROOT = join(import.meta.dirname, '..');
type Rec = Record<string, unknown> & { seq: number };
type Batches = (path: string, opts?: Record<string, unknown>) => Generator<Rec[]>;

let build: string;
let dir: string;
let ledger: string;
let L: {
  readLedgerBatchesSync: Batches;
  readReplayBatches: Batches;
  usesReadingThread: (opts?: Record<string, unknown>) => boolean;
  PIPELINE_MIN_RECORDS: number;
};
let Timeline: new (path: string, opts?: Record<string, unknown>) => { stateAt(seq: number | 'end'): { seq: number; from: number; world: unknown; divergences: unknown[] } };
let writeSynth: (path: string, opts: Record<string, unknown>) => unknown;
let TT: {
  bisect: (ledger: string, pred: unknown, opts?: Record<string, unknown>) => { seq: number | null; record: unknown; examined: number };
  why: (ledger: string, inum: number, seq: number | undefined, opts?: Record<string, unknown>) => unknown;
  jsPredicate: (describe: string, fn: (w: { tasks: object }) => boolean) => unknown;
};

const N = 6000;

beforeAll(async () => {
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  build = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'tns-pipeline-'));
  const lib = buildLedgerModules(build, ['events', 'ledger', 'kernel', 'replay']);
  const load = (m: string) => import(pathToFileURL(join(lib, m)).href);
  L = await load('ledger/index.js');
  TT = await load('replay/timetravel.js');
  ({ Timeline } = TT as unknown as { Timeline: typeof Timeline });
  ({ writeSynth } = await load('replay/synth.js'));
  dir = mkdtempSync(join(tmpdir(), 'tns-pipeline-'));
  ledger = join(dir, 'synth.ndjson');
  writeSynth(ledger, { events: N, seed: 3, fsync: 'never' });
}, 120_000);

afterAll(() => {
  rmSync(build, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

/** Every record read (flattened), the batch sizes, and the error at the end (or null). */
function drain(gen: Generator<Rec[]>): { recs: Rec[]; sizes: number[]; error: unknown } {
  const recs: Rec[] = [];
  const sizes: number[] = [];
  try {
    for (const b of gen) {
      sizes.push(b.length);
      recs.push(...b);
    }
  } catch (e) {
    return { recs, sizes, error: e };
  }
  return { recs, sizes, error: null };
}

/** What the pipeline gives for a record the sequential reader gave: no prev, a hash only at multiples of `every`. */
function lean(r: Rec, every: number): Rec {
  const { prev: _prev, hash, ...rest } = r;
  return every > 0 && r.seq % every === 0 ? { ...rest, hash } : (rest as Rec);
}

function faultOf(e: unknown): unknown {
  if (e === null) return null;
  const x = e as { name: string; message: string; line?: number; reason?: string; fault?: unknown };
  return { name: x.name, message: x.message, line: x.line, reason: x.reason, fault: x.fault };
}

describe('pipeline: reading on a second thread', () => {
  it('gives the sequential reader records (lean), in order, for any range and batch size', () => {
    for (const o of [{}, { fromSeq: 1234, toSeq: 4321 }, { fromSeq: 5990 }, { toSeq: 1 }, { batchSize: 100 }, { fromSeq: 2001, batchSize: 7 }]) {
      const opts = { ...o, thread: true, hashEvery: 500 };
      expect(L.usesReadingThread(opts)).toBe(true);
      const want = drain(L.readLedgerBatchesSync(ledger, o));
      const got = drain(L.readReplayBatches(ledger, opts));
      expect(got.error).toBeNull();
      expect(got.recs.length).toBe(want.recs.length);
      expect(got.recs).toEqual(want.recs.map((r) => lean(r, 500)));
      // Read on the thread: no record carries prev (the sequential fallback's would).
      expect(got.recs.some((r) => 'prev' in r)).toBe(false);
      for (const n of got.sizes) expect(n).toBeLessThanOrEqual((o as { batchSize?: number }).batchSize ?? 1024);
    }
  });

  it('stops with the same fault, after the same records, as the sequential reader', () => {
    const lines = readFileSync(ledger, 'utf8').split('\n');
    const damaged: [string, (ls: string[]) => void][] = [
      ['an invalid field', (ls) => (ls[2999] = ls[2999].replace(/"tid":\d+/, '"tid":"x"'))],
      ['not JSON', (ls) => (ls[4095] = ls[4095].slice(0, -1))],
      ['a broken chain', (ls) => (ls[1500] = ls[1500].replace(/"prev":"(.)/, (_m, c: string) => `"prev":"${c === 'a' ? 'b' : 'a'}`))],
      ['a wrong seq', (ls) => (ls[5000] = ls[5000].replace(/"seq":5001/, '"seq":5002'))],
      ['a bad first line', (ls) => (ls[0] = ls[0].replace(/"v":1/, '"v":9'))],
    ];
    for (const [what, damage] of damaged) {
      const ls = [...lines];
      damage(ls);
      const path = join(dir, `damaged-${what.replace(/\W+/g, '-')}.ndjson`);
      writeFileSync(path, ls.join('\n'));
      const want = drain(L.readLedgerBatchesSync(path));
      const got = drain(L.readReplayBatches(path, { thread: true }));
      expect(want.error, what).not.toBeNull();
      expect(faultOf(got.error), what).toEqual(faultOf(want.error));
      expect((got.error as Error).constructor.name, what).toBe((want.error as Error).constructor.name);
      // Every record before the bad line, and none after it.
      const bad = (want.error as { line: number }).line;
      expect(want.recs.map((r) => r.seq), what).toEqual(Array.from({ length: bad - 1 }, (_, k) => k + 1));
      expect(got.recs.map((r) => r.seq), what).toEqual(want.recs.map((r) => r.seq));
    }
  });

  it('skips a torn tail as the sequential reader does, and reports a missing ledger the same way', () => {
    const path = join(dir, 'torn.ndjson');
    copyFileSync(ledger, path);
    appendFileSync(path, '{"hash":"ab');
    const want = drain(L.readLedgerBatchesSync(path));
    const got = drain(L.readReplayBatches(path, { thread: true }));
    expect(got.error).toBeNull();
    expect(got.recs.length).toBe(N);
    expect(got.recs.map((r) => r.seq)).toEqual(want.recs.map((r) => r.seq));
    const missing = join(dir, 'nope.ndjson');
    const a = drain(L.readLedgerBatchesSync(missing));
    const b = drain(L.readReplayBatches(missing, { thread: true }));
    expect(faultOf(b.error)).toEqual(faultOf(a.error));
    expect((b.error as Error).name).toBe('LedgerNotFoundError');
  });

  it('can be stopped early, and reads again afterwards', () => {
    for (const b of L.readReplayBatches(ledger, { thread: true, batchSize: 50 })) {
      expect(b.length).toBe(50);
      break;
    }
    const all = drain(L.readReplayBatches(ledger, { thread: true }));
    expect(all.recs.length).toBe(N);
  });

  it('takes the batch sizes the sequential reader takes (fractional: rounded up; NaN: no bound)', () => {
    for (const o of [{ batchSize: 2.5, toSeq: 20 }, { batchSize: Number.NaN, toSeq: 3000 }, { batchSize: 0, toSeq: 3 }]) {
      const want = drain(L.readLedgerBatchesSync(ledger, o));
      const got = drain(L.readReplayBatches(ledger, { ...o, thread: true }));
      expect(got.error, JSON.stringify(o)).toBeNull();
      expect(got.recs).toEqual(want.recs.map((r) => lean(r, 0)));
      if (!Number.isNaN(o.batchSize)) expect(got.sizes).toEqual(want.sizes);
    }
  });

  it('a reading thread that dies (mid-read, or loading its modules) is an error at once, and the process lives on', async () => {
    // Copies of the modules with the failure put in: a hard exit after 3000 records (as an out-of-memory death
    // would be), and a reader module that cannot load on a worker thread.
    const copy = (name: string, file: string, edit: (text: string) => string) => {
      const to = join(build, name);
      cpSync(join(build, 'lib'), to, { recursive: true });
      const text = readFileSync(join(to, file), 'utf8');
      const edited = edit(text);
      expect(edited).not.toBe(text);
      writeFileSync(join(to, file), edited);
      return import(pathToFileURL(join(to, 'ledger', 'pipeline.js')).href) as Promise<{ readReplayBatches: Batches }>;
    };
    const exits = await copy('dies', 'ledger/pipeline-worker.js', (t) => t.replace(/(\w+)\.write\(rec\);/, 'if (rec.seq === 3000) process.exit(9); $1.write(rec);'));
    const t0 = Date.now();
    const got = drain(exits.readReplayBatches(ledger, { thread: true }));
    expect((got.error as Error).name).toBe('LedgerError');
    expect((got.error as Error).message).toMatch(/the reading thread exited before the end of the read/);
    expect(got.recs.length).toBeLessThan(3000);
    expect(got.recs.map((r) => r.seq)).toEqual(Array.from({ length: got.recs.length }, (_, k) => k + 1));
    expect(Date.now() - t0).toBeLessThan(30_000); // not the 60 s stall timeout (a generous bound: this is no benchmark)

    const cannotLoad = await copy('no-load', 'ledger/reader.js', (t) => `import { isMainThread as __main } from 'node:worker_threads';\nif (!__main) throw new Error('reader cannot load here');\n${t}`);
    const none = drain(cannotLoad.readReplayBatches(ledger, { thread: true }));
    expect(none.recs).toEqual([]);
    expect((none.error as Error).message).toMatch(/the reading thread failed: Error: reader cannot load here/);
    // The worker's 'error' event, delivered once this thread is back in its event loop, is not an uncaught one.
    await new Promise((r) => setTimeout(r, 200));
  }, 90_000);

  it('is used only where it pays and can work', () => {
    expect(L.usesReadingThread({ thread: 'auto', expected: L.PIPELINE_MIN_RECORDS - 1 })).toBe(false);
    expect(L.usesReadingThread({ thread: 'auto', expected: L.PIPELINE_MIN_RECORDS })).toBe(true);
    expect(L.usesReadingThread({ thread: 'auto', fromSeq: 1, toSeq: L.PIPELINE_MIN_RECORDS })).toBe(true);
    expect(L.usesReadingThread({ thread: 'auto' })).toBe(false); // unknown length
    expect(L.usesReadingThread({ thread: true, validate: false })).toBe(false); // unchecked records may not fit the tape
    expect(L.usesReadingThread({ thread: false })).toBe(false);
    const was = process.env.TNS_PIPELINE;
    process.env.TNS_PIPELINE = '0';
    try {
      expect(L.usesReadingThread({ thread: true })).toBe(false);
    } finally {
      if (was === undefined) delete process.env.TNS_PIPELINE;
      else process.env.TNS_PIPELINE = was;
    }
    // From the TypeScript sources there is no worker script to start: the sequential reader.
    expect(usesReadingThreadFromSources({ thread: true })).toBe(false);
  });

  it('infers the genesis from the ledger head, whatever the batches: 1500 host.spawn records before the first task', () => {
    // No marker.genesis: the first task is the first caller no earlier record created (pid 7, record 1501).
    const inputs: EventInput[] = [];
    for (let k = 0; k < 1500; k++) inputs.push({ op: { call: 'host.spawn', pid: 100 + k } });
    for (let k = 0; k < 200; k++) inputs.push({ op: { call: 'clock_gettime', tid: 7, clockid: 1 }, pid: 7 });
    let prev = ZERO_HASH;
    const lines = inputs.map((input, k) => {
      const { record, line } = sealRecord(input, k + 1, prev);
      prev = record.hash;
      return line;
    });
    const path = join(dir, 'spawned.ndjson');
    writeFileSync(path, lines.join('\n') + '\n');
    for (const readingThread of [true, false])
      for (const snapshotEvery of [0, 1000]) {
        const s = new Timeline(path, { snapshotEvery, useSnapshots: false, readingThread }).stateAt('end');
        expect(s.divergences, `thread ${readingThread}, snapshots every ${snapshotEvery}`).toEqual([]);
        expect(Object.keys((s.world as { tasks: object }).tasks)).toContain('7');
      }
    expect(TT.bisect(path, TT.jsPredicate('never', () => false), { readingThread: true }).examined).toBe(1700);
  });

  it('replays to the same state and divergences, and writes snapshots that a later seek trusts', () => {
    // Recorded outcomes the model disagrees with: the chain still holds (prev links the stored hashes).
    const ls = readFileSync(ledger, 'utf8').split('\n');
    let changed = 0;
    for (let k = 100; k < ls.length - 1; k += 37) {
      const r = JSON.parse(ls[k]) as Rec & { op: { call: string }; outcome?: { ret: number; ts?: { sec: number; nsec: number } } };
      if (r.op.call === 'clock_gettime' && r.outcome?.ts) {
        r.outcome.ts.sec += 1000;
        r.recorded = true;
      } else if (r.op.call === 'unshare' && r.outcome && r.outcome.ret === 0) {
        r.outcome = { ret: -1, errno: 'EPERM' } as never;
        r.recorded = true;
      } else continue;
      ls[k] = JSON.stringify(r);
      changed++;
    }
    expect(changed).toBeGreaterThan(10);
    const path = join(dir, 'diverging.ndjson');
    writeFileSync(path, ls.join('\n'));
    const seq = new Timeline(path, { snapshotEvery: 0, useSnapshots: false, readingThread: false }).stateAt('end');
    const thr = new Timeline(path, { snapshotEvery: 1000, readingThread: true }).stateAt('end');
    expect(thr.seq).toBe(N);
    expect(seq.divergences.length).toBeGreaterThan(10);
    expect(JSON.stringify(thr.divergences)).toBe(JSON.stringify(seq.divergences));
    expect(JSON.stringify(thr.world)).toBe(JSON.stringify(seq.world));
    // The snapshots (written from the thread-read records' hashes) are accepted by a seek.
    const at = 4500;
    const seek = new Timeline(path, { snapshotEvery: 0 }).stateAt(at);
    const fresh = new Timeline(path, { snapshotEvery: 0, useSnapshots: false, readingThread: false }).stateAt(at);
    expect(seek.from).toBe(4000);
    expect(JSON.stringify(seek.world)).toBe(JSON.stringify(fresh.world));

    // bisect and why replay from the genesis too: the same answers, and bisect's record read whole.
    const pred = TT.jsPredicate('40 tasks', (w) => Object.keys(w.tasks).length >= 40);
    const b1 = TT.bisect(path, pred, { readingThread: true });
    const b0 = TT.bisect(path, pred, { readingThread: false });
    expect(b1.seq).not.toBeNull();
    expect(b1).toEqual(b0);
    expect(b1.record).toHaveProperty('prev');
    const world = seq.world as { namespaces: Record<string, { initial: boolean }> };
    const inums = Object.keys(world.namespaces).filter((k) => !world.namespaces[k].initial).map(Number);
    expect(inums.length).toBeGreaterThan(0);
    for (const inum of inums.slice(0, 3)) expect(TT.why(path, inum, undefined, { readingThread: true })).toEqual(TT.why(path, inum, undefined, { readingThread: false }));
  });
});
