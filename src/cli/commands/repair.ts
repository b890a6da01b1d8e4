/** `tns repair LEDGER`: remove a torn tail (and nothing else). */
import type { Command } from 'commander';
import { printJson, UsageError } from '../errors.js';
import { RepairRefusedError, repairLedger } from '../../ledger/index.js';
import { requireLedger, userErrors } from './replay.js';

export function register(program: Command): void {
  program
    .command('repair')
    .description('Repair a ledger whose last line is torn (a writer killed mid-append): truncate exactly that line. Any other damage is refused and named (FILE:LINE) — no complete record is ever removed.')
    .argument('<ledger>', 'the ledger')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns verify run.ndjson || tns repair run.ndjson

Exit status: 0 repaired or nothing to repair; 1 refused (damage other than a torn tail); 2 bad input, or a writer holds the lock.`,
    )
    .action((ledger: string, o: { json?: boolean }) => {
      requireLedger(ledger);
      let r;
      try {
        r = userErrors(ledger, () => {
          try {
            return repairLedger(ledger, { onWarning: (m) => process.stderr.write(`tns: ${m}\n`) });
          } catch (e) {
            if (e instanceof RepairRefusedError) throw new UsageError(e.message, 1);
            throw e;
          }
        });
      } catch (e) {
        throw e;
      }
      if (o.json) printJson(r);
      else if (r.truncated) process.stdout.write(`${ledger}: removed a torn tail of ${r.removedBytes} byte(s) at line ${r.repaired!.line}; ${r.records} record(s) kept, last seq ${r.lastSeq}\n`);
      else process.stdout.write(`${ledger}: nothing to repair (${r.records} record(s), last seq ${r.lastSeq})\n`);
    });
}
