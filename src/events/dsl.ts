/**
 * A small schema DSL: the event vocabulary is described once with these builders, and both the runtime validator
 * (`compile`) and the JSON Schema (`toJsonSchema`) are derived from that one description. The TypeScript type of a
 * schema is `Infer<typeof schema>`; src/events/schema.ts checks at compile time that it equals the kernel's `Op`.
 *
 * Deliberately tiny: integers (with ranges), strings, booleans, literals, string enums, arrays, closed objects
 * (unknown fields are errors) and unions discriminated by one field. Numbers are integers only: every number in
 * an event is a count, an id, a flag word or a timespec part, and the canonical encoding refuses non-integers.
 */
import { compileGuard } from './compiled.js';

export interface IntS {
  readonly k: 'int';
  readonly min: number;
  readonly max: number;
  readonly doc?: string;
}
export interface StrS {
  readonly k: 'str';
  readonly minLen?: number;
  readonly maxLen?: number;
  readonly pattern?: RegExp;
  readonly doc?: string;
}
export interface BoolS {
  readonly k: 'bool';
  readonly doc?: string;
}
export interface LitS<V extends string | number | boolean> {
  readonly k: 'lit';
  readonly value: V;
  readonly doc?: string;
}
export interface EnumS<V extends string> {
  readonly k: 'enum';
  readonly values: readonly V[];
  readonly doc?: string;
}
export interface ArrS<I extends S> {
  readonly k: 'arr';
  readonly items: I;
  readonly maxItems?: number;
  readonly doc?: string;
}
export interface OptS<I extends S> {
  readonly k: 'opt';
  readonly inner: I;
}
export type Props = Record<string, S | OptS<S>>;
export interface ObjS<P extends Props> {
  readonly k: 'obj';
  readonly props: P;
  readonly doc?: string;
}
export interface UnionS<T extends string, V extends readonly ObjS<Props>[]> {
  readonly k: 'union';
  readonly tag: T;
  readonly variants: V;
  readonly doc?: string;
}
/** A named schema: a `$defs` entry in the JSON Schema; transparent for validation. */
export interface RefS<I extends S> {
  readonly k: 'ref';
  readonly name: string;
  readonly inner: I;
}

export type S =
  | IntS
  | StrS
  | BoolS
  | LitS<string | number | boolean>
  | EnumS<string>
  | ArrS<any>
  | ObjS<any>
  | UnionS<string, readonly ObjS<any>[]>
  | RefS<any>;

type Flatten<T> = { [K in keyof T]: T[K] } & {};
type ReqKeys<P> = { [K in keyof P]: P[K] extends OptS<any> ? never : K }[keyof P];
type OptKeys<P> = { [K in keyof P]: P[K] extends OptS<any> ? K : never }[keyof P];

export type Infer<T> =
  T extends IntS
    ? number
    : T extends StrS
      ? string
      : T extends BoolS
        ? boolean
        : T extends LitS<infer V>
          ? V
          : T extends EnumS<infer V>
            ? V
            : T extends ArrS<infer I>
              ? Infer<I>[]
              : T extends RefS<infer I>
                ? Infer<I>
                : T extends UnionS<string, infer V>
                  ? Infer<V[number]>
                  : T extends ObjS<infer P>
                    ? Flatten<{ [K in ReqKeys<P>]: Infer<P[K]> } & { [K in OptKeys<P>]?: P[K] extends OptS<infer I> ? Infer<I> : never }>
                    : never;

// ---------------------------------------------------------------------------------------------------------------
// Builders

export const INT32_MIN = -0x80000000;
export const INT32_MAX = 0x7fffffff;

export const int = (o: { min?: number; max?: number; doc?: string } = {}): IntS => ({
  k: 'int',
  min: o.min ?? Number.MIN_SAFE_INTEGER,
  max: o.max ?? Number.MAX_SAFE_INTEGER,
  ...(o.doc !== undefined ? { doc: o.doc } : {}),
});
export const str = (o: { minLen?: number; maxLen?: number; pattern?: RegExp; doc?: string } = {}): StrS => ({ k: 'str', ...o });
export const bool = (doc?: string): BoolS => (doc !== undefined ? { k: 'bool', doc } : { k: 'bool' });
export const lit = <const V extends string | number | boolean>(value: V, doc?: string): LitS<V> =>
  doc !== undefined ? { k: 'lit', value, doc } : { k: 'lit', value };
export const enm = <const V extends string>(values: readonly V[], doc?: string): EnumS<V> =>
  doc !== undefined ? { k: 'enum', values, doc } : { k: 'enum', values };
export const arr = <I extends S>(items: I, o: { maxItems?: number; doc?: string } = {}): ArrS<I> => ({ k: 'arr', items, ...o });
export const opt = <I extends S>(inner: I): OptS<I> => ({ k: 'opt', inner });
export const obj = <const P extends Props>(props: P, doc?: string): ObjS<P> =>
  doc !== undefined ? { k: 'obj', props, doc } : { k: 'obj', props };
export const union = <const T extends string, const V extends readonly ObjS<any>[]>(tag: T, variants: V, doc?: string): UnionS<T, V> =>
  doc !== undefined ? { k: 'union', tag, variants, doc } : { k: 'union', tag, variants };
export const ref = <I extends S>(name: string, inner: I): RefS<I> => ({ k: 'ref', name, inner });

// ---------------------------------------------------------------------------------------------------------------
// Validation

/** A validation failure: the field path (from the root of the checked value) and what was wrong. */
export interface Issue {
  path: (string | number)[];
  message: string;
}

/** Returns undefined when `v` conforms, or the first issue. Never throws on any JSON value. */
export type Check = (v: unknown) => Issue | undefined;

const hasOwn = Object.prototype.hasOwnProperty;

/** A short, bounded rendering of a bad value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string': {
      const s = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
      return s;
    }
    case 'number':
      return String(v);
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function issue(message: string, key?: string | number): Issue {
  return { path: key === undefined ? [] : [key], message };
}

/** Prefix a child issue with the key it was found under (no allocation on the success path). */
function under(key: string | number, i: Issue): Issue {
  i.path.unshift(key);
  return i;
}

/**
 * The checker for a schema: generated code (src/events/compiled.ts) decides the common case, a valid value, with
 * straight-line property checks; anything it does not accept goes to the reference interpreter
 * (`compileReference`), which finds the first issue — so issues are exactly the reference's.
 */
export function compile(s: S | OptS<S>): Check {
  const guard = compileGuard(s);
  const reference = compileReference(s);
  return (v) => (guard(v) ? undefined : reference(v));
}

/**
 * The reference checker: an interpreter of the schema (closures per node). The definition of what is valid and of
 * every issue's path and message; `compile` only adds a faster way to say "valid".
 */
export function compileReference(s: S | OptS<S>): Check {
  switch (s.k) {
    case 'opt':
      return compileReference(s.inner);
    case 'ref':
      return compileReference(s.inner);
    case 'int': {
      const { min, max } = s;
      const range = min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER ? 'a safe integer' : `an integer in [${min}, ${max}]`;
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v)) return issue(`expected an integer, got ${describeValue(v)}`);
        if (v < min || v > max) return issue(`expected ${range}, got ${v}`);
        return undefined;
      };
    }
    case 'str': {
      const { minLen, maxLen, pattern } = s;
      return (v) => {
        if (typeof v !== 'string') return issue(`expected a string, got ${describeValue(v)}`);
        if (minLen !== undefined && v.length < minLen) return issue(`expected a string of at least ${minLen} characters, got ${describeValue(v)}`);
        if (maxLen !== undefined && v.length > maxLen) return issue(`expected a string of at most ${maxLen} characters, got ${v.length}`);
        if (pattern !== undefined && !pattern.test(v)) return issue(`expected a string matching ${pattern.source}, got ${describeValue(v)}`);
        return undefined;
      };
    }
    case 'bool':
      return (v) => (typeof v === 'boolean' ? undefined : issue(`expected true or false, got ${describeValue(v)}`));
    case 'lit': {
      const value = s.value;
      return (v) => (v === value ? undefined : issue(`expected ${JSON.stringify(value)}, got ${describeValue(v)}`));
    }
    case 'enum': {
      const set = new Set<unknown>(s.values);
      const list = s.values.length <= 12 ? s.values.join(', ') : `${s.values.slice(0, 12).join(', ')}, …`;
      return (v) => (set.has(v) ? undefined : issue(`expected one of ${list}, got ${describeValue(v)}`));
    }
    case 'arr': {
      const item = compileReference(s.items);
      const maxItems = s.maxItems;
      return (v) => {
        if (!Array.isArray(v)) return issue(`expected an array, got ${describeValue(v)}`);
        if (maxItems !== undefined && v.length > maxItems) return issue(`expected at most ${maxItems} items, got ${v.length}`);
        for (let i = 0; i < v.length; i++) {
          const r = item(v[i]);
          if (r) return under(i, r);
        }
        return undefined;
      };
    }
    case 'obj':
      return compileObj(s);
    case 'union': {
      const tag = s.tag;
      const byTag = new Map<unknown, Check>();
      for (const variant of s.variants) {
        const t = variant.props[tag];
        if (!t || t.k !== 'lit') throw new TypeError(`union on "${tag}": a variant has no literal "${tag}"`);
        byTag.set(t.value, compileObj(variant));
      }
      const names = [...byTag.keys()];
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(`expected an object, got ${describeValue(v)}`);
        if (!hasOwn.call(v, tag)) return issue(`missing required field`, tag);
        const t = (v as Record<string, unknown>)[tag];
        const check = byTag.get(t);
        if (!check) {
          const shown = names.length <= 8 ? names.join(', ') : `${names.slice(0, 8).join(', ')}, … (${names.length} in all)`;
          return issue(`unknown ${tag} ${describeValue(t)} (expected one of ${shown})`, tag);
        }
        return check(v);
      };
    }
  }
}

function compileObj(s: ObjS<Props>): Check {
  const keys = Object.keys(s.props);
  const checks = keys.map((k) => compileReference(s.props[k]));
  const required = keys.map((k) => s.props[k].k !== 'opt');
  const known = new Set(keys);
  const n = keys.length;
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return issue(`expected an object, got ${describeValue(v)}`);
    const o = v as Record<string, unknown>;
    let present = 0;
    for (let i = 0; i < n; i++) {
      const k = keys[i];
      // A field set to undefined is absent (JSON has no undefined; the canonical encoding omits it).
      const x = hasOwn.call(o, k) ? o[k] : undefined;
      if (x === undefined) {
        if (required[i]) return issue('missing required field', k);
        continue;
      }
      present++;
      const r = checks[i](x);
      if (r) return under(k, r);
    }
    let total = 0;
    for (const k in o) if (hasOwn.call(o, k) && o[k] !== undefined) total++;
    if (total !== present) {
      for (const k of Object.keys(o)) if (!known.has(k) && o[k] !== undefined) return issue('unknown field', k);
    }
    return undefined;
  };
}

/** Render a path as the user reads it: `op.set_tid[2]`. */
export function formatPath(root: string, path: (string | number)[]): string {
  let out = root;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === '' ? '(record)' : out;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Schema (draft 2020-12)

export type JsonSchema = { [key: string]: unknown };

export function toJsonSchema(root: S, meta: { id: string; title: string; description?: string }): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  const defSource = new Map<string, S>();
  const gen = (s: S | OptS<S>): JsonSchema => {
    switch (s.k) {
      case 'opt':
        return gen(s.inner);
      case 'ref': {
        const prev = defSource.get(s.name);
        if (prev !== undefined && prev !== s.inner) throw new TypeError(`schema name "${s.name}" is used for two different schemas`);
        if (prev === undefined) {
          defSource.set(s.name, s.inner);
          defs[s.name] = {}; // reserve (recursion guard)
          defs[s.name] = gen(s.inner);
        }
        return { $ref: `#/$defs/${s.name}` };
      }
      case 'int': {
        const out: JsonSchema = { type: 'integer' };
        if (s.min !== Number.MIN_SAFE_INTEGER) out.minimum = s.min;
        if (s.max !== Number.MAX_SAFE_INTEGER) out.maximum = s.max;
        if (s.min === Number.MIN_SAFE_INTEGER && s.max === Number.MAX_SAFE_INTEGER) {
          out.minimum = Number.MIN_SAFE_INTEGER;
          out.maximum = Number.MAX_SAFE_INTEGER;
        }
        return withDoc(out, s.doc);
      }
      case 'str': {
        const out: JsonSchema = { type: 'string' };
        if (s.minLen !== undefined) out.minLength = s.minLen;
        if (s.maxLen !== undefined) out.maxLength = s.maxLen;
        if (s.pattern !== undefined) out.pattern = s.pattern.source;
        return withDoc(out, s.doc);
      }
      case 'bool':
        return withDoc({ type: 'boolean' }, s.doc);
      case 'lit':
        return withDoc({ const: s.value }, s.doc);
      case 'enum':
        return withDoc({ type: 'string', enum: [...s.values] }, s.doc);
      case 'arr': {
        const out: JsonSchema = { type: 'array', items: gen(s.items) };
        if (s.maxItems !== undefined) out.maxItems = s.maxItems;
        return withDoc(out, s.doc);
      }
      case 'obj': {
        const properties: Record<string, JsonSchema> = {};
        const required: string[] = [];
        for (const [k, p] of Object.entries(s.props as Props)) {
          properties[k] = gen(p);
          if (p.k !== 'opt') required.push(k);
        }
        const out: JsonSchema = { type: 'object', properties, required, additionalProperties: false };
        return withDoc(out, s.doc);
      }
      case 'union':
        return withDoc({ oneOf: s.variants.map((v) => gen(v)) }, s.doc);
    }
  };
  const { description: rootDoc, ...top } = gen(root);
  const description = [meta.description, rootDoc].filter((d) => typeof d === 'string').join(' ');
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: meta.id,
    title: meta.title,
    ...(description !== '' ? { description } : {}),
    ...top,
    $defs: defs,
  };
}

function withDoc(o: JsonSchema, doc: string | undefined): JsonSchema {
  return doc !== undefined ? { description: doc, ...o } : o;
}
