/** `tns log LEDGER [filters] [--json]`: the records, filtered by pid, call, errno, namespace, seq range. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { ERRNOS, ALL_CALLS, type EventRecord } from '../../events/index.js';
import { readLedgerBatchesSync } from '../../ledger/index.js';
import { Projector } from '../../replay/project.js';
import { renderRecord } from '../../replay/present.js';
import type { World } from '../../kernel/index.js';
import { parseNs, parsePid, parseSeq, requireLedger, userErrors } from './replay.js';

export interface LogFilter {
  pid?: number;
  call?: string;
  errno?: string;
  ns?: number;
  from?: number;
  to?: number;
}

/**
 * The records matching every filter. --ns needs the model: a record matches when it changed the namespace's
 * refcount, when its caller's T or C is that namespace afterwards, or when its outcome text names it.
 */
export function* filterLog(ledger: string, f: LogFilter): Generator<EventRecord> {
  const tag = f.ns !== undefined ? `[${f.ns}]` : '';
  let nsHit = new Set<number>();
  let prevCount = -1;
  const proj =
    f.ns !== undefined
      ? new Projector({
          engine: 'mutable',
          onEvent(rec: EventRecord, w: World) {
            const n = w.namespaces[f.ns!];
            const count = n ? n.count : 0;
            let hit = prevCount >= 0 && count !== prevCount;
            prevCount = count;
            const tid = 'tid' in rec.op ? (rec.op as { tid: number }).tid : undefined;
            const t = tid !== undefined ? w.tasks[tid] : undefined;
            if (t && t.nsproxy !== null) {
              const nsp = w.nsproxies[t.nsproxy];
              if (nsp.time === f.ns || nsp.time_for_children === f.ns) hit = true;
            }
            if (rec.outcome?.text?.includes(tag)) hit = true;
            if (hit) nsHit.add(rec.seq);
          },
        })
      : undefined;
  const plain = (r: EventRecord) =>
    (f.from === undefined || r.seq >= f.from) &&
    (f.pid === undefined || r.pid === f.pid || ('tid' in r.op && (r.op as { tid: number }).tid === f.pid)) &&
    (f.call === undefined || r.op.call === f.call) &&
    (f.errno === undefined || r.outcome?.errno === f.errno);
  // With --ns the log is replayed from the start (the model needs the history); otherwise it seeks to --from.
  for (const batch of readLedgerBatchesSync(ledger, { fromSeq: proj ? 1 : f.from, toSeq: f.to })) {
    if (proj) {
      nsHit = new Set();
      proj.step(batch);
    }
    for (const r of batch) if (plain(r) && (!proj || nsHit.has(r.seq))) yield r;
  }
}

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
      requireLedger(ledger);
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
      userErrors(ledger, () => {
        let n = 0;
        if (o.json) process.stdout.write('[');
        for (const r of filterLog(ledger, f)) {
          if (o.json) process.stdout.write(`${n > 0 ? ',' : ''}\n${JSON.stringify(r)}`);
          else process.stdout.write(`${renderRecord(r)}\n`);
          n++;
        }
        if (o.json) process.stdout.write(`${n > 0 ? '\n' : ''}]\n`);
        else if (n === 0) process.stderr.write('tns: no record matches\n');
      });
    });
}
