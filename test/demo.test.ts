/**
 * `tns demo`: it runs end to end, writes valid ledgers (one per host), and the numbers in its story are the ones
 * the formula gives — computed here independently from the scenario's host clocks and offsets.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './fixtures/scenarios/cli.js';
import { verifyLedger } from '../src/ledger/index.js';
import { parseRecordLine } from '../src/events/record.js';

const dir = () => mkdtempSync(join(tmpdir(), 'tns-demo-test-'));

describe('tns demo', () => {
  it('tells the migration story with the right numbers and leaves ledgers to explore', async () => {
    const d = dir();
    const r = await cli(['demo', d]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = r.stdout;
    // Host A: monotonic 500000 at the start, offsets −499000 / −509000 written before the container starts; 250.5 s later
    // the checkpoint reads D = 500250.5 − 499000 = 1250.5 (monotonic) and 510250.5 − 509000 = 1250.5 (boottime).
    expect(s).toContain('offsets monotonic -499000 s, boottime -509000 s');
    expect(s).toMatch(/time:\[\d+\]\s+-499000 s\s+-509000 s\s+1250\.5 s\s+1250\.5 s\s+101/);
    // Hop 1, freeze on host B (monotonic 259200, boottime 259300): O = D − (now − P) with P = 0.
    expect(s).toContain('monotonic: O = D − (now − P) = 1250.500000000 − (259200.000000000 − 0.000000000) = -257949.500000000 s');
    expect(s).toContain('boottime:  O = D − (now − P) = 1250.500000000 − (259300.000000000 − 0.000000000) = -258049.500000000 s');
    // On host B: 100 s running then a 20 s suspend → D = 1350.5 monotonic, 1370.5 boottime at the second checkpoint.
    expect(s).toMatch(/time:\[\d+\]\s+-257949\.5 s\s+-258049\.5 s\s+1350\.5 s\s+1370\.5 s\s+101/);
    // Hop 2, advance on host C (600 s up) with 30 s elapsed: O = 1350.5 + 30 − 600 = 780.5, 1370.5 + 30 − 600 = 800.5.
    expect(s).toContain('O = D + elapsed − (now − P) = 1350.500000000 + 30.000000000 − (600.000000000 − 0.000000000) = 780.500000000 s');
    expect(s).toContain('O = D + elapsed − (now − P) = 1370.500000000 + 30.000000000 − (600.000000000 − 0.000000000) = 800.500000000 s');
    expect(s).toContain('ok  task 101 monotonic: checkpointed 1250.500000000, restored 1250.500000000 (=)');
    expect(s).toContain('ok  task 101 monotonic: checkpointed 1350.500000000, restored 1380.500000000 (>)');
    expect(s).not.toMatch(/BAD|BACKWARDS|FAILED/);
    // the plot, the downtime, the summary and the commands to go further
    expect(s).toContain('CLOCK_MONOTONIC (s) (log scale)');
    expect(s).toContain('hostA → hostB: 3350 s of realtime');
    expect(s).toContain('inside the container: 1000 s → 1381.5 s, never backwards');
    expect(s).toMatch(/Expectations: (\d+)\/\1 hold/);
    expect(s).toMatch(/hostB: .*hostB\.ndjson \(\d+ records, replayed: 0 divergences\)/);
    expect(s).toContain(`tns log ${join(d, 'hostA.ndjson')}`);
    expect(s).toContain(`tns log ${join(d, 'hostB.ndjson')}`);
    expect(s).toMatch(new RegExp(`tns state ${join(d, 'hostA.ndjson').replace(/[.]/g, '\\.')} --at \\d+`));
    expect(s).toMatch(/tns why .*hostA\.ndjson time:\[\d+\] --at \d+/);
  });

  it('the ledgers are valid hash chains whose events carry the model outcomes and the scenario lines', async () => {
    const d = dir();
    expect((await cli(['demo', d])).code).toBe(0);
    for (const host of ['hostA', 'hostB', 'hostC']) {
      const path = join(d, `${host}.ndjson`);
      const v = await verifyLedger(path);
      expect(v.ok, JSON.stringify(v)).toBe(true);
      const recs = readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .map((l, i) => parseRecordLine(l, { file: path, line: i + 1 }, { checkHash: true }));
      // the genesis: the world the ledger starts from, with the model's own first task (pid 4194304)
      expect(recs[0].op).toMatchObject({ call: 'marker.genesis', world: { profile: '6.3+', firstPid: 4194304 } });
      const ops = recs.slice(1).filter((r) => r.outcome);
      expect(ops.every((r) => r.recorded === false && r.src?.file.endsWith('migration-chain.tns'))).toBe(true);
      if (host !== 'hostC') expect(recs.some((r) => r.op.call === 'marker.checkpoint')).toBe(true);
      if (host !== 'hostA') {
        expect(recs.some((r) => r.op.call === 'marker.restore')).toBe(true);
        // the restorer wrote offsets with numeric clock ids
        const writes = recs.filter((r) => r.op.call === 'write').map((r) => (r.op as { data: string }).data);
        expect(writes.some((w) => /^1 -?\d+ \d+\n$/.test(w))).toBe(true);
        expect(writes.some((w) => /^7 -?\d+ \d+\n$/.test(w))).toBe(true);
      }
    }
  });

  it('--json gives the same numbers as data', async () => {
    const d = dir();
    const r = await cli(['demo', d, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.restores.map((x: { policy: string }) => x.policy)).toEqual(['freeze', 'advance']);
    expect(j.restores[0].namespaces[0].offsets.monotonic).toEqual({ sec: -257950, nsec: 500000000 });
    expect(j.restores[1].namespaces[0].offsets.monotonic).toEqual({ sec: 780, nsec: 500000000 });
    expect(j.ledgers.map((l: { machine: string }) => l.machine)).toEqual(['hostA', 'hostB', 'hostC']);
    const inside = j.samples.filter((x: { container: unknown }) => x.container).map((x: { container: { sec: number; nsec: number } }) => x.container.sec * 1e9 + x.container.nsec);
    expect(inside.every((v: number, i: number) => i === 0 || v >= inside[i - 1])).toBe(true);
  });

  it('refuses to overwrite ledgers unless --force', async () => {
    const d = dir();
    expect((await cli(['demo', d])).code).toBe(0);
    const again = await cli(['demo', d]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/hostA\.ndjson already exists/);
    expect((await cli(['demo', d, '--force'])).code).toBe(0);
  });
});
