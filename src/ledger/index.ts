/**
 * The ledger: an append-only, hash-chained NDJSON file (the embedded default; nothing else to run) with sidecars
 * `<ledger>.lock` (single writer), `<ledger>.idx` (seq → byte offset) and `<ledger>.snap/` (snapshots).
 */
export { openLedger, LedgerWriter, type OpenLedgerOptions, type AppendOptions, type AppendResult, type FsyncPolicy } from './writer.js';
export {
  readLedger,
  readLedgerSync,
  readLedgerBatches,
  readLedgerBatchesSync,
  readRecordAt,
  countRecords,
  type ReadOptions,
} from './reader.js';
export { verifyLedger, repairLedger, type VerifyOptions, type VerifyResult, type VerifyHook, type RecordContext, type RepairResult } from './verify.js';
export { ledgerInfo, type LedgerInfo } from './tail.js';
export { loadIndex, seekPoint, indexAnchor, DEFAULT_STRIDE, type SeqIndex, type LoadIndexResult } from './seqindex.js';
export { SnapshotStore, openSnapshotStore, type Snapshot } from './snapshots.js';
export { lockPathOf, indexPathOf, snapshotDirOf } from './paths.js';
export { createLedger, type CreateLedgerOptions } from './replace.js';
export {
  LedgerError,
  LedgerCorruptError,
  TornTailError,
  RepairRefusedError,
  ConcurrencyError,
  LockedError,
  LedgerNotFoundError,
  WriterStateError,
  SnapshotError,
  type Fault,
  type FaultReason,
} from './errors.js';
export { readReplayBatches, usesReadingThread, PIPELINE_MIN_RECORDS, type PipelineOptions } from './pipeline.js';
