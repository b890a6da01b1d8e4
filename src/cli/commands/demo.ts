/** `tns demo [DIR]`: the CRIU migration scenario end to end, told as a short story, with ledgers to explore. */
import type { Command } from 'commander';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printJson, UsageError } from '../errors.js';
import { demoStory, runDemo } from '../../scenario/demo.js';
import { writeScenarioLedgers } from './scenario.js';
import { worldAtSeq } from '../../replay/checkpoint.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Run the CRIU migration scenario (replay/migration-chain.tns) into ledgers and tell what happened to the clocks.')
    .argument('[dir]', 'folder for the ledgers (default: a new temporary folder)')
    .option('--json', 'print the data (namespaces, offsets, proof, samples, ledgers) as JSON')
    .option('--color', 'colour the plot (ANSI)')
    .option('--force', 'overwrite ledgers already in DIR')
    .addHelpText('after', '\nExamples:\n  tns demo\n  tns demo /tmp/tns-demo && tns log /tmp/tns-demo/hostA.ndjson')
    .action((dir: string | undefined, o: { json?: boolean; color?: boolean; force?: boolean }) => {
      const folder = dir ? resolve(dir) : mkdtempSync(join(tmpdir(), 'tns-demo-'));
      try {
        mkdirSync(folder, { recursive: true });
      } catch (e) {
        throw new UsageError(`${folder}: ${(e as Error).message}`);
      }
      const d = runDemo();
      const written = writeScenarioLedgers(d.run, (machine) => join(folder, `${machine}.ndjson`), o.force);
      // Each ledger is replayed through the projection: the model must re-derive every outcome it stored.
      const ledgers = written.map((w) => ({
        machine: w.machine,
        path: w.path,
        events: w.events,
        checkpointSeq: Object.values(w.checkpoints)[0],
        divergences: worldAtSeq(w.path, w.events).divergences.length,
      }));
      if (o.json) {
        printJson({
          scenario: d.scenario,
          ok: d.run.ok,
          container: d.container,
          checkpoints: Object.entries(d.run.images).map(([name, img]) => ({ name, root: img.root, timens: img.timens, criu: img.criu })),
          restores: d.run.machines
            .filter((m) => m.restoredFrom)
            .map((m) => {
              const r = m.restoredFrom!.result;
              return {
                machine: m.name,
                image: m.restoredFrom!.image,
                host: m.options.host,
                ok: r.ok,
                ...(r.ok ? { policy: r.policy, namespaces: r.namespaces, proof: r.proof } : { error: r.error }),
              };
            }),
          samples: d.samples,
          ledgers,
        });
      } else process.stdout.write(`${demoStory(d, { ledgers, color: o.color })}\n`);
      if (!d.run.ok || ledgers.some((l) => l.divergences > 0)) process.exitCode = 1;
    });
}
