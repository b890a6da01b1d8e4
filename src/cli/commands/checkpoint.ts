/** `tns checkpoint LEDGER --at SEQ|line:N --pid PID -o IMAGE`: the tree rooted at PID as it was at that point. */
import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { printJson, UsageError } from '../errors.js';
import { checkpointLedger, CheckpointError, parseAt } from '../../replay/checkpoint.js';
import { LedgerError } from '../../ledger/index.js';
import { formatTs } from '../../scenario/values.js';
import { table } from '../render/table.js';
import { requireLedger } from './replay.js';

export function register(program: Command): void {
  program
    .command('checkpoint')
    .description(
      'Checkpoint the process tree rooted at PID as it was at a point of the ledger: tasks, threads, credentials, namespaces, and for each time namespace its offsets and clock values D (like CRIU\'s timens.img). Appends a marker.checkpoint to the ledger.',
    )
    .argument('<ledger>', 'the ledger')
    .requiredOption('--at <point>', 'a seq, or line:N = right after line N of the trace the ledger was imported from (line:FILE:N for one of several files)')
    .requiredOption('--pid <pid>', 'the root of the tree to capture')
    .requiredOption('-o, --output <image>', 'where to write the image (JSON, schema events/checkpoint-image.schema.json)')
    .option('--no-marker', 'do not append a marker.checkpoint to the ledger')
    .option('--force', 'overwrite an existing image file')
    .option('--json', 'print the image as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns checkpoint run.ndjson --at 42 --pid 4968 -o img.json
  tns checkpoint run.ndjson --at line:117 --pid 4968 -o img.json     # right after trace line 117
  tns restore img.json --host-monotonic 120 --host-boottime 120`,
    )
    .action((ledger: string, o: { at: string; pid: string; output: string; marker: boolean; force?: boolean; json?: boolean }) => {
      const at = parseAt(o.at);
      if (!at) throw new UsageError(`--at: expected a seq or line:N, got "${o.at}"`);
      if (!/^\d+$/.test(o.pid) || Number(o.pid) < 1) throw new UsageError(`--pid: expected a pid, got "${o.pid}"`);
      if (existsSync(o.output) && !o.force) throw new UsageError(`${o.output} already exists (--force to replace it)`);
      requireLedger(ledger); // (a FIFO: refused at once, not a blocked open)
      let r;
      try {
        r = checkpointLedger(ledger, at, Number(o.pid), { imagePath: o.output, appendMarker: o.marker });
      } catch (e) {
        if (e instanceof CheckpointError) throw new UsageError(e.message);
        if (e instanceof LedgerError) throw new UsageError(e.message.startsWith(ledger) ? e.message : `${ledger}: ${e.message}`);
        throw e;
      }
      writeFileSync(o.output, `${JSON.stringify(r.image, null, 2)}\n`);
      for (const n of r.image.criu.refusals) process.stderr.write(`tns: note: CRIU would refuse this tree: ${n}\n`);
      for (const n of r.image.notes) process.stderr.write(`tns: note: ${n}\n`);
      if (r.divergences.length)
        process.stderr.write(`tns: note: ${r.divergences.length} recorded outcome(s) up to seq ${r.seq} differ from the model (the recorded ones were used); see tns check\n`);
      if (o.json) {
        printJson(r.image);
        return;
      }
      const img = r.image;
      const out = [
        `checkpoint of pid ${img.root} at seq ${r.seq}${img.source.line !== undefined ? ` (right after line ${img.source.line})` : ''}: ${img.tasks.length} task(s), ${img.timens.length} time namespace(s) → ${o.output}`,
        table(
          ['time namespace', 'frozen', 'offset monotonic', 'offset boottime', 'D monotonic', 'D boottime', 'tasks'],
          img.timens.map((n) => [
            `time:[${n.id}]${n.initial ? ' (initial)' : ''}`,
            n.frozen ? 'yes' : 'no',
            formatTs(n.offsets.monotonic),
            formatTs(n.offsets.boottime),
            formatTs(n.monotonic),
            formatTs(n.boottime),
            [...n.tasks, ...n.pendingFor.map((t) => `${t}(for children)`)].join(','),
          ]),
          { right: [2, 3, 4, 5] },
        ),
        `CRIU: ${img.criu.accepts ? 'accepts this tree' : 'refuses this tree (tns captured it anyway)'}`,
        r.markerSeq !== null ? `marker.checkpoint appended to ${ledger} at seq ${r.markerSeq}` : 'no marker appended',
      ];
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
