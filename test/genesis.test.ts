// The genesis of a ledger without marker.genesis: inferred from its head, one record at a time, with no cap on how
// long the head of host.spawn records and markers before the first task may be.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ZERO_HASH, sealRecord, type EventInput, type EventRecord } from '../src/events/index.js';
import { genesisOf, GenesisInference, inferGenesis } from '../src/replay/genesis.js';

const dir = mkdtempSync(join(tmpdir(), 'tns-genesis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seal(inputs: EventInput[]): { records: EventRecord[]; lines: string[] } {
  let prev = ZERO_HASH;
  const records: EventRecord[] = [];
  const lines: string[] = [];
  inputs.forEach((input, k) => {
    const { record, line } = sealRecord(input, k + 1, prev);
    prev = record.hash;
    records.push(record);
    lines.push(line);
  });
  return { records, lines };
}

const at = { monotonic: { sec: 100, nsec: 5 }, boottime: { sec: 120, nsec: 6 }, realtime: { sec: 1_700_000_000, nsec: 7 } };

describe('genesis inference', () => {
  it('the first caller no earlier record created, after 70,000 host.spawn records (past the old 65,536-record head cap)', () => {
    const inputs: EventInput[] = [{ op: { call: 'marker.profile', profile: '6.3+' } }];
    for (let k = 0; k < 70_000; k++) inputs.push({ op: { call: 'host.spawn', pid: 100 + k } });
    inputs.push({ op: { call: 'fork', tid: 100, child: 90_000 }, outcome: { ret: 90_000 } }); // a spawned caller: not the first task
    inputs.push({ op: { call: 'clock_gettime', tid: 90_000, clockid: 1 } }); // created by the fork: not it either
    for (let k = 0; k < 5; k++) inputs.push({ op: { call: 'clock_gettime', tid: 7, clockid: 1 } });
    const path = join(dir, 'long-head.ndjson');
    writeFileSync(path, seal(inputs).lines.join('\n') + '\n');
    const g = genesisOf(path);
    expect(g.options.firstPid).toBe(7);
    expect(g.options.profile).toBe('6.3+');
    expect(g.complete).toBe(true);
    expect(g.inferred).toContain('first task 7 (the caller at seq 70004, created by no earlier record)');
  });

  it('a ledger of nothing but markers and host.spawn records: pid 1, and not complete', () => {
    const inputs: EventInput[] = [{ op: { call: 'marker.annotation', text: 'start' }, at }];
    for (let k = 0; k < 300; k++) inputs.push({ op: { call: 'host.spawn', pid: 100 + k } });
    const path = join(dir, 'spawn-only.ndjson');
    writeFileSync(path, seal(inputs).lines.join('\n') + '\n');
    const g = genesisOf(path, { profile: '6.1' });
    expect(g.options.firstPid).toBe(1);
    expect(g.options.profile).toBe('6.1'); // given wins
    expect(g.options.host).toEqual(at); // the first record's at, though it is a marker
    expect(g.complete).toBe(false);
  });

  it('fed one record at a time, it settles exactly where inferGenesis over the whole head does', () => {
    const opArb = fc.oneof(
      fc.constant({ call: 'marker.profile', profile: '6.1' } as const),
      fc.constant({ call: 'marker.annotation', text: 'x' } as const),
      fc.integer({ min: 1, max: 12 }).map((pid) => ({ call: 'host.spawn', pid }) as const),
      fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([tid, child]) => ({ call: 'fork', tid, child }) as const),
      fc.integer({ min: 1, max: 12 }).map((tid) => ({ call: 'clock_gettime', tid, clockid: 1 }) as const),
    );
    fc.assert(
      fc.property(fc.array(fc.record({ op: opArb, withAt: fc.boolean() }), { maxLength: 30 }), (items) => {
        const inputs = items.map(({ op, withAt }) => ({ op, ...(op.call === 'fork' ? { outcome: { ret: op.child } } : {}), ...(withAt ? { at } : {}) }) as EventInput);
        const { records } = seal(inputs);
        const whole = inferGenesis(records);
        const g = new GenesisInference();
        let settledAt = -1;
        records.forEach((r, k) => {
          if (settledAt < 0 && g.feed(r)) settledAt = k;
        });
        expect(g.result()).toEqual(whole);
        // settled means: no later record changes the answer
        if (settledAt >= 0) expect(inferGenesis(records.slice(0, settledAt + 1))).toEqual(whole);
        else expect(whole.complete).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
