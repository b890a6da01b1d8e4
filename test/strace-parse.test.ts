import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  argToNumber,
  CLOCK_IDS,
  CLONE_FLAGS,
  constantValue,
  decodeCString,
  flagNames,
  parseArgs,
  parseLine,
  parseStraceText,
  parseValue,
  readStrace,
  readStraceFf,
  recordArgs,
  SIGNALS,
  StraceParseError,
  type Arg,
  type StraceRecord,
} from '../src/ingest/strace/index.js';
import { CLONE, CLOCK } from '../src/kernel/ops.js';

const FX = join(import.meta.dirname, 'fixtures/strace');
const fx = (name: string) => join(FX, name);
const read = (name: string, opts = {}) => readStrace(fx(name), opts).toArray();
/** The record whose first line is `line` (and optionally of kind). */
const at = (recs: StraceRecord[], line: number, kind = 'syscall') => {
  const r = recs.find((x) => x.line === line && x.kind === kind);
  if (!r) throw new Error(`no ${kind} record at line ${line}`);
  return r;
};
const field = (a: Arg, k: string): Arg => {
  if (a.kind !== 'struct') throw new Error(`not a struct: ${a.text}`);
  return a.fields[k];
};

describe('strace -f -tt -yy -o (tt-yy.strace, recorded here)', async () => {
  const recs = await read('tt-yy.strace');

  it('reads pid, -tt time, name, fd-annotated args and an fd return', () => {
    const r = at(recs, 16);
    expect(r).toMatchObject({ pid: 16101, pidFrom: 'line', kind: 'syscall', name: 'openat' });
    expect(r.time).toEqual({ text: '04:15:51.865065', seconds: 4 * 3600 + 15 * 60 + 51.865065, clock: 'day' });
    expect(r.argsText).toBe('AT_FDCWD</tmp/tns-strace-rec>, "/proc/self/timens_offsets", O_WRONLY');
    expect(r.ret).toEqual({ text: '3</proc/16101/timens_offsets>', value: 3, fd: { fd: 3, path: '/proc/16101/timens_offsets' } });
    const [dirfd, path, flags] = recordArgs(r);
    expect(dirfd).toMatchObject({ kind: 'fd', fd: -100, path: '/tmp/tns-strace-rec', names: ['AT_FDCWD'] });
    expect(path).toMatchObject({ kind: 'str', value: '/proc/self/timens_offsets', truncated: false });
    expect(flags).toMatchObject({ kind: 'flags', names: ['O_WRONLY'], num: 1 });
  });

  it('nsfs fds: = 3<time:[N]> and setns(3<time:[N]>, CLONE_NEWTIME)', () => {
    expect(at(recs, 19).ret?.fd).toEqual({ fd: 3, path: 'time:[4026532176]' });
    const s = at(recs, 21);
    expect(s.name).toBe('setns');
    const [fd, nstype] = recordArgs(s);
    expect(fd).toMatchObject({ kind: 'fd', fd: 3, path: 'time:[4026532176]' });
    expect(nstype).toMatchObject({ kind: 'flags', names: ['CLONE_NEWTIME'], num: 0x80 });
  });

  it('clock_gettime struct result and errors with errno text', () => {
    const c = at(recs, 20);
    const [clk, ts] = recordArgs(c);
    expect(clk).toMatchObject({ kind: 'flags', names: ['CLOCK_MONOTONIC'], num: 1 });
    expect(field(ts, 'tv_sec')).toMatchObject({ kind: 'num', value: 7765 });
    expect(field(ts, 'tv_nsec')).toMatchObject({ kind: 'num', value: 472319316 });
    const w = at(recs, 24);
    expect(w).toMatchObject({ name: 'write', errno: 'EACCES', errnoText: 'Permission denied' });
    expect(w.ret).toEqual({ text: '-1 EACCES (Permission denied)', value: -1 });
  });

  it('hex return with strace comment: = 0x8001 (flags O_WRONLY|O_LARGEFILE)', () => {
    expect(at(recs, 25).ret).toEqual({ text: '0x8001 (flags O_WRONLY|O_LARGEFILE)', value: 0x8001, comment: 'flags O_WRONLY|O_LARGEFILE' });
  });

  it('decodes C escapes in strings and -yy device detail', () => {
    const w = at(recs, 28);
    const [fd, s] = recordArgs(w);
    expect(fd).toMatchObject({ kind: 'fd', fd: 1, path: '/dev/null', detail: 'char 1:3' });
    expect(s).toMatchObject({ kind: 'str', value: 'a\tb"c\\d\x01\xff\n', truncated: false });
  });

  it('clone3 struct args and legacy clone named args give flag numbers', () => {
    const c3 = at(recs, 29);
    expect(c3.ret?.value).toBe(16102);
    const [ca, size] = recordArgs(c3);
    expect(argToNumber(field(ca, 'flags'))).toBe(0x80);
    expect(argToNumber(field(ca, 'exit_signal'))).toBe(17);
    expect(field(ca, 'stack')).toMatchObject({ kind: 'num', value: 0, text: 'NULL' });
    expect(size).toMatchObject({ kind: 'num', value: 88 });
    const cl = at(recs, 36);
    const args = recordArgs(cl);
    expect(args.map((a) => a.name)).toEqual(['child_stack', 'flags', 'child_tidptr']);
    expect(args[1]).toMatchObject({ kind: 'flags', names: ['CLONE_CHILD_CLEARTID', 'CLONE_CHILD_SETTID', 'SIGCHLD'], num: 0x1200000 | 17 });
  });

  it('clone3 with => {parent_tid=[N]} keeps what the kernel wrote back', () => {
    const t = recs.find((r) => r.name === 'clone3' && r.argsText.includes('=>'))!;
    const [ca] = recordArgs(t);
    expect(ca.kind).toBe('struct');
    if (ca.kind !== 'struct') return;
    expect(argToNumber(ca.fields.flags)).toBe(
      CLONE_FLAGS.CLONE_VM | CLONE_FLAGS.CLONE_FS | CLONE_FLAGS.CLONE_FILES | CLONE_FLAGS.CLONE_SIGHAND | CLONE_FLAGS.CLONE_THREAD |
        CLONE_FLAGS.CLONE_SYSVSEM | CLONE_FLAGS.CLONE_SETTLS | CLONE_FLAGS.CLONE_PARENT_SETTID | CLONE_FLAGS.CLONE_CHILD_CLEARTID,
    );
    expect(ca.changed?.parent_tid).toMatchObject({ kind: 'array', items: [{ kind: 'num', value: t.ret?.value }] });
  });

  it('merges unfinished/resumed: keeps the START line, the resumed line and the full args', () => {
    // 16101 wait4(16102,  <unfinished ...> (line 31) ... <... wait4 resumed>NULL, 0, NULL) = 16102 (line 34)
    const w = at(recs, 31);
    expect(w).toMatchObject({ name: 'wait4', endLine: 34, argsText: '16102, NULL, 0, NULL', pid: 16101 });
    expect(w.unfinished).toBeUndefined();
    expect(w.ret?.value).toBe(16102);
    expect(w.endTime?.text).toBe('04:15:51.867282');
    // exit_group(3 <unfinished ...> + <... exit_group resumed>) = ?
    const e = at(recs, 30);
    expect(e).toMatchObject({ name: 'exit_group', argsText: '3', endLine: 32, ret: { text: '?' } });
    expect(e.ret?.value).toBeUndefined();
    // the merged record comes out at its resumed line: after the child's exit record
    const order = recs.map((r) => r.line);
    expect(order.indexOf(31)).toBeGreaterThan(order.indexOf(33));
  });

  it('lifecycle lines: exited, killed, killed with core, signals, stops', () => {
    expect(at(recs, 33, 'exit')).toMatchObject({ pid: 16102, exitCode: 3 });
    expect(at(recs, 52, 'killed')).toMatchObject({ pid: 16103, signal: 'SIGKILL' });
    expect(at(recs, 52, 'killed').coreDumped).toBeUndefined();
    expect(at(recs, 76, 'killed')).toMatchObject({ pid: 16105, signal: 'SIGSEGV', coreDumped: true });
    const st = at(recs, 47, 'signal');
    expect(st).toMatchObject({ pid: 16103, signal: 'SIGSTOP', stopped: true });
    const sig = at(recs, 35, 'signal');
    expect(sig).toMatchObject({ pid: 16101, signal: 'SIGCHLD' });
    const [info] = recordArgs(sig);
    expect(argToNumber(field(info, 'si_pid'))).toBe(16102);
    expect(field(info, 'si_code')).toMatchObject({ kind: 'flags', names: ['CLD_EXITED'] });
    expect(recs.at(-1)).toMatchObject({ kind: 'exit', pid: 16101, exitCode: 5 });
  });

  it('ERESTARTSYS / ERESTARTNOHAND with = ?', () => {
    const r = recs.find((x) => x.errno === 'ERESTARTSYS')!;
    expect(r).toMatchObject({ name: 'read', pid: 16106, errnoText: 'To be restarted if SA_RESTART is set', ret: { text: '? ERESTARTSYS (To be restarted if SA_RESTART is set)' } });
    expect(r.ret?.value).toBeUndefined();
    expect(recs.find((x) => x.errno === 'ERESTARTNOHAND')).toMatchObject({ name: 'pause', argsText: '' });
  });

  it('pidfd and socket annotations; unknown syscalls are records, not errors', () => {
    expect(at(recs, 38).ret?.fd).toEqual({ fd: 4, path: 'pid:16103' });
    const sp = recs.find((r) => r.name === 'socketpair')!;
    const arr = recordArgs(sp)[3];
    expect(arr).toMatchObject({
      kind: 'array',
      items: [
        { kind: 'fd', fd: 6, path: 'UNIX-STREAM:[36143->36144]' },
        { kind: 'fd', fd: 7, path: 'UNIX-STREAM:[36144->36143]' },
      ],
    });
    expect(recs.find((r) => r.name === 'syscall_0x3e8')).toMatchObject({ errno: 'ENOSYS' });
  });

  it('counts every line: no unfinished left, no bad lines', async () => {
    const r = readStrace(fx('tt-yy.strace'));
    const all = await r.toArray();
    expect(all.length).toBe(recs.length);
    expect(r.stats).toMatchObject({ lines: 128, badLines: 0, neverResumed: 0, orphanResumes: 0, pidUnknown: 0, leader: 16101 });
    expect(r.stats.records).toBe(all.length);
  });
});

describe('other option sets (recorded here)', () => {
  it('no timestamps (plain.strace): no time field', async () => {
    const recs = await read('plain.strace');
    expect(recs.every((r) => r.time === undefined)).toBe(true);
    expect(recs.find((r) => r.name === 'unshare')).toMatchObject({ pid: 16089, argsText: 'CLONE_NEWTIME', ret: { value: 0 } });
  });

  it('-t (seconds) with -y (paths only)', async () => {
    const recs = await read('t-y.strace');
    const w = recs.find((r) => r.name === 'write' && r.argsText.startsWith('1<'))!;
    expect(w.time).toEqual({ text: '04:15:52', seconds: 4 * 3600 + 15 * 60 + 52, clock: 'day' });
    expect(recordArgs(w)[0]).toEqual({ kind: 'fd', fd: 1, path: '/dev/null', text: '1</dev/null>' });
  });

  it('-ttt -T: epoch seconds and durations, also on resumed lines', async () => {
    const recs = await read('ttt-T.strace');
    const w = recs.find((r) => r.name === 'write' && r.argsText.includes('a\\tb'))!;
    expect(w.time).toEqual({ text: '1795925752.333335', seconds: 1795925752.333335, clock: 'epoch' });
    expect(w.durationSec).toBe(0.000121);
    expect(w.ret).toEqual({ text: '10', value: 10 });
    const p = recs.find((r) => r.name === 'pidfd_open')!;
    expect(p).toMatchObject({ durationSec: 0.000071, ret: { value: 4, fd: { fd: 4, path: 'pid:16127' } }, argsText: '16127, 0' });
    expect(recs.find((r) => r.name === 'exit_group' && r.pid === 16126)?.durationSec).toBeUndefined();
  });

  it('-X raw and the default abbreviations decode to the same numbers', async () => {
    const raw = await read('xraw.strace');
    const named = await read('tt-yy.strace');
    const verbose = await read('xverbose.strace');
    const pick = (recs: StraceRecord[], name: string, k = 0) => recs.filter((r) => r.name === name)[k];
    for (const recsX of [raw, verbose]) {
      expect(argToNumber(recordArgs(pick(recsX, 'unshare'))[0])).toBe(argToNumber(recordArgs(pick(named, 'unshare'))[0]));
      expect(argToNumber(recordArgs(pick(recsX, 'setns'))[1])).toBe(0x80);
      for (const k of [0, 1]) {
        const a = recordArgs(pick(recsX, 'clock_gettime', k))[0];
        const b = recordArgs(pick(named, 'clock_gettime', k))[0];
        expect(argToNumber(a)).toBe(argToNumber(b));
      }
      const oa = recordArgs(pick(recsX, 'openat', 2));
      const ob = recordArgs(pick(named, 'openat', 2));
      expect(argToNumber(oa[0])).toBe(-100);
      expect(argToNumber(oa[2])).toBe(argToNumber(ob[2]));
      expect(argToNumber(oa[2])).toBe(0o1 | 0o2000000);
      const ca = recordArgs(pick(recsX, 'clone3'))[0];
      const cb = recordArgs(pick(named, 'clone3'))[0];
      expect(argToNumber(field(ca, 'flags'))).toBe(argToNumber(field(cb, 'flags')));
      expect(argToNumber(field(ca, 'exit_signal'))).toBe(argToNumber(field(cb, 'exit_signal')));
      expect(argToNumber(recordArgs(pick(recsX, 'clone'))[1])).toBe(argToNumber(recordArgs(pick(named, 'clone'))[1]));
    }
    // -X raw keeps signal names in lifecycle lines
    expect(raw.find((r) => r.kind === 'killed' && r.coreDumped)).toMatchObject({ signal: 'SIGSEGV' });
  });

  it('-X verbose: number with its names as a comment', async () => {
    const recs = await read('xverbose.strace');
    const u = recs.find((r) => r.name === 'unshare')!;
    expect(recordArgs(u)[0]).toEqual({ kind: 'flags', names: ['CLONE_NEWTIME'], num: 0x80, text: '0x80 /* CLONE_NEWTIME */' });
    const cl = recordArgs(recs.find((r) => r.name === 'clone')!)[1];
    expect(cl).toMatchObject({ kind: 'flags', names: ['CLONE_CHILD_CLEARTID', 'CLONE_CHILD_SETTID', 'SIGCHLD'], num: 0x1200011 });
    const ex = recordArgs(recs.find((r) => r.name === 'execve')!)[2];
    expect(ex).toMatchObject({ kind: 'num', comment: '2 vars' });
  });

  it('-s 8: truncated strings are flagged', async () => {
    const recs = await read('s8.strace');
    const w = recs.find((r) => r.name === 'write' && r.argsText.includes('monoton'))!;
    expect(recordArgs(w)[1]).toEqual({ kind: 'str', value: 'monotoni', truncated: true, text: '"monotoni"...' });
    const rl = recs.filter((r) => r.name === 'readlink')[1];
    expect(recordArgs(rl)[1]).toMatchObject({ value: 'time:[40', truncated: true });
    // strace never truncates pathnames with -s, only data buffers
    expect(recordArgs(rl)[0]).toMatchObject({ value: '/proc/self/ns/time', truncated: false });
  });
});

describe('stderr output ("[pid N] " prefixes, strace messages inline)', async () => {
  const r = readStrace(fx('stderr.strace'));
  const recs = await r.toArray();
  const text = readFileSync(fx('stderr.strace'), 'latin1').split('\n');

  it('attributes pid-less lines: the leader before the first fork and once it is the only one left', () => {
    expect(r.stats.leader).toBe(16173);
    expect(r.stats.pidUnknown).toBe(0);
    expect(recs[0]).toMatchObject({ name: 'execve', pid: 16173, pidFrom: 'leader' });
    const last = recs.filter((x) => x.line >= 130);
    expect(text[134]).toMatch(/^\d\d:\d\d:\d\d\.\d+ exit_group\(5\)/);
    expect(last.map((x) => [x.pid, x.kind])).toContainEqual([16173, 'exit']);
    expect(recs.find((x) => x.line === 135)).toMatchObject({ pid: 16173, name: 'exit_group', pidFrom: 'leader' });
    // every prefixed line keeps its own pid
    for (const x of recs) {
      const m = /^\[pid +(\d+)\]/.exec(text[x.line - 1]);
      if (m) expect(x.pid).toBe(Number(m[1]));
    }
  });

  it('a call split by "strace: Process N attached" is joined across the two lines', () => {
    const att = recs.filter((x) => x.kind === 'info' && x.name === 'attached');
    expect(att.map((x) => x.subjectPid)).toEqual([16174, 16175, 16176, 16177, 16178, 16179]);
    const c3 = recs.find((x) => x.name === 'clone3' && x.line === 29)!;
    expect(c3).toMatchObject({ endLine: 30, pid: 16173, argsText: '{flags=CLONE_NEWTIME, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88', ret: { value: 16174 } });
    const cl = recs.find((x) => x.name === 'clone' && x.line === 37)!;
    expect(cl.argsText).toBe('child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0xd8a4690');
    expect(cl.endLine).toBe(38);
  });

  it('-p attach then detach: info records and a <detached ...> call', async () => {
    const a = await read('attach-detach.strace');
    expect(a.map((x) => [x.kind, x.name, x.pid])).toEqual([
      ['info', 'attached', 16210],
      ['info', 'detached', 16210],
      ['syscall', 'restart_syscall', 16210],
    ]);
    expect(a[2]).toMatchObject({ detached: true, argsText: '<... resuming interrupted read ...>', line: 2, endLine: 3 });
    expect(a[2].ret).toBeUndefined();
  });
});

describe('-ff sets (FILE.PID)', () => {
  it('merges by timestamp, pid from the suffix, each file in its own order', async () => {
    const r = readStraceFf({ prefix: fx('ff-tt/trace') });
    const recs = await r.toArray();
    expect(recs.length).toBe(109);
    expect(new Set(recs.map((x) => x.pid))).toEqual(new Set([16186, 16187, 16188, 16189, 16190, 16191, 16192]));
    expect(recs.every((x) => x.pidFrom === 'file' && x.file.endsWith(`trace.${x.pid}`))).toBe(true);
    for (let i = 1; i < recs.length; i++) expect(recs[i].time!.seconds).toBeGreaterThanOrEqual(recs[i - 1].time!.seconds);
    const byPid = new Map<number, number[]>();
    for (const x of recs) byPid.set(x.pid, [...(byPid.get(x.pid) ?? []), x.line]);
    for (const lines of byPid.values()) expect(lines).toEqual([...lines].sort((a, b) => a - b));
    // the parent's clone3 comes before anything of its child
    const c3 = recs.findIndex((x) => x.name === 'clone3' && x.pid === 16186);
    expect(recs[c3].ret?.value).toBe(16187);
    expect(recs.findIndex((x) => x.pid === 16187)).toBeGreaterThan(c3);
    expect(r.stats.neverResumed).toBe(0);
  });

  it('without timestamps: file by file, ascending pid (an explicit list of files)', async () => {
    const files = [16199, 16196, 16197, 16198, 16200, 16201, 16202].map((p) => fx(`ff-plain/trace.${p}`));
    const recs = await readStraceFf(files).toArray();
    const pids = recs.map((x) => x.pid);
    expect(pids).toEqual([...pids].sort((a, b) => a - b));
    expect(recs[0]).toMatchObject({ pid: 16196, name: 'execve', line: 1 });
  });

  it('rejects file names without a pid suffix and duplicate pids', async () => {
    await expect(readStraceFf([fx('plain.strace')]).toArray()).rejects.toThrow(/must end in \.PID/);
    const f = fx('ff-plain/trace.16196');
    await expect(readStraceFf([f, f]).toArray()).rejects.toThrow(/pid 16196 appears twice/);
    await expect(readStraceFf({ prefix: fx('nothing-here/trace') }).toArray()).rejects.toBeInstanceOf(StraceParseError);
  });
});

describe('unfinished / resumed interleavings', () => {
  const P = (lines: string[], opts = {}) => parseStraceText(lines.join('\n') + '\n', { file: 't.strace', ...opts });

  it('crossed pairs of two pids', () => {
    const { records, stats } = P([
      '10 read(3,  <unfinished ...>',
      '11 write(4, "x", 1 <unfinished ...>',
      '11 <... write resumed>) = 1',
      '10 <... read resumed>"ab", 2) = 2',
    ]);
    expect(records.map((r) => [r.pid, r.name, r.line, r.endLine, r.argsText])).toEqual([
      [11, 'write', 2, 3, '4, "x", 1'],
      [10, 'read', 1, 4, '3, "ab", 2'],
    ]);
    expect(stats).toMatchObject({ neverResumed: 0, orphanResumes: 0 });
  });

  it('a START never resumed is emitted as unfinished at exit, at a new START, or at the end', () => {
    const { records, stats } = P([
      '10 futex(0x1, FUTEX_WAIT, 0, NULL <unfinished ...>',
      '11 nanosleep({tv_sec=1, tv_nsec=0},  <unfinished ...>',
      '10 +++ killed by SIGKILL +++',
      '11 pause( <unfinished ...>',
      '12 wait4(-1,  <unfinished ...>',
    ]);
    expect(records.map((r) => [r.pid, r.kind, r.name ?? r.signal, r.unfinished ?? false])).toEqual([
      [10, 'syscall', 'futex', true],
      [10, 'killed', 'SIGKILL', false],
      [11, 'syscall', 'nanosleep', true],
      [11, 'syscall', 'pause', true],
      [12, 'syscall', 'wait4', true],
    ]);
    expect(records[0].ret).toBeUndefined();
    expect(stats.neverResumed).toBe(4);
  });

  it('"<... NAME resumed> <unfinished ...>) = ?": the task left inside the call', () => {
    const { records } = P(['20 read(0,  <unfinished ...>', '21 exit_group(0) = ?', '20 <... read resumed> <unfinished ...>) = ?', '20 +++ killed by SIGTERM +++']);
    const r = records.find((x) => x.name === 'read')!;
    expect(r).toMatchObject({ interrupted: true, argsText: '0, ', line: 1, endLine: 3, ret: { text: '?' } });
    expect(r.unfinished).toBeUndefined();
    const direct = parseLine('read(3,  <unfinished ...>) = ?')!;
    expect(direct).toMatchObject({ interrupted: true, argsText: '3, ' });
  });

  it('an orphan resume (tracing began inside the call) is a record flagged orphan', () => {
    const { records, stats } = P(['30 <... nanosleep resumed>NULL) = 0', '30 getpid() = 30']);
    expect(records[0]).toMatchObject({ name: 'nanosleep', orphan: true, argsText: 'NULL', ret: { value: 0 } });
    expect(records[0].resumed).toBeUndefined();
    expect(stats.orphanResumes).toBe(1);
  });

  it('a resumed name that differs from the pending call is an error naming both lines', () => {
    const lines = ['40 read(3,  <unfinished ...>', '41 getpid() = 41', '40 <... write resumed>) = 1'];
    expect(() => P(lines)).toThrow(StraceParseError);
    try {
      P(lines);
    } catch (e) {
      expect(e).toMatchObject({ file: 't.strace', line: 3 });
      expect((e as Error).message).toBe('t.strace:3: "<... write resumed>" for pid 40, but its unfinished call is read (line 1)');
    }
    const { records, stats } = P(lines, { lenient: true });
    expect(stats.badLines).toBe(1);
    expect(records.find((r) => r.name === 'read')).toMatchObject({ unfinished: true });
  });

  it('parseLine returns the halves; times of both halves are kept after merging', () => {
    expect(parseLine('7 02:00:00.5 wait4(8,  <unfinished ...>')).toMatchObject({ unfinished: true, argsText: '8, ', pid: 7 });
    expect(parseLine('7 <... wait4 resumed>NULL, 0, NULL) = 8')).toMatchObject({ resumed: true, argsText: 'NULL, 0, NULL' });
    const { records } = P(['7 02:00:00.500000 wait4(8,  <unfinished ...>', '7 02:00:01.250000 <... wait4 resumed>NULL, 0, NULL) = 8 <0.750000>']);
    expect(records[0]).toMatchObject({ time: { seconds: 7200.5 }, endTime: { seconds: 7201.25 }, durationSec: 0.75 });
  });
});

describe('pid rules for lines without a pid', () => {
  it('the pid option wins; without anything to learn from, pid 0 and counted', () => {
    expect(parseStraceText('unshare(CLONE_NEWTIME) = 0\n', { pid: 77 }).records[0]).toMatchObject({ pid: 77, pidFrom: 'option' });
    const { records, stats } = parseStraceText('unshare(CLONE_NEWTIME) = 0\nsetns(3, CLONE_NEWTIME) = 0\n');
    expect(records.map((r) => [r.pid, r.pidFrom])).toEqual([
      [0, 'unknown'],
      [0, 'unknown'],
    ]);
    expect(stats.pidUnknown).toBe(2);
  });

  it('learned from set_tid_address/getpid results, and applied to earlier lines', () => {
    const { records } = parseStraceText('brk(NULL) = 0x1000\nset_tid_address(0x7f) = 555\nunshare(CLONE_NEWTIME) = 0\n');
    expect(records.map((r) => r.pid)).toEqual([555, 555, 555]);
  });

  it('learned from the first [pid N] that was not announced as attached', () => {
    const { records } = parseStraceText(
      [
        'unshare(CLONE_NEWTIME) = 0',
        'clone(child_stack=NULL, flags=SIGCHLDstrace: Process 9 attached',
        ', child_tidptr=0x1) = 9',
        '[pid     9] exit_group(0) = ?',
        '[pid 8] wait4(9,  <unfinished ...>',
        '[pid     9] +++ exited with 0 +++',
        '<... wait4 resumed>NULL, 0, NULL) = 9',
        '+++ exited with 0 +++',
      ].join('\n'),
    );
    expect(records.map((r) => [r.line, r.pid, r.kind, r.name ?? ''])).toEqual([
      [1, 8, 'syscall', 'unshare'],
      [2, 9, 'info', 'attached'],
      [2, 8, 'syscall', 'clone'],
      [4, 9, 'syscall', 'exit_group'],
      [6, 9, 'exit', ''],
      [5, 8, 'syscall', 'wait4'],
      [8, 8, 'exit', ''],
    ]);
    expect(records[2]).toMatchObject({ argsText: 'child_stack=NULL, flags=SIGCHLD, child_tidptr=0x1', endLine: 3 });
  });

  it('a split line followed by another pid\'s line becomes an unfinished START', () => {
    const { records } = parseStraceText(
      ['[pid 8] clone(child_stack=NULL, flags=SIGCHLDstrace: Process 9 attached', '[pid 9] getpid() = 9', '[pid 8] <... clone resumed>, child_tidptr=0x1) = 9'].join('\n'),
    );
    const c = records.find((r) => r.name === 'clone')!;
    expect(c).toMatchObject({ pid: 8, line: 1, endLine: 3, argsText: 'child_stack=NULL, flags=SIGCHLD, child_tidptr=0x1', ret: { value: 9 } });
  });

  it('-t times wrap at midnight to the next day', () => {
    const { records } = parseStraceText('1 23:59:59.900000 getpid() = 1\n1 00:00:00.100000 getpid() = 1\n');
    expect(records.map((r) => Math.round(r.time!.seconds * 10) / 10)).toEqual([86399.9, 86400.1]);
  });
});

describe('errors and lenient mode', () => {
  it('a malformed line throws StraceParseError with file, line and an exact message', () => {
    const cases: [string, string][] = [
      ['hello world', 'not a strace line: expected "NAME(...) = RET", "+++ ... +++", "--- ... ---", "<... NAME resumed>" or "strace: ..."'],
      ['12 read(3, "abc", 3', 'no closing ")" for read(...) and no "<unfinished ...>" at the end'],
      ['12 read(3, "abc", 3) 3', 'expected " = RET" after read(...)'],
      ['12 read(3) = abc', 'bad return value "abc" (expected a number, 0x... or ?)'],
      ['12 +++ exited +++', 'unknown "+++" line (expected "exited with N", "killed by SIGX" or "superseded by execve in pid N")'],
      ['12 99:00:00 getpid() = 1', 'bad timestamp "99:00:00" (expected HH:MM:SS, HH:MM:SS.micro or epoch.micro)'],
      ['[pid x] getpid() = 1', 'malformed "[pid N] " prefix'],
      ['12 re-ad(3) = 1', 'bad syscall name "re-ad"'],
      ['12 read(3) = -1 EPERM', 'bad error part "EPERM" (expected "ERRNO (message)")'],
    ];
    for (const [line, msg] of cases) {
      let err: unknown;
      try {
        parseLine(line, { file: 'x.strace', line: 7 });
      } catch (e) {
        err = e;
      }
      expect(err, line).toBeInstanceOf(StraceParseError);
      expect(err).toMatchObject({ file: 'x.strace', line: 7, reason: msg });
      expect((err as Error).message).toBe(`x.strace:7: ${msg} in: ${JSON.stringify(line)}`);
    }
  });

  it('the stream reader names the file and the physical line; lenient skips and counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tns-strace-'));
    const f = join(dir, 'bad.strace');
    writeFileSync(f, '1 getpid() = 1\n1 garbage here\n1 getppid() = 0\n1 read(3 = 1\n');
    await expect(readStrace(f).toArray()).rejects.toMatchObject({ name: 'StraceParseError', file: f, line: 2 });
    const r = readStrace(f, { lenient: true });
    const recs = await r.toArray();
    expect(recs.map((x) => x.name)).toEqual(['getpid', 'getppid']);
    expect(r.stats.badLines).toBe(2);
    expect(r.stats.errors.map((e) => e.line)).toEqual([2, 4]);
    await expect(readStrace(join(dir, 'missing.strace')).toArray()).rejects.toMatchObject({ line: 0, reason: expect.stringMatching(/^cannot open: ENOENT/) });
  });

  it('blank lines are skipped; strace messages and personality notes are info records', () => {
    expect(parseLine('   ')).toBeNull();
    expect(parseLine('strace: Process 5 attached')).toMatchObject({ kind: 'info', name: 'attached', subjectPid: 5 });
    expect(parseLine('strace: ptrace(PTRACE_SEIZE, 5): Operation not permitted')).toMatchObject({ kind: 'info', name: 'message' });
    expect(parseLine('5 [ Process PID=5 runs in 32 bit mode. ]')).toMatchObject({ kind: 'info', name: 'personality', pid: 5 });
    expect(parseLine('5 +++ superseded by execve in pid 4 +++')).toMatchObject({ kind: 'info', name: 'superseded', supersededBy: 4 });
    expect(parseLine('5 ???() = ? <unavailable>')).toMatchObject({ name: '???', ret: { text: '? <unavailable>', unavailable: true } });
    expect(parseLine('5 read(3, 0x1, 4) = -1 (errno 530)')).toMatchObject({ errno: 'errno 530' });
  });
});

describe('values', () => {
  it('decodes C escapes exactly (octal 1-3 digits, hex, letters, quotes)', () => {
    expect(decodeCString('\\0\\0\\00007')).toBe('\0\0\0' + '07');
    expect(decodeCString('\\177ELF\\2\\1')).toBe('\x7fELF\x02\x01');
    expect(decodeCString('\\x68\\x69\\x0a')).toBe('hi\n');
    expect(decodeCString('a\\tb\\"c\\\\d\\1\\377\\n\\r\\v\\f')).toBe('a\tb"c\\d\x01\xff\n\r\v\f');
    expect(decodeCString('no escapes')).toBe('no escapes');
  });

  it('parses values of every shape', () => {
    expect(parseValue('0644')).toEqual({ kind: 'num', value: 0o644, text: '0644' });
    expect(parseValue('0xffffffffffffffff')).toEqual({ kind: 'num', value: 0xffffffffffffffffn, text: '0xffffffffffffffff' });
    expect(parseValue('8192*1024')).toMatchObject({ kind: 'num', value: 8388608 });
    expect(parseValue('S_IFREG|0644')).toEqual({ kind: 'flags', names: ['S_IFREG'], text: 'S_IFREG|0644' });
    expect(parseValue('0x10000000000 /* CLONE_??? */')).toMatchObject({ kind: 'flags', names: ['CLONE_???'], num: 0x10000000000 });
    expect(parseValue('~[KILL STOP RTMIN RT_1]')).toMatchObject({ kind: 'raw' });
    expect(parseValue('[RTMIN RT_1]')).toMatchObject({ kind: 'array', items: [{ text: 'RTMIN' }, { text: 'RT_1' }] });
    expect(parseValue('{st_mode=S_IFREG|0644, st_size=35335, ...}')).toMatchObject({
      kind: 'struct',
      fields: { st_size: { kind: 'num', value: 35335 } },
      unnamed: [{ kind: 'raw', text: '...' }],
    });
    expect(parseValue('[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]')).toMatchObject({ kind: 'array', items: [{ kind: 'struct', unnamed: [{ kind: 'raw' }] }] });
    expect(parseValue('3</tmp/esc/a\\76b\\74c,d(e)f>')).toMatchObject({ kind: 'fd', fd: 3, path: '/tmp/esc/a>b<c,d(e)f' });
    expect(parseValue('3<TCP:[127.0.0.1:5000->127.0.0.1:80]>')).toMatchObject({ kind: 'fd', path: 'TCP:[127.0.0.1:5000->127.0.0.1:80]' });
    expect(parseArgs('3</a,b(>, "x,y)", {a=[1, 2], b="}"}, 5')).toHaveLength(4);
    expect(parseArgs('')).toEqual([]);
  });

  it('tables: kernel constants agree with src/kernel/ops.ts, raw numbers map back to names', () => {
    expect(CLONE_FLAGS.CLONE_NEWTIME).toBe(CLONE.NEWTIME);
    for (const [k, v] of Object.entries(CLONE)) if (`CLONE_${k}` in CLONE_FLAGS) expect(CLONE_FLAGS[`CLONE_${k}`], k).toBe(v);
    for (const [k, v] of Object.entries(CLOCK)) if (`CLOCK_${k}` in CLOCK_IDS) expect(CLOCK_IDS[`CLOCK_${k}`], k).toBe(v);
    expect(SIGNALS.SIGCHLD).toBe(17);
    expect(SIGNALS.SIGRT_1).toBe(33);
    expect(constantValue('O_CLOEXEC')).toBe(0o2000000);
    expect(flagNames(CLONE_FLAGS, 0x1200000 | 0x80)).toEqual({ names: ['CLONE_NEWTIME', 'CLONE_CHILD_CLEARTID', 'CLONE_CHILD_SETTID'], rest: 0n });
  });
});

describe('streaming', () => {
  it('reports progress in bytes and reads in chunks (a line across chunk boundaries stays whole)', async () => {
    const seen: number[] = [];
    const path = fx('tt-yy.strace');
    const size = readFileSync(path).length;
    const r = readStrace(path, { chunkSize: 4096, onProgress: (b, t) => (seen.push(b), expect(t).toBe(size)) });
    const recs = await r.toArray();
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.at(-1)).toBe(size);
    expect(recs).toEqual(await read('tt-yy.strace'));
  });

  it('eager args only for the selected syscalls', async () => {
    const recs = await read('tt-yy.strace', { parseArgsFor: ['setns', 'unshare'] });
    expect(recs.filter((r) => r.args).map((r) => r.name)).toEqual(['unshare', 'setns', 'setns', 'unshare', 'unshare']);
  });
});

const CORPUS = join(import.meta.dirname, 'traces');
const haveCorpus = existsSync(join(CORPUS, 'MANIFEST.json'));
if (!haveCorpus) console.warn('strace-parse: test/traces/MANIFEST.json missing: corpus cross-check skipped');

describe.skipIf(!haveCorpus)('the recorded corpus (test/traces): every manifest fact is found at its line', () => {
  type Exp = { file: string; line: number; startLine?: number; pid: number; call: string; kind?: string; ret?: number | string; errno?: string };
  const manifest = haveCorpus ? (JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { traces: { name: string; files: string[]; expect: Exp[] }[] }) : { traces: [] };
  for (const t of manifest.traces) {
    it(t.name, async () => {
      const paths = t.files.map((f) => join(CORPUS, f));
      const reader = paths.length > 1 ? readStraceFf(paths) : readStrace(paths[0]);
      const recs = await reader.toArray();
      expect(reader.stats.badLines).toBe(0);
      for (const e of t.expect) {
        const r = recs.find(
          (x) => x.file.endsWith(e.file) && x.pid === e.pid && (x.endLine ?? x.line) === e.line && x.line === (e.startLine ?? e.line) &&
            (e.kind === 'exit' ? x.kind === (e.call === 'exited' ? 'exit' : 'killed') : x.kind === 'syscall' && x.name === e.call),
        );
        expect(r, `${e.file}:${e.line} ${e.call}`).toBeDefined();
        if (e.kind === 'exit') {
          expect(e.call === 'exited' ? r!.exitCode : r!.signal).toBe(e.ret);
        } else if (e.errno) {
          expect(r!.errno).toBe(e.errno);
        } else if (typeof e.ret === 'number') {
          expect(r!.ret?.value).toBe(e.ret);
        } else if (typeof e.ret === 'string' && e.ret.startsWith('0x')) {
          expect(r!.ret?.value).toBe(Number(e.ret));
        }
      }
    });
  }
});
