// Kernel model benchmark (not a test): apply(world, op) alone on a synth ledger's ops, read into memory first.
// Prints the overall µs/op (a pass without per-call timers) and µs per call (a pass with them), medians of 3.
//
// Run: npm run build && node bench/apply.bench.mjs [LEDGER.ndjson]
// Without a ledger, a 300,000-record synth ledger (seed 1) is written to a temporary directory first (~10 s).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLedgerBatchesSync } from '../dist/ledger/index.js';
import { apply, createWorld } from '../dist/kernel/index.js';
import { inferGenesis } from '../dist/replay/genesis.js';
import { writeSynth } from '../dist/replay/synth.js';

const OPS = 300_000;
const RUNS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let ledger = process.argv.slice(2).find((a) => a.endsWith('.ndjson'));
let scratch;
if (!ledger) {
  scratch = mkdtempSync(join(tmpdir(), 'tns-apply-bench-'));
  ledger = join(scratch, 'synth.ndjson');
  writeSynth(ledger, { events: OPS, seed: 1 });
}
try {
  const recs = [];
  for (const b of readLedgerBatchesSync(ledger, { batchSize: 1000, validate: false, toSeq: OPS })) recs.push(...b);
  const genesis = inferGenesis(recs.slice(0, 10));
  const ops = recs.filter((r) => !r.op.call.startsWith('marker.')).map((r) => r.op);

  const overall = [];
  const perCall = new Map();
  for (let run = 0; run < RUNS; run++) {
    let w = createWorld(genesis.options);
    const t = performance.now();
    for (const op of ops) apply(w, op);
    overall.push(((performance.now() - t) / ops.length) * 1000);
    w = createWorld(genesis.options);
    const sums = new Map();
    for (const op of ops) {
      const t0 = performance.now();
      apply(w, op);
      const d = performance.now() - t0;
      const s = sums.get(op.call) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += d;
      sums.set(op.call, s);
    }
    for (const [call, s] of sums) {
      const e = perCall.get(call) ?? { n: s.n, us: [] };
      e.us.push((s.ms / s.n) * 1000);
      perCall.set(call, e);
    }
  }
  console.log(`kernel apply: ${ops.length.toLocaleString('en-US')} ops of ${ledger}, ${RUNS} runs (median), node ${process.version}`);
  console.log(`overall ${median(overall).toFixed(2)} µs/op (runs: ${overall.map((x) => x.toFixed(2)).join(' ')})\n`);
  console.log(`${'call'.padEnd(16)}${'ops'.padStart(9)}${'µs/call'.padStart(10)}${'share'.padStart(8)}`);
  const rows = [...perCall].map(([call, e]) => ({ call, n: e.n, us: median(e.us) })).sort((a, b) => b.us * b.n - a.us * a.n);
  const total = rows.reduce((s, r) => s + r.us * r.n, 0);
  for (const r of rows) console.log(`${r.call.padEnd(16)}${String(r.n).padStart(9)}${r.us.toFixed(2).padStart(10)}${`${((r.us * r.n * 100) / total).toFixed(1)}%`.padStart(8)}`);
} finally {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}
