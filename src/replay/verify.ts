/**
 * A full verification of a ledger (`tns verify`): the hash chain and every line (src/ledger/verify.ts), then every
 * model-computed outcome re-derived with the kernel model — a difference is a determinism bug.
 */
import { readReplayBatches, usesReadingThread, verifyLedger, type VerifyResult } from '../ledger/index.js';
import type { ReplayRecord } from '../events/index.js';
import { Projector } from './project.js';
import { genesisOf } from './genesis.js';
import { formatDivergence, type Divergence } from './outcome.js';

export interface FullVerify {
  ok: boolean;
  chain: VerifyResult;
  /** The first determinism failure (a model-computed outcome the model now computes differently, or cannot apply). */
  model: { checked: number; firstBad: (Divergence & { message: string }) | null } | null;
}

/** Chain + model: both passes (the model pass only when the chain is intact, and over exactly the records it checked). */
export function verifyFull(ledger: string, opts: { model?: boolean; onProgress?: (phase: string, n: number) => void } = {}): FullVerify {
  const chain = verifyLedger(ledger, { onProgress: (b) => opts.onProgress?.('chain', b) });
  if (!chain.ok || opts.model === false) return { ok: chain.ok, chain, model: null };
  let firstBad: Divergence | null = null;
  let checked = 0;
  const proj = new Projector<ReplayRecord>({ engine: 'mutable', world: genesisOf(ledger, {}, false).options });
  // The chain pass has checked every line: the model pass reads them trusted on this thread, or (a long ledger)
  // on a second thread, which checks them again at no cost to this one.
  const read = { toSeq: chain.lastSeq, expected: chain.records, thread: 'auto' as const };
  for (const batch of readReplayBatches(ledger, { ...read, validate: usesReadingThread(read) })) {
    const r = proj.step(batch);
    // Recorded outcomes disagreeing with the model are `tns check`'s business; verify fails on the model's own.
    const bad = r.divergences.find((d) => d.kind === 'determinism' || (d.kind === 'model-error' && batch.find((x) => x.seq === d.seq)?.recorded !== true));
    if (bad) {
      firstBad = bad;
      checked += batch.findIndex((x) => x.seq === bad.seq) + 1;
      break;
    }
    checked += batch.length;
    opts.onProgress?.('model', batch[batch.length - 1].seq);
  }
  const model = { checked, firstBad: firstBad ? { ...(firstBad as Divergence), message: `${ledger}:${(firstBad as Divergence).seq}: ${formatDivergence(firstBad)}` } : null };
  return { ok: firstBad === null, chain, model };
}
