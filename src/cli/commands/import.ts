/** `tns import strace FILE... -o LEDGER`: strace output → ledger events that keep the source file and line. */
import type { Command } from 'commander';
import { importStrace, LedgerExists } from '../../ingest/record.js';
import { printJson, UsageError } from '../errors.js';
import { inputErrors, profileOption, progress } from './check.js';

export function register(program: Command): void {
  const imp =
    program.commands.find((c) => c.name() === 'import') ??
    program.command('import').description('Turn outside material (strace logs, OCI and LXC configs) into ledger events.');
  imp
    .command('strace')
    .description(
      'strace output (`strace -f [-tt] [-yy] -o FILE`, -ff sets FILE.PID, or a directory of them) → a new ledger: one event per modelled syscall with the real kernel\'s outcome, source file and line; host clock events estimated from the clock readings. Other syscalls are skipped and counted.',
    )
    .argument('<file...>', 'strace output file(s)')
    .requiredOption('-o, --output <ledger>', 'the new ledger')
    .option('--profile <version>', 'kernel profile recorded in the ledger (default 6.3+)')
    .option('--lenient', 'skip malformed lines (counted) instead of failing')
    .option('--force', 'replace an existing ledger')
    .option('--json', 'print the import statistics as JSON')
    .addHelpText('after', '\nExamples:\n  tns import strace run.strace -o run.ledger\n  tns import strace trace.1234 trace.1235 -o run.ledger --lenient')
    .action(async (files: string[], o: { output: string; profile?: string; lenient?: boolean; force?: boolean; json?: boolean }) => {
      const profile = profileOption(o.profile);
      const p = progress('import');
      let r;
      try {
        r = await importStrace(files, o.output, { profile, lenient: o.lenient, force: o.force, onProgress: p.onProgress, onWarning: (m) => process.stderr.write(`tns: ${m}\n`) });
      } catch (e) {
        if (e instanceof LedgerExists) throw new UsageError(e.message);
        inputErrors(e);
      } finally {
        p.done();
      }
      const skipped = Object.values(r.stats.skipped).reduce((a, b) => a + b, 0);
      if (o.json) {
        printJson({ ledger: r.ledger, records: r.records, events: r.events, lines: r.lines, badLines: r.badLines, skipped, skippedByCall: r.stats.skipped, warnings: r.stats.warnings });
        return;
      }
      for (const w of r.stats.warnings.slice(0, 20)) process.stderr.write(`warning: ${w}\n`);
      process.stdout.write(
        `${r.ledger}: ${r.records} records (${r.events} events) from ${r.lines} lines; ${skipped} syscalls skipped` +
          `${r.badLines ? `; ${r.badLines} malformed lines skipped (--lenient)` : ''}\n`,
      );
    });
}
