// Replay benchmarks (not tests): a ledger written by synth, replayed with the projection vs a raw readline +
// JSON.parse of the same file in the same run (medians of 3); seeks to random seqs through the index and the
// snapshots; and (TNS_BENCH_10M=1) the RSS of replaying 10,000,000 events.
//
// Run: npm run build && node bench/replay.bench.mjs [EVENTS]        (default 1,000,000)
//      TNS_BENCH_10M=1 node bench/replay.bench.mjs                    (adds the 10M memory run: ~15 min here)
// The synth ledgers are cached in $TMPDIR/tns-bench/ (keyed by the compiled kernel and synth code).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ledgerInfo, readLedgerBatchesSync } from '../dist/ledger/index.js';
import { writeSynth } from '../dist/replay/synth.js';
import { Projector } from '../dist/replay/project.js';
import { Timeline } from '../dist/replay/timetravel.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// Child mode: replay one ledger with snapshots on disk and print the peak RSS.
if (process.argv[2] === '--rss') {
  const path = process.argv[3];
  let peak = process.memoryUsage().rss;
  const t = performance.now();
  const tl = new Timeline(path, { snapshotEvery: 100_000, useSnapshots: false, onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
  const s = tl.stateAt('end');
  peak = Math.max(peak, process.memoryUsage().rss);
  const secs = (performance.now() - t) / 1000;
  console.log(`${s.seq.toLocaleString('en-US')} events in ${secs.toFixed(0)} s (${Math.round(s.seq / secs).toLocaleString('en-US')} events/s), peak RSS ${(peak / 1048576).toFixed(0)} MiB (goal < 300 MiB), ${s.divergences.length} divergences`);
  process.exit(0);
}

const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 3;
const SEEKS = 100;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/** A cache key: the compiled kernel + synth + events code (a changed model makes a new ledger). */
function codeKey() {
  const h = createHash('sha256');
  for (const d of ['kernel', 'events']) for (const f of readdirSync(join(root, 'dist', d)).filter((x) => x.endsWith('.js')).sort()) h.update(readFileSync(join(root, 'dist', d, f)));
  h.update(readFileSync(join(root, 'dist', 'replay', 'synth.js')));
  return h.digest('hex').slice(0, 12);
}

function synthLedger(n, seed) {
  const dir = join(tmpdir(), 'tns-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `synth-${n}-s${seed}-${codeKey()}.ndjson`);
  if (existsSync(path) && ledgerInfo(path).lastSeq === n) return { path, made: null };
  for (const f of readdirSync(dir)) if (f.startsWith(`synth-${n}-s${seed}-`)) rmSync(join(dir, f), { recursive: true, force: true });
  const r = writeSynth(path, { events: n, seed, fsync: 'never', force: true });
  return { path, made: r };
}

async function rawParse(path) {
  const t = performance.now();
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    JSON.parse(line);
    n++;
  }
  return { n, s: (performance.now() - t) / 1000 };
}

/** The records through a Projector: a state (one immer produce) per `batch` records, or only at the end (advance). */
function replay(path, engine, validate, batch, statePerBatch) {
  const t = performance.now();
  const p = new Projector({ engine });
  let n = 0;
  for (const b of readLedgerBatchesSync(path, { batchSize: batch, validate })) {
    if (statePerBatch) p.step(b);
    else p.advance(b);
    n += b.length;
  }
  p.materialize();
  return { n, s: (performance.now() - t) / 1000, divergences: p.divergences.length };
}

/** What `tns replay LEDGER --snapshot-every K` does: Timeline.stateAt('end') from the genesis (validated, shadow engine). */
function timelineReplay(path, snapshotEvery, readingThread = 'auto') {
  if (snapshotEvery > 0) rmSync(`${path}.snap`, { recursive: true, force: true });
  const t = performance.now();
  const s = new Timeline(path, { snapshotEvery, useSnapshots: false, readingThread }).stateAt('end');
  return { n: s.seq, s: (performance.now() - t) / 1000, divergences: s.divergences.length };
}

console.log(`replay bench: ${fmt(N)} events, ${RUNS} runs (median), node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? '?'}`);
const { path, made } = synthLedger(N, 1);
if (made) console.log(`synth: wrote ${fmt(made.events)} records (${(made.bytes / 1048576).toFixed(0)} MiB) in ${(made.ms / 1000).toFixed(1)} s = ${fmt(made.events / (made.ms / 1000))} records/s (fsync never; the model computes every outcome)`);
else console.log(`synth: reusing ${path}`);

/** `tns replay`'s default --snapshot-every. */
const K = 2000;
const snapDir = `${path}.snap`;
const snapStats = () => {
  const fs = existsSync(snapDir) ? readdirSync(snapDir).filter((f) => f.endsWith('.json')) : [];
  return `${fs.length} snapshots, ${(fs.reduce((a, f) => a + statSync(join(snapDir, f)).size, 0) / 1048576).toFixed(1)} MiB`;
};
const rows = [];
// The headline pair, interleaved (raw, replay, raw, replay, ...) so that the machine's drift (±30% over minutes
// here) falls on both alike: medians of PAIRS runs each, and the spread of the per-pair ratios.
const PAIRS = 5;
const raw = [];
const headline = [];
for (let i = 0; i < PAIRS; i++) {
  raw.push(await rawParse(path));
  headline.push(timelineReplay(path, 0));
}
const rawRate = N / median(raw.map((r) => r.s));
const pairRatios = raw.map((r, i) => r.s / headline[i].s);
rows.push([`raw readline + JSON.parse (${PAIRS} runs)`, fmt(rawRate), '1.00', '']);
rows.push([
  `tns replay --snapshot-every 0 (validated; interleaved with raw, pair ratios ${Math.min(...pairRatios).toFixed(2)}–${Math.max(...pairRatios).toFixed(2)})`,
  fmt(N / median(headline.map((r) => r.s))),
  (N / median(headline.map((r) => r.s)) / rawRate).toFixed(2),
  String(headline[0].divergences),
]);
for (let [name, fn, reps] of [
  ['the same, reading on the replaying thread (readingThread: false)', () => timelineReplay(path, 0, false), RUNS],
  ['tns replay --snapshot-every 1000', () => timelineReplay(path, 1000), 1],
  // Last of the snapshot-writing rows: its snapshots are the ones the seeks below use.
  [`tns replay (default: + a snapshot every ${K})`, () => timelineReplay(path, K), 1],
  ['Projector shadow, validated, a state per 8192', () => replay(path, 'shadow', true, 8192, true), RUNS],
  ['Projector shadow, validated, a state per 1000', () => replay(path, 'shadow', true, 1000, true), RUNS],
  ['Projector shadow, trusted read, state at the end', () => replay(path, 'shadow', false, 8192, false), RUNS],
  ['Projector mutable, trusted read (final state only)', () => replay(path, 'mutable', false, 8192, false), RUNS],
  ['Projector draft (apply on immer drafts), a state per 1000', () => replay(path, 'draft', false, 1000, true), 1],
]) {
  const runs = [];
  for (let i = 0; i < reps; i++) runs.push(fn());
  if (name.startsWith('tns replay') && !name.includes('every 0')) name += ` [${snapStats()}]`;
  const r = N / median(runs.map((x) => x.s));
  rows.push([name + (reps === 1 ? ' (1 run)' : ''), fmt(r), (r / rawRate).toFixed(2), String(runs[0].divergences)]);
}

// Seeks: snapshots every K records (left by the default replay above, or made by one forward replay, not timed),
// then a fresh Timeline per seek.
const have = existsSync(snapDir) ? readdirSync(snapDir).filter((f) => f.endsWith('.json')).length : 0;
if (have < Math.floor(N / K)) {
  const t = performance.now();
  new Timeline(path, { snapshotEvery: K }).stateAt(N);
  console.log(`snapshots: wrote every ${K} records in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const seekMs = [];
for (let i = 0; i < SEEKS; i++) {
  const seq = 1 + Math.floor(rnd() * N);
  const t = performance.now();
  const s = new Timeline(path, { snapshotEvery: 0 }).stateAt(seq);
  seekMs.push(performance.now() - t);
  if (s.seq !== seq) throw new Error(`seek to ${seq} gave ${s.seq}`);
}

console.log('');
const w = [92, 12, 14, 13];
console.log(['', 'events/s', 'ratio vs raw', 'divergences'].map((c, i) => (i === 0 ? c.padEnd(w[0]) : c.padStart(w[i]))).join(''));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[0]) : c.padStart(w[i]))).join(''));
console.log('');
console.log(`seek to ${SEEKS} random seqs (index + snapshot every ${K} + forward replay): p50 ${median(seekMs).toFixed(1)} ms, p90 ${pct(seekMs, 0.9).toFixed(1)} ms, max ${Math.max(...seekMs).toFixed(1)} ms (goal p50 ≤ 20 ms)`);
console.log(`floor: replay/raw ≥ 0.5, goal 0.8`);

if (process.env.TNS_BENCH_10M === '1') {
  const M = 10_000_000;
  const big = synthLedger(M, 2);
  if (big.made) console.log(`\nsynth 10M: ${(big.made.ms / 1000).toFixed(0)} s`);
  // In a child process so its RSS is the replay's own.
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--rss', big.path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(`\n10M replay: ${child.stdout}`);
} else console.log('\n(10M memory run skipped: TNS_BENCH_10M=1 to run it)');
