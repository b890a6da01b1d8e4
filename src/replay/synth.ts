/**
 * synth: a large, VALID, random workload of namespace activity for load tests and benchmarks.
 *
 * One mutable world (no immer) is driven by a seeded PRNG: many tasks (forks, threads, exec, exit, wait),
 * time namespaces (unshare, offset writes before and after the first entry, setns by nsfs fd and by pidfd), reads
 * of the offsets file, readlink of ns links, clock reads, host time passing, and the errors these produce
 * (EACCES on a frozen namespace, EINVAL on bad offsets text / bad clock ids / wrong nstype, EPERM after setresuid
 * away from root, EUSERS from a multithreaded setns, ENOSPC when max_time_namespaces is lowered, EBADF, ECHILD,
 * ERANGE, ENOENT from exec). Each event's outcome is what the model says at generation time (recorded: false), so
 * replay re-derives it exactly. The same seed gives the same bytes.
 *
 * The generator never asks the model for something it would call misuse (ModelError): only running tasks act,
 * only existing fds are named unless an EBADF is wanted, pids come from the model.
 */
import { cleanOutcome } from './outcome.js';
import { apply, CLONE, CLOCK, createWorld, type Op, type Outcome, type World, type WorldOptions } from '../kernel/index.js';
import type { EventInput } from '../events/index.js';
import { existsSync, statSync } from 'node:fs';
import { createLedger, type FsyncPolicy } from '../ledger/index.js';

export interface SynthOptions {
  /** Number of records to produce (the leading marker.genesis counts as one). */
  events: number;
  seed?: number;
  /** Kernel profile (default 6.3+). */
  profile?: string;
  /** Soft bounds on the number of live tasks (default 16..48). */
  minTasks?: number;
  maxTasks?: number;
}

/** The world a synth ledger starts from: its first record, marker.genesis, says so. */
export function synthWorldOptions(opts: Pick<SynthOptions, 'profile'> = {}): WorldOptions {
  return { profile: opts.profile ?? '6.3+', firstPid: 1 };
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}


/**
 * The generator state: a mutable world plus the live task list kept in step with it. Produces batches of
 * EventInput. Exposed as a class so the bench and tests can drive it without a file.
 */
export class Synth {
  readonly world: World;
  private readonly rnd: () => number;
  private live: number[] = [];
  /** Zombie group leaders whose parent is in the model (waiting to be reaped). */
  private zombies: number[] = [];
  private produced = 0;
  private readonly minTasks: number;
  private readonly maxTasks: number;
  /** max_time_namespaces was lowered (ENOSPC phase); restored a few hundred events later. */
  private limitUntil = -1;

  constructor(readonly opts: SynthOptions) {
    this.world = createWorld(synthWorldOptions(opts));
    this.rnd = prng(opts.seed ?? 1);
    this.minTasks = opts.minTasks ?? 16;
    this.maxTasks = opts.maxTasks ?? 48;
    this.resync();
  }

  get count(): number {
    return this.produced;
  }

  /** Up to `n` more records (fewer only at the end). */
  next(n: number): EventInput[] {
    const out: EventInput[] = [];
    const w = this.world;
    if (this.produced === 0 && n > 0 && this.opts.events > 0) {
      const host = { monotonic: { ...w.host.monotonic }, boottime: { ...w.host.boottime }, realtime: { ...w.host.realtime } };
      out.push({
        op: { call: 'marker.genesis', world: { profile: w.profile, host, firstPid: 1, rootCaps: [...w.rootCaps], alarmClocks: w.alarmClocks } },
        at: host,
        note: `tns synth --seed ${this.opts.seed ?? 1}`,
      });
      this.produced++;
    }
    while (out.length < n && this.produced < this.opts.events) {
      const op = this.pick();
      const tid = 'tid' in op ? op.tid : undefined;
      const caller = tid !== undefined ? { tid, tgid: w.tasks[tid].tgid } : undefined;
      const pid = caller?.tgid;
      const outcome = cleanOutcome(apply(w, op));
      this.after(op, outcome, caller);
      const rec: EventInput = { op, outcome, recorded: false };
      if (pid !== undefined) rec.pid = pid;
      out.push(rec);
      this.produced++;
    }
    return out;
  }

  private r(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  private chance(p: number): boolean {
    return this.rnd() < p;
  }
  private any<T>(xs: readonly T[]): T {
    return xs[this.r(xs.length)];
  }

  /** Rebuild the list of running tasks from the world (after ops that can remove tasks). */
  private resync(): void {
    const live: number[] = [];
    const zombies: number[] = [];
    const tasks = this.world.tasks;
    for (const k in tasks) {
      const t = tasks[k];
      if (t.state === 'running') live.push(t.tid);
      else if (t.tid === t.tgid && tasks[t.ppid]?.state === 'running') zombies.push(t.tid);
    }
    this.live = live;
    this.zombies = zombies;
  }

  /** Keep the live and zombie lists in step with the world after an op (without scanning every task). */
  private after(op: Op, o: Outcome, caller: { tid: number; tgid: number } | undefined): void {
    const w = this.world;
    if (o.errno !== undefined) return;
    switch (op.call) {
      case 'fork':
      case 'clone':
      case 'clone3':
        this.live.push(o.ret);
        return;
      case 'exit':
      case 'exit_group': {
        const tgid = caller!.tgid;
        this.live = this.live.filter((x) => w.tasks[x] !== undefined && w.tasks[x].state === 'running');
        // Reparented zombies were reaped by the model; the exiting group may now be a zombie its parent can reap.
        this.zombies = this.zombies.filter((z) => w.tasks[z] !== undefined && w.tasks[w.tasks[z].ppid]?.state === 'running');
        const leader = w.tasks[tgid];
        if (leader && leader.state === 'zombie' && w.tasks[leader.ppid]?.state === 'running' && !this.zombies.includes(tgid)) {
          let groupDone = true;
          for (const x of this.live) if (w.tasks[x].tgid === tgid) groupDone = false;
          if (groupDone) this.zombies.push(tgid);
        }
        return;
      }
      case 'execve': {
        // de_thread: the other threads are gone; a non-leader caller now has the leader's pid.
        const tgid = caller!.tgid;
        this.live = this.live.filter((x) => w.tasks[x] !== undefined && w.tasks[x].state === 'running' && (w.tasks[x].tgid !== tgid || x === tgid));
        if (!this.live.includes(tgid)) this.live.push(tgid);
        return;
      }
      case 'wait':
        this.zombies = this.zombies.filter((z) => z !== o.ret);
        return;
    }
  }

  /** Open fds of a task whose file matches `kind`. */
  private fdsOf(tid: number, kind?: string): number[] {
    const t = this.world.tasks[tid];
    if (t.files === null) return [];
    const fds = this.world.fdtables[t.files].fds;
    const out: number[] = [];
    for (const k in fds) {
      if (kind === undefined || this.world.files[fds[k].file].kind === kind) out.push(Number(k));
    }
    return out;
  }

  private threadsOf(tgid: number): number {
    let n = 0;
    for (const t of this.live) if (this.world.tasks[t].tgid === tgid) n++;
    return n;
  }

  private pick(): Op {
    const w = this.world;
    // The ENOSPC phase ends: the admin raises the limit again.
    if (this.limitUntil >= 0 && this.produced >= this.limitUntil) {
      this.limitUntil = -1;
      return { call: 'host.sysctl', name: 'user.max_time_namespaces', value: 96364 };
    }
    const n = this.live.length;
    const tid = this.any(this.live);
    const t = w.tasks[tid];
    const x = this.rnd();
    // Population control: grow when small, shrink when large.
    if (n < this.minTasks && x < 0.5) return this.forkOp(tid);
    if (n > this.maxTasks && x < 0.5) return this.exitOp();
    if (x < 0.07) return this.forkOp(tid);
    if (x < 0.1) return this.exitOp();
    if (x < 0.13 || this.zombies.length > 8) return this.waitOp();
    if (x < 0.2) {
      // unshare: mostly a new time namespace, sometimes with others, sometimes bad flags (EINVAL).
      const r = this.rnd();
      const flags = r < 0.75 ? CLONE.NEWTIME : r < 0.95 ? CLONE.NEWTIME | CLONE.NEWUTS | CLONE.NEWNS : 0x1;
      return { call: 'unshare', tid, flags };
    }
    if (x < 0.27) return this.offsetsOp(tid);
    if (x < 0.33) return this.setnsOp(tid);
    if (x < 0.38) {
      // execve: T := C; sometimes the file is not there.
      return this.chance(0.1) ? { call: 'execve', tid, path: '/nonexistent', fsError: 'ENOENT' } : { call: 'execve', tid, path: '/bin/true' };
    }
    if (x < 0.52) {
      const r = this.rnd();
      const clockid = r < 0.45 ? CLOCK.MONOTONIC : r < 0.8 ? CLOCK.BOOTTIME : r < 0.95 ? CLOCK.REALTIME : 99;
      return { call: 'clock_gettime', tid, clockid };
    }
    if (x < 0.6) {
      const r = this.rnd();
      return r < 0.7 ? { call: 'host.advance', sec: this.r(3), nsec: this.r(1e9) } : { call: 'host.suspend', sec: this.r(60), nsec: 0 };
    }
    if (x < 0.66) {
      const target = this.chance(0.8) ? 'self' : String(this.any(this.live));
      return { call: 'readlink', tid, path: `/proc/${target}/ns/${this.chance(0.5) ? 'time' : 'time_for_children'}` };
    }
    if (x < 0.72) {
      // close: usually an open fd above 2, sometimes one that is not open (EBADF).
      const fds = this.fdsOf(tid).filter((fd) => fd > 2);
      if (fds.length > 0 && this.chance(0.9)) return { call: 'close', tid, fd: this.any(fds) };
      return { call: 'close', tid, fd: 900 + this.r(50) };
    }
    if (x < 0.75) {
      // Drop root: later unshare/setns by this task get EPERM.
      if (t.cred.euid === 0 && t.tgid !== 1 && this.chance(0.12)) return { call: 'setresuid', tid, ruid: 1000, euid: 1000, suid: 1000 };
      return { call: 'clock_gettime', tid, clockid: CLOCK.MONOTONIC };
    }
    if (x < 0.77) {
      // A thread: makes setns(time) EUSERS for its group.
      if (this.threadsOf(t.tgid) < 3) return { call: 'clone', tid, flags: CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD };
      return this.forkOp(tid);
    }
    if (x < 0.79) {
      if (this.limitUntil < 0 && this.chance(0.01)) {
        this.limitUntil = this.produced + 100 + this.r(200);
        return { call: 'host.sysctl', name: 'user.max_time_namespaces', value: this.r(4) };
      }
      return { call: 'pidfd_open', tid, pid: this.any(this.live), flags: 0 };
    }
    if (x < 0.82) {
      const api = this.any(['clock_nanosleep', 'timer_settime', 'timerfd_settime'] as const);
      return { call: 'timer_abs', tid, api, clockid: this.chance(0.5) ? CLOCK.MONOTONIC : CLOCK.BOOTTIME, deadline: { sec: 500 + this.r(5000), nsec: this.r(1e9) } };
    }
    // The rest: offset files and namespace files again (the heart of the workload).
    return this.chance(0.5) ? this.offsetsOp(tid) : this.setnsOp(tid);
  }

  private forkOp(tid: number): Op {
    const r = this.rnd();
    if (r < 0.7) return { call: 'fork', tid };
    if (r < 0.85) return { call: 'clone', tid, flags: 17 };
    // clone3 with CLONE_NEWTIME (6.3+) — a fresh time namespace for the child only.
    return { call: 'clone3', tid, flags: CLONE.NEWTIME, exit_signal: 17, size: 88 };
  }

  private exitOp(): Op {
    const w = this.world;
    // Unprivileged tasks go first half of the time, so the population stays mostly root (and able to unshare).
    const all = this.live.filter((x) => x !== 1);
    const unpriv = all.filter((x) => w.tasks[x].cred.euid !== 0);
    const candidates = unpriv.length > 0 && this.chance(0.3) ? unpriv : all;
    if (candidates.length === 0) return { call: 'host.advance', sec: 0, nsec: 1000 };
    const tid = this.any(candidates);
    const t = w.tasks[tid];
    if (t.tid !== t.tgid) return { call: 'exit', tid, code: 0 };
    return { call: 'exit_group', tid, code: this.r(3) };
  }

  private waitOp(): Op {
    const w = this.world;
    // A parent reaps one of its zombie children (by pid or any); otherwise a random task waits (ECHILD / EAGAIN).
    if (this.zombies.length > 0 && this.chance(0.9)) {
      const z = w.tasks[this.any(this.zombies)];
      const parent = w.tasks[z.ppid];
      return { call: 'wait', tid: parent.tid, target: this.chance(0.5) ? -1 : z.tid };
    }
    return { call: 'wait', tid: this.any(this.live), target: -1 };
  }

  /** The offsets file: open, write (ok before the first entry, EACCES after), read back, bad text, lseek. */
  private offsetsOp(tid: number): Op {
    // Prefer the task's own offsets file (an inherited one may name a parent that is gone: ESRCH).
    const all = this.fdsOf(tid, 'timens_offsets');
    const tgid = this.world.tasks[tid].tgid;
    const own = all.filter((fd) => (this.world.files[this.world.fdtables[this.world.tasks[tid].files!].fds[fd].file] as { pid: number }).pid === tgid);
    const fds = own.length > 0 && this.chance(0.85) ? own : all;
    if (fds.length === 0 || this.chance(0.2)) return { call: 'open', tid, path: '/proc/self/timens_offsets', mode: 'rw', cloexec: this.chance(0.3) };
    const fd = this.any(fds);
    const r = this.rnd();
    if (r < 0.45) {
      const mono = this.r(100000) - 500;
      const boot = this.r(100000) - 500;
      const e = this.rnd();
      const data =
        e < 0.85
          ? `monotonic ${mono} ${this.r(1e9)}\nboottime ${boot} 0\n`
          : e < 0.93
            ? `monotonic ${mono} 1000000000\n` // nsec not below a second: EINVAL
            : e < 0.97
              ? `realtime ${mono} 0\n` // no realtime offset: EINVAL
              : `monotonic -5000 0\n`; // host 1000 s − 5000 s < 0: ERANGE
      return { call: 'write', tid, fd, data };
    }
    if (r < 0.8) return { call: 'read', tid, fd, count: 4096 };
    return { call: 'lseek', tid, fd, offset: 0, whence: 'SET' };
  }

  /** setns: open a time ns link (own or another task's), join by fd (ok / EUSERS / EPERM / EINVAL), or by pidfd. */
  private setnsOp(tid: number): Op {
    const nsfds = this.fdsOf(tid, 'nsfs');
    const r = this.rnd();
    if (nsfds.length === 0 || r < 0.3) {
      const target = this.any(this.live);
      return { call: 'open', tid, path: `/proc/${target}/ns/${this.chance(0.7) ? 'time_for_children' : 'time'}`, mode: 'r', cloexec: true };
    }
    if (r < 0.85) return { call: 'setns', tid, fd: this.any(nsfds), nstype: this.chance(0.9) ? CLONE.NEWTIME : CLONE.NEWUTS };
    const pidfds = this.fdsOf(tid, 'pidfd');
    if (pidfds.length > 0) return { call: 'setns', tid, fd: this.any(pidfds), nstype: CLONE.NEWTIME };
    return { call: 'setns', tid, fd: 800 + this.r(10), nstype: CLONE.NEWTIME };
  }
}

export interface WriteSynthResult {
  events: number;
  lastSeq: number;
  bytes: number;
  ms: number;
}

export interface WriteSynthOptions extends SynthOptions {
  /** Records per append call (default 4096). */
  chunk?: number;
  /** fsync policy of the writer (default 'batch': one fsync per group of records). */
  fsync?: FsyncPolicy;
  /** Records per group commit (default 4096). */
  groupSize?: number;
  /** Replace an existing ledger (and its sidecars). Without it an existing non-empty file is refused. */
  force?: boolean;
  onProgress?: (written: number, total: number) => void;
  /** Where warnings go (a stale lock taken over); default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

/** Write a synth workload to a new ledger with the ledger writer (hash chain, group commit). */
export function writeSynth(path: string, opts: WriteSynthOptions): WriteSynthResult {
  if (!Number.isSafeInteger(opts.events) || opts.events < 1) throw new RangeError(`events: expected an integer ≥ 1, got ${opts.events}`);
  // Replacing a ledger: createLedger takes its writer lock before removing it (a ledger another live process is
  // writing is never removed) and holds it until the new one is written.
  const replace = existsSync(path) && statSync(path).size > 0;
  if (replace && !opts.force) throw new SynthTargetError(path);
  const t0 = performance.now();
  const synth = new Synth(opts);
  // The new ledger is written to a temporary file and put in place by close(): a run that fails leaves the old
  // ledger (or no file) as it was. (An existing empty file is replaced without --force, as before.)
  const writer = createLedger(path, { replace: existsSync(path), fsync: opts.fsync ?? 'batch', batchSize: opts.groupSize ?? 4096, ...(opts.onWarning ? { onWarning: opts.onWarning } : {}) });
  let lastSeq = 0;
  try {
    for (;;) {
      const batch = synth.next(opts.chunk ?? 4096);
      if (batch.length === 0) break;
      lastSeq = writer.append(batch).lastSeq;
      opts.onProgress?.(synth.count, opts.events);
    }
  } catch (e) {
    writer.abort();
    throw e;
  }
  writer.close();
  return { events: synth.count, lastSeq, bytes: statSync(path).size, ms: performance.now() - t0 };
}

/** The target ledger exists and --force was not given. */
export class SynthTargetError extends Error {
  override name = 'SynthTargetError';
  constructor(readonly path: string) {
    super(`${path}: exists and is not empty; synth writes a new ledger (use --force to replace it)`);
  }
}
