/**
 * A hostile newcomer's review of the ledger commands: bad input, damaged sidecars, a held lock. Each case here
 * failed on the code before its fix (see the commit that added it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from './helpers/build-dist.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'tns.js');
let dir: string;
let L: string;

function tns(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A fresh copy of the 2500-record ledger (no sidecars). */
function copy(name: string): string {
  const p = join(dir, name);
  copyFileSync(L, p);
  return p;
}

/** No stack trace, no internal error. */
function clean(err: string): void {
  expect(err).not.toMatch(/internal error|\n\s+at |TypeError|RangeError/);
}

beforeAll(() => {
  buildDist();
  dir = mkdtempSync(join(tmpdir(), 'tns-review-'));
  L = join(dir, 'base.ndjson');
  const r = tns('synth', '--events', '2500', '-o', L, '--seed', '3');
  if (r.code !== 0) throw new Error(r.err);
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tns ledger commands against bad input', () => {
  it('synth --force never removes a ledger another live process holds the writer lock of', async () => {
    const p = copy('locked.ndjson');
    const before = readFileSync(p);
    // A live holder: a child process that sleeps; its pid and start time in the lock, as the writer writes them.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const starttime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      writeFileSync(`${p}.lock`, `${child.pid}\nstarttime ${starttime}\ntoken 0123456789abcdef\n`);
      const r = tns('synth', '--events', '10', '-o', p, '--force');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/locked by process/);
      clean(r.err);
      expect(existsSync(p)).toBe(true);
      expect(readFileSync(p).equals(before)).toBe(true);
    } finally {
      child.kill();
    }
  });

  it('import strace/oci/lxc --force never remove a ledger another live process holds the writer lock of', () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const starttime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
      const sources: [string, string][] = [
        ['strace', join(root, 'test', 'traces', 'unshare-fork.strace')],
        ['oci', join(root, 'test', 'fixtures', 'oci', 'valid-offsets.json')],
        ['lxc', join(root, 'test', 'fixtures', 'lxc', 'basic.conf')],
      ];
      for (const [kind, src] of sources) {
        const p = copy(`locked-${kind}.ndjson`);
        const before = readFileSync(p);
        const lock = `${child.pid}\nstarttime ${starttime}\ntoken 0123456789abcdef\n`;
        writeFileSync(`${p}.lock`, lock);
        const r = tns('import', kind, src, '-o', p, '--force');
        expect(r.code, kind).toBe(2);
        expect(r.err, kind).toMatch(new RegExp(`locked-${kind}\\.ndjson: locked by process ${child.pid}`));
        clean(r.err);
        expect(existsSync(p), kind).toBe(true);
        expect(readFileSync(p).equals(before), kind).toBe(true);
        expect(readFileSync(`${p}.lock`, 'utf8'), kind).toBe(lock); // the live writer's lock is not removed either
      }
    } finally {
      child.kill();
    }
  });

  it('import strace --force with a trace that cannot be read leaves the old ledger alone', () => {
    const p = copy('keep-strace.ndjson');
    const before = readFileSync(p);
    const r = tns('import', 'strace', join(dir, 'no-such.strace'), '-o', p, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no-such\.strace/);
    clean(r.err);
    expect(readFileSync(p).equals(before)).toBe(true);
  });

  it('import strace/oci/lxc -o DIR [--force]: a one-line "not a regular file", the directory is left alone', () => {
    const sources: [string, string][] = [
      ['strace', join(root, 'test', 'traces', 'unshare-fork.strace')],
      ['oci', join(root, 'test', 'fixtures', 'oci', 'valid-offsets.json')],
      ['lxc', join(root, 'test', 'fixtures', 'lxc', 'basic.conf')],
    ];
    for (const [kind, src] of sources) {
      const d = join(dir, `dir-${kind}.ndjson`);
      mkdirSync(d);
      writeFileSync(join(d, 'keep'), 'x');
      for (const force of [[], ['--force']]) {
        const r = tns('import', kind, src, '-o', d, ...force);
        expect(r.code, `${kind} ${force.join('')}`).toBe(2);
        expect(r.err.trim()).toBe(`tns: ${d}: not a regular file`);
        expect(readFileSync(join(d, 'keep'), 'utf8')).toBe('x');
      }
    }
  });

  it('import --force replaces an unlocked ledger (and a stale lock) with the new one', () => {
    for (const [kind, src] of [
      ['strace', join(root, 'test', 'traces', 'unshare-fork.strace')],
      ['oci', join(root, 'test', 'fixtures', 'oci', 'valid-offsets.json')],
    ]) {
      const p = copy(`replace-${kind}.ndjson`);
      writeFileSync(`${p}.lock`, '999999999\n'); // no such process: stale
      const r = tns('import', kind, src, '-o', p, '--force');
      expect(r.code, r.err).toBe(0);
      expect(existsSync(`${p}.lock`)).toBe(false);
      expect(readFileSync(p).equals(readFileSync(L))).toBe(false);
      expect(tns('verify', p).code).toBe(0);
    }
  });

  it('import strace [--force] with a trace malformed past its first batch: the old ledger and its sidecars survive byte for byte, no half ledger', () => {
    // 4998 clock readings (thousands of records, several group commits), then a line that is not strace at line 5000.
    const trace = join(dir, 'bad5000.strace');
    const lines = ['100 00:00:00.000000 execve("./x", ["./x"], 0x7ffc /* 2 vars */) = 0'];
    for (let i = 2; i < 5000; i++) lines.push(`100 00:00:01.${String(i).padStart(6, '0')} clock_gettime(CLOCK_MONOTONIC, {tv_sec=${100 + i}, tv_nsec=0}) = 0`);
    lines.push('100 00:00:02.000000 this is not strace at all (((');
    lines.push('100 00:00:02.000100 clock_gettime(CLOCK_MONOTONIC, {tv_sec=9000, tv_nsec=0}) = 0');
    writeFileSync(trace, `${lines.join('\n')}\n`);
    const p = copy('keep-bad.ndjson');
    expect(tns('log', p, '--from', '2400', '--to', '2400').code).toBe(0); // builds the index
    expect(tns('state', p, '--at', '2100').code).toBe(0); // and a snapshot
    const before = readFileSync(p);
    const idx = readFileSync(`${p}.idx`);
    const snaps = readdirSync(`${p}.snap`);
    expect(snaps.length).toBeGreaterThan(0);
    const leftovers = (name: string) => readdirSync(dir).filter((n) => n.startsWith(`${name}.`) && !['idx', 'snap'].includes(n.slice(name.length + 1)));
    const r = tns('import', 'strace', trace, '-o', p, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad5000\.strace:5000: /);
    clean(r.err);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(readFileSync(`${p}.idx`).equals(idx)).toBe(true);
    expect(readdirSync(`${p}.snap`)).toEqual(snaps);
    expect(leftovers('keep-bad.ndjson')).toEqual([]); // no temporary file, no lock
    // A new path: nothing at all (a half ledger there verified as sound, as if the trace ended at line ~4000).
    const q = join(dir, 'half.ndjson');
    const n = tns('import', 'strace', trace, '-o', q);
    expect(n.code).toBe(2);
    expect(n.err).toMatch(/bad5000\.strace:5000: /);
    expect(existsSync(q)).toBe(false);
    expect(leftovers('half.ndjson')).toEqual([]);
    // The same trace with --lenient replaces the ledger, and the old one's index and snapshots go with it.
    const ok = tns('import', 'strace', trace, '-o', p, '--force', '--lenient');
    expect(ok.code, ok.err).toBe(0);
    expect(readFileSync(p).equals(before)).toBe(false);
    expect(existsSync(`${p}.idx`)).toBe(false);
    expect(existsSync(`${p}.snap`)).toBe(false);
    expect(leftovers('keep-bad.ndjson')).toEqual([]);
    expect(tns('verify', p).code).toBe(0);
  });

  it('--force over a stale lock: import, scenario run and restore say so in a tns: line, not a Node warning', () => {
    const s = join(dir, 'stale.tns');
    writeFileSync(s, 'task A pid=1\nA unshare CLONE_NEWTIME expect ok\nA fork -> B\n');
    const sl = join(dir, 'stale-src.ndjson');
    expect(tns('scenario', 'run', s, '-o', sl).code).toBe(0);
    const img = join(dir, 'stale-img.json');
    const c = tns('checkpoint', sl, '--at', '4', '--pid', '2', '-o', img);
    expect(c.code, c.err).toBe(0);
    // (basic.conf: the ledger is written, exit 1 because the runtime would fail on its ERANGE offset.)
    const runs: [string, number, (p: string) => string[]][] = [
      ['strace', 0, (p) => ['import', 'strace', join(root, 'test', 'traces', 'unshare-fork.strace'), '-o', p, '--force']],
      ['oci', 0, (p) => ['import', 'oci', join(root, 'test', 'fixtures', 'oci', 'valid-offsets.json'), '-o', p, '--force']],
      ['lxc', 1, (p) => ['import', 'lxc', join(root, 'test', 'fixtures', 'lxc', 'basic.conf'), '-o', p, '--force']],
      ['scenario', 0, (p) => ['scenario', 'run', s, '-o', p, '--force']],
      ['restore', 0, (p) => ['restore', img, '--host-monotonic', '1', '--host-boottime', '1', '-o', p, '--force']],
    ];
    for (const [kind, code, args] of runs) {
      const p = copy(`stale-${kind}.ndjson`);
      writeFileSync(`${p}.lock`, '999999999\n'); // no such process
      const r = tns(...args(p));
      expect(r.code, `${kind}: ${r.err}`).toBe(code);
      expect(r.err, kind).toContain(`tns: ${p}: taking over a stale lock ${p}.lock held by process 999999999, which is gone\n`);
      expect(r.err, kind).not.toMatch(/\(node:\d+\)|Warning:/);
      expect(existsSync(`${p}.lock`), kind).toBe(false);
      expect(tns('verify', p).code, kind).toBe(0);
    }
  });

  it('synth -o DIR --force: a clear error, the directory is left alone', () => {
    const d = join(dir, 'adir.ndjson');
    mkdirSync(d);
    const r = tns('synth', '--events', '10', '-o', d, '--force');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/adir\.ndjson: not a regular file/);
    expect(statSync(d).isDirectory()).toBe(true);
  });

  it('replay/state/diff work when the snapshot store cannot be written (a warning, the right state)', () => {
    const ref = tns('state', copy('ref1.ndjson'), '--at', '2200', '--json');
    expect(ref.code).toBe(0);
    const p = copy('nosnap.ndjson');
    writeFileSync(`${p}.snap`, 'not a directory\n'); // as a read-only directory would: mkdir fails
    const s = tns('state', p, '--at', '2200', '--json');
    expect(s.code).toBe(0);
    expect(s.out).toBe(ref.out);
    expect(s.err).toMatch(/nosnap\.ndjson\.snap/);
    clean(s.err);
    expect(tns('replay', p).code).toBe(0);
    expect(tns('diff', p, '1', '2500').code).toBe(0);
  });

  it('a snapshot whose checksum holds but whose state is not a world is ignored, not an internal error', () => {
    const ref = tns('state', copy('ref2.ndjson'), '--at', '2000', '--json');
    const p = copy('badsnap.ndjson');
    // A real snapshot first: its header (hash of record 2000, producer) is kept, its state replaced.
    expect(tns('state', p, '--at', '2100').code).toBe(0);
    const file = join(`${p}.snap`, '0000000000002000.json');
    const real = readFileSync(file);
    const header = JSON.parse(real.subarray(0, real.indexOf(10)).toString()) as Record<string, unknown>;
    for (const state of [{ kind: 'tns-world', world: {} }, { kind: 'tns-world', world: null }]) {
      const json = Buffer.from(JSON.stringify(state));
      const stored = deflateRawSync(json, { level: 1 });
      const head = JSON.stringify({ ...header, sha256: createHash('sha256').update(stored).digest('hex'), bytes: json.length });
      writeFileSync(file, Buffer.concat([Buffer.from(`${head}\n`), stored]));
      const r = tns('state', p, '--at', '2000', '--json');
      clean(r.err);
      expect(r.code).toBe(0);
      expect(r.out).toBe(ref.out);
    }
  });

  it('why --at 0 sees the genesis namespaces (as state --at 0 does)', () => {
    const s = JSON.parse(tns('state', L, '--at', '0', '--json').out) as { namespaces: { inum: number; type: string; count: number }[] };
    const time = s.namespaces.find((n) => n.type === 'time')!;
    const w = tns('why', L, String(time.inum), '--at', '0', '--json');
    expect(w.code).toBe(0);
    const j = JSON.parse(w.out) as { alive: boolean; count: number; seq: number; type: string };
    expect(j).toMatchObject({ alive: true, count: time.count, seq: 0, type: 'time' });
  });

  it('a seq too large for a number is a usage error naming the option, not an internal error', () => {
    for (const args of [
      ['state', L, '--at', '99999999999999999999'],
      ['replay', L, '--to', '9007199254740993'],
      ['diff', L, '1', '99999999999999999999'],
      ['why', L, '1', '--at', '99999999999999999999'],
      ['log', L, '--from', '99999999999999999999'],
      ['bisect', L, '--freed', '1', '--from', '99999999999999999999'],
    ]) {
      const r = tns(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/--at|--to|--from|B:/);
      clean(r.err);
    }
  });

  it('synth: --events too large for a number and a --seed the 32-bit PRNG would fold are usage errors', () => {
    const e = tns('synth', '--events', '99999999999999999999', '-o', join(dir, 'big-n.ndjson'));
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/--events/);
    clean(e.err);
    const s = tns('synth', '--events', '5', '-o', join(dir, 'big-seed.ndjson'), '--seed', '4294967297');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--seed/);
    expect(existsSync(join(dir, 'big-seed.ndjson'))).toBe(false);
  });

  it('log --from after --to, and a namespace number too large for a number, are usage errors', () => {
    const r = tns('log', L, '--from', '10', '--to', '5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--from 10 is after --to 5/);
    const w = tns('why', L, '99999999999999999999');
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/namespace/);
  });

  it('a FIFO in place of a ledger is refused at once (opening it for reading blocked: a hang)', () => {
    const f = join(dir, 'fifo.ndjson');
    execFileSync('mkfifo', [f]);
    for (const args of [['replay', f], ['state', f, '--at', '1'], ['log', f], ['verify', f], ['repair', f], ['why', f, '1'], ['bisect', f, '--freed', '1'], ['checkpoint', f, '--at', '1', '--pid', '1', '-o', join(dir, 'img.json')]]) {
      const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 10_000 });
      expect(r.signal, args.join(' ')).toBe(null);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/fifo\.ndjson: not a regular file/);
    }
  });

  it('an empty ledger: says it is empty, not "seq 0 is past the end (last seq 0)"', () => {
    const p = join(dir, 'empty.ndjson');
    writeFileSync(p, '');
    for (const args of [['replay', p], ['state', p, '--at', '0'], ['diff', p, '0', '0']]) {
      const r = tns(...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/empty\.ndjson: the ledger is empty/);
    }
  });

  it('an unknown option: a short error and a pointer to --help, not the whole help', () => {
    const r = tns('replay', L, '--bogus');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tns: unknown option '--bogus'/);
    expect(r.err).toMatch(/tns replay --help/);
    expect(r.err.trim().split('\n').length).toBeLessThanOrEqual(2);
    const m = tns('state', L);
    expect(m.code).toBe(2);
    expect(m.err).toMatch(/--at/);
    expect(m.err.trim().split('\n').length).toBeLessThanOrEqual(2);
  });

  it('a torn tail is not silently skipped by the readers: a warning names the file', () => {
    const p = join(dir, 'torn.ndjson');
    const all = readFileSync(L);
    writeFileSync(p, all.subarray(0, all.length - 50));
    for (const args of [['replay', p], ['state', p, '--at', '100'], ['log', p, '--to', '2'], ['why', p, 'time:[4026531834]']]) {
      const r = tns(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.err).toMatch(/torn\.ndjson:2500: .*(torn|unterminated).*tns repair/);
    }
  });

  it('bisect: an unknown clock id and a --from past the end are usage errors, not "never"', () => {
    const c = tns('bisect', L, '--clock-backwards', '2', '--clock', '99');
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--clock/);
    const f = tns('bisect', L, '--freed', '1', '--from', '9999');
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/past the end/);
  });

  it('repair of a truncated log (records lost before the index): says how to accept the loss', () => {
    const p = copy('trunc.ndjson');
    expect(tns('log', p, '--from', '2400', '--to', '2400').code).toBe(0); // builds the index
    const lines = readFileSync(p, 'utf8').split('\n');
    writeFileSync(p, `${lines.slice(0, 2000).join('\n')}\n`);
    const r = tns('repair', p);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/trunc\.ndjson\.idx/);
    expect(r.err).not.toMatch(/cut it by hand/);
    expect(readFileSync(p, 'utf8').split('\n').length).toBe(2001);
  });

  it('control characters of a damaged line are not written to the terminal raw', () => {
    const p = join(dir, 'ctl.ndjson');
    writeFileSync(p, '\x1b[2J\x07garbage\n');
    const r = tns('verify', p);
    expect(r.code).toBe(1);
    expect(r.out).not.toMatch(/\x1b|\x07/);
    const s = tns('replay', p);
    expect(s.code).toBe(2);
    expect(s.err).not.toMatch(/\x1b|\x07/);
  });
});
