/** The records of a ledger that match a filter (tns log): pid, call, errno, seq range, and a namespace via replay. */
import type { EventRecord } from '../events/index.js';
import { readLedgerBatchesSync } from '../ledger/index.js';
import type { World } from '../kernel/index.js';
import { Projector } from './project.js';
import type { NsName } from './timetravel.js';

export interface LogFilter {
  pid?: number;
  call?: string;
  errno?: string;
  /** A namespace: the model's inode number, or the kernel's when the ledger's recorded outcomes named one with it. */
  ns?: NsName;
  from?: number;
  to?: number;
}

/** What --ns resolved to: the model's inum, and the kernel's number it was asked by (when it was one). */
export interface NsResolution {
  inum: number;
  kernelInum: number | null;
}

/**
 * The seqs of the records that touched a namespace — changed its refcount, left their caller with it as T or C
 * (time, time_for_children), or named it in their outcome text — replaying the whole ledger with the model. The
 * number is taken as the kernel's when a recorded outcome bound it to a model namespace (of the type asked for), and
 * then the records that touched that namespace are found with a second replay.
 */
export function nsTouches(ledger: string, name: NsName, toSeq?: number): { seqs: Set<number>; resolved: NsResolution } {
  const first = touches(ledger, name, toSeq, true);
  if (first.boundTo === undefined || first.boundTo === name.inum) return { seqs: first.seqs, resolved: { inum: name.inum, kernelInum: null } };
  const again = touches(ledger, { ...name, inum: first.boundTo }, toSeq, false);
  // The kernel's number appears in the recorded texts: those records name it too.
  for (const s of first.texts) again.seqs.add(s);
  return { seqs: again.seqs, resolved: { inum: first.boundTo, kernelInum: name.inum } };
}

function touches(ledger: string, name: NsName, toSeq: number | undefined, lookForKernel: boolean): { seqs: Set<number>; texts: Set<number>; boundTo?: number } {
  const { inum, type } = name;
  const tag = `:[${inum}]`;
  const seqs = new Set<number>();
  const texts = new Set<number>();
  let boundTo: number | undefined;
  let prevCount = -1;
  const proj: Projector = new Projector({
    engine: 'mutable',
    onEvent(rec: EventRecord, w: World) {
      const n = w.namespaces[inum];
      const count = n && (type === undefined || n.type === type) ? n.count : 0;
      let hit = prevCount >= 0 && count !== prevCount;
      prevCount = count;
      const tid = 'tid' in rec.op ? (rec.op as { tid: number }).tid : undefined;
      const t = tid !== undefined ? w.tasks[tid] : undefined;
      if (count > 0 && t && t.nsproxy !== null) {
        const nsp = w.nsproxies[t.nsproxy];
        if (nsp.time === inum || nsp.time_for_children === inum) hit = true;
      }
      const text = rec.outcome?.text;
      if (text !== undefined && text.includes(tag) && (type === undefined || text.includes(`${type}${tag}`))) {
        hit = true;
        texts.add(rec.seq);
      }
      if (hit) seqs.add(rec.seq);
      if (lookForKernel) {
        const m = proj.modelOfKernel(inum);
        if (m !== undefined && (type === undefined || w.namespaces[m].type === type)) boundTo = m;
      }
    },
  });
  for (const batch of readLedgerBatchesSync(ledger, { toSeq })) proj.step(batch);
  return boundTo !== undefined ? { seqs, texts, boundTo } : { seqs, texts };
}

/** The records matching every filter (--ns: see nsTouches). `resolved` is filled in when --ns was resolved. */
export function* filterLog(ledger: string, f: LogFilter, resolved?: { ns?: NsResolution }): Generator<EventRecord> {
  const touched = f.ns !== undefined ? nsTouches(ledger, f.ns, f.to) : undefined;
  if (touched && resolved) resolved.ns = touched.resolved;
  const plain = (r: EventRecord) =>
    (f.from === undefined || r.seq >= f.from) &&
    (f.pid === undefined || r.pid === f.pid || ('tid' in r.op && (r.op as { tid: number }).tid === f.pid)) &&
    (f.call === undefined || r.op.call === f.call) &&
    (f.errno === undefined || r.outcome?.errno === f.errno);
  for (const batch of readLedgerBatchesSync(ledger, { fromSeq: f.from, toSeq: f.to })) {
    for (const r of batch) if (plain(r) && (!touched || touched.seqs.has(r.seq))) yield r;
  }
}
