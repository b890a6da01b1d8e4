/**
 * The canonical encoding used for hashing (and for the stored lines themselves):
 *  - JSON, no whitespace;
 *  - object keys sorted by UTF-16 code units (Array.prototype.sort's default order), keys whose value is
 *    `undefined` omitted;
 *  - numbers must be safe integers (|n| ≤ 2^53-1) and are written as plain decimal (-0 as 0): no floats, no
 *    exponents, so no float-formatting differences between versions or languages;
 *  - strings as JSON.stringify writes them (ECMAScript's well-formed JSON.stringify: `"` `\` and control characters
 *    escaped with \b \f \n \r \t or \u00XX, lone surrogates as \uDXXX, everything else literal UTF-8);
 *  - `null`, `true`, `false`; arrays in order (`undefined` inside an array is refused); nesting ≤ 64 levels.
 * This definition is part of the ledger format and never changes with the schema version: a record's hash is
 * computed over its canonical encoding as stored, whatever version it has.
 */
import * as crypto from 'node:crypto';
import { CanonicalError } from './errors.js';

const MAX_DEPTH = 64;

export const ZERO_HASH = '0'.repeat(64);

/** `"key":` for a key; the vocabulary's few keys are cached (bounded, so hostile input cannot grow it). */
const keyCache = new Map<string, string>();
function keyOf(k: string): string {
  let e = keyCache.get(k);
  if (e === undefined) {
    e = `${JSON.stringify(k)}:`;
    if (keyCache.size < 512) keyCache.set(k, e);
  }
  return e;
}

export function canonicalJson(value: unknown): string {
  return enc(value, 0, '$');
}

function enc(v: unknown, depth: number, path: string): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isSafeInteger(v)) throw new CanonicalError(path, `only safe integers have a canonical encoding, got ${v}`);
      return v === 0 ? '0' : String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) throw new CanonicalError(path, `nested deeper than ${MAX_DEPTH} levels`);
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          const item = v[i];
          if (item === undefined) throw new CanonicalError(`${path}[${i}]`, 'undefined inside an array has no encoding');
          if (i > 0) out += ',';
          out += enc(item, depth + 1, path);
        }
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new CanonicalError(path, `only plain objects have a canonical encoding`);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const x = o[k];
        if (x === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${keyOf(k)}${enc(x, depth + 1, path)}`;
      }
      return `${out}}`;
    }
    case 'undefined':
      throw new CanonicalError(path, 'undefined has no encoding');
    default:
      throw new CanonicalError(path, `a ${typeof v} has no JSON encoding`);
  }
}

/**
 * Encode a record for the log: returns the canonical encoding without `hash` (what the hash covers) and the full
 * line (the same encoding with `"hash":"…"` in its sorted place, no trailing newline).
 */
export function sealEncoding(record: Record<string, unknown>): { body: string; hash: string; line: string } {
  const keys = Object.keys(record).sort();
  const parts: string[] = [];
  let hashAt = -1;
  for (const k of keys) {
    if (k === 'hash') continue;
    const x = record[k];
    if (x === undefined) continue;
    if (hashAt < 0 && k > 'hash') hashAt = parts.length;
    parts.push(`${keyOf(k)}${enc(x, 1, `$.${k}`)}`);
  }
  if (hashAt < 0) hashAt = parts.length;
  const body = `{${parts.join(',')}}`;
  const hash = sha256Hex(body);
  parts.splice(hashAt, 0, `"hash":"${hash}"`);
  return { body, hash, line: `{${parts.join(',')}}` };
}

/** The hash a stored record should carry: sha256 over the canonical encoding of the record without `hash`. */
export function recordHash(record: Record<string, unknown>): string {
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    if (k === 'hash') continue;
    const x = record[k];
    if (x === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += `${keyOf(k)}${enc(x, 1, `$.${k}`)}`;
  }
  return sha256Hex(`${out}}`);
}

/** Node ≥ 20.12 has a one-shot crypto.hash (no Hash object per call); older ones use createHash. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** The sha256 of a string's UTF-8 bytes, or of bytes, in lowercase hex. */
export function sha256Hex(data: string | Uint8Array): string {
  if (oneShot !== undefined) return oneShot('sha256', data, 'hex');
  const h = crypto.createHash('sha256');
  return (typeof data === 'string' ? h.update(data, 'utf8') : h.update(data)).digest('hex');
}
