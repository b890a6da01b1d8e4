/**
 * Time travel over a ledger: the state at any seq (nearest snapshot + forward replay), stepping, the difference
 * between two points, bisecting for the first seq where something holds, and the provenance of a namespace.
 *
 * Snapshots: a forward replay from the genesis (or from a snapshot) writes the state every `snapshotEvery`
 * records (default 2000) to the ledger's snapshot store (`<ledger>.snap/`, see src/ledger/snapshots.ts: checked
 * against the log's hash at that seq, never trusted over it). In memory, a Timeline keeps the states it computed
 * (immer-frozen, sharing structure) in a small cache so stepping back and forth does not re-read the file.
 */
import { freeze } from 'immer';
import { createWorld, holders, readClock, upgradeWorld, CLOCK, type Namespace, type Task, type World, type WorldOptions } from '../kernel/index.js';
import type { EventRecord, ReplayRecord } from '../events/index.js';
import { ledgerInfo, openSnapshotStore, readLedgerBatchesSync, readRecordAt, readReplayBatches, type PipelineOptions, type SnapshotStore } from '../ledger/index.js';
import { Projector, type Engine } from './project.js';
import { genesisOf } from './genesis.js';
import { modelDigest } from './model-digest.js';
import type { Divergence } from './outcome.js';

export interface TimeTravelOptions {
  /** World options over the inferred genesis. */
  world?: WorldOptions;
  /** Write a snapshot every this many records during forward replays (default 2000; 0: never write). */
  snapshotEvery?: number;
  /** Read snapshots from the store (default true). */
  useSnapshots?: boolean;
  /** Validate every record read (default true). */
  validate?: boolean;
  tsToleranceNs?: number;
  /** States kept in memory for stepping (default 64). */
  cacheSize?: number;
  /**
   * Read long forward replays on a second thread (src/ledger/pipeline.ts): 'auto' (default) from
   * PIPELINE_MIN_RECORDS records on, true whenever possible, false never.
   */
  readingThread?: boolean | 'auto';
  /** Progress of long forward replays (seq reached). */
  onProgress?: (seq: number) => void;
  /**
   * Where warnings go: snapshots that cannot be written (a read-only directory, `<ledger>.snap` not a directory)
   * or a stored one that holds no world. Snapshots are a cache: either way the replay goes on without them.
   */
  onWarning?: (message: string) => void;
}

export interface StateAt {
  seq: number;
  world: World;
  /** Where the replay started: 0 (the genesis) or a snapshot's seq. */
  from: number;
  /** Divergences found between `from` and `seq` (those before a snapshot were reported when it was made). */
  divergences: Divergence[];
  /**
   * The kernel's inode numbers of the model's namespaces, model inum → kernel inum, for those a recorded outcome
   * named (an imported trace's readlink of /proc/PID/ns/time, say) and still alive at seq. Empty for a ledger the
   * model computed itself (synth, scenarios).
   */
  kernelNames: Record<number, number>;
}

/** The state shape a snapshot stores. */
interface SnapshotState {
  kind: 'tns-world';
  world: World;
  /** The replay's kernel-name bindings at that point (StateAt.kernelNames); absent when there are none. */
  names?: Record<number, number>;
}

export class SeqRangeError extends Error {
  override name = 'SeqRangeError';
  constructor(
    readonly file: string,
    readonly seq: number,
    readonly lastSeq: number,
  ) {
    super(`${file}: seq ${seq} is past the end of the ledger (last seq ${lastSeq})`);
  }
}

/** A ledger opened for time travel. */
export class Timeline {
  private readonly store: SnapshotStore | undefined;
  private known: Set<number> | undefined;
  private readonly cache = new Map<number, StateAt>();
  /** Set once a snapshot could not be written: this Timeline tries no more. */
  private snapshotWritesFailed = false;
  readonly snapshotEvery: number;

  constructor(
    readonly path: string,
    private readonly opts: TimeTravelOptions = {},
  ) {
    this.snapshotEvery = opts.snapshotEvery ?? 2000;
    this.store = opts.useSnapshots === false && this.snapshotEvery === 0 ? undefined : openSnapshotStore(path, () => {});
  }

  private knownSnapshots(): Set<number> {
    this.known ??= new Set(this.store ? this.store.list() : []);
    return this.known;
  }

  /**
   * The nearest usable starting point at or before seq: a cached state (`cached`: a state of this Timeline, which
   * the new one shares structure with), a snapshot, or the genesis (undefined).
   */
  private startFor(seq: number): { seq: number; world: World; working?: World; names?: Record<number, number>; cached?: true } | undefined {
    let best: StateAt | undefined;
    for (const s of this.cache.values()) if (s.seq <= seq && (!best || s.seq > best.seq)) best = s;
    if (this.store && this.opts.useSnapshots !== false) {
      const known = [...this.knownSnapshots()];
      const candidates = known.filter((s) => s <= seq && (!best || s > best.seq));
      if (candidates.length > 0) {
        // The state text (checked against its checksum and the log) is parsed twice: a frozen start state and the
        // projector's working world — cheaper than a structuredClone of the first.
        const snap = this.store.nearestSnapshot<string>(seq, { seqs: known, parse: (text) => text, producer: modelDigest() });
        let state = snap ? (JSON.parse(snap.state) as Partial<SnapshotState> | null) : undefined;
        // Newer ones were stale or damaged and are deleted now: list again, so the replay writes them anew.
        if (!snap || snap.seq !== candidates.reduce((a, b) => Math.max(a, b))) this.known = undefined;
        if (snap && state && state.kind === 'tns-world' && !isWorldShaped(state.world)) {
          // Its checksum and producer hold, but it holds no world (written by hand or by another program): a cache
          // entry that cannot be used. Deleted; the replay starts from an earlier point and writes it anew.
          this.opts.onWarning?.(`${this.store.fileOf(snap.seq)}: damaged: its state is not a world; deleted`);
          try {
            this.store.remove(snap.seq);
          } catch {
            /* a cache entry that cannot be removed is checked again next time */
          }
          this.known = undefined;
          state = undefined;
        }
        if (snap && state && state.kind === 'tns-world' && (!best || snap.seq > best.seq))
          // upgradeWorld: a snapshot written before the model kept free-id lists gets them derived from its tables.
          return {
            seq: snap.seq,
            world: freeze(upgradeWorld(state.world!), true),
            working: upgradeWorld((JSON.parse(snap.state) as SnapshotState).world),
            ...(state.names ? { names: state.names } : {}),
          };
      }
    }
    return best ? { seq: best.seq, world: best.world, names: best.kernelNames, cached: true } : undefined;
  }

  /** Replay forward from the best start to `seq`, writing snapshots on the way. */
  stateAt(at: number | 'end', engine: Engine = 'shadow'): StateAt {
    const seq = at === 'end' ? ledgerInfo(this.path).lastSeq : at;
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`seq: expected an integer ≥ 0, got ${seq}`);
    const hit = this.cache.get(seq);
    if (hit) return hit;
    const start = this.startFor(seq);
    // From the genesis: inferred from the ledger's head, not from whatever the first batch holds.
    const world = start && start.seq > 0 ? this.opts.world : genesisOf(this.path, this.opts.world, this.opts.validate !== false).options;
    const proj = new Projector<ReplayRecord>({
      ...(world ? { world } : {}),
      ...(start && start.seq > 0 ? { start: { seq: start.seq, world: start.world, ...(start.working ? { working: start.working } : {}), ...(start.names ? { names: start.names } : {}) } } : {}),
      ...(this.opts.tsToleranceNs !== undefined ? { tsToleranceNs: this.opts.tsToleranceNs } : {}),
      engine,
    });
    const from = start?.seq ?? 0;
    const K = this.snapshotEvery;
    if (seq === 0 && !proj.current) {
      for (const head of readLedgerBatchesSync(this.path, { toSeq: 64, validate: this.opts.validate !== false })) {
        proj.begin(head);
        break;
      }
    } else if (seq > from || !proj.current) {
      // Batches only bound memory: the state is made once, at the end (materialize), and snapshots are written
      // from the working world at their boundaries, so a long replay pays no per-batch state.
      const batchSize = 8192;
      // A long read goes through the pipeline (the parse on a second thread); snapshots need the hash at their seqs.
      const read = { fromSeq: from + 1, toSeq: Math.max(seq, 1), batchSize, validate: this.opts.validate !== false, hashEvery: K, thread: this.opts.readingThread ?? 'auto' } as const;
      for (const batch of readReplayBatches(this.path, read)) {
        // Cut batches at snapshot boundaries so the working world is there when a snapshot is written (seqs in a
        // batch are contiguous: the reader checks it).
        let i = 0;
        while (i < batch.length) {
          let j = batch.length;
          if (K > 0) {
            const idx = Math.ceil(batch[i].seq / K) * K - batch[0].seq;
            if (idx >= i && idx < batch.length) j = idx + 1;
          }
          const part = i === 0 && j === batch.length ? batch : batch.slice(i, j);
          proj.advance(part);
          const lastRec = part[part.length - 1];
          const at = lastRec.seq;
          if (K > 0 && at % K === 0 && at > from && this.store && !this.snapshotWritesFailed && !this.knownSnapshots().has(at) && engine !== 'mutable') {
            if (lastRec.hash === undefined) throw new Error(`${this.path}: the reader gave no hash for seq ${at}`);
            try {
              const names = proj.kernelNames();
              const state: SnapshotState = { kind: 'tns-world', world: proj.working(), ...(Object.keys(names).length ? { names } : {}) };
              this.store.writeSnapshot(at, lastRec.hash, state, modelDigest());
              this.knownSnapshots().add(at);
            } catch (e) {
              // A file-system failure (read-only directory, `<ledger>.snap` not a directory, disk full): snapshots
              // are a cache, so the replay goes on without them (it failed the whole command before).
              if (typeof (e as NodeJS.ErrnoException)?.syscall !== 'string') throw e;
              this.snapshotWritesFailed = true;
              this.opts.onWarning?.(`${this.store.dir}: snapshots not written (${(e as Error).message}); going on without them`);
            }
          }
          i = j;
        }
        this.opts.onProgress?.(batch[batch.length - 1].seq);
      }
    }
    // A state that started from a cached one shares structure with it (materialize); from a snapshot or the
    // genesis, nothing else holds the start state, and the working world is frozen as the state (finish: cheaper).
    const end = start?.cached ? proj.current : proj.finish();
    if (!end) throw new SeqRangeError(this.path, seq, 0);
    if (seq > 0 && end.seq < seq) throw new SeqRangeError(this.path, seq, end.seq);
    const out: StateAt = { seq: end.seq, world: end.world, from, divergences: proj.divergences, kernelNames: proj.kernelNames() };
    if (seq === 0) out.seq = 0;
    if (engine !== 'mutable') this.remember(out);
    return out;
  }

  private remember(s: StateAt): void {
    this.cache.set(s.seq, s);
    const max = this.opts.cacheSize ?? 64;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as number);
  }

  /** One record forward or back (n may be negative), clamped at 0. */
  step(from: number, n = 1): StateAt {
    return this.stateAt(Math.max(0, from + n));
  }
}

/** The top-level tables every World has: a snapshot's state is checked for them before it is used. */
function isWorldShaped(w: unknown): w is World {
  if (typeof w !== 'object' || w === null) return false;
  const o = w as Record<string, unknown>;
  const table = (k: string): boolean => typeof o[k] === 'object' && o[k] !== null;
  return table('tasks') && table('namespaces') && table('nsproxies') && table('ucounts') && table('host') && typeof o.profile === 'string';
}

/** stateAt(ledger, seq) without keeping a Timeline. */
export function stateAt(ledger: string, seq: number, opts: TimeTravelOptions = {}): StateAt {
  return new Timeline(ledger, opts).stateAt(seq);
}

// --- views and diff -------------------------------------------------------------------------------------------------

/** A task as `tns state` and diff show it: T is its time namespace, C its time_for_children. */
export interface TaskView {
  tid: number;
  tgid: number;
  ppid: number;
  state: Task['state'];
  uid: number;
  euid: number;
  T: number | null;
  C: number | null;
  pidns: number;
  userns: number;
  nsproxy: number | null;
}

export interface NsView {
  inum: number;
  type: Namespace['type'];
  count: number;
  owner: number | null;
  initial: boolean;
  frozen?: boolean;
  offsets?: Namespace['offsets'];
  ucounts?: Namespace['ucounts'];
  /** The traced kernel's inode number of this namespace, when a recorded outcome named it (StateAt.kernelNames). */
  kernel?: number;
}

export function taskView(w: World, t: Task): TaskView {
  const nsp = t.nsproxy !== null ? w.nsproxies[t.nsproxy] : undefined;
  return {
    tid: t.tid,
    tgid: t.tgid,
    ppid: t.ppid,
    state: t.state,
    uid: t.cred.uid,
    euid: t.cred.euid,
    T: nsp ? nsp.time : null,
    C: nsp ? nsp.time_for_children : null,
    pidns: t.pidns,
    userns: t.cred.userns,
    nsproxy: t.nsproxy,
  };
}

export function nsView(ns: Namespace): NsView {
  const v: NsView = { inum: ns.inum, type: ns.type, count: ns.count, owner: ns.owner, initial: ns.initial };
  if (ns.frozen !== undefined) v.frozen = ns.frozen;
  if (ns.offsets) v.offsets = { monotonic: { ...ns.offsets.monotonic }, boottime: { ...ns.offsets.boottime } };
  if (ns.ucounts !== undefined) v.ucounts = ns.ucounts ? { ...ns.ucounts } : null;
  return v;
}

export interface WorldDiff {
  tasks: {
    added: TaskView[];
    removed: TaskView[];
    changed: { tid: number; fields: (keyof TaskView)[]; before: TaskView; after: TaskView }[];
  };
  namespaces: {
    created: NsView[];
    freed: NsView[];
    changed: { inum: number; type: Namespace['type']; fields: (keyof NsView)[]; before: NsView; after: NsView }[];
  };
  ucounts: { key: string; before: number; after: number }[];
  host: { before: World['host']; after: World['host'] } | null;
  profile: { before: string; after: string } | null;
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What changed from world `a` to world `b`. */
export function diffWorlds(a: World, b: World): WorldDiff {
  const d: WorldDiff = { tasks: { added: [], removed: [], changed: [] }, namespaces: { created: [], freed: [], changed: [] }, ucounts: [], host: null, profile: null };
  const tids = new Set([...Object.keys(a.tasks), ...Object.keys(b.tasks)].map(Number));
  for (const tid of [...tids].sort((x, y) => x - y)) {
    const ta = a.tasks[tid];
    const tb = b.tasks[tid];
    if (!ta) d.tasks.added.push(taskView(b, tb));
    else if (!tb) d.tasks.removed.push(taskView(a, ta));
    else {
      const va = taskView(a, ta);
      const vb = taskView(b, tb);
      const fields = (Object.keys(va) as (keyof TaskView)[]).filter((k) => va[k] !== vb[k] && k !== 'nsproxy');
      if (fields.length) d.tasks.changed.push({ tid, fields, before: va, after: vb });
    }
  }
  const inums = new Set([...Object.keys(a.namespaces), ...Object.keys(b.namespaces)].map(Number));
  for (const inum of [...inums].sort((x, y) => x - y)) {
    const na = a.namespaces[inum];
    const nb = b.namespaces[inum];
    if (!na) d.namespaces.created.push(nsView(nb));
    else if (!nb) d.namespaces.freed.push(nsView(na));
    else if (na.type !== nb.type) {
      // The inode number was freed and reused by another namespace.
      d.namespaces.freed.push(nsView(na));
      d.namespaces.created.push(nsView(nb));
    } else {
      const va = nsView(na);
      const vb = nsView(nb);
      const fields = (Object.keys({ ...va, ...vb }) as (keyof NsView)[]).filter((k) => !sameJson(va[k], vb[k]));
      if (fields.length) d.namespaces.changed.push({ inum, type: nb.type, fields, before: va, after: vb });
    }
  }
  const keys = new Set([...Object.keys(a.ucounts), ...Object.keys(b.ucounts)]);
  for (const key of [...keys].sort()) {
    const x = a.ucounts[key] ?? 0;
    const y = b.ucounts[key] ?? 0;
    if (x !== y) d.ucounts.push({ key, before: x, after: y });
  }
  if (!sameJson(a.host, b.host)) d.host = { before: a.host, after: b.host };
  if (a.profile !== b.profile) d.profile = { before: a.profile, after: b.profile };
  return d;
}

export function diffIsEmpty(d: WorldDiff): boolean {
  return (
    d.tasks.added.length + d.tasks.removed.length + d.tasks.changed.length + d.namespaces.created.length + d.namespaces.freed.length + d.namespaces.changed.length + d.ucounts.length === 0 &&
    d.host === null &&
    d.profile === null
  );
}

// --- bisect ---------------------------------------------------------------------------------------------------------

/**
 * A predicate over the stream of states. `test` sees the world right after each record (read only, do not keep
 * it) and returns true when the condition holds at that seq. It may keep its own memory between calls (e.g. the
 * previous clock reading), so it is a factory: one fresh instance per search.
 */
export interface Predicate {
  describe: string;
  create(): (world: World, rec: ReplayRecord) => boolean;
}

/** "time:[X] is freed": the namespace existed and is gone (its refcount reached 0). Inode numbers are reused: the first disappearance counts. */
export function freedPredicate(name: number | NsName): Predicate {
  const { inum, type } = typeof name === 'number' ? { inum: name, type: undefined } : name;
  return {
    describe: `${type ?? 'namespace'} ${inum} is freed (refcount 0)`,
    create() {
      let seen = false;
      return (w) => {
        const ns = w.namespaces[inum];
        // Of another type, the number is another namespace: this one is gone.
        const alive = ns !== undefined && (type === undefined || ns.type === type);
        if (alive) seen = true;
        return seen && !alive;
      };
    },
  };
}

/** "refcount of X is N" (N > 0; for 0 use freedPredicate: a namespace at 0 is freed at once). */
export function refcountPredicate(inum: number, count: number): Predicate {
  return {
    describe: `refcount of namespace ${inum} is ${count}`,
    create: () => (w) => (count === 0 ? false : w.namespaces[inum]?.count === count),
  };
}

/** "task P's clock went down": its reading (through its time namespace) is below the reading at the previous record. */
export function clockBackwardsPredicate(pid: number, clockid: number = CLOCK.MONOTONIC): Predicate {
  return {
    describe: `task ${pid}'s clock ${clockid} goes backwards`,
    create() {
      let prev: { sec: number; nsec: number } | null = null;
      return (w) => {
        const t = w.tasks[pid];
        if (!t || t.nsproxy === null) {
          prev = null;
          return false;
        }
        const r = readClock(w, t, clockid);
        if (!r.ok) return false;
        const now = r.ts;
        const back = prev !== null && (now.sec < prev.sec || (now.sec === prev.sec && now.nsec < prev.nsec));
        prev = { sec: now.sec, nsec: now.nsec };
        return back;
      };
    },
  };
}

/** Any JS predicate over a state (stateless). */
export function jsPredicate(describe: string, fn: (world: World, rec: ReplayRecord) => boolean): Predicate {
  return { describe, create: () => fn };
}

/** A read from the genesis to `toSeq` (or the end), through the pipeline when it is long (see TimeTravelOptions.readingThread). */
function longRead(ledger: string, toSeq: number | undefined, opts: TimeTravelOptions): PipelineOptions {
  const thread = opts.readingThread ?? 'auto';
  const read: PipelineOptions = { validate: opts.validate !== false, thread };
  if (toSeq !== undefined) read.toSeq = toSeq;
  if (thread === 'auto') {
    // 'auto' needs the length: the ledger's last seq is a read of its tail. A tail it cannot read is left to the
    // sequential reader, which reports it where it stands (a search may end before it).
    try {
      read.expected = toSeq ?? ledgerInfo(ledger).lastSeq;
    } catch {
      read.thread = false;
    }
  }
  return read;
}

export interface BisectResult {
  /** The first seq where the predicate holds, or null. */
  seq: number | null;
  record: EventRecord | null;
  /** Records examined. */
  examined: number;
  describe: string;
}

/**
 * The first seq where the predicate holds. The predicates above depend on history (a namespace that existed, the
 * previous reading), so the search replays forward from the genesis with the fast working-world engine and tests
 * every record (a plain binary search over snapshots would miss a condition that holds and stops holding
 * between two probes).
 */
export function bisect(ledger: string, pred: Predicate, opts: TimeTravelOptions & { fromSeq?: number; toSeq?: number } = {}): BisectResult {
  const test = pred.create();
  let found: ReplayRecord | null = null;
  let examined = 0;
  const proj = new Projector<ReplayRecord>({
    world: genesisOf(ledger, opts.world, opts.validate !== false).options,
    engine: 'mutable',
    onEvent(rec, w) {
      if (found) return;
      examined++;
      if (opts.fromSeq !== undefined && rec.seq < opts.fromSeq) {
        test(w, rec);
        return;
      }
      if (test(w, rec)) found = rec;
    },
  });
  for (const batch of readReplayBatches(ledger, longRead(ledger, opts.toSeq, opts))) {
    proj.step(batch);
    opts.onProgress?.(batch[batch.length - 1].seq);
    if (found) break;
  }
  const at = (found as ReplayRecord | null)?.seq ?? null;
  // The replay read lean records: the one found is read again whole (validated, its hash checked).
  return { seq: at, record: at === null ? null : (readRecordAt(ledger, at) ?? null), examined, describe: pred.describe };
}

// --- why: provenance of a namespace ---------------------------------------------------------------------------------

export interface RefChange {
  seq: number;
  /** Source line (src.line) and file, when the record has provenance. */
  line: number | null;
  file: string | null;
  pid: number | null;
  call: string;
  delta: number;
  /** The refcount after the record (0: freed). */
  count: number;
}

export interface WhyResult {
  inum: number;
  seq: number;
  type: Namespace['type'] | null;
  /** Alive at seq. */
  alive: boolean;
  count: number;
  /** Who holds it at seq (holders(world) from the kernel: nsproxy slots, nsfs files, creds, owned namespaces...). */
  holders: string[];
  /** The tasks whose nsproxy holds it, and through which slot. */
  tasks: { tid: number; slots: string[] }[];
  /** Every record up to seq that changed its refcount, for the incarnation alive at seq (or the last one). */
  changes: RefChange[];
  /** The record that created this incarnation, and the one that freed it (if freed by seq). */
  created: RefChange | null;
  freed: RefChange | null;
  view: NsView | null;
  /**
   * The number asked for was the kernel's (a recorded outcome — an imported trace's readlink — named a namespace of
   * the model with it): that number; `inum` is then the model's. null when the number was taken as the model's.
   */
  kernelInum: number | null;
  /** A namespace of this number existed at some point up to seq (of the type asked for, if one was). */
  seen: boolean;
}

/** A namespace as a user names it: an inode number, and the type when given (time:[4026532176]). */
export interface NsName {
  inum: number;
  type?: Namespace['type'];
}

/**
 * Which holders keep a namespace alive at `seq`, and the records that changed its refcount up to there. The number
 * is the model's, or the kernel's when the ledger's recorded outcomes bound it to one of the model's namespaces (an
 * imported trace names namespaces with the traced kernel's inode numbers): then the answer is for that namespace,
 * with `kernelInum` set. A type, when given, must match: an inode number reused by another type is another namespace.
 */
export function why(ledger: string, name: number | NsName, seq: number | undefined, opts: TimeTravelOptions = {}): WhyResult {
  const asked: NsName = typeof name === 'number' ? { inum: name } : name;
  const first = whyOne(ledger, asked, seq, opts, true);
  if (first.boundTo === undefined || first.boundTo === asked.inum) return first.result;
  const r = whyOne(ledger, { inum: first.boundTo, ...(asked.type ? { type: asked.type } : {}) }, seq, opts, false).result;
  return { ...r, kernelInum: asked.inum };
}

function whyOne(ledger: string, asked: NsName, seq: number | undefined, opts: TimeTravelOptions, lookForKernel: boolean): { result: WhyResult; boundTo?: number } {
  const inum = asked.inum;
  const want = asked.type;
  // The model's namespace of this number at a point, if it is of the type asked for.
  const nsIn = (w: World): Namespace | undefined => {
    const ns = w.namespaces[inum];
    return ns && (want === undefined || ns.type === want) ? ns : undefined;
  };
  let boundTo: number | undefined;
  let seen = false;
  let changes: RefChange[] = [];
  let prevCount = 0;
  let created: RefChange | null = null;
  let freed: RefChange | null = null;
  let last: World | undefined;
  let lastSeq = 0;
  let type: Namespace['type'] | null = null;
  const change = (rec: ReplayRecord, delta: number, count: number): RefChange => ({
    seq: rec.seq,
    line: rec.src?.line ?? null,
    file: rec.src?.file ?? null,
    pid: rec.pid ?? ('tid' in rec.op ? (rec.op as { tid: number }).tid : null),
    call: rec.op.call,
    delta,
    count,
  });
  const genesis = genesisOf(ledger, opts.world, opts.validate !== false);
  const proj = new Projector<ReplayRecord>({
    world: genesis.options,
    engine: 'mutable',
    onEvent(rec, w) {
      const ns = nsIn(w);
      const count = ns ? ns.count : 0;
      if (ns) {
        type = ns.type;
        seen = true;
      }
      if (lookForKernel) {
        const m = proj.modelOfKernel(inum);
        if (m !== undefined && (want === undefined || w.namespaces[m].type === want)) boundTo = m;
      }
      if (count !== prevCount) {
        if (prevCount === 0) {
          // A new incarnation (first creation, or the inode number reused after a free).
          changes = [];
          freed = null;
          created = change(rec, count, count);
        }
        const c = change(rec, count - prevCount, count);
        changes.push(c);
        if (count === 0) freed = c;
        prevCount = count;
      }
      lastSeq = rec.seq;
    },
  });
  let first = true;
  for (const batch of readReplayBatches(ledger, longRead(ledger, seq, opts))) {
    if (first) {
      // The genesis may already hold it (an initial namespace): start from its count there.
      const g = nsIn(createWorld(genesis.options));
      prevCount = g ? g.count : 0;
      if (g) {
        type = g.type;
        seen = true;
      }
      first = false;
    }
    proj.step(batch);
    opts.onProgress?.(batch[batch.length - 1].seq);
  }
  last = proj.current?.world;
  // At seq 0 no record is read: the state there is the genesis (as Timeline.stateAt(0) has it).
  if (seq === 0 && last === undefined) last = createWorld(genesis.options);
  if (seq !== undefined && lastSeq < seq) throw new SeqRangeError(ledger, seq, lastSeq);
  const world = last;
  const ns = world ? nsIn(world) : undefined;
  if (ns) seen = true;
  const tasks: { tid: number; slots: string[] }[] = [];
  if (world && ns) {
    for (const k in world.tasks) {
      const t = world.tasks[k];
      if (t.nsproxy === null) continue;
      const nsp = world.nsproxies[t.nsproxy];
      const slots = (['uts', 'ipc', 'mnt', 'pid_for_children', 'net', 'cgroup', 'time', 'time_for_children'] as const).filter((s) => nsp[s] === inum);
      if (slots.length) tasks.push({ tid: t.tid, slots: [...slots] });
    }
  }
  const result: WhyResult = {
    inum,
    seq: seq ?? lastSeq,
    type: ns?.type ?? type ?? want ?? null,
    alive: ns !== undefined,
    count: ns?.count ?? 0,
    holders: world && ns ? (holders(world)[inum] ?? []) : [],
    tasks: tasks.sort((x, y) => x.tid - y.tid),
    changes,
    created,
    freed,
    view: ns ? nsView(ns) : null,
    kernelInum: null,
    seen,
  };
  return boundTo !== undefined ? { result, boundTo } : { result };
}
