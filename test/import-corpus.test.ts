/**
 * Every real trace in test/traces (and /work/shared/traces) checks with 0 divergences under 6.3+, from the strace
 * file and again from the ledger `tns import strace` writes. The corpus was recorded on a 6.18 machine by a root
 * WITHOUT CAP_SYS_RESOURCE (test/traces/KERNEL-FINDINGS.md §6, CapEff 0x1fffeffffff): processes adopted from the
 * trace get that capability set.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkTrace } from '../src/ingest/check.js';
import { checkLedger, importStrace } from '../src/ingest/record.js';
import { CAPS, type Cap } from '../src/kernel/index.js';

const RECORDING_CAPS: Cap[] = CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE');

function corpus(): { name: string; paths: string[] }[] {
  const out: { name: string; paths: string[] }[] = [];
  for (const dir of ['test/traces', '/work/shared/traces']) {
    if (!existsSync(dir)) continue;
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      if (n.endsWith('.strace')) out.push({ name: `${dir === 'test/traces' ? '' : 'shared/'}${n}`, paths: [p] });
      else if (statSync(p).isDirectory() && readdirSync(p).some((f) => /\.\d+$/.test(f))) out.push({ name: `${n}/ (-ff)`, paths: [p] });
    }
  }
  return out;
}

/** Known model bugs (see /work/notes/model-bugs.md): the trace and the exact divergences the model still produces. None left. */
const KNOWN: Record<string, { bug: string; lines: number[] }> = {};

const traces = corpus();

describe('real traces check with 0 divergences under 6.3+', () => {
  it('has a corpus of at least 25 traces', () => {
    expect(traces.length).toBeGreaterThanOrEqual(25);
  });
  for (const t of traces) {
    const known = KNOWN[t.name];
    it(`${t.name}${known ? ` [KNOWN MODEL BUG: ${known.bug}]` : ''}`, async () => {
      const r = await checkTrace(t.paths, { spawnCaps: RECORDING_CAPS });
      expect(r.checked).toBeGreaterThan(0);
      const lines = r.divergences.map((d) => d.line);
      if (known) expect(lines).toEqual(known.lines);
      else expect(r.divergences.map((d) => `${d.line} ${d.call}: ${d.reason}`)).toEqual([]);
    });
  }
});

describe('the ledger keeps what the check needs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tns-import-'));
  for (const t of traces.filter((x) => !KNOWN[x.name])) {
    it(`${t.name}: import → ledger → check agrees with checking the trace`, async () => {
      const ledger = join(dir, `${t.name.replace(/[^a-z0-9.-]/gi, '_')}.ledger`);
      const imp = await importStrace(t.paths, ledger, { spawnCaps: RECORDING_CAPS });
      expect(imp.records).toBeGreaterThan(1);
      const fromLedger = await checkLedger(ledger);
      const fromTrace = await checkTrace(t.paths, { spawnCaps: RECORDING_CAPS });
      expect(fromLedger.divergences).toEqual([]);
      expect(fromLedger.checked).toBe(fromTrace.checked);
      expect(fromLedger.summary).toEqual(fromTrace.summary);
    });
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});

describe('summary counts what happened', () => {
  it('unshare-fork: one namespace created and freed, one offsets write, the frozen writes denied', async () => {
    const r = await checkTrace(['test/traces/unshare-fork.strace'], { spawnCaps: RECORDING_CAPS });
    expect(r.summary.tasks).toBe(2);
    expect(r.summary.namespaces.created).toBe(1);
    expect(r.summary.namespaces.freed).toBe(1);
    expect(r.summary.offsetsWritten).toBe(1);
    expect(r.summary.denied.EACCES).toBe(2);
    expect(r.import.skipped.brk).toBeGreaterThan(0);
  });
  it('setns-pidfd: three joins, binding both namespaces it creates', async () => {
    const r = await checkTrace(['test/traces/setns-pidfd.strace'], { spawnCaps: RECORDING_CAPS });
    expect(r.summary.namespaces.entered).toBe(3);
    expect(r.summary.namespaces.created).toBe(2);
  });
});
