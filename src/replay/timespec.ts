/**
 * Exact struct timespec arithmetic for checkpoint/restore planning.
 *
 * A Timespec is {sec, nsec} with nsec in [0, 1e9) and sec signed — the kernel's timespec64 after
 * set_normalized_timespec64 (−0.5 s is {sec: −1, nsec: 500000000}). Everything here works on integers only:
 * seconds and nanoseconds are kept apart (sec up to ±9.2e9 and far beyond stays exact in a JS number), and
 * nanoseconds are never multiplied into a float. Values that cannot be represented exactly (a non-integer, or a
 * magnitude past Number.MAX_SAFE_INTEGER) are refused with a TimespecError instead of being rounded.
 */
import { fromNs as kernelFromNs, KTIME_SEC_MAX, normalize as kernelNormalize, NSEC_PER_SEC, toNs } from '../kernel/timespec.js';
import type { Timespec } from '../kernel/types.js';

export type { Timespec };

/** NSEC_PER_SEC, and KTIME_MAX / NSEC_PER_SEC (include/linux/time64.h): the largest offset seconds the offsets file accepts. */
export { KTIME_SEC_MAX, NSEC_PER_SEC };
/** KTIME_SEC_MAX / 2: proc_timens_set_offset keeps host clock + offset within [0, this] seconds. */
export const KTIME_SEC_MAX_HALF = 4_611_686_018;

/** A timespec that cannot be built or parsed exactly. */
export class TimespecError extends Error {
  override name = 'TimespecError';
}

function assertInt(n: number, what: string): void {
  if (!Number.isSafeInteger(n)) throw new TimespecError(`${what} ${n} is not an exact integer (a safe integer is required)`);
}

/**
 * set_normalized_timespec64: carry nanoseconds into seconds so that 0 <= nsec < 1e9, exactly, for any pair of
 * safe integers (negative nanoseconds borrow from the seconds).
 */
export function normalize(sec: number, nsec: number): Timespec {
  assertInt(sec, 'seconds');
  assertInt(nsec, 'nanoseconds');
  const t = kernelNormalize(sec, nsec);
  assertInt(t.sec, 'seconds');
  return t;
}

/** A normalised timespec from seconds and (any signed) nanoseconds. */
export function ts(sec: number, nsec = 0): Timespec {
  return normalize(sec, nsec);
}

export const ZERO: Timespec = Object.freeze({ sec: 0, nsec: 0 }) as Timespec;

/** True when t is an exact, normalised timespec (integers, 0 <= nsec < 1e9). */
export function isNormalized(t: unknown): t is Timespec {
  if (typeof t !== 'object' || t === null) return false;
  const { sec, nsec } = t as Record<string, unknown>;
  return (
    typeof sec === 'number' && typeof nsec === 'number' && Number.isSafeInteger(sec) && Number.isSafeInteger(nsec) && nsec >= 0 && nsec < NSEC_PER_SEC
  );
}

export function add(a: Timespec, b: Timespec): Timespec {
  return normalize(a.sec + b.sec, a.nsec + b.nsec);
}

export function sub(a: Timespec, b: Timespec): Timespec {
  return normalize(a.sec - b.sec, a.nsec - b.nsec);
}

export function neg(a: Timespec): Timespec {
  return normalize(-a.sec, -a.nsec);
}

/** −1, 0 or 1 as a < b, a == b, a > b (both normalised). */
export function compare(a: Timespec, b: Timespec): -1 | 0 | 1 {
  if (a.sec !== b.sec) return a.sec < b.sec ? -1 : 1;
  if (a.nsec !== b.nsec) return a.nsec < b.nsec ? -1 : 1;
  return 0;
}

export function eq(a: Timespec, b: Timespec): boolean {
  return compare(a, b) === 0;
}

export function max(a: Timespec, b: Timespec): Timespec {
  return compare(a, b) >= 0 ? a : b;
}

export { toNs };

/** The normalised timespec of a whole number of nanoseconds. */
export function fromNs(ns: bigint): Timespec {
  const t = kernelFromNs(ns);
  if (BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec) !== ns) throw new TimespecError(`${ns} ns has seconds beyond the exact integer range`);
  return t.sec === 0 ? { sec: 0, nsec: t.nsec } : t;
}

/**
 * The form the kernel shows and accepts in /proc/PID/timens_offsets: "<sec> <nsec>" with the sign on the
 * seconds and a positive nanosecond field ("-1 500000000" is −0.5 s).
 */
export function formatOffset(t: Timespec): string {
  return `${t.sec} ${t.nsec}`;
}

/** "S.NNNNNNNNN" with the sign on the whole value (−0.5 s prints as "-0.500000000"). */
export function formatSeconds(t: Timespec): string {
  const ns = toNs(t);
  const negative = ns < 0n;
  const abs = negative ? -ns : ns;
  return `${negative ? '-' : ''}${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/**
 * Parse "S[.frac]" (an optional sign, decimal digits, an optional fraction of up to 9 digits — more only when
 * the extra digits are zeros) into an exact timespec: "1.000000001" is {1, 1}, "-0.5" is {−1, 500000000}.
 * No floating point is involved; anything else is a TimespecError naming the text.
 */
export function parseSeconds(text: string): Timespec {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new TimespecError(`"${text}" is not a number of seconds (expected S or S.FRACTION, e.g. 12.5)`);
  const [, sign, whole, fracRaw = ''] = m;
  let frac = fracRaw;
  if (frac.length > 9) {
    if (/[^0]/.test(frac.slice(9)))
      throw new TimespecError(`"${text}" has more than nanosecond precision (at most 9 fractional digits)`);
    frac = frac.slice(0, 9);
  }
  const ns = BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, '0') || '0');
  return fromNs(sign === '-' ? -ns : ns);
}
