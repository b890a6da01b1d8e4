/** struct timespec64 arithmetic, exact in integers (no floating point nanoseconds). */
import type { Timespec } from './types.js';

export const NSEC_PER_SEC = 1_000_000_000;
/** KTIME_MAX / NSEC_PER_SEC. */
export const KTIME_SEC_MAX = 9_223_372_036;

/** set_normalized_timespec64: carry nanoseconds into seconds so that 0 <= nsec < 1e9. */
export function normalize(sec: number, nsec: number): Timespec {
  // The float quotient may be off by one near a multiple of 1e9; the integer remainder corrects it.
  let carry = Math.floor(nsec / NSEC_PER_SEC);
  let rest = nsec - carry * NSEC_PER_SEC;
  while (rest < 0) {
    rest += NSEC_PER_SEC;
    carry--;
  }
  while (rest >= NSEC_PER_SEC) {
    rest -= NSEC_PER_SEC;
    carry++;
  }
  const s = sec + carry;
  return { sec: s === 0 ? 0 : s, nsec: rest };
}

export function add(a: Timespec, b: Timespec): Timespec {
  return normalize(a.sec + b.sec, a.nsec + b.nsec);
}

export function sub(a: Timespec, b: Timespec): Timespec {
  return normalize(a.sec - b.sec, a.nsec - b.nsec);
}

export function cmp(a: Timespec, b: Timespec): number {
  return a.sec !== b.sec ? Math.sign(a.sec - b.sec) : Math.sign(a.nsec - b.nsec);
}

export const ZERO: Timespec = Object.freeze({ sec: 0, nsec: 0 }) as Timespec;

export function ts(sec: number, nsec = 0): Timespec {
  return normalize(sec, nsec);
}

/** Whole nanoseconds as a bigint (exact at any magnitude). */
export function toNs(t: Timespec): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

export function fromNs(ns: bigint): Timespec {
  let sec = ns / 1_000_000_000n;
  let nsec = ns % 1_000_000_000n;
  if (nsec < 0n) {
    nsec += 1_000_000_000n;
    sec -= 1n;
  }
  return { sec: Number(sec), nsec: Number(nsec) };
}

/** "S.NNNNNNNNN" with the sign on the whole value (−0.5 s prints as "-0.500000000"). */
export function format(t: Timespec): string {
  const ns = toNs(t);
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const s = abs / 1_000_000_000n;
  const n = abs % 1_000_000_000n;
  return `${neg ? '-' : ''}${s}.${n.toString().padStart(9, '0')}`;
}
