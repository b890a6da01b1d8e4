/** The records of a ledger that match a filter (tns log): pid, call, errno, seq range, and a namespace via replay. */
import { EMPTY, defer, filter, map, type Observable } from 'rxjs';
import type { EventRecord } from '../events/index.js';
import { LedgerError, readLedgerBatchesSync } from '../ledger/index.js';
import type { World } from '../kernel/index.js';
import { Projector } from './project.js';
import { tailLedger, type TailOptions } from './source.js';
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

/**
 * Whether each record touched a namespace, fed the records in order with the world right after each (a Projector's
 * onEvent): it changed the namespace's refcount, or left its caller with it as T or C (time, time_for_children) —
 * 'model' — or its outcome text names it ('text': `TYPE:[N]`). The one-shot scan (nsTouches) and --follow share it.
 */
class NsTouch {
  private prevCount = -1;
  private readonly tag: string;
  constructor(readonly name: NsName) {
    this.tag = `:[${name.inum}]`;
  }

  check(rec: EventRecord, w: World): 'model' | 'text' | false {
    const { inum, type } = this.name;
    const n = w.namespaces[inum];
    const count = n && (type === undefined || n.type === type) ? n.count : 0;
    let hit: 'model' | 'text' | false = this.prevCount >= 0 && count !== this.prevCount ? 'model' : false;
    this.prevCount = count;
    const tid = 'tid' in rec.op ? (rec.op as { tid: number }).tid : undefined;
    const t = tid !== undefined ? w.tasks[tid] : undefined;
    if (count > 0 && t && t.nsproxy !== null) {
      const nsp = w.nsproxies[t.nsproxy];
      if (nsp.time === inum || nsp.time_for_children === inum) hit = 'model';
    }
    const text = rec.outcome?.text;
    if (text !== undefined && text.includes(this.tag) && (type === undefined || text.includes(`${type}${this.tag}`))) hit = 'text';
    return hit;
  }
}

/** The model's namespace of the type asked for that recorded outcomes named with kernel number `inum`, if any. */
function boundModel(proj: Projector, w: World, name: NsName): number | undefined {
  const m = proj.modelOfKernel(name.inum);
  return m !== undefined && (name.type === undefined || w.namespaces[m].type === name.type) ? m : undefined;
}

function touches(ledger: string, name: NsName, toSeq: number | undefined, lookForKernel: boolean): { seqs: Set<number>; texts: Set<number>; boundTo?: number } {
  const seqs = new Set<number>();
  const texts = new Set<number>();
  const touch = new NsTouch(name);
  let boundTo: number | undefined;
  const proj: Projector = new Projector({
    engine: 'mutable',
    onEvent(rec: EventRecord, w: World) {
      const hit = touch.check(rec, w);
      if (hit === 'text') texts.add(rec.seq);
      if (hit) seqs.add(rec.seq);
      if (lookForKernel) boundTo = boundModel(proj, w, name) ?? boundTo;
    },
  });
  for (const batch of readLedgerBatchesSync(ledger, { toSeq })) proj.step(batch);
  return boundTo !== undefined ? { seqs, texts, boundTo } : { seqs, texts };
}

/** The filters other than --ns, as a predicate. */
function plainFilter(f: LogFilter): (r: EventRecord) => boolean {
  return (r) =>
    (f.from === undefined || r.seq >= f.from) &&
    (f.to === undefined || r.seq <= f.to) &&
    (f.pid === undefined || r.pid === f.pid || ('tid' in r.op && (r.op as { tid: number }).tid === f.pid)) &&
    (f.call === undefined || r.op.call === f.call) &&
    (f.errno === undefined || r.outcome?.errno === f.errno);
}

/** The records matching every filter (--ns: see nsTouches). `resolved` is filled in when --ns was resolved. */
export function* filterLog(ledger: string, f: LogFilter, resolved?: { ns?: NsResolution }): Generator<EventRecord> {
  const touched = f.ns !== undefined ? nsTouches(ledger, f.ns, f.to) : undefined;
  if (touched && resolved) resolved.ns = touched.resolved;
  const plain = plainFilter(f);
  for (const batch of readLedgerBatchesSync(ledger, { fromSeq: f.from, toSeq: f.to })) {
    for (const r of batch) if (plain(r) && (!touched || touched.seqs.has(r.seq))) yield r;
  }
}

export interface FollowOptions {
  /** Stop after this long without a new record, ms (default: never; unsubscribe to stop). */
  idleMs?: number;
  /** How often to look for new records, ms (default: tailLedger's). */
  pollMs?: number;
  /**
   * --ns: called once when a recorded outcome binds the asked number, as the traced kernel's, to a model namespace
   * (`model`) other than the one of that number: following cannot go back and resolve it as filterLog does.
   */
  onKernelName?: (model: number) => void;
}

/**
 * tns log --follow: the records matching the filter that are in the ledger now, then those a writer appends, as
 * they come (batches in seq order, never empty). Completes after seq f.to or idleMs without a new record; never
 * otherwise. With f.ns the model is replayed over every record from seq 1 in one pass, so the number is the model's
 * inode number (no second pass for a traced kernel's number). A ledger that does not exist yet is waited for. A
 * damaged complete line errors the stream (LedgerCorruptError, file and line); a line still being written is not
 * read until its '\n' is there. A ledger rewritten under the follower (its chain no longer continues the records
 * already read) errors the stream too.
 */
export function followLog(ledger: string, f: LogFilter, opts: FollowOptions = {}): Observable<EventRecord[]> {
  return defer(() => {
    // --to 0: no record to wait for.
    if (f.to !== undefined && f.to < 1) return EMPTY;
    const plain = plainFilter(f);
    const touched = f.ns !== undefined ? nsFollower(f.ns, opts.onKernelName) : undefined;
    const tail: TailOptions = touched ? {} : { fromSeq: f.from };
    if (f.to !== undefined) Object.assign(tail, { toSeq: f.to, untilSeq: f.to });
    if (opts.idleMs !== undefined) tail.idleMs = opts.idleMs;
    if (opts.pollMs !== undefined) tail.pollMs = opts.pollMs;
    let last: EventRecord | undefined;
    return tailLedger(ledger, tail).pipe(
      map((batch) => {
        const first = batch[0];
        if (last !== undefined && first.prev !== last.hash)
          throw new LedgerError(ledger, `${ledger}:${first.seq}: prev does not match the hash of seq ${last.seq} as it was read: the ledger was rewritten or replaced while it was followed`);
        last = batch[batch.length - 1];
        const hits = touched?.(batch);
        return batch.filter((r) => plain(r) && (!hits || hits.has(r.seq)));
      }),
      filter((b) => b.length > 0),
    );
  });
}

/** The model replayed incrementally: each batch → the seqs in it that touched the namespace. */
function nsFollower(name: NsName, onKernelName?: (model: number) => void): (batch: readonly EventRecord[]) => Set<number> {
  const touch = new NsTouch(name);
  let hits = new Set<number>();
  let told = onKernelName === undefined;
  const proj: Projector = new Projector({
    engine: 'mutable',
    onEvent(rec: EventRecord, w: World) {
      if (touch.check(rec, w)) hits.add(rec.seq);
      if (!told) {
        const m = boundModel(proj, w, name);
        if (m !== undefined && m !== name.inum) {
          told = true;
          onKernelName!(m);
        }
      }
    },
  });
  return (batch) => {
    hits = new Set();
    proj.advance(batch);
    return hits;
  };
}
