// Exact timespec arithmetic (src/replay/timespec.ts): normalisation like set_normalized_timespec64, no floats.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  add,
  compare,
  eq,
  formatOffset,
  formatSeconds,
  fromNs,
  isNormalized,
  max,
  neg,
  normalize,
  parseSeconds,
  sub,
  toNs,
  ts,
  TimespecError,
  KTIME_SEC_MAX,
  KTIME_SEC_MAX_HALF,
} from '../src/replay/timespec.js';
import { showOffsets } from '../src/kernel/index.js';

const spec = fc.record({ sec: fc.integer({ min: -20_000_000_000, max: 20_000_000_000 }), nsec: fc.integer({ min: 0, max: 999_999_999 }) });

describe('normalize', () => {
  it('carries nanoseconds into seconds, negatives borrowing', () => {
    expect(normalize(0, 1_500_000_000)).toEqual({ sec: 1, nsec: 500_000_000 });
    expect(normalize(0, -500_000_000)).toEqual({ sec: -1, nsec: 500_000_000 });
    expect(normalize(5, -1)).toEqual({ sec: 4, nsec: 999_999_999 });
    expect(normalize(-1, 1_000_000_000)).toEqual({ sec: 0, nsec: 0 });
    expect(normalize(0, -1_000_000_000)).toEqual({ sec: -1, nsec: 0 });
    expect(normalize(0, -2_000_000_001)).toEqual({ sec: -3, nsec: 999_999_999 });
  });
  it('is exact right below a multiple of 1e9 where a float quotient rounds up', () => {
    // 9007199254740991 = 2^53 - 1; (k·1e9 − 1)/1e9 rounds to k in floating point.
    const n = 9_007_199_000_000_000 - 1;
    expect(normalize(0, n)).toEqual({ sec: 9_007_198, nsec: 999_999_999 });
    expect(normalize(0, -n)).toEqual({ sec: -9_007_199, nsec: 1 });
  });
  it('refuses non-integers and unsafe magnitudes instead of rounding', () => {
    expect(() => normalize(0.5, 0)).toThrow(TimespecError);
    expect(() => normalize(0, 1.5)).toThrow(/not an exact integer/);
    expect(() => normalize(Number.MAX_SAFE_INTEGER, 1_000_000_000)).toThrow(TimespecError);
  });
  it('never yields -0', () => {
    expect(Object.is(normalize(-0, 0).sec, 0)).toBe(true);
    expect(Object.is(sub(ts(1), ts(1)).sec, 0)).toBe(true);
  });
  it('agrees with bigint nanoseconds for any pair (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 1e13 }), fc.integer({ min: -5e15, max: 5e15 }), (s, n) => {
        const r = normalize(s, n);
        expect(isNormalized(r)).toBe(true);
        expect(toNs(r)).toBe(BigInt(s) * 1_000_000_000n + BigInt(n));
      }),
    );
  });
});

describe('add / sub / neg / compare', () => {
  it('keeps −0.5 s as {−1, 500000000}', () => {
    expect(sub(ts(0), ts(0, 500_000_000))).toEqual({ sec: -1, nsec: 500_000_000 });
    expect(neg(ts(1, 1))).toEqual({ sec: -2, nsec: 999_999_999 });
    expect(neg(ts(-1, 500_000_000))).toEqual({ sec: 0, nsec: 500_000_000 });
    expect(add(ts(1, 999_999_999), ts(0, 1))).toEqual({ sec: 2, nsec: 0 });
  });
  it('is exact at KTIME_SEC_MAX magnitudes', () => {
    const big = ts(KTIME_SEC_MAX, 854_775_807);
    expect(toNs(big)).toBe(9_223_372_036_854_775_807n);
    expect(sub(big, ts(0, 854_775_808))).toEqual({ sec: KTIME_SEC_MAX - 1, nsec: 999_999_999 });
    expect(add(ts(KTIME_SEC_MAX_HALF), ts(KTIME_SEC_MAX_HALF, 1))).toEqual({ sec: 2 * KTIME_SEC_MAX_HALF, nsec: 1 });
  });
  it('compare orders by seconds then nanoseconds', () => {
    expect(compare(ts(-1, 999_999_999), ts(0))).toBe(-1);
    expect(compare(ts(1, 1), ts(1, 0))).toBe(1);
    expect(compare(ts(3, 3), ts(3, 3))).toBe(0);
    expect(eq(ts(0, 1_000_000_000), ts(1))).toBe(true);
    expect(max(ts(1), ts(0, 999_999_999))).toEqual(ts(1));
  });
  it('matches bigint arithmetic (property)', () => {
    fc.assert(
      fc.property(spec, spec, (a, b) => {
        expect(toNs(add(a, b))).toBe(toNs(a) + toNs(b));
        expect(toNs(sub(a, b))).toBe(toNs(a) - toNs(b));
        expect(toNs(neg(a))).toBe(-toNs(a));
        const d = toNs(a) - toNs(b);
        expect(compare(a, b)).toBe(d < 0n ? -1 : d > 0n ? 1 : 0);
        expect(fromNs(toNs(a))).toEqual(a);
      }),
    );
  });
});

describe('formatting', () => {
  it('formatOffset writes what the kernel shows in timens_offsets', () => {
    expect(formatOffset(ts(0, -500_000_000))).toBe('-1 500000000');
    expect(formatOffset(ts(7881, 2_718_281))).toBe('7881 2718281');
    // the same numbers the kernel prints, as the model's show_offset renders them
    expect(showOffsets({ monotonic: ts(0, -500_000_000), boottime: ts(0) })).toContain('        -1 500000000');
  });
  it('formatSeconds puts the sign on the whole value', () => {
    expect(formatSeconds(ts(-1, 500_000_000))).toBe('-0.500000000');
    expect(formatSeconds(ts(12, 5))).toBe('12.000000005');
    expect(formatSeconds(ts(-3))).toBe('-3.000000000');
  });
});

describe('parseSeconds', () => {
  it('parses exactly, no float rounding', () => {
    expect(parseSeconds('1.000000001')).toEqual({ sec: 1, nsec: 1 });
    expect(parseSeconds('0.1')).toEqual({ sec: 0, nsec: 100_000_000 });
    expect(parseSeconds('-0.5')).toEqual({ sec: -1, nsec: 500_000_000 });
    expect(parseSeconds('+42')).toEqual({ sec: 42, nsec: 0 });
    expect(parseSeconds('4611686018.999999999')).toEqual({ sec: 4_611_686_018, nsec: 999_999_999 });
    expect(parseSeconds('9223372036.854775807')).toEqual({ sec: 9_223_372_036, nsec: 854_775_807 });
    expect(parseSeconds(' 3 ')).toEqual({ sec: 3, nsec: 0 });
    expect(parseSeconds('2.5000000000')).toEqual({ sec: 2, nsec: 500_000_000 });
  });
  it('refuses what cannot be exact or is not a number', () => {
    for (const bad of ['', '1e3', '0x10', '1.', '.5', '1.0000000001', 'abc', '1,5', '--1', 'Infinity'])
      expect(() => parseSeconds(bad), bad).toThrow(TimespecError);
    expect(() => parseSeconds('1.0000000001')).toThrow(/nanosecond precision/);
  });
  it('round-trips with formatSeconds (property)', () => {
    fc.assert(
      fc.property(spec, (a) => {
        expect(parseSeconds(formatSeconds(a))).toEqual(a);
      }),
    );
  });
});
