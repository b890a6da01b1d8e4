/**
 * The scenario language and the scenario library (replay/*.tns): every library scenario runs and every one of its
 * expectations holds; mutated expectations fail at their line (so the expectations can fail); bad input is a
 * ScenarioError naming the file and line.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, ScenarioError } from '../src/scenario/parse.js';
import { runScenarioText } from '../src/scenario/run.js';
import { parseDurationNs, parseSecondsNs, formatNs, parseFlags } from '../src/scenario/values.js';

const LIB = join(import.meta.dirname, '..', 'replay');
const files = readdirSync(LIB)
  .filter((f) => f.endsWith('.tns'))
  .sort();

function run(text: string, file = 'inline.tns', profile?: string) {
  return runScenarioText(text, file, profile ? { profile } : {});
}

function errorOf(text: string, file = 'bad.tns'): ScenarioError {
  try {
    run(text, file);
  } catch (e) {
    if (e instanceof ScenarioError) return e;
    throw e;
  }
  throw new Error('expected a ScenarioError');
}

describe('the scenario library', () => {
  it('has the scenarios the issue asks for', () => {
    for (const f of [
      'criu-restore-fresh-host.tns',
      'migration-chain.tns',
      'nested-timens.tns',
      'runc-exec-after-restore.tns',
      'unshare-time-5.6.tns',
      'unshare-time-6.3.tns',
      'posix-spawn-6.3.tns',
      'posix-spawn-5.6.tns',
      'offset-write-race.tns',
      'max-time-namespaces.tns',
      'restore-erange.tns',
      'setns-errors.tns',
      'offsets-file-errors.tns',
      'clone3-newtime.tns',
    ])
      expect(files).toContain(f);
  });

  for (const f of files) {
    it(`${f}: every expectation holds`, () => {
      const path = join(LIB, f);
      const text = readFileSync(path, 'utf8');
      const sc = parseScenario(text, path);
      expect(sc.title, 'a library scenario has a title').toBeTruthy();
      expect(sc.shows.length, 'a library scenario states what it shows').toBeGreaterThan(0);
      const r = run(text, path);
      const failed = r.results.filter((x) => !x.ok).map((x) => `${x.line}: ${x.text} — ${x.detail}`);
      expect(failed).toEqual([]);
      expect(r.results.length).toBeGreaterThan(4);
      // Deterministic: a second run produces the same events.
      const again = run(text, path);
      expect(again.machines.map((m) => m.events)).toEqual(r.machines.map((m) => m.events));
    });
  }

  it('mutated expectations fail at their line (each library expectation can fail)', () => {
    let mutants = 0;
    for (const f of files) {
      const path = join(LIB, f);
      const lines = readFileSync(path, 'utf8').split('\n');
      lines.forEach((line, i) => {
        let mutated: string | null = null;
        if (/expect ts=(\d+)/.test(line)) mutated = line.replace(/expect ts=(\d+)/, (_, v: string) => `expect ts=${BigInt(v) + 1n}`);
        else if (/expect (EACCES|EINVAL|ENOSPC|EPERM|EUSERS|ERANGE|EBADF)\b/.test(line)) mutated = line.replace(/expect (E[A-Z]+)/, 'expect ok');
        else if (/expect ok\b/.test(line) && !line.startsWith('restore')) mutated = line.replace(/expect ok\b/, 'expect EPERM');
        else if (/^expect clock .* == \d+(\.\d+)?$/.test(line.trim())) mutated = line.replace(/== (\d+)/, (_, v: string) => `== ${BigInt(v) + 1n}`);
        else if (/^expect refcount .* == \d+$/.test(line.trim())) mutated = line.replace(/== (\d+)$/, (_, v: string) => `== ${Number(v) + 1}`);
        else if (/^expect \S+ in /.test(line.trim())) mutated = line.replace(' in ', ' not in ');
        else if (/^expect \S+ not in /.test(line.trim())) mutated = line.replace(' not in ', ' in ');
        else if (/^expect ucounts uid=0 == \d+$/.test(line.trim())) mutated = line.replace(/== (\d+)$/, (_, v: string) => `== ${Number(v) + 1}`);
        if (mutated === null) return;
        const copy = [...lines];
        copy[i] = mutated;
        let r;
        try {
          r = run(copy.join('\n'), path);
        } catch (e) {
          // A mutant that makes a later statement impossible (e.g. a bind that now fails) is caught too.
          expect(e).toBeInstanceOf(ScenarioError);
          mutants++;
          return;
        }
        const bad = r.results.filter((x) => !x.ok);
        expect(bad.map((x) => x.line), `${f}:${i + 1} mutated to "${mutated.trim()}" must fail there`).toContain(i + 1);
        mutants++;
      });
    }
    expect(mutants).toBeGreaterThan(60);
  });

  it('the same scenario under another kernel profile shows the history: unshare --time without --fork on 5.6', () => {
    const path = join(LIB, 'unshare-time-6.3.tns');
    const r = run(readFileSync(path, 'utf8'), path, '5.6');
    const failedLines = r.results.filter((x) => !x.ok).map((x) => x.text);
    // 5.6 has no exec switch: the exec'd command stays in the host namespace.
    expect(failedLines).toContain('expect u1 in time_for_children of u1');
    expect(failedLines.some((t) => t.startsWith('u1 clock_gettime CLOCK_MONOTONIC') && t.includes('8600'))).toBe(true);
  });

  it('clone3(CLONE_NEWTIME) under 6.2: EINVAL, and the run stops where the unbound child is used, keeping what it found', () => {
    const path = join(LIB, 'clone3-newtime.tns');
    try {
      run(readFileSync(path, 'utf8'), path, '6.2');
      throw new Error('expected a ScenarioError');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      const se = e as ScenarioError;
      expect(se.line).toBe(14);
      const partial = se.partial as { results: { line: number; ok: boolean; detail: string }[] };
      expect(partial.results.find((x) => x.line === 13)).toMatchObject({ ok: false });
      expect(partial.results.find((x) => x.line === 13)!.detail).toContain('EINVAL');
    }
  });

  it('posix_spawn after unshare: 6.3 succeeds where 5.6 says EINVAL', () => {
    const path = join(LIB, 'posix-spawn-5.6.tns');
    const r = run(readFileSync(path, 'utf8'), path, '6.3+');
    expect(r.results.filter((x) => !x.ok).map((x) => x.line)).toEqual([9, 10, 11]);
  });
});

describe('the scenario language', () => {
  it('binds tasks, fds and namespaces; expectations report what the model saw', () => {
    const r = run(`
host monotonic=1000 boottime=1000
task A pid=100
A unshare CLONE_NEWTIME
A open /proc/self/timens_offsets w -> fd1
A write fd1 "monotonic 86400 0\\n"   expect ret=18
A fork -> B
B clock_gettime CLOCK_MONOTONIC       expect ts=87400±0.001
A write fd1 "boottime 1 0"           expect EACCES
let X = @B.time
expect refcount time:@B.time == 3
expect refcount X == 3
expect @A.time_for_children == X
expect B in time_for_children of A
expect offsets X monotonic=86400 boottime=0
expect clock B CLOCK_MONOTONIC == clock A CLOCK_MONOTONIC + 1d
expect clock B monotonic > 87399.999
host advance 10s
expect clock B CLOCK_MONOTONIC == 87410
A read fd1 expect fail EBADF
expect task B running
B exit_group 3
expect task B zombie
A wait B
expect task B gone
`);
    const failed = r.results.filter((x) => !x.ok);
    expect(failed).toEqual([]);
    expect(r.results.length).toBe(15);
    const ts = r.results.find((x) => x.text.startsWith('B clock_gettime'))!;
    expect(ts.detail).toContain('87400.000000000');
    expect(r.machines[0].events.filter((e) => e.kind === 'op').length).toBeGreaterThan(8);
  });

  it('a failing expectation is reported with what the model said, not thrown', () => {
    const r = run('task A pid=1\nA unshare CLONE_NEWTIME expect EPERM\n');
    expect(r.ok).toBe(false);
    expect(r.results[0]).toMatchObject({ line: 2, ok: false });
    expect(r.results[0].detail).toContain('expected EPERM, got success');
  });

  it('strings keep C escapes; {NAME} becomes a pid', () => {
    const r = run(`task A pid=7
A unshare CLONE_NEWTIME
A fork -> B
A open /proc/{A}/timens_offsets r -> f
A read f expect text="monotonic           0         0\\nboottime            0         0\\n"
A readlink /proc/{B}/ns/time expect ok
`);
    expect(r.results.filter((x) => !x.ok)).toEqual([]);
    const op = r.machines[0].events.find((e) => e.kind === 'op' && e.op.call === 'open');
    expect(op && op.kind === 'op' && op.op.call === 'open' && op.op.path).toBe('/proc/7/timens_offsets');
  });

  it('an unprivileged task gets the kernel answer (EPERM), with the rule', () => {
    const r = run(`task A pid=1 uid=1000
A unshare CLONE_NEWTIME expect EPERM rule~"CAP_SYS_ADMIN"
`);
    expect(r.ok).toBe(true);
  });

  it('values: exact seconds, durations, flags', () => {
    expect(parseSecondsNs('87400.000000001')).toBe(87400000000001n);
    expect(parseSecondsNs('-0.5')).toBe(-500000000n);
    expect(parseDurationNs('1.5s')).toBe(1500000000n);
    expect(parseDurationNs('2h')).toBe(7200n * 1000000000n);
    expect(parseDurationNs('250ms')).toBe(250000000n);
    expect(() => parseDurationNs('1.5ns')).toThrow(/whole number of nanoseconds/);
    expect(formatNs(-500000000n)).toBe('-0.5');
    expect(parseFlags('CLONE_NEWTIME|CLONE_NEWUSER')).toBe(0x10000080);
    expect(parseFlags('CLONE_VM|SIGCHLD')).toBe(0x111);
  });
});

describe('scenario errors name the file and line', () => {
  const cases: [string, number, RegExp][] = [
    ['task A pid=1\nA frobnicate\n', 2, /unknown call "frobnicate"/],
    ['task A pid=1\nA write 3 "abc\n', 2, /unterminated string/],
    ['task A pid=1\nB fork\n', 2, /unknown task B/],
    ['task A pid=1\nA clock_gettime CLOCK_NOPE\n', 2, /unknown clock "CLOCK_NOPE"/],
    ['task A pid=1\nA unshare CLONE_NEWFOO\n', 2, /unknown flag "CLONE_NEWFOO"/],
    ['task A pid=1\nprofile 5.6\n', 2, /profile must come before/],
    ['profile 4.19\ntask A pid=1\n', 1, /no time namespaces/],
    ['A fork\n', 1, /unknown task A|no task yet/],
    ['task A pid=1\nA write fd9 "x"\n', 2, /unknown fd fd9/],
    ['task A pid=1 uid=1000\nA clone3 CLONE_NEWTIME -> B\nB fork\n', 3, /B is not bound: clone3 at line 2 failed with EPERM/],
    ['task A pid=1\nexpect refcount @A.time >> 2\n', 2, /is not a comparison/],
    ['task A pid=1\nexpect clock A monotonic == abc\n', 2, /not a number of seconds/],
    ['task A pid=1\ncheckpoint img\n', 2, /pid=TASK is required/],
    ['task A pid=1\ncheckpoint img pid=A\nrestore img monotonic=5\n', 3, /monotonic=S and boottime=S/],
    ['task A pid=1\nrestore nope monotonic=1 boottime=1\n', 2, /no image nope/],
    ['task A pid=1\nhost monotonic=5\n', 2, /host clocks are set before the first task/],
    ['task A pid=1\ntask B pid=1\n', 2, /pid 1 is already taken/],
    ['task A pid=1\nA fork -> B\nB exit_group 0\nB fork\n', 4, /has exited/],
    ['task A pid=1\nexpect frozen @A.uts\n', 2, /not a time namespace/],
    ['task A pid=1\nA write 1 "x" expect EWHAT\n', 2, /not an errno tns knows/],
    ['task A pid=1\nA unshare CLONE_NEWTIME -> X\n', 2, /does not return something to bind/],
    ['task A pid=1\nA write 1 "\\q"\n', 2, /unknown escape/],
  ];
  for (const [text, line, re] of cases) {
    it(`${JSON.stringify(text.split('\n')[line - 1])} → line ${line}`, () => {
      const e = errorOf(text, 'cases/bad.tns');
      expect(e.file).toBe('cases/bad.tns');
      expect(e.line).toBe(line);
      expect(e.message).toMatch(re);
      expect(e.message.startsWith(`cases/bad.tns:${line}: `)).toBe(true);
    });
  }
});

describe('scenario ledgers replay to the same world', () => {
  it('every library scenario: each host ledger replays (src/replay) with no divergence to the world the run ended with', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { machineRecords } = await import('../src/scenario/records.js');
    const { writeNewLedger } = await import('../src/scenario/ledger-io.js');
    const { worldAtSeq, GENESIS_PID } = await import('../src/replay/checkpoint.js');
    const { inferGenesis } = await import('../src/replay/genesis.js');
    const dir = mkdtempSync(join(tmpdir(), 'tns-scn-replay-'));
    let ledgers = 0;
    for (const f of files) {
      const path = join(LIB, f);
      const r = run(readFileSync(path, 'utf8'), path);
      r.machines.forEach((m, i) => {
        const out = join(dir, `${f}.${i}.ndjson`);
        const n = writeNewLedger(out, machineRecords(m, path).records);
        // replay infers the genesis from the ledger alone (no override): the model's own first task
        const head = readFileSync(out, 'utf8').trim().split('\n').slice(0, 5).map((l) => JSON.parse(l));
        expect(inferGenesis(head).options.firstPid).toBe(GENESIS_PID);
        const { world, divergences } = worldAtSeq(out, n);
        expect(divergences, `${f} ${m.name}`).toEqual([]);
        expect(world.tasks, `${f} ${m.name}: tasks`).toEqual(m.world.tasks);
        expect(world.namespaces, `${f} ${m.name}: namespaces`).toEqual(m.world.namespaces);
        expect(world.host).toEqual(m.world.host);
        ledgers++;
      });
    }
    expect(ledgers).toBeGreaterThan(files.length);
  });
});
