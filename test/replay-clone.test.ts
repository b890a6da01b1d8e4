/** cloneData (src/replay/clone.ts) gives what structuredClone gives for plain data, and shares nothing with its input. */
import { describe, expect, it } from 'vitest';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { cloneData } from '../src/replay/clone.js';
import { Synth } from '../src/replay/synth.js';
import { applySequentially } from '../src/replay/project.js';
import type { EventRecord } from '../src/events/index.js';

/** Every object and array in v, in order. */
function containers(v: unknown, out: object[] = []): object[] {
  if (typeof v === 'object' && v !== null) {
    out.push(v);
    for (const k of Object.keys(v)) containers((v as Record<string, unknown>)[k], out);
  }
  return out;
}

/** Keys at every depth, in order (so key order is compared too). */
function shape(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return Object.is(v, -0) ? '-0' : v;
  if (Array.isArray(v)) return ['[', v.length, ...Object.keys(v).map((k) => [k, shape(v[Number(k)])])];
  return Object.keys(v).map((k) => [k, shape((v as Record<string, unknown>)[k])]);
}

const plainData: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, -0, 0, true, false, '', '__proto__', 2 ** 53, -1.5),
    fc.integer(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', '0', '10', 'constructor')), tie('value'), { maxKeys: 5 }),
    // a sparse array
    fc.array(tie('value'), { maxLength: 4 }).map((a) => {
      const s = new Array(a.length + 2);
      a.forEach((x, i) => (s[i * 2] = x));
      return s;
    }),
  ),
})).value;

describe('cloneData', () => {
  it('equals structuredClone on plain data (values, -0, holes, key order, __proto__ keys) and shares no object', () => {
    fc.assert(
      fc.property(plainData, (v) => {
        const c = cloneData(v);
        const s = structuredClone(v);
        expect(isDeepStrictEqual(c, s)).toBe(true);
        expect(shape(c)).toEqual(shape(s));
        const mine = new Set(containers(v));
        for (const o of containers(c)) expect(mine.has(o)).toBe(false);
        for (const o of containers(c)) if (!Array.isArray(o)) expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
      }),
      { numRuns: 500 },
    );
  });

  it('copies a world after a synth workload exactly as structuredClone does', () => {
    const records = new Synth({ events: 3000, seed: 11 }).next(3000);
    const w = applySequentially(records as unknown as EventRecord[]);
    expect(Object.keys(w.tasks).length).toBeGreaterThan(10);
    const c = cloneData(w);
    expect(JSON.stringify(c)).toBe(JSON.stringify(structuredClone(w)));
    expect(isDeepStrictEqual(c, w)).toBe(true);
    // A change to the copy leaves the world alone.
    const tid = Object.keys(c.tasks)[0];
    (c.tasks as Record<string, { ppid: number }>)[tid].ppid = -42;
    expect((w.tasks as Record<string, { ppid: number }>)[tid].ppid).not.toBe(-42);
  });
});
