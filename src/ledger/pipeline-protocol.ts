/**
 * What the pipeline's two threads share (src/ledger/pipeline.ts, pipeline-worker.ts): the control words in a
 * SharedArrayBuffer, the messages, and how an error crosses between them.
 */
import type { MessagePort } from 'node:worker_threads';
import type { TapeBatch } from '../events/index.js';
import type { ReadOptions } from './reader.js';
import { LedgerCorruptError, LedgerError, LedgerNotFoundError, TornTailError, type Fault } from './errors.js';

/** Int32 indexes into the control buffer. */
export const PRODUCED = 0; // messages posted by the reading thread
export const CONSUMED = 1; // batches taken by the replaying thread
export const CANCEL = 2; // 1: the replaying thread stopped early
export const GONE = 3; // 1: the reading thread exited without posting 'end' or 'error'
export const CONTROL_BYTES = 16;

export interface WorkerInput {
  path: string;
  opts: ReadOptions;
  /** Records whose seq is a multiple of this carry their hash (0: none). */
  hashEvery: number;
  /** Records per tape handed over. */
  batchSize: number;
  /** Batches the reading thread may be ahead. */
  ahead: number;
  control: SharedArrayBuffer;
  /** Where the reading thread posts its messages (the other end is read with receiveMessageOnPort). */
  port: MessagePort;
}

export type ErrorShape =
  | { kind: 'corrupt'; name: string; file: string; fault: Fault }
  | { kind: 'not-found'; file: string }
  | { kind: 'ledger'; file: string; message: string }
  | { kind: 'other'; name: string; message: string; stack?: string };

export type Message = { k: 'batch'; b: TapeBatch } | { k: 'end' } | { k: 'error'; e: ErrorShape };
/** A tape the replaying thread has decoded, handed back for reuse. */
export interface Returned {
  tape: Float64Array;
}

export function errorShape(e: unknown): ErrorShape {
  if (e instanceof LedgerCorruptError) return { kind: 'corrupt', name: e.name, file: e.file, fault: e.fault };
  if (e instanceof LedgerNotFoundError) return { kind: 'not-found', file: e.file };
  if (e instanceof LedgerError) return { kind: 'ledger', file: e.file, message: e.message };
  if (e instanceof Error) return { kind: 'other', name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) };
  return { kind: 'other', name: 'Error', message: String(e) };
}

/** The error the reading thread threw, as the sequential reader would have thrown it. */
export function errorOf(s: ErrorShape, path: string): Error {
  switch (s.kind) {
    case 'corrupt':
      return s.name === 'TornTailError' ? new TornTailError(s.file, s.fault) : new LedgerCorruptError(s.file, s.fault);
    case 'not-found':
      return new LedgerNotFoundError(s.file);
    case 'ledger':
      return new LedgerError(s.file, s.message);
    default: {
      const e = new Error(`${path}: the reading thread failed: ${s.name}: ${s.message}`);
      if (s.stack !== undefined) e.stack = `${e.name}: ${e.message}\n(reading thread) ${s.stack}`;
      return e;
    }
  }
}
