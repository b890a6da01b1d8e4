/** `tns log LEDGER [filters] [--json] [--follow]`: the records, filtered by pid, call, errno, namespace, seq range. */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { UsageError, intOption } from '../errors.js';
import { ERRNOS, ALL_CALLS } from '../../events/index.js';
import { filterLog, followLog, type LogFilter, type NsResolution } from '../../replay/log-filter.js';
import type { NsName } from '../../replay/timetravel.js';
import { renderRecord } from '../../replay/present.js';
import { asUserError, parseNs, parsePid, parseSeq, openForReading, requireLedger, userErrors, warn } from './replay.js';

interface LogOptions {
  pid?: string;
  call?: string;
  errno?: string;
  ns?: string;
  from?: string;
  to?: string;
  json?: boolean;
  follow?: boolean;
  idleMs?: string;
}

export function register(program: Command): void {
  program
    .command('log')
    .description('List the records of a ledger, filtered. --ns replays the ledger with the model to find the records that touched the namespace (changed its refcount, or left the caller with it as T or C, or read its name). --follow keeps printing the matching records a writer appends, like tail -f.')
    .argument('<ledger>', 'the ledger')
    .option('--pid <pid>', 'records of this process (pid or calling tid)')
    .option('--call <call>', 'records of this call (fork, unshare, setns, write, host.advance, marker.checkpoint, ...)')
    .option('--errno <errno>', 'records that failed with this errno (EPERM, EACCES, ...)')
    .option('--ns <ns>', "records that touched this namespace (4026532176 or time:[4026532176]); with --follow the model's number only")
    .option('--from <seq>', 'from this seq')
    .option('--to <seq>', 'up to this seq (--follow: stop once it has been read)')
    .option('--json', 'print the matching records as a JSON array (--follow: one JSON object per line, NDJSON)')
    .option('--follow', 'print the matching records there now, then those appended, until interrupted (exit 0), --to or --idle-ms')
    .option('--idle-ms <ms>', '--follow: stop after this many ms without a new record (any record, matching or not)')
    .addHelpText(
      'after',
      `
--follow reads only complete lines: a record still being written is printed once its newline is there; a
damaged complete line stops it with the file and line (exit 2). Ctrl-C (SIGINT) or SIGTERM ends it with exit 0.
A ledger that does not exist yet is waited for (its directory must exist); with --idle-ms, one still missing
when the time is up is an error (exit 2). --json with --follow prints NDJSON (one record per line, written
as each batch is read), since a JSON array would never close. --ns with --follow replays the model as the
records come, in one pass, so the number is the model's inode number (the one tns state shows): the traced
kernel's number, which plain tns log --ns resolves with a second replay, is not resolved while following (a
warning says when the number is also the kernel's name of another namespace).

Examples:
  tns log run.ndjson --errno EACCES
  tns log run.ndjson --pid 4968 --call setns
  tns log run.ndjson --ns time:[4026532176] --json
  tns log run.ndjson --follow --call setns          # like tail -f; Ctrl-C to stop
  tns log run.ndjson --follow --json --idle-ms 5000 # NDJSON; stop after 5 s without a new record`,
    )
    .action(async (ledger: string, o: LogOptions) => {
      const f: LogFilter = {};
      if (o.pid !== undefined) f.pid = parsePid('--pid', o.pid);
      if (o.call !== undefined) {
        if (!ALL_CALLS.includes(o.call as never)) throw new UsageError(`--call: unknown call "${o.call}" (one of: ${ALL_CALLS.join(', ')})`);
        f.call = o.call;
      }
      if (o.errno !== undefined) {
        const e = o.errno.toUpperCase();
        if (!(ERRNOS as readonly string[]).includes(e)) throw new UsageError(`--errno: unknown errno "${o.errno}" (one of: ${ERRNOS.join(', ')})`);
        f.errno = e;
      }
      if (o.ns !== undefined) f.ns = parseNs(o.ns);
      const from = parseSeq('--from', o.from);
      const to = parseSeq('--to', o.to);
      if (from !== undefined) f.from = from;
      if (to !== undefined) f.to = to;
      if (from !== undefined && to !== undefined && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
      const idleMs = intOption('--idle-ms', o.idleMs, 0);
      if (idleMs !== undefined && !o.follow) throw new UsageError('--idle-ms: only with --follow');
      if (o.follow) return follow(ledger, f, o.json === true, idleMs);
      openForReading(ledger);
      userErrors(ledger, () => {
        let n = 0;
        const resolved: { ns?: NsResolution } = {};
        if (o.json) process.stdout.write('[');
        for (const r of filterLog(ledger, f, resolved)) {
          if (n === 0 && !o.json) noteKernelName(resolved.ns, f.ns);
          if (o.json) process.stdout.write(`${n > 0 ? ',' : ''}\n${JSON.stringify(r)}`);
          else process.stdout.write(`${renderRecord(r)}\n`);
          n++;
        }
        if (o.json) process.stdout.write(`${n > 0 ? '\n' : ''}]\n`);
        else if (n === 0) process.stderr.write('tns: no record matches\n');
        if (o.json) noteKernelName(resolved.ns, f.ns);
      });
    });
}

/** When --ns was the traced kernel's number, say which of the model's namespaces it is (on stderr: the output stays records). */
function noteKernelName(r: NsResolution | undefined, asked: NsName | undefined): void {
  if (!r || r.kernelInum === null) return;
  const type = asked?.type ?? 'namespace';
  process.stderr.write(`tns: ${type}:[${r.kernelInum}] is the traced kernel's number; the model's namespace is ${type}:[${r.inum}]\n`);
}

/**
 * --follow: print the matching records as they are read (one write per batch), until SIGINT/SIGTERM (exit 0), the
 * record --to names, or --idle-ms without a new record. A missing ledger is waited for, in a directory that exists.
 */
async function follow(ledger: string, f: LogFilter, json: boolean, idleMs: number | undefined): Promise<void> {
  if (existsSync(ledger)) requireLedger(ledger);
  else {
    const dir = dirname(ledger);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${ledger}: no such file, and no directory ${dir} for it to be created in`);
  }
  const type = f.ns?.type ?? 'namespace';
  let n = 0;
  const interrupted = await new Promise<boolean>((resolve, reject) => {
    let stopped = false;
    const signals = ['SIGINT', 'SIGTERM'] as const;
    const end = (): void => {
      stopped = true;
      for (const s of signals) process.off(s, onSignal);
    };
    const onSignal = (): void => {
      end();
      sub?.unsubscribe();
      resolve(true);
    };
    for (const s of signals) process.on(s, onSignal);
    const sub = followLog(ledger, f, {
      ...(idleMs !== undefined ? { idleMs } : {}),
      onKernelName: (m) =>
        warn(`${type}:[${f.ns!.inum}] is also the traced kernel's number of the model's namespace ${type}:[${m}]; --follow takes ${f.ns!.inum} as the model's number (tns log without --follow resolves the kernel's number)`),
    }).subscribe({
      next(batch) {
        process.stdout.write(`${batch.map((r) => (json ? JSON.stringify(r) : renderRecord(r))).join('\n')}\n`);
        n += batch.length;
      },
      error(e) {
        end();
        reject(asUserError(ledger, e));
      },
      complete() {
        end();
        resolve(false);
      },
    });
    // Ended while subscribing (the first read already reached --to, or failed): nothing to keep.
    if (stopped) sub.unsubscribe();
  });
  if (interrupted) return;
  if (!existsSync(ledger)) throw new UsageError(`${ledger}: no such file (not created within --idle-ms ${idleMs})`);
  if (n === 0) process.stderr.write('tns: no record matches\n');
}
