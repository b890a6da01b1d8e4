/** `tns record [-o LEDGER] [--profile VERSION] -- CMD ARGS...`: run under strace, import, check. */
import type { Command } from 'commander';
import { rmSync } from 'node:fs';
import { checkTrace } from '../../ingest/check.js';
import { importStrace, ownModelCaps, recordUnderStrace, StraceMissing, LedgerExists, straceArgs } from '../../ingest/record.js';
import { UsageError } from '../errors.js';
import { inputErrors, profileOption, renderCheck } from './check.js';

export function register(program: Command): void {
  program
    .command('record')
    .description(
      `Run CMD under strace (${straceArgs('TMP', ['CMD']).slice(0, -3).join(' ')}), then import the trace and check it against the model. Exit 0: no divergence; 1: divergences; 2: usage (e.g. strace missing).`,
    )
    .argument('<cmd...>', 'the command and its arguments (after --)')
    .option('-o, --output <ledger>', 'also write the imported events to this new ledger')
    .option('--profile <version>', 'kernel profile to check against (default 6.3+)')
    .option('--keep-trace <file>', 'keep the strace output (default: removed)')
    .option('--force', 'replace an existing ledger')
    .option('--json', 'print the check as JSON')
    .addHelpText('after', '\nExamples:\n  tns record -- unshare --time --fork --monotonic 100 cat /proc/uptime\n  tns record -o run.ledger -- ./my-runtime start')
    .action(async (cmd: string[], o: { output?: string; profile?: string; keepTrace?: string; force?: boolean; json?: boolean }) => {
      const profile = profileOption(o.profile);
      let run;
      try {
        run = await recordUnderStrace(cmd);
      } catch (e) {
        if (e instanceof StraceMissing) throw new UsageError(e.message);
        throw e;
      }
      const spawnCaps = ownModelCaps();
      const uid = process.getuid?.() ?? 0;
      try {
        if (o.output) await importStrace([run.trace], o.output, { profile, force: o.force, spawnCaps, uid, onWarning: (m) => process.stderr.write(`tns: ${m}\n`) });
        const r = await checkTrace([run.trace], { profile, spawnCaps, uid });
        if (!o.json)
          process.stderr.write(`tns: ${cmd.join(' ')} exited ${run.signal ? `by ${run.signal}` : `with ${run.status}`}\n`);
        process.exitCode = renderCheck(r, o.json ?? false);
      } catch (e) {
        if (e instanceof LedgerExists) throw new UsageError(e.message);
        inputErrors(e);
      } finally {
        if (o.keepTrace) {
          const { copyFileSync } = await import('node:fs');
          copyFileSync(run.trace, o.keepTrace);
        }
        rmSync(run.dir, { recursive: true, force: true });
      }
    });
}
