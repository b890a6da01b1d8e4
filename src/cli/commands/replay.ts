/**
 * `tns replay LEDGER [--to SEQ] [--json]`: project the ledger to a point and summarise the state and every
 * divergence. Also the helpers the other ledger commands share (errors, progress, argument parsing).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { InputError, printable, printJson, UsageError } from '../errors.js';
import { LedgerCorruptError, LedgerError, LedgerNotFoundError, ledgerInfo } from '../../ledger/index.js';
import { RecordError } from '../../events/index.js';
import { SeqRangeError, Timeline, type NsName } from '../../replay/timetravel.js';
import { NS_LINKS } from '../../kernel/index.js';
import { renderDivergences, renderState, stateReport } from '../../replay/present.js';
import type { Divergence } from '../../replay/outcome.js';

/** Turn the ledger's and replay's typed errors into one-line user errors naming the file and line. */
export function userErrors<T>(ledger: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asUserError(ledger, e);
  }
}

export function asUserError(ledger: string, e: unknown): unknown {
  if (e instanceof LedgerCorruptError) return new InputError(ledger, e.line, stripPrefix(e.message, `${ledger}:${e.line}: `));
  if (e instanceof RecordError) return new InputError(e.file, e.line, stripPrefix(e.message, `${e.file}:${e.line}: `));
  if (e instanceof LedgerNotFoundError) return new UsageError(`${ledger}: no such ledger`);
  if (e instanceof SeqRangeError) return new UsageError(e.lastSeq === 0 && e.seq === 0 ? `${ledger}: the ledger is empty (no records)` : e.message);
  if (e instanceof LedgerError) return new UsageError(e.message.startsWith(ledger) ? e.message : `${ledger}: ${e.message}`);
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR')) return new UsageError(`${ledger}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  return e;
}

function stripPrefix(s: string, p: string): string {
  return s.startsWith(p) ? s.slice(p.length) : s;
}

export function requireLedger(ledger: string): void {
  if (!existsSync(ledger)) throw new UsageError(`${ledger}: no such file`);
  // Checked before any open: opening a FIFO for reading blocks until a writer comes (tns replay FIFO hung).
  if (!statSync(ledger).isFile()) throw new UsageError(`${ledger}: not a regular file`);
}

/**
 * A ledger about to be read: it exists, and what its tail says. An unterminated last line (a writer mid-append, or
 * a torn tail) is not a record and the readers skip it: a warning says so rather than a silently shorter ledger.
 * With `records`, an empty ledger (nothing to replay) is a usage error. Returns the last seq, or undefined when
 * the tail cannot be read (a damaged last line: left to the reader, which names it where it meets it).
 */
export function openForReading(ledger: string, opts: { records?: boolean } = {}): number | undefined {
  requireLedger(ledger);
  let info;
  try {
    info = ledgerInfo(ledger);
  } catch (e) {
    if (e instanceof LedgerCorruptError) return undefined;
    throw asUserError(ledger, e);
  }
  if (info.tornBytes > 0)
    warn(`${ledger}:${info.lastSeq + 1}: an unterminated last line (${info.tornBytes} bytes after seq ${info.lastSeq}) is not read: a writer mid-append, or a torn tail (tns repair removes it)`);
  if (opts.records && info.lastSeq === 0) throw new UsageError(`${ledger}: the ledger is empty (no records)`);
  return info.lastSeq;
}

/** A warning on stderr (the replay goes on): `tns: warning: ...`. */
export function warn(message: string): void {
  process.stderr.write(`tns: warning: ${printable(message)}\n`);
}

/** A seq argument/option: a non-negative integer (one a number holds exactly). */
export function parseSeq(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`${name}: expected a seq (an integer ≥ 0), got "${v}"`);
  if (!Number.isSafeInteger(Number(v))) throw new UsageError(`${name}: seq ${v} is too large (at most ${Number.MAX_SAFE_INTEGER})`);
  return Number(v);
}

/** A namespace as 4026532176, time:[4026532176] or [4026532176]. */
/** A namespace argument: 4026532176, [4026532176] or TYPE:[4026532176] (TYPE as /proc/PID/ns names it). */
export function parseNs(v: string): NsName {
  const m = /^(?:([a-z_]+):)?\[?(\d+)\]?$/.exec(v.trim());
  if (!m || !Number.isSafeInteger(Number(m[2]))) throw new UsageError(`namespace: expected an inode number like 4026532176 or time:[4026532176], got "${v}"`);
  const type = m[1] !== undefined && Object.hasOwn(NS_LINKS, m[1]) ? NS_LINKS[m[1]] : undefined;
  if (m[1] !== undefined && type === undefined) throw new UsageError(`namespace: unknown type "${m[1]}" in "${v}" (one of ${Object.keys(NS_LINKS).join(', ')})`);
  return { inum: Number(m[2]), ...(type ? { type } : {}) };
}

export function parsePid(name: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw new UsageError(`${name}: expected a pid, got "${v}"`);
  return Number(v);
}

/** Progress on stderr when it is a terminal (at most ~10 updates a second); a no-op otherwise. */
export function progress(label: string): { update(seq: number): void; done(): void } {
  if (!process.stderr.isTTY) return { update() {}, done() {} };
  let last = 0;
  const t0 = Date.now();
  return {
    update(seq: number) {
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const rate = seq / Math.max(0.001, (now - t0) / 1000);
      process.stderr.write(`\r${label}: seq ${seq} (${Math.round(rate).toLocaleString('en-US')} events/s)   `);
    },
    done() {
      if (last > 0) process.stderr.write('\r\x1b[K');
    },
  };
}

export function register(program: Command): void {
  program
    .command('replay')
    .description(
      'Replay a ledger with the kernel model (rxjs + immer projection): recorded outcomes are the truth, divergences are reported, and states are snapshotted on the way. Prints a summary of the state at the end (or at --to) and every divergence.',
    )
    .argument('<ledger>', 'the ledger (NDJSON)')
    .option('--to <seq>', 'stop after this seq (default: the end)')
    .option('--snapshot-every <n>', 'write a snapshot every N records to LEDGER.snap/ (0: none)', '2000')
    .option('--json', 'print {seq, events, genesis, state, divergences} as JSON')
    .addHelpText(
      'after',
      `
Examples:
  tns replay run.ndjson                 # final state and divergences
  tns replay run.ndjson --to 1200       # the state after seq 1200
  tns replay big.ndjson --json | jq '.divergences | length'

Exit status: 0 replayed (divergences are reported, not errors); 2 bad input (a damaged line is named FILE:LINE).`,
    )
    .action((ledger: string, o: { to?: string; snapshotEvery: string; json?: boolean }) => {
      const to = parseSeq('--to', o.to);
      const every = parseSeq('--snapshot-every', o.snapshotEvery)!;
      openForReading(ledger, { records: true });
      const bar = progress('replay');
      const tl = new Timeline(ledger, { snapshotEvery: every, useSnapshots: false, onProgress: (s) => bar.update(s), onWarning: warn });
      const s = userErrors(ledger, () => tl.stateAt(to ?? 'end', 'shadow'));
      bar.done();
      report(s.seq, s.world, s.divergences, o.json === true, s.kernelNames);
    });
}

function report(seq: number, world: Parameters<typeof stateReport>[1], divergences: Divergence[], json: boolean, kernelNames: Record<number, number>): void {
  const state = stateReport(seq, world, kernelNames);
  if (json) {
    printJson({ seq, state, divergences });
    return;
  }
  const running = state.tasks.filter((t) => t.state === 'running').length;
  const time = state.namespaces.filter((n) => n.type === 'time');
  process.stdout.write(
    `replayed to seq ${seq}: ${state.tasks.length} task(s) (${running} running), ${state.namespaces.length} namespace(s), ${time.length} time namespace(s) (${time.filter((n) => n.frozen).length} frozen)\n\n` +
      `${renderState(state)}\n\n${renderDivergences(divergences)}\n`,
  );
}
