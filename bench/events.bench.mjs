// Event-layer benchmarks (not tests): validation of parsed records (decodeRecord), sealing of new ones
// (sealRecord: validate + canonical encoding + sha256), and what validation costs a ledger read
// (readLedgerBatchesSync with validate: true vs false on the same file, same run). Medians of RUNS runs.
//
// Run: npm run build && node bench/events.bench.mjs [LEDGER] [SAMPLE]
//   LEDGER: an NDJSON ledger (default: the 1M synth ledger the replay bench caches in $TMPDIR/tns-bench/, else a
//           200,000-event synth ledger made here); SAMPLE: records held in memory for the validate/seal timings
//           (default 200,000). TNS_DIST=<dir> benchmarks another build (default ../dist).
// Sealing doubles as a check: every sealed line must equal the stored line byte for byte.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(process.env.TNS_DIST ?? join(here, '..', 'dist'));
const { decodeRecord, sealRecord } = await import(pathToFileURL(join(dist, 'events', 'index.js')).href);
const { readLedgerBatchesSync } = await import(pathToFileURL(join(dist, 'ledger', 'index.js')).href);

const RUNS = 5;
const SAMPLE = Number(process.argv[3] ?? 200_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = (ms, n) => (ms * 1000) / n;

let ledger = process.argv[2];
let cleanup;
if (!ledger) {
  const cache = join(tmpdir(), 'tns-bench');
  const cached = existsSync(cache) ? readdirSync(cache).filter((f) => /^synth-1000000-s1-[0-9a-f]+\.ndjson$/.test(f)) : [];
  if (cached.length > 0) ledger = join(cache, cached[0]);
  else {
    const { writeSynth } = await import(pathToFileURL(join(dist, 'replay', 'synth.js')).href);
    const dir = mkdtempSync(join(tmpdir(), 'tns-events-bench-'));
    ledger = join(dir, 'synth.ndjson');
    writeSynth(ledger, { events: 200_000, seed: 1, fsync: 'never', force: true });
    cleanup = dir;
  }
}

// The sample: the ledger's first SAMPLE lines, parsed once.
const text = readFileSync(ledger, 'utf8');
const lines = [];
for (let s = 0; lines.length < SAMPLE && s < text.length; ) {
  const e = text.indexOf('\n', s);
  if (e < 0) break;
  lines.push(text.slice(s, e));
  s = e + 1;
}
const raws = lines.map((l) => JSON.parse(l));
// Inputs as a producer makes them (fresh plain objects; a rest-destructured object is a slow dictionary one).
const inputs = raws.map(({ v, seq, prev, hash, ...input }) => JSON.parse(JSON.stringify(input)));
const bytes = text.length;
console.log(`events bench: ${ledger} (${(bytes / 1e6).toFixed(0)} MB), sample ${raws.length} records, ${RUNS} runs (median), node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? '?'}, dist ${dist}`);

function timeValidate() {
  const ctx = { file: ledger, line: 0 };
  const t = performance.now();
  for (let i = 0; i < raws.length; i++) {
    ctx.line = i + 1;
    decodeRecord(raws[i], ctx);
  }
  return performance.now() - t;
}

function timeSeal() {
  let prev = raws[0].prev;
  let mismatch = -1;
  const t = performance.now();
  for (let i = 0; i < inputs.length; i++) {
    const { record, line } = sealRecord(inputs[i], raws[i].seq, prev, i);
    if (line !== lines[i] && mismatch < 0) mismatch = i;
    prev = record.hash;
  }
  const ms = performance.now() - t;
  if (mismatch >= 0) throw new Error(`sealed line ${mismatch + 1} differs from the stored one:\n${lines[mismatch]}`);
  return ms;
}

function timeRead(validate) {
  const t = performance.now();
  let n = 0;
  for (const b of readLedgerBatchesSync(ledger, { batchSize: 1000, validate })) n += b.length;
  return { ms: performance.now() - t, n };
}

// Warm up (JIT), then interleave.
timeValidate();
timeSeal();
const v = [];
const s = [];
for (let r = 0; r < RUNS; r++) {
  v.push(us(timeValidate(), raws.length));
  s.push(us(timeSeal(), inputs.length));
}
console.log(`validate (decodeRecord)             ${median(v).toFixed(3)} µs/record  (runs ${v.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`seal (sealRecord, lines identical)  ${median(s).toFixed(3)} µs/record  (runs ${s.map((x) => x.toFixed(3)).join(' ')})`);

const rOff = [];
const rOn = [];
let n = 0;
for (let r = 0; r < 3; r++) {
  const a = timeRead(false);
  const b = timeRead(true);
  n = a.n;
  if (a.n !== b.n) throw new Error(`read ${a.n} vs ${b.n} records`);
  rOff.push(us(a.ms, a.n));
  rOn.push(us(b.ms, b.n));
}
const off = median(rOff);
const on = median(rOn);
console.log(`readLedgerBatchesSync validate:false ${off.toFixed(3)} µs/record  (${n} records; runs ${rOff.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`readLedgerBatchesSync validate:true  ${on.toFixed(3)} µs/record  (runs ${rOn.map((x) => x.toFixed(3)).join(' ')})`);
console.log(`validation on the read path: +${(on - off).toFixed(3)} µs/record, ratio true/false ${(on / off).toFixed(2)} (goal ≤ 1.2)`);
if (cleanup) rmSync(cleanup, { recursive: true, force: true });
