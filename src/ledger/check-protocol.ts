/** What the parallel reader (parallel.ts) and its checking thread (check-worker.ts) share. */
import type { Fault } from './errors.js';

/** Slots of the shared BigInt64Array. */
export const CHECKED = 0; // the last seq checked
export const STATE = 1;
export const STATE_RUNNING = 0n;
export const STATE_DONE = 1n;
export const STATE_FAILED = 2n;

/** The checker's first fault (or another error), sent to the main thread before STATE_FAILED is published. */
export type CheckerFailure =
  | { kind: 'corrupt'; name: string; file: string; fault: Fault }
  | { kind: 'error'; name: string; message: string; code?: string };
