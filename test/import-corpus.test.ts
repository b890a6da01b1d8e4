/**
 * Every real trace in test/traces (and /work/shared/traces) checks with 0 divergences under 6.3+, from the strace
 * file and again from the ledger `tns import strace` writes. The corpus was recorded on a 6.18 machine by a root
 * WITHOUT CAP_SYS_RESOURCE (test/traces/KERNEL-FINDINGS.md §6, CapEff 0x1fffeffffff): processes adopted from the
 * trace get that capability set.
 */
import { stateAt } from '../src/replay/timetravel.js';
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
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
      // replay (the rxjs + immer projection behind tns replay/state/why) agrees too: the ledger's marker.genesis gives
      // it the importer's world, and namespace names are compared through the inode binding
      // (except readings of clocks the importer anchors on its own, outside the ledger's host clocks: REALTIME and
      // TAI, MONOTONIC_RAW's drift, /proc/stat btime — tns check compares those; replay's host has only the
      // monotonic/boottime estimate)
      const end = stateAt(ledger, imp.records, { useSnapshots: false });
      const ops = new Map(readFileSync(ledger, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).map((r) => [r.seq, r]));
      const anchoredElsewhere = (seq: number) => {
        const r = ops.get(seq);
        if (r.op.call === 'clock_gettime') return [0, 4, 5, 8, 11].includes(r.op.clockid);
        return r.op.call === 'read' && /\/proc\/stat/.test(r.note ?? '');
      };
      expect(end.divergences.filter((d) => !(d.fields.join() === 'ts' && anchoredElsewhere(d.seq))).map((d) => `${d.line} ${d.call} ${d.fields}`)).toEqual([]);
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
