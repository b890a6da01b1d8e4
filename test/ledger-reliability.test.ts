/**
 * Reliability: kill -9 a writer mid-append (many times), random truncation and bit flips, two writers, a reader
 * racing a writer, fuzzed ledger lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  LedgerError,
  LockedError,
  RepairRefusedError,
  indexPathOf,
  openLedger,
  readLedgerBatchesSync,
  readLedgerSync,
  repairLedger,
  verifyLedger,
} from '../src/ledger/index.js';
import { EXAMPLES, ZERO_HASH, sealRecord } from '../src/events/index.js';
import { buildLedgerModules, expectedEvent } from './helpers/ledger-writer-build.js';

const root = mkdtempSync(join(tmpdir(), 'tns-ledger-rel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { onWarning: () => {} };
const WRITER = join(import.meta.dirname, 'helpers', 'ledger-writer.mjs');
let lib: string;
beforeAll(() => {
  lib = buildLedgerModules(join(root, 'build'));
});

interface Child {
  proc: ChildProcess;
  ready: Promise<number>;
  durable: () => number;
  stderr: () => string;
  exited: Promise<void>;
}

function startWriter(ledger: string, batchSize: number, fsync: string, noteBytes: number): Child {
  const proc = spawn(process.execPath, [WRITER, lib, ledger, String(batchSize), fsync, String(noteBytes)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let durable = 0;
  let err = '';
  let out = '';
  let resolveReady!: (n: number) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<number>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      const m = /^(ready|durable) (\d+)$/.exec(line);
      if (m?.[1] === 'ready') resolveReady(Number(m[2]));
      else if (m) durable = Number(m[2]);
    }
  });
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((res) => proc.on('close', () => res())); // after stdout/stderr are drained
  proc.on('exit', (code, signal) => rejectReady(new Error(`writer exited (${code ?? signal}) before ready: ${err}`)));
  return { proc, ready, durable: () => durable, stderr: () => err, exited };
}

/** Every record in the ledger is exactly the deterministic event of its seq. */
function checkContent(ledger: string, noteFor: (seq: number) => number): number {
  let n = 0;
  for (const r of readLedgerSync(ledger, { hashes: true })) {
    n++;
    const want = expectedEvent(r.seq, noteFor(r.seq));
    expect(r.op).toEqual(want.op);
    expect(r.note).toBe(want.note);
  }
  return n;
}

describe('kill -9 mid-append', () => {
  it('≥100 kills at random moments: complete records survive, verify finds at most a torn tail, repair leaves a valid ledger', async () => {
    // A fresh ledger every 10 kills keeps verification cheap; within one, each writer continues the last one's log.
    let ledger = '';
    let lastCount = 0;
    let lastHashes: string[] = [];
    let torn = 0;
    let staleLocks = 0;
    let survived = 0;
    const KILLS = 110;
    for (let k = 0; k < KILLS; k++) {
      if (k % 10 === 0) {
        if (ledger) survived += checkContent(ledger, () => 0);
        ledger = join(root, `killed-${k}.ndjson`);
        lastCount = 0;
        lastHashes = [];
      }
      const batchSize = [1, 7, 100, 500, 2000][k % 5];
      const fsync = ['never', 'batch', 'never', 'always', 'never'][(k >> 1) % 5];
      const child = startWriter(ledger, batchSize, fsync, 0);
      const startSeq = await child.ready;
      expect(startSeq).toBe(lastCount);
      await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 30)));
      child.proc.kill('SIGKILL');
      await child.exited;
      const durable = child.durable();
      const v = verifyLedger(ledger);
      if (!v.ok) {
        expect(v.firstBad!.reason, v.firstBad!.message).toBe('torn-tail');
        torn++;
      }
      // Everything reported durable, and everything from before this child, is there.
      expect(v.records).toBeGreaterThanOrEqual(Math.max(durable, lastCount));
      // The killed writer's lock is still there: repair takes it over (stale), with a warning.
      const r = repairLedger(ledger, { onWarning: (m) => m.includes(`stale lock ${ledger}.lock held by process ${child.proc.pid}`) && staleLocks++ });
      expect(r.truncated).toBe(!v.ok);
      const after = verifyLedger(ledger);
      expect(after.ok).toBe(true);
      expect(after.records).toBe(v.records);
      // Earlier records are unchanged (spot-check the hashes seen last round).
      const seqsToCheck = lastHashes.length;
      if (seqsToCheck > 0) {
        const got = [...readLedgerBatchesSync(ledger, { toSeq: seqsToCheck })].flat().map((x) => x.hash);
        expect(got).toEqual(lastHashes);
      }
      lastCount = after.records;
      lastHashes = [...readLedgerBatchesSync(ledger, { toSeq: Math.min(lastCount, 3000) })].flat().map((x) => x.hash);
    }
    expect(checkContent(ledger, () => 0)).toBe(lastCount);
    survived += lastCount;
    console.log(`kill -9: ${KILLS} kills, ${survived} records survived, ${torn} torn tails repaired, ${staleLocks} stale locks taken over`);
    // Every killed writer left its lock behind, and each was taken over.
    expect(staleLocks).toBe(KILLS);
  }, 400_000);

  it('a killed writer with large records: the torn tail is cut and the content of every record is exact', async () => {
    const ledger = join(root, 'killed-big.ndjson');
    const noteBytes = 3000;
    let torn = 0;
    for (let k = 0; k < 12; k++) {
      const child = startWriter(ledger, [5, 20, 50][k % 3], 'never', noteBytes);
      await child.ready;
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 25)));
      child.proc.kill('SIGKILL');
      await child.exited;
      const v = verifyLedger(ledger);
      if (!v.ok) {
        expect(v.firstBad!.reason).toBe('torn-tail');
        torn++;
      }
      repairLedger(ledger, quiet);
    }
    const n = checkContent(ledger, () => noteBytes);
    console.log(`large records: ${n} records, ${torn}/12 kills left a torn tail`);
  }, 120_000);
});

describe('random truncation and bit flips', () => {
  const base = join(root, 'base.ndjson');
  let bytes: Buffer;
  let lineOf: (offset: number) => number;
  beforeAll(() => {
    const w = openLedger(base, { create: true, ...quiet });
    const calls = Object.values(EXAMPLES);
    for (let i = 0; i < 300; i++) w.append(calls[i % calls.length]);
    w.close();
    bytes = readFileSync(base);
    const starts: number[] = [0];
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10 && i + 1 < bytes.length) starts.push(i + 1);
    lineOf = (offset) => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    };
  });

  it('every single bit flip anywhere is detected, at the line that holds the byte', () => {
    const f = join(root, 'flip.ndjson');
    const rng = fc.sample(fc.tuple(fc.integer({ min: 0, max: 1 << 30 }), fc.integer({ min: 0, max: 7 })), 1500);
    const reasons = new Map<string, number>();
    for (const [r, bit] of rng) {
      const at = r % bytes.length;
      const copy = Buffer.from(bytes);
      copy[at] ^= 1 << bit;
      writeFileSync(f, copy);
      const v = verifyLedger(f, { anchor: false });
      expect(v.ok, `flip of bit ${bit} at byte ${at}`).toBe(false);
      expect(v.firstBad!.line, `flip at byte ${at}: ${v.firstBad!.message}`).toBe(lineOf(at));
      expect(v.firstBad!.message.startsWith(`${f}:${lineOf(at)}: `)).toBe(true);
      reasons.set(v.firstBad!.reason, (reasons.get(v.firstBad!.reason) ?? 0) + 1);
    }
    // The flips hit every kind of fault the format has.
    expect([...reasons.keys()].sort()).toEqual(expect.arrayContaining(['bad-hash', 'bad-json', 'invalid']));
  });

  it('random truncation is always detected with the line: mid-line a torn tail, at a line boundary by the index anchor', () => {
    const f = join(root, 'cut.ndjson');
    const cuts = fc.sample(fc.integer({ min: 0, max: bytes.length - 1 }), 300);
    cuts.push(...[0, 1, bytes.length - 1]);
    // also cuts exactly at line boundaries
    for (let i = 0, seen = 0; i < bytes.length && seen < 20; i++) if (bytes[i] === 10 && i % 7 === 0) (cuts.push(i + 1), seen++);
    for (const cut of cuts) {
      copyFileSync(base, f);
      rmSync(indexPathOf(f), { force: true });
      for (const _ of readLedgerBatchesSync(f, { fromSeq: 300 })); // builds the index: the anchor
      truncateSync(f, cut);
      const v = verifyLedger(f);
      expect(v.ok, `cut at ${cut}`).toBe(false);
      const line = cut === 0 ? 1 : bytes[cut - 1] === 10 ? lineOf(cut - 1) + 1 : lineOf(cut - 1);
      expect(v.firstBad!.line, `cut at ${cut}: ${v.firstBad!.message}`).toBe(line);
      expect(v.firstBad!.reason).toBe('truncated');
      // repair does not pretend a cut log is whole
      expect(() => repairLedger(f, quiet)).toThrow(RepairRefusedError);
      // without the anchor, a mid-line cut is still a torn tail at that line
      const bare = verifyLedger(f, { anchor: false });
      if (bytes[cut - 1] !== 10 && cut > 0) expect(bare.firstBad).toMatchObject({ line, reason: 'torn-tail' });
    }
  });
});

describe('concurrent access', () => {
  it('a second writer (another process holds the lock) is refused with the holder pid', async () => {
    const ledger = join(root, 'two-writers.ndjson');
    const child = startWriter(ledger, 50, 'never', 0);
    await child.ready;
    try {
      openLedger(ledger, quiet);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LockedError);
      expect((e as LockedError).holderPid).toBe(child.proc.pid);
      expect((e as Error).message).toBe(`${ledger}: locked by process ${child.proc.pid} (${ledger}.lock); only one writer at a time`);
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  });

  it('a reader sees a consistent, growing prefix while a writer appends', async () => {
    const ledger = join(root, 'reader-race.ndjson');
    const child = startWriter(ledger, 37, 'never', 200);
    await child.ready;
    let last = 0;
    let reads = 0;
    const until = Date.now() + 1500;
    try {
      while (Date.now() < until) {
        let n = 0;
        let prev = ZERO_HASH;
        for (const batch of readLedgerBatchesSync(ledger, { hashes: true })) {
          for (const r of batch) {
            expect(r.seq).toBe(++n);
            expect(r.prev).toBe(prev);
            prev = r.hash;
          }
        }
        expect(n).toBeGreaterThanOrEqual(last);
        last = n;
        reads++;
        // and seeking near the end while it grows
        if (n > 10) expect([...readLedgerBatchesSync(ledger, { fromSeq: n - 5, toSeq: n })].flat().map((r) => r.seq)).toEqual([n - 5, n - 4, n - 3, n - 2, n - 1, n]);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
    expect(last).toBeGreaterThan(0);
    expect(reads).toBeGreaterThan(3);
  }, 20_000);
});

describe('fuzzed ledger lines', () => {
  it('verify, read, repair and open throw only typed ledger errors, whatever the lines', () => {
    const valid = Object.values(EXAMPLES)
      .slice(0, 6)
      .reduce<{ lines: string[]; prev: string }>(
        (acc, ex, i) => {
          const { record, line } = sealRecord(ex, i + 1, acc.prev);
          return { lines: [...acc.lines, line], prev: record.hash };
        },
        { lines: [], prev: ZERO_HASH },
      ).lines;
    const line = fc.oneof(
      fc.constantFrom(...valid),
      fc.string(),
      fc.json(),
      fc.constantFrom(...valid).chain((l) => fc.tuple(fc.nat(l.length), fc.string({ maxLength: 3 })).map(([at, s]) => l.slice(0, at) + s + l.slice(at + 1))),
    );
    const f = join(root, 'fuzz.ndjson');
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, endNl) => {
        writeFileSync(f, lines.join('\n') + (endNl ? '\n' : ''));
        rmSync(indexPathOf(f), { force: true });
        const typed = (fn: () => unknown) => {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof LedgerError)) throw e;
          }
        };
        typed(() => verifyLedger(f));
        typed(() => [...readLedgerBatchesSync(f)]);
        typed(() => [...readLedgerBatchesSync(f, { fromSeq: 3, validate: false })]);
        typed(() => openLedger(f, quiet).close());
        typed(() => repairLedger(f, quiet));
        expect(existsSync(`${f}.lock`)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});

it('the fixture writer and the test agree on record content', () => {
  expect(expectedEvent(5, 3).note).toBe('n5:xxx');
  expect(statSync(WRITER).isFile()).toBe(true);
});
