// Ledger benchmarks: append throughput with group commit vs a raw appendFileSync of the same bytes, and read
// throughput vs a raw readline + JSON.parse of the same file. Medians of 3 runs; ratios = ledger / raw throughput.
// The writer's own cost per record (staging the sealed lines, the group-commit writes) is append with fsync 'never'
// minus sealRecord of the same events (validate + canonical encoding + sha256), timed back to back in each run.
// Run: npm run build && node bench/ledger.bench.mjs [EVENTS]   (default 200000)
import { appendFileSync, createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { openLedger, readLedger, readLedgerBatchesSync, verifyLedger } from '../dist/ledger/index.js';
import { EXAMPLES, ZERO_HASH, sealRecord } from '../dist/events/index.js';

const N = Number(process.argv[2] ?? 200_000);
const BATCH = 1000;
const RUNS = 3;
const dir = mkdtempSync(join(tmpdir(), 'tns-ledger-bench-'));

// A workload shaped like a real one: every event type, varying pids and values.
const examples = Object.values(EXAMPLES);
function event(i) {
  const ex = examples[i % examples.length];
  const op = { ...ex.op };
  if ('tid' in op) op.tid = 1 + (i % 5000);
  return { ...ex, op, ...(ex.pid !== undefined ? { pid: 1 + (i % 5000) } : {}) };
}
const events = Array.from({ length: N }, (_, i) => event(i));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const timeAsync = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const rate = (n, s) => `${(n / s / 1e3).toFixed(0)} k/s`;

function appendLedger(path, fsync) {
  rmSync(path, { force: true });
  const w = openLedger(path, { create: true, fsync, batchSize: BATCH });
  for (let i = 0; i < N; i += BATCH) w.append(events.slice(i, i + BATCH));
  w.close();
}

const results = [];
function report(name, n, secs, rawSecs) {
  const m = median(secs);
  const line = { name, median_s: +m.toFixed(3), throughput: rate(n, m) };
  if (rawSecs) line.ratio_vs_raw = +(median(rawSecs) / m).toFixed(2);
  results.push(line);
  console.log(`${name.padEnd(44)} ${m.toFixed(3)} s  ${rate(n, m).padStart(9)}${line.ratio_vs_raw !== undefined ? `  ratio ${line.ratio_vs_raw}` : ''}`);
}

console.log(`ledger bench: ${N} events, batch ${BATCH}, ${RUNS} runs (median), node ${process.version}, ${cpus().length}× ${cpus()[0]?.model ?? '?'}`);

// --- append ----------------------------------------------------------------------------------------------------
const ledger = join(dir, 'bench.ndjson');
appendLedger(ledger, 'never');
const bytes = readFileSync(ledger);
const chunks = [];
for (let s = 0, lines = 0, i = 0; i <= bytes.length; i++) {
  if (i === bytes.length || (bytes[i] === 10 && ++lines === BATCH)) {
    if (i > s) chunks.push(bytes.subarray(s, Math.min(i + 1, bytes.length)));
    s = i + 1;
    lines = 0;
  }
}
console.log(`file: ${(bytes.length / 1e6).toFixed(1)} MB, ${(bytes.length / N).toFixed(0)} bytes/record`);
const raw = join(dir, 'raw.ndjson');
const rawAppend = [];
const ledgerBatch = [];
const ledgerNever = [];
const ledgerAlways = [];
const sealOnly = [];
const writerOnly = [];
function sealAll() {
  let prev = ZERO_HASH;
  for (let i = 0; i < N; i++) prev = sealRecord(events[i], i + 1, prev).record.hash;
}
for (let r = 0; r < RUNS; r++) {
  rmSync(raw, { force: true });
  rawAppend.push(time(() => {
    for (const c of chunks) appendFileSync(raw, c);
  }));
  ledgerBatch.push(time(() => appendLedger(ledger, 'batch')));
  ledgerNever.push(time(() => appendLedger(ledger, 'never')));
  ledgerAlways.push(time(() => appendLedger(ledger, 'always')));
  sealOnly.push(time(sealAll));
  const never = time(() => appendLedger(ledger, 'never'));
  writerOnly.push(never - sealOnly[r]);
}
if (!readFileSync(raw).equals(readFileSync(ledger))) throw new Error('raw and ledger bytes differ');
report('raw appendFileSync (same bytes, per batch)', N, rawAppend);
report("ledger append, fsync 'batch' (group commit)", N, ledgerBatch, rawAppend);
report("ledger append, fsync 'never'", N, ledgerNever, rawAppend);
report("ledger append, fsync 'always' (1 call=1 batch)", N, ledgerAlways, rawAppend);
report('sealRecord alone (validate, encode, sha256)', N, sealOnly);
const usPer = (secs) => +((median(secs) / N) * 1e6).toFixed(2);
const perRecord = { seal_us: usPer(sealOnly), append_never_us: usPer(ledgerNever), writer_only_us: usPer(writerOnly), raw_us: usPer(rawAppend) };
results.push({ name: 'per record (µs)', ...perRecord });
console.log(`per record: seal ${perRecord.seal_us} µs, append 'never' ${perRecord.append_never_us} µs, writer's own (append − seal, median of per-run differences) ${perRecord.writer_only_us} µs, raw append ${perRecord.raw_us} µs`);

// --- read ------------------------------------------------------------------------------------------------------
async function rawRead() {
  let n = 0;
  const rl = createInterface({ input: createReadStream(ledger), crlfDelay: Infinity });
  for await (const line of rl) if (JSON.parse(line)) n++;
  if (n !== N) throw new Error(`raw read ${n}`);
}
const rawReads = [];
const fastNoCheck = [];
const fastChecked = [];
const asyncRecords = [];
const verifies = [];
for (let r = 0; r < RUNS; r++) {
  rawReads.push(await timeAsync(rawRead));
  fastNoCheck.push(time(() => {
    let n = 0;
    for (const b of readLedgerBatchesSync(ledger, { validate: false, chain: false })) n += b.length;
    if (n !== N) throw new Error('count');
  }));
  fastChecked.push(time(() => {
    let n = 0;
    for (const b of readLedgerBatchesSync(ledger)) n += b.length;
    if (n !== N) throw new Error('count');
  }));
  asyncRecords.push(await timeAsync(async () => {
    let n = 0;
    for await (const _ of readLedger(ledger)) n++;
    if (n !== N) throw new Error('count');
  }));
  verifies.push(time(() => {
    if (!verifyLedger(ledger).ok) throw new Error('verify');
  }));
}
report('raw readline + JSON.parse', N, rawReads);
report('readLedgerBatchesSync, no checks', N, fastNoCheck, rawReads);
report('readLedgerBatchesSync, validate + chain', N, fastChecked, rawReads);
report('readLedger (async, one by one, validated)', N, asyncRecords, rawReads);
report('verifyLedger (validate + chain + sha256)', N, verifies, rawReads);

console.log(JSON.stringify({ bench: 'ledger', events: N, bytes: statSync(ledger).size, results }));
rmSync(dir, { recursive: true, force: true });
