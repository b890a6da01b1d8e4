// Code written out for speed against its plain form: the /proc path splitter agrees with the regexes it replaced on
// every path built from the pieces that matter (digits, self, thread-self, task, ns links, slashes, line terminators,
// other characters); the offsets scanner's integers agree with simple_strntoull's digit-by-digit wrap modulo 2^64.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { nsLinkName, splitProcPidPath } from '../../src/kernel/files.js';
import { kernelScanOffset } from '../../src/kernel/timens.js';

const PID_PATH = /^\/proc\/(self|thread-self|\d+)(?:\/task\/(\d+))?\/(.+)$/;
const NS_LINK = /^ns\/([a-z_]+)$/;

function byRegex(path: string) {
  const m = PID_PATH.exec(path);
  return m ? { pid: m[1], task: m[2], rest: m[3] } : null;
}

const piece = fc.constantFrom('/proc/', '/proc', 'proc/', 'self', 'thread-self', 'selfx', '/task/', 'task', '/', '//', '0', '1', '42', '007', 'ns/', 'ns', 'time', 'time_for_children', 'pid_', 'Time', 'x', '-', '.', ' ', '\n', '\r', '\u2028', '\u2029', 'timens_offsets', 'uid_map');
const path = fc.array(piece, { maxLength: 9 }).map((a) => a.join(''));
const procPath = fc.tuple(fc.constantFrom('/proc/', '/proc/self', '/proc/thread-self', '/proc/12', '/proc/3/task/4', '/proc/self/task/'), path).map(([a, b]) => a + b);

describe('splitProcPidPath and nsLinkName', () => {
  it('agree with the regexes on the usual paths and their edges', () => {
    for (const p of ['/proc/self/ns/time', '/proc/1/task/2', '/proc/1/task/2/', '/proc/1/task/2/ns/pid', '/proc/1/task//ns/pid', '/proc/self5/ns/time', '/proc/thread-self/timens_offsets', '/proc/0001/ns/x', '/proc/1/ns/time\n', '/proc/1\n/ns', '/proc/', '/proc/self/', '/proc/self/\u2028'])
      expect(splitProcPidPath(p), JSON.stringify(p)).toEqual(byRegex(p));
    for (const r of ['ns/time', 'ns/', 'ns/Time', 'ns/time_for_children', 'ns/a-b', 'nsx/time', 'ns/__proto__'])
      expect(nsLinkName(r), r).toBe(NS_LINK.exec(r)?.[1] ?? null);
  });
  it('agree with the regexes on generated paths', () => {
    fc.assert(
      fc.property(fc.oneof(path, procPath), (p) => {
        expect(splitProcPidPath(p)).toEqual(byRegex(p));
        expect(nsLinkName(p)).toBe(NS_LINK.exec(p)?.[1] ?? null);
        const rest = byRegex(p)?.rest;
        if (rest !== undefined) expect(nsLinkName(rest)).toBe(NS_LINK.exec(rest)?.[1] ?? null);
      }),
      { numRuns: 20000 },
    );
  });
});

describe('kernelScanOffset integers', () => {
  const U64 = (1n << 64n) - 1n;
  /** simple_strntoull: v = v * 10 + digit, wrapping at 2^64; then the sign and the signed reinterpretation. */
  function digitByDigit(digits: string, neg: boolean): bigint {
    let v = 0n;
    for (const d of digits) v = (v * 10n + BigInt(d.charCodeAt(0) - 48)) & U64;
    return BigInt.asIntN(64, neg ? (-v) & U64 : v);
  }
  it('wrap like simple_strntoull, digit by digit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,45}$/), fc.stringMatching(/^[0-9]{1,45}$/), fc.boolean(), (sec, nsec, neg) => {
        const r = kernelScanOffset(`monotonic ${neg ? '-' : ''}${sec} ${nsec}`);
        expect(r.n).toBe(3);
        expect(r.sec).toBe(digitByDigit(sec, neg));
        expect(r.nsec).toBe(digitByDigit(nsec, false));
      }),
      { numRuns: 3000 },
    );
  });
});
