/**
 * The real-trace corpus (test/traces) is consistent: every MANIFEST.json entry's files
 * exist, and every stated expectation is really on the stated line of the stated file
 * (call name, return value or errno, pid, time-namespace inode, quoted text).
 * The traces were recorded on a Linux 6.18 kernel by test/traces/record.sh; this test
 * only reads them, so it needs neither root nor strace.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'traces');

interface Expectation {
  file: string;
  line: number;
  startLine?: number;
  pid: number | null;
  kind?: 'exit';
  call: string;
  ret: number | string;
  errno?: string;
  ns?: 'time';
  inum?: number;
  sameAs?: string;
  differsFrom?: string;
  label?: string;
  has?: string;
  sec?: number;
  clock?: { base: string; offset: number };
  fact?: string;
}
interface Entry {
  name: string;
  scenario: string;
  source: string;
  files: string[];
  command: string;
  straceOptions: string[];
  recordedWith: string;
  lines: number;
  shows: string;
  expect: Expectation[];
}

const manifest = JSON.parse(readFileSync(join(DIR, 'MANIFEST.json'), 'utf8')) as { traces: Entry[] };
const INIT_TIME_NS = 4026531834;

const cache = new Map<string, string[]>();
function linesOf(file: string): string[] {
  let l = cache.get(file);
  if (!l) {
    l = readFileSync(join(DIR, file), 'utf8').split('\n');
    cache.set(file, l);
  }
  return l;
}

/** The result part of a strace line: " = 17", " = -1 EACCES (...)", " = ? ERESTARTNOINTR (...)", " = 3</proc/...>". */
function showsResult(text: string, e: Expectation): boolean {
  if (e.kind === 'exit') {
    return e.call === 'exited' ? text.includes(`+++ exited with ${e.ret} +++`) : text.includes(`+++ killed by ${e.ret}`);
  }
  if (e.errno) return new RegExp(` = (-1|\\?) ${e.errno} \\(`).test(text);
  const ret = String(e.ret).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(` = ${ret}(<| <| \\(|$)`).test(text);
}

function pidOf(text: string): number | null {
  const m = /^(\d+) +/.exec(text) ?? /^\[pid +(\d+)\] /.exec(text);
  return m ? Number(m[1]) : null;
}

describe('trace corpus manifest', () => {
  it('lists at least 30 recordings, with unique names, and every .strace file in test/traces is listed', () => {
    expect(manifest.traces.length).toBeGreaterThanOrEqual(30);
    const names = manifest.traces.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    const listed = new Set(manifest.traces.flatMap((t) => t.files));
    const onDisk = readdirSync(DIR).filter((f) => f.endsWith('.strace'));
    for (const f of onDisk) expect(listed.has(f), `${f} is not in MANIFEST.json`).toBe(true);
  });

  for (const t of manifest.traces) {
    describe(t.name, () => {
      it('has its files, its source and a description', () => {
        expect(t.files.length).toBeGreaterThan(0);
        for (const f of t.files) expect(existsSync(join(DIR, f)), `${t.name}: missing ${f}`).toBe(true);
        expect(existsSync(join(DIR, t.source)), `${t.name}: missing ${t.source}`).toBe(true);
        expect(t.shows.length).toBeGreaterThan(10);
        expect(t.recordedWith).toMatch(/^strace /);
        const total = t.files.reduce((n, f) => n + linesOf(f).filter(Boolean).length, 0);
        expect(total).toBe(t.lines);
        expect(total).toBeLessThan(2000);
      });

      if (t.expect.length === 0) return;
      it(`shows its ${t.expect.length} expected facts on the stated lines`, () => {
        const labels = new Map<string, number | undefined>([['init', INIT_TIME_NS]]);
        for (const [i, e] of t.expect.entries()) {
          const where = `${t.name} #${i + 1} ${e.file}:${e.line}${e.fact ? ` (${e.fact})` : ''}`;
          const lines = linesOf(e.file);
          expect(e.line, where).toBeGreaterThan(0);
          expect(e.line, where).toBeLessThanOrEqual(lines.length);
          const end = lines[e.line - 1]!;
          const start = lines[(e.startLine ?? e.line) - 1]!;
          const both = `${start}\n${end}`;
          expect(showsResult(end, e), `${where}: "${end}" does not show ${e.errno ?? e.ret}`).toBe(true);
          if (e.kind !== 'exit') {
            const named = start.includes(`${e.call}(`) || end.includes(`<... ${e.call} resumed>`) || end.includes(`${e.call}(`);
            expect(named, `${where}: call ${e.call} not on the line`).toBe(true);
          }
          const p = pidOf(end);
          if (p !== null) expect(p, where).toBe(e.pid);
          if (e.inum !== undefined) expect(both, where).toContain(`time:[${e.inum}]`);
          if (e.has !== undefined) expect(both, where).toContain(e.has);
          if (e.sec !== undefined) expect(both, where).toContain(`tv_sec=${e.sec},`);
          if (e.sameAs) expect(e.inum, `${where}: same as ${e.sameAs}`).toBe(labels.get(e.sameAs));
          if (e.differsFrom) expect(e.inum, `${where}: differs from ${e.differsFrom}`).not.toBe(labels.get(e.differsFrom));
          if (e.label && e.inum !== undefined) labels.set(e.label, e.inum);
        }
      });
    });
  }
});
