/** The records of a ledger that match a filter (tns log): pid, call, errno, seq range, and a namespace via replay. */
import type { EventRecord } from '../events/index.js';
import { readLedgerBatchesSync } from '../ledger/index.js';
import type { World } from '../kernel/index.js';
import { Projector } from './project.js';

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
