import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  ConcurrencyError,
  LedgerCorruptError,
  LedgerNotFoundError,
  LockedError,
  RepairRefusedError,
  TornTailError,
  WriterStateError,
  countRecords,
  indexPathOf,
  ledgerInfo,
  loadIndex,
  lockPathOf,
  openLedger,
  openSnapshotStore,
  readLedger,
  readLedgerBatches,
  readLedgerBatchesSync,
  readRecordAt,
  repairLedger,
  verifyLedger,
} from '../src/ledger/index.js';
import { EventInputError, ZERO_HASH, recordHash, type EventInput } from '../src/events/index.js';

const root = mkdtempSync(join(tmpdir(), 'tns-ledger-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
let file: string;
beforeEach(() => {
  file = join(root, `l${++n}.ndjson`);
});

const quiet = { onWarning: () => {} };
const ev = (i: number): EventInput => ({ op: { call: 'host.advance', sec: i, nsec: 0 }, outcome: { ret: 0 }, recorded: false });
const evs = (from: number, count: number) => Array.from({ length: count }, (_, k) => ev(from + k));

function write(count: number, opts: Parameters<typeof openLedger>[1] = {}): void {
  const w = openLedger(file, { create: true, ...quiet, ...opts });
  w.append(evs(1, count));
  w.close();
}

async function all(path = file, opts = {}) {
  const out = [];
  for await (const r of readLedger(path, opts)) out.push(r);
  return out;
}

describe('writer', () => {
  it('appends a hash chain: seq contiguous from 1, prev = previous hash, one canonical line each', async () => {
    const w = openLedger(file, { create: true, ...quiet });
    const r1 = w.append(evs(1, 3), { expectedLastSeq: 0 });
    const r2 = w.append(ev(4), { expectedLastSeq: 3 });
    expect([r1.firstSeq, r1.lastSeq, r2.firstSeq, r2.lastSeq]).toEqual([1, 3, 4, 4]);
    w.close();
    const recs = await all();
    expect(recs.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(recs[0].prev).toBe(ZERO_HASH);
    for (let i = 1; i < recs.length; i++) expect(recs[i].prev).toBe(recs[i - 1].hash);
    for (const r of recs) expect(recordHash(r as never)).toBe(r.hash);
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).not.toMatch(/\s/);
    expect(verifyLedger(file)).toMatchObject({ ok: true, records: 4, lastSeq: 4, lastHash: recs[3].hash });
  });

  it('continues the chain after reopening', async () => {
    write(5);
    const w = openLedger(file, quiet);
    expect(w.lastSeq).toBe(5);
    w.append(evs(6, 2), { expectedLastSeq: 5 });
    w.close();
    expect(verifyLedger(file)).toMatchObject({ ok: true, records: 7 });
  });

  it('optimistic concurrency: a stale expectedLastSeq is a ConcurrencyError naming both seqs, and appends nothing', () => {
    const w = openLedger(file, { create: true, ...quiet });
    w.append(evs(1, 2));
    const e = (() => {
      try {
        w.append(ev(3), { expectedLastSeq: 1 });
      } catch (x) {
        return x as ConcurrencyError;
      }
    })()!;
    expect(e).toBeInstanceOf(ConcurrencyError);
    expect([e.expectedLastSeq, e.actualLastSeq]).toEqual([1, 2]);
    expect(e.message).toContain('expected the last seq to be 1, but it is 2');
    w.close();
    expect(countRecords(file)).toBe(2);
  });

  it('a bad event rejects the whole append call with a typed error; nothing is written', () => {
    const w = openLedger(file, { create: true, ...quiet });
    expect(() => w.append([ev(1), { op: { call: 'fork', tid: 0 } } as EventInput])).toThrow(EventInputError);
    expect(() => w.append([ev(1), { op: { call: 'fork', tid: 0 } } as EventInput])).toThrow('event #1 of the batch: op.tid: expected an integer in [1, 4194304], got 0');
    expect(w.lastSeq).toBe(0);
    w.close();
    expect(statSync(file).size).toBe(0);
  });

  it('group commit: batch mode writes every batchSize records, flush/close write the rest', () => {
    const w = openLedger(file, { create: true, batchSize: 10, ...quiet });
    w.append(evs(1, 25));
    expect([w.lastSeq, w.durableSeq, w.pendingCount]).toEqual([25, 20, 5]);
    expect(countRecords(file)).toBe(20);
    w.flush();
    expect([w.durableSeq, countRecords(file)]).toEqual([25, 25]);
    w.append(ev(26));
    w.close();
    expect(countRecords(file)).toBe(26);
  });

  it("fsync 'always': each append call is written when it returns", () => {
    const w = openLedger(file, { create: true, fsync: 'always', batchSize: 1000, ...quiet });
    w.append(evs(1, 3));
    expect(countRecords(file)).toBe(3);
    w.append(ev(4));
    expect([w.durableSeq, countRecords(file)]).toEqual([4, 4]);
    w.close();
  });

  it('options and states: missing ledger, bad options, use after close', () => {
    expect(() => openLedger(file)).toThrow(LedgerNotFoundError);
    expect(() => openLedger(file, { create: true, fsync: 'sometimes' as never })).toThrow(RangeError);
    expect(() => openLedger(file, { create: true, batchSize: 0 })).toThrow(RangeError);
    const w = openLedger(file, { create: true, ...quiet });
    w.close();
    w.close();
    expect(() => w.append(ev(1))).toThrow(WriterStateError);
    expect(existsSync(lockPathOf(file))).toBe(false);
  });
});

describe('single-writer lock', () => {
  it('a second writer is refused with the holder pid; after close the lock is free', () => {
    const w = openLedger(file, { create: true, ...quiet });
    expect(readFileSync(lockPathOf(file), 'utf8').split('\n')[0]).toBe(String(process.pid));
    try {
      openLedger(file, quiet);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LockedError);
      expect((e as LockedError).holderPid).toBe(process.pid);
      expect((e as Error).message).toContain(`locked by process ${process.pid}`);
    }
    expect(() => repairLedger(file, quiet)).toThrow(LockedError);
    w.close();
    openLedger(file, quiet).close();
  });

  it('a stale lock of a dead pid is taken over, with a warning', () => {
    write(1);
    writeFileSync(lockPathOf(file), '999999999\n'); // beyond pid_max: never alive
    const warnings: string[] = [];
    const w = openLedger(file, { onWarning: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('stale lock');
    expect(warnings[0]).toContain('held by process 999999999, which is gone');
    w.close();
  });

  it('a lock whose pid was reused (another start time) is stale too', () => {
    write(1);
    writeFileSync(lockPathOf(file), `${process.pid}\nstarttime 1\n`);
    const warnings: string[] = [];
    openLedger(file, { onWarning: (m) => warnings.push(m) }).close();
    expect(warnings.join()).toContain(`held by process ${process.pid}, which is gone`);
  });

  it('without the lock, a writer notices another writer appended (ConcurrencyError) instead of forking the chain', () => {
    write(2);
    const a = openLedger(file, { lock: false, fsync: 'always' });
    const b = openLedger(file, { lock: false, fsync: 'always' });
    a.append(ev(3), { expectedLastSeq: 2 });
    expect(() => b.append(ev(3), { expectedLastSeq: 2 })).toThrow(ConcurrencyError);
    b.append(ev(4), { expectedLastSeq: 3 }); // it refreshed its view
    a.close();
    b.close();
    expect(verifyLedger(file)).toMatchObject({ ok: true, records: 4 });
  });
});

describe('reading', () => {
  it('reads forward from any seq to any seq, in batches or one by one', async () => {
    write(1000, { batchSize: 64 });
    expect((await all(file, { fromSeq: 500, toSeq: 503 })).map((r) => r.seq)).toEqual([500, 501, 502, 503]);
    expect((await all(file, { fromSeq: 999 })).map((r) => r.seq)).toEqual([999, 1000]);
    expect(await all(file, { fromSeq: 1001 })).toEqual([]);
    expect(await all(file, { fromSeq: 10, toSeq: 9 })).toEqual([]);
    const sizes: number[] = [];
    for await (const b of readLedgerBatches(file, { batchSize: 300 })) sizes.push(b.length);
    expect(sizes).toEqual([300, 300, 300, 100]);
    const recs = [...readLedgerBatchesSync(file, { validate: false })].flat();
    expect(recs.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(readRecordAt(file, 777)!.op).toEqual(ev(777).op);
    expect(readRecordAt(file, 1001)).toBeUndefined();
  });

  it('errors name the file, the line and the field', async () => {
    write(3);
    const lines = readFileSync(file, 'utf8').split('\n');
    const o = JSON.parse(lines[1]);
    o.op.sec = 'x';
    lines[1] = JSON.stringify(o);
    writeFileSync(file, lines.join('\n'));
    await expect(all()).rejects.toThrow(`${file}:2: op.sec: expected an integer, got "x"`);
    await expect(all()).rejects.toBeInstanceOf(LedgerCorruptError);
    expect(verifyLedger(file).firstBad).toMatchObject({ line: 2, seq: 2, reason: 'invalid', message: `${file}:2: op.sec: expected an integer, got "x"` });
  });

  it('a missing ledger is a LedgerNotFoundError', async () => {
    await expect(all(join(root, 'nope.ndjson'))).rejects.toBeInstanceOf(LedgerNotFoundError);
    expect(() => verifyLedger(join(root, 'nope.ndjson'))).toThrow(LedgerNotFoundError);
    expect(() => verifyLedger(root)).toThrow('not a regular file');
  });

  it('an unterminated last line is not yielded (a writer may be mid-append)', async () => {
    write(3);
    appendFileSync(file, '{"v":1,"seq":4');
    expect((await all()).map((r) => r.seq)).toEqual([1, 2, 3]);
  });
});

describe('sidecar index', () => {
  it('is built on first seek, extended when the log grows, rebuilt when stale or damaged, never trusted over the log', async () => {
    write(1000);
    expect(existsSync(indexPathOf(file))).toBe(false);
    expect(loadIndex(file)!.status).toBe('built');
    expect(loadIndex(file)!.status).toBe('current');
    const w = openLedger(file, quiet);
    w.append(evs(1001, 300));
    w.close();
    const ext = loadIndex(file)!;
    expect(ext.status).toBe('extended');
    expect(ext.index.lastSeq).toBe(1300);
    // Offsets point at their records.
    const text = readFileSync(file);
    for (let i = 0; i < ext.index.offsets.length; i++) {
      const at = ext.index.offsets[i];
      const line = text.toString('utf8', at, text.indexOf(10, at));
      expect(JSON.parse(line).seq).toBe(1 + i * ext.index.stride);
    }
    // Damaged sidecar: rebuilt.
    writeFileSync(indexPathOf(file), 'garbage');
    expect(loadIndex(file)!.status).toBe('rebuilt');
    // A sidecar describing another log (same size, other content) is stale: rebuilt, and reads stay right.
    const other = join(root, 'other.ndjson');
    const wo = openLedger(other, { create: true, ...quiet });
    wo.append(evs(5000, 1300));
    wo.close();
    loadIndex(other);
    writeFileSync(indexPathOf(file), readFileSync(indexPathOf(other)));
    expect((await all(file, { fromSeq: 700, toSeq: 700 }))[0].op).toEqual(ev(700).op);
    expect(loadIndex(file)!.status).toBe('current');
  });

  it('an index whose offsets lie is caught by the seq check while reading, and rebuilt', async () => {
    write(600);
    const { index } = loadIndex(file)!;
    // Point the entry of seq 513 at the start of seq 514: still increasing, the header still matches the log.
    const text = readFileSync(file);
    const at514 = text.indexOf(10, index.offsets[2]) + 1;
    const buf = readFileSync(indexPathOf(file));
    buf.writeDoubleLE(at514, 64 + 8 * 2);
    writeFileSync(indexPathOf(file), buf);
    expect(loadIndex(file, { save: false })!.status).toBe('current'); // the lie is not visible from the header
    expect((await all(file, { fromSeq: 520, toSeq: 520 })).map((r) => r.seq)).toEqual([520]);
    expect(loadIndex(file)!.index.offsets[2]).toBe(index.offsets[2]);
  });

  it('a short read is sized by the index, but a wrong end offset or a line longer than the read only costs more reads', async () => {
    const w = openLedger(file, { create: true, ...quiet });
    w.append(evs(1, 600));
    // Lines of 40 kB (more than the smallest read) around seq 620.
    w.append(Array.from({ length: 40 }, (_, k) => ({ ...ev(601 + k), outcome: { ret: 0, text: 'x'.repeat(40_000 + k) } })));
    w.append(evs(641, 400));
    w.close();
    const { index } = loadIndex(file)!;
    const seqs = (rs: { seq: number }[]) => rs.map((r) => r.seq);
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, k) => a + k);
    expect(seqs(await all(file, { fromSeq: 520, toSeq: 700 }))).toEqual(range(520, 700));
    expect((await all(file, { fromSeq: 630, toSeq: 630 }))[0].outcome!.text).toHaveLength(40_029);
    // The entry after the range (seq 769) says the range ends 10 bytes after seq 513's line starts.
    const buf = readFileSync(indexPathOf(file));
    buf.writeDoubleLE(index.offsets[2] + 10, 64 + 8 * 3);
    writeFileSync(indexPathOf(file), buf);
    expect(loadIndex(file, { save: false })!.status).toBe('current');
    expect(seqs(await all(file, { fromSeq: 514, toSeq: 760 }))).toEqual(range(514, 760));
    expect(readRecordAt(file, 700)!.seq).toBe(700);
  });
});

describe('verify and repair', () => {
  it('a torn tail: verify reports it with its line, the writer refuses to append, repair cuts exactly it', () => {
    write(10);
    const before = readFileSync(file);
    appendFileSync(file, '{"v":1,"seq":11,"prev":"ab');
    const v = verifyLedger(file);
    expect(v).toMatchObject({ ok: false, records: 10, lastSeq: 10, firstBad: { line: 11, offset: before.length, reason: 'torn-tail' } });
    expect(v.firstBad!.message).toMatch(new RegExp(`^${file}:11: torn tail: 26 bytes`));
    expect(() => openLedger(file, quiet)).toThrow(TornTailError);
    const r = repairLedger(file, quiet);
    expect(r).toMatchObject({ truncated: true, removedBytes: 26, records: 10, lastSeq: 10 });
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(verifyLedger(file).ok).toBe(true);
    expect(repairLedger(file, quiet)).toMatchObject({ truncated: false, removedBytes: 0 });
  });

  it('a complete record missing only its newline is a torn tail (the newline commits a record)', () => {
    write(3);
    truncateSync(file, statSync(file).size - 1);
    expect(verifyLedger(file).firstBad).toMatchObject({ line: 3, reason: 'torn-tail' });
    expect(repairLedger(file, quiet)).toMatchObject({ truncated: true, records: 2 });
  });

  it('corruption in the middle (or a damaged complete last line) is reported and never truncated', () => {
    write(10);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[4] = lines[4].replace('"sec":5', '"sec":6');
    writeFileSync(file, lines.join('\n'));
    const before = readFileSync(file);
    expect(verifyLedger(file).firstBad).toMatchObject({ line: 5, seq: 5, reason: 'bad-hash' });
    expect(() => repairLedger(file, quiet)).toThrow(RepairRefusedError);
    expect(readFileSync(file).equals(before)).toBe(true);
    // A damaged final line that has its newline: corruption too.
    file = join(root, 'damaged-last.ndjson');
    write(3);
    const l2 = readFileSync(file, 'utf8').split('\n');
    l2[2] = l2[2].slice(0, -5);
    writeFileSync(file, l2.join('\n'));
    expect(verifyLedger(file).firstBad).toMatchObject({ line: 3, reason: 'bad-json' });
    expect(() => repairLedger(file, quiet)).toThrow(/3: not JSON.*not a torn tail/);
    expect(() => openLedger(file, quiet)).toThrow(LedgerCorruptError);
  });

  it('a removed record is bad-seq, a replaced one (valid on its own) is bad-prev, a wrong first prev is bad-prev', () => {
    write(5);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, [...lines.slice(0, 2), ...lines.slice(3)].join('\n'));
    expect(verifyLedger(file, { anchor: false }).firstBad).toMatchObject({ line: 3, seq: 4, reason: 'bad-seq', message: `${file}:3: seq 4, expected 3 (seqs are contiguous from 1)` });
    // Replace record 3 by another correctly hashed record 3 that chains to a different prev.
    const o = JSON.parse(lines[2]);
    o.prev = 'a'.repeat(64);
    delete o.hash;
    o.hash = recordHash(o);
    writeFileSync(file, [...lines.slice(0, 2), JSON.stringify(o), ...lines.slice(3)].join('\n'));
    expect(verifyLedger(file, { anchor: false }).firstBad).toMatchObject({ line: 3, seq: 3, reason: 'bad-prev' });
  });

  it('the per-record hook sees every record in order and can reject one (reason rejected)', () => {
    write(20);
    const seen: number[] = [];
    const v = verifyLedger(file, {
      onRecord: (r, ctx) => {
        seen.push(r.seq);
        expect(ctx.line).toBe(r.seq);
        return r.seq === 13 ? 'model says ret 1, recorded 0' : undefined;
      },
    });
    expect(seen).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(v).toMatchObject({ ok: false, records: 12, firstBad: { line: 13, seq: 13, reason: 'rejected', message: `${file}:13: model says ret 1, recorded 0` } });
  });

  it('a cut at a record boundary chains perfectly; the index anchor shows it (reason truncated)', () => {
    write(50);
    loadIndex(file);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, `${lines.slice(0, 40).join('\n')}\n`);
    expect(verifyLedger(file, { anchor: false }).ok).toBe(true);
    expect(verifyLedger(file).firstBad).toMatchObject({ line: 41, reason: 'truncated' });
    expect(verifyLedger(file).firstBad!.message).toContain('the log ends at seq 40, but its index');
    expect(() => repairLedger(file, quiet)).toThrow(RepairRefusedError);
  });

  it('an empty ledger verifies', () => {
    writeFileSync(file, '');
    expect(verifyLedger(file)).toMatchObject({ ok: true, records: 0, lastSeq: 0 });
    expect(ledgerInfo(file)).toMatchObject({ lastSeq: 0, tornBytes: 0 });
  });

  it('old (v0) records in a ledger verify and read, and a v1 writer continues their chain', async () => {
    const r1: Record<string, unknown> = { seq: 1, prev: ZERO_HASH, type: 'host.spawn', args: { pid: 10 }, result: { ret: 0 } };
    r1.hash = recordHash(r1);
    const r2: Record<string, unknown> = { v: 0, seq: 2, prev: r1.hash, type: 'unshare', args: { tid: 10, flags: 128 }, result: { ret: 0 }, traced: true };
    r2.hash = recordHash(r2);
    writeFileSync(file, `${JSON.stringify(r1)}\n${JSON.stringify(r2)}\n`);
    const w = openLedger(file, quiet);
    w.append(ev(3), { expectedLastSeq: 2 });
    w.close();
    expect(verifyLedger(file)).toMatchObject({ ok: true, records: 3 });
    const recs = await all();
    expect(recs.map((r) => [r.v, r.op.call])).toEqual([
      [1, 'host.spawn'],
      [1, 'unshare'],
      [1, 'host.advance'],
    ]);
    expect(recs[1].recorded).toBe(true);
  });
});

/** Flip one bit of a snapshot's stored state (the bytes after its header line). */
function flipStateBit(f: string, at = 0.5): void {
  const b = readFileSync(f);
  const nl = b.indexOf(10);
  b[nl + 1 + Math.floor((b.length - nl - 1) * at)] ^= 4;
  writeFileSync(f, b);
}

describe('snapshots', () => {
  it('stores JSON states, finds the nearest at or before a seq, drops stale and damaged ones', () => {
    write(100);
    const store = openSnapshotStore(file, () => {});
    const h = (s: number) => readRecordAt(file, s)!.hash;
    store.writeSnapshot(10, h(10), { at: 10 });
    store.writeSnapshot(50, h(50), { at: 50, big: [1, 2, 3] });
    expect(store.nearestSnapshot(9)).toBeUndefined();
    expect(store.nearestSnapshot(49)).toEqual({ seq: 10, hash: h(10), state: { at: 10 } });
    expect(store.nearestSnapshot(100)!.state).toEqual({ at: 50, big: [1, 2, 3] });
    // A snapshot of another history is stale: ignored and deleted.
    store.writeSnapshot(60, 'e'.repeat(64), { at: 'other' });
    const warnings: string[] = [];
    const s2 = openSnapshotStore(file, (m) => warnings.push(m));
    expect(s2.nearestSnapshot(70)!.seq).toBe(50);
    expect(warnings.join()).toContain('stale: record 60 in the log has another hash');
    expect(s2.list()).toEqual([10, 50]);
    // A damaged state (one bit of the stored bytes): caught by its checksum.
    const f50 = join(`${file}.snap`, '0000000000000050.json');
    flipStateBit(f50);
    expect(s2.nearestSnapshot(70)!.seq).toBe(10);
    expect(warnings.join()).toContain('does not match its checksum');
    // Past the end of the log (after a cut): stale.
    store.writeSnapshot(100, h(100), 1);
    const lines = readFileSync(file, 'utf8').split('\n');
    writeFileSync(file, `${lines.slice(0, 99).join('\n')}\n`);
    expect(s2.nearestSnapshot(100)!.seq).toBe(10);
    expect(warnings.join()).toContain('the log has no record 100');
    expect(() => store.writeSnapshot(0, h(10), 1)).toThrow('seq must be an integer');
    expect(() => store.writeSnapshot(5, 'zz', 1)).toThrow('64 hex digits');
    expect(() => store.writeSnapshot(5, h(5), undefined)).toThrow('not JSON');
  });

  it('nearestSnapshot with a producer: a snapshot made by another one, or by none named, is stale (deleted, the next older tried)', () => {
    write(100);
    const warnings: string[] = [];
    const store = openSnapshotStore(file, (m) => warnings.push(m));
    const h = (s: number) => readRecordAt(file, s)!.hash;
    store.writeSnapshot(10, h(10), { at: 10 }, 'model/a');
    store.writeSnapshot(20, h(20), { at: 20 }, 'model/b');
    store.writeSnapshot(30, h(30), { at: 30 });
    expect(store.nearestSnapshot(99)!.seq).toBe(30); // no producer asked: any
    expect(warnings).toEqual([]);
    expect(store.nearestSnapshot(99, { producer: 'model/a' })).toEqual({ seq: 10, hash: h(10), state: { at: 10 } });
    expect(warnings.join('\n')).toContain('stale: made by an unnamed producer, not model/a');
    expect(warnings.join('\n')).toContain('stale: made by model/b, not model/a');
    expect(store.list()).toEqual([10]);
  });

  it('nearestSnapshot: a given list of seqs instead of the directory, files gone since skipped quietly, the checked text to a parse of choice', () => {
    write(100);
    const warnings: string[] = [];
    const store = openSnapshotStore(file, (m) => warnings.push(m));
    const h = (s: number) => readRecordAt(file, s)!.hash;
    store.writeSnapshot(10, h(10), { at: 10 });
    store.writeSnapshot(20, h(20), { at: 20 });
    store.writeSnapshot(30, h(30), { at: 30 });
    // Only the listed seqs are candidates (30 exists but is not listed), in any order.
    expect(store.nearestSnapshot(99, { seqs: [20, 10] })!.state).toEqual({ at: 20 });
    // 40 was listed but is gone: not a warning, the next one down is used.
    expect(store.nearestSnapshot(99, { seqs: [10, 40, 30] })!.seq).toBe(30);
    expect(warnings).toEqual([]);
    expect(store.nearestSnapshot(99, { parse: (t) => t })).toEqual({ seq: 30, hash: h(30), state: '{"at":30}' });
    // The parse sees only checked text: a damaged one is dropped first.
    const f30 = join(`${file}.snap`, '0000000000000030.json');
    flipStateBit(f30);
    const parsed: string[] = [];
    expect(store.nearestSnapshot(99, { parse: (t) => (parsed.push(t), t) })!.seq).toBe(20);
    expect(parsed).toEqual(['{"at":20}']);
    expect(warnings.join()).toContain('does not match its checksum');
  });

  it('are stored compressed (raw deflate) with the sha256 of the stored bytes; version 1 files (plain JSON) are still read and checked', () => {
    write(100);
    const warnings: string[] = [];
    const store = openSnapshotStore(file, (m) => warnings.push(m));
    const h = (s: number) => readRecordAt(file, s)!.hash;
    const big = { tasks: Array.from({ length: 500 }, (_, i) => ({ tid: i, state: 'running', comm: 'sleep' })) };
    const f = store.writeSnapshot(40, h(40), big);
    const data = readFileSync(f);
    const nl = data.indexOf(10);
    const head = JSON.parse(data.toString('utf8', 0, nl));
    const json = JSON.stringify(big);
    expect(head).toMatchObject({ v: 2, seq: 40, hash: h(40), bytes: json.length, enc: 'deflate' });
    expect(data.length - nl - 1).toBeLessThan(json.length / 5);
    expect(store.nearestSnapshot(45)!.state).toEqual(big);
    // Version 1, as written before: the JSON itself after the header, its sha256 over the JSON.
    const v1 = (seq: number, state: unknown) => {
      const body = JSON.stringify(state);
      const sha = createHash('sha256').update(body).digest('hex');
      writeFileSync(join(`${file}.snap`, `${String(seq).padStart(16, '0')}.json`), `${JSON.stringify({ v: 1, seq, hash: h(seq), sha256: sha, bytes: body.length })}\n${body}`);
    };
    v1(60, { at: 60 });
    expect(store.nearestSnapshot(70)).toEqual({ seq: 60, hash: h(60), state: { at: 60 } });
    flipStateBit(join(`${file}.snap`, '0000000000000060.json'));
    expect(store.nearestSnapshot(70)!.seq).toBe(40);
    expect(warnings.join()).toContain('0000000000000060.json: damaged: the state does not match its checksum');
    // A header whose length disagrees with the decompressed state: damaged (the sha256 covers only the stored bytes).
    const withBytes = Buffer.concat([Buffer.from(`${JSON.stringify({ ...head, bytes: json.length + 1 })}\n`), data.subarray(nl + 1)]);
    writeFileSync(f, withBytes);
    expect(store.nearestSnapshot(45)).toBeUndefined();
    expect(warnings.join()).toContain(`damaged: the state is ${json.length} bytes, its header says ${json.length + 1}`);
    // Stored bytes that match their sha256 but are not deflate data (a writer's bug, not a bit flip): damaged.
    const junk = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00, 0x13]);
    writeFileSync(f, Buffer.concat([Buffer.from(`${JSON.stringify({ ...head, sha256: createHash('sha256').update(junk).digest('hex') })}\n`), junk]));
    expect(store.nearestSnapshot(45)).toBeUndefined();
    expect(warnings.join()).toContain('damaged: the state does not decompress');
    // An unknown encoding: damaged, never guessed at.
    store.writeSnapshot(20, h(20), { at: 20 });
    const f20 = join(`${file}.snap`, '0000000000000020.json');
    writeFileSync(f20, readFileSync(f20, 'latin1').replace('"enc":"deflate"', '"enc":"xz"'), 'latin1');
    expect(store.nearestSnapshot(45)).toBeUndefined();
    expect(warnings.join()).toContain('0000000000000020.json: damaged: bad header');
  });
});
