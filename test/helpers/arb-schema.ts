/** fast-check arbitraries for the schema DSL (src/events/dsl.ts): values a schema accepts, reaching its edges. */
import fc from 'fast-check';
import type { OptS, Props, S } from '../../src/events/dsl.js';

type Node = S | OptS<S>;

const bare = (s: Node): S => (s.k === 'opt' || s.k === 'ref' ? bare(s.inner) : s);

/** Values valid for a schema (cross-field rules aside), reaching the edges of every range. */
export function arbOf(s: Node): fc.Arbitrary<unknown> {
  const b = bare(s);
  switch (b.k) {
    case 'int': {
      const edges = [b.min, b.max, 0, -1, 1].filter((n) => n >= b.min && n <= b.max);
      const lo = Math.max(b.min, -0x80000000);
      const hi = Math.min(b.max, 0x7fffffff);
      const arbs: fc.Arbitrary<number>[] = [fc.constantFrom(...edges)];
      if (lo <= hi) arbs.push(fc.integer({ min: lo, max: hi }));
      if (b.max > 0x7fffffff) arbs.push(fc.maxSafeNat().filter((n) => n >= b.min && n <= b.max));
      return fc.oneof(...arbs);
    }
    case 'str': {
      let a: fc.Arbitrary<string> = b.pattern !== undefined ? fc.stringMatching(b.pattern) : fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'a"b', 'x\\y', '\n', '\ud800', '😀'));
      if (b.minLen !== undefined || b.maxLen !== undefined) a = a.filter((x) => x.length >= (b.minLen ?? 0) && x.length <= (b.maxLen ?? Infinity));
      if (b.minLen !== undefined && b.pattern === undefined) a = fc.oneof(a, fc.string({ minLength: b.minLen, maxLength: b.minLen + 8 }));
      return a;
    }
    case 'bool':
      return fc.boolean();
    case 'lit':
      return fc.constant(b.value);
    case 'enum':
      return fc.constantFrom(...b.values);
    case 'arr':
      return fc.array(arbOf(b.items), { maxLength: b.maxItems ?? 4 });
    case 'obj': {
      const props = b.props as Props;
      const rec: Record<string, fc.Arbitrary<unknown>> = {};
      const required: string[] = [];
      for (const [k, p] of Object.entries(props)) {
        rec[k] = arbOf(p);
        if (p.k !== 'opt') required.push(k);
      }
      return fc.record(rec, { requiredKeys: required });
    }
    case 'union':
      return fc.oneof(...b.variants.map((v) => arbOf(v)));
    case 'ref':
      return arbOf(b.inner);
  }
}

