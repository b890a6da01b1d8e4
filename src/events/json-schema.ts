/**
 * The JSON Schema of a ledger record and the example files, derived from src/events/schema.ts and examples.ts.
 * `node dist/events/gen.js [DIR]` writes them to DIR (default: the repository's events/); a test fails when the
 * committed files are stale.
 */
import { toJsonSchema, type JsonSchema } from './dsl.js';
import { ZERO_HASH } from './canonical.js';
import { EXAMPLES } from './examples.js';
import { sealRecord } from './record.js';
import { ALL_CALLS, RecordSchema, SCHEMA_VERSION } from './schema.js';

export const SCHEMA_ID = `https://tns.invalid/events/v${SCHEMA_VERSION}/record.schema.json`;

export function buildJsonSchema(): JsonSchema {
  return toJsonSchema(RecordSchema, {
    id: SCHEMA_ID,
    title: `tns ledger record (format version ${SCHEMA_VERSION})`,
    description:
      'One line of a tns ledger (NDJSON). Generated from src/events/schema.ts: do not edit. ' +
      'Rules across fields (checked by tns, not expressible per field): an outcome with an errno has ret -1; ' +
      '`recorded` only with an outcome; src.endLine >= src.line. `hash` = sha256 (hex) of the canonical encoding ' +
      '(sorted keys, no whitespace, safe integers only) of the record without `hash`; `prev` = the previous ' +
      "record's hash, 64 zeros for seq 1; seq is 1-based and contiguous. Records of format version 0 (`type` " +
      'instead of `op.call`) are upcast on read.',
  });
}

/** The text of events/schema.json. */
export function schemaFileText(): string {
  return `${JSON.stringify(buildJsonSchema(), null, 2)}\n`;
}

/** The example files: file name (`<call>.json`) → text. Each is a complete record, seq 1, prev 64 zeros. */
export function exampleFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const call of ALL_CALLS) {
    const { record } = sealRecord(EXAMPLES[call], 1, ZERO_HASH);
    out.set(`${call}.json`, `${JSON.stringify(readableOrder(record), null, 2)}\n`);
  }
  return out;
}

const FIELD_ORDER = ['v', 'seq', 'prev', 'hash', 'op', 'pid', 'outcome', 'recorded', 'at', 'src', 'note'];

/** The record with its fields in reading order (the hash does not depend on key order). */
export function readableOrder(record: object): Record<string, unknown> {
  const r = record as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (r[k] !== undefined) out[k] = r[k];
  for (const k of Object.keys(r)) if (!(k in out) && r[k] !== undefined) out[k] = r[k];
  return out;
}
