/** `tns why LEDGER NS [--at SEQ] [--json]`: who keeps a namespace alive, and the records that changed its refcount. */
import type { Command } from 'commander';
import { printJson } from '../errors.js';
import { why } from '../../replay/timetravel.js';
import { renderWhy } from '../../replay/present.js';
import { parseNs, parseSeq, progress, openForReading, userErrors } from './replay.js';

export function register(program: Command): void {
  program
    .command('why')
    .description('Provenance of a namespace at a seq: its holders (nsproxy slots, nsfs files, credentials, owned namespaces, the initial reference) and every record that changed its refcount, with seq, source line, call and delta.')
    .argument('<ledger>', 'the ledger')
    .argument('<ns>', 'the namespace: 4026532176 or time:[4026532176]')
    .option('--at <seq>', 'at this seq (default: the end)')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns why run.ndjson time:[4026532176]
  tns why run.ndjson 4026532176 --at 120 --json

The number is the model's (as tns state shows it), or — in a ledger imported from a trace — the traced kernel's,
as the trace's readlink of /proc/PID/ns/time showed it. A type, when given, must match. Exit 1 when no namespace
of that number (and type) exists up to that seq.`,
    )
    .action((ledger: string, nsArg: string, o: { at?: string; json?: boolean }) => {
      const name = parseNs(nsArg);
      const at = parseSeq('--at', o.at);
      openForReading(ledger, { records: true });
      const bar = progress('why');
      const r = userErrors(ledger, () => why(ledger, name, at, { onProgress: (s) => bar.update(s) }));
      bar.done();
      if (o.json) printJson(r);
      else process.stdout.write(`${renderWhy(r)}\n`);
      // No namespace of that number (and type) up to that seq: the answer is "no such namespace".
      if (!r.seen) process.exitCode = 1;
    });
}
