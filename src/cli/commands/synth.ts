/** `tns synth --events N -o LEDGER [--seed S]`: a large valid random workload. */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { printJson, UsageError } from '../errors.js';
import { writeSynth, SynthTargetError } from '../../replay/synth.js';
import { PROFILES } from '../../kernel/index.js';
import { asUserError } from './replay.js';

export function register(program: Command): void {
  program
    .command('synth')
    .description(
      'Write a large, valid, random workload to a new ledger: many tasks (fork, clone, threads, exec, exit, wait), time namespaces (unshare, offset writes before and after the first entry, setns by nsfs fd and pidfd), offset reads, clock reads, host time passing, and the errors they produce (EACCES, EINVAL, EPERM after setresuid, EUSERS, ENOSPC, EBADF, ECHILD, ERANGE). Every outcome is the model\'s (recorded: false). The same seed gives the same ledger.',
    )
    .requiredOption('--events <n>', 'number of records')
    .requiredOption('-o, --output <ledger>', 'the ledger to write')
    .option('--seed <s>', 'PRNG seed', '1')
    .option('--profile <version>', `kernel profile (${Object.keys(PROFILES).join(', ')})`, '6.3+')
    .option('--fsync <policy>', 'batch (group commit), always, or never', 'batch')
    .option('--force', 'replace an existing ledger')
    .option('--json', 'print {events, lastSeq, bytes, ms} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns synth --events 1000000 -o big.ndjson --seed 42
  tns synth --events 5000 -o small.ndjson --profile 5.6 --force`,
    )
    .action((o: { events: string; output: string; seed: string; profile: string; fsync: string; force?: boolean; json?: boolean }) => {
      if (!/^\d+$/.test(o.events) || Number(o.events) < 1 || !Number.isSafeInteger(Number(o.events)))
        throw new UsageError(`--events: expected an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got "${o.events}"`);
      // The PRNG takes a 32-bit seed: a larger one would silently give the ledger of another (seed mod 2^32).
      if (!/^\d+$/.test(o.seed) || Number(o.seed) > 0xffffffff) throw new UsageError(`--seed: expected an integer from 0 to 4294967295, got "${o.seed}"`);
      if (!(o.profile in PROFILES)) throw new UsageError(`--profile: unknown profile "${o.profile}" (one of: ${Object.keys(PROFILES).join(', ')})`);
      if (!['batch', 'always', 'never'].includes(o.fsync)) throw new UsageError(`--fsync: expected batch, always or never, got "${o.fsync}"`);
      // (--force on a directory would otherwise get as far as an rm of it.)
      if (existsSync(o.output) && !statSync(o.output).isFile()) throw new UsageError(`${o.output}: not a regular file`);
      const tty = process.stderr.isTTY;
      let last = 0;
      let r;
      try {
        r = writeSynth(o.output, {
          events: Number(o.events),
          seed: Number(o.seed),
          profile: o.profile,
          fsync: o.fsync as 'batch' | 'always' | 'never',
          force: o.force === true,
          onWarning: (m) => process.stderr.write(`tns: ${m}\n`),
          onProgress: (n, total) => {
            if (!tty || Date.now() - last < 100) return;
            last = Date.now();
            process.stderr.write(`\rsynth: ${n}/${total} records   `);
          },
        });
      } catch (e) {
        if (e instanceof SynthTargetError) throw new UsageError(e.message);
        throw asUserError(o.output, e);
      }
      if (tty && last > 0) process.stderr.write('\r\x1b[K');
      if (o.json) printJson(r);
      else process.stdout.write(`${o.output}: ${r.events} record(s), ${r.bytes} bytes, in ${(r.ms / 1000).toFixed(1)} s (${Math.round((r.events / r.ms) * 1000)} records/s)\n`);
    });
}
