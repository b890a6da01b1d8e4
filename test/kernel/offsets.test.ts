// SEMANTICS.md §3.7 (reading) and §3.8 (writing /proc/PID/timens_offsets, in the kernel's check order).
import { describe, expect, it } from 'vitest';
import { NEWTIME, Sim } from './helpers.js';
import { parseOffsetsWrite } from '../../src/kernel/index.js';
import { kernelScanOffset, scanOffsetSmall } from '../../src/kernel/timens.js';
import fc from 'fast-check';

const fresh = () => {
  const s = new Sim();
  s.unshareTime(1);
  return s;
};

describe('§3.7 reading shows PID\'s time_for_children', () => {
  it('in the kernel\'s "%-10s %10lld %9ld\\n" format, monotonic then boottime', () => {
    const s = fresh();
    s.writeOffsets(1, 'monotonic 100 0\nboottime 200 5\n');
    expect(s.readOffsets(1)).toBe('monotonic         100         0\nboottime          200         5\n');
  });
  it('negative offsets keep a positive nsec (-1 500000000 is −0.5 s)', () => {
    const s = fresh();
    s.writeOffsets(1, 'monotonic -1 500000000');
    expect(s.readOffsets(1)).toBe('monotonic          -1 500000000\nboottime            0         0\n');
    expect(s.ns(s.C(1)).offsets!.monotonic).toEqual({ sec: -1, nsec: 500000000 });
  });
  it('reads advance the file position; a second read returns the rest', () => {
    const s = fresh();
    const fd = s.open(1, '/proc/self/timens_offsets', 'r');
    expect(s.do({ call: 'read', tid: 1, fd, count: 10 }).text).toBe('monotonic ');
    expect(s.do({ call: 'read', tid: 1, fd, count: 4096 }).ret).toBe(54);
    expect(s.do({ call: 'read', tid: 1, fd, count: 4096 }).ret).toBe(0);
  });
});

describe('§3.8 step 1: position, pwrite, size', () => {
  it('file position != 0 → EINVAL (after lseek, or after reading on an O_RDWR fd); write does not advance it', () => {
    const s = fresh();
    const fd = s.open(1, '/proc/self/timens_offsets', 'rw');
    expect(s.ok({ call: 'write', tid: 1, fd, data: 'monotonic 1 0' })).toBe(13);
    expect(s.ok({ call: 'write', tid: 1, fd, data: 'monotonic 2 0' })).toBe(13); // repeated writes work
    s.ok({ call: 'lseek', tid: 1, fd, offset: 1, whence: 'SET' });
    s.err({ call: 'write', tid: 1, fd, data: 'monotonic 3 0' }, 'EINVAL');
    s.ok({ call: 'lseek', tid: 1, fd, offset: 0, whence: 'SET' });
    s.ok({ call: 'read', tid: 1, fd, count: 5 });
    s.err({ call: 'write', tid: 1, fd, data: 'monotonic 3 0' }, 'EINVAL');
  });
  it('pwrite → ESPIPE; 4096 bytes or more → EINVAL', () => {
    const s = fresh();
    const fd = s.open(1, '/proc/self/timens_offsets', 'w');
    s.err({ call: 'pwrite', tid: 1, fd, data: 'monotonic 1 0', offset: 0 }, 'ESPIPE');
    s.err({ call: 'write', tid: 1, fd, data: 'monotonic 1 0'.padEnd(4096, ' ') }, 'EINVAL');
    expect(s.ok({ call: 'write', tid: 1, fd, data: 'monotonic 1 0'.padEnd(4095, ' ') })).toBe(4095);
  });
});

describe('§3.8 step 2: parsing, all or nothing', () => {
  const einval = [
    ['an empty write', ''],
    ['a lone newline', '\n'],
    ['an empty line between records', 'monotonic 1 0\n\nboottime 1 0'],
    ['negative nsec', 'monotonic 1 -5'],
    ['nsec = 1e9', 'monotonic 1 1000000000'],
    ['a hex seconds field', 'monotonic 0x10 0'],
    ['realtime', 'realtime 1 0'],
    ['clock id 0', '0 1 0'],
    ['clock id 4', '4 1 0'],
    ['upper case', 'MONOTONIC 1 0'],
    ['a missing field', 'monotonic 1'],
    ['a bad second record (nothing applied)', 'monotonic 5 0\nboottime x 0'],
    ['a plus sign', 'monotonic +1 0'],
  ] as const;
  for (const [name, data] of einval) {
    it(`${name} → EINVAL`, () => {
      const s = fresh();
      expect(s.writeOffsets(1, data).errno).toBe('EINVAL');
      expect(s.ns(s.C(1)).offsets!.monotonic.sec).toBe(0);
    });
  }
  it('numeric ids 1 and 7, extra whitespace and trailing garbage after the third field are accepted', () => {
    const s = fresh();
    expect(s.writeOffsets(1, '1 5 0\n7 6 0').ret).toBe(11);
    const loose = '  monotonic\t  8   9 trailing words\n';
    expect(s.writeOffsets(1, loose).ret).toBe(loose.length);
    expect(s.ns(s.C(1)).offsets).toEqual({ monotonic: { sec: 8, nsec: 9 }, boottime: { sec: 6, nsec: 0 } });
  });
  it('only the first two records are parsed; the return value is the bytes of those lines', () => {
    const s = fresh();
    const data = 'monotonic 1 0\nboottime 2 0\ngarbage that is never parsed\n';
    expect(s.writeOffsets(1, data).ret).toBe('monotonic 1 0\nboottime 2 0\n'.length);
  });
  it('a duplicate clock: the last wins', () => {
    const s = fresh();
    s.writeOffsets(1, 'monotonic 1 0\nmonotonic 2 0');
    expect(s.ns(s.C(1)).offsets!.monotonic.sec).toBe(2);
  });
  it('the kernel scanner quirks: %9s keeps the rest of a long word; decimal only; %lu of a huge value wraps', () => {
    expect(parseOffsetsWrite('monotonic1 5 0', true)).toEqual({ ok: true, count: 14, offsets: [{ clockid: 1, val: { sec: 1, nsec: 5 } }] });
    expect(parseOffsetsWrite('monotonic 1 0x5', true)).toMatchObject({ ok: true, offsets: [{ val: { sec: 1, nsec: 0 } }] });
    expect(parseOffsetsWrite('monotonic 5 18446744073709551615', true)).toMatchObject({ ok: true, offsets: [{ val: { sec: 5, nsec: -1 } }] });
  });
});

describe('§3.8 steps 3–7: target, permission, range, frozen, apply', () => {
  it('the opener\'s credentials decide (file_ns_capable): a root-opened fd still writes after dropping privileges', () => {
    const s = fresh();
    const fd = s.open(1, '/proc/self/timens_offsets', 'w');
    s.ok({ call: 'setresuid', tid: 1, ruid: 1000, euid: 1000, suid: 1000 });
    expect(s.ok({ call: 'write', tid: 1, fd, data: 'monotonic 3 0' })).toBe(13);
  });
  it('parsing comes first: an fd opened without CAP_SYS_TIME gets EINVAL for an invalid line, EPERM for a valid one', () => {
    const s = new Sim();
    const u = s.unprivileged(1, 1000);
    s.ok({ call: 'prctl_dumpable', tid: u, dumpable: true }); // its /proc files are its own again
    s.ok({ call: 'unshare', tid: u, flags: 0 });
    const fd = s.open(u, '/proc/self/timens_offsets', 'w');
    s.err({ call: 'write', tid: u, fd, data: 'bogus 1 0' }, 'EINVAL');
    s.err({ call: 'write', tid: u, fd, data: 'monotonic 1 0' }, 'EPERM');
  });
  it('|sec| > 9223372036 → ERANGE; host clock + offset < 0 → ERANGE (the answer depends on the host clock)', () => {
    const s = fresh();
    expect(s.writeOffsets(1, 'monotonic 9223372037 0').errno).toBe('ERANGE');
    expect(s.writeOffsets(1, 'monotonic -9223372037 0').errno).toBe('ERANGE');
    expect(s.writeOffsets(1, 'monotonic -2523 0').errno).toBe('ERANGE'); // host monotonic is 2522 s
    expect(s.writeOffsets(1, 'monotonic -2522 0').ret).toBe(17);
    expect(s.writeOffsets(1, 'boottime 4611686018 0').errno).toBe('ERANGE'); // 2600 + that > KTIME_SEC_MAX/2
    const edge = `boottime ${4611686018 - 2600} 0`;
    expect(s.writeOffsets(1, edge).ret).toBe(edge.length);
  });
  it('frozen → EACCES, the initial namespace too; a bad value on a frozen namespace → ERANGE, not EACCES', () => {
    const s = fresh();
    s.fork(1); // freezes C
    expect(s.writeOffsets(1, 'monotonic 1 0').errno).toBe('EACCES');
    expect(s.writeOffsets(1, 'monotonic 9223372037 0').errno).toBe('ERANGE');
    const t = new Sim();
    expect(t.writeOffsets(1, 'monotonic 1 0').errno).toBe('EACCES');
  });
  it('an offset write racing a first fork: before the fork it lands, after it EACCES', () => {
    const s = fresh();
    expect(s.writeOffsets(1, 'monotonic 5 0').ret).toBe(13);
    const c = s.fork(1);
    expect(s.writeOffsets(1, 'monotonic 6 0').errno).toBe('EACCES');
    expect(s.mono(c).sec).toBe(2522 + 5);
  });
  it('writing another process\'s file: the target\'s time_for_children changes (runc: the parent writes the child\'s)', () => {
    const s = new Sim();
    const child = s.fork(1);
    s.unshareTime(child);
    expect(s.writeOffsets(1, 'boottime 7 0', child).ret).toBe(12);
    expect(s.ns(s.C(child)).offsets!.boottime.sec).toBe(7);
    void NEWTIME;
  });
});

describe('the scan of an offsets line: the number fast path answers as the kernel scanner does', () => {
  // scanOffsetSmall reads digit runs of up to 15 digits as plain numbers; kernelScanOffset follows sscanf with
  // 64-bit wrap in BigInt. Wherever the fast path answers (not null), the two must agree field by field.
  const piece = fc.oneof(
    fc.constantFrom('monotonic', 'boottime', '1', '7', 'monotonicx', ' ', '\t', '\n', '\v', '-', '--', '+', '0x10', 'x', '\0'),
    fc.stringMatching(/^-?[0-9]{1,20}$/),
    fc.string({ maxLength: 4 }),
  );
  const line = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''));
  it('on generated lines (clock words, blanks, signs, digit runs of 1-20 digits, garbage)', () => {
    fc.assert(
      fc.property(line, (l) => {
        const small = scanOffsetSmall(l);
        const ref = kernelScanOffset(l);
        if (small === null) {
          // Only a run past 15 digits sends a line to the BigInt scanner.
          expect(/[0-9]{16}/.test(l)).toBe(true);
          return;
        }
        expect({ n: small.n, clock: small.clock, sec: BigInt(small.sec), nsec: BigInt(small.nsec) }).toEqual(ref);
      }),
      { numRuns: 5000 },
    );
  });
  it('at the edges: -0, 15 and 16 digits', () => {
    expect(scanOffsetSmall('monotonic -0 0')).toEqual({ n: 3, clock: 'monotonic', sec: 0, nsec: 0 });
    expect(Object.is(scanOffsetSmall('monotonic -0 0')!.sec, -0)).toBe(false);
    expect(scanOffsetSmall('1 999999999999999 999999999999999')).toEqual({ n: 3, clock: '1', sec: 999999999999999, nsec: 999999999999999 });
    expect(scanOffsetSmall('1 9999999999999999 0')).toBeNull();
    expect(scanOffsetSmall('1 0 9999999999999999')).toBeNull();
  });
});
