/** clock_gettime for every clock id, absolute timers (timens_ktime_to_host), host time passing and suspend. */
import { CLOCK, fail, ok, type Outcome, type SyscallOp } from './ops.js';
import type { Task, Timespec, World } from './types.js';
import { nsCapable } from './cred.js';
import { add, normalize, toNs, fromNs } from './timespec.js';
import { profileOf, task } from './world.js';

/** The caller thread's active time namespace offsets (its T). */
function offsetsOf(world: World, t: Task) {
  if (t.nsproxy === null) return null;
  return world.namespaces[world.nsproxies[t.nsproxy].time].offsets!;
}

/** What a thread reads from a clock: REALTIME/TAI unchanged, MONOTONIC* + monotonic offset, BOOTTIME* + boottime offset. */
export function readClock(world: World, t: Task, clockid: number): { ok: true; ts: Timespec; inexact?: boolean } | { ok: false; rule: string } {
  const off = offsetsOf(world, t) ?? { monotonic: { sec: 0, nsec: 0 }, boottime: { sec: 0, nsec: 0 } };
  const h = world.host;
  switch (clockid) {
    case CLOCK.REALTIME_ALARM:
    case CLOCK.BOOTTIME_ALARM:
      // alarm_clock_get_timespec: no RTC device, no alarm clocks.
      if (!world.alarmClocks) return { ok: false, rule: `clock_gettime: alarm clock ${clockid} needs an RTC device, this host has none (EINVAL)` };
      return clockid === CLOCK.REALTIME_ALARM ? { ok: true, ts: { ...h.realtime } } : { ok: true, ts: add(h.boottime, off.boottime) };
    case CLOCK.REALTIME:
    case CLOCK.REALTIME_COARSE:
      return { ok: true, ts: { ...h.realtime } };
    case CLOCK.TAI:
      return { ok: true, ts: add(h.realtime, { sec: world.taiOffset, nsec: 0 }) };
    case CLOCK.MONOTONIC:
    case CLOCK.MONOTONIC_RAW:
    case CLOCK.MONOTONIC_COARSE:
      return { ok: true, ts: add(h.monotonic, off.monotonic) };
    case CLOCK.BOOTTIME:
      return { ok: true, ts: add(h.boottime, off.boottime) };
    case CLOCK.PROCESS_CPUTIME_ID:
    case CLOCK.THREAD_CPUTIME_ID:
      return { ok: true, ts: { sec: 0, nsec: 0 }, inexact: true };
    default:
      return { ok: false, rule: `clock_gettime: clock id ${clockid} is not valid (EINVAL)` };
  }
}

export function sysClockGettime(world: World, tid: number, clockid: number): Outcome {
  const r = readClock(world, task(world, tid), clockid);
  if (!r.ok) return fail('EINVAL', r.rule);
  return r.inexact ? { ret: 0, ts: r.ts, inexact: ['ts'] } : { ret: 0, ts: r.ts };
}

const KTIME_MAX = (1n << 63n) - 1n;

/**
 * do_timens_ktime_to_host: an absolute MONOTONIC/BOOTTIME(_ALARM) deadline in a non-init time namespace is moved
 * to the host's clock by subtracting the offset; a deadline below the offset becomes 0 (already expired).
 */
export function sysTimerAbs(world: World, op: Extract<SyscallOp, { call: 'timer_abs' }>): Outcome {
  const t = task(world, op.tid);
  const c = op.clockid;
  const supported: number[] = [CLOCK.REALTIME, CLOCK.MONOTONIC, CLOCK.BOOTTIME, CLOCK.REALTIME_ALARM, CLOCK.BOOTTIME_ALARM, CLOCK.TAI];
  if (!supported.includes(c)) {
    if (op.api === 'clock_nanosleep' && (c === CLOCK.MONOTONIC_RAW || c === CLOCK.MONOTONIC_COARSE || c === CLOCK.REALTIME_COARSE))
      return fail('EOPNOTSUPP', `clock_nanosleep: clock ${c} cannot sleep (EOPNOTSUPP)`);
    return fail('EINVAL', `${op.api}: clock ${c} has no timers (EINVAL)`);
  }
  if ((c === CLOCK.REALTIME_ALARM || c === CLOCK.BOOTTIME_ALARM) && !world.alarmClocks)
    return fail('EOPNOTSUPP', `${op.api}: alarm clock ${c} needs an RTC device, this host has none (EOPNOTSUPP)`);
  if ((c === CLOCK.REALTIME_ALARM || c === CLOCK.BOOTTIME_ALARM) && !nsCapable(world, t.cred, world.init.user, 'CAP_WAKE_ALARM'))
    return fail('EPERM', `${op.api}: alarm clocks need CAP_WAKE_ALARM (EPERM)`);
  if (op.deadline.nsec < 0 || op.deadline.nsec >= 1e9 || op.deadline.sec < 0)
    return fail('EINVAL', `${op.api}: invalid timespec (EINVAL)`);
  if (op.api === 'futex' && !profileOf(world).futexTimensConverted) return ok(0, { ts: { ...op.deadline } });
  const off = offsetsOf(world, t);
  let offset = 0n;
  if (off && (c === CLOCK.MONOTONIC)) offset = toNs(off.monotonic);
  if (off && (c === CLOCK.BOOTTIME || c === CLOCK.BOOTTIME_ALARM)) offset = toNs(off.boottime);
  let tim = toNs(op.deadline);
  if (offset !== 0n) {
    if (tim < offset) tim = 0n;
    else {
      tim -= offset;
      if (tim > KTIME_MAX) tim = KTIME_MAX;
    }
  }
  return { ret: 0, ts: fromNs(tim) };
}

/** Time passes on the host: every clock advances by the duration. */
export function hostAdvance(world: World, d: Timespec, suspended: boolean): Outcome {
  const dur = normalize(d.sec, d.nsec);
  if (dur.sec < 0) return fail('EINVAL', 'host time only moves forward');
  world.host.realtime = add(world.host.realtime, dur);
  world.host.boottime = add(world.host.boottime, dur);
  if (!suspended) world.host.monotonic = add(world.host.monotonic, dur);
  return { ret: 0 };
}
