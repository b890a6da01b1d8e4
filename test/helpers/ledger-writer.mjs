// A ledger writer child for the kill -9 tests: appends deterministic records to a ledger forever.
// argv: <compiled ledger module dir> <ledger path> <batchSize> <fsync> <noteBytes>
// stdout: "ready <lastSeq>" after opening, then "durable <seq> [<hash>]" after each group commit (the hash of that
// record when nothing is buffered after it, i.e. it is the last record appended).
// Record n (seq n) is always the same event, so the parent can check every surviving record exactly.
const [, , modDir, path, batchSizeArg, fsync, noteBytesArg] = process.argv;
const { openLedger } = await import(`${modDir}/ledger/index.js`);
const { expectedEvent } = await import(`${modDir}/../ledger-fixture.mjs`);
const batchSize = Number(batchSizeArg);
const noteBytes = Number(noteBytesArg);
const w = openLedger(path, { create: true, fsync, batchSize, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) });
process.stdout.write(`ready ${w.lastSeq}\n`);
let durable = w.durableSeq;
for (;;) {
  const seq = w.lastSeq + 1;
  w.append(expectedEvent(seq, noteBytes), { expectedLastSeq: seq - 1 });
  if (w.durableSeq !== durable) {
    durable = w.durableSeq;
    process.stdout.write(durable === w.lastSeq ? `durable ${durable} ${w.lastHash}\n` : `durable ${durable}\n`);
  }
}
