/** `tns repair LEDGER`: remove a torn tail (and nothing else). */
import type { Command } from 'commander';
import { printJson, UsageError } from '../errors.js';
import { indexPathOf, lockPathOf, RepairRefusedError, repairLedger } from '../../ledger/index.js';
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
            if (e instanceof RepairRefusedError) {
              // Records the index saw are gone from the end of the log: there is nothing to cut, and "cut it by
              // hand" would be wrong advice. The loss can only be undone from a copy, or accepted.
              if (e.reason === 'truncated')
                throw new UsageError(
                  `${e.fault.message.split(' — ')[0]} — records are missing from the end, not torn: restore the ledger from a copy, or accept the loss by deleting ${indexPathOf(ledger)} (the index that remembers them)`,
                  1,
                );
              throw new UsageError(e.message, 1);
            }
            const err = e as NodeJS.ErrnoException;
            // Taking the lock writes next to the ledger: a read-only directory fails there (on a temporary file).
            if (typeof err?.code === 'string' && typeof err.path === 'string' && err.path.startsWith(lockPathOf(ledger)))
              throw new UsageError(`${ledger}: cannot take the writer lock ${lockPathOf(ledger)} (${err.code}: ${err.message.split(', ')[0].replace(/^[A-Z]+: /, '')}); nothing was changed`);
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
