/**
 * Seeded random scenarios for the differential harness. The generator keeps a shadow model world and applies every
 * op it emits to it, so each op refers only to tasks and fds that exist at that point (in the model; the harness
 * stops at the first op where the live kernel disagrees, so up to there the kernel has them too). fds are referred
 * to by number (the harness checks that the model's and the kernel's fd tables are equal after every op), tasks by
 * name ("A", "t1", ...). A failing seed is minimized by delta debugging: drop chunks of ops while the same kind of
 * mismatch still happens.
 */
import { apply, capsFromMask, createWorld, type Op, type Task, type World } from '../../src/kernel/index.js';
import { flagsOf, hostCapEff, hostHasRtc, runScenario, type Mismatch, type RunOptions, type Scenario, type ScenarioOp } from './harness.js';

/** The same small deterministic generator synth uses (mulberry32). */
import { prng as rng } from '../../src/replay/synth.js';

export { rng };


export function randomSeeds(base: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (base + i * 7919) % 2147483647);
}

const THREAD = 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM';

const GOOD_WRITES = [
  (r: R) => `monotonic ${r.int(-50, 100000)} 0\n`,
  (r: R) => `boottime ${r.int(-50, 100000)} ${r.int(0, 999999999)}\n`,
  (r: R) => `1 ${r.int(0, 5000)} ${r.int(0, 999999999)}`,
  (r: R) => `7 -${r.int(1, 50)} 500000000\n`,
  (r: R) => `monotonic ${r.int(0, 9999)} 0\nboottime ${r.int(0, 9999)} 0\n`,
  (r: R) => `monotonic ${r.int(0, 9999)} 0\nboottime ${r.int(0, 9999)} 0\nmonotonic 1 0\n`,
  (r: R) => `monotonic 1 0\nmonotonic ${r.int(2, 999)} 0\n`,
  (r: R) => `boottime   ${r.int(0, 99)}\t 0 trailing garbage\n`,
  (r: R) => `monotonic 010 0.5\n`,
];
const BAD_WRITES = [
  () => '',
  () => '\n',
  () => 'monotonic 1\n',
  () => 'realtime 1 0\n',
  () => '0 1 0\n',
  () => '4 1 0\n',
  () => 'MONOTONIC 1 0\n',
  () => 'monotonic 0x10 0\n',
  () => 'monotonic 1 -1\n',
  () => 'monotonic 1 1000000000\n',
  () => 'monotonic +10 0\n',
  () => 'monotonic 1 0\n\nboottime 1 0\n',
  () => 'monotonic 1 0\nbogus 1 0\n',
  () => 'monotonic 10 0\n   ',
  () => `monotonic 1 0\n${' '.repeat(4096)}`,
];
const RANGE_WRITES = [
  () => 'monotonic 9223372037 0\n',
  () => 'boottime -9223372037 0\n',
  () => 'boottime 4611686018 0\n',
  () => 'monotonic -99999999 0\n',
  () => 'monotonic 1 0\nboottime 9999999999 0\n',
];

class R {
  constructor(readonly next: () => number) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The shadow state: a model world plus the scenario names of its tasks. */
class Shadow {
  world: World;
  names = new Map<number, string>();
  n = 0;
  constructor() {
    // The same host facts as the harness's world, so both agree on which opens succeed and which fds they return.
    this.world = createWorld({ firstPid: 1000, rootCaps: capsFromMask(hostCapEff()), alarmClocks: hostHasRtc() });
    this.names.set(1000, 'A');
  }
  tasks(): Task[] {
    return Object.values(this.world.tasks);
  }
  running(): Task[] {
    return this.tasks().filter((t) => t.state === 'running');
  }
  /** Tasks that can take a command: running and not asleep in vfork. */
  ready(): Task[] {
    const blocked = new Set(this.running().map((t) => t.vforkDoneFor).filter((x): x is number => x !== null));
    return this.running().filter((t) => !blocked.has(t.tid));
  }
  name(tid: number): string {
    return this.names.get(tid)!;
  }
  fds(t: Task): number[] {
    if (t.files === null) return [];
    return Object.keys(this.world.fdtables[t.files].fds)
      .map(Number)
      .filter((fd) => fd > 2);
  }
  fileKind(t: Task, fd: number) {
    const e = this.world.fdtables[t.files!].fds[fd];
    return this.world.files[e.file];
  }
  threads(t: Task): number {
    return this.running().filter((o) => o.tgid === t.tgid).length;
  }
}

type Gen = (r: R, s: Shadow, t: Task) => ScenarioOp | null;

const CLONE3_FLAGS = ['0', 'NEWTIME', 'NEWTIME|VM', 'NEWTIME|VM|VFORK', 'VM|VFORK', 'NEWUSER|NEWTIME', 'NEWTIME|NEWUTS', 'VM', 'NEWUSER'];

const gens: [number, Gen][] = [
  [5, () => ({ call: 'fork' })],
  [2, () => ({ call: 'vfork' })],
  [3, (r, s, t) => (s.threads(t) < 3 ? { call: 'clone', flags: THREAD } : null)],
  [2, () => ({ call: 'clone', flags: 'VM|SIGCHLD' })],
  [1, (r) => ({ call: 'clone', flags: r.pick(['NEWTIME|SIGCHLD', 'SIGCHLD', 'NEWUTS|SIGCHLD', 'NEWUSER|SIGCHLD']) })],
  [5, (r) => ({ call: 'clone3', flags: r.pick(CLONE3_FLAGS), exit_signal: 17, size: 88 })],
  [1, (r) => r.pick<ScenarioOp>([
    { call: 'clone3', flags: 0, exit_signal: 17, size: 63 },
    { call: 'clone3', flags: 'DETACHED', exit_signal: 17, size: 88 },
    { call: 'clone3', flags: 'THREAD|SIGHAND|VM', exit_signal: 17, size: 88 },
    { call: 'clone3', flags: 'NEWTIME', exit_signal: 65, size: 88 },
  ])],
  [7, (r) => ({ call: 'unshare', flags: r.pick(['NEWTIME', 'NEWTIME', 'NEWTIME', 'NEWUSER|NEWTIME', 'NEWUSER', 'THREAD', 'VM', 1, 'PARENT', 'NEWTIME|NEWUTS']) })],
  [
    8,
    (r, s, t) => {
      const who = r.pick(s.tasks());
      const nm = who.tid === t.tid && r.chance(0.5) ? 'self' : `{${s.name(who.tid)}}`;
      const what = r.pick(['ns/time', 'ns/time_for_children', 'timens_offsets', 'timens_offsets', 'timens_offsets', 'ns/user']);
      const mode = what === 'timens_offsets' ? r.pick(['r', 'w', 'rw'] as const) : 'r';
      return { call: 'open', path: `/proc/${nm}/${what}`, mode, ...(r.chance(0.25) ? { cloexec: true } : {}) };
    },
  ],
  [1, (r) => ({ call: 'open', path: r.pick(['/proc/uptime', '/proc/stat', '/proc/sys/user/max_time_namespaces']), mode: 'r' })],
  [1, (r) => ({ call: 'open', path: '/proc/sys/user/max_time_namespaces', mode: r.pick(['w', 'rw'] as const) })],
  [3, (r, s) => ({ call: 'pidfd_open', pid: s.name(r.pick(s.tasks()).tid), flags: 0 })],
  [
    8,
    (r, s, t) => {
      const fds = s.fds(t).filter((fd) => ['nsfs', 'pidfd'].includes(s.fileKind(t, fd).kind));
      if (fds.length === 0) return null;
      const fd = r.pick(fds);
      const kind = s.fileKind(t, fd).kind;
      const nstype = kind === 'pidfd' ? r.pick(['NEWTIME', 'NEWTIME', 0, 'NEWTIME|NEWUSER', 'NEWUTS']) : r.pick(['NEWTIME', 'NEWTIME', 0, 'NEWUTS']);
      return { call: 'setns', fd, nstype: flagsOf(nstype) };
    },
  ],
  [
    12,
    (r, s, t) => {
      const fds = s.fds(t).filter((fd) => s.fileKind(t, fd).kind === 'timens_offsets' || (s.fileKind(t, fd).kind === 'sysctl' && r.chance(0.3)));
      if (fds.length === 0) return null;
      const fd = r.pick(fds);
      if (s.fileKind(t, fd).kind === 'sysctl') return { call: 'write', fd, data: `${r.pick([0, 1, 2, 5, 100])}\n` };
      const p = r.next();
      const data = p < 0.6 ? r.pick(GOOD_WRITES)(r) : p < 0.85 ? r.pick(BAD_WRITES)() : r.pick(RANGE_WRITES)();
      if (r.chance(0.05)) return { call: 'pwrite', fd, data, offset: r.pick([0, 5]) };
      return { call: 'write', fd, data };
    },
  ],
  [
    5,
    (r, s, t) => {
      const fds = s.fds(t).filter((fd) => ['timens_offsets', 'proc_text', 'sysctl'].includes(s.fileKind(t, fd).kind));
      if (fds.length === 0) return null;
      return { call: 'read', fd: r.pick(fds), count: r.pick([200, 200, 10, 64]) };
    },
  ],
  [
    2,
    (r, s, t) => {
      const fds = s.fds(t).filter((fd) => s.fileKind(t, fd).kind === 'timens_offsets');
      if (fds.length === 0) return null;
      return { call: 'lseek', fd: r.pick(fds), offset: r.pick([0, 0, 1, 10]), whence: r.pick(['SET', 'SET', 'CUR'] as const) };
    },
  ],
  [
    3,
    (r, s, t) => {
      const fds = s.fds(t);
      if (fds.length === 0) return null;
      return r.chance(0.8) ? { call: 'close', fd: r.pick(fds) } : { call: 'dup', fd: r.pick(fds), ...(r.chance(0.5) ? { cloexec: true } : {}) };
    },
  ],
  [8, (r) => ({ call: 'clock_gettime', clockid: r.pick([0, 1, 1, 1, 2, 3, 4, 5, 6, 7, 7, 7, 8, 9, 10, 11]) })],
  [
    3,
    (r, s) => {
      const who = r.pick(s.tasks());
      return { call: 'readlink', path: `/proc/{${s.name(who.tid)}}/ns/${r.pick(['time', 'time_for_children'])}` };
    },
  ],
  [2, (r) => r.pick<ScenarioOp>([{ call: 'setresuid', ruid: 1000, euid: 1000, suid: 1000 }, { call: 'setresuid', ruid: -1, euid: 1000, suid: -1 }, { call: 'setresuid', ruid: -1, euid: 0, suid: -1 }])],
  [1, (r) => ({ call: 'capset', caps: r.pick([[], ['CAP_SYS_TIME'], ['CAP_SYS_ADMIN'], ['CAP_SYS_ADMIN', 'CAP_SYS_TIME', 'CAP_SYS_PTRACE']]) })],
  [4, () => ({ call: 'execve' })],
  [4, (r, s, t) => (t.tid === 1000 && r.chance(0.7) ? null : { call: r.chance(0.7) ? 'exit_group' : 'exit', code: r.int(0, 3) })],
  [
    4,
    (r, s, t) => {
      const kids = s.tasks().filter((c) => c.ppid === t.tgid && c.tid === c.tgid);
      if (kids.length === 0 && r.chance(0.7)) return null;
      return { call: 'wait', target: kids.length && r.chance(0.6) ? s.name(r.pick(kids).tid) : -1 };
    },
  ],
];
const TOTAL_WEIGHT = gens.reduce((a, [w]) => a + w, 0);

/** The model op the harness would build (without live bindings), for the shadow world. */
function shadowOp(s: Shadow, tid: number, o: ScenarioOp): Op {
  const name = (v: unknown) => {
    if (typeof v === 'number') return v;
    for (const [t, n] of s.names) if (n === v) return t;
    throw new Error(`unbound ${String(v)}`);
  };
  const path = (p: string) => p.replace(/\{([^}]+)\}/g, (_, n: string) => String(name(n)));
  const base = { tid } as Record<string, unknown>;
  switch (o.call) {
    case 'clone':
      return { call: 'clone', tid, flags: flagsOf(o.flags) };
    case 'clone3':
      return { call: 'clone3', tid, flags: flagsOf(o.flags), exit_signal: o.exit_signal as number, size: o.size as number };
    case 'unshare':
      return { call: 'unshare', tid, flags: flagsOf(o.flags) };
    case 'open':
      return { call: 'open', tid, path: path(o.path as string), mode: o.mode as 'r', ...(o.cloexec ? { cloexec: true } : {}) };
    case 'readlink':
      return { call: 'readlink', tid, path: path(o.path as string) };
    case 'pidfd_open':
      return { call: 'pidfd_open', tid, pid: name(o.pid) as number, flags: 0 };
    case 'wait':
      return { call: 'wait', tid, target: o.target === -1 ? -1 : (name(o.target) as number) };
    case 'execve':
      return { call: 'execve', tid, path: '@self' };
    case 'setns':
      return { call: 'setns', tid, fd: o.fd as number, nstype: o.nstype as number };
    default:
      return { ...o, ...base } as unknown as Op;
  }
}

/** A random scenario of `min`..`max` ops. */
export function generate(seed: number, min = 10, max = 30): Scenario {
  const r = new R(rng(seed));
  const s = new Shadow();
  const want = r.int(min, max);
  const ops: ScenarioOp[] = [];
  let guard = 0;
  while (ops.length < want && guard++ < want * 50) {
    const ready = s.ready();
    if (ready.length === 0) break;
    const t = r.pick(ready);
    let x = r.next() * TOTAL_WEIGHT;
    let g: Gen = gens[0][1];
    for (const [w, f] of gens) {
      if ((x -= w) < 0) {
        g = f;
        break;
      }
    }
    const o = g(r, s, t);
    if (!o) continue;
    if (s.tasks().length >= 9 && ['fork', 'vfork', 'clone', 'clone3'].includes(o.call)) continue;
    const tname = s.name(t.tid);
    const op: ScenarioOp = { ...o, ...(tname !== 'A' ? { task: tname } : {}) };
    const tid0 = t.tid;
    const tgid0 = t.tgid;
    const out = apply(s.world, shadowOp(s, tid0, o));
    if (['fork', 'vfork', 'clone', 'clone3'].includes(o.call) && !out.errno) {
      const nm = `t${++s.n}`;
      s.names.set(out.ret, nm);
      op.as = nm;
    }
    if (o.call === 'execve' && !out.errno && tid0 !== tgid0) {
      // A non-leader thread exec'd: it took the leader's pid (de_thread).
      s.names.delete(tid0);
      s.names.set(tgid0, tname);
    }
    ops.push(op);
  }
  return { name: `random seed ${seed}`, ops };
}

/** The mismatch's kind, without the numbers that change from run to run. */
function kind(m: Mismatch): string {
  return m.what.replace(/-?\d+(\.\d+)?/g, 'N');
}

/** Delta debugging (ddmin over chunks of ops): the smallest op list that still fails with the same kind. */
export async function minimize(scenario: Scenario, first: Mismatch, opts: RunOptions = {}, budget = 60): Promise<{ scenario: Scenario; mismatch: Mismatch }> {
  const want = kind(first);
  let ops = scenario.ops.slice(0, first.index + 1);
  let best = first;
  let runs = 0;
  const fails = async (cand: ScenarioOp[]): Promise<Mismatch | null> => {
    runs++;
    const r = await runScenario({ ...scenario, ops: cand }, { ...opts, allowSkip: true, checkExpect: false });
    return r.mismatch && kind(r.mismatch) === want ? r.mismatch : null;
  };
  let n = 2;
  while (ops.length >= 2 && runs < budget) {
    const chunk = Math.ceil(ops.length / n);
    let reduced = false;
    for (let i = 0; i < ops.length && runs < budget; i += chunk) {
      const cand = [...ops.slice(0, i), ...ops.slice(i + chunk)];
      const m = await fails(cand);
      if (m) {
        ops = cand.slice(0, m.index + 1);
        best = m;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (chunk <= 1) break;
      n = Math.min(n * 2, ops.length);
    }
  }
  return { scenario: { ...scenario, name: `${scenario.name} (minimized)`, ops }, mismatch: best };
}

/** Run one random seed; null when the model agrees, else a report with the seed and a minimized scenario. */
export async function checkRandom(seed: number, opts: RunOptions = {}): Promise<string | null> {
  const sc = generate(seed);
  const r = await runScenario(sc, opts);
  if (!r.mismatch) return null;
  const min = await minimize(sc, r.mismatch, opts);
  return [
    `random scenario seed ${seed} (replay: TNS_SEED=${seed} TNS_RANDOM=1 npx vitest run test/differential.test.ts)`,
    r.mismatch.report,
    '',
    `minimized to ${min.scenario.ops.length} ops:`,
    JSON.stringify(min.scenario.ops),
    min.mismatch.report,
  ].join('\n');
}
