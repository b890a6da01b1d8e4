// Import speed: lines/s of `tns import strace` (parse + lines → ops + host clock estimate) and of `tns check`
// (the same plus two model worlds) on a large synthetic strace -f -tt -yy trace, against a raw line read of the
// same file in the same run. Goal: import ≥ 300 k lines/s.
// Usage: npm run build && node bench/import.bench.mjs [LINES]   (default 1,000,000)
import { openSync, readSync, closeSync, writeFileSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStrace } from '../dist/ingest/strace/index.js';
import { TraceImport } from '../dist/ingest/trace-to-ops.js';
import { checkTrace } from '../dist/ingest/check.js';

const target = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'tns-bench-'));
const file = join(dir, 'big.strace');

function synth(lines) {
  // One root process forks children one after another; each child reads its links and clocks, unshares a time
  // namespace, writes and reads its offsets, and makes the syscalls a real program makes besides (skipped ones).
  const out = [];
  let t = 4 * 3600 + 10 * 60; // 04:10:00
  let mono = 7000;
  const root = 20000;
  const ts = () => {
    t += 0.00002;
    mono += 0.00002;
    const h = Math.floor(t / 3600) % 24, m = Math.floor(t / 60) % 60, s = t % 60;
    return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(6).padStart(9, '0')}`;
  };
  const clock = (pid, off) => {
    const v = mono + off;
    const sec = Math.floor(v), nsec = Math.floor((v - sec) * 1e9);
    return `${pid} ${ts()} clock_gettime(CLOCK_MONOTONIC, {tv_sec=${sec}, tv_nsec=${nsec}}) = 0`;
  };
  out.push(`${root} ${ts()} execve("./bench", ["./bench"], 0x7ffd0 /* 2 vars */) = 0`);
  let child = root + 1;
  while (out.length < lines) {
    const c = child++;
    out.push(`${root} ${ts()} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f650) = ${c}`);
    out.push(`${root} ${ts()} wait4(${c},  <unfinished ...>`);
    out.push(`${c} ${ts()} set_robust_list(0x7f660, 24) = 0`);
    for (let k = 0; k < 6; k++) out.push(`${c} ${ts()} mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f4e4b4c1000`);
    out.push(`${c} ${ts()} readlink("/proc/self/ns/time", "time:[4026531834]", 64) = 17`);
    out.push(clock(c, 0));
    out.push(`${c} ${ts()} write(1</dev/null<char 1:3>>, "== unshare\\n", 11) = 11`);
    out.push(`${c} ${ts()} unshare(CLONE_NEWTIME) = 0`);
    out.push(`${c} ${ts()} readlink("/proc/self/ns/time_for_children", "time:[4026532176]", 64) = 17`);
    out.push(`${c} ${ts()} openat(AT_FDCWD</tmp>, "/proc/self/timens_offsets", O_WRONLY) = 3</proc/${c}/timens_offsets>`);
    out.push(`${c} ${ts()} write(3</proc/${c}/timens_offsets>, "monotonic 100 0\\n", 16) = 16`);
    out.push(`${c} ${ts()} close(3</proc/${c}/timens_offsets>) = 0`);
    out.push(`${c} ${ts()} openat(AT_FDCWD</tmp>, "/proc/self/timens_offsets", O_RDONLY) = 3</proc/${c}/timens_offsets>`);
    out.push(`${c} ${ts()} read(3</proc/${c}/timens_offsets>, "monotonic         100         0\\nboottime            0         0\\n", 4096) = 64`);
    out.push(`${c} ${ts()} close(3</proc/${c}/timens_offsets>) = 0`);
    for (let k = 0; k < 6; k++) out.push(`${c} ${ts()} brk(NULL)         = 0xee0c000`);
    out.push(clock(c, 0));
    out.push(`${c} ${ts()} exit_group(0)     = ?`);
    out.push(`${c} ${ts()} +++ exited with 0 +++`);
    out.push(`${root} ${ts()} <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], __WALL, NULL) = ${c}`);
    out.push(`${root} ${ts()} --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${c}, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`);
    if (child > 4_000_000) child = root + 1;
  }
  out.push(`${root} ${ts()} exit_group(0)     = ?`);
  out.push(`${root} ${ts()} +++ exited with 0 +++`);
  return out.join('\n') + '\n';
}

function rawRead(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let carry = '';
  let lines = 0;
  let chars = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const chunk = carry + buf.toString('latin1', 0, n);
    let from = 0;
    for (;;) {
      const k = chunk.indexOf('\n', from);
      if (k < 0) break;
      chars += chunk.slice(from, k).length;
      lines++;
      from = k + 1;
    }
    carry = chunk.slice(from);
  }
  closeSync(fd);
  return { lines, chars };
}

async function importOnly(path) {
  const reader = readStrace(path);
  const imp = new TraceImport();
  let events = 0;
  for await (const batch of reader.batches()) for (const r of batch) events += imp.push(r).length;
  events += imp.end().length;
  return { lines: reader.stats.lines, events, skipped: Object.values(imp.stats.skipped).reduce((a, b) => a + b, 0) };
}

function time(fnResult) {
  return fnResult;
}

writeFileSync(file, synth(target));
const size = statSync(file).size;
console.log(`synthetic trace: ${target.toLocaleString()} lines, ${(size / 1e6).toFixed(1)} MB (${file})`);

const results = [];
for (let round = 0; round < 2; round++) {
  let t0 = process.hrtime.bigint();
  const raw = rawRead(file);
  const rawS = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  const imp = await importOnly(file);
  const impS = Number(process.hrtime.bigint() - t0) / 1e9;
  t0 = process.hrtime.bigint();
  const chk = await checkTrace([file], { maxDivergences: 10 });
  const chkS = Number(process.hrtime.bigint() - t0) / 1e9;
  results.push({ raw: raw.lines / rawS, imp: imp.lines / impS, chk: chk.lines / chkS, events: imp.events, divergences: chk.divergences.length });
}
const best = (k) => Math.max(...results.map((r) => r[k]));
const fmt = (x) => `${Math.round(x / 1000).toLocaleString()} k lines/s`;
console.log(`raw line read:               ${fmt(best('raw'))}`);
console.log(`import (parse + ops + clock): ${fmt(best('imp'))}  (${(best('imp') / best('raw') * 100).toFixed(1)} % of raw; goal ≥ 300 k lines/s: ${best('imp') >= 300_000 ? 'met' : 'NOT met'})`);
console.log(`check  (import + 2 worlds):   ${fmt(best('chk'))}`);
console.log(`events per run: ${results[0].events.toLocaleString()}; divergences: ${results[0].divergences}`);
rmSync(dir, { recursive: true, force: true });
void time;
