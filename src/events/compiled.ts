/**
 * Code generation for the schema DSL (the way ajv does it): each schema becomes straight-line JavaScript built
 * with `new Function` — per closed object, one property read per field and one pass over the object's own keys
 * (a `switch` on the key) to find unknown fields; per union, a `switch` on the tag. No closure per field, no
 * allocation on the success path.
 *
 * Two products, both used only as fast paths in front of the reference code, which stays the single source of
 * error messages and encodings:
 *  - `compileGuard(s)`: a predicate. `true` promises that the reference checker (`compileReference` in dsl.ts)
 *    returns undefined for the value; `false` means "ask the reference", which then finds the exact Issue (or,
 *    in a case the guard is too cautious for, accepts). The property test in test/events-compiled.test.ts holds
 *    the guard to that promise on random valid and mutated values.
 *  - `compileSealEncoder(s)`: for the record schema, validation fused with the canonical encoding
 *    (src/events/canonical.ts): the keys of every closed object are sorted once, here, instead of per record.
 *    Returns the encoding split around where `hash` goes, or undefined whenever anything is not exactly the
 *    common case (a prototype other than Object.prototype/null, an invalid field),
 *    and the caller falls back to the reference path, which validates and encodes (and throws) as before.
 *
 * How a field is read matches the reference exactly: a field is what `hasOwn(o, k) ? o[k] : undefined` gives.
 * The generated code reads `o[k]` and counts the known fields it found; the pass over the own keys counts the
 * own, defined, known ones (and refuses any other own, defined key). Equal counts mean no field came from a
 * prototype, so every value read is the own value the reference would have checked.
 */
import type { ObjS, OptS, Props, S, UnionS } from './dsl.js';

const hasOwn = Object.prototype.hasOwnProperty;

type Node = S | OptS<S>;

/** Largest enum checked with a chain of `===` (beyond it: a Set). */
const INLINE_ENUM = 8;

/** Characters that make a string's JSON text differ from `"` + s + `"`: controls, `"`, `\`, surrogates. */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/** HEX_DIGIT[c] is 1 for the char codes of 0-9 and a-f (a table lookup per char beats comparisons and regexps). */
const HEX_DIGIT = new Uint8Array(65536);
for (const c of '0123456789abcdef') HEX_DIGIT[c.charCodeAt(0)] = 1;
/**
 * The last string found to be all hex digits. A record's `prev` is the previous record's `hash`: reading a ledger,
 * every other hash check is a string comparison with the one before.
 */
let lastHex = '';

/** Every character is 0-9 or a-f. */
function isHex(x: string): boolean {
  if (x === lastHex) return true;
  for (let i = 0; i < x.length; i++) if (HEX_DIGIT[x.charCodeAt(i)] !== 1) return false;
  lastHex = x;
  return true;
}

export class Gen {
  readonly consts: unknown[] = [];
  readonly fns: string[] = [];
  /** Generated function per (kind prefix, schema node): a node shared by several fields is generated once. */
  private readonly memo = new Map<string, Map<object, string>>();
  private seq = 0;

  constant(x: unknown): string {
    let i = this.consts.indexOf(x);
    if (i < 0) i = this.consts.push(x) - 1;
    return `C[${i}]`;
  }

  name(prefix: string): string {
    return `${prefix}${this.seq++}`;
  }

  memoized(key: object, prefix: string, body: (name: string) => string): string {
    let memo = this.memo.get(prefix);
    if (memo === undefined) this.memo.set(prefix, (memo = new Map()));
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const name = this.name(prefix);
    memo.set(key, name);
    this.fns.push(body(name));
    return name;
  }

  build<F>(root: string): F {
    const src = `"use strict";\n${this.fns.join('\n')}\nreturn ${root};`;
    return new Function('C', 'hasOwn', 'NEEDS_ESCAPE', 'OP', 'isHex', src)(this.consts, hasOwn, NEEDS_ESCAPE, Object.prototype, isHex) as F;
  }
}

/** Strip `opt` and `ref` (transparent for validation and encoding). */
export function bare(s: Node): S {
  let n: Node = s;
  while (n.k === 'opt' || n.k === 'ref') n = n.inner;
  return n;
}

const isInt32 = (n: number): boolean => Number.isInteger(n) && n >= -0x80000000 && n <= 0x7fffffff;

/** A boolean expression over the local `x`: true iff x is valid for a scalar schema (int, str, bool, lit, enum). */
function scalarTest(g: Gen, s: S): string | undefined {
  switch (s.k) {
    case 'int': {
      const bounds: string[] = [];
      if (isInt32(s.min) && isInt32(s.max)) {
        bounds.push('(x | 0) === x');
        if (s.min !== -0x80000000) bounds.push(`x >= ${s.min}`);
        if (s.max !== 0x7fffffff) bounds.push(`x <= ${s.max}`);
      } else {
        bounds.push('Number.isInteger(x)', `x >= ${s.min}`, `x <= ${s.max}`);
      }
      return `(typeof x === "number" && ${bounds.join(' && ')})`;
    }
    case 'str': {
      const t = ['typeof x === "string"'];
      if (s.minLen !== undefined) t.push(`x.length >= ${s.minLen}`);
      if (s.maxLen !== undefined) t.push(`x.length <= ${s.maxLen}`);
      if (s.pattern !== undefined) {
        // A fixed-length lowercase hex string (a hash): a loop over the char codes beats the regexp engine here.
        const hex = s.pattern.flags === '' ? /^\^\[0-9a-f\]\{(\d+)\}\$$/.exec(s.pattern.source) : null;
        if (hex !== null) t.push(`x.length === ${hex[1]} && isHex(x)`);
        else t.push(`${g.constant(s.pattern)}.test(x)`);
      }
      return `(${t.join(' && ')})`;
    }
    case 'bool':
      return '(x === true || x === false)';
    case 'lit':
      return `(x === ${literal(s.value)})`;
    case 'enum':
      if (s.values.length <= INLINE_ENUM) return `(${s.values.map((v) => `x === ${literal(v)}`).join(' || ') || 'false'})`;
      return `${g.constant(new Set<unknown>(s.values))}.has(x)`;
    default:
      return undefined;
  }
}

export function literal(v: string | number | boolean): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // NaN/Infinity: never equal to parsed JSON
  return typeof v === 'number' && Object.is(v, -0) ? '-0' : JSON.stringify(v);
}

/** Statement(s) that `return false` unless the local `x` is valid for s. */
function guardStmt(g: Gen, s: Node): string {
  const b = bare(s);
  const t = scalarTest(g, b);
  if (t !== undefined) return `if (!${t}) return false;`;
  return `if (!${guardFn(g, b)}(x)) return false;`;
}

/** The name of a generated function `(x) => boolean` for an array, object or union schema. */
function guardFn(g: Gen, s: S): string {
  switch (s.k) {
    case 'arr':
      return g.memoized(s, 'a', (name) => {
        const max = s.maxItems !== undefined ? `if (v.length > ${s.maxItems}) return false;` : '';
        return `function ${name}(v) {
  if (!Array.isArray(v)) return false;
  ${max}
  for (let i = 0; i < v.length; i++) { const x = v[i]; ${guardStmt(g, s.items)} }
  return true;
}`;
      });
    case 'obj':
      return g.memoized(s, 'o', (name) => {
        const keys = Object.keys(s.props as Props);
        const fields = keys.map((k) => {
          const p = (s.props as Props)[k];
          const read = `x = v[${JSON.stringify(k)}];`;
          if (p.k === 'opt') return `${read} if (x !== undefined) { ${guardStmt(g, p)} p++; }`;
          return `${read} if (x === undefined) return false; ${guardStmt(g, p)} p++;`;
        });
        return `function ${name}(v) {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  let p = 0, x;
  ${fields.join('\n  ')}
  ${ownKeysCheck(keys)}
}`;
      });
    case 'union':
      return g.memoized(s, 'u', (name) => unionDispatch(name, s, (variant) => `return ${guardFn(g, variant)}(v);`, 'return false;'));
    default:
      throw new TypeError(`no guard for a ${s.k} schema`);
  }
}

/**
 * `return <the object has no own, defined field outside keys, and exactly p own, defined known fields>`: the end
 * of an object check (p counts the known fields whose read gave a defined value).
 */
function ownKeysCheck(keys: string[]): string {
  return `${countOwnKnown(keys, 'false')}
  return n === p;`;
}

/** Count the own, defined, known keys into `n`; `return fail` on any other own, defined key. */
function countOwnKnown(keys: string[], fail: string): string {
  return `let n = 0;
  for (const k in v) {
    if (!hasOwn.call(v, k) || v[k] === undefined) continue;
    switch (k) { ${keys.map((k) => `case ${JSON.stringify(k)}:`).join(' ')} n++; break; default: return ${fail}; }
  }`;
}

/** A predicate that is true only for values the reference checker accepts (see the file comment). */
export function compileGuard(s: Node): (v: unknown) => boolean {
  const g = new Gen();
  const b = bare(s);
  const t = scalarTest(g, b);
  if (t !== undefined) return g.build(`function (x) { return ${t}; }`);
  return g.build(guardFn(g, b));
}

// ---------------------------------------------------------------------------------------------------------------
// Sealing: validation fused with the canonical encoding

/** Statement(s) that `return undefined` unless x is valid for s, and otherwise set `e` to x's canonical encoding. */
function encodeStmt(g: Gen, s: Node): string {
  const b = bare(s);
  const t = scalarTest(g, b);
  if (t !== undefined) {
    if (b.k === 'int') {
      // The canonical encoding is String(n) for a safe integer (String(-0) is "0"); a range reaching beyond the
      // safe integers needs the reference (which refuses unsafe ones).
      const safe = b.min >= Number.MIN_SAFE_INTEGER && b.max <= Number.MAX_SAFE_INTEGER;
      return `if (!${t}${safe ? '' : ' || !Number.isSafeInteger(x)'}) return undefined; e = "" + x;`;
    }
    if (b.k === 'bool') return `if (!${t}) return undefined; e = x ? "true" : "false";`;
    // A literal's encoding is known here; so is an enum's when none of its values needs escaping.
    if (b.k === 'lit') return `if (!${t}) return undefined; e = ${JSON.stringify(JSON.stringify(b.value))};`;
    if (b.k === 'enum' && !b.values.some((v) => NEEDS_ESCAPE.test(v))) return `if (!${t}) return undefined; e = '"' + x + '"';`;
    // Other strings as JSON.stringify writes them (the canonical definition); most need no escapes.
    return `if (!${t}) return undefined; e = NEEDS_ESCAPE.test(x) ? JSON.stringify(x) : '"' + x + '"';`;
  }
  return `e = ${encodeFn(g, b)}(x); if (e === undefined) return undefined;`;
}

/** The name of a generated function `(x) => string | undefined` (the canonical encoding, or undefined). */
function encodeFn(g: Gen, s: S): string {
  switch (s.k) {
    case 'arr':
      return g.memoized(s, 'A', (name) => {
        const max = s.maxItems !== undefined ? `if (v.length > ${s.maxItems}) return undefined;` : '';
        return `function ${name}(v) {
  if (!Array.isArray(v)) return undefined;
  ${max}
  let out = "[", x, e;
  for (let i = 0; i < v.length; i++) { x = v[i]; ${encodeStmt(g, s.items)} out += i === 0 ? e : "," + e; }
  return out + "]";
}`;
      });
    case 'obj':
      return g.memoized(s, 'O', (name) => `function ${name}(v) {
  ${plainObjectCheck()}
  let p = 0, x, e, out = "{";
  ${encodeFields(g, s.props as Props, undefined)}
  ${countOwnKnown(Object.keys(s.props), 'undefined')}
  if (n !== p) return undefined;
  return out + "}";
}`);
    case 'union':
      return g.memoized(s, 'U', (name) => unionDispatch(name, s, (variant) => `return ${encodeFn(g, variant)}(v);`, 'return undefined;'));
    default:
      throw new TypeError(`no encoder for a ${s.k} schema`);
  }
}

/**
 * A generated function `(v)` that switches on the union's tag: `onVariant(variant, index)` gives the statements of
 * each case, `miss` the statement for anything else (not an object, or no variant's tag).
 */
export function unionDispatch(name: string, s: UnionS<string, readonly ObjS<any>[]>, onVariant: (variant: ObjS<any>, index: number) => string, miss: string): string {
  const cases = s.variants.map((variant, index) => {
    const t = (variant.props as Props)[s.tag];
    if (!t || t.k !== 'lit') throw new TypeError(`union on "${s.tag}": a variant has no literal "${s.tag}"`);
    return `case ${literal(t.value)}: ${onVariant(variant, index)}`;
  });
  return `function ${name}(v) {
  if (typeof v !== "object" || v === null) ${miss}
  switch (v[${JSON.stringify(s.tag)}]) {
    ${cases.join('\n    ')}
    default: ${miss}
  }
}`;
}

/** Only plain objects have a canonical encoding (the reference throws for others: let it). */
function plainObjectCheck(): string {
  return `if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const proto = Object.getPrototypeOf(v);
  if (proto !== OP && proto !== null) return undefined;`;
}

/**
 * The fields in canonical (sorted) order; each present one is validated and appended to `out`. With `split`, the
 * key `split` is validated but not encoded, and at its place the text so far is moved to `pre` (out restarts).
 */
function encodeFields(g: Gen, props: Props, split: string | undefined): string {
  const keys = Object.keys(props).sort();
  const out: string[] = [];
  let splitDone = false;
  for (const k of keys) {
    if (split !== undefined && !splitDone && k >= split) {
      out.push('pre = out; out = "";');
      splitDone = true;
    }
    const p = props[k];
    const key = JSON.stringify(`${JSON.stringify(k)}:`);
    if (k === split) {
      // Validated only (its value is a placeholder at sealing time).
      out.push(`x = v[${JSON.stringify(k)}]; if (x === undefined) ${p.k === 'opt' ? '{}' : 'return undefined;'} else { ${guardStmtForEncoder(g, p)} p++; }`);
      continue;
    }
    const body = `${encodeStmt(g, p)} out += (out.length > ${split !== undefined ? '0' : '1'} ? "," : "") + ${key} + e; p++;`;
    if (p.k === 'opt') out.push(`x = v[${JSON.stringify(k)}]; if (x !== undefined) { ${body} }`);
    else out.push(`x = v[${JSON.stringify(k)}]; if (x === undefined) return undefined; ${body}`);
  }
  if (split !== undefined && !splitDone) out.push('pre = out; out = "";');
  return out.join('\n  ');
}

function guardStmtForEncoder(g: Gen, s: Node): string {
  const b = bare(s);
  const t = scalarTest(g, b);
  return `if (!${t ?? `${guardFn(g, b)}(x)`}) return undefined;`;
}

/** The canonical encoding of a record, split where its `hash` member goes (see compileSealEncoder). */
export interface SealParts {
  /** The members before `hash` (no opening brace, no trailing comma). */
  pre: string;
  /** The members after `hash` (no leading comma, no closing brace). */
  post: string;
}

/**
 * For an object schema with a `hash` field: a function that validates a record (as the reference checker does,
 * minus any cross-field rules) and returns its canonical encoding without `hash`, split at the place `hash`
 * takes in sorted order — or undefined to send the record down the reference path (see the file comment).
 */
export function compileSealEncoder(s: Node, split = 'hash'): (v: unknown) => SealParts | undefined {
  const b = bare(s);
  if (b.k !== 'obj') throw new TypeError('compileSealEncoder needs an object schema');
  const g = new Gen();
  const props = b.props as Props;
  const name = g.name('R');
  g.fns.push(`function ${name}(v) {
  ${plainObjectCheck()}
  let p = 0, x, e, out = "", pre = "";
  ${encodeFields(g, props, split)}
  ${countOwnKnown(Object.keys(props), 'undefined')}
  if (n !== p) return undefined;
  return { pre: pre, post: out };
}`);
  return g.build(name);
}
