/**
 * Upcasters: turn a record written by an older format version into the current one, so an old ledger still
 * validates and replays. The hash of an old record stays the hash of what is stored (verification runs on the raw
 * record, before upcasting), so upcasting never breaks the chain.
 *
 * Version 0 (the prototype format, before `op` existed). A v0 record has `v: 0` or no `v` at all:
 *   { v?: 0, seq, prev, hash, type: <call>, args?: {…the op's fields except call…}, pid?,
 *     result?: {ret, errno?, text?, ts?, rule?}, traced?: boolean, time?: <ISO wall time>,
 *     file?: <source file>, line?: <source line>, note? }
 * Upcast to v1: op = {call: type, ...args}; outcome = result; recorded = traced (kept only with a result);
 * at = {wall: time}; src = {file, line} (both or neither).
 */
import { describeValue, type Issue } from './dsl.js';
import { SCHEMA_VERSION } from './schema.js';

export type Upcaster = (raw: Record<string, unknown>) => { ok: Record<string, unknown> } | { issue: Issue };

const hasOwn = Object.prototype.hasOwnProperty;
const V0_FIELDS = new Set(['v', 'seq', 'prev', 'hash', 'type', 'args', 'pid', 'result', 'traced', 'time', 'file', 'line', 'note']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const upcastV0toV1: Upcaster = (raw) => {
  for (const k of Object.keys(raw)) if (!V0_FIELDS.has(k)) return { issue: { path: [k], message: 'unknown field (in a v0 record)' } };
  if (typeof raw.type !== 'string') return { issue: { path: ['type'], message: `expected a string, got ${describeValue(raw.type)}` } };
  if (hasOwn.call(raw, 'args') && !isPlainObject(raw.args)) return { issue: { path: ['args'], message: `expected an object, got ${describeValue(raw.args)}` } };
  const args = (raw.args ?? {}) as Record<string, unknown>;
  if (hasOwn.call(args, 'call')) return { issue: { path: ['args', 'call'], message: 'a v0 record names its call in "type", not in args' } };
  if (hasOwn.call(raw, 'traced') && typeof raw.traced !== 'boolean')
    return { issue: { path: ['traced'], message: `expected true or false, got ${describeValue(raw.traced)}` } };
  if (hasOwn.call(raw, 'file') !== hasOwn.call(raw, 'line'))
    return { issue: { path: [hasOwn.call(raw, 'file') ? 'line' : 'file'], message: 'a v0 record gives file and line together' } };
  const out: Record<string, unknown> = { v: 1, seq: raw.seq, prev: raw.prev, hash: raw.hash, op: { call: raw.type, ...args } };
  if (hasOwn.call(raw, 'pid')) out.pid = raw.pid;
  if (hasOwn.call(raw, 'result')) {
    out.outcome = raw.result;
    if (hasOwn.call(raw, 'traced')) out.recorded = raw.traced;
  }
  if (hasOwn.call(raw, 'time')) out.at = { wall: raw.time };
  if (hasOwn.call(raw, 'file')) out.src = { file: raw.file, line: raw.line };
  if (hasOwn.call(raw, 'note')) out.note = raw.note;
  return { ok: out };
};

/** UPCASTERS[n] turns a version-n record into a version-(n+1) one. */
export const UPCASTERS: Record<number, Upcaster> = { 0: upcastV0toV1 };

/** How a v1 field path reads in a v0 record, for error messages. */
export function v0PathOf(path: (string | number)[]): (string | number)[] {
  if (path[0] === 'op') return path.length === 1 ? ['args'] : path[1] === 'call' ? ['type'] : ['args', ...path.slice(1)];
  if (path[0] === 'outcome') return ['result', ...path.slice(1)];
  if (path[0] === 'recorded') return ['traced'];
  if (path[0] === 'at') return ['time'];
  if (path[0] === 'src') return path[1] === 'file' ? ['file'] : ['line'];
  return path;
}

/** The record's format version: `v`, or 0 when absent (the prototype did not write one). */
export function versionOf(raw: Record<string, unknown>): unknown {
  return hasOwn.call(raw, 'v') ? raw.v : 0;
}

/**
 * Bring a raw record to the current version. Returns the upcast record (the input itself when already current),
 * or an issue (unknown/newer version, or a malformed old record).
 */
export function upcast(raw: Record<string, unknown>): { ok: Record<string, unknown>; from: number } | { issue: Issue } {
  const v = versionOf(raw);
  if (v === SCHEMA_VERSION) return { ok: raw, from: SCHEMA_VERSION };
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    return { issue: { path: ['v'], message: `expected a record format version (0..${SCHEMA_VERSION}), got ${describeValue(v)}` } };
  if (v > SCHEMA_VERSION) return { issue: { path: ['v'], message: `record format version ${v} is newer than this tns understands (${SCHEMA_VERSION})` } };
  let cur = raw;
  for (let n = v; n < SCHEMA_VERSION; n++) {
    const step = UPCASTERS[n];
    if (!step) return { issue: { path: ['v'], message: `no upcaster from record format version ${n}` } };
    const r = step(cur);
    if ('issue' in r) return r;
    cur = r.ok;
  }
  return { ok: cur, from: v };
}
