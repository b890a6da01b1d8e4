import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  ALL_CALLS,
  CanonicalError,
  EventInputError,
  EXAMPLES,
  RecordError,
  ZERO_HASH,
  canonicalJson,
  decodeRecord,
  exampleFiles,
  parseRecordLine,
  recordHash,
  schemaFileText,
  sealRecord,
  validateRecord,
  type EventRecord,
} from '../src/events/index.js';
import { apply, createWorld, type Op } from '../src/kernel/index.js';

const EVENTS_DIR = join(import.meta.dirname, '..', 'events');
const ctx = { file: 'ledger.ndjson', line: 42 };

function sealed(op: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  // Build a record with a correct hash around an arbitrary (possibly bad) op, bypassing input validation.
  const r: Record<string, unknown> = { v: 1, seq: 1, prev: ZERO_HASH, op, ...extra };
  try {
    r.hash = recordHash(r);
  } catch (e) {
    if (!(e instanceof CanonicalError)) throw e;
    r.hash = 'f'.repeat(64); // a float has no hash; validation refuses it before any hash check
  }
  return r;
}

function errorOf(fn: () => unknown): RecordError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RecordError) return e;
    throw e;
  }
  throw new Error('expected a RecordError');
}

describe('generated files are current', () => {
  it('events/schema.json is what src/events/schema.ts generates (run `node dist/events/gen.js` after a change)', () => {
    expect(readFileSync(join(EVENTS_DIR, 'schema.json'), 'utf8')).toBe(schemaFileText());
  });

  it('events/examples holds exactly one example per event type, each current', () => {
    const want = exampleFiles();
    const have = readdirSync(join(EVENTS_DIR, 'examples')).filter((f) => f.endsWith('.json'));
    expect(have.sort()).toEqual([...want.keys()].sort());
    expect(want.size).toBe(ALL_CALLS.length);
    for (const [name, text] of want) expect(readFileSync(join(EVENTS_DIR, 'examples', name), 'utf8'), name).toBe(text);
  });

  it.each([...ALL_CALLS])('example %s validates, carries its own call and a correct hash', (call) => {
    const file = `${call}.json`;
    const text = readFileSync(join(EVENTS_DIR, 'examples', file), 'utf8');
    const rec = decodeRecord(JSON.parse(text), { file, line: 1 }, { checkHash: true });
    expect(rec.op.call).toBe(call);
    expect(rec.seq).toBe(1);
    expect(rec.prev).toBe(ZERO_HASH);
  });

  it('kernel-op examples with a model outcome (recorded: false) are what the model says in a suitable world', () => {
    // host.* examples apply to a fresh world; the others need their tasks, so only check the host ones here.
    for (const call of ['host.advance', 'host.suspend', 'host.sysctl'] as const) {
      const w = createWorld({});
      const out = apply(w, EXAMPLES[call].op as Op);
      expect(out.ret, call).toBe(EXAMPLES[call].outcome!.ret);
    }
  });
});

describe('canonical encoding', () => {
  it('sorts keys, drops undefined, no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: -0, y: -5 } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":-5,"z":0}}');
  });

  it('is independent of key order and stable for unicode', () => {
    expect(canonicalJson({ a: 'é\n\u2028\ud800', b: 2 })).toBe(canonicalJson({ b: 2, a: 'é\n\u2028\ud800' }));
    expect(canonicalJson('é\n\ud800')).toBe('"é\\n\\ud800"');
  });

  it('refuses floats, non-safe integers, undefined in arrays, functions, class instances and deep nesting', () => {
    for (const bad of [1.5, NaN, Infinity, 2 ** 53, [undefined], () => 1, new Date(0), 10n]) {
      expect(() => canonicalJson(bad), String(bad)).toThrow(CanonicalError);
    }
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(CanonicalError);
  });

  it('the hash is over the record without `hash`, whatever the key order', () => {
    const { record, line } = sealRecord({ op: { call: 'fork', tid: 1 }, outcome: { ret: 2 } }, 1, ZERO_HASH);
    expect(JSON.parse(line)).toEqual(record);
    const shuffled = Object.fromEntries(Object.entries(record).reverse());
    expect(recordHash(shuffled)).toBe(record.hash);
    const { hash: _, ...rest } = record;
    expect(recordHash(rest)).toBe(record.hash);
    // A pinned value: the canonical encoding and the hash must never change between versions of tns.
    expect(line).toBe(
      '{"hash":"' + record.hash + '","op":{"call":"fork","tid":1},"outcome":{"ret":2},"prev":"' + ZERO_HASH + '","seq":1,"v":1}',
    );
    expect(record.hash).toBe('e882bc47b21121a689513760fda27c5691ed8e064fb7c0ae384907b2db30bca2');
  });
});

describe('validation of untrusted records', () => {
  it('names the file, the line and the field path', () => {
    const e = errorOf(() => decodeRecord(sealed({ call: 'unshare', tid: 5, flags: 'x' }), ctx));
    expect(e.message).toBe('ledger.ndjson:42: op.flags: expected an integer, got "x"');
    expect(e.reason).toBe('invalid');
    expect(e.path).toBe('op.flags');
  });

  const cases: [string, unknown, Record<string, unknown>, string][] = [
    ['unknown call', { call: 'ptrace', tid: 1 }, {}, 'op.call: unknown call "ptrace"'],
    ['missing tid', { call: 'fork' }, {}, 'op.tid: missing required field'],
    ['tid 0', { call: 'fork', tid: 0 }, {}, 'op.tid: expected an integer in [1, 4194304], got 0'],
    ['float flags', { call: 'clone', tid: 1, flags: 1.5 }, {}, 'op.flags: expected an integer, got 1.5'],
    ['negative flags', { call: 'unshare', tid: 1, flags: -1 }, {}, 'op.flags: expected an integer in [0,'],
    ['fd beyond int32', { call: 'close', tid: 1, fd: 2 ** 31 }, {}, 'op.fd: expected an integer in [-2147483648, 2147483647]'],
    ['bad whence', { call: 'lseek', tid: 1, fd: 3, offset: 0, whence: 'DATA' }, {}, 'op.whence: expected one of SET, CUR, END, got "DATA"'],
    ['bad open mode', { call: 'open', tid: 1, path: '/x', mode: 'a' }, {}, 'op.mode: expected one of r, w, rw'],
    ['bad errno in fsError', { call: 'execve', tid: 1, path: '/x', fsError: 'EWHAT' }, {}, 'op.fsError: expected one of EPERM'],
    ['bad cap', { call: 'capset', tid: 1, caps: ['CAP_SYS_ADMIN', 'CAP_NET_RAW'] }, {}, 'op.caps[1]: expected one of'],
    ['bad api', { call: 'timer_abs', tid: 1, api: 'alarm', clockid: 1, deadline: { sec: 1, nsec: 0 } }, {}, 'op.api: expected one of'],
    ['deadline not an object', { call: 'timer_abs', tid: 1, api: 'futex', clockid: 1, deadline: 5 }, {}, 'op.deadline: expected an object, got 5'],
    ['uid below -1', { call: 'setresuid', tid: 1, ruid: -2, euid: 0, suid: 0 }, {}, 'op.ruid: expected an integer in [-1, 4294967295], got -2'],
    ['unknown op field', { call: 'fork', tid: 1, flags: 0 }, {}, 'op.flags: unknown field'],
    ['sysctl name', { call: 'host.sysctl', name: 'kernel.pid_max', value: 1 }, {}, 'op.name: expected "user.max_time_namespaces"'],
    ['set_tid item', { call: 'clone3', tid: 1, flags: 0, exit_signal: 17, size: 88, set_tid: [1, 'a'] }, {}, 'op.set_tid[1]: expected an integer'],
    ['marker without pid', { call: 'marker.checkpoint', at: 3 }, {}, 'op.pid: missing required field'],
    ['marker.profile junk', { call: 'marker.profile', profile: 'latest' }, {}, 'op.profile: expected a string matching'],
    ['bad errno', { call: 'fork', tid: 1 }, { outcome: { ret: -1, errno: 'EWHAT' } }, 'outcome.errno: expected one of'],
    ['errno with ret 0', { call: 'fork', tid: 1 }, { outcome: { ret: 0, errno: 'EPERM' } }, 'outcome.ret: an outcome with errno EPERM has ret -1, got 0'],
    ['ts nsec out of range', { call: 'clock_gettime', tid: 1, clockid: 1 }, { outcome: { ret: 0, ts: { sec: 1, nsec: 1e9 } } }, 'outcome.ts.nsec: expected an integer in [0, 999999999]'],
    ['recorded without outcome', { call: 'fork', tid: 1 }, { recorded: true }, 'recorded: recorded is set but there is no outcome'],
    ['src line 0', { call: 'fork', tid: 1 }, { src: { file: 'a', line: 0 } }, 'src.line: expected an integer in [1,'],
    ['src endLine before line', { call: 'fork', tid: 1 }, { src: { file: 'a', line: 5, endLine: 4 } }, 'src.endLine: endLine 4 is before line 5'],
    ['wall not ISO', { call: 'fork', tid: 1 }, { at: { wall: 'yesterday' } }, 'at.wall: expected a string matching'],
    ['unknown top field', { call: 'fork', tid: 1 }, { tid: 1 }, 'tid: unknown field'],
    ['op an array', [], {}, 'op: expected an object, got an array'],
    ['__proto__ field', JSON.parse('{"call":"fork","tid":1,"__proto__":{"x":1}}'), {}, 'op.__proto__: unknown field'],
  ];
  it.each(cases)('%s', (_name, op, extra, message) => {
    const e = errorOf(() => decodeRecord(sealed(op, extra), ctx));
    expect(e.message.startsWith(`ledger.ndjson:42: ${message}`), e.message).toBe(true);
    expect(e.reason).toBe('invalid');
  });

  it('accepts what the kernel would refuse: an invalid clock id, a negative lseek offset, an invalid timespec', () => {
    for (const op of [
      { call: 'clock_gettime', tid: 1, clockid: 12 },
      { call: 'clock_gettime', tid: 1, clockid: -7 },
      { call: 'lseek', tid: 1, fd: 3, offset: -100, whence: 'CUR' },
      { call: 'timer_abs', tid: 1, api: 'clock_nanosleep', clockid: 1, deadline: { sec: -1, nsec: 2e9 } },
      { call: 'setns', tid: 1, fd: -1, nstype: -1 },
    ]) {
      expect(validateRecord(sealed(op)), JSON.stringify(op)).toBeUndefined();
    }
  });

  it('envelope faults: version, seq, prev and hash shapes', () => {
    const good = sealed({ call: 'fork', tid: 1 });
    expect(errorOf(() => decodeRecord({ ...good, v: 2 }, ctx)).message).toBe('ledger.ndjson:42: v: record format version 2 is newer than this tns understands (1)');
    expect(errorOf(() => decodeRecord({ ...good, v: '1' }, ctx)).message).toContain('v: expected a record format version');
    expect(errorOf(() => decodeRecord({ ...good, seq: 0 }, ctx)).message).toContain('seq: expected an integer in [1,');
    expect(errorOf(() => decodeRecord({ ...good, prev: 'ABC' }, ctx)).message).toContain('prev: expected a string matching');
    expect(errorOf(() => decodeRecord({ ...good, hash: good.hash!.toString().toUpperCase() }, ctx)).message).toContain('hash: expected a string matching');
    expect(errorOf(() => decodeRecord([1], ctx)).message).toBe('ledger.ndjson:42: expected a record (a JSON object), got an array');
    expect(errorOf(() => parseRecordLine('{"v":1,', ctx)).reason).toBe('bad-json');
  });

  it('bad-hash: any change to a sealed record is caught by checkHash', () => {
    const { record } = sealRecord({ op: { call: 'unshare', tid: 7, flags: 128 }, outcome: { ret: 0 } }, 3, 'a'.repeat(64));
    expect(decodeRecord(structuredClone(record), ctx, { checkHash: true })).toEqual(record);
    const changed = structuredClone(record) as EventRecord & { op: { flags: number } };
    changed.op.flags = 0x20000;
    const e = errorOf(() => decodeRecord(changed, ctx, { checkHash: true }));
    expect(e.reason).toBe('bad-hash');
    expect(e.message).toMatch(/^ledger.ndjson:42: hash: stored hash [0-9a-f]{16}… is not the record's hash/);
    // without checkHash the change passes validation (it is a valid record, just not the one hashed)
    expect(decodeRecord(changed, ctx).op).toEqual(changed.op);
  });

  it('sealRecord refuses a bad event with a typed error naming the field', () => {
    expect(() => sealRecord({ op: { call: 'fork', tid: -1 } as never }, 1, ZERO_HASH, 7)).toThrow(EventInputError);
    try {
      sealRecord({ op: { call: 'fork', tid: -1 } as never }, 1, ZERO_HASH, 7);
    } catch (e) {
      expect((e as Error).message).toBe('event #7 of the batch: op.tid: expected an integer in [1, 4194304], got -1');
    }
  });

  it('fields set to undefined are absent (and not part of the hash)', () => {
    const a = sealRecord({ op: { call: 'fork', tid: 1, child: undefined }, pid: undefined, outcome: { ret: 2, errno: undefined } }, 1, ZERO_HASH);
    const b = sealRecord({ op: { call: 'fork', tid: 1 }, outcome: { ret: 2 } }, 1, ZERO_HASH);
    expect(a.line).toBe(b.line);
  });
});

describe('upcasting v0 records', () => {
  const v0 = (extra: Record<string, unknown>) => {
    const r: Record<string, unknown> = { seq: 1, prev: ZERO_HASH, type: 'unshare', args: { tid: 10, flags: 128 }, ...extra };
    r.hash = recordHash(r);
    return r;
  };

  it('a v0 record (type + args, no v) validates, keeps its hash and becomes a v1 record', () => {
    const raw = v0({ pid: 10, result: { ret: 0 }, traced: true, time: '2024-03-01T10:00:00Z', file: 'old.strace', line: 9, note: 'n' });
    const rec = decodeRecord(structuredClone(raw), ctx, { checkHash: true });
    expect(rec).toEqual({
      v: 1,
      seq: 1,
      prev: ZERO_HASH,
      hash: raw.hash,
      op: { call: 'unshare', tid: 10, flags: 128 },
      pid: 10,
      outcome: { ret: 0 },
      recorded: true,
      at: { wall: '2024-03-01T10:00:00Z' },
      src: { file: 'old.strace', line: 9 },
      note: 'n',
    });
    // an explicit v: 0 reads the same
    const withV = v0({ v: 0 });
    expect(decodeRecord(withV, ctx, { checkHash: true }).op).toEqual({ call: 'unshare', tid: 10, flags: 128 });
  });

  it('the upcast op replays on the kernel model like a v1 one', () => {
    const rec = decodeRecord(v0({ type: 'clock_gettime', args: { tid: 1, clockid: 7 } }), ctx);
    const w = createWorld({});
    expect(apply(w, rec.op as Op)).toMatchObject({ ret: 0, ts: w.host.boottime });
  });

  it('errors in a v0 record are named with the v0 field names', () => {
    expect(errorOf(() => decodeRecord(v0({ args: { tid: 10, flags: 'x' } }), ctx)).message).toBe(
      'ledger.ndjson:42: args.flags: expected an integer, got "x" (in a v0 record)',
    );
    expect(errorOf(() => decodeRecord(v0({ type: 'nope' }), ctx)).message).toContain('ledger.ndjson:42: type: unknown call "nope"');
    expect(errorOf(() => decodeRecord(v0({ result: { ret: 'a' } }), ctx)).message).toContain('result.ret: expected an integer');
    expect(errorOf(() => decodeRecord(v0({ op: {} }), ctx)).message).toBe('ledger.ndjson:42: op: unknown field (in a v0 record)');
    expect(errorOf(() => decodeRecord(v0({ file: 'x' }), ctx)).message).toContain('line: a v0 record gives file and line together');
  });
});

describe('fuzzed records: typed errors only', () => {
  it('arbitrary JSON values and strings never throw anything but RecordError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.string(), fc.anything()), (v) => {
        try {
          if (typeof v === 'string') parseRecordLine(v, ctx, { checkHash: true });
          else decodeRecord(v, ctx, { checkHash: true });
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid records never throw anything but RecordError', () => {
    const base = Object.values(EXAMPLES).map((ex, i) => sealRecord(ex, i + 1, ZERO_HASH).record as unknown as Record<string, unknown>);
    const mutate = fc.tuple(fc.integer({ min: 0, max: base.length - 1 }), fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue()), { maxLength: 4 }), fc.boolean());
    fc.assert(
      fc.property(mutate, ([i, muts, inOp]) => {
        const r = structuredClone(base[i]);
        const target = (inOp ? r.op : r) as Record<string, unknown>;
        for (const [k, val] of muts) target[k] = val;
        try {
          decodeRecord(r, ctx, { checkHash: true });
        } catch (e) {
          if (!(e instanceof RecordError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
