/**
 * The model against the real kernel, event by event: replay with the recorded outcomes as the truth and report
 * every divergence (the line, pid, call, what the kernel returned, what the model predicts and the model's rule).
 *
 * Two worlds: a lead world applies each event as it arrives (it gives each clock reading its namespace offsets, so
 * the host clock estimate can look ahead), and the judge world applies events when they leave the estimate's
 * window and compares outcomes. "Recorded outcomes as the truth": when the kernel refused a call the model would
 * have allowed, the model's change is rolled back; when the kernel allowed one the model refuses, there is nothing
 * the model could apply, and the divergence says so.
 */
import {
  apply,
  createWorld,
  ModelError,
  type Op,
  type Outcome,
  type Timespec,
  type World,
  type WorldOptions,
  type Cap,
} from '../kernel/index.js';
import { InumBinding, parseNsText } from './binding.js';
import {
  activeOffsets,
  clockBase,
  ClockWindow,
  importWorldOptions,
  sampleOf,
  type ClockJudgement,
  type ClockSample,
  type SampleAt,
  type TraceEvent,
  TraceImport,
  type ImportStats,
} from './trace-to-ops.js';
import { readStrace, readStraceFf, StraceParseError, type StraceReader, type StraceRecord } from './strace/index.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface AppliedOutcome {
  outcome: Outcome;
  /** The model could not run the op at all (an unknown task, a binding conflict): the message. */
  modelError?: string;
}

const PURE = new Set<Op['call']>(['clock_gettime', 'readlink', 'timer_abs']);

/**
 * apply() with the recorded outcome as the truth: a call the kernel refused leaves no trace in the model even when
 * the model would have allowed it. Model errors (unknown task, ...) are returned, not thrown.
 */
export function applyWithTruth(world: World, op: Op, recorded: Outcome | undefined): AppliedOutcome {
  const snap = recorded?.errno !== undefined && !PURE.has(op.call) ? structuredClone(world) : null;
  try {
    const outcome = apply(world, op);
    if (snap && outcome.errno === undefined) restore(world, snap);
    return { outcome };
  } catch (e) {
    if (snap) restore(world, snap);
    const msg = e instanceof Error ? e.message : String(e);
    return { outcome: { ret: -1, rule: msg }, modelError: e instanceof ModelError ? msg : `model invariant: ${msg}` };
  }
}

function restore(world: World, snap: World): void {
  for (const k of Object.keys(world) as (keyof World)[]) (world as unknown as Record<string, unknown>)[k] = snap[k];
}

export interface Divergence {
  seq: number;
  line: number | null;
  file?: string;
  pid: number | null;
  call: string;
  recorded: string;
  model: string;
  /** One line: the model's rule, or why the comparison failed. */
  reason: string;
}

export interface CheckSummary {
  tasks: number;
  namespaces: { created: number; entered: number; freed: number };
  offsetsWritten: number;
  denied: { EPERM: number; EACCES: number; EUSERS: number; ENOSPC: number };
}

export interface CheckResult {
  profile: string;
  events: number;
  checked: number;
  skipped: number;
  /** Clock readings that only anchored the host clock estimate (nothing to compare them with). */
  anchors: number;
  /** Their source lines (the first 1000). */
  anchorLines: number[];
  divergences: Divergence[];
  summary: CheckSummary;
}

export interface CheckerOptions {
  profile?: string;
  /** World options (default: importWorldOptions(profile, rootCaps)). */
  world?: WorldOptions;
  rootCaps?: Cap[];
  /** Stop collecting divergences after this many (the count in `divergenceCount` goes on). */
  maxDivergences?: number;
}

export interface CheckEvent extends TraceEvent {
  seq: number;
}

const NS_CHANGING = new Set<Op['call']>([
  'fork',
  'vfork',
  'clone',
  'clone3',
  'unshare',
  'setns',
  'execve',
  'exit',
  'exit_group',
  'wait',
  'close',
  'host.spawn',
  'open',
]);

function fmtTs(t: Timespec | undefined): string {
  if (!t) return '';
  return ` {${t.sec}.${String(t.nsec).padStart(9, '0')}}`;
}

function secs(t: Timespec): number {
  return t.sec + t.nsec / 1e9;
}

export function showOutcome(o: Outcome | undefined): string {
  if (!o) return '(none)';
  if (o.errno) return `-1 ${o.errno}`;
  const text = o.text !== undefined ? ` ${JSON.stringify(o.text.length > 80 ? `${o.text.slice(0, 80)}…` : o.text)}` : '';
  return `${o.ret}${text}${fmtTs(o.ts)}`;
}

function callOf(ev: TraceEvent): string {
  const op = ev.op as Record<string, unknown>;
  const arg = typeof op.path === 'string' ? ` ${op.path}` : typeof op.fd === 'number' && ev.call !== 'open' ? ` fd ${op.fd}` : '';
  return `${ev.call}${arg}`;
}

export class TraceChecker {
  readonly profile: string;
  private readonly lead: World;
  private readonly judge: World;
  private readonly win = new ClockWindow<CheckEvent>();
  private readonly binding = new InumBinding();
  private readonly divergences: Divergence[] = [];
  private divergenceCount = 0;
  private events = 0;
  private checked = 0;
  private anchors = 0;
  private readonly anchorLines: number[] = [];
  private readonly tasks = new Set<number>();
  private live = new Set<number>();
  private readonly summary: CheckSummary = {
    tasks: 0,
    namespaces: { created: 0, entered: 0, freed: 0 },
    offsetsWritten: 0,
    denied: { EPERM: 0, EACCES: 0, EUSERS: 0, ENOSPC: 0 },
  };

  constructor(private readonly opts: CheckerOptions = {}) {
    const wopts = opts.world ?? importWorldOptions(opts.profile ?? '6.3+', opts.rootCaps);
    this.lead = createWorld(wopts);
    this.judge = createWorld(wopts);
    this.profile = this.judge.profile;
    for (const k of Object.keys(this.judge.namespaces)) this.live.add(Number(k));
  }

  push(ev: CheckEvent): void {
    this.events++;
    const sample = this.sampleFor(ev);
    applyWithTruth(this.lead, ev.op, ev.outcome);
    for (const r of this.win.push(ev, sample, ev.t)) this.judgeEvent(r.item, r.sample);
  }

  end(skipped = 0): CheckResult {
    for (const r of this.win.end()) this.judgeEvent(r.item, r.sample);
    this.summary.tasks = this.tasks.size;
    return {
      profile: this.profile,
      events: this.events,
      checked: this.checked,
      skipped,
      anchors: this.anchors,
      anchorLines: this.anchorLines,
      divergences: this.divergences,
      summary: this.summary,
    };
  }

  get divergenceTotal(): number {
    return this.divergenceCount;
  }

  /** The clock sample an event's recorded outcome gives, judged against the lead world (before it applies the event). */
  private sampleFor(ev: TraceEvent): ClockSample | undefined {
    const o = ev.outcome;
    if (!o || o.errno !== undefined || !o.ts) return undefined;
    const op = ev.op;
    if (op.call === 'clock_gettime') {
      const b = clockBase(op.clockid);
      return b ? sampleOf(b.base, secs(o.ts), b.res, activeOffsets(this.lead, op.tid)) : undefined;
    }
    if (op.call === 'read') {
      const f = this.fileAt(this.lead, op.tid, op.fd);
      if (!f || f.kind !== 'proc_text' || f.pos !== 0) return undefined;
      const off = activeOffsets(this.lead, op.tid);
      return f.path === '/proc/uptime' ? sampleOf('boottime', secs(o.ts), 0.01, off) : sampleOf('btime', o.ts.sec, 1, off);
    }
    return undefined;
  }

  private fileAt(world: World, tid: number, fd: number) {
    const t = world.tasks[tid];
    if (!t || t.files === null) return null;
    const e = world.fdtables[t.files]?.fds[fd];
    return e ? (world.files[e.file] ?? null) : null;
  }

  private diverge(ev: CheckEvent, recorded: string, model: string, reason: string): void {
    this.divergenceCount++;
    if (this.divergences.length >= (this.opts.maxDivergences ?? Infinity)) return;
    this.divergences.push({
      seq: ev.seq,
      line: ev.src?.line ?? null,
      ...(ev.src ? { file: ev.src.file } : {}),
      pid: ev.pid ?? null,
      call: callOf(ev),
      recorded,
      model,
      reason,
    });
  }

  /** What the model's fd shows, in -yy's words (null when the model has nothing comparable). */
  private showFd(world: World, tid: number, fd: number): { text: string; nsInum?: number; nsType?: string } | null {
    const f = this.fileAt(world, tid, fd);
    if (!f) return { text: '(not open)' };
    switch (f.kind) {
      case 'nsfs':
        return { text: `${f.nsType}:[model ${f.ns}]`, nsInum: f.ns, nsType: f.nsType };
      case 'timens_offsets':
        return { text: `/proc/${f.pid}/timens_offsets` };
      case 'proc_text':
        return { text: f.path };
      case 'sysctl':
        return { text: '/proc/sys/user/max_time_namespaces' };
      case 'pidfd':
        return { text: `pid:${f.pid}` };
      default:
        return null;
    }
  }

  /** Compare a -yy annotation with the model's fd; returns the reason when they disagree. */
  private checkAnnot(tid: number, fd: number, annot: string): { model: string; reason: string } | null {
    const m = this.showFd(this.judge, tid, fd);
    if (m === null) return null;
    const ns = parseNsText(annot);
    if (ns) {
      if (m.nsInum === undefined) return { model: m.text, reason: `the kernel's fd ${fd} is ${annot}, the model's is ${m.text}` };
      if (ns.type !== m.nsType) return { model: m.text, reason: `fd ${fd}: the kernel shows a ${ns.type} namespace, the model a ${m.nsType} one` };
      const b = this.binding.see(m.nsInum, ns.inum, ns.type);
      return b.ok ? null : { model: m.text, reason: `fd ${fd}: ${b.reason}` };
    }
    if (annot === 'anon_inode:[pidfd]' && m.text.startsWith('pid:')) return null;
    if (/^pid:\d+$/.test(annot) || annot.startsWith('/proc/')) {
      return annot === m.text ? null : { model: m.text, reason: `the kernel's fd ${fd} is ${annot}, the model's is ${m.text}` };
    }
    return null;
  }

  private judgeEvent(ev: CheckEvent, sample: SampleAt | undefined): void {
    const op = ev.op;
    const w = this.judge;
    const rec = ev.outcome;
    // -yy annotation of the fd argument, before the call.
    if (ev.note && 'tid' in op) {
      const m = /^fd (-?\d+)<(.*)>$/s.exec(ev.note);
      if (m) {
        const bad = this.checkAnnot(op.tid, Number(m[1]), m[2]);
        if (bad) this.diverge(ev, `fd ${m[1]}<${m[2]}>`, bad.model, bad.reason);
      }
    }
    const offsetsFile =
      (op.call === 'write' || op.call === 'pwrite') && this.fileAt(w, op.tid, op.fd)?.kind === 'timens_offsets';
    const res = applyWithTruth(w, op, rec);
    if (op.call === 'host.spawn' && !res.modelError) this.tasks.add(op.pid);
    if ((op.call === 'fork' || op.call === 'vfork' || op.call === 'clone' || op.call === 'clone3') && op.child && w.tasks[op.child])
      this.tasks.add(op.child);
    if (NS_CHANGING.has(op.call)) this.countNamespaces();
    if (res.modelError) {
      this.diverge(ev, showOutcome(rec), 'model error', res.modelError);
      return;
    }
    if (!rec) return;
    if (rec.errno === 'EPERM' || rec.errno === 'EACCES' || rec.errno === 'EUSERS' || rec.errno === 'ENOSPC') this.summary.denied[rec.errno]++;
    if (rec.errno === undefined && op.call === 'setns') this.summary.namespaces.entered++;
    if (rec.errno === undefined && offsetsFile) this.summary.offsetsWritten++;
    this.checked++;
    const model = res.outcome;
    const bad = this.compare(ev, rec, model, sample);
    if (bad) this.diverge(ev, bad.recorded ?? showOutcome(rec), bad.model ?? showOutcome(model), bad.reason);
  }

  private countNamespaces(): void {
    const now = new Set<number>();
    for (const k of Object.keys(this.judge.namespaces)) {
      const n = Number(k);
      now.add(n);
      if (!this.live.has(n)) this.summary.namespaces.created++;
    }
    for (const n of this.live) if (!now.has(n)) this.summary.namespaces.freed++;
    this.live = now;
    this.binding.sweep(this.judge);
  }

  private compare(
    ev: CheckEvent,
    rec: Outcome,
    model: Outcome,
    sample: SampleAt | undefined,
  ): { reason: string; recorded?: string; model?: string } | null {
    const op = ev.op;
    if ((rec.errno ?? null) !== (model.errno ?? null)) return { reason: model.rule ?? (model.errno ? `the model says ${model.errno}` : 'the model allows it') };
    if (rec.errno !== undefined) return null;
    if (rec.ret !== model.ret && !(model.inexact ?? []).includes('ret')) return { reason: model.rule ?? `the model returns ${model.ret}` };
    // Texts.
    if (rec.text !== undefined) {
      if (op.call === 'readlink' && model.text !== undefined) {
        const r = parseNsText(rec.text);
        const m = parseNsText(model.text);
        if (r && m) {
          if (r.type !== m.type) return { reason: `readlink: the kernel shows a ${r.type} namespace, the model a ${m.type} one` };
          const b = this.binding.see(m.inum, r.inum, r.type);
          if (!b.ok) return { reason: b.reason, model: `${m.type}:[model ${m.inum}]` };
        } else if (rec.text !== model.text) return { reason: 'readlink: a different link text' };
      } else if ((op.call === 'open' || op.call === 'pidfd_open') && rec.ret >= 0) {
        const bad = this.checkAnnot(op.tid, rec.ret, rec.text);
        if (bad) return { reason: bad.reason, model: bad.model };
      } else if (model.text !== undefined && !(model.inexact ?? []).includes('text')) {
        const prefix = (rec.inexact ?? []).includes('text');
        if (prefix ? !model.text.startsWith(rec.text) : model.text !== rec.text)
          return { reason: `${op.call}: the model's text differs${prefix ? ' (strace cut the kernel text: compared as a prefix)' : ''}` };
      }
    }
    // Clock readings: the model's namespace offsets on the estimated host clock.
    if (rec.ts && sample && model.ts) {
      const j = this.win.clock.judge(sample);
      if (j.unchecked) {
        this.anchors++;
        if (ev.src && this.anchorLines.length < 1000) this.anchorLines.push(ev.src.endLine ?? ev.src.line);
        return null;
      }
      const expected = this.expectedReading(ev, model.ts, sample, j);
      const diff = secs(rec.ts) - expected;
      if (Math.abs(diff) > j.tol)
        return {
          reason: `${op.call === 'read' ? 'read' : 'clock'}: the reading is ${diff >= 0 ? '+' : ''}${diff.toFixed(6)} s from host ${sample.base} (estimated ${j.expected.toFixed(6)}) + the model's offsets, beyond the tolerance of ${j.tol.toFixed(3)} s`,
          model: expected.toFixed(9),
        };
    } else if (sample) {
      this.win.clock.judge(sample);
    }
    return null;
  }

  /** The reading the model predicts on the estimated host clock: estimate + (model reading − model host clock). */
  private expectedReading(ev: CheckEvent, ts: Timespec, sample: SampleAt, j: ClockJudgement): number {
    const w = this.judge;
    const h = w.host;
    let modelBase: number;
    switch (sample.base) {
      case 'monotonic':
      case 'raw':
        modelBase = secs(h.monotonic);
        break;
      case 'boottime':
        modelBase = secs(h.boottime);
        break;
      case 'tai':
        modelBase = secs(h.realtime) + w.taiOffset;
        break;
      case 'btime':
        modelBase = Math.floor(secs(h.realtime) - secs(h.boottime));
        break;
      default:
        modelBase = secs(h.realtime);
    }
    void ev;
    return j.expected + (secs(ts) - modelBase);
  }
}

export interface TraceSourceOptions {
  profile?: string;
  /** Capabilities / uid of processes adopted without a creating line (see StraceToOpsOptions). */
  spawnCaps?: Cap[];
  uid?: number;
  lenient?: boolean;
  /** Called with bytes read so far and the total (progress on a TTY). */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  maxDivergences?: number;
}

export interface TraceCheckResult extends CheckResult {
  /** What the importer skipped, by syscall name, and its warnings. */
  import: ImportStats;
  /** Lines the parser skipped (--lenient). */
  badLines: number;
  lines: number;
}

/**
 * Open strace output: one file (`strace -f -o FILE`), or a set of -ff files (`FILE.PID`, given as several paths or
 * as one directory holding them).
 */
export async function openTrace(paths: string[], opts: { lenient?: boolean; onProgress?: (a: number, b: number) => void } = {}): Promise<StraceReader> {
  const ro = { lenient: opts.lenient ?? false, onProgress: opts.onProgress };
  if (paths.length === 1) {
    const st = await stat(paths[0]).catch(() => null);
    if (st?.isDirectory()) {
      const names = (await readdir(paths[0])).filter((n) => /\.\d+$/.test(n)).map((n) => join(paths[0], n));
      if (names.length === 0) throw new StraceParseError(paths[0], 0, 'a directory without -ff files (NAME.PID)');
      return readStraceFf(names, ro);
    }
    return readStrace(paths[0], ro);
  }
  return readStraceFf(paths, ro);
}

/** Import strace output and check it against the model: the whole `tns check FILE` pipeline. */
export async function checkTrace(paths: string[], opts: TraceSourceOptions = {}): Promise<TraceCheckResult> {
  const reader = await openTrace(paths, opts);
  const imp = new TraceImport({ profile: opts.profile, spawnCaps: opts.spawnCaps, uid: opts.uid });
  const checker = new TraceChecker({ profile: opts.profile, maxDivergences: opts.maxDivergences, rootCaps: opts.spawnCaps });
  let seq = 0;
  const feed = (evs: TraceEvent[]) => {
    for (const ev of evs) checker.push({ ...ev, seq: ++seq });
  };
  for await (const batch of reader.batches()) for (const r of batch) feed(imp.push(r));
  feed(imp.end());
  const skipped = Object.values(imp.stats.skipped).reduce((a, b) => a + b, 0);
  return { ...checker.end(skipped), import: imp.stats, badLines: reader.stats.badLines, lines: reader.stats.lines };
}

/** Check records already in memory (tests, mutants): the parser's records in order. */
export function checkRecords(records: Iterable<StraceRecord>, opts: TraceSourceOptions = {}): CheckResult & { import: ImportStats } {
  const imp = new TraceImport({ profile: opts.profile, spawnCaps: opts.spawnCaps, uid: opts.uid });
  const checker = new TraceChecker({ profile: opts.profile, maxDivergences: opts.maxDivergences, rootCaps: opts.spawnCaps });
  let seq = 0;
  const feed = (evs: TraceEvent[]) => {
    for (const ev of evs) checker.push({ ...ev, seq: ++seq });
  };
  for (const r of records) feed(imp.push(r));
  feed(imp.end());
  const skipped = Object.values(imp.stats.skipped).reduce((a, b) => a + b, 0);
  return { ...checker.end(skipped), import: imp.stats };
}
