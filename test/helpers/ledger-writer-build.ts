/**
 * Child processes and worker threads cannot import TypeScript: transpile src/events, src/ledger and src/kernel (no
 * type check, a few ms; more directories on request) into a temporary directory, with a fixture module shared by
 * the parent test and the child writer. Modules that import packages (immer, rxjs: src/replay) resolve them only
 * from a directory inside the project.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const SRC = join(import.meta.dirname, '..', '..', 'src');

export function buildLedgerModules(outDir: string, dirs: string[] = ['events', 'ledger', 'kernel']): string {
  for (const dir of dirs) {
    mkdirSync(join(outDir, 'lib', dir), { recursive: true });
    for (const f of readdirSync(join(SRC, dir))) {
      if (!f.endsWith('.ts')) continue;
      const out = ts.transpileModule(readFileSync(join(SRC, dir, f), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
        fileName: f,
      });
      writeFileSync(join(outDir, 'lib', dir, f.replace(/\.ts$/, '.js')), out.outputText);
    }
  }
  writeFileSync(join(outDir, 'ledger-fixture.mjs'), `export ${expectedEvent.toString()}\n`);
  return join(outDir, 'lib');
}

/** The event the writer child appends as seq `seq` (deterministic; `noteBytes` pads the record). */
export function expectedEvent(seq: number, noteBytes: number) {
  return {
    op: { call: 'clock_gettime', tid: 1 + (seq % 7), clockid: seq % 12 },
    pid: 1 + (seq % 7),
    outcome: { ret: 0, ts: { sec: seq, nsec: (seq * 7919) % 1000000000 } },
    recorded: false,
    note: `n${seq}:${'x'.repeat(noteBytes)}`,
  };
}
