/**
 * The tape codec (src/events/tape.ts): whatever a schema accepts comes back from encode → decode as an equal value
 * (-0 and every safe integer exact, every string exact, absent optional fields absent), with its keys in sorted
 * order, across batch boundaries and tape growth.
 */
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { EXAMPLES, EventOpSchema, OutcomeSchema, RecordSchema, ReplayRecordSchema, ZERO_HASH, compileTapeCodec, sealRecord, validateRecord, type EventRecord, type TapeBatch, type TapeCodec } from '../src/events/index.js';
import { arr, int, obj, opt, str, union, lit } from '../src/events/dsl.js';
import { arbOf } from './helpers/arb-schema.js';

/** Encode values in batches of the given sizes, hand each batch over as a copy (as between threads), decode. */
const codecs = new Map<object, TapeCodec>();

function roundTrip(schema: Parameters<typeof compileTapeCodec>[0], values: unknown[], sizes: number[] = [values.length]): { out: unknown[]; batches: TapeBatch[] } {
  let codec = codecs.get(schema);
  if (!codec) codecs.set(schema, (codec = compileTapeCodec(schema)));
  const enc = codec.encoder();
  const dec = codec.decoder();
  const out: unknown[] = [];
  const batches: TapeBatch[] = [];
  let at = 0;
  let s = 0;
  while (at < values.length) {
    const n = Math.max(1, sizes[s++ % sizes.length]);
    for (const v of values.slice(at, at + n)) enc.write(v);
    at += n;
    const b = structuredClone(enc.take());
    expect(b.words).toBeLessThanOrEqual(b.tape.length);
    batches.push(b);
    dec.load(b);
    for (let k = 0; k < b.count; k++) out.push(dec.read());
  }
  return { out, batches };
}

/** Every object's keys in sorted order, at every depth. */
function keysSorted(v: unknown): boolean {
  if (Array.isArray(v)) return v.every(keysSorted);
  if (typeof v !== 'object' || v === null) return true;
  const keys = Object.keys(v);
  return keys.every((k, i) => i === 0 || keys[i - 1] < k) && keys.every((k) => keysSorted((v as Record<string, unknown>)[k]));
}

describe('tape codec', () => {
  for (const [name, schema] of [
    ['record', RecordSchema],
    ['replay record', ReplayRecordSchema],
    ['op', EventOpSchema],
    ['outcome', OutcomeSchema],
  ] as const) {
    it(`${name}: random valid values come back equal, keys sorted, in any batching`, () => {
      fc.assert(
        fc.property(fc.array(arbOf(schema), { minLength: 1, maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }), (values, sizes) => {
          const { out } = roundTrip(schema, values, sizes);
          expect(out.length).toBe(values.length);
          for (let k = 0; k < values.length; k++) {
            // (fast-check makes some objects without a prototype; the decoder makes plain ones)
            expect(isDeepStrictEqual(out[k], plain(values[k])), `value ${k}: ${JSON.stringify(values[k])} came back as ${JSON.stringify(out[k])}`).toBe(true);
            expect(keysSorted(out[k])).toBe(true);
          }
        }),
        { numRuns: 100 },
      );
    });
  }

  it('every example record comes back equal, and the JSON text of a canonical record is unchanged', () => {
    const records = exampleRecords();
    for (const r of records) expect(validateRecord(r)).toBeUndefined();
    const { out } = roundTrip(RecordSchema, records, [3]);
    for (let k = 0; k < records.length; k++) {
      expect(out[k]).toEqual(records[k]);
      // A record tns wrote has its keys in canonical (sorted) order: the decoded one prints the same.
      const sorted = JSON.parse(JSON.stringify(records[k], Object.keys(flatKeys(records[k])).sort()));
      expect(JSON.stringify(out[k])).toBe(JSON.stringify(sortDeep(sorted)));
    }
  });

  it('-0, the safe-integer edges and awkward strings are exact', () => {
    const S = obj({ n: int(), s: str(), o: opt(str()), a: arr(int()) });
    const values = [
      { n: -0, s: '', a: [-0, 0] },
      { n: Number.MAX_SAFE_INTEGER, s: '\ud800', o: '😀', a: [Number.MIN_SAFE_INTEGER] },
      { n: Number.MIN_SAFE_INTEGER, s: 'a"b\\c\n\u0000', a: [] },
      { n: 0, s: '\ud800', o: '', a: [1, 2, 3] },
    ];
    const { out } = roundTrip(S, values);
    for (let k = 0; k < values.length; k++) expect(isDeepStrictEqual(out[k], values[k])).toBe(true);
    expect(Object.is((out[0] as { n: number }).n, -0)).toBe(true);
    expect('o' in (out[0] as object)).toBe(false);
  });

  it('carries the strings of a batch as a list in reading order, hashes and long texts alike', () => {
    const hash = 'ab'.repeat(32);
    const long = 'x'.repeat(100_000);
    const values = Array.from({ length: 4 }, (_, k) => ({ call: 'readlink', path: `/proc/${k}/ns/time`, tid: 1 + k }));
    const { out, batches } = roundTrip(EventOpSchema, values, [3]);
    expect(out).toEqual(values);
    expect(batches.map((b) => b.strings)).toEqual([['/proc/0/ns/time', '/proc/1/ns/time', '/proc/2/ns/time'], ['/proc/3/ns/time']]);
    const recs = exampleRecords().slice(0, 2).map((r) => ({ ...r, hash, note: long }));
    const { out: back, batches: b2 } = roundTrip(RecordSchema, recs);
    expect(back).toEqual(recs);
    expect(b2[0].strings.filter((x) => x === hash || x === long)).toHaveLength(4);
  });

  it('grows the tape for large batches and long arrays', () => {
    const S = obj({ a: arr(int()) });
    const values = [{ a: Array.from({ length: 100_000 }, (_, k) => k) }, { a: [7] }];
    const { out } = roundTrip(S, values);
    expect(out).toEqual(values);
  });

  it('keeps the fields after an array when its items end exactly at the end of the tape', () => {
    // Room is checked when a value starts and before each array item: the fields after an array (b, c; the
    // nested array's siblings) must still fit when the last item fills the tape (16384 words at first).
    const S = obj({ a: arr(int()), b: int(), c: str(), d: arr(obj({ e: arr(int()), f: int() })), g: int() });
    for (let n = 16376; n <= 16388; n++) {
      const v = { a: Array.from({ length: n }, (_, k) => k), b: 5, c: 'c', d: [{ e: [1, 2], f: 6 }], g: 7 };
      const { out } = roundTrip(S, [v, { a: [], b: 8, c: '', d: [], g: 9 }]);
      expect(out, `${n} items`).toEqual([v, { a: [], b: 8, c: '', d: [], g: 9 }]);
    }
    // The same, in an array inside an array item: the item's later fields, and the outer value's.
    for (let n = 16370; n <= 16386; n++) {
      const v = { a: [], b: 1, c: '', d: [{ e: Array.from({ length: n }, (_, k) => -k), f: 2 }, { e: [], f: 3 }], g: 4 };
      expect(roundTrip(S, [v]).out, `${n} inner items`).toEqual([v]);
    }
    // A record: capset's caps come before its tid, and the op before the record's pid, seq...
    const rec = exampleRecords().find((r) => r.op.call === 'capset')!;
    const { prev: _prev, ...lean } = rec;
    for (let n = 16370; n <= 16386; n++) {
      const caps = Array.from({ length: n }, (_, k) => (k % 2 ? 'CAP_SYS_TIME' : 'CAP_SYS_ADMIN'));
      const r = { ...lean, op: { ...rec.op, caps } };
      expect(roundTrip(ReplayRecordSchema, [r]).out, `${n} caps`).toEqual([r]);
    }
  });

  it('writes the next batch on a tape handed back (once decoded), when it is large enough', () => {
    const S = obj({ n: int() });
    const codec = compileTapeCodec(S);
    const enc = codec.encoder();
    const dec = codec.decoder();
    const out: unknown[] = [];
    const read = (b: TapeBatch) => {
      dec.load(b);
      for (let k = 0; k < b.count; k++) out.push(dec.read());
      return b.tape;
    };
    enc.write({ n: 1 });
    const back = read(enc.take());
    enc.write({ n: 2 });
    enc.write({ n: 3 });
    const second = enc.take(new Float64Array(1)); // too small: the next one is a new tape
    enc.write({ n: 4 });
    const third = enc.take(back);
    read(second);
    read(third);
    enc.write({ n: 5 });
    const fourth = enc.take();
    expect(fourth.tape).toBe(back);
    read(fourth);
    expect(out).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }]);
  });

  it('decodes union variants by index and refuses a value outside the union when encoding', () => {
    const U = union('t', [obj({ t: lit('a'), x: int() }), obj({ t: lit('b'), y: opt(str()) })]);
    const { out } = roundTrip(U, [{ t: 'b' }, { t: 'a', x: 3 }, { t: 'b', y: 'z' }]);
    expect(out).toEqual([{ t: 'b' }, { t: 'a', x: 3 }, { t: 'b', y: 'z' }]);
    const enc = compileTapeCodec(U).encoder();
    expect(() => enc.write({ t: 'c' })).toThrow(/outside the union: c/);
  });
});

function exampleRecords(): EventRecord[] {
  let prev = ZERO_HASH;
  return Object.values(EXAMPLES).map((input, k) => {
    const { record } = sealRecord(input, k + 1, prev);
    prev = record.hash;
    return record;
  });
}

/** A deep copy with plain objects (Object.prototype), keeping -0. */
function plain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v !== 'object' || v === null) return v;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = plain((v as Record<string, unknown>)[k]);
  return o;
}

function flatKeys(v: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(v)) v.forEach((x) => flatKeys(x, out));
  else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) (out[k] = true), flatKeys(x, out);
  return out;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]));
}
