/** `tns log LEDGER [filters] [--json]`: the records, filtered by pid, call, errno, namespace, seq range. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { ERRNOS, ALL_CALLS } from '../../events/index.js';
import { filterLog, type LogFilter, type NsResolution } from '../../replay/log-filter.js';
import type { NsName } from '../../replay/timetravel.js';
import { renderRecord } from '../../replay/present.js';
import { parseNs, parsePid, parseSeq, openForReading, userErrors } from './replay.js';

export function register(program: Command): void {
  program
    .command('log')
    .description('List the records of a ledger, filtered. --ns replays the ledger with the model to find the records that touched the namespace (changed its refcount, or left the caller with it as T or C, or read its name).')
    .argument('<ledger>', 'the ledger')
    .option('--pid <pid>', 'records of this process (pid or calling tid)')
    .option('--call <call>', 'records of this call (fork, unshare, setns, write, host.advance, marker.checkpoint, ...)')
    .option('--errno <errno>', 'records that failed with this errno (EPERM, EACCES, ...)')
    .option('--ns <ns>', 'records that touched this namespace (4026532176 or time:[4026532176])')
    .option('--from <seq>', 'from this seq')
    .option('--to <seq>', 'up to this seq')
    .option('--json', 'print the matching records as a JSON array')
    .addHelpText(
      'after',
      `
Examples:
  tns log run.ndjson --errno EACCES
  tns log run.ndjson --pid 4968 --call setns
  tns log run.ndjson --ns time:[4026532176] --json`,
    )
    .action((ledger: string, o: { pid?: string; call?: string; errno?: string; ns?: string; from?: string; to?: string; json?: boolean }) => {
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
