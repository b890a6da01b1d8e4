// Benchmark: the strace parser against a raw readline of the same file.
// Build first (npm run build), then: node bench/strace-parse.bench.mjs [LINES]
// Generates a synthetic `strace -f -tt -yy` trace (~1M lines by default) in /tmp, then times
// (median of 3 runs each): a raw readline pass, the parser's record stream, and the parser with
// eager argument parsing for the namespace syscalls. Prints lines/s and the ratio to readline.
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { readStrace } from '../dist/ingest/strace/index.js';

const N = Number(process.argv[2] ?? 1_000_000);
const path = `/tmp/tns-strace-bench-${N}.strace`;

// A deterministic mix shaped like real traces: file calls with -yy paths, clock reads,
// namespace calls, clone/wait pairs split by <unfinished ...>, signals and exits.
function* synth() {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let t = 7200;
  const leader = 4000;
  let next = 4001;
  const ts = () => {
    t += 0.000037 + rnd() * 0.00005;
    const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${s.toFixed(6).padStart(9, '0')}`;
  };
  let n = 0;
  while (n < N) {
    const pid = leader;
    const k = Math.floor(rnd() * 12);
    switch (k) {
      case 0:
        yield `${pid} ${ts()} openat(AT_FDCWD</home/user/demo>, "/proc/self/timens_offsets", O_RDONLY|O_CLOEXEC) = 3</proc/${pid}/timens_offsets>`;
        yield `${pid} ${ts()} read(3</proc/${pid}/timens_offsets>, "monotonic       86400         0\\nboottime            0         0\\n", 256) = 64`;
        yield `${pid} ${ts()} close(3</proc/${pid}/timens_offsets>) = 0`;
        n += 3;
        break;
      case 1:
        yield `${pid} ${ts()} clock_gettime(CLOCK_MONOTONIC, {tv_sec=${Math.floor(rnd() * 1e5)}, tv_nsec=${Math.floor(rnd() * 1e9)}}) = 0`;
        n += 1;
        break;
      case 2:
        yield `${pid} ${ts()} unshare(CLONE_NEWTIME) = 0`;
        yield `${pid} ${ts()} openat(AT_FDCWD</home/user/demo>, "/proc/self/ns/time_for_children", O_RDONLY) = 4<time:[4026532176]>`;
        yield `${pid} ${ts()} setns(4<time:[4026532176]>, CLONE_NEWTIME) = 0`;
        yield `${pid} ${ts()} write(5</proc/${pid}/timens_offsets>, "monotonic 1 0\\n", 14) = -1 EACCES (Permission denied)`;
        n += 4;
        break;
      case 3: {
        const c = next++;
        yield `${pid} ${ts()} clone3({flags=CLONE_NEWTIME, exit_signal=SIGCHLD, stack=NULL, stack_size=0}, 88) = ${c}`;
        yield `${pid} ${ts()} wait4(${c},  <unfinished ...>`;
        yield `${c} ${ts()} set_robust_list(0x7f4e4b2d3a20, 24) = 0`;
        yield `${c} ${ts()} exit_group(0)     = ?`;
        yield `${c} ${ts()} +++ exited with 0 +++`;
        yield `${pid} ${ts()} <... wait4 resumed>NULL, 0, NULL) = ${c}`;
        yield `${pid} ${ts()} --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=${c}, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---`;
        n += 7;
        break;
      }
      case 4:
        yield `${pid} ${ts()} mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f2dcb796000`;
        n += 1;
        break;
      case 5:
        yield `${pid} ${ts()} newfstatat(3</usr/lib/x86_64-linux-gnu/libc.so.6>, "", {st_mode=S_IFREG|0755, st_size=1926232, ...}, AT_EMPTY_PATH) = 0`;
        n += 1;
        break;
      case 6:
        yield `${pid} ${ts()} readlink("/proc/self/ns/time", "time:[4026532176]", 256) = 17`;
        n += 1;
        break;
      case 7:
        yield `${pid} ${ts()} fcntl(5</home/user/err.txt>, F_GETFL) = 0x8001 (flags O_WRONLY|O_LARGEFILE)`;
        n += 1;
        break;
      case 8:
        yield `${pid} ${ts()} rt_sigaction(SIGRT_1, {sa_handler=0x45ae60, sa_mask=[], sa_flags=SA_RESTORER|SA_ONSTACK|SA_RESTART|SA_SIGINFO, sa_restorer=0x44c4e0}, NULL, 8) = 0`;
        n += 1;
        break;
      case 9:
        yield `${pid} ${ts()} write(1</dev/null<char 1:3>>, "a\\tb\\"c\\\\d\\1\\377\\n", 10) = 10`;
        n += 1;
        break;
      case 10:
        yield `${pid} ${ts()} access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)`;
        n += 1;
        break;
      default:
        yield `${pid} ${ts()} brk(NULL)         = 0x5575c4a95000`;
        n += 1;
    }
  }
}

async function generate() {
  try {
    if (statSync(path).size > 0) return;
  } catch {
    /* create */
  }
  const w = createWriteStream(path);
  let buf = [];
  for (const l of synth()) {
    buf.push(l);
    if (buf.length >= 10000) {
      if (!w.write(buf.join('\n') + '\n')) await once(w, 'drain');
      buf = [];
    }
  }
  if (buf.length) w.write(buf.join('\n') + '\n');
  w.end();
  await once(w, 'finish');
}

async function rawReadline() {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'latin1' }), crlfDelay: Infinity });
  let n = 0;
  for await (const _ of rl) n++;
  return n;
}

async function parser(opts) {
  const r = readStrace(path, opts);
  let recs = 0;
  for await (const b of r.batches()) recs += b.length;
  return { lines: r.stats.lines, recs };
}

async function parserPerRecord() {
  const r = readStrace(path);
  let recs = 0;
  for await (const _ of r) recs++;
  return { lines: r.stats.lines, recs };
}

async function median3(fn) {
  const times = [];
  let res;
  for (let i = 0; i < 3; i++) {
    const t0 = process.hrtime.bigint();
    res = await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((a, b) => a - b);
  return { sec: times[1], res };
}

await generate();
const size = statSync(path).size;
console.log(`synthetic trace: ${path} (${(size / 1e6).toFixed(1)} MB)`);
const raw = await median3(rawReadline);
const lines = raw.res;
const rawRate = lines / raw.sec;
console.log(`readline (raw)              ${lines} lines  ${raw.sec.toFixed(3)} s  ${(rawRate / 1e3).toFixed(0)} k lines/s`);
const rows = [
  ['parser, batches()', () => parser({})],
  ['parser, per-record iterator', parserPerRecord],
  ['parser + args of ns calls', () => parser({ parseArgsFor: ['unshare', 'setns', 'clone', 'clone3', 'openat', 'write', 'clock_gettime'] })],
  ['parser + args of every call', () => parser({ parseArgsFor: 'all' })],
];
for (const [label, fn] of rows) {
  const m = await median3(fn);
  const rate = m.res.lines / m.sec;
  console.log(
    `${label.padEnd(28)} ${m.res.lines} lines  ${m.sec.toFixed(3)} s  ${(rate / 1e3).toFixed(0)} k lines/s  ` +
      `ratio to readline ${(m.sec / raw.sec).toFixed(2)}x  (${m.res.recs} records)`,
  );
}
