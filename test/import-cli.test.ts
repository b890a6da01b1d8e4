/**
 * The CLI: `tns import strace`, `tns check` (trace or ledger; --json; exit 0/1/2), bad input (a malformed line is
 * FILE:LINE and exit 2; --lenient skips and counts), and `tns record` (with strace present, and with strace missing).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tnsMain } from './helpers/tns-main.js';

const dir = mkdtempSync(join(tmpdir(), 'tns-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tns = tnsMain;

const GOOD = 'test/traces/unshare-fork.strace';
const text = readFileSync(GOOD, 'latin1');

describe('tns check', () => {
  it('a real trace: exit 0 and a summary', async () => {
    const r = await tns('check', GOOD);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^OK \(profile 6\.3\+\): \d+ events, \d+ checked/m);
    expect(r.out).toMatch(/namespaces created 1, entered 0, freed 1; offsets written 1/);
  });

  it('--json: events, checked, skipped, divergences, summary', async () => {
    const r = await tns('check', GOOD, '--json');
    const j = JSON.parse(r.out);
    expect(r.code).toBe(0);
    expect(j.divergences).toEqual([]);
    expect(j.events).toBeGreaterThan(j.checked);
    expect(j.skipped).toBeGreaterThan(0);
    expect(j.summary.namespaces).toEqual({ created: 1, entered: 0, freed: 1 });
    expect(j.summary.denied).toEqual({ EPERM: 0, EACCES: 2, EUSERS: 0, ENOSPC: 0 });
  });

  it('a divergence: exit 1, the line, pid, call, both outcomes and the rule', async () => {
    // The child's write into its frozen namespace succeeds in this (edited) trace: the model says EACCES.
    const bad = text.replace('write(3</proc/11687/timens_offsets>, "monotonic 1 0\\n", 14) = -1 EACCES (Permission denied)', 'write(3</proc/11687/timens_offsets>, "monotonic 1 0\\n", 14) = 14');
    expect(bad).not.toBe(text);
    const f = join(dir, 'diverge.strace');
    writeFileSync(f, bad);
    const r = await tns('check', f, '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.divergences).toHaveLength(1);
    const d = j.divergences[0];
    const line = bad.split('\n').findIndex((l) => l.includes('"monotonic 1 0\\n", 14) = 14')) + 1;
    expect(d).toMatchObject({ line, pid: 11687, call: 'write fd 3', recorded: '14', model: '-1 EACCES' });
    expect(typeof d.seq).toBe('number');
    expect(d.reason).toMatch(/frozen|EACCES/);
    const t = await tns('check', f);
    expect(t.code).toBe(1);
    expect(t.out).toContain(`${f}:${line} pid 11687 write fd 3: kernel 14, model -1 EACCES`);
  });

  it('--profile 5.6 reports the symbolic offsets write', async () => {
    const r = await tns('check', GOOD, '--profile', '5.6', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).divergences[0].reason).toMatch(/no symbolic names/);
  });

  it('a bad --profile is a usage error (exit 2)', async () => {
    const r = await tns('check', GOOD, '--profile', '4.19');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--profile: kernel 4\.19 has no time namespaces/);
  });

  it('a malformed line: FILE:LINE, exit 2, no stack; --lenient skips and counts it', async () => {
    const lines = text.split('\n');
    lines.splice(20, 0, 'this is not strace output');
    const f = join(dir, 'malformed.strace');
    writeFileSync(f, lines.join('\n'));
    const r = await tns('check', f);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^tns: ${f.replace(/[.]/g, '\\.')}:21: `));
    expect(r.err).not.toMatch(/\n\s+at /);
    const l = await tns('check', f, '--lenient', '--json');
    expect(l.code).toBe(0);
    expect(JSON.parse(l.out).badLines).toBe(1);
  });

  it('a missing file: exit 2 naming it', async () => {
    const r = await tns('check', join(dir, 'nope.strace'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('nope.strace');
  });
});

describe('tns import strace', () => {
  it('writes a ledger that keeps file and line, which tns check reads', async () => {
    const ledger = join(dir, 'a.ledger');
    const r = await tns('import', 'strace', GOOD, '-o', ledger);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/records \(\d+ events\) from 54 lines; \d+ syscalls skipped/);
    const recs = readFileSync(ledger, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs[0].op).toMatchObject({ call: 'marker.genesis', world: { profile: '6.3+', firstPid: 4194304 } });
    const unshare = recs.find((x) => x.op.call === 'unshare');
    expect(unshare.src).toEqual({ file: GOOD, line: 20 });
    expect(unshare.recorded).toBe(true);
    expect(unshare.outcome).toEqual({ ret: 0 });
    expect(recs.some((x) => x.op.call === 'host.advance')).toBe(true);
    const c = await tns('check', ledger, '--json');
    expect(c.code).toBe(0);
    expect(JSON.parse(c.out).divergences).toEqual([]);
    // A ledger is append-only: a second import to the same path is refused.
    const again = await tns('import', 'strace', GOOD, '-o', ledger);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists/);
  });

  it('an -ff set given as a directory', async () => {
    const r = await tns('import', 'strace', 'test/traces/nested-ff', '-o', join(dir, 'ff.ledger'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).events).toBeGreaterThan(10);
  });

  it('--lenient counts malformed lines', async () => {
    const f = join(dir, 'two-bad.strace');
    const lines = text.split('\n');
    lines.splice(5, 0, '<<< garbage');
    lines.splice(30, 0, '12345 04:10:31.559239 clone(');
    writeFileSync(f, lines.join('\n'));
    const strict = await tns('import', 'strace', f, '-o', join(dir, 'x.ledger'));
    expect(strict.code).toBe(2);
    expect(strict.err).toMatch(/two-bad\.strace:6: /);
    const r = await tns('import', 'strace', f, '-o', join(dir, 'y.ledger'), '--lenient', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).badLines).toBe(2);
  });
});

const haveStrace = spawnSync('strace', ['-V']).status === 0;
const isRoot = process.getuid?.() === 0;
if (!haveStrace) console.warn('tns record tests skipped: strace is not installed (apt-get install strace)');

describe.skipIf(!haveStrace)('tns record (strace present)', () => {
  it('records a shell that reads its namespace link and clocks: 0 divergences', async () => {
    const ledger = join(dir, 'rec.ledger');
    const r = await tns('record', '-o', ledger, '--json', '--', 'sh', '-c', 'readlink /proc/self/ns/time >/dev/null; cat /proc/uptime >/dev/null');
    const j = JSON.parse(r.out);
    expect(j.divergences).toEqual([]);
    expect(r.code).toBe(0);
    expect(j.checked).toBeGreaterThan(2);
    expect(existsSync(ledger)).toBe(true);
  });

  it.skipIf(!isRoot || !existsSync('/usr/bin/unshare'))('records unshare --time --fork with offsets: 0 divergences', async () => {
    const r = await tns('record', '--json', '--', 'unshare', '--time', '--fork', '--monotonic', '100', '--boottime', '200', 'cat', '/proc/uptime');
    const j = JSON.parse(r.out);
    expect(j.divergences).toEqual([]);
    expect(j.summary.namespaces.created).toBeGreaterThanOrEqual(1);
    expect(j.summary.offsetsWritten).toBe(2);
  });
});

describe('tns record (strace missing)', () => {
  it('a clear error telling how to install it, exit 2', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'empty-bin');
    try {
      const r = await tns('record', '--', 'true');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/strace is not installed .*apt-get install strace/);
    } finally {
      process.env.PATH = path;
    }
  });
});
