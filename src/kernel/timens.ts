/**
 * kernel/time/namespace.c: creating a time namespace, freezing it (timens_commit), showing and setting
 * offsets (proc_timens_show_offsets, timens_offsets_write + proc_timens_set_offset), clock conversion.
 */
import type { Errno } from './ops.js';
import type { Namespace, Timespec, TimensOffsets, World } from './types.js';
import { addNs, incUcount } from './refs.js';
import { allocInum, profileOf } from './world.js';
import { add, KTIME_SEC_MAX, NSEC_PER_SEC } from './timespec.js';

/**
 * clone_time_ns(user_ns, old_ns): charge ucounts (ENOSPC when over a limit), copy old_ns's offsets,
 * not frozen, one reference. `creatorEuid` is current_euid().
 */
export function cloneTimeNs(world: World, userns: number, creatorEuid: number, old: number): Namespace | 'ENOSPC' {
  const enforce = profileOf(world).maxTimeNamespacesSysctl;
  if (!incUcount(world, userns, creatorEuid, enforce)) return 'ENOSPC';
  const { monotonic, boottime } = world.namespaces[old].offsets!;
  // newNs's fields, then the time namespace's own (written out: no spread).
  return addNs(world, {
    inum: allocInum(world),
    type: 'time',
    count: 1,
    owner: userns,
    initial: false,
    offsets: { monotonic: { sec: monotonic.sec, nsec: monotonic.nsec }, boottime: { sec: boottime.sec, nsec: boottime.nsec } },
    frozen: false,
    ucounts: { userns, uid: creatorEuid },
  });
}

/** timens_commit → timens_set_vvar_page: the first task to enter a namespace freezes its offsets, forever. */
export function timensCommit(world: World, inum: number): void {
  const ns = world.namespaces[inum];
  if (ns.initial) return;
  ns.frozen = true;
}

/** show_offset: seq_printf(m, "%-10s %10lld %9ld\n", clock, sec, nsec), monotonic then boottime. */
export function showOffsets(offsets: TimensOffsets): string {
  const line = (name: string, t: Timespec) =>
    `${name.padEnd(10)} ${String(t.sec).padStart(10)} ${String(t.nsec).padStart(9)}\n`;
  return line('monotonic', offsets.monotonic) + line('boottime', offsets.boottime);
}

export interface ParsedOffset {
  clockid: 1 | 7;
  val: Timespec;
}

export type ParseResult = { ok: true; offsets: ParsedOffset[]; count: number } | { ok: false; rule: string };

const U64 = (1n << 64n) - 1n;
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/**
 * The kernel's vsscanf(pos, "%9s %lld %lu", clock, &sec, &nsec) on one line, returning the number of
 * conversions and the values, with the kernel's quirks: %9s takes at most 9 non-space characters and leaves
 * the rest in the input; integers are decimal only ("0x10" reads as 0 and stops at 'x'); %lu refuses a
 * leading '-'; overflow wraps modulo 2^64 (simple_strntoull ignores it); trailing text is not examined.
 */
export function kernelScanOffset(line: string): { n: number; clock: string; sec: bigint; nsec: bigint } {
  let i = 0;
  const skip = () => {
    while (isSpace(line[i])) i++;
  };
  const out = { n: 0, clock: '', sec: 0n, nsec: 0n };
  // %9s
  skip();
  if (i >= line.length) return out;
  let clock = '';
  while (i < line.length && !isSpace(line[i]) && clock.length < 9) clock += line[i++];
  out.clock = clock;
  out.n = 1;
  // ' ' then %lld
  const num = (signed: boolean): bigint | null => {
    skip();
    if (i >= line.length) return null;
    let neg = false;
    let c = line[i];
    if (signed && c === '-') c = line[i + 1];
    if (!isDigit(c)) return null;
    if (signed && line[i] === '-') {
      neg = true;
      i++;
    }
    // simple_strntoull's v = v * 10 + digit modulo 2^64 is the whole decimal number modulo 2^64.
    const start = i;
    while (isDigit(line[i])) i++;
    const v = BigInt(line.slice(start, i)) & U64;
    return neg ? (-v) & U64 : v;
  };
  const sec = num(true);
  if (sec === null) return out;
  out.sec = BigInt.asIntN(64, sec);
  out.n = 2;
  const nsec = num(false);
  if (nsec === null) return out;
  // %lu into a long: the bits are reinterpreted as signed.
  out.nsec = BigInt.asIntN(64, nsec);
  out.n = 3;
  return out;
}

/**
 * kernelScanOffset with the integers as numbers, for lines whose digit runs are at most 15 digits long (exact as
 * doubles, far below 2^63: no wrap, and the sign is plain negation); null for a longer run (use kernelScanOffset).
 */
export function scanOffsetSmall(line: string): { n: number; clock: string; sec: number; nsec: number } | null {
  let i = 0;
  const len = line.length;
  const out = { n: 0, clock: '', sec: 0, nsec: 0 };
  while (isSpace(line[i])) i++;
  if (i >= len) return out;
  const c0 = i;
  while (i < len && !isSpace(line[i]) && i - c0 < 9) i++;
  out.clock = line.slice(c0, i);
  out.n = 1;
  // %lld
  while (isSpace(line[i])) i++;
  if (i >= len) return out;
  const neg = line[i] === '-';
  if (!isDigit(neg ? line[i + 1] : line[i])) return out;
  if (neg) i++;
  let start = i;
  while (isDigit(line[i])) i++;
  if (i - start > 15) return null;
  const sec = Number(line.slice(start, i));
  out.sec = neg && sec !== 0 ? -sec : sec;
  out.n = 2;
  // %lu
  while (isSpace(line[i])) i++;
  if (i >= len) return out;
  if (!isDigit(line[i])) return out;
  start = i;
  while (isDigit(line[i])) i++;
  if (i - start > 15) return null;
  out.nsec = Number(line.slice(start, i));
  out.n = 3;
  return out;
}

/**
 * The parse step of timens_offsets_write: split on '\n' (a trailing newline optional), each line must scan to
 * three fields with nsec < NSEC_PER_SEC and a known clock; after two records the rest is ignored and the
 * returned count is the bytes up to the end of the second line.
 */
export function parseOffsetsWrite(data: string, symbolicClocks: boolean): ParseResult {
  const offsets: ParsedOffset[] = [];
  let count = data.length;
  let pos: number | null = 0;
  while (pos !== null) {
    let end = data.indexOf('\n', pos);
    let next: number | null = null;
    if (end >= 0) {
      next = end + 1;
      if (next >= data.length) next = null;
    } else end = data.length;
    // memdup_user_nul: a NUL byte ends the string.
    let line = data.slice(pos, end);
    const nul = line.indexOf('\0');
    if (nul >= 0) line = line.slice(0, nul);
    // Short numbers (every line seen in practice) without BigInt, with the same answers; longer ones as before.
    const r = scanOffsetSmall(line) ?? kernelScanOffset(line);
    if (r.n !== 3) return { ok: false, rule: `timens_offsets: "${line}" does not scan as "<clock> <sec> <nsec>" (EINVAL)` };
    if (r.nsec >= NSEC_PER_SEC) return { ok: false, rule: `timens_offsets: nsec ${r.nsec} is not below 1000000000 (EINVAL)` };
    let clockid: 1 | 7;
    if (r.clock === '1' || (symbolicClocks && r.clock === 'monotonic')) clockid = 1;
    else if (r.clock === '7' || (symbolicClocks && r.clock === 'boottime')) clockid = 7;
    else
      return {
        ok: false,
        rule: `timens_offsets: clock "${r.clock}" is not ${symbolicClocks ? 'monotonic/1 or boottime/7' : '1 or 7 (this kernel has no symbolic names)'} (EINVAL)`,
      };
    offsets.push({ clockid, val: { sec: Number(r.sec), nsec: Number(r.nsec) } });
    if (offsets.length === 2) {
      if (next !== null) count = next;
      break;
    }
    pos = next;
  }
  return { ok: true, offsets, count };
}

/**
 * proc_timens_set_offset's range check for one record: |sec| <= KTIME_SEC_MAX, and host clock + offset
 * within [0, KTIME_SEC_MAX / 2] seconds.
 */
export function offsetRangeError(host: Timespec, val: Timespec): string | null {
  if (val.sec > KTIME_SEC_MAX || val.sec < -KTIME_SEC_MAX)
    return `timens_offsets: |${val.sec}| s exceeds KTIME_SEC_MAX ${KTIME_SEC_MAX} (ERANGE)`;
  const t = add(host, val);
  if (t.sec < 0 || t.sec > Math.floor(KTIME_SEC_MAX / 2))
    return `timens_offsets: host clock ${host.sec} s + offset ${val.sec} s = ${t.sec} s is outside [0, ${Math.floor(KTIME_SEC_MAX / 2)}] (ERANGE)`;
  return null;
}

export type SetOffsetResult = { ok: true } | { ok: false; errno: Errno; rule: string };

/**
 * proc_timens_set_offset(file, p, offsets): on p's time_for_children — CAP_SYS_TIME (judged with the opener's
 * credentials) over its owner, then every record's range, then frozen → EACCES, then apply in order (a
 * duplicate clock: the last wins).
 */
export function setOffsets(
  world: World,
  inum: number,
  capable: boolean,
  offsets: ParsedOffset[],
): SetOffsetResult {
  const ns = world.namespaces[inum];
  if (!capable)
    return { ok: false, errno: 'EPERM', rule: 'timens_offsets: the opener lacks CAP_SYS_TIME over the owner of time_for_children (EPERM)' };
  for (const off of offsets) {
    const host = off.clockid === 1 ? world.host.monotonic : world.host.boottime;
    const err = offsetRangeError(host, off.val);
    if (err) return { ok: false, errno: 'ERANGE', rule: err };
  }
  if (ns.frozen)
    return {
      ok: false,
      errno: 'EACCES',
      rule: `timens_offsets: time:[${inum}] is frozen (a task has entered it${ns.initial ? '; the initial namespace always is' : ''}) (EACCES)`,
    };
  for (const off of offsets) {
    if (off.clockid === 1) ns.offsets!.monotonic = { ...off.val };
    else ns.offsets!.boottime = { ...off.val };
  }
  return { ok: true };
}

/** The clock as a task in time namespace `inum` reads it: host + offset (timespec64_add normalises). */
export function clockInNs(world: World, inum: number, which: 'monotonic' | 'boottime'): Timespec {
  const ns = world.namespaces[inum];
  return add(world.host[which], ns.offsets![which]);
}
