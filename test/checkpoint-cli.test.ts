/**
 * The CLI of restore, scenario run and import oci/lxc: exit codes, --json shapes, ledgers, errors naming the file.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { cli } from './fixtures/scenarios/cli.js';
import { apply, CLONE, createWorld } from '../src/kernel/index.js';
import { captureImage } from '../src/replay/checkpoint.js';
import { verifyLedger } from '../src/ledger/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tns-cp-test-'));

function imageFile(dir: string, offsets = 'monotonic 86400 5\nboottime 100 0\n'): string {
  const w = createWorld({ firstPid: 10, host: { realtime: { sec: 1764000000, nsec: 0 }, monotonic: { sec: 2000, nsec: 0 }, boottime: { sec: 2100, nsec: 0 } } });
  apply(w, { call: 'unshare', tid: 10, flags: CLONE.NEWTIME });
  const fd = apply(w, { call: 'open', tid: 10, path: '/proc/self/timens_offsets', mode: 'w' }).ret;
  const wr = apply(w, { call: 'write', tid: 10, fd, data: offsets });
  if (wr.errno) throw new Error(wr.rule);
  const c = apply(w, { call: 'fork', tid: 10 }).ret;
  apply(w, { call: 'fork', tid: c });
  const path = join(dir, 'img.json');
  writeFileSync(path, JSON.stringify(captureImage(w, c), null, 2));
  return path;
}

describe('tns restore', () => {
  it('--json: namespaces with exact offsets, tasks with their proof, ok', async () => {
    const d = tmp();
    const img = imageFile(d);
    const r = await cli(['restore', img, '--host-monotonic', '10.5', '--host-boottime', '20', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    // D = 2000 + 86400.000000005 = 88400.000000005; O = D − 10.5 = 88389.500000005
    expect(j.namespaces).toHaveLength(1);
    expect(j.namespaces[0].offsets).toEqual({ monotonic: { sec: 88389, nsec: 500000005 }, boottime: { sec: 2180, nsec: 0 } });
    expect(j.tasks.map((t: { tid: number }) => t.tid)).toEqual([11, 12]);
    for (const t of j.tasks) for (const p of t.proof) expect(p.restored).toEqual(p.checkpointed);
  });

  it('-o writes a ledger of the restorer events that verifies; the text report shows the formula', async () => {
    const d = tmp();
    const img = imageFile(d);
    const out = join(d, 'b.ndjson');
    const r = await cli(['restore', img, '--host-monotonic', '10', '--host-boottime', '10', '--policy', 'advance', '--elapsed', '1m', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('O = D + elapsed − (now − P) = 88400.000000005 + 60.000000000 − (10.000000000 − 0.000000000) = 88450.000000005 s');
    expect(r.stdout).toContain('restored: no clock goes backwards (advance)');
    expect(verifyLedger(out).ok).toBe(true);
  });

  it('ERANGE: refused before writing anything, exit 1, no ledger', async () => {
    const d = tmp();
    const img = imageFile(d, 'monotonic 4611680000 0\n');
    const out = join(d, 'x.ndjson');
    const r = await cli(['restore', img, '--host-monotonic', '1', '--host-boottime', '1', '--policy', 'advance', '--elapsed', '100d', '-o', out, '--json']);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(false);
    expect(j.errno).toBe('ERANGE');
    expect(j.error).toMatch(/KTIME_SEC_MAX\/2/);
    expect(j.ledger).toBeNull();
  });

  it('bad input: exit 2 with the file and the field', async () => {
    const d = tmp();
    const bad = join(d, 'bad.json');
    writeFileSync(bad, '{"format": "tns-checkpoint", "version": 7}');
    let r = await cli(['restore', bad, '--host-monotonic', '1', '--host-boottime', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: version: this tns reads image version 1`);
    writeFileSync(bad, '{"format": \n oops');
    r = await cli(['restore', bad, '--host-monotonic', '1', '--host-boottime', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.]/g, '\\.')}(:\\d+)?: not JSON`));
    const img = imageFile(d);
    r = await cli(['restore', img, '--host-monotonic', 'soon', '--host-boottime', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--host-monotonic: "soon" is not a number of seconds/);
    r = await cli(['restore', img, '--host-monotonic', '1', '--host-boottime', '1', '--policy', 'rewind']);
    expect(r.code).toBe(2);
    r = await cli(['restore', join(d, 'missing.json'), '--host-monotonic', '1', '--host-boottime', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing.json: no such file');
  });
});

describe('tns scenario run', () => {
  it('reports each expectation; exit 1 when one fails; --json; -o ledgers per host', async () => {
    const d = tmp();
    const f = join(d, 's.tns');
    writeFileSync(f, 'task A pid=1\nA unshare CLONE_NEWTIME expect ok\nA fork -> B\nexpect frozen @B.time\ncheckpoint c pid=B\nrestore c on other monotonic=5 boottime=5\nexpect clock B monotonic == 1000\n');
    let r = await cli(['scenario', 'run', f, '-o', join(d, 'l.ndjson'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.ledgers.map((l: { path: string }) => l.path)).toEqual([join(d, 'l.ndjson'), join(d, 'l.other.ndjson')]);
    for (const l of j.ledgers) expect(verifyLedger(l.path).ok).toBe(true);
    writeFileSync(f, 'task A pid=1\nA unshare CLONE_NEWTIME expect EPERM\n');
    r = await cli(['scenario', 'run', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL ${f}:2 [host1] A unshare CLONE_NEWTIME expect EPERM`);
    writeFileSync(f, 'task A pid=1\nA unshare CLONE_NEWBOGUS\n');
    r = await cli(['scenario', 'run', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`tns: ${f}:2: unknown flag "CLONE_NEWBOGUS" (e.g. CLONE_NEWTIME, CLONE_NEWUSER, CLONE_VM, SIGCHLD, 0x80)\n`);
  });

  it('scenario list shows the library', async () => {
    const r = await cli(['scenario', 'list', '--json']);
    expect(r.code).toBe(0);
    const items = JSON.parse(r.stdout) as { file: string; title: string }[];
    expect(items.length).toBeGreaterThanOrEqual(12);
    expect(items.every((i) => i.title.length > 0)).toBe(true);
  });
});

describe('tns import oci / lxc', () => {
  it('a valid runc config: the container enters a new namespace with the offsets', async () => {
    const d = tmp();
    const f = join(d, 'config.json');
    writeFileSync(f, JSON.stringify({ process: { args: ['/bin/sh'] }, linux: { namespaces: [{ type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 } } } }));
    const r = await cli(['import', 'oci', f, '--json', '-o', join(d, 'o.ndjson')]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.ok).toBe(true);
    expect(j.time).toBe('new');
    expect(Number(j.clocks.monotonic)).toBe(1000 + 86400);
    expect(verifyLedger(join(d, 'o.ndjson')).ok).toBe(true);
  });

  it('nanosecs ≥ 1e9 gets the kernel answer EINVAL (exit 1); offsets without a time namespace get runc\'s own error (exit 2)', async () => {
    const d = tmp();
    const f = join(d, 'config.json');
    writeFileSync(f, JSON.stringify({ linux: { namespaces: [{ type: 'time' }], timeOffsets: { boottime: { secs: 1, nanosecs: 1000000000 } } } }));
    let r = await cli(['import', 'oci', f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('EINVAL');
    writeFileSync(f, JSON.stringify({ linux: { namespaces: [{ type: 'pid' }], timeOffsets: { boottime: { secs: 1, nanosecs: 0 } } } }));
    r = await cli(['import', 'oci', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/runc refuses this config .*time namespace offsets specified, but time namespace isn't enabled/);
  });

  it('lxc: 2000ms is EINVAL from the kernel; units are LXC\'s', async () => {
    const d = tmp();
    const f = join(d, 'config');
    writeFileSync(f, 'lxc.time.offset.boot = 2000ms\n');
    let r = await cli(['import', 'lxc', f, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).failed).toMatchObject({ call: 'write', errno: 'EINVAL' });
    writeFileSync(f, 'lxc.time.offset.monotonic = 2h\nlxc.time.offset.boot = 999ms\n');
    r = await cli(['import', 'lxc', f, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).clocks).toEqual({ monotonic: String(1000 + 7200), boottime: '1000.999' });
    writeFileSync(f, 'lxc.time.offset.boot = 20x\n');
    r = await cli(['import', 'lxc', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f}:1:`);
  });

  it('works whichever module creates the `import` command first', async () => {
    const strace = (p: Command) => {
      p.command('import').description('other module').command('strace').action(() => {
        process.stdout.write('strace ran\n');
      });
    };
    // theirs after ours (ours created `import`): their program.command('import') returns ours
    const r1 = await cli(['import', 'strace'], [strace]);
    expect(r1.stdout).toBe('strace ran\n');
    expect((await cli(['import', 'oci', '/nonexistent/config.json'], [strace])).stderr).toContain('no such file');
    // theirs before ours: ours adds oci and lxc to their `import`
    const r2 = await cli(['import', 'strace'], [strace], { extraFirst: true });
    expect(r2.stdout).toBe('strace ran\n');
    expect((await cli(['import', 'lxc', '/nonexistent/config'], [strace], { extraFirst: true })).stderr).toContain('no such file');
  });
});

describe('tns checkpoint', () => {
  const SCN = `host monotonic=1000 boottime=1000 realtime=1764000000
task rt pid=100
rt unshare CLONE_NEWTIME
rt open /proc/self/timens_offsets w -> off
rt write off "monotonic 5000 250\\nboottime 6000 0\\n" expect ok
rt fork -> app
app thread -> th
host advance 10s
app clock_gettime CLOCK_MONOTONIC expect ts=6010.00000025
host advance 5s
`;

  async function scenarioLedger(d: string): Promise<string> {
    const f = join(d, 's.tns');
    writeFileSync(f, SCN);
    const out = join(d, 'a.ndjson');
    const r = await cli(['scenario', 'run', f, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    return out;
  }

  it('captures the tree at a seq and at line:N (right after that line), appends a marker, and the image restores', async () => {
    const d = tmp();
    const a = await scenarioLedger(d);
    const { countRecords } = await import('../src/ledger/index.js');
    const n0 = countRecords(a);
    // line 9 (the clock read): D = 1010 + 5000.00000025 monotonic, 1010 + 6000 boottime
    let r = await cli(['checkpoint', a, '--at', 'line:9', '--pid', '101', '-o', join(d, 'i9.json'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    let img = JSON.parse(r.stdout);
    expect(img.source.line).toBe(9);
    expect(img.tasks.map((t: { tid: number }) => t.tid)).toEqual([101, 102]);
    expect(img.timens).toHaveLength(1);
    expect(img.timens[0].monotonic).toEqual({ sec: 6010, nsec: 250 });
    expect(img.timens[0].boottime).toEqual({ sec: 7010, nsec: 0 });
    expect(countRecords(a)).toBe(n0 + 1);
    // the last seq (after the second advance): 5 s later
    r = await cli(['checkpoint', a, '--at', String(n0), '--pid', '101', '-o', join(d, 'iN.json'), '--no-marker']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/time:\[\d+\]\s+yes\s+5000\.00000025\s+6000\s+6015\.00000025\s+7015\s+101,102/);
    expect(countRecords(a)).toBe(n0 + 1);
    expect(verifyLedger(a).ok).toBe(true);
    // A → B → C through the CLI: checkpoint, restore -o, checkpoint the restored ledger, restore again
    const b = join(d, 'b.ndjson');
    expect((await cli(['restore', join(d, 'iN.json'), '--host-monotonic', '50', '--host-boottime', '60', '-o', b])).code).toBe(0);
    const nb = countRecords(b);
    r = await cli(['checkpoint', b, '--at', String(nb), '--pid', '101', '-o', join(d, 'iB.json'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    img = JSON.parse(r.stdout);
    expect(img.timens[0].monotonic).toEqual({ sec: 6015, nsec: 250 });
    expect(img.tasks.find((t: { tid: number }) => t.tid === 102).thread).toBe(true);
    r = await cli(['restore', join(d, 'iB.json'), '--host-monotonic', '7', '--host-boottime', '7', '--policy', 'advance', '--elapsed', '2s', '--json', '-o', join(d, 'c.ndjson')]);
    expect(r.code, r.stdout).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const t of j.tasks) for (const p of t.proof) expect(p.restored.sec).toBe(p.checkpointed.sec + 2);
  });

  it('nested namespaces: captured, with CRIU refusals on stderr', async () => {
    const d = tmp();
    const f = join(d, 'n.tns');
    writeFileSync(f, 'task a pid=10\na fork -> b\nb unshare CLONE_NEWTIME\nb fork -> c\n');
    expect((await cli(['scenario', 'run', f, '-o', join(d, 'n.ndjson')])).code).toBe(0);
    const r = await cli(['checkpoint', join(d, 'n.ndjson'), '--at', '5', '--pid', '11', '-o', join(d, 'n.json')]); // genesis + spawn + 3 ops
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/CRIU would refuse this tree: nested time namespaces: task 12/);
    expect(r.stderr).toMatch(/tns goes beyond CRIU/);
    expect(r.stdout).toContain('2 time namespace(s)');
  });

  it('errors: exit 2 with the reason', async () => {
    const d = tmp();
    const a = await scenarioLedger(d);
    const cases: [string[], RegExp][] = [
      [['--at', '999', '--pid', '101'], /--at 999 is outside the ledger/],
      [['--at', 'soon', '--pid', '101'], /--at: expected a seq or line:N/],
      [['--at', '3', '--pid', '4242'], /no task 4242 at this point \(seq 3\)/],
      [['--at', '3', '--pid', 'x'], /--pid: expected a pid/],
      [['--at', 'line:1', '--pid', '101'], /no record comes from a source line ≤ 1/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(['checkpoint', a, ...args, '-o', join(d, 'x.json')]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
    }
    const missing = await cli(['checkpoint', join(d, 'nope.ndjson'), '--at', '1', '--pid', '1', '-o', join(d, 'y.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.ndjson/);
    writeFileSync(join(d, 'exists.json'), '{}');
    const exists = await cli(['checkpoint', a, '--at', '3', '--pid', '100', '-o', join(d, 'exists.json')]);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/already exists/);
  });

  it('a real strace import (util-linux unshare --time --fork): checkpoint right after the fork line', async () => {
    const d = tmp();
    const { importStrace } = await import('../src/ingest/record.js');
    const led = join(d, 't.ndjson');
    await importStrace([join(import.meta.dirname, '..', 'replay', 'traces', 'util-unshare-fork.strace')], led);
    const r = await cli(['checkpoint', led, '--at', 'line:97', '--pid', '11729', '-o', join(d, 't.json'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    const img = JSON.parse(r.stdout);
    expect(img.source.line).toBe(97);
    const child = img.tasks.find((t: { tid: number }) => t.tid === 11730);
    const parent = img.tasks.find((t: { tid: number }) => t.tid === 11729);
    expect(child.ns.time).toBe(parent.ns.time_for_children);
    const ns = img.timens.find((n: { id: number }) => n.id === child.ns.time);
    expect(ns.offsets).toEqual({ monotonic: { sec: 1000, nsec: 0 }, boottime: { sec: 2000, nsec: 0 } });
    expect(ns.frozen).toBe(true);
    const toNs = (t: { sec: number; nsec: number }) => BigInt(t.sec) * 1000000000n + BigInt(t.nsec);
    expect(toNs(ns.monotonic) - toNs(img.host.monotonic)).toBe(1000n * 1000000000n);
    expect(toNs(ns.boottime) - toNs(img.host.boottime)).toBe(2000n * 1000000000n);
  });
});

describe('tns checkpoint of a tns synth ledger', () => {
  it('starts from the ledger\'s marker.genesis (first pid 1), not the import genesis pid: the task is there, no divergences', async () => {
    const { writeSynth } = await import('../src/replay/synth.js');
    const { checkpointLedger } = await import('../src/replay/checkpoint.js');
    const { stateAt } = await import('../src/replay/timetravel.js');
    const d = tmp();
    const ledger = join(d, 'w.ndjson');
    writeSynth(ledger, { events: 400, seed: 7 });
    const world = stateAt(ledger, 140).world;
    const pid = Number(Object.keys(world.tasks).find((k) => world.tasks[Number(k)].state === 'running' && world.tasks[Number(k)].tid === world.tasks[Number(k)].tgid));
    const cp = checkpointLedger(ledger, { seq: 140 }, pid, { appendMarker: false });
    expect(cp.divergences).toEqual([]);
    expect(cp.image.tasks.map((t) => t.tid)).toContain(pid);
    const r = await cli(['checkpoint', ledger, '--at', '140', '--pid', String(pid), '-o', join(d, 'img.json'), '--no-marker']);
    expect(r.stderr).not.toMatch(/no task/);
    expect(r.code).toBe(0);
  });
});
