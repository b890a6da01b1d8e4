/**
 * Writing scenario, restore and demo events to new ledgers through src/ledger (single-writer lock, hash chain,
 * group commit with fsync).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, extname, join } from 'node:path';
import { openLedger, lockPathOf, indexPathOf, snapshotDirOf } from '../ledger/index.js';
import type { EventInput } from '../events/schema.js';

export class LedgerExistsError extends Error {
  override name = 'LedgerExistsError';
}

/**
 * Write `records` as a new ledger at `path` (refuses an existing one unless `force`, which removes it and its
 * sidecars first). Returns the number of records.
 */
export function writeNewLedger(path: string, records: EventInput[], opts: { force?: boolean } = {}): number {
  if (existsSync(path)) {
    if (!opts.force) throw new LedgerExistsError(`${path} already exists (a ledger is append-only: choose a new path, or --force to replace it)`);
    for (const p of [path, indexPathOf(path), snapshotDirOf(path)]) rmSync(p, { recursive: true, force: true });
    if (existsSync(lockPathOf(path))) throw new LedgerExistsError(`${path} is locked by a writer (${lockPathOf(path)})`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const w = openLedger(path, { create: true });
  try {
    w.append(records, { expectedLastSeq: 0 });
    w.flush();
  } finally {
    w.close();
  }
  return records.length;
}

/** The ledger path of machine number `index` (0: `path` itself; then NAME.<machine>.EXT beside it). */
export function machineLedgerPath(path: string, index: number, machine: string): string {
  if (index === 0) return path;
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${machine}${ext || '.ndjson'}`);
}
