/**
 * `tns check FILE|LEDGER [--json] [--profile VERSION]`: the model against what a real kernel did, line by line.
 * Exit 0: every recorded outcome agrees with the model; 1: divergences; 2: bad input or usage.
 */
import type { Command } from 'commander';
import { checkTrace, type CheckResult, type TraceCheckResult } from '../../ingest/check.js';
import { checkLedger, looksLikeLedger } from '../../ingest/record.js';
import { TraceInputError } from '../../ingest/trace-to-ops.js';
import { StraceParseError } from '../../ingest/strace/index.js';
import { resolveProfile } from '../../kernel/index.js';
import { InputError, printJson, UsageError } from '../errors.js';

export function profileOption(p: string | undefined): string | undefined {
  if (p === undefined) return undefined;
  try {
    return resolveProfile(p).name;
  } catch (e) {
    throw new UsageError(`--profile: ${(e as Error).message}`);
  }
}

/** Errors of the input turned into one-line user errors naming the file and line. */
export function inputErrors(e: unknown): never {
  if (e instanceof StraceParseError) throw new InputError(e.file, e.line > 0 ? e.line : null, e.reason);
  if (e instanceof TraceInputError) throw new InputError(e.file, e.line, e.message.slice(`${e.file}:${e.line}: `.length));
  const err = e as { name?: string; message?: string; code?: string };
  if (err && (err.name === 'LedgerCorruptError' || err.name === 'RecordError' || err.name === 'LedgerNotFoundError' || err.code === 'ERECORD'))
    throw new UsageError(err.message ?? String(e));
  throw e;
}

/** A progress line on a TTY (stderr), nothing otherwise. */
export function progress(label: string): { onProgress?: (a: number, b: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { done: () => {} };
  let last = 0;
  return {
    onProgress: (a, b) => {
      const now = Date.now();
      if (now - last < 200 && a < b) return;
      last = now;
      const pct = b > 0 ? Math.floor((a / b) * 100) : 0;
      process.stderr.write(`\r${label}: ${(a / 1e6).toFixed(1)} / ${(b / 1e6).toFixed(1)} MB (${pct}%)`);
    },
    done: () => process.stderr.write('\r\x1b[K'),
  };
}

export function renderCheck(r: CheckResult | TraceCheckResult, json: boolean): number {
  const exit = r.divergences.length > 0 ? 1 : 0;
  if (json) {
    const out: Record<string, unknown> = {
      profile: r.profile,
      events: r.events,
      checked: r.checked,
      skipped: r.skipped,
      anchors: r.anchors,
      anchorLines: r.anchorLines,
      divergences: r.divergences,
      summary: r.summary,
    };
    if ('import' in r) {
      out.skippedByCall = r.import.skipped;
      out.badLines = r.badLines;
    }
    if ('import' in r && r.import.warnings.length) out.warnings = r.import.warnings;
    printJson(out);
    return exit;
  }
  const lines: string[] = [];
  for (const d of r.divergences) {
    lines.push(`${d.file ?? ''}${d.line !== null ? `:${d.line}` : ''} pid ${d.pid ?? '-'} ${d.call}: kernel ${d.recorded}, model ${d.model}`);
    lines.push(`    ${d.reason}`);
  }
  if ('import' in r) for (const w of r.import.warnings.slice(0, 20)) lines.push(`warning: ${w}`);
  const s = r.summary;
  lines.push(
    `${r.divergences.length === 0 ? 'OK' : `${r.divergences.length} divergence${r.divergences.length === 1 ? '' : 's'}`} ` +
      `(profile ${r.profile}): ${r.events} events, ${r.checked} checked, ${r.skipped} skipped syscalls, ${r.anchors} clock anchors`,
  );
  lines.push(
    `tasks ${s.tasks}; namespaces created ${s.namespaces.created}, entered ${s.namespaces.entered}, freed ${s.namespaces.freed}; ` +
      `offsets written ${s.offsetsWritten}; denied EPERM ${s.denied.EPERM}, EACCES ${s.denied.EACCES}, EUSERS ${s.denied.EUSERS}, ENOSPC ${s.denied.ENOSPC}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  return exit;
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      'Replay a real trace (strace output or a ledger made by `tns import strace`) with the recorded outcomes as the truth and report every divergence from the model: line, pid, call, what the kernel returned, what the model predicts, and the rule. Exit 0: none; 1: divergences; 2: bad input.',
    )
    .argument('<file...>', 'strace output (`strace -f -o FILE`, -ff files FILE.PID, or a directory of them) or a ledger')
    .option('--json', 'one JSON object: {events, checked, skipped, divergences: [{seq, line, pid, call, recorded, model}], summary}')
    .option('--profile <version>', 'kernel profile to check against (default 6.3+, or the ledger\'s)')
    .option('--lenient', 'skip malformed strace lines (counted) instead of failing')
    .addHelpText(
      'after',
      '\nExamples:\n  tns check test/traces/unshare-fork.strace\n  tns check run.ledger --json\n  tns check trace.strace --profile 5.6',
    )
    .action(async (files: string[], o: { json?: boolean; profile?: string; lenient?: boolean }) => {
      const profile = profileOption(o.profile);
      let result: CheckResult | TraceCheckResult;
      try {
        if (files.length === 1 && looksLikeLedger(files[0])) result = await checkLedger(files[0], { profile });
        else {
          const p = progress('check');
          let tr: TraceCheckResult;
          try {
            tr = await checkTrace(files, { profile, lenient: o.lenient, onProgress: p.onProgress });
          } finally {
            p.done();
          }
          if (tr.badLines > 0 && !o.json) process.stderr.write(`tns: --lenient: skipped ${tr.badLines} malformed line(s)\n`);
          result = tr;
        }
      } catch (e) {
        inputErrors(e);
      }
      process.exitCode = renderCheck(result, o.json ?? false);
    });
}
