/**
 * The parallel reader (src/ledger/parallel.ts): the main thread parses, a worker thread checks every field, the
 * chain and (when asked) the hashes of the same bytes. It must hand out exactly the sequential reader's batches
 * and stop with exactly its error. Worker threads cannot run TypeScript, so this test transpiles src/events,
 * src/ledger and src/kernel into a temporary directory (as the kill -9 test does) and loads the reader from there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openLedger, readLedgerBatchesSync, type ReadOptions } from '../src/ledger/index.js';
import * as fromSources from '../src/ledger/parallel.js';
import { EXAMPLES, type EventRecord } from '../src/events/index.js';
import { buildLedgerModules } from './helpers/ledger-writer-build.js';

const root = mkdtempSync(join(tmpdir(), 'tns-ledger-par-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let par: typeof fromSources;
const ledger = join(root, 'l.ndjson');
let lines: string[];

beforeAll(async () => {
  const lib = buildLedgerModules(join(root, 'build'));
  par = (await import(pathToFileURL(join(lib, 'ledger', 'parallel.js')).href)) as typeof fromSources;
  const w = openLedger(ledger, { create: true, onWarning: () => {} });
  const calls = Object.values(EXAMPLES);
  for (let i = 0; i < 3000; i++) w.append({ ...calls[i % calls.length], note: `record ${i}` });
  w.close();
  lines = readFileSync(ledger, 'utf8').split('\n').slice(0, -1);
});

interface Run {
  seqs: number[];
  error?: { name: string; message: string; line?: number; reason?: string };
}

function run(gen: Generator<EventRecord[]>): Run {
  const seqs: number[] = [];
  try {
    for (const b of gen) seqs.push(...b.map((r) => r.seq));
    return { seqs };
  } catch (e) {
    const err = e as Error & { line?: number; reason?: string };
    return { seqs, error: { name: err.name, message: err.message, line: err.line, reason: err.reason } };
  }
}

const both = (path: string, opts: ReadOptions) => ({
  sequential: run(readLedgerBatchesSync(path, opts)),
  parallel: run(par.readLedgerBatchesChecked(path, { ...opts, parallel: true })),
});

describe('parallel reader', () => {
  it('runs its checks on a worker thread when compiled, and falls back to the sequential reader from sources', () => {
    expect(par.usesCheckingThread(ledger, { parallel: true })).toBe(true);
    expect(par.usesCheckingThread(ledger, { parallel: 'auto' })).toBe(false); // 1 MiB: below the 8 MiB threshold
    expect(par.usesCheckingThread(ledger, { parallel: 'auto', minBytes: 1 })).toBe(true);
    expect(par.usesCheckingThread(ledger, { parallel: true, fromSeq: 10 })).toBe(false);
    expect(par.usesCheckingThread(ledger, { parallel: true, validate: false })).toBe(false);
    expect(par.usesCheckingThread(ledger, { parallel: true, validate: false, hashes: true })).toBe(true);
    expect(fromSources.usesCheckingThread(ledger, { parallel: true })).toBe(false);
  });

  it('an intact ledger: the same batches as the sequential reader', () => {
    for (const opts of [{ batchSize: 100 }, { batchSize: 1 }, { batchSize: 5000, hashes: true }, { toSeq: 1234 }] as ReadOptions[]) {
      const { sequential, parallel } = both(ledger, opts);
      expect(sequential.error).toBeUndefined();
      expect(parallel).toEqual(sequential);
    }
    const batches = [...par.readLedgerBatchesChecked(ledger, { parallel: true, batchSize: 700 })];
    expect(batches.map((b) => b.length)).toEqual([700, 700, 700, 700, 200]);
    expect(batches.flat()).toEqual([...readLedgerBatchesSync(ledger, { batchSize: 700 })].flat());
  });

  const damage: [string, (line: string) => string, ReadOptions][] = [
    ['a field out of range (only the checker sees it)', (l) => l.replace(/"seq":(\d+)/, '"seq":$1,"v":1,"bogus":1').replace(/,"v":1(?=,"bogus")/, ''), {}],
    ['a changed note (a hash fault, checked only with hashes)', (l) => l.replace(/record (\d+)/, 'record x$1'), { hashes: true }],
    ['not JSON (the main thread sees it first)', (l) => l.slice(0, 40), {}],
    ['a broken chain', (l) => l.replace(/"prev":"[0-9a-f]/, '"prev":"f').replace(/"prev":"f(?=f)/, '"prev":"e'), {}],
  ];
  for (const [what, spoil, opts] of damage)
    for (const at of [1, 2, 700, 1401, 3000])
      it(`${what} at line ${at}: the records before it, then the sequential reader's error`, () => {
        const f = join(root, `bad-${at}.ndjson`);
        const copy = [...lines];
        copy[at - 1] = spoil(copy[at - 1]);
        expect(copy[at - 1]).not.toBe(lines[at - 1]);
        writeFileSync(f, `${copy.join('\n')}\n`);
        const { sequential, parallel } = both(f, { batchSize: 700, ...opts });
        expect(sequential.error?.line).toBe(at);
        expect(parallel).toEqual(sequential);
        expect(parallel.seqs.length).toBe(Math.floor((at - 1) / 700) * 700);
      });

  it('a consumer that stops early stops the checker (no hang, no leak)', () => {
    for (let i = 0; i < 5; i++) {
      for (const b of par.readLedgerBatchesChecked(ledger, { parallel: true, batchSize: 10 })) {
        expect(b[0].seq).toBe(1);
        break;
      }
    }
  });

  it('a ledger growing while it is read: both threads read the same prefix', () => {
    const f = join(root, 'growing.ndjson');
    writeFileSync(f, `${lines.slice(0, 2000).join('\n')}\n`);
    const seqs: number[] = [];
    let grown = false;
    for (const b of par.readLedgerBatchesChecked(f, { parallel: true, batchSize: 500 })) {
      seqs.push(...b.map((r) => r.seq));
      if (!grown) {
        appendFileSync(f, `${lines.slice(2000).join('\n')}\n`);
        grown = true;
      }
    }
    expect(seqs).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
  });
});
