/**
 * Mutation tests: for every real trace, mutants made automatically from its lines — an errno flipped, a success
 * turned into an error, a clock reading moved by 1 s, a namespace inode swapped, an offsets read changed — are each
 * reported AT the mutated line (the divergence's line is the call's first line; a merged call's result is on its
 * `<... resumed>` line, which is the one mutated).
 *
 * What a single mutant cannot be caught at its own line, by construction (documented in trace-to-ops.ts):
 *  - execve's errno: the filesystem's answer, which the model takes as given (not mutated);
 *  - a clock read only twice in a trace: the first reading anchors the estimate, so the divergence may be reported at
 *    the other reading — such mutants must still give at least one divergence; a clock read once defines that host
 *    clock (nothing to compare it with) and is not mutated;
 *  - an inode number seen for the first time: it is a binding, not a check (only re-sightings are mutated).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkRecords } from '../src/ingest/check.js';
import { TraceImport, clockBase, type TraceEvent } from '../src/ingest/trace-to-ops.js';
import { parseStraceText } from '../src/ingest/strace/index.js';
import { existsSync, statSync } from 'node:fs';
import { CAPS, type Cap } from '../src/kernel/index.js';

/** The recording machine's root lacks CAP_SYS_RESOURCE (test/traces/KERNEL-FINDINGS.md §6). */
const RECORDING_CAPS: Cap[] = CAPS.filter((c) => c !== 'CAP_SYS_RESOURCE');

function corpus(): { name: string; paths: string[] }[] {
  const out: { name: string; paths: string[] }[] = [];
  for (const dir of ['test/traces', '/work/shared/traces']) {
    if (!existsSync(dir)) continue;
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      if (n.endsWith('.strace') && statSync(p).isFile()) out.push({ name: `${dir === 'test/traces' ? '' : 'shared/'}${n}`, paths: [p] });
    }
  }
  return out;
}

const INIT_TIME = 4026531834;
const PER_KIND = 5;

interface Mutant {
  kind: string;
  line: number; // physical line changed
  at: number; // the line the divergence must name
  text: string;
  strict: boolean;
}

function pick<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(xs[Math.floor((i * xs.length) / n)]);
  return out;
}

function eventsOf(text: string, file: string): TraceEvent[] {
  const { records } = parseStraceText(text, { file });
  const imp = new TraceImport({ spawnCaps: RECORDING_CAPS });
  const evs: TraceEvent[] = [];
  for (const r of records) evs.push(...imp.push(r));
  evs.push(...imp.end());
  return evs;
}

function mutants(text: string, file: string): Mutant[] {
  const lines = text.split('\n');
  const evs = eventsOf(text, file).filter((e) => e.outcome && e.src && e.src.file === file);
  const replace = (ln: number, f: (s: string) => string): string | null => {
    const old = lines[ln - 1];
    const neu = f(old);
    if (neu === old) return null;
    const copy = lines.slice();
    copy[ln - 1] = neu;
    return copy.join('\n');
  };
  const out: Mutant[] = [];
  const add = (kind: string, ev: TraceEvent, f: (s: string) => string, strict = true) => {
    const ln = ev.src!.endLine ?? ev.src!.line;
    const t = replace(ln, f);
    if (t !== null) out.push({ kind, line: ln, at: ev.src!.line, text: t, strict });
  };
  const judged = evs.filter((e) => e.op.call !== 'execve' && e.call !== 'host.spawn' && !e.call.includes('outside the trace') && !e.call.includes('implicit'));
  // 1. errno flipped
  for (const ev of pick(judged.filter((e) => e.outcome!.errno), PER_KIND)) {
    const other = ev.outcome!.errno === 'EPERM' ? 'EACCES' : 'EPERM';
    add('errno flipped', ev, (s) => s.replace(/= -1 E[A-Z0-9]+ \(/, `= -1 ${other} (`));
  }
  // 2. success turned into an error
  for (const ev of pick(judged.filter((e) => !e.outcome!.errno && e.op.call !== 'wait'), PER_KIND)) {
    add('success → EPERM', ev, (s) => s.replace(/= (-?\d+|0x[0-9a-f]+)(<.*>)?( <\d+\.\d+>)?$/, '= -1 EPERM (Operation not permitted)$3'));
  }
  // 3. a clock reading moved by 1 s
  const clockEvs = judged.filter((e) => e.op.call === 'clock_gettime' && e.outcome!.ts && clockBase((e.op as { clockid: number }).clockid));
  const perBase = new Map<string, number>();
  for (const e of clockEvs) {
    const b = clockBase((e.op as { clockid: number }).clockid)!.base;
    perBase.set(b, (perBase.get(b) ?? 0) + 1);
  }
  // A clock read once in the whole trace is what defines that host clock: no one can tell it moved.
  const checkable = clockEvs.filter((e) => (perBase.get(clockBase((e.op as { clockid: number }).clockid)!.base) ?? 0) >= 2);
  for (const ev of pick(checkable, PER_KIND)) {
    const b = clockBase((ev.op as { clockid: number }).clockid)!.base;
    add('clock +1 s', ev, (s) => s.replace(/tv_sec=(\d+)/, (_, n) => `tv_sec=${Number(n) + 1}`), (perBase.get(b) ?? 0) >= 3);
  }
  // 4. a namespace inode swapped (re-sightings of the time namespaces only)
  const seenAt = new Map<number, number>();
  lines.forEach((l, i) => {
    for (const m of l.matchAll(/time:\[(\d+)\]/g)) if (!seenAt.has(Number(m[1]))) seenAt.set(Number(m[1]), i + 1);
  });
  const relinks = judged.filter((e) => {
    if (e.op.call !== 'readlink' || !e.outcome!.text) return false;
    const m = /^time:\[(\d+)\]$/.exec(e.outcome!.text);
    if (!m) return false;
    const n = Number(m[1]);
    const ln = e.src!.endLine ?? e.src!.line;
    return (seenAt.get(n) ?? ln) < e.src!.line && (seenAt.get(INIT_TIME) ?? ln) < e.src!.line;
  });
  for (const ev of pick(relinks, PER_KIND)) {
    const n = Number(/(\d+)/.exec(ev.outcome!.text!)![1]);
    const other = n === INIT_TIME ? [...seenAt.keys()].find((k) => k !== INIT_TIME) ?? INIT_TIME + 342 : INIT_TIME;
    add('inode swapped', ev, (s) => s.replace(`time:[${n}]`, `time:[${other}]`));
  }
  // 5. an offsets read changed
  const reads = judged.filter((e) => e.op.call === 'read' && /^monotonic /.test(e.outcome!.text ?? ''));
  for (const ev of pick(reads, PER_KIND)) {
    add('offsets read changed', ev, (s) => s.replace(/"monotonic( +)(-?\d+)/, (_, sp: string, n: string) => `"monotonic${sp.slice(1)}${Number(n) + 1000}`));
  }
  return out;
}

const traces = corpus().filter((t) => t.paths.length === 1 && t.paths[0].endsWith('.strace') && !t.name.startsWith('max-time-ns'));

describe('mutants are reported at the mutated line', () => {
  const counts: Record<string, number> = {};
  for (const t of traces) {
    it(t.name, () => {
      const file = t.paths[0];
      const text = readFileSync(file, 'latin1');
      const ms = mutants(text, file);
      expect(ms.length).toBeGreaterThan(0);
      const missed: string[] = [];
      for (const m of ms) {
        counts[m.kind] = (counts[m.kind] ?? 0) + 1;
        const r = checkRecords(parseStraceText(m.text, { file }).records, { spawnCaps: RECORDING_CAPS });
        const ok = m.strict ? r.divergences.some((d) => d.line === m.at) : r.divergences.length > 0;
        if (!ok) missed.push(`${m.kind} at ${file}:${m.line} (${m.strict ? 'at the line' : 'anywhere'}); got ${JSON.stringify(r.divergences.map((d) => d.line))}`);
      }
      expect(missed).toEqual([]);
    });
  }
  it('made mutants of every kind', () => {
    for (const k of ['errno flipped', 'success → EPERM', 'clock +1 s', 'inode swapped', 'offsets read changed']) expect(counts[k] ?? 0).toBeGreaterThan(5);
  });
});

