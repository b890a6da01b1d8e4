/**
 * `tns log LEDGER --follow`: the CLI is spawned and a writer appends to the ledger while it runs. The records come
 * from a `tns synth` ledger S, appended again to L with the ledger writer (so L is S's prefix, valid and chained).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger, readLedgerSync, type LedgerWriter } from '../src/ledger/index.js';
import type { EventInput, EventRecord } from '../src/events/index.js';
import { buildDist } from './helpers/build-dist.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'tns.js');
let dir: string;
let S: string;
let records: EventRecord[];
let lines: string[];
let n = 0;

beforeAll(() => {
  buildDist();
  dir = mkdtempSync(join(tmpdir(), 'tns-follow-'));
  S = join(dir, 's.ndjson');
  const r = spawnSync(process.execPath, [bin, 'synth', '--events', '300', '-o', S, '--seed', '7'], { encoding: 'utf8' });
  expect(r.status).toBe(0);
  records = [...readLedgerSync(S)];
  lines = readFileSync(S, 'utf8').split('\n').slice(0, -1);
  expect(records).toHaveLength(300);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function input(r: EventRecord): EventInput {
  const { v: _v, seq: _s, prev: _p, hash: _h, ...rest } = r;
  return rest as EventInput;
}

/** A fresh ledger L holding S's first `upTo` records, and its writer (left open for appends). */
function ledger(upTo: number): { L: string; w: LedgerWriter } {
  const L = join(dir, `l${++n}.ndjson`);
  const w = openLedger(L, { create: true, fsync: 'never' });
  if (upTo > 0) append(w, 1, upTo);
  return { L, w };
}

/** Append S's records from..to (seqs) with the writer; they chain and hash exactly as in S. */
function append(w: LedgerWriter, from: number, to: number): void {
  const res = w.append(records.slice(from - 1, to).map(input));
  w.flush();
  expect(res.lastHash).toBe(records[to - 1].hash);
}

interface Run {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once stdout satisfies `test` (rejects after 20 s). */
  waitOut(test: (out: string) => boolean): Promise<void>;
}

function follow(...args: string[]): Run {
  const child = spawn(process.execPath, [bin, 'log', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exit,
    waitOut: (test) =>
      new Promise<void>((resolve, reject) => {
        if (test(out)) return resolve();
        const t = setTimeout(() => reject(new Error(`timed out waiting for output; stdout: ${out.slice(-500)} stderr: ${err}`)), 20_000);
        waiters.push(() => {
          if (test(out)) {
            clearTimeout(t);
            resolve();
          }
        });
      }),
  };
}

/** The seqs of text output (each line starts with the seq). */
const textSeqs = (out: string) => out.split('\n').filter((l) => l.trim() !== '').map((l) => Number(/^\s*(\d+)\s/.exec(l)![1]));
const jsonRecs = (out: string) => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EventRecord);
const seqsOf = (rs: EventRecord[]) => rs.map((r) => r.seq);
const tidOf = (r: EventRecord) => ('tid' in r.op ? (r.op as { tid: number }).tid : undefined);

/** Append S's records from..to in chunks of `step`, `gap` ms apart. */
async function grow(w: LedgerWriter, from: number, to: number, step = 50, gap = 200): Promise<void> {
  for (let s = from; s <= to; s += step) {
    await sleep(gap);
    append(w, s, Math.min(to, s + step - 1));
  }
}

describe('tns log --follow', () => {
  it('prints the matching records there now, then those a writer appends, in order (--call, --from)', async () => {
    const { L, w } = ledger(100);
    const expected = records.filter((r) => r.op.call === 'clock_gettime' && r.seq >= 20 && r.seq <= 250).map((r) => r.seq);
    const before = expected.filter((s) => s <= 100);
    expect(before.length).toBeGreaterThan(0);
    expect(expected.length).toBeGreaterThan(before.length);
    const run = follow(L, '--follow', '--idle-ms', '1500', '--call', 'clock_gettime', '--from', '20');
    // What is there now comes out before anything is appended.
    await run.waitOut((o) => textSeqs(o).length >= before.length);
    expect(textSeqs(run.out())).toEqual(before);
    await grow(w, 101, 250);
    w.close();
    const { code, signal } = await run.exit;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(textSeqs(run.out())).toEqual(expected);
    expect(run.err()).toBe('');
  }, 60_000);

  it('--json is NDJSON, one record per line as they come (--pid, --errno)', async () => {
    const { L, w } = ledger(100);
    const pid = records[150].pid!;
    const expected = records.filter((r) => r.seq <= 300 && (r.pid === pid || tidOf(r) === pid));
    expect(expected.some((r) => r.seq > 100)).toBe(true);
    const run = follow(L, '--follow', '--idle-ms', '1500', '--pid', String(pid), '--json');
    await sleep(500);
    await grow(w, 101, 300);
    w.close();
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.out().startsWith('{')).toBe(true);
    const got = jsonRecs(run.out());
    expect(got).toEqual(expected);

    // --errno: none of S's records before 100 and some after, or whatever S has: the same as plain log's.
    const errs = records.filter((r) => r.outcome?.errno !== undefined);
    expect(errs.length).toBeGreaterThan(0);
    const errno = errs[errs.length - 1].outcome!.errno!;
    const run2 = follow(L, '--follow', '--idle-ms', '300', '--errno', errno, '--json');
    expect(await run2.exit).toEqual({ code: 0, signal: null });
    expect(seqsOf(jsonRecs(run2.out()))).toEqual(seqsOf(records.filter((r) => r.outcome?.errno === errno)));
  }, 60_000);

  it('--to N stops after seq N has been read (exit 0), without --idle-ms', async () => {
    const { L, w } = ledger(100);
    const run = follow(L, '--follow', '--to', '150');
    await run.waitOut((o) => textSeqs(o).length === 100);
    await grow(w, 101, 200);
    w.close();
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(textSeqs(run.out())).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
  }, 60_000);

  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    it(`${sig} ends it with exit 0 and no stack trace`, async () => {
      const { L, w } = ledger(50);
      const run = follow(L, '--follow', '--call', 'clone3');
      await run.waitOut((o) => o.length > 0);
      append(w, 51, 120);
      w.close();
      await run.waitOut((o) => textSeqs(o).some((s) => s > 50));
      run.child.kill(sig);
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect(run.err()).toBe('');
      expect(textSeqs(run.out())).toEqual(records.filter((r) => r.seq <= 120 && r.op.call === 'clone3').map((r) => r.seq));
    }, 60_000);
  }

  it('--ns replays the model as the records come: the same records as plain log --ns over the whole ledger', async () => {
    const ns = '4026531843';
    const plain = spawnSync(process.execPath, [bin, 'log', S, '--ns', ns, '--json'], { encoding: 'utf8' });
    expect(plain.status).toBe(0);
    const expected = seqsOf(JSON.parse(plain.stdout) as EventRecord[]);
    expect(expected.some((s) => s <= 100)).toBe(true);
    expect(expected.some((s) => s > 150)).toBe(true);
    const { L, w } = ledger(100);
    const run = follow(L, '--follow', '--idle-ms', '1500', '--ns', ns, '--json', '--from', '30');
    await run.waitOut((o) => o.length > 0);
    await grow(w, 101, 300, 20, 100);
    w.close();
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(seqsOf(jsonRecs(run.out()))).toEqual(expected.filter((s) => s >= 30));
  }, 60_000);

  it("--ns with the traced kernel's number: taken as the model's, with a warning naming the model's namespace", () => {
    const T = join(dir, 'nested.ndjson');
    const imp = spawnSync(process.execPath, [bin, 'import', 'strace', join(root, 'test/traces/nested.strace'), '-o', T], { encoding: 'utf8' });
    expect(imp.status).toBe(0);
    // test/traces/nested.strace: the kernel's time:[4026532177] is bound to one of the model's namespaces.
    const r = spawnSync(process.execPath, [bin, 'log', T, '--follow', '--idle-ms', '300', '--ns', 'time:[4026532177]'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: time:\[4026532177\] is also the traced kernel's number of the model's namespace time:\[\d+\]; --follow takes 4026532177 as the model's number/);
  });

  it('a line still being written is not an error: it is printed once its newline is there', async () => {
    const { L, w } = ledger(100);
    w.close();
    const run = follow(L, '--follow', '--idle-ms', '1500', '--json', '--from', '90');
    await run.waitOut((o) => jsonRecs(o).length === 11);
    const line = lines[100]; // seq 101, as the writer wrote it
    appendFileSync(L, line.slice(0, 40));
    await sleep(400); // several polls with half a line at the end
    expect(run.child.exitCode).toBeNull();
    appendFileSync(L, `${line.slice(40)}\n${lines[101]}\n`);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(seqsOf(jsonRecs(run.out()))).toEqual(Array.from({ length: 13 }, (_, i) => i + 90));
    expect(run.err()).toBe('');
  }, 60_000);

  it('a damaged complete line: the records before it, then an error naming the file and line (exit 2)', async () => {
    const { L, w } = ledger(100);
    w.close();
    const run = follow(L, '--follow', '--idle-ms', '5000');
    await run.waitOut((o) => textSeqs(o).length === 100);
    appendFileSync(L, `${lines[100]}\n${lines[101].replace('"seq":102', '"seq":"x"')}\n`);
    const { code } = await run.exit;
    expect(code).toBe(2);
    expect(textSeqs(run.out())).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    expect(run.err()).toContain(`${L}:102:`);
    expect(run.err()).not.toMatch(/\n\s+at /);
    expect(run.err().trim().split('\n')).toHaveLength(1);
  }, 60_000);

  it('a ledger that does not exist yet is waited for; one never created, or in no directory, is exit 2', async () => {
    const L = join(dir, 'later.ndjson');
    const run = follow(L, '--follow', '--idle-ms', '1500', '--json');
    await sleep(700);
    expect(run.child.exitCode).toBeNull();
    const w = openLedger(L, { create: true, fsync: 'never' });
    append(w, 1, 40);
    await grow(w, 41, 80, 20, 200);
    w.close();
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(seqsOf(jsonRecs(run.out()))).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));

    const never = spawnSync(process.execPath, [bin, 'log', join(dir, 'never.ndjson'), '--follow', '--idle-ms', '300'], { encoding: 'utf8' });
    expect(never.status).toBe(2);
    expect(never.stderr).toMatch(/never\.ndjson: no such file/);
    const nodir = spawnSync(process.execPath, [bin, 'log', join(dir, 'no', 'such', 'l.ndjson'), '--follow'], { encoding: 'utf8', timeout: 20_000 });
    expect(nodir.status).toBe(2);
    expect(nodir.stderr).toMatch(/no such file, and no directory/);
  }, 60_000);

  it('--idle-ms only with --follow; a bad --idle-ms is a usage error', () => {
    const { L, w } = ledger(10);
    w.close();
    const a = spawnSync(process.execPath, [bin, 'log', L, '--idle-ms', '100'], { encoding: 'utf8' });
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--idle-ms: only with --follow/);
    const b = spawnSync(process.execPath, [bin, 'log', L, '--follow', '--idle-ms', 'soon'], { encoding: 'utf8' });
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/--idle-ms/);
  });
});
