/**
 * The genesis of a ledger: the createWorld options its first record starts from.
 *
 * A ledger written by tns starts with a `marker.genesis` record holding the createWorld options. For a ledger
 * without one (older, or written by another tool), replay infers them from the head of the log:
 *  - profile: a `marker.profile` before the first kernel op (scenario and synth ledgers start with one);
 *  - host clocks: the `at` of the first record, when it gives monotonic, boottime and realtime;
 *  - the first task: the caller of the first syscall that no earlier record created (a fork/clone child or a
 *    host.spawn pid) — it existed before the log started, as createWorld's first task does; default pid 1.
 * Options given explicitly win over inferred ones.
 */
import type { WorldOptions } from '../kernel/index.js';
import type { ReplayRecord } from '../events/index.js';
import { readLedgerBatchesSync } from '../ledger/index.js';

export interface Genesis {
  options: WorldOptions;
  /** Where each option came from, for `tns replay --json` and error messages. */
  inferred: string[];
  /**
   * The head said all there is to say: it starts with marker.genesis, or it names the first task. False: the head
   * ended first (a longer one could name another first task).
   */
  complete: boolean;
}

export function inferGenesis(head: readonly ReplayRecord[], given: WorldOptions = {}): Genesis {
  const g = new GenesisInference();
  for (const rec of head) if (g.feed(rec)) break;
  return g.result(given);
}

/**
 * The inference fed one record at a time (what inferGenesis does over a head), so a long head needs no buffer:
 * feed() says when the records so far settle it.
 */
export class GenesisInference {
  private first: ReplayRecord | undefined;
  private fromMarker: Genesis | undefined;
  private readonly options: WorldOptions = {};
  private readonly inferred: string[] = [];
  private sawKernelOp = false;
  private readonly created = new Set<number>();
  private firstPid: number | undefined;

  /** Take the next record; true once the genesis is settled (later records change nothing). */
  feed(rec: ReplayRecord): boolean {
    if (this.fromMarker || this.firstPid !== undefined) return true;
    const op = rec.op;
    if (this.first === undefined) {
      this.first = rec;
      // A ledger that starts with marker.genesis says what it starts from; nothing is guessed.
      if (op.call === 'marker.genesis') {
        const w = op.world;
        const options: WorldOptions = { ...w, ...(w.host ? { host: { realtime: { ...w.host.realtime }, monotonic: { ...w.host.monotonic }, boottime: { ...w.host.boottime } } } : {}) };
        if (w.rootCaps) options.rootCaps = [...w.rootCaps];
        this.fromMarker = { options, inferred: [`world options (marker.genesis at seq ${rec.seq})`], complete: true };
        return true;
      }
    }
    const options = this.options;
    if (op.call === 'marker.profile' && !this.sawKernelOp && options.profile === undefined) {
      options.profile = op.profile;
      this.inferred.push(`profile ${op.profile} (marker.profile at seq ${rec.seq})`);
      return false;
    }
    if (op.call.startsWith('marker.')) return false;
    if (!this.sawKernelOp && rec === this.first && options.host === undefined && rec.at?.monotonic && rec.at.boottime && rec.at.realtime) {
      options.host = { monotonic: { ...rec.at.monotonic }, boottime: { ...rec.at.boottime }, realtime: { ...rec.at.realtime } };
      this.inferred.push(`host clocks (at of seq ${rec.seq})`);
    }
    this.sawKernelOp = true;
    if (op.call === 'host.spawn') {
      this.created.add(op.pid);
      return false;
    }
    if ('tid' in op && !this.created.has(op.tid)) {
      this.firstPid = op.tid;
      this.inferred.push(`first task ${op.tid} (the caller at seq ${rec.seq}, created by no earlier record)`);
      return true;
    }
    if ((op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') && rec.outcome && rec.outcome.errno === undefined)
      this.created.add(op.child ?? rec.outcome.ret);
    return false;
  }

  /** The genesis from the records fed so far, with `given` options winning over inferred ones. */
  result(given: WorldOptions = {}): Genesis {
    if (this.fromMarker) {
      const g = this.fromMarker;
      return { options: { ...g.options, ...stripUndefined(given) }, inferred: [...g.inferred], complete: true };
    }
    const options: WorldOptions = { ...this.options };
    const inferred = [...this.inferred];
    // A marker-only head with host clocks: the first record's at.
    const at = this.first?.at;
    if (options.host === undefined && at?.monotonic && at.boottime && at.realtime) {
      options.host = { monotonic: { ...at.monotonic }, boottime: { ...at.boottime }, realtime: { ...at.realtime } };
      inferred.push(`host clocks (at of seq ${this.first!.seq})`);
    }
    options.firstPid = this.firstPid ?? 1;
    return { options: { ...options, ...stripUndefined(given) }, inferred, complete: this.firstPid !== undefined };
  }
}

/**
 * The genesis of the ledger at `path`, inferred from as many of its first records as it takes — so a replay's
 * world does not depend on how it cuts its batches (a Projector infers from its first batch, and the readers'
 * batch sizes differ). Streaming, with no cap: a head of nothing but markers and host.spawn records is read to its
 * end (as long as the replay itself) before the default first pid 1 is taken. Throws what the reader throws for a
 * bad line in the records it reads.
 */
export function genesisOf(path: string, given: WorldOptions = {}, validate = true): Genesis {
  const g = new GenesisInference();
  for (const batch of readLedgerBatchesSync(path, { batchSize: 256, validate })) {
    for (const r of batch) if (g.feed(r)) return g.result(given);
  }
  return g.result(given);
}

function stripUndefined(o: WorldOptions): WorldOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as WorldOptions;
}
