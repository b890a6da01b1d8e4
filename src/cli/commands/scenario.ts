/** `tns scenario run FILE` and `tns scenario list`: the scenario language and the library under replay/. */
import type { Command } from 'commander';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, printJson, UsageError } from '../errors.js';
import { parseScenario, ScenarioError } from '../../scenario/parse.js';
import { runScenarioText, type RunResult } from '../../scenario/run.js';
import { libraryDir } from '../../scenario/demo.js';
import { machineRecords } from '../../scenario/records.js';
import { LedgerExistsError, machineLedgerPath, writeNewLedger } from '../../scenario/ledger-io.js';

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(path, null, err.code === 'ENOENT' ? 'no such file' : err.message);
  }
}

/** Run a scenario file; ScenarioError becomes an InputError (file:line: message, exit 2). */
export function runScenarioFile(path: string, profile?: string, showPartial = false): RunResult {
  const text = readText(path);
  try {
    return runScenarioText(text, path, profile ? { profile } : {});
  } catch (e) {
    if (e instanceof ScenarioError) {
      // What ran before the error is still worth showing (e.g. the FAIL that made a later name unbound).
      const partial = e.partial as RunResult | undefined;
      if (showPartial && partial?.results.length)
        process.stdout.write(`${partial.results.map((x) => `${x.ok ? 'ok  ' : 'FAIL'} ${path}:${x.line} [${x.machine}] ${x.text}${x.ok ? '' : `\n       ${x.detail}`}`).join('\n')}\n(stopped)\n`);
      throw new InputError(e.file, e.line, e.detail);
    }
    throw e;
  }
}

/** Write one ledger per machine; returns what was written. */
export function writeScenarioLedgers(
  r: RunResult,
  out: string | ((machine: string, index: number) => string),
  force = false,
): { machine: string; path: string; events: number; checkpoints: Record<string, number> }[] {
  return r.machines.map((m, i) => {
    const path = typeof out === 'string' ? machineLedgerPath(out, i, m.name) : out(m.name, i);
    const { records, checkpoints } = machineRecords(m, r.scenario.file);
    try {
      return { machine: m.name, path, events: writeNewLedger(path, records, { force, onWarning: (m) => process.stderr.write(`tns: ${m}\n`) }), checkpoints };
    } catch (e) {
      if (e instanceof LedgerExistsError) throw new UsageError(e.message);
      throw e;
    }
  });
}

export function register(program: Command): void {
  const sc = program
    .command('scenario')
    .description('Scenarios: a human-written list of tasks, syscalls and expectations, run against the kernel model (see replay/README.md).');
  sc.command('run')
    .description('Run a scenario file and report every expectation (exit 1 when one fails, 2 on bad input).')
    .argument('<file>', 'a scenario file (.tns)')
    .option('-o, --output <ledger>', 'write the events to this ledger (one more ledger per restored host: NAME.<host>.ndjson)')
    .option('--profile <version>', 'run under this kernel profile instead of the scenario\'s (e.g. 5.6, 6.1, 6.3+)')
    .option('--force', 'overwrite existing ledgers')
    .option('--json', 'print the results as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns scenario run replay/criu-restore-fresh-host.tns
  tns scenario run replay/unshare-time-6.3.tns --profile 5.6      # what changes on the first kernel with time namespaces
  tns scenario run replay/migration-chain.tns -o /tmp/chain.ndjson # ledgers /tmp/chain.ndjson, /tmp/chain.hostB.ndjson, ...`,
    )
    .action((file: string, o: { output?: string; profile?: string; json?: boolean; force?: boolean }) => {
      const r = runScenarioFile(file, o.profile, !o.json);
      const ledgers = o.output ? writeScenarioLedgers(r, o.output, o.force) : [];
      const failed = r.results.filter((x) => !x.ok);
      if (o.json) {
        printJson({
          file,
          title: r.scenario.title ?? null,
          shows: r.scenario.shows,
          profile: o.profile ?? r.scenario.profile ?? '6.3+',
          ok: r.ok,
          expectations: r.results.length,
          failed: failed.length,
          results: r.results.map(({ line, machine, text, ok, detail }) => ({ line, machine, text, ok, detail })),
          machines: r.machines.map((m) => ({ name: m.name, events: m.events.length, restoredFrom: m.restoredFrom?.image ?? null })),
          ledgers: ledgers.map(({ machine, path, events }) => ({ machine, path, events })),
        });
      } else {
        const out: string[] = [];
        if (r.scenario.title) out.push(`${r.scenario.title}`);
        for (const l of r.scenario.shows) out.push(`  ${l}`);
        for (const x of r.results) out.push(`${x.ok ? 'ok  ' : 'FAIL'} ${file}:${x.line} [${x.machine}] ${x.text}${x.ok ? `  — ${x.detail}` : `\n       ${x.detail}`}`);
        out.push(`${r.results.length - failed.length}/${r.results.length} expectations hold${failed.length ? `; ${failed.length} failed` : ''}`);
        for (const l of ledgers) out.push(`ledger ${l.path} (${l.machine}, ${l.events} records)`);
        process.stdout.write(`${out.join('\n')}\n`);
      }
      if (failed.length) process.exitCode = 1;
    });
  sc.command('list')
    .description('List the scenario library (replay/*.tns) and what each one shows.')
    .option('--json', 'print as JSON')
    .action((o: { json?: boolean }) => {
      const dir = libraryDir();
      const items = readdirSync(dir)
        .filter((f) => f.endsWith('.tns'))
        .sort()
        .map((f) => {
          const sc = parseScenario(readFileSync(join(dir, f), 'utf8'), join(dir, f));
          return { file: join(dir, f), title: sc.title ?? '', shows: sc.shows.join(' ') };
        });
      if (o.json) printJson(items);
      else process.stdout.write(`${items.map((i) => `${i.file}\n  ${i.title}`).join('\n')}\n`);
    });
}
