/**
 * The generated validators and the fused seal encoder (src/events/compiled.ts) against the reference code they
 * stand in front of: the schema interpreter (compileReference) and the generic canonical encoder (sealEncoding).
 * The generated code may only ever say "valid" when the reference does, and `compile` must return exactly the
 * reference's issue; sealRecord must give exactly the bytes and hash of the generic encoding.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  EventInputError,
  EXAMPLES,
  EventOpSchema,
  MarkerOpSchema,
  OpSchema,
  OutcomeSchema,
  RecordSchema,
  ZERO_HASH,
  canonicalJson,
  compile,
  recordHash,
  sealEncoding,
  sealRecord,
  sha256Hex,
  validateRecord,
  formatPath,
  type EventInput,
} from '../src/events/index.js';
import { compileReference, type OptS, type S } from '../src/events/dsl.js';
import { arbOf } from './helpers/arb-schema.js';

type Node = S | OptS<S>;
import { compileGuard, compileSealEncoder } from '../src/events/compiled.js';

/** A value that is not plain JSON data a parser would give: the cases the generated code must not misjudge. */
const oddValue = fc.oneof(
  fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -0, 0.5, 2 ** 53, -(2 ** 53), 1e21, '', '0'.repeat(63), 'F'.repeat(64), 'g'.repeat(64), [], {}, true, false),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary' }),
);

/** Paths into a value: every nested key/index, for mutation. */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (typeof v === 'object' && v !== null) for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

type Mutation = { pick: number; kind: 'set' | 'delete' | 'add' | 'undefined' | 'proto' | 'hidden'; key: string; value: unknown };
const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  kind: fc.constantFrom('set', 'set', 'set', 'delete', 'add', 'undefined', 'proto', 'hidden'),
  key: fc.oneof(fc.constantFrom('call', 'tid', 'v', 'seq', 'hash', 'prev', 'op', 'ret', 'errno', 'sec', 'nsec', 'note', 'pid', 'child', '__proto__', 'toString'), fc.string({ maxLength: 6 })),
  value: oddValue,
});

/** Apply mutations to a deep copy: replace, delete, add, set undefined, move a field to a prototype, make one non-enumerable. */
function mutate(v: unknown, muts: Mutation[]): unknown {
  let root = structuredClone(v);
  for (const m of muts) {
    const ps = paths(root);
    const path = ps[m.pick % ps.length];
    if (path.length === 0) {
      if (m.kind === 'set') root = m.value;
      continue;
    }
    let parent = root as Record<string | number, unknown>;
    for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
    const last = path[path.length - 1];
    if (typeof parent !== 'object' || parent === null) continue;
    switch (m.kind) {
      case 'set':
        parent[last] = m.value;
        break;
      case 'delete':
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'add':
        if (!Array.isArray(parent)) Object.defineProperty(parent, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
        break;
      case 'undefined':
        parent[last] = undefined;
        break;
      case 'proto': {
        // The field now comes from a prototype: the reference ignores it (hasOwn), so must the generated code.
        if (Array.isArray(parent)) break;
        const proto = Object.create(null) as Record<string, unknown>;
        proto[String(last)] = parent[last];
        if (m.value !== undefined && m.key !== '__proto__') proto[m.key] = m.value;
        delete parent[last];
        Object.setPrototypeOf(parent, proto);
        break;
      }
      case 'hidden':
        // Own but not enumerable.
        if (!Array.isArray(parent)) Object.defineProperty(parent, String(last), { value: m.key === 'call' ? parent[last] : m.value, enumerable: false, writable: true, configurable: true });
        break;
    }
  }
  return root;
}

const SCHEMAS: [string, Node][] = [
  ['RecordSchema', RecordSchema],
  ['EventOpSchema', EventOpSchema],
  ['OpSchema', OpSchema],
  ['MarkerOpSchema', MarkerOpSchema],
  ['OutcomeSchema', OutcomeSchema],
];

const recordArb = arbOf(RecordSchema);

describe('generated validators agree with the reference interpreter', () => {
  for (const [name, schema] of SCHEMAS) {
    const reference = compileReference(schema);
    const guard = compileGuard(schema);
    const check = compile(schema);

    it(`${name}: every generated valid value is accepted by both`, () => {
      fc.assert(
        fc.property(arbOf(schema), (v) => {
          expect(reference(v)).toBeUndefined();
          expect(guard(v)).toBe(true);
          expect(check(v)).toBeUndefined();
        }),
        { numRuns: 1500 },
      );
    });

    it(`${name}: on mutated values the guard never accepts what the reference refuses, and compile gives the reference's issue`, () => {
      fc.assert(
        fc.property(arbOf(schema), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (v, muts) => {
          const m = mutate(v, muts);
          const want = reference(m);
          if (guard(m)) expect(want).toBeUndefined();
          expect(check(m)).toEqual(want);
        }),
        { numRuns: 4000 },
      );
    });

    it(`${name}: arbitrary values`, () => {
      fc.assert(
        fc.property(fc.oneof(fc.anything(), fc.jsonValue(), oddValue), (v) => {
          const want = reference(v);
          if (guard(v)) expect(want).toBeUndefined();
          expect(check(v)).toEqual(want);
        }),
        { numRuns: 1500 },
      );
    });
  }

  it('on plain JSON (what a ledger line parses to) the guard is exact: it accepts everything the reference does', () => {
    const reference = compileReference(RecordSchema);
    const guard = compileGuard(RecordSchema);
    fc.assert(
      fc.property(recordArb, fc.array(mutationArb.filter((m) => m.kind === 'set' || m.kind === 'delete' || m.kind === 'add'), { maxLength: 2 }), (v, muts) => {
        const m = JSON.parse(JSON.stringify(mutate(v, muts)) ?? 'null');
        expect(guard(m)).toBe(reference(m) === undefined);
      }),
      { numRuns: 3000 },
    );
  });

  it('fields from a prototype, non-enumerable fields and fields set to undefined are judged as the reference judges them', () => {
    const reference = compileReference(EventOpSchema);
    const guard = compileGuard(EventOpSchema);
    const cases: unknown[] = [];
    // `tid` inherited, an unknown own field in its place: the counts would cancel without the own-key check.
    cases.push(Object.assign(Object.create({ tid: 5 }), { call: 'fork', zzz: 1 }));
    cases.push(Object.assign(Object.create({ tid: 5 }), { call: 'fork' }));
    cases.push(Object.assign(Object.create({ child: 'x' }), { call: 'fork', tid: 1 }));
    cases.push(Object.assign(Object.create(null), { call: 'fork', tid: 1 }));
    const hidden = { call: 'fork', tid: 1 };
    Object.defineProperty(hidden, 'child', { value: 'bad', enumerable: false });
    cases.push(hidden);
    const hiddenRequired = { call: 'fork' };
    Object.defineProperty(hiddenRequired, 'tid', { value: 1, enumerable: false });
    cases.push(hiddenRequired);
    cases.push({ call: 'fork', tid: 1, child: undefined, extra: undefined });
    cases.push({ call: 'fork', tid: -0 });
    cases.push({ call: 'fork', tid: 1, ['__proto__']: 1 });
    cases.push(JSON.parse('{"call":"fork","tid":1,"__proto__":{"x":1}}'));
    class Op {
      call = 'fork';
      get tid(): number {
        return 1;
      }
    }
    cases.push(new Op());
    for (const c of cases) {
      const want = reference(c);
      if (guard(c)) expect(want, JSON.stringify(c)).toBeUndefined();
      expect(compile(EventOpSchema)(c)).toEqual(want);
    }
  });
});

/** Records (inputs) with cross-field rules respected, so most seal; some break them. */
const inputArb = recordArb.map((r) => {
  const { v: _v, seq: _s, prev: _p, hash: _h, ...input } = r as Record<string, unknown>;
  return input as EventInput;
});

/** The reference sealing: validate, then the generic canonical encoding (what sealRecord did before compiled.ts). */
function referenceSeal(input: EventInput, seq: number, prev: string): { hash: string; line: string } | { error: string } {
  const draft: Record<string, unknown> = { ...input, v: 1, seq, prev, hash: ZERO_HASH };
  const bad = validateRecord(draft);
  if (bad) return { error: new EventInputError(0, formatPath('', bad.path), bad.message).message };
  const { hash, line } = sealEncoding(draft);
  return { hash, line };
}

function sealOrError(input: EventInput, seq: number, prev: string): { hash: string; line: string } | { error: string } {
  try {
    const { record, line } = sealRecord(input, seq, prev);
    return { hash: record.hash, line };
  } catch (e) {
    if (e instanceof EventInputError) return { error: e.message };
    throw e;
  }
}

describe('sealing: the fused encoder gives the generic canonical encoding, byte for byte', () => {
  it('random valid records: same line, same hash, and the line is the canonical JSON of the sealed record', () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 1, max: 2 ** 40 }), fc.stringMatching(/^[0-9a-f]{64}$/), (input, seq, prev) => {
        const got = sealOrError(input, seq, prev);
        expect(got).toEqual(referenceSeal(input, seq, prev));
        if ('line' in got) {
          const rec = JSON.parse(got.line) as Record<string, unknown>;
          expect(canonicalJson(rec)).toBe(got.line);
          expect(recordHash(rec)).toBe(got.hash);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated inputs: same line or the same EventInputError', () => {
    fc.assert(
      fc.property(inputArb, fc.array(mutationArb, { minLength: 1, maxLength: 2 }), (input, muts) => {
        const m = mutate(input, muts) as EventInput;
        if (typeof m !== 'object' || m === null || Array.isArray(m)) return;
        let want: ReturnType<typeof referenceSeal> | { threw: string };
        try {
          want = referenceSeal(m, 7, ZERO_HASH);
        } catch (e) {
          want = { threw: (e as Error).message };
        }
        let got: ReturnType<typeof sealOrError> | { threw: string };
        try {
          got = sealOrError(m, 7, ZERO_HASH);
        } catch (e) {
          got = { threw: (e as Error).message };
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('strings that need escaping, class instances and objects without a prototype take the reference path with the same result', () => {
    const base = EXAMPLES['marker.annotation'];
    for (const text of ['plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0000nul\u001f', 'lone \ud800 surrogate', 'pair 😀', 'é€', '\u2028\u2029']) {
      const input = { ...base, op: { call: 'marker.annotation' as const, text } };
      expect(sealOrError(input, 3, ZERO_HASH)).toEqual(referenceSeal(input, 3, ZERO_HASH));
    }
    const nullProto = Object.assign(Object.create(null), { call: 'fork', tid: 2 });
    expect(sealOrError({ op: nullProto }, 1, ZERO_HASH)).toEqual(referenceSeal({ op: nullProto }, 1, ZERO_HASH));
    class Fork {
      call = 'fork' as const;
      tid = 2;
    }
    expect(() => sealRecord({ op: new Fork() }, 1, ZERO_HASH)).toThrow(/only plain objects/);
    expect(() => referenceSeal({ op: new Fork() }, 1, ZERO_HASH)).toThrow(/only plain objects/);
  });

  it('compileSealEncoder splits the encoding at the hash member', () => {
    const enc = compileSealEncoder(RecordSchema);
    const { record, line } = sealRecord(EXAMPLES.fork, 1, ZERO_HASH);
    const parts = enc(record);
    expect(parts).toBeDefined();
    expect(`{${parts!.pre},"hash":"${record.hash}",${parts!.post}}`).toBe(line);
    expect(enc({ ...record, extra: 1 })).toBeUndefined();
  });
});

describe('the canonical lines and hashes of events/examples are pinned', () => {
  const dir = join(import.meta.dirname, '..', 'events', 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

  it('there is one example per event type', () => {
    expect(files.length).toBe(Object.keys(EXAMPLES).length);
  });

  it.each(files)('%s: the stored hash is sha256 of the canonical record without hash, and sealing the example gives that line', (file) => {
    const stored = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    const { hash, ...body } = stored;
    expect(sha256Hex(canonicalJson(body))).toBe(hash);
    const call = (stored.op as { call: keyof typeof EXAMPLES }).call;
    const { record, line } = sealRecord(EXAMPLES[call], 1, ZERO_HASH);
    expect(record.hash).toBe(hash);
    expect(line).toBe(canonicalJson(stored));
  });

  it('the digest of all example lines is fixed (any change to the canonical encoding changes every hash)', () => {
    const lines = files.map((f) => canonicalJson(JSON.parse(readFileSync(join(dir, f), 'utf8'))));
    expect(sha256Hex(lines.join('\n'))).toBe(PINNED_EXAMPLES_DIGEST);
  });
});

// Computed with the generic encoder before compiled.ts existed (commit 4af6924).
const PINNED_EXAMPLES_DIGEST = '82613e3aa80448f2111ca5ea6e115dda7ef2d2b5d6e63baaae27e9ee4b1bbda9';
