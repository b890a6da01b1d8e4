// LXC config → LXC's time-namespace ops (src/ingest/lxc.ts), run through the kernel model.
import { ERRNO, liveReason, liveWrites } from './helpers/live-writes.js';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apply, checkInvariants, createWorld, CLONE, type Outcome, type World } from '../src/kernel/index.js';
import { importLxc, LxcConfigError, parseLxcConfig, parseLxcTimeOffset, planLxc, type LxcPlan } from '../src/ingest/lxc.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/lxc/${name}`, import.meta.url));
const load = (name: string) => importLxc(readFileSync(fixture(name), 'utf8'), name);
const host = (mono = 20_000, boot = 30_000) => ({ realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: { sec: mono, nsec: 0 }, boottime: { sec: boot, nsec: 0 } });

function run(plan: LxcPlan, w: World = createWorld({ host: host() })): { w: World; outs: Outcome[] } {
  const outs = plan.ops.map((op) => {
    const out = apply(w, op);
    expect(checkInvariants(w), JSON.stringify(op)).toEqual([]);
    return out;
  });
  return { w, outs };
}
const writes = (plan: LxcPlan, outs: Outcome[]) => plan.ops.map((o, i) => [o, outs[i]] as const).filter(([o]) => o.call === 'write').map(([, r]) => r);
const T = (w: World, tid: number) => w.nsproxies[w.tasks[tid].nsproxy!].time;
const clock = (w: World, tid: number, id: 1 | 7) => apply(w, { call: 'clock_gettime', tid, clockid: id }).ts!;

describe('units, as set_config_time_offset_* reads them', () => {
  const ok = (v: string) => {
    const r = parseLxcTimeOffset(v);
    if (!r.ok) throw new Error(r.reason);
    return [r.field, r.value] as const;
  };
  it('h, m, s go to seconds; ms, us, ns to nanoseconds, unnormalised', () => {
    expect(ok('2h')).toEqual(['s', 7200n]);
    expect(ok('-1h')).toEqual(['s', -3600n]);
    expect(ok('90m')).toEqual(['s', 5400n]);
    expect(ok('+7s')).toEqual(['s', 7n]);
    expect(ok('2000ms')).toEqual(['ns', 2_000_000_000n]);
    expect(ok('250us')).toEqual(['ns', 250_000n]);
    expect(ok('-5ns')).toEqual(['ns', -5n]);
    expect(ok(' 3 s')).toEqual(['s', 3n]);
    expect(ok('3s ')).toEqual(['s', 3n]);
  });
  it('refusals with LXC\'s errno', () => {
    const err = (v: string) => {
      const r = parseLxcTimeOffset(v);
      return r.ok ? 'ok' : r.errno;
    };
    expect(err('10')).toBe('EINVAL'); // no unit
    expect(err('5d')).toBe('EINVAL');
    expect(err('5 ms')).toBe('EINVAL'); // " ms" does not fit the 3-byte residual buffer
    expect(err('5S')).toBe('EINVAL'); // case-sensitive
    expect(err('s')).toBe('EINVAL');
    expect(err('1.5s')).toBe('EINVAL');
    expect(err('9223372036854775808s')).toBe('ERANGE');
    expect(err('9223372036854775807s')).toBe('ok');
    expect(err('2562047788015216h')).toBe('EOVERFLOW');
    expect(err('2562047788015215h')).toBe('ok');
    expect(err('9223372036855ms')).toBe('EOVERFLOW');
    // strtoll clamps a negative overflow to INT64_MIN and LXC does not notice
    expect(parseLxcTimeOffset('-99999999999999999999s')).toEqual({ ok: true, field: 's', value: -(2n ** 63n), unit: 's' });
  });
});

describe('LXC plans run through the kernel model', () => {
  it('2h boottime and -1h monotonic: unshare, boottime first, numeric ids without newline, setns into time_for_children', () => {
    const plan = load('basic.conf');
    expect(plan.time).toBe('new');
    expect(plan.writes).toEqual([
      { clock: 'boottime', clockid: 7, text: '7 7200 0', line: 6 },
      { clock: 'monotonic', clockid: 1, text: '1 -3600 0', line: 7 },
    ]);
    expect(plan.steps.map((s) => `${s.actor} ${s.op.call}`)).toEqual([
      'host host.spawn',
      'monitor clone3',
      'container unshare',
      'container open',
      'container write',
      'container close',
      'container open',
      'container write',
      'container close',
      'container open',
      'container setns',
      'container close',
      'container execve',
    ]);
    expect(plan.ops[1]).toMatchObject({ call: 'clone3', tid: 2000, flags: CLONE.PIDFD, exit_signal: 17, size: 88, child: 2001 });
    expect(plan.ops[3]).toEqual({ call: 'open', tid: 2001, path: '/proc/self/timens_offsets', mode: 'w', cloexec: true, fd: 3 });
    expect(plan.ops.at(-1)).toEqual({ call: 'execve', tid: 2001, path: '/sbin/init' });
    expect(plan.notes).toContain('not interpreted (tns models time namespaces): lxc.uts.name, lxc.rootfs.path');
    for (const s of plan.steps) expect(s.why.length).toBeGreaterThan(10);
    const { w, outs } = run(plan);
    expect(outs.every((o) => o.errno === undefined), JSON.stringify(outs)).toBe(true);
    expect(writes(plan, outs).map((o) => o.ret)).toEqual([8, 9]);
    expect(T(w, 2001)).not.toBe(w.init.time);
    expect(w.namespaces[T(w, 2001)].frozen).toBe(true);
    expect(clock(w, 2001, 7)).toEqual({ sec: 37_200, nsec: 0 });
    expect(clock(w, 2001, 1)).toEqual({ sec: 16_400, nsec: 0 });
  });

  it('-1h on a host up for less than an hour: the kernel says ERANGE (host monotonic + offset < 0)', () => {
    const plan = load('basic.conf');
    const { outs } = run(plan, createWorld({ host: host(2522, 2600) }));
    expect(writes(plan, outs).map((o) => o.errno)).toEqual([undefined, 'ERANGE']);
  });

  it('2000ms is 2000000000 nsec in the write, and the kernel says EINVAL', () => {
    const plan = load('ms-too-big.conf');
    expect(plan.writes.map((x) => x.text)).toEqual(['7 0 2000000000']);
    const write = plan.ops.find((o) => o.call === 'write');
    expect(write).toMatchObject({ data: '7 0 2000000000' });
    const { w, outs } = run(plan);
    expect(writes(plan, outs)[0]).toMatchObject({ ret: -1, errno: 'EINVAL' });
    expect(w.namespaces[T(w, 2001)].offsets!.boottime).toEqual({ sec: 0, nsec: 0 });
  });

  it('-500ms is a negative nanosecond field: EINVAL too', () => {
    const plan = load('negative-ms.conf');
    expect(plan.writes.map((x) => x.text)).toEqual(['1 0 -500000000']);
    const { outs } = run(plan);
    expect(writes(plan, outs)[0].errno).toBe('EINVAL');
  });

  it('sub-second offsets within range are applied', () => {
    const plan = load('sub-second.conf');
    expect(plan.writes.map((x) => x.text)).toEqual(['7 0 500000000', '1 0 250000']);
    const { w } = run(plan);
    expect(clock(w, 2001, 7)).toEqual({ sec: 30_000, nsec: 500_000_000 });
    expect(clock(w, 2001, 1)).toEqual({ sec: 20_000, nsec: 250_000 });
  });

  it('seconds and nanoseconds both set: LXC writes only the seconds', () => {
    const plan = load('both-fields.conf');
    expect(plan.config.boot).toMatchObject({ s: 5n, ns: 100_000_000n, sLine: 1, nsLine: 2 });
    expect(plan.writes.map((x) => x.text)).toEqual(['7 5 0']);
    expect(plan.notes.join()).toMatch(/drops 100000000 ns/);
    const { w } = run(plan);
    expect(clock(w, 2001, 7)).toEqual({ sec: 30_005, nsec: 0 });
  });

  it('quotes are stripped and "3 s" fits the residual buffer', () => {
    const plan = load('quoted.conf');
    expect(plan.writes.map((x) => x.text)).toEqual(['7 3 0', '1 5400 0']);
  });

  it('lxc.namespace.clone without time: no time namespace, offsets ignored; with time and no offsets: zero offsets', () => {
    const without = load('clone-without-time.conf');
    expect(without.time).toBe('inherit');
    expect(without.writes).toEqual([]);
    expect(without.notes.join()).toMatch(/does not list time/);
    const a = run(without);
    expect(T(a.w, 2001)).toBe(a.w.init.time);
    const withTime = load('clone-with-time.conf');
    expect(withTime.time).toBe('new');
    expect(withTime.ops.filter((o) => o.call === 'write')).toEqual([]);
    const b = run(withTime);
    expect(T(b.w, 2001)).not.toBe(b.w.init.time);
  });

  it('no offsets and no namespace settings: LXC does not touch the time namespace', () => {
    const plan = importLxc('lxc.uts.name = x\n');
    expect(plan.time).toBe('inherit');
    expect(plan.ops.map((o) => o.call)).toEqual(['host.spawn', 'clone3', 'execve']);
  });

  it('share.time: the offsets are ignored', () => {
    const plan = importLxc('lxc.time.offset.boot = 1s\nlxc.namespace.share.time = other\n');
    expect(plan.time).toBe('share');
    expect(plan.writes).toEqual([]);
    expect(plan.notes.join()).toMatch(/ignores the offsets/);
  });
});

describe('LXC refusals name the file and line', () => {
  const cases: [string, string, number, RegExp][] = [
    ['bad-unit.conf', 'EINVAL', 3, /^bad-unit\.conf:3: lxc\.time\.offset\.boot = 5d: unknown unit "d"/],
    ['no-unit.conf', 'EINVAL', 1, /a unit is required/],
    ['long-unit.conf', 'EINVAL', 1, /the unit " ms" is too long/],
    ['overflow-hours.conf', 'EOVERFLOW', 1, /overflows a 64-bit seconds value \(EOVERFLOW\)$/],
    ['overflow-int64.conf', 'ERANGE', 1, /\(ERANGE\)$/],
    ['keep-time.conf', 'EINVAL', 1, /Requested to keep time namespace while also specifying offsets \(offsets at line 2\)/],
    ['invalid-line.conf', 'EINVAL', 2, /^invalid-line\.conf:2: Invalid configuration line: lxc\.time\.offset\.boot 5s \(EINVAL\)$/],
  ];
  for (const [file, errno, line, re] of cases)
    it(file, () => {
      let err: unknown;
      try {
        load(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LxcConfigError);
      expect((err as LxcConfigError).errno).toBe(errno);
      expect((err as LxcConfigError).line).toBe(line);
      expect((err as Error).message).toMatch(re);
    });
  it('clone and keep together, unknown namespace names', () => {
    expect(() => parseLxcConfig('lxc.namespace.keep = user\nlxc.namespace.clone = mnt\n', 'c')).toThrow(/^c:2: .*Cannot set both "lxc.namespace.clone" and "lxc.namespace.keep"/);
    expect(() => parseLxcConfig('lxc.namespace.clone = mnt timens\n', 'c')).toThrow(/c:1: .*unknown namespace "timens"/);
  });
  it('comments, martian lines, CRLF and clearing by an empty value', () => {
    const cfg = parseLxcConfig('# c\n  # c2\nfoo = bar\nlxc.time.offset.boot = 5s\r\nlxc.time.offset.boot =\n');
    expect(cfg.boot).toEqual({ s: 0n, ns: 0n, sLine: 0, nsLine: 0 });
    expect(planLxc(cfg).time).toBe('inherit');
  });
  it('a CRLF file: "5s\\r" still parses, "500ms\\r" overflows the 3-byte unit buffer (EINVAL), as in LXC', () => {
    expect(parseLxcConfig('lxc.time.offset.boot = 5s\r\n').boot.s).toBe(5n);
    expect(() => parseLxcConfig('lxc.time.offset.boot = 500ms\r\n', 'w.conf')).toThrow(
      'w.conf:1: lxc.time.offset.boot = 500ms\\r: the unit "ms\\r" is too long (LXC keeps at most 2 characters after the number) (EINVAL)',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The real kernel judges the same writes: each write of the plan into a freshly unshared time namespace gives
// the errno the model gave, with the model's host clocks set to the machine's.
if (liveReason) console.warn(`skipping live LXC tests: ${liveReason}`);

describe.skipIf(liveReason !== null)('on the real kernel', () => {
  for (const file of ['basic.conf', 'ms-too-big.conf', 'negative-ms.conf', 'sub-second.conf', 'both-fields.conf', 'quoted.conf'])
    it(`${file}: the kernel answers each write as the model does`, () => {
      const plan = load(file);
      const real = liveWrites(plan.writes.map((x) => x.text));
      const toTs = (ns: number) => ({ sec: Math.floor(ns / 1e9), nsec: ns % 1e9 });
      const w = createWorld({ host: { realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: toTs(real.host[0]), boottime: toTs(real.host[1]) } });
      const model = writes(plan, run(plan, w).outs).map((o) => (o.errno ? o.errno : o.ret));
      expect(real.writes.map((r) => (r < 0 ? ERRNO[-r] ?? `errno ${-r}` : r))).toEqual(model);
    });
});
