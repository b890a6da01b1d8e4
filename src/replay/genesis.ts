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
import type { EventRecord, ReplayRecord } from '../events/index.js';
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
  // A ledger that starts with marker.genesis says what it starts from; nothing is guessed.
  const first = head[0]?.op;
  if (first?.call === 'marker.genesis') {
    const w = first.world;
    const options: WorldOptions = { ...w, ...(w.host ? { host: { realtime: { ...w.host.realtime }, monotonic: { ...w.host.monotonic }, boottime: { ...w.host.boottime } } } : {}) };
    if (w.rootCaps) options.rootCaps = [...w.rootCaps];
    return { options: { ...options, ...stripUndefined(given) }, inferred: [`world options (marker.genesis at seq ${head[0].seq})`], complete: true };
  }
  const options: WorldOptions = {};
  const inferred: string[] = [];
  let sawKernelOp = false;
  const created = new Set<number>();
  let firstPid: number | undefined;
  for (const rec of head) {
    const op = rec.op;
    if (op.call === 'marker.profile' && !sawKernelOp && options.profile === undefined) {
      options.profile = op.profile;
      inferred.push(`profile ${op.profile} (marker.profile at seq ${rec.seq})`);
      continue;
    }
    if (op.call.startsWith('marker.')) continue;
    if (!sawKernelOp && rec.at?.monotonic && rec.at.boottime && rec.at.realtime && options.host === undefined && rec.seq === head[0].seq) {
      options.host = { monotonic: { ...rec.at.monotonic }, boottime: { ...rec.at.boottime }, realtime: { ...rec.at.realtime } };
      inferred.push(`host clocks (at of seq ${rec.seq})`);
    }
    sawKernelOp = true;
    if (op.call === 'host.spawn') {
      created.add(op.pid);
      continue;
    }
    if ('tid' in op && firstPid === undefined && !created.has(op.tid)) {
      firstPid = op.tid;
      inferred.push(`first task ${op.tid} (the caller at seq ${rec.seq}, created by no earlier record)`);
    }
    if ((op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') && rec.outcome && rec.outcome.errno === undefined)
      created.add(op.child ?? rec.outcome.ret);
    if (firstPid !== undefined) break;
  }
  // A marker-only head with host clocks: the first record's at.
  if (options.host === undefined && head[0]?.at?.monotonic && head[0].at.boottime && head[0].at.realtime) {
    const at = head[0].at;
    options.host = { monotonic: { ...at.monotonic! }, boottime: { ...at.boottime! }, realtime: { ...at.realtime! } };
    inferred.push(`host clocks (at of seq ${head[0].seq})`);
  }
  options.firstPid = firstPid ?? 1;
  return { options: { ...options, ...stripUndefined(given) }, inferred, complete: firstPid !== undefined };
}

/** Records a genesis is inferred from at most (a head of nothing but markers and host.spawn past this: pid 1). */
export const GENESIS_HEAD_LIMIT = 65536;

/**
 * The genesis of the ledger at `path`, inferred from as many of its first records as it takes — so a replay's
 * world does not depend on how it cuts its batches (a Projector infers from its first batch, and the readers'
 * batch sizes differ). Throws what the reader throws for a bad line in that head.
 */
export function genesisOf(path: string, given: WorldOptions = {}, validate = true): Genesis {
  const head: EventRecord[] = [];
  for (const batch of readLedgerBatchesSync(path, { toSeq: GENESIS_HEAD_LIMIT, batchSize: 256, validate })) {
    for (const r of batch) head.push(r);
    const g = inferGenesis(head, given);
    if (g.complete) return g;
  }
  return inferGenesis(head, given);
}

function stripUndefined(o: WorldOptions): WorldOptions {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as WorldOptions;
}
