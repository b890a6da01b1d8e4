/**
 * The projection: a stream of ledger records → batches → states.
 *
 *   records (a ledger file, an array, a live tail) ─► rebatch(K) ─► one immer `produce` per batch, applying the
 *   kernel model's apply(draft, op) for every event ─► {seq, world} states (frozen, sharing structure)
 *
 * Outcomes:
 *  - a record with `recorded: true` carries the kernel's outcome, which is the truth. When the model disagrees,
 *    the engine reports a Divergence and makes the world agree where it can (outcome.ts lists the resolutions):
 *      kernel failed, model succeeded → the event's changes are rolled back: such records (a recorded errno) are
 *        applied on their own, as a tentative produce from the state before them, which is simply dropped;
 *      kernel succeeded, model failed → force.ts re-applies the call with the model's refusal lifted;
 *      both succeeded with another pid/fd and the op did not bind it → re-applied with the recorded number;
 *      outputs differ (text, clock readings beyond the tolerance, honouring `inexact`) → reported, world kept.
 *  - a record with an outcome but without `recorded: true` was computed by the model when it was appended; the
 *    model must compute the same again, a difference is a determinism bug (kind 'determinism'); the world follows
 *    the model.
 *  - markers pass through (marker.profile switches the kernel profile for the records that follow).
 *  - the model throwing (ModelError: an unknown task, a binding conflict) is reported as kind 'model-error' and
 *    the event is skipped: the batch is re-run up to it, so a half-applied event never stays in the world.
 */
import { freeze, Immer, original } from 'immer';
import { Observable, type OperatorFunction } from 'rxjs';
import { apply, createWorld, resolveProfile, type Op, type Outcome, type World, type WorldOptions } from '../kernel/index.js';
import type { EventRecord, ReplayRecord } from '../events/index.js';
import { cleanOutcome, DEFAULT_TS_TOLERANCE_NS, diffOutcome, divergenceOf, type Divergence, NameBinding } from './outcome.js';
import { forceSuccess } from './force.js';
import { cloneData } from './clone.js';
import { inferGenesis, type Genesis } from './genesis.js';

export type Engine = 'shadow' | 'draft' | 'mutable';

export interface ProjectOptions<R extends ReplayRecord = EventRecord> {
  /** World options that win over the inferred genesis (see genesis.ts). */
  world?: WorldOptions;
  /**
   * A state to start from instead of the genesis (a snapshot): its seq and world. `working`, when given, is a
   * mutable copy of `world` that nothing else holds (e.g. a second parse of a snapshot): it becomes the working
   * world instead of a copy of `world`.
   */
  /** `names`: the kernel's inode numbers bound to the model's up to that point (kernelNames() of the replay that made it). */
  start?: { seq: number; world: World; working?: World; names?: Readonly<Record<number, number>> };
  /** Events per produce (default 1000). */
  batchSize?: number;
  /** Tolerance for recorded clock readings, ns (default 100 ms). */
  tsToleranceNs?: number;
  /**
   * How a batch is reduced (all three give the same states; test/replay.test.ts checks it):
   *  - 'shadow' (default): the kernel applies each event to a mutable working world at full speed, then ONE
   *    immer produce per batch brings the frozen state up to it, copying only the entries that changed (so
   *    states share every unchanged task, namespace, file... with the state before);
   *  - 'draft': ONE immer produce per batch and the kernel applies every event to the draft. Same states, but
   *    every read the kernel makes goes through immer's proxies: ~8x slower on the synth mix (bench/replay);
   *  - 'mutable': no immutable states at all (the working world is returned and keeps changing): for a final
   *    state or a verification pass only.
   */
  engine?: Engine;
  /** Same as engine 'mutable' when false (kept for callers written before `engine`). */
  freeze?: boolean;
  /**
   * Called after every record with the world right after it (the working world, or the draft with the 'draft'
   * engine): read it, do not keep or change it. Called once per record, in order.
   */
  onEvent?: (rec: R, world: World) => void;
}

export interface ProjectedState {
  /** The seq of the last record applied (0: the genesis). */
  seq: number;
  world: World;
}

export interface BatchResult extends ProjectedState {
  /** Records in this batch. */
  events: number;
  /** Divergences found in this batch. */
  divergences: Divergence[];
}

const CLONES = new Set(['fork', 'vfork', 'clone', 'clone3']);

/** A recorded success whose kernel-assigned number (child pid, fd) the op does not bind. */
function unbound(op: Op, o: Outcome): boolean {
  if (o.errno !== undefined || o.ret < 0) return false;
  if (CLONES.has(op.call)) return (op as { child?: number }).child === undefined && o.ret > 0;
  if (op.call === 'open' || op.call === 'pidfd_open') return op.fd === undefined;
  if (op.call === 'dup') return op.newfd === undefined;
  return false;
}

function withBinding(op: Op, ret: number): Op {
  if (CLONES.has(op.call)) return { ...op, child: ret } as Op;
  if (op.call === 'open' || op.call === 'pidfd_open') return { ...op, fd: ret };
  if (op.call === 'dup') return { ...op, newfd: ret };
  return op;
}

/** Records that must be applied from a known pre-state: the kernel failed (roll back if the model did not), or a number to rebind. */
function careful(rec: ReplayRecord): boolean {
  return rec.recorded === true && rec.outcome !== undefined && (rec.outcome.errno !== undefined || unbound(rec.op as Op, rec.outcome));
}

/**
 * How many records at most are re-applied after a throwing event: past this, the checkpoint moves up to the
 * working world at the next batch (a copy of it: no state is made for it).
 */
const CHECKPOINT_EVERY = 4096;

class Abort extends Error {
  constructor(
    readonly index: number,
    readonly reason: unknown,
  ) {
    super('abort batch');
  }
}

/**
 * The reducer, usable without rxjs: feed batches of records in order, get states. `project()` wraps it.
 */
export class Projector<R extends ReplayRecord = EventRecord> {
  /** The last produced state (frozen, except with the 'mutable' engine). */
  private state: World | undefined;
  /** 'shadow' and 'mutable': the working world the kernel mutates. */
  private work: World | undefined;
  /** What a throwing event rebuilds from: the last state ('shadow'), or a copy of the working world ('mutable'). */
  private checkpoint: World | undefined;
  /** Records applied to the working world since the checkpoint. */
  private since: R[] = [];
  /** 'shadow': the working world has records the last state has not. */
  private stale = false;
  private seq: number;
  private readonly immer: Immer;
  private readonly tol: number;
  /** Recorded namespace names (the kernel's inode numbers) against the model's. */
  private readonly names: NameBinding;
  readonly engine: Engine;
  genesis: Genesis | undefined;
  /** Every divergence so far, in order. */
  readonly divergences: Divergence[] = [];
  /** Records applied so far (markers included). */
  events = 0;
  /** The last seq onEvent saw (a restarted batch does not report its records twice). */
  private hooked = 0;

  constructor(private readonly opts: ProjectOptions<R> = {}) {
    this.engine = opts.engine ?? (opts.freeze === false ? 'mutable' : 'shadow');
    this.immer = new Immer({ autoFreeze: this.engine !== 'mutable' });
    this.tol = opts.tsToleranceNs ?? DEFAULT_TS_TOLERANCE_NS;
    this.seq = opts.start?.seq ?? 0;
    this.names = new NameBinding(opts.start?.names);
    if (opts.start) this.setStart(opts.start.world, opts.start.working);
  }

  /** The model's namespace that recorded outcomes named with kernel inode number `real`, while it is alive. */
  modelOfKernel(real: number): number | undefined {
    const m = this.names.modelOf(real);
    const w = this.work ?? this.state;
    return m !== undefined && w?.namespaces[m] !== undefined ? m : undefined;
  }

  /**
   * The kernel's inode numbers that recorded outcomes (an imported trace's readlink text) gave the model's namespaces
   * still alive: model inum → kernel inum. Empty for a ledger the model computed itself.
   */
  kernelNames(): Record<number, number> {
    const w = this.work ?? this.state;
    if (w) this.names.prune((inum) => w.namespaces[inum] !== undefined);
    return this.names.pairs();
  }

  /** The current state (undefined before the first batch when no start state was given). */
  get current(): ProjectedState | undefined {
    return this.state ? this.materialize() : undefined;
  }

  private setStart(w: World, working?: World): void {
    if (this.engine === 'mutable') {
      this.work = working ?? (Object.isFrozen(w) ? cloneData(w) : w);
      this.state = this.work;
      // Given a working copy, `w` is a copy nobody changes: the checkpoint a rebuild clones.
      this.checkpoint = working ? w : cloneData(this.work);
    } else {
      this.state = Object.isFrozen(w) ? w : this.immer.produce(cloneData(w), () => {});
      if (this.engine === 'shadow') this.work = working ?? cloneData(this.state);
      this.checkpoint = this.state;
    }
    this.since = [];
  }

  /** Start from the genesis inferred from these first records (or given), without applying them. */
  begin(head: readonly R[]): void {
    if (this.state) return;
    this.init(head);
  }

  /** The genesis world, inferred from the first batch (or given). */
  private init(head: readonly R[]): void {
    this.genesis = inferGenesis(head, this.opts.world);
    this.setStart(createWorld(this.genesis.options));
  }

  /** Apply one batch (records in seq order, continuing the last one) and return the state after it. */
  step(batch: readonly R[]): BatchResult {
    const found = this.advance(batch);
    return { ...this.materialize(), events: batch.length, divergences: found };
  }

  /**
   * Apply one batch without making an immutable state of it ('shadow': the working world moves on, the last
   * state stays where it was until materialize()). A forward replay that needs a state only at its end (or a
   * snapshot written from `working()`) pays for the state once instead of once per batch. 'draft' always
   * produces. Returns the divergences found in the batch.
   */
  advance(batch: readonly R[]): Divergence[] {
    if (!this.state) this.init(batch);
    const found = this.engine === 'draft' ? this.stepDraft(batch) : this.stepWork(batch);
    if (batch.length > 0) this.seq = batch[batch.length - 1].seq;
    this.events += batch.length;
    this.divergences.push(...found);
    return found;
  }

  /** The state after the last record applied: with 'shadow', ONE immer produce brings the last state up to the working world, sharing every unchanged entry. */
  materialize(): ProjectedState {
    if (!this.state) throw new Error('materialize() before any batch');
    if (this.engine === 'shadow' && this.stale) {
      this.state = this.immer.produce(this.state, (d) => syncInto(d as World, this.workingWorld()));
      this.checkpoint = this.state;
      this.since = [];
      this.stale = false;
    }
    return { seq: this.seq, world: this.state };
  }

  /**
   * The state after the last record, for a caller that needs no sharing with the state before it (a seek from a
   * snapshot or the genesis, whose start state nobody else holds): with 'shadow', the working world itself is
   * frozen as the state — one deep freeze instead of a produce that compares the whole world with the last state.
   * States made after it share structure with it as usual; the next batch starts a new working copy.
   * Other engines: the same as materialize(). Undefined before the first batch (like `current`).
   */
  finish(): ProjectedState | undefined {
    if (!this.state) return undefined;
    if (this.engine !== 'shadow' || !this.stale) return this.materialize();
    this.state = freeze(this.work!, true);
    this.work = undefined;
    this.checkpoint = this.state;
    this.since = [];
    this.stale = false;
    return { seq: this.seq, world: this.state };
  }

  /**
   * The working world as it is after the last record ('shadow' and 'mutable'; the state itself with 'draft'):
   * read it (e.g. to serialise a snapshot), do not keep or change it.
   */
  working(): World {
    if (!this.state) throw new Error('working() before any batch');
    return this.engine === 'draft' ? this.state : this.workingWorld();
  }

  /** The working world, made again from the state after finish() handed the last one over. */
  private workingWorld(): World {
    return (this.work ??= cloneData(this.state!));
  }

  /**
   * 'shadow' / 'mutable': apply to the working world. An event that throws may have changed the world half-way, so
   * the world is rebuilt from the checkpoint (the last state, or a copy of the working world taken every
   * CHECKPOINT_EVERY records), the records applied since then re-applied (they did not throw, and
   * their divergences are not reported twice), and the throwing event applied on its own; the checkpoint then
   * moves past it, so many throwing events cost linear time.
   */
  private stepWork(batch: readonly R[]): Divergence[] {
    const found: Divergence[] = [];
    this.workingWorld();
    // Bound what a rebuild re-applies, and what is kept for it (records kept alive are old-generation garbage).
    // A copy of the working world, not a state: with 'shadow', a state (a produce comparing the whole world with
    // the last one, then freezing what changed) measured ~3x the copy, and only materialize() needs one.
    if (this.since.length >= CHECKPOINT_EVERY) {
      this.checkpoint = cloneData(this.work!);
      this.since = [];
    }
    // Since the checkpoint: `earlier` records of earlier batches, then this batch's from `batchFrom`; `found`
    // holds foundMark divergences from before the checkpoint.
    let earlier = this.since.length;
    let batchFrom = 0;
    let foundMark = 0;
    for (let k = 0; k < batch.length; k++) {
      const rec = batch[k];
      if (careful(rec)) this.work = this.carefully(this.work!, rec, found);
      else {
        try {
          this.applyInPlace(this.work!, rec, found);
        } catch {
          // Rebuild: the checkpoint, the earlier batches' records (their divergences were reported then), this
          // batch's records up to k (their divergences found again), then the throwing record on its own.
          this.work = cloneData(this.checkpoint!);
          const again: Divergence[] = [];
          for (let i = 0; i < earlier; i++) this.reapply(this.since[i], again);
          found.length = foundMark;
          for (let i = batchFrom; i < k; i++) this.reapply(batch[i], found);
          this.work = this.carefully(this.work!, rec, found);
          this.checkpoint = cloneData(this.work);
          this.since = [];
          earlier = 0;
          batchFrom = k + 1;
          foundMark = found.length;
          this.hook(rec, this.work!);
          continue;
        }
      }
      this.since.push(rec);
      this.hook(rec, this.work!);
    }
    if (this.engine === 'mutable') this.state = this.work;
    else if (batch.length > 0) this.stale = true;
    return found;
  }

  private reapply(rec: R, found: Divergence[]): void {
    if (careful(rec)) this.work = this.carefully(this.work!, rec, found);
    else this.applyInPlace(this.work!, rec, found);
  }

  /** 'draft': one produce per run of ordinary records; careful records on their own. */
  private stepDraft(batch: readonly R[]): Divergence[] {
    const found: Divergence[] = [];
    let i = 0;
    while (i < batch.length) {
      if (careful(batch[i])) {
        this.state = this.carefully(this.state!, batch[i], found);
        this.hook(batch[i], this.state);
        i++;
        continue;
      }
      let j = i;
      while (j < batch.length && !careful(batch[j])) j++;
      const runFound: Divergence[] = [];
      try {
        this.state = this.produceRun(this.state!, batch, i, j, runFound);
        found.push(...runFound);
        i = j;
      } catch (e) {
        if (!(e instanceof Abort)) throw e;
        const k = e.index;
        if (k > i) {
          const redo: Divergence[] = [];
          this.state = this.produceRun(this.state!, batch, i, k, redo);
          found.push(...redo);
        }
        this.state = this.carefully(this.state!, batch[k], found);
        this.hook(batch[k], this.state);
        i = k + 1;
      }
    }
    return found;
  }

  private hook(rec: R, w: World): void {
    if (this.opts.onEvent && rec.seq > this.hooked) {
      this.hooked = rec.seq;
      this.opts.onEvent(rec, w);
    }
  }

  private produceRun(base: World, batch: readonly R[], from: number, to: number, found: Divergence[]): World {
    return this.immer.produce(base, (draft) => {
      const w = draft as World;
      for (let k = from; k < to; k++) {
        try {
          this.applyInPlace(w, batch[k], found);
        } catch (e) {
          throw new Abort(k, e);
        }
        this.hook(batch[k], w);
      }
    });
  }

  /** An ordinary record on a draft (or a mutable world). Throws what the model throws. */
  private applyInPlace(w: World, rec: R, found: Divergence[]): void {
    const op = rec.op;
    if (op.call.startsWith('marker.')) {
      if (op.call === 'marker.profile') w.profile = resolveProfile(op.profile).name;
      return;
    }
    const kop = op as Op;
    const model = apply(w, kop);
    const stored = rec.outcome;
    if (!stored) return;
    if (rec.recorded !== true) {
      const fields = diffOutcome(stored, model, true, 0);
      if (fields.length > 0) found.push(divergenceOf(rec, 'determinism', model, fields, 'kept-model', model.rule ?? 'the model computes another outcome now'));
      return;
    }
    // Recorded success (a recorded failure is careful()).
    this.names.prune((inum) => w.namespaces[inum] !== undefined);
    const fields = diffOutcome(stored, model, false, this.tol, this.names);
    if (fields.length === 0) return;
    if (model.errno !== undefined) {
      const forced = forceSuccess(w, kop, model);
      if (forced) {
        const after = diffOutcome(stored, forced.outcome, false, this.tol, this.names);
        found.push(divergenceOf(rec, 'divergence', model, fields, 'forced', model.rule ?? '', after.length ? `${forced.how}; still differs in ${after.join(',')}` : forced.how));
      } else found.push(divergenceOf(rec, 'divergence', model, fields, 'unresolved', model.rule ?? '', 'no relaxation makes the model accept the call; the world is as before it'));
      return;
    }
    found.push(divergenceOf(rec, 'divergence', model, fields, 'kept-model', model.rule ?? `the model's ${fields.join(', ')} differ`));
  }

  /** A record applied on its own from `base`, which it may roll back to. */
  private carefully(base: World, rec: R, found: Divergence[]): World {
    const op = rec.op as Op;
    if (rec.op.call.startsWith('marker.')) return this.tryProduce(base, (w) => this.applyInPlace(w, rec, found)).world;
    let model: Outcome | undefined;
    const first = this.tryProduce(base, (w) => {
      model = apply(w, op);
    });
    if (first.error !== undefined || model === undefined) {
      found.push(divergenceOf(rec, 'model-error', null, [], 'unresolved', errorText(first.error), 'the event is skipped'));
      return base;
    }
    const stored = rec.outcome;
    if (!stored) return first.world;
    if (rec.recorded !== true) {
      // Only reached after a model error in a run: re-applied alone; compare as a determinism check.
      const fields = diffOutcome(stored, model, true, 0);
      if (fields.length > 0) found.push(divergenceOf(rec, 'determinism', model, fields, 'kept-model', model.rule ?? 'the model computes another outcome now'));
      return first.world;
    }
    const fields = diffOutcome(stored, model, false, this.tol, this.names);
    if (fields.length === 0) return first.world;
    const m = model;
    if (stored.errno !== undefined) {
      if (m.errno === undefined) {
        found.push(divergenceOf(rec, 'divergence', m, fields, 'rolled-back', m.rule ?? 'the model lets the call through', "the model's changes for this event were discarded"));
        return base;
      }
      found.push(divergenceOf(rec, 'divergence', m, fields, 'agreed-failure', m.rule ?? ''));
      return first.world;
    }
    if (m.errno !== undefined) {
      let forced: ReturnType<typeof forceSuccess> = null;
      const second = this.tryProduce(base, (w) => {
        forced = forceSuccess(w, op, m);
        if (!forced) throw new NotForced();
      });
      if (second.error === undefined && forced) {
        const f = forced as { outcome: Outcome; how: string };
        const after = diffOutcome(stored, f.outcome, false, this.tol, this.names);
        found.push(divergenceOf(rec, 'divergence', m, fields, 'forced', m.rule ?? '', after.length ? `${f.how}; still differs in ${after.join(',')}` : f.how));
        return second.world;
      }
      found.push(divergenceOf(rec, 'divergence', m, fields, 'unresolved', m.rule ?? '', second.error instanceof NotForced || second.error === undefined ? 'no relaxation makes the model accept the call; the world is as before it' : `forcing threw: ${errorText(second.error)}`));
      return base;
    }
    if (fields.includes('ret') && unbound(op, stored)) {
      let again: Outcome | undefined;
      const bound = withBinding(op, stored.ret);
      const third = this.tryProduce(base, (w) => {
        again = apply(w, bound);
      });
      if (third.error === undefined && again && diffOutcome(stored, again, false, this.tol, this.names).length === 0) {
        found.push(divergenceOf(rec, 'divergence', m, fields, 'rebound', m.rule ?? `the model chose ${m.ret}`, `re-applied binding ${stored.ret}`));
        return third.world;
      }
    }
    found.push(divergenceOf(rec, 'divergence', m, fields, 'kept-model', m.rule ?? `the model's ${fields.join(', ')} differ`));
    return first.world;
  }

  /**
   * Run fn on a copy of `base` (a produce for the draft engine, a structured clone of the working world
   * otherwise); `base` itself is never changed, so returning it is a rollback.
   */
  private tryProduce(base: World, fn: (w: World) => void): { world: World; error?: unknown } {
    if (this.engine !== 'draft') {
      const copy = cloneData(base);
      try {
        fn(copy);
        return { world: copy };
      } catch (e) {
        return { world: base, error: e };
      }
    }
    try {
      return { world: this.immer.produce(base, (d) => fn(d as World)) };
    } catch (e) {
      return { world: base, error: e };
    }
  }
}

/** Deep equality of plain data (what a World is made of). */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let n = 0;
  for (const k in ao) {
    if (!(k in bo) || !same(ao[k], bo[k])) return false;
    n++;
  }
  for (const _ in bo) n--;
  return n === 0;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Bring a draft of the last state up to the working world, touching only what changed, at any depth: a task whose
 * state changed gets a new task object, but its unchanged cred (and the cred's arrays) stay the objects of the
 * previous state. Reads go to the plain base and working objects; the draft (a proxy) is only entered along the
 * paths that changed, so the cost is one pass of plain comparisons over the world per batch.
 */
function syncInto(draft: World, work: World): void {
  syncObject(() => draft as unknown as Record<string, unknown>, original(draft) as unknown as Record<string, unknown>, work as unknown as Record<string, unknown>);
}

function syncObject(getDraft: () => Record<string, unknown>, base: Record<string, unknown>, work: Record<string, unknown>): void {
  let d: Record<string, unknown> | undefined;
  const draft = () => (d ??= getDraft());
  for (const k in base) if (!(k in work)) delete draft()[k];
  for (const k in work) {
    const b = base[k];
    const w = work[k];
    if (b === w) continue;
    if (isObj(b) && isObj(w)) {
      syncObject(() => draft()[k] as Record<string, unknown>, b, w);
      continue;
    }
    if (Array.isArray(b) && Array.isArray(w) && same(b, w)) continue;
    draft()[k] = typeof w === 'object' && w !== null ? cloneData(w) : w;
  }
}

class NotForced extends Error {}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Re-chunk a stream of records or record arrays into arrays of `size` (the last may be shorter). Arrays already
 * of a good size pass through without copying.
 */
export function rebatch(size: number): OperatorFunction<EventRecord | readonly EventRecord[], readonly EventRecord[]> {
  return (source) =>
    new Observable<readonly EventRecord[]>((sub) => {
      let buf: EventRecord[] = [];
      const push = (r: EventRecord) => {
        buf.push(r);
        if (buf.length >= size) {
          const out = buf;
          buf = [];
          sub.next(out);
        }
      };
      return source.subscribe({
        next(x) {
          if (Array.isArray(x)) {
            const arr = x as readonly EventRecord[];
            if (buf.length === 0 && arr.length <= size && arr.length >= size / 2) sub.next(arr);
            else for (const r of arr) push(r);
          } else push(x as EventRecord);
        },
        error(e) {
          sub.error(e);
        },
        complete() {
          if (buf.length > 0) sub.next(buf);
          sub.complete();
        },
      });
    });
}

/**
 * The projection operator: records (or arrays of them) in, one state per batch out. Each emission carries the
 * divergences found in its batch. Use `last()` for the final state, or `scan` over the divergences.
 */
export function project(opts: ProjectOptions = {}): OperatorFunction<EventRecord | readonly EventRecord[], BatchResult> {
  return (source) =>
    new Observable<BatchResult>((sub) => {
      const p = new Projector(opts);
      return source.pipe(rebatch(opts.batchSize ?? 1000)).subscribe({
        next(batch) {
          let r: BatchResult;
          try {
            r = p.step(batch);
          } catch (e) {
            sub.error(e);
            return;
          }
          sub.next(r);
        },
        error(e) {
          sub.error(e);
        },
        complete() {
          sub.complete();
        },
      });
    });
}

/** Plain sequential apply of records on a mutable world (no immer, no divergence handling): the reference the tests compare with. */
export function applySequentially(records: readonly EventRecord[], options?: WorldOptions): World {
  const w = createWorld(inferGenesis(records, options).options);
  for (const rec of records) {
    if (rec.op.call === 'marker.profile') w.profile = resolveProfile(rec.op.profile).name;
    if (rec.op.call.startsWith('marker.')) continue;
    apply(w, rec.op as Op);
  }
  return w;
}

export { cleanOutcome };
