/** `tns bisect LEDGER --freed NS | --clock-backwards PID`: the first seq where a condition holds. */
import type { Command } from 'commander';
import { printJson, UsageError } from '../errors.js';
import { bisect, clockBackwardsPredicate, freedPredicate, type Predicate } from '../../replay/timetravel.js';
import { renderRecord } from '../../replay/present.js';
import { CLOCK } from '../../kernel/index.js';
import { parseNs, parsePid, parseSeq, progress, openForReading, userErrors } from './replay.js';

export function register(program: Command): void {
  program
    .command('bisect')
    .description('Find the first seq where a condition holds: a namespace is freed (its refcount reached 0), or a task\'s clock goes backwards (its reading through its time namespace is below the one at the previous record).')
    .argument('<ledger>', 'the ledger')
    .option('--freed <ns>', 'the namespace is freed (4026532176 or time:[4026532176]); inode numbers are reused, so the first free after --from counts')
    .option('--clock-backwards <pid>', "the task's clock goes backwards")
    .option('--clock <id>', 'the clock for --clock-backwards (1 CLOCK_MONOTONIC, 7 CLOCK_BOOTTIME, ...)', '1')
    .option('--from <seq>', 'only report a seq at or after this one')
    .option('--json', 'print {seq, record, examined, describe} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns bisect run.ndjson --freed time:[4026532176]
  tns bisect run.ndjson --clock-backwards 4968 --clock 7

Exit status: 0 found; 1 the condition never holds; 2 bad input.`,
    )
    .action((ledger: string, o: { freed?: string; clockBackwards?: string; clock: string; from?: string; json?: boolean }) => {
      if ((o.freed === undefined) === (o.clockBackwards === undefined)) throw new UsageError('give exactly one of --freed NS or --clock-backwards PID');
      let pred: Predicate;
      if (o.freed !== undefined) pred = freedPredicate(parseNs(o.freed));
      else {
        if (!/^\d+$/.test(o.clock) || !(Object.values(CLOCK) as number[]).includes(Number(o.clock)))
          throw new UsageError(`--clock: expected a clock id (${Object.entries(CLOCK).map(([k, v]) => `${v} ${k}`).join(', ')}), got "${o.clock}"`);
        pred = clockBackwardsPredicate(parsePid('--clock-backwards', o.clockBackwards!), Number(o.clock));
      }
      const from = parseSeq('--from', o.from);
      const lastSeq = openForReading(ledger, { records: true });
      if (from !== undefined && lastSeq !== undefined && from > lastSeq) throw new UsageError(`${ledger}: --from ${from} is past the end of the ledger (last seq ${lastSeq})`);
      const bar = progress('bisect');
      const r = userErrors(ledger, () => bisect(ledger, pred, { ...(from !== undefined ? { fromSeq: from } : {}), onProgress: (s) => bar.update(s) }));
      bar.done();
      if (o.json) printJson(r);
      else if (r.seq === null) process.stdout.write(`never: ${r.describe} (${r.examined} records examined)\n`);
      else process.stdout.write(`first at seq ${r.seq}: ${r.describe}\n${renderRecord(r.record!)}\n`);
      if (r.seq === null) process.exitCode = 1;
    });
}
