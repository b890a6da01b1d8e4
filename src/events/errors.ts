/** Typed errors of the event layer. Every error about a record names the file and the line it came from. */

/** Why a record was refused. `bad-json`: the line is not JSON; `invalid`: JSON that is not a record of a known
 * version (the message names the field); `bad-hash`: the stored hash is not the hash of the record. */
export type RecordFault = 'bad-json' | 'invalid' | 'bad-hash';

/** Where a record came from, for messages: `ledger.ndjson:42`. */
export interface LineContext {
  file: string;
  line: number;
}

export class RecordError extends Error {
  override name = 'RecordError';
  readonly code = 'ERECORD';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: RecordFault,
    /** The field path, e.g. `op.flags`; undefined when the fault is not about one field. */
    readonly path: string | undefined,
    readonly detail: string,
  ) {
    super(`${file}:${line}: ${path !== undefined ? `${path}: ` : ''}${detail}`);
  }
}

/** A value that has no canonical encoding (a float, NaN, undefined in an array, a cycle, too deep). */
export class CanonicalError extends Error {
  override name = 'CanonicalError';
  readonly code = 'ECANONICAL';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

/** An event given to a writer that does not conform to the schema (a programming error in the producer). */
export class EventInputError extends Error {
  override name = 'EventInputError';
  readonly code = 'EEVENT';
  constructor(
    /** Index of the event in the batch given to append(). */
    readonly index: number,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`event #${index} of the batch: ${path}: ${detail}`);
  }
}
