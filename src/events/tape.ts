/**
 * A binary form ("tape") of values that conform to a schema, for handing checked records from one thread to another
 * (src/ledger/pipeline.ts). The reading thread parses and checks a record, then writes it here as numbers; the
 * replaying thread rebuilds the same plain object from the numbers for a fraction of what JSON.parse costs, and
 * moving a tape between threads is a transfer of one ArrayBuffer (posting the objects themselves would cost a
 * structured clone, which measured slower than parsing them again).
 *
 * Code is generated per schema, like the validators (compiled.ts). The layout, field by field in the sorted key
 * order of every object (the canonical order, so the order of a ledger line's keys):
 *  - int: the number itself (a double: every safe integer, and -0, exactly);
 *  - bool: 0 or 1; lit: nothing (the schema knows it); enum: the index of the value;
 *  - str: nothing on the tape: the batch's strings travel as a list, in the order they are read (posting a list
 *    of strings is a copy of their characters; interning them in a table measured 3-7% slower end to end, the
 *    hashing on the reading thread costing more than the copies it saved);
 *  - arr: the length, then the items;
 *  - obj: a bit mask of the optional fields present (when the object has any), then the fields present;
 *  - union: the index of the variant, then the variant (its tag is a literal: nothing more).
 *
 * The encoder trusts its input to conform (the caller validated it); the decoder trusts the tape to come from the
 * encoder. Decoded objects have their keys in sorted order: what JSON.parse gives for a line tns wrote; a ledger
 * line written with another key order decodes to an equal value with sorted keys.
 */
import type { ObjS, OptS, Props, S, UnionS } from './dsl.js';
import { Gen, bare, literal, unionDispatch } from './compiled.js';

type Node = S | OptS<S>;

/** One batch of encoded values, as it travels between threads (transfer `tape.buffer`). */
export interface TapeBatch {
  /** The tape (its first `words` entries are used). */
  tape: Float64Array;
  words: number;
  /** Values in the batch. */
  count: number;
  /** The batch's strings, in order. */
  strings: string[];
}

export interface TapeEncoder {
  /** Append a value that conforms to the schema. */
  write(v: unknown): void;
  /** Values written since the last take(). */
  readonly count: number;
  /**
   * The batch so far; the encoder starts a new one on `next` — a tape handed back by the decoder's side, reused
   * when it is large enough — or on a new tape.
   */
  take(next?: Float64Array): TapeBatch;
}

export interface TapeDecoder {
  /** Start reading a batch (any batch an encoder of the same schema made). */
  load(b: TapeBatch): void;
  /** The next value of the loaded batch. */
  read(): unknown;
}

export interface TapeCodec {
  encoder(): TapeEncoder;
  decoder(): TapeDecoder;
}

/**
 * The most tape words a value of this schema takes, not counting array items (a loop checks room per item, for the
 * item and for what the enclosing values may still write after the array: see `slackWords`).
 */
function maxWords(s: Node): number {
  const b = bare(s);
  switch (b.k) {
    case 'lit':
    case 'str':
      return 0;
    case 'int':
    case 'bool':
    case 'enum':
    case 'arr':
      return 1;
    case 'obj': {
      const props = Object.values(b.props as Props);
      return (props.some((p) => p.k === 'opt') ? 1 : 0) + props.reduce((n, p) => n + maxWords(p), 0);
    }
    case 'union':
      return 1 + Math.max(0, ...b.variants.map((v) => maxWords(v)));
    default:
      throw new TypeError(`tape: no layout for a ${(b as S).k} schema`);
  }
}

/**
 * A bound on the words still to be written, without a check of their own, after any array item of a value of this
 * schema: the rest of the root value, and the rest of each enclosing array item — at most maxWords of the root plus
 * maxWords of every array's items. Each array item reserves it on top of its own words, so that the fields after an
 * array (only checked for when the value started) still fit when the items end at the tape's end.
 */
function slackWords(s: Node): number {
  let n = maxWords(s);
  const walk = (x: Node): void => {
    const b = bare(x);
    if (b.k === 'arr') {
      n += maxWords(b.items);
      walk(b.items);
    } else if (b.k === 'obj') for (const p of Object.values(b.props as Props)) walk(p);
    else if (b.k === 'union') for (const v of b.variants) walk(v);
  };
  walk(s);
  return n;
}

/** An object's fields in tape order (sorted keys), and each optional field's bit in the mask. */
function objectLayout(s: ObjS<any>): { props: Props; keys: string[]; bits: Map<string, number> } {
  const props = s.props as Props;
  const keys = Object.keys(props).sort();
  if (keys.includes('__proto__')) throw new TypeError('tape: a field named __proto__');
  const bits = new Map<string, number>();
  for (const k of keys) if (props[k].k === 'opt') bits.set(k, 2 ** bits.size);
  if (bits.size > 52) throw new TypeError('tape: more than 52 optional fields in one object');
  return { props, keys, bits };
}

/** `(m has bit)` as an expression. */
const hasBit = (bit: number) => (bit <= 2 ** 30 ? `(m & ${bit}) !== 0` : `Math.floor(m / ${bit}) % 2 === 1`);

// --- encoder ------------------------------------------------------------------------------------------------------

/** Statements that write the local `x` (valid for s). */
function encStmt(g: Gen, s: Node, slack: number): string {
  const b = bare(s);
  switch (b.k) {
    case 'int':
      return 'T[i++] = x;';
    case 'bool':
      return 'T[i++] = x ? 1 : 0;';
    case 'lit':
      return '';
    case 'enum':
      return `T[i++] = ${g.constant(new Map(b.values.map((v, k) => [v, k])))}.get(x);`;
    case 'str':
      return 'STR.push(x);';
    default:
      return `${encFn(g, b, slack)}(x);`;
  }
}

/** `slack`: the words an array item reserves beyond its own (slackWords of the root). */
function encFn(g: Gen, s: S, slack: number): string {
  switch (s.k) {
    case 'arr': {
      const w = maxWords(s.items) + slack;
      return g.memoized(s, 'EA', (name) => `function ${name}(v) {
  const n = v.length; T[i++] = n;
  for (let j = 0; j < n; j++) { if (i + ${w} > T.length) grow(${w}); const x = v[j]; ${encStmt(g, s.items, slack)} }
}`);
    }
    case 'obj':
      return g.memoized(s, 'EO', (name) => {
        const { props, keys, bits } = objectLayout(s);
        const mask = bits.size > 0 ? [`let m = 0;`, ...[...bits].map(([k, bit]) => `if (v[${JSON.stringify(k)}] !== undefined) m += ${bit};`), 'T[i++] = m;'] : [];
        const fields = keys.map((k) => {
          const body = encStmt(g, props[k], slack);
          if (body === '') return '';
          const read = `x = v[${JSON.stringify(k)}];`;
          return bits.has(k) ? `${read} if (x !== undefined) { ${body} }` : `${read} ${body}`;
        });
        return `function ${name}(v) {
  let x;
  ${mask.join('\n  ')}
  ${fields.filter((f) => f !== '').join('\n  ')}
}`;
      });
    case 'union':
      return g.memoized(s, 'EU', (name) =>
        unionDispatch(name, s, (variant, k) => `T[i++] = ${k}; ${encFn(g, variant, slack)}(v); return;`, `throw new TypeError("tape: a value outside the union: " + String(v[${JSON.stringify(s.tag)}]));`),
      );
    default:
      throw new TypeError(`tape: no encoder for a ${s.k} schema`);
  }
}

const ENCODER_STATE = `
let T = new Float64Array(1 << 14), i = 0, count = 0, STR = [];
function grow(w) {
  let n = T.length * 2;
  while (n < i + w) n *= 2;
  const t = new Float64Array(n);
  t.set(T.subarray(0, i));
  T = t;
}
function take(next) {
  const b = { tape: T, words: i, count: count, strings: STR };
  T = next !== undefined && next.length >= T.length ? next : new Float64Array(T.length);
  i = 0; count = 0; STR = [];
  return b;
}`;

/** One compilation, many instances: the generated functions and their state live in a factory's closure. */
function factory<T>(g: Gen, state: string, root: string): () => T {
  const src = `"use strict";\nreturn function () {\n${state}\n${g.fns.join('\n')}\nreturn ${root};\n};`;
  return new Function('C', src)(g.consts) as () => T;
}

function compileEncoder(s: Node): () => TapeEncoder {
  const g = new Gen();
  const root = bare(s);
  const w = maxWords(root);
  const slack = slackWords(root);
  const writeRoot = root.k === 'obj' || root.k === 'union' || root.k === 'arr' ? `${encFn(g, root, slack)}(x);` : encStmt(g, root, slack);
  return factory<TapeEncoder>(
    g,
    ENCODER_STATE,
    `{
  write(x) { if (i + ${w} > T.length) grow(${w}); ${writeRoot} count++; },
  get count() { return count; },
  take: take,
}`,
  );
}

// --- decoder ------------------------------------------------------------------------------------------------------

/** An expression that reads a value of s from the tape. */
function decExpr(g: Gen, s: Node): string {
  const b = bare(s);
  switch (b.k) {
    case 'int':
      return 'T[i++]';
    case 'bool':
      return '(T[i++] === 1)';
    case 'lit':
      return literal(b.value);
    case 'enum':
      return `${g.constant([...b.values])}[T[i++]]`;
    case 'str':
      return 'STR[si++]';
    default:
      return `${decFn(g, b)}()`;
  }
}

function decFn(g: Gen, s: S): string {
  switch (s.k) {
    case 'arr':
      return g.memoized(s, 'DA', (name) => `function ${name}() {
  const n = T[i++]; const a = [];
  for (let j = 0; j < n; j++) a.push(${decExpr(g, s.items)});
  return a;
}`);
    case 'obj':
      return g.memoized(s, 'DO', (name) => {
        const { props, keys, bits } = objectLayout(s);
        // The keys up to the first optional one in an object literal (its values are read left to right), the
        // rest assigned in order.
        let lead = 0;
        while (lead < keys.length && !bits.has(keys[lead])) lead++;
        const literalPart = keys.slice(0, lead).map((k) => `${JSON.stringify(k)}: ${decExpr(g, props[k])}`);
        const rest = keys.slice(lead).map((k) => {
          const set = `o[${JSON.stringify(k)}] = ${decExpr(g, props[k])};`;
          const bit = bits.get(k);
          return bit !== undefined ? `if (${hasBit(bit)}) ${set}` : set;
        });
        return `function ${name}() {
  ${bits.size > 0 ? 'const m = T[i++];' : ''}
  const o = { ${literalPart.join(', ')} };
  ${rest.join('\n  ')}
  return o;
}`;
      });
    case 'union':
      return g.memoized(s, 'DU', (name) => {
        const cases = s.variants.map((variant, k) => `case ${k}: return ${decFn(g, variant)}();`);
        return `function ${name}() {
  switch (T[i++]) {
    ${cases.join('\n    ')}
    default: throw new TypeError("tape: no variant " + T[i - 1]);
  }
}`;
      });
    default:
      throw new TypeError(`tape: no decoder for a ${s.k} schema`);
  }
}

const DECODER_STATE = `
let T = new Float64Array(0), i = 0, STR = [], si = 0;
function load(b) {
  T = b.tape; i = 0; STR = b.strings; si = 0;
}`;

function compileDecoder(s: Node): () => TapeDecoder {
  const g = new Gen();
  const root = decExpr(g, s);
  return factory<TapeDecoder>(g, DECODER_STATE, `{ load: load, read() { return ${root}; } }`);
}

/** The codec of a schema: `encoder()` and `decoder()` make independent instances; any decoder reads any batch. */
export function compileTapeCodec(s: Node): TapeCodec {
  return { encoder: compileEncoder(s), decoder: compileDecoder(s) };
}
