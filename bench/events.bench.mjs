// Event-layer benchmarks (not tests): validation of parsed records (decodeRecord), sealing of new ones
// (sealRecord: validate + canonical encoding + sha256), and what validation costs a ledger read
// (readLedgerBatchesSync with validate: true vs false on the same file, same run). Medians of RUNS runs, in CPU
// time of this process (user + system: steadier than wall time on a shared machine; wall medians are printed too).
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
// bench/run.mjs passes its arguments to every bench (the others take an event count): a number is the sample size.
const args = process.argv.slice(2);
if (/^\d+$/.test(args[0] ?? '')) args.unshift('');
const SAMPLE = Number(args[1] || 200_000);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const us = (ms, n) => (ms * 1000) / n;

let ledger = args[0] || undefined;
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

/** Run fn; its CPU time (user + system) and wall time in ms. */
function measure(fn) {
  const c = process.cpuUsage();
  const t = performance.now();
  const out = fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { cpu: (u.user + u.system) / 1000, wall, out };
}

function validateParsed() {
  const ctx = { file: ledger, line: 0 };
  for (let i = 0; i < raws.length; i++) {
    ctx.line = i + 1;
    decodeRecord(raws[i], ctx);
  }
}

// The same on records just parsed (hot in cache, as on the read path): parse + decode minus parse.
function parseOnly() {
  let k = 0;
  for (let i = 0; i < lines.length; i++) if (JSON.parse(lines[i]) !== null) k++;
  return k;
}
function parseAndValidate() {
  const ctx = { file: ledger, line: 0 };
  for (let i = 0; i < lines.length; i++) {
    ctx.line = i + 1;
    decodeRecord(JSON.parse(lines[i]), ctx);
  }
}

function seal() {
  let prev = raws[0].prev;
  let mismatch = -1;
  for (let i = 0; i < inputs.length; i++) {
    const { record, line } = sealRecord(inputs[i], raws[i].seq, prev, i);
    if (line !== lines[i] && mismatch < 0) mismatch = i;
    prev = record.hash;
  }
  if (mismatch >= 0) throw new Error(`sealed line ${mismatch + 1} differs from the stored one:\n${lines[mismatch]}`);
}

function read(validate) {
  let n = 0;
  for (const b of readLedgerBatchesSync(ledger, { batchSize: 1000, validate })) n += b.length;
  return n;
}

const fmt = (xs) => xs.map((x) => x.toFixed(3)).join(' ');
const line = (name, cpu, wall) => console.log(`${name.padEnd(38)} ${median(cpu).toFixed(3)} µs/record  (wall ${median(wall).toFixed(3)}; cpu runs ${fmt(cpu)})`);

// Warm up (JIT), then interleave.
validateParsed();
parseOnly();
parseAndValidate();
seal();
const m = { v: [[], []], p: [[], []], pv: [[], []], s: [[], []] };
const add = (k, r, n) => {
  m[k][0].push(us(r.cpu, n));
  m[k][1].push(us(r.wall, n));
};
for (let r = 0; r < RUNS; r++) {
  add('v', measure(validateParsed), raws.length);
  add('p', measure(parseOnly), lines.length);
  add('pv', measure(parseAndValidate), lines.length);
  add('s', measure(seal), inputs.length);
}
line('validate (decodeRecord, parsed records)', ...m.v);
const hot = m.pv.map((xs, j) => xs.map((x, i) => x - m.p[j][i]));
line('validate just-parsed (parse+decode−parse)', ...hot);
line('seal (sealRecord, lines identical)', ...m.s);

const rd = { f: [[], []], t: [[], []] };
let n = 0;
for (let r = 0; r < 3; r++) {
  for (const [k, validate] of [['f', false], ['t', true]]) {
    const x = measure(() => read(validate));
    n = x.out;
    rd[k][0].push(us(x.cpu, n));
    rd[k][1].push(us(x.wall, n));
  }
}
line(`read validate:false (${n} records)`, ...rd.f);
line('read validate:true', ...rd.t);
const off = median(rd.f[0]);
const on = median(rd.t[0]);
console.log(`validation on the read path: +${(on - off).toFixed(3)} µs/record, ratio true/false ${(on / off).toFixed(2)} (goal ≤ 1.2)`);
if (cleanup) rmSync(cleanup, { recursive: true, force: true });
