// OCI config.json → runc's ops (src/ingest/oci.ts), run through the kernel model.
import { ERRNO, liveReason, liveWrites } from './helpers/live-writes.js';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apply, checkInvariants, createWorld, CLONE, type Op, type Outcome, type World } from '../src/kernel/index.js';
import {
  importOci,
  OciConfigError,
  parseJsonWithLines,
  parseOciConfig,
  planRunc,
  RuncValidationError,
  runcValidationError,
  type RuncPlan,
} from '../src/ingest/oci.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/oci/${name}`, import.meta.url));
const load = (name: string) => importOci(readFileSync(fixture(name), 'utf8'), name);
const host = { realtime: { sec: 1_764_000_000, nsec: 0 }, monotonic: { sec: 2522, nsec: 0 }, boottime: { sec: 2600, nsec: 0 } };

function run(plan: RuncPlan, w: World = createWorld({ host })): { w: World; outs: Outcome[] } {
  const outs = plan.ops.map((op) => {
    const out = apply(w, op);
    expect(checkInvariants(w), JSON.stringify(op)).toEqual([]);
    return out;
  });
  return { w, outs };
}

const T = (w: World, tid: number) => w.nsproxies[w.tasks[tid].nsproxy!].time;
const C = (w: World, tid: number) => w.nsproxies[w.tasks[tid].nsproxy!].time_for_children;
const clock = (w: World, tid: number, id: 1 | 7) => apply(w, { call: 'clock_gettime', tid, clockid: id }).ts!;
const writeOutcome = (plan: RuncPlan, outs: Outcome[]) => outs[plan.ops.findIndex((o) => o.call === 'write')];

describe('valid configs', () => {
  it('runc spec with a time namespace and offsets: the nsexec order, the parent writes, the grandchild enters', () => {
    const plan = load('valid-offsets.json');
    expect(plan.time).toBe('new');
    expect(plan.offsetsText).toBe('monotonic 7881 2718281\nboottime 1337 3141519\n');
    expect(plan.offsetsOrderUnspecified).toBe(true);
    expect(plan.steps.map((s) => `${s.actor} ${s.op.call}`)).toEqual([
      'host host.spawn',
      'runc host.spawn',
      'stage-0 clone',
      'stage-1 unshare',
      'stage-0 open',
      'stage-0 write',
      'stage-0 close',
      'stage-1 clone',
      'stage-1 exit_group',
      'stage-0 exit_group',
      'runc wait',
      'runc wait',
      'stage-2 execve',
    ]);
    expect(plan.ops[2]).toEqual({ call: 'clone', tid: 1001, flags: CLONE.PARENT | 17, child: 1002 });
    expect(plan.ops[3]).toEqual({
      call: 'unshare',
      tid: 1002,
      flags: CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWTIME,
    });
    expect(plan.ops[4]).toMatchObject({ call: 'open', tid: 1001, path: '/proc/1002/timens_offsets' });
    for (const s of plan.steps) expect(s.why.length).toBeGreaterThan(10);

    const { w, outs } = run(plan);
    expect(writeOutcome(plan, outs)).toMatchObject({ ret: plan.offsetsText!.length });
    expect(outs.every((o) => o.errno === undefined)).toBe(true);
    const ns = T(w, 1003);
    expect(ns).not.toBe(w.init.time);
    expect(w.namespaces[ns].frozen).toBe(true);
    expect(w.namespaces[ns].offsets).toEqual({ monotonic: { sec: 7881, nsec: 2_718_281 }, boottime: { sec: 1337, nsec: 3_141_519 } });
    expect(clock(w, 1003, 1)).toEqual({ sec: 2522 + 7881, nsec: 2_718_281 });
    expect(clock(w, 1003, 7)).toEqual({ sec: 2600 + 1337, nsec: 3_141_519 });
    // stage-2's parent is runc (CLONE_PARENT twice), the stages are gone
    expect(w.tasks[1003].ppid).toBe(1000);
    expect(w.tasks[1002]).toBeUndefined();
  });

  it('a time namespace without offsets shows zeros (runc test "timens with no offsets")', () => {
    const plan = load('valid-no-offsets.json');
    expect(plan.offsetsText).toBeNull();
    expect(plan.ops.some((o) => o.call === 'write')).toBe(false);
    const { w } = run(plan);
    expect(T(w, 1003)).not.toBe(w.init.time);
    const fd = apply(w, { call: 'open', tid: 1003, path: '/proc/self/timens_offsets', mode: 'r' }).ret;
    expect(apply(w, { call: 'read', tid: 1003, fd, count: 4096 }).text).toBe('monotonic           0         0\nboottime            0         0\n');
  });

  it('decodes like Go: case-insensitive keys, null as zero value, missing fields as 0', () => {
    const plan = load('valid-negative.json');
    expect(plan.offsetsText).toBe('boottime -100 0\nmonotonic 0 999999999\n');
    const { w, outs } = run(plan);
    expect(writeOutcome(plan, outs).errno).toBeUndefined();
    expect(clock(w, 1003, 7)).toEqual({ sec: 2500, nsec: 0 });
  });

  it('a time namespace path is joined by setns in stage-1, and nothing is written', () => {
    const plan = load('join-path.json');
    expect(plan.time).toBe('join');
    expect(plan.ops).toContainEqual({ call: 'open', tid: 1002, path: '/proc/500/ns/time', mode: 'r', fd: 3 });
    expect(plan.ops).toContainEqual({ call: 'setns', tid: 1002, fd: 3, nstype: CLONE.NEWTIME });
    expect(plan.ops.some((o) => o.call === 'write')).toBe(false);
    // task 500: an existing container in its own time namespace with offsets
    const w = createWorld({ host });
    apply(w, { call: 'unshare', tid: 1, flags: CLONE.NEWTIME });
    const fd = apply(w, { call: 'open', tid: 1, path: '/proc/1/timens_offsets', mode: 'w' }).ret;
    apply(w, { call: 'write', tid: 1, fd, data: '1 100 0\n' });
    apply(w, { call: 'close', tid: 1, fd });
    apply(w, { call: 'fork', tid: 1, child: 500 });
    const { outs } = run(plan, w);
    expect(outs.every((o) => o.errno === undefined), JSON.stringify(outs)).toBe(true);
    expect(T(w, 1003)).toBe(T(w, 500));
    expect(clock(w, 1003, 1)).toEqual({ sec: 2622, nsec: 0 });
  });

  it('without a time namespace the container stays in runc\'s', () => {
    const plan = load('no-timens.json');
    expect(plan.time).toBe('inherit');
    const { w } = run(plan);
    expect(T(w, 1003)).toBe(w.init.time);
    expect(C(w, 1003)).toBe(w.init.time);
  });
});

describe('what runc passes through and the kernel refuses', () => {
  it('nanosecs ≥ 1e9 reaches the kernel unchanged: EINVAL on the write, nothing applied', () => {
    const plan = load('nanosecs-too-big.json');
    expect(plan.offsetsText).toBe('monotonic 5 1000000000\n');
    const write = plan.ops.find((o): o is Extract<Op, { call: 'write' }> => o.call === 'write')!;
    expect(write.data).toContain('1000000000');
    const { w, outs } = run(plan);
    expect(writeOutcome(plan, outs)).toMatchObject({ ret: -1, errno: 'EINVAL' });
    expect(w.namespaces[T(w, 1003)].offsets!.monotonic).toEqual({ sec: 0, nsec: 0 });
  });
  it('an unknown clock name reaches the kernel: EINVAL', () => {
    const plan = load('unknown-clock.json');
    expect(plan.offsetsText).toBe('realtime 3600 0\n');
    const { outs } = run(plan);
    expect(writeOutcome(plan, outs).errno).toBe('EINVAL');
  });
  it('int64 max seconds are written exactly (no float) and the kernel says ERANGE', () => {
    const plan = load('secs-int64-max.json');
    expect(plan.offsetsText).toBe('boottime 9223372036854775807 0\n');
    const { outs } = run(plan);
    expect(writeOutcome(plan, outs).errno).toBe('ERANGE');
  });
  it('the 5.6 profile has no symbolic clock names: runc\'s "monotonic" lines are EINVAL there', () => {
    const plan = load('valid-offsets.json');
    const { outs } = run(plan, createWorld({ host, profile: '5.6' }));
    expect(writeOutcome(plan, outs).errno).toBe('EINVAL');
  });
});

describe("runc's own validation errors", () => {
  const cases: [string, string, string, number][] = [
    ['invalid-offsets-without-timens.json', 'libcontainer/configs/validate/validator.go', "time namespace offsets specified, but time namespace isn't enabled in the config", 4],
    [
      'invalid-path-and-offsets.json',
      'libcontainer/configs/validate/validator.go',
      'time namespace enabled, but both namespace path and time offsets specified -- you may only provide one',
      4,
    ],
    ['invalid-unknown-ns.json', 'libcontainer/specconv/spec_linux.go', 'namespace {"times" ""} does not exist', 3],
    ['invalid-duplicate-ns.json', 'libcontainer/specconv/spec_linux.go', 'malformed spec file: duplicated ns {"time" ""}', 3],
  ];
  for (const [file, source, message, line] of cases)
    it(file, () => {
      let err: unknown;
      try {
        load(file);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RuncValidationError);
      const r = err as RuncValidationError;
      expect(r.runcMessage).toBe(message);
      expect(r.source).toBe(source);
      expect(r.file).toBe(file);
      expect(r.line).toBe(line);
      expect(r.message).toBe(`${file}:${line}: runc refuses this config (${source}): ${message}`);
    });
  it('an empty timeOffsets object is a non-nil Go map: refused without a time namespace, nothing written with one', () => {
    const without = parseOciConfig('{"linux":{"timeOffsets":{}}}');
    expect(runcValidationError(without)?.runcMessage).toMatch(/offsets specified, but time namespace isn't enabled/);
    const plan = planRunc(parseOciConfig('{"linux":{"namespaces":[{"type":"time"}],"timeOffsets":{}}}'));
    expect(plan.offsetsText).toBeNull();
    expect(plan.notes.join()).toMatch(/empty offsets attribute/);
  });
});

describe('bad JSON and bad types name the file, line and JSON path', () => {
  const cases: [string, RegExp][] = [
    ['invalid-negative-nanosecs.json', /^invalid-negative-nanosecs\.json:7: linux\.timeOffsets\.monotonic\.nanosecs: expected an unsigned integer \(uint32\), got -1, out of range$/],
    ['invalid-fraction-secs.json', /^invalid-fraction-secs\.json:4: linux\.timeOffsets\.boottime\.secs: expected a signed 64-bit integer, got 1\.5 \(Go does not decode a fraction/],
    ['invalid-json.json', /^invalid-json\.json:3: \(json\): invalid JSON: unexpected character "\]"/],
    ['invalid-namespaces-type.json', /^invalid-namespaces-type\.json:2: linux\.namespaces: expected an array, got an object$/],
  ];
  for (const [file, re] of cases)
    it(file, () => {
      expect(() => load(file)).toThrow(OciConfigError);
      expect(() => load(file)).toThrow(re);
    });
  it('more type errors', () => {
    expect(() => parseOciConfig('[]', 'c.json')).toThrow('c.json:1: (root): expected an object, got an array');
    expect(() => parseOciConfig('{"linux":{"namespaces":[{"type":7}]}}')).toThrow(/linux\.namespaces\[0\]\.type: expected a string, got the number 7/);
    expect(() => parseOciConfig('{"linux":{"timeOffsets":{"boottime":{"secs":9223372036854775808}}}}')).toThrow(/out of range/);
    expect(() => parseOciConfig('{"linux":{"timeOffsets":{"boottime":{"nanosecs":4294967296}}}}')).toThrow(/uint32/);
    expect(() => parseOciConfig('{"linux":{"timeOffsets":{"boottime":{"nanosecs":1e3}}}}')).toThrow(/fraction or exponent/);
    expect(() => parseOciConfig('{"linux":{"timeOffsets":{"boottime":5}}}')).toThrow(/linux\.timeOffsets\.boottime: expected an object/);
    expect(() => parseOciConfig('{"process":{"args":"sh"}}')).toThrow(/process\.args: expected an array of strings/);
    expect(() => parseOciConfig('{} x')).toThrow(/trailing character "x"/);
    expect(() => parseOciConfig('{"a":"\\q"}')).toThrow(/bad escape/);
    expect(() => parseOciConfig('')).toThrow(/unexpected end of input/);
  });
  it('uint32 max nanosecs decodes (runc passes it on), and the JSON parser keeps literals and lines', () => {
    const cfg = parseOciConfig('{"linux":{"namespaces":[{"type":"time"}],\n"timeOffsets":{"monotonic":{"nanosecs":4294967295}}}}');
    expect(cfg.timeOffsets).toEqual([{ clock: 'monotonic', secs: 0n, nanosecs: 4294967295, line: 2 }]);
    const n = parseJsonWithLines('{\n "a": [1, -0.5e3, "x\\u00e9"],\n "b": null }', 'f');
    expect(n).toMatchObject({ kind: 'object', line: 1 });
    const a = (n as any).entries[0][1];
    expect(a.line).toBe(2);
    expect(a.items.map((x: any) => x.raw ?? x.value)).toEqual(['1', '-0.5e3', 'xé']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The real kernel judges the same writes: each write of the plan into a freshly unshared time namespace gives
// the errno the model gave, with the model's host clocks set to the machine's.
if (liveReason) console.warn(`skipping live OCI tests: ${liveReason}`);

describe.skipIf(liveReason !== null)('on the real kernel', () => {
  for (const file of ['valid-offsets.json', 'valid-negative.json', 'nanosecs-too-big.json', 'unknown-clock.json', 'secs-int64-max.json'])
    it(`${file}: runc's offsets text gets the same answer from the kernel as from the model`, () => {
      const plan = load(file);
      const real = liveWrites([plan.offsetsText!]);
      const toTs = (ns: number) => ({ sec: Math.floor(ns / 1e9), nsec: ns % 1e9 });
      const { outs } = run(plan, createWorld({ host: { realtime: host.realtime, monotonic: toTs(real.host[0]), boottime: toTs(real.host[1]) } }));
      const m = writeOutcome(plan, outs);
      expect(real.writes[0] < 0 ? ERRNO[-real.writes[0]] : real.writes[0]).toEqual(m.errno ?? m.ret);
    });
});
