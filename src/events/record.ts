/**
 * Records: validation of untrusted records (a line from disk), sealing of new ones (seq, prev, hash) and the
 * canonical line a writer stores.
 */
import { compile, formatPath, type Issue } from './dsl.js';
import { compileGuard, compileSealEncoder } from './compiled.js';
import { recordHash, sealEncoding, sha256Hex, ZERO_HASH } from './canonical.js';
import { EventInputError, RecordError, type LineContext } from './errors.js';
import { EventOpSchema, OutcomeSchema, RecordSchema, SCHEMA_VERSION, type EventInput, type EventRecord } from './schema.js';
import { upcast, v0PathOf } from './upcast.js';

const checkRecordShape = compile(RecordSchema);
const checkOpShape = compile(EventOpSchema);
const checkOutcomeShape = compile(OutcomeSchema);
/** True only for a value validateRecord's shape check accepts (a current-version record: `v` is the literal 1). */
const guardRecord = compileGuard(RecordSchema);
/** Validation of a record to seal fused with its canonical encoding (undefined: take the reference path). */
const sealParts = compileSealEncoder(RecordSchema, 'hash');

/**
 * Rules across fields that the per-field schema cannot say (also listed in the JSON Schema's description):
 *  - an outcome with an errno has ret -1 (how the kernel's syscall return is shown);
 *  - `recorded` only with an outcome;
 *  - src.endLine ≥ src.line.
 */
function crossFieldIssue(r: EventRecord): Issue | undefined {
  const o = r.outcome;
  if (o && o.errno !== undefined && o.ret !== -1) return { path: ['outcome', 'ret'], message: `an outcome with errno ${o.errno} has ret -1, got ${o.ret}` };
  if (r.recorded !== undefined && o === undefined) return { path: ['recorded'], message: 'recorded is set but there is no outcome' };
  if (r.src && r.src.endLine !== undefined && r.src.endLine < r.src.line)
    return { path: ['src', 'endLine'], message: `endLine ${r.src.endLine} is before line ${r.src.line}` };
  return undefined;
}

/** Check a value against the current record schema; undefined when valid. Never throws. */
export function validateRecord(value: unknown): Issue | undefined {
  return checkRecordShape(value) ?? crossFieldIssue(value as EventRecord);
}

/** Check an op (kernel op, host event or marker); undefined when valid. Never throws. */
export function validateOp(value: unknown): Issue | undefined {
  return checkOpShape(value);
}

export function validateOutcome(value: unknown): Issue | undefined {
  return checkOutcomeShape(value);
}

export interface DecodeOptions {
  /** Recompute the record's hash and compare it with the stored one (verify does; plain reading need not). */
  checkHash?: boolean;
  /**
   * The line the record was parsed from. With checkHash, a line already in canonical form (as tns writes it) is
   * hashed as it is, without re-encoding; any other line is re-encoded canonically.
   */
  text?: string;
}

/** The hash of a stored line read directly: the line minus its `"hash":"…"` member, when that is where tns puts it. */
function hashOfCanonicalLine(text: string, hash: string): boolean {
  const member = `"hash":"${hash}"`;
  const at = text.indexOf(member);
  if (at < 0) return false;
  let body: string;
  if (text.charCodeAt(at + member.length) === 44 /* , */) body = text.slice(0, at) + text.slice(at + member.length + 1);
  else if (text.charCodeAt(at - 1) === 44) body = text.slice(0, at - 1) + text.slice(at + member.length);
  else return false;
  return sha256Hex(body) === hash;
}

/**
 * Turn an untrusted parsed value into a current-version record: version check, upcast, field-by-field validation
 * and (optionally) the hash check. Throws only RecordError, naming ctx.file:ctx.line and the field.
 */
export function decodeRecord(raw: unknown, ctx: LineContext, opts: DecodeOptions = {}): EventRecord {
  // The common case: a valid current-version record (upcast would return it unchanged, validateRecord accept it).
  if (guardRecord(raw) && crossFieldIssue(raw as EventRecord) === undefined) {
    if (opts.checkHash) checkHash(raw as Record<string, unknown>, (raw as EventRecord).hash, ctx, opts.text);
    return raw as EventRecord;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RecordError(ctx.file, ctx.line, 'invalid', undefined, `expected a record (a JSON object), got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  const up = upcast(raw as Record<string, unknown>);
  if ('issue' in up) throw new RecordError(ctx.file, ctx.line, 'invalid', formatPath('', up.issue.path), up.issue.message);
  const rec = up.ok;
  const bad = validateRecord(rec);
  if (bad) {
    const path = up.from === 0 ? formatPath('', v0PathOf(bad.path)) : formatPath('', bad.path);
    throw new RecordError(ctx.file, ctx.line, 'invalid', path, up.from === 0 ? `${bad.message} (in a v0 record)` : bad.message);
  }
  if (opts.checkHash) checkHash(raw as Record<string, unknown>, rec.hash as string, ctx, opts.text);
  return rec as EventRecord;
}

/** The hash covers the record as stored (before upcasting); the stored record is known well-formed by now. */
function checkHash(raw: Record<string, unknown>, hash: string, ctx: LineContext, text: string | undefined): void {
  if (text !== undefined && hashOfCanonicalLine(text, hash)) return;
  const want = recordHash(raw);
  if (want !== hash) throw new RecordError(ctx.file, ctx.line, 'bad-hash', 'hash', `stored hash ${hash.slice(0, 16)}… is not the record's hash ${want.slice(0, 16)}…`);
}

/** Parse one line (without its '\n') and decode it. Throws only RecordError. */
export function parseRecordLine(line: string, ctx: LineContext, opts: DecodeOptions = {}): EventRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (e) {
    throw new RecordError(ctx.file, ctx.line, 'bad-json', undefined, `not JSON (${(e as Error).message})`);
  }
  return decodeRecord(raw, ctx, opts.checkHash ? { ...opts, text: line } : opts);
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * `{ ...input, v, seq, prev, hash: ZERO_HASH }`. Object.assign makes the same object (same own properties, same
 * order) many times faster than a spread over inputs of many shapes (V8 measured ~0.2 µs vs ~8-15 µs here); the one
 * difference — an own `__proto__` key, which assign would turn into the prototype — keeps the spread.
 */
function draftOf(input: EventInput, seq: number, prev: string): Record<string, unknown> {
  if (typeof input === 'object' && input !== null && hasOwn.call(input, '__proto__')) return { ...input, v: SCHEMA_VERSION, seq, prev, hash: ZERO_HASH };
  const draft: Record<string, unknown> = Object.assign({}, input);
  draft.v = SCHEMA_VERSION;
  draft.seq = seq;
  draft.prev = prev;
  draft.hash = ZERO_HASH;
  return draft;
}

/**
 * Give an event its place in the log: v, seq and prev, then its hash. Returns the record and its canonical line
 * (without '\n'). The input is validated first (EventInputError naming the field on a bad one).
 */
export function sealRecord(input: EventInput, seq: number, prev: string, index = 0): { record: EventRecord; line: string } {
  const draft = draftOf(input, seq, prev);
  const parts = sealParts(draft);
  if (parts !== undefined && crossFieldIssue(draft as EventRecord) === undefined) {
    // Exactly what sealEncoding gives: the members in sorted order, `"hash":"…"` in its place in the line only.
    const { pre, post } = parts;
    const hash = sha256Hex(pre === '' ? `{${post}}` : post === '' ? `{${pre}}` : `{${pre},${post}}`);
    draft.hash = hash;
    return { record: draft as EventRecord, line: `{${pre}${pre === '' ? '' : ','}"hash":"${hash}"${post === '' ? '' : ','}${post}}` };
  }
  const bad = validateRecord(draft);
  if (bad) throw new EventInputError(index, formatPath('', bad.path), bad.message);
  // sealEncoding skips the `hash` key (no delete: it would slow the object down for everything after).
  const { hash, line } = sealEncoding(draft);
  draft.hash = hash;
  return { record: draft as EventRecord, line };
}

