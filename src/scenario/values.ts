/**
 * Scalar values in scenarios: exact decimal seconds, durations with units, clock ids, errnos, flag words.
 * All time arithmetic is done in whole nanoseconds (bigint), never in floating point.
 */
import { fromNs } from '../kernel/timespec.js';
import { CLOCK, CLONE, ERRNO_NUMBERS, type Errno } from '../kernel/index.js';
import type { Timespec } from '../kernel/index.js';

export const NSEC = 1_000_000_000n;

/** A problem with one value; the parser turns it into a ScenarioError with the file and line. */
export class ValueError extends Error {
  override name = 'ValueError';
}

/** "87400", "-1.5", "0.000000001" → whole nanoseconds, exactly (at most 9 decimals). */
export function parseSecondsNs(text: string): bigint {
  const m = /^([+-]?)(\d+)(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) throw new ValueError(`"${text}" is not a number of seconds (e.g. 87400, 1.5, -0.25; at most 9 decimals)`);
  const ns = BigInt(m[2]) * NSEC + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return m[1] === '-' ? -ns : ns;
}

const UNITS: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  ms: 1_000_000n,
  s: NSEC,
  m: 60n * NSEC,
  min: 60n * NSEC,
  h: 3600n * NSEC,
  d: 86400n * NSEC,
};

/** "10s", "1.5s", "500ms", "2h", "3d", "250" (seconds) → nanoseconds. */
export function parseDurationNs(text: string): bigint {
  const m = /^([+-]?\d+(?:\.\d+)?)(ns|us|ms|s|min|m|h|d)?$/.exec(text);
  if (!m) throw new ValueError(`"${text}" is not a duration (e.g. 10s, 1.5s, 500ms, 2h, 3d)`);
  const unit = UNITS[m[2] ?? 's'];
  const [int, frac = ''] = m[1].replace(/^[+-]/, '').split('.');
  // value × unit exactly: scale the fraction by the unit, refuse what does not land on a whole nanosecond.
  const scale = 10n ** BigInt(frac.length);
  const num = (BigInt(int) * scale + BigInt(frac || '0')) * unit;
  if (num % scale !== 0n) throw new ValueError(`"${text}" is not a whole number of nanoseconds`);
  const ns = num / scale;
  return m[1].startsWith('-') ? -ns : ns;
}

/** A whole number of nanoseconds as a normalised timespec. */
export const nsToTimespec = (ns: bigint): Timespec => fromNs(ns);

export function timespecToNs(t: Timespec): bigint {
  return BigInt(t.sec) * NSEC + BigInt(t.nsec);
}

/** "S.NNNNNNNNN" with the sign on the whole value; trailing zero decimals trimmed ("87400", "1.5", "-0.25"). */
export function formatNs(ns: bigint, trim = true): string {
  const neg = ns < 0n;
  const a = neg ? -ns : ns;
  let frac = (a % NSEC).toString().padStart(9, '0');
  if (trim) frac = frac.replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / NSEC}${frac ? `.${frac}` : ''}`;
}

export function formatTs(t: Timespec, trim = true): string {
  return formatNs(timespecToNs(t), trim);
}

const CLOCK_NAMES: Record<string, number> = {};
for (const [k, v] of Object.entries(CLOCK)) {
  CLOCK_NAMES[`CLOCK_${k}`] = v;
  CLOCK_NAMES[k.toLowerCase()] = v;
}
CLOCK_NAMES.boot = CLOCK.BOOTTIME;
CLOCK_NAMES.mono = CLOCK.MONOTONIC;

/** CLOCK_MONOTONIC, monotonic, MONOTONIC, 1 → 1. */
export function parseClock(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const v = CLOCK_NAMES[text] ?? CLOCK_NAMES[text.toLowerCase()] ?? CLOCK_NAMES[`CLOCK_${text.toUpperCase()}`];
  if (v === undefined) throw new ValueError(`unknown clock "${text}" (e.g. CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME, or a number)`);
  return v;
}

export function clockName(id: number): string {
  for (const [k, v] of Object.entries(CLOCK)) if (v === id) return `CLOCK_${k}`;
  return String(id);
}

export function isErrno(text: string): text is Errno {
  return Object.prototype.hasOwnProperty.call(ERRNO_NUMBERS, text);
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15, SIGCHLD: 17 };

/** "CLONE_NEWTIME|CLONE_NEWUSER", "NEWTIME", "0x80", "SIGCHLD", "0" → the number. */
export function parseFlags(text: string): number {
  let v = 0;
  for (const part of text.split('|')) {
    if (/^0x[0-9a-f]+$/i.test(part) || /^\d+$/.test(part)) {
      v = orFlags(v, Number(part));
      continue;
    }
    const name = part.replace(/^CLONE_/, '');
    if (name in CLONE) {
      v = orFlags(v, CLONE[name as keyof typeof CLONE]);
      continue;
    }
    if (part in SIGNALS) {
      v = orFlags(v, SIGNALS[part]);
      continue;
    }
    throw new ValueError(`unknown flag "${part}" (e.g. CLONE_NEWTIME, CLONE_NEWUSER, CLONE_VM, SIGCHLD, 0x80)`);
  }
  return v;
}

/** Bitwise or on flags that may exceed 32 bits (CLONE_CLEAR_SIGHAND, CLONE_INTO_CGROUP). */
function orFlags(a: number, b: number): number {
  return Number(BigInt(a) | BigInt(b));
}

export function parseInt10(text: string, what: string): number {
  if (!/^-?\d+$/.test(text)) throw new ValueError(`${what}: "${text}" is not an integer`);
  return Number(text);
}
