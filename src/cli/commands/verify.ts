/** `tns verify LEDGER`: the hash chain, then every outcome re-derived with the model (determinism). */
import type { Command } from 'commander';
import { printable, printJson } from '../errors.js';
import { verifyFull } from '../../replay/verify.js';
import { progress, requireLedger, userErrors } from './replay.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('Verify a ledger: every line (JSON, schema, hash), the seq order and the hash chain; then re-derive every model-computed outcome with the kernel model (a difference is a determinism bug). Reports the first bad line.')
    .argument('<ledger>', 'the ledger')
    .option('--no-model', 'check the chain only')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns verify run.ndjson
  tns verify big.ndjson --no-model --json

Exit status: 0 intact; 1 damaged (the first bad line is named: torn tail → tns repair; anything else is corruption)
or a determinism failure; 2 bad input (no such file).`,
    )
    .action((ledger: string, o: { model: boolean; json?: boolean }) => {
      requireLedger(ledger);
      const bar = progress('verify');
      const r = userErrors(ledger, () => verifyFull(ledger, { model: o.model, onProgress: (_p, n) => bar.update(n) }));
      bar.done();
      if (o.json) printJson(r);
      else if (!r.chain.ok) process.stdout.write(`${printable(r.chain.firstBad!.message)}\n`);
      else if (r.model?.firstBad) process.stdout.write(`${printable(r.model.firstBad.message)}\n`);
      else
        process.stdout.write(
          `${ledger}: intact: ${r.chain.records} record(s), last seq ${r.chain.lastSeq}, hash ${r.chain.lastHash.slice(0, 16)}…${r.model ? `; ${r.model.checked} outcome(s) re-derived by the model` : ''}\n`,
        );
      if (!r.ok) process.exitCode = 1;
    });
}
