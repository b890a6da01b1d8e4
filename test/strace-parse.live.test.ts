import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStrace, readStraceFf, recordArgs, type StraceRecord } from '../src/ingest/strace/index.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const root = process.getuid?.() === 0;
const timens = spawnSync('sh', ['-c', 'test -e /proc/self/ns/time']).status === 0;
const ok = has('strace') && has('unshare') && root && timens;
if (!ok) console.warn(`strace-parse live: skipped (strace: ${has('strace')}, unshare: ${has('unshare')}, root: ${root}, time namespaces: ${timens})`);

/** unshare --time --monotonic 100 --fork cat /proc/self/timens_offsets, under strace. */
const CMD = ['unshare', '--time', '--monotonic', '100', '--fork', 'cat', '/proc/self/timens_offsets'];

function check(recs: StraceRecord[]) {
  const uns = recs.find((r) => r.name === 'unshare')!;
  expect(uns).toBeDefined();
  expect(uns.ret?.value).toBe(0);
  // util-linux writes the offsets before forking: "1 100 0" (1 = CLOCK_MONOTONIC)
  const w = recs.find((r) => r.name === 'write' && r.argsText.includes(' 100 0'))!;
  expect(w.ret?.value).toBeGreaterThan(0);
  expect(recordArgs(w)[1]).toMatchObject({ kind: 'str', value: expect.stringMatching(/^(1|monotonic) 100 0\n?$/) });
  const rd = recs.find((r) => r.name === 'read' && r.argsText.includes('monotonic'))!;
  expect(recordArgs(rd)[1]).toMatchObject({ kind: 'str', value: expect.stringMatching(/^monotonic\s+100\s+0\nboottime\s+0\s+0\n$/) });
  const pids = new Set(recs.filter((r) => r.kind === 'syscall').map((r) => r.pid));
  expect(pids.size).toBe(2);
  for (const p of pids) expect(recs.filter((r) => r.pid === p && r.kind === 'exit')).toHaveLength(1);
  expect(recs.every((r) => !r.unfinished && r.pid > 0)).toBe(true);
}

describe.skipIf(!ok)('live: traces recorded now on this kernel parse strictly', () => {
  const dir = ok ? mkdtempSync(join(tmpdir(), 'tns-strace-live-')) : '';

  it('-f -tt -yy -o FILE', async () => {
    const f = join(dir, 'o.strace');
    const p = spawnSync('strace', ['-f', '-tt', '-yy', '-s', '256', '-o', f, '--', ...CMD], { encoding: 'latin1' });
    expect(p.status).toBe(0);
    const r = readStrace(f);
    const recs = await r.toArray();
    expect(r.stats).toMatchObject({ badLines: 0, neverResumed: 0, orphanResumes: 0, pidUnknown: 0 });
    check(recs);
    const o = recs.find((x) => x.name === 'openat' && x.ret?.fd?.path.endsWith('/timens_offsets'));
    expect(o?.ret?.fd?.path).toMatch(/^\/proc\/\d+\/timens_offsets$/);
  });

  it('-f on stderr ([pid N] prefixes, inline strace messages)', async () => {
    const f = join(dir, 'stderr.strace');
    const p = spawnSync('strace', ['-f', '-ttt', '-T', '-s', '256', '--', ...CMD], { encoding: 'latin1' });
    expect(p.status).toBe(0);
    writeFileSync(f, p.stderr, 'latin1');
    const r = readStrace(f);
    const recs = await r.toArray();
    expect(r.stats).toMatchObject({ badLines: 0, pidUnknown: 0 });
    expect(recs.some((x) => x.kind === 'info' && x.name === 'attached')).toBe(true);
    check(recs.filter((x) => x.kind !== 'info'));
  });

  it('-ff -o PREFIX, merged by time', async () => {
    const pre = join(dir, 'ff');
    const p = spawnSync('strace', ['-ff', '-tt', '-X', 'raw', '-s', '256', '-o', pre, '--', ...CMD], { encoding: 'latin1' });
    expect(p.status).toBe(0);
    expect(readdirSync(dir).filter((n) => n.startsWith('ff.'))).toHaveLength(2);
    const recs = await readStraceFf({ prefix: pre }).toArray();
    check(recs);
    // -X raw: the flag is a number, and it is CLONE_NEWTIME
    expect(recordArgs(recs.find((r) => r.name === 'unshare')!)[0]).toMatchObject({ kind: 'num', value: 0x80 });
  });
});
