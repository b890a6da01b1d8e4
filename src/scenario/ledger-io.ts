/**
 * Writing scenario, restore and demo events to ledgers. A new ledger gets sealed records (src/events sealRecord:
 * v, seq, prev, hash over the canonical encoding), one NDJSON line each.
 */
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, basename, extname, join } from 'node:path';
import { sealRecord } from '../events/record.js';
import { ZERO_HASH } from '../events/canonical.js';
import type { EventInput } from '../events/schema.js';

export class LedgerExistsError extends Error {
  override name = 'LedgerExistsError';
}

/** Write `records` as a new ledger at `path` (refuses to overwrite unless `force`). Returns the number of records. */
export function writeNewLedger(path: string, records: EventInput[], opts: { force?: boolean } = {}): number {
  if (existsSync(path) && !opts.force) throw new LedgerExistsError(`${path} already exists (a ledger is append-only: choose a new path or remove it)`);
  mkdirSync(dirname(path), { recursive: true });
  let prev = ZERO_HASH;
  const lines: string[] = [];
  records.forEach((r, i) => {
    const { record, line } = sealRecord(r, i + 1, prev, i);
    prev = record.hash;
    lines.push(line);
  });
  writeFileSync(path, lines.map((l) => `${l}\n`).join(''), { flag: opts.force ? 'w' : 'wx' });
  return records.length;
}

/** The ledger path of machine number `index` (0: `path` itself; then NAME.<machine>.EXT beside it). */
export function machineLedgerPath(path: string, index: number, machine: string): string {
  if (index === 0) return path;
  const ext = extname(path);
  return join(dirname(path), `${basename(path, ext)}.${machine}${ext || '.ndjson'}`);
}
