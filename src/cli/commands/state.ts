/** `tns state LEDGER --at SEQ [--json]`: tasks with T/C, namespaces with refcounts/offsets/frozen/owner, ucounts. */
import type { Command } from 'commander';
import { printJson } from '../errors.js';
import { Timeline } from '../../replay/timetravel.js';
import { renderState, stateReport } from '../../replay/present.js';
import { parseSeq, progress, openForReading, userErrors, warn } from './replay.js';

export function register(program: Command): void {
  program
    .command('state')
    .description('The projected state after a seq: the process tree with each task\'s time namespace (T) and time_for_children (C), every namespace with its refcount (time: offsets, frozen, owner, ucounts charge), and the ucounts.')
    .argument('<ledger>', 'the ledger')
    .requiredOption('--at <seq>', 'the seq (0: the genesis, before any record)')
    .option('--json', 'print the state as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns state run.ndjson --at 42
  tns state run.ndjson --at 42 --json | jq '.namespaces[] | select(.type == "time")'`,
    )
    .action((ledger: string, o: { at: string; json?: boolean }) => {
      const at = parseSeq('--at', o.at)!;
      openForReading(ledger, { records: true });
      const bar = progress('state');
      const s = userErrors(ledger, () => new Timeline(ledger, { onProgress: (q) => bar.update(q), onWarning: warn }).stateAt(at));
      bar.done();
      const r = stateReport(s.seq, s.world, s.kernelNames);
      if (o.json) printJson(r);
      else process.stdout.write(`${renderState(r)}\n`);
    });
}
