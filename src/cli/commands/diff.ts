/** `tns diff LEDGER A B [--json]`: what changed between two seqs. */
import type { Command } from 'commander';
import { printJson, UsageError } from '../errors.js';
import { diffWorlds, Timeline } from '../../replay/timetravel.js';
import { renderDiff } from '../../replay/present.js';
import { parseSeq, progress, openForReading, userErrors, warn } from './replay.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('What changed between the states after seq A and after seq B: tasks added/removed/changed (with T and C), namespaces created/freed, refcounts, offsets, frozen flags, ucounts, host clocks.')
    .argument('<ledger>', 'the ledger')
    .argument('<a>', 'the first seq')
    .argument('<b>', 'the second seq')
    .option('--json', 'print the difference as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns diff run.ndjson 10 11        # what record 11 did
  tns diff run.ndjson 0 500 --json`,
    )
    .action((ledger: string, a: string, b: string, o: { json?: boolean }) => {
      const sa = parseSeq('A', a)!;
      const sb = parseSeq('B', b)!;
      openForReading(ledger, { records: true });
      if (sa === undefined || sb === undefined) throw new UsageError('A and B are seqs');
      const bar = progress('diff');
      const tl = new Timeline(ledger, { onProgress: (q) => bar.update(q), onWarning: warn });
      const [x, y] = userErrors(ledger, () => (sa <= sb ? [tl.stateAt(sa), tl.stateAt(sb)] : [tl.stateAt(sb), tl.stateAt(sa)].reverse()));
      bar.done();
      const d = diffWorlds(x.world, y.world);
      if (o.json) printJson({ from: sa, to: sb, ...d });
      else process.stdout.write(`${renderDiff(sa, sb, d)}\n`);
    });
}
