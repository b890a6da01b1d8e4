import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkInvariants } from '../src/kernel/index.js';
import { validateOp } from '../src/events/index.js';
import { verifyLedger, readLedgerSync } from '../src/ledger/index.js';
import { Synth, writeSynth, SynthTargetError } from '../src/replay/synth.js';
import { Projector } from '../src/replay/project.js';

const dir = mkdtempSync(join(tmpdir(), 'tns-synth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function all(s: Synth) {
  const out = [];
  for (let b = s.next(1000); b.length; b = s.next(1000)) out.push(...b);
  return out;
}

describe('synth', () => {
  it('is deterministic by seed', () => {
    const a = writeSynth(join(dir, 'a.ndjson'), { events: 3000, seed: 9 });
    const b = writeSynth(join(dir, 'b.ndjson'), { events: 3000, seed: 9 });
    writeSynth(join(dir, 'c.ndjson'), { events: 3000, seed: 10 });
    expect(a.lastSeq).toBe(3000);
    expect(readFileSync(join(dir, 'a.ndjson'), 'utf8')).toBe(readFileSync(join(dir, 'b.ndjson'), 'utf8'));
    expect(readFileSync(join(dir, 'a.ndjson'), 'utf8')).not.toBe(readFileSync(join(dir, 'c.ndjson'), 'utf8'));
    expect(b.bytes).toBeGreaterThan(0);
  });

  it('writes a valid ledger: chain intact, every op valid, every outcome re-derived by the model, invariants hold', () => {
    const path = join(dir, 'v.ndjson');
    writeSynth(path, { events: 20000, seed: 3 });
    const v = verifyLedger(path);
    expect(v.ok).toBe(true);
    expect(v.records).toBe(20000);
    const recs = [...readLedgerSync(path)];
    for (const r of recs) expect(validateOp(r.op)).toBeUndefined();
    const p = new Projector({ engine: 'mutable' });
    p.step(recs);
    expect(p.divergences).toEqual([]);
    expect(checkInvariants(p.current!.world)).toEqual([]);
  });

  it('has many tasks, namespaces and the errors the brief asks for', () => {
    const recs = all(new Synth({ events: 40000, seed: 5 }));
    const calls = new Set(recs.map((r) => r.op.call));
    for (const c of ['fork', 'clone', 'clone3', 'unshare', 'setns', 'execve', 'exit_group', 'exit', 'wait', 'open', 'write', 'read', 'clock_gettime', 'host.advance', 'setresuid'])
      expect(calls, c).toContain(c);
    const errs = new Set(recs.filter((r) => r.outcome?.errno).map((r) => `${r.op.call}:${r.outcome!.errno}`));
    for (const e of ['write:EACCES', 'write:EINVAL', 'unshare:EPERM', 'setns:EUSERS', 'unshare:ENOSPC', 'setns:EBADF', 'clock_gettime:EINVAL', 'wait:ECHILD'])
      expect(errs, e).toContain(e);
    const pids = new Set(recs.filter((r) => r.op.call === 'fork' && !r.outcome?.errno).map((r) => r.outcome!.ret));
    expect(pids.size).toBeGreaterThan(1000);
    // Offsets written successfully before the first entry, and the namespaces frozen by then.
    expect(recs.some((r) => r.op.call === 'write' && r.outcome?.errno === undefined && /monotonic/.test((r.op as { data: string }).data))).toBe(true);
  });

  it('refuses to overwrite a ledger without force', () => {
    const path = join(dir, 'a.ndjson');
    expect(() => writeSynth(path, { events: 10, seed: 1 })).toThrow(SynthTargetError);
    expect(writeSynth(path, { events: 10, seed: 1, force: true }).lastSeq).toBe(10);
  });
});
