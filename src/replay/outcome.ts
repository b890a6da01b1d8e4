/**
 * Comparing a stored outcome with the model's, and the divergence records replay reports.
 */
import type { Outcome, Timespec } from '../kernel/index.js';
import type { EventRecord, ReplayRecord } from '../events/index.js';

export type OutcomeField = 'ret' | 'errno' | 'text' | 'ts';

/**
 * What a divergence is:
 *  - `divergence`: a recorded outcome (an imported trace: the truth) that the model disagrees with;
 *  - `determinism`: an outcome the model computed at append time (recorded: false) that the model now computes
 *    differently — a determinism bug (the model or its inputs changed);
 *  - `model-error`: the model refused the event as misuse (an unknown task, a binding conflict): it could not
 *    be applied at all.
 */
export type DivergenceKind = 'divergence' | 'determinism' | 'model-error';

/**
 * What replay did about it (the world afterwards):
 *  - `agreed-failure`: both failed (with different errnos or texts); failed calls change nothing, so the world is
 *    the same either way;
 *  - `rolled-back`: the kernel failed but the model succeeded: the event's changes were discarded;
 *  - `forced`: the kernel succeeded but the model refused: the call was re-applied with the model's refusal
 *    lifted (see force.ts), so the world has the call's effect;
 *  - `rebound`: both succeeded with different kernel-assigned numbers (pid, fd): re-applied with the recorded one;
 *  - `kept-model`: the world follows the model (outputs such as a clock reading or text differ, the world does
 *    not depend on them; or a determinism divergence, where the model is the truth);
 *  - `unresolved`: the kernel succeeded but no relaxation made the model succeed, or the model threw: the
 *    world stays as it was before the event.
 */
export type Resolution = 'agreed-failure' | 'rolled-back' | 'forced' | 'rebound' | 'kept-model' | 'unresolved';

export interface Divergence {
  seq: number;
  /** The source line (src.line: the strace or scenario line), null when the record has no provenance. */
  line: number | null;
  /** The source file (src.file), null without provenance. */
  file: string | null;
  pid: number | null;
  call: string;
  kind: DivergenceKind;
  /** The stored outcome. */
  recorded: Outcome;
  /** What the model said (null when it threw). */
  model: Outcome | null;
  /** The fields that differ. */
  fields: OutcomeField[];
  /** The model's rule (or the misuse message), for the human. */
  rule: string;
  resolution: Resolution;
  /** How the world was made to agree (the relaxations of a forced call, the binding of a rebound one). */
  how?: string;
}

const NS_NAME = /^([a-z_]+):\[(\d+)\]$/;

/**
 * The model's inode numbers against the kernel's (a trace's): bound on first sight, then every sighting must agree
 * both ways. A namespace the model frees releases its pair (the kernel reuses numbers too).
 */
export class NameBinding {
  private readonly modelToReal = new Map<number, number>();
  private readonly realToModel = new Map<number, number>();
  /** Start from pairs known already (model inum → kernel inum), e.g. those of a snapshot. */
  constructor(pairs?: Readonly<Record<number, number>>) {
    if (pairs) for (const k in pairs) this.bind(Number(k), pairs[k]);
  }
  /** The model inum bound to kernel inum `real`, if any. */
  modelOf(real: number): number | undefined {
    return this.realToModel.get(real);
  }
  /** The pairs, model inum → kernel inum (a copy, in binding order). */
  pairs(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const [m, r] of this.modelToReal) out[m] = r;
    return out;
  }
  bind(model: number, real: number): boolean {
    const r = this.modelToReal.get(model);
    const m = this.realToModel.get(real);
    if (r === undefined && m === undefined) {
      this.modelToReal.set(model, real);
      this.realToModel.set(real, model);
      return true;
    }
    return r === real && m === model;
  }
  /** Forget the pairs of namespaces that no longer exist in the model. */
  prune(alive: (model: number) => boolean): void {
    for (const [m, r] of this.modelToReal) {
      if (alive(m)) continue;
      this.modelToReal.delete(m);
      this.realToModel.delete(r);
    }
  }
}

/** Default tolerance for recorded clock readings: 100 ms (a trace's timestamps and the host clocks estimated from them). */
export const DEFAULT_TS_TOLERANCE_NS = 100_000_000;

function tsDiffNs(a: Timespec, b: Timespec): number {
  return Math.abs((a.sec - b.sec) * 1e9 + (a.nsec - b.nsec));
}

/**
 * The fields where `stored` and `model` differ. inexact parts (either side's `inexact`) are not compared.
 * `strict` (a model-computed stored outcome): text and ts are compared both ways and exactly; otherwise (a
 * recorded outcome) only what the record shows is compared, ts within `tolNs`.
 */
export function diffOutcome(stored: Outcome, model: Outcome, strict: boolean, tolNs: number, names?: NameBinding): OutcomeField[] {
  // The common case, every record of a model-computed ledger, allocates nothing: NO_FIELDS is shared.
  let fields: OutcomeField[] = NO_FIELDS;
  const add = (f: OutcomeField) => (fields === NO_FIELDS ? (fields = [f]) : fields.push(f));
  if (stored.errno !== model.errno) add('errno');
  if (stored.ret !== model.ret && !skipped(stored, model, 'ret')) add('ret');
  if ((stored.text !== undefined || strict) && stored.text !== model.text && !skipped(stored, model, 'text')) {
    // A recorded outcome may show more than the model predicts (the -yy annotation of a returned fd): nothing to
    // compare. Namespace names ("time:[N]") are the kernel's inode numbers: compared through the binding.
    const a = strict ? null : NS_NAME.exec(stored.text ?? '');
    const b = a ? NS_NAME.exec(model.text ?? '') : null;
    if (!strict && model.text === undefined) {
      /* nothing predicted */
    } else if (a && b && names) {
      if (a[1] !== b[1] || !names.bind(Number(b[2]), Number(a[2]))) add('text');
    } else add('text');
  }
  if ((stored.ts !== undefined || (strict && model.ts !== undefined)) && !skipped(stored, model, 'ts')) {
    if (stored.ts === undefined || model.ts === undefined) add('ts');
    else if (tsDiffNs(stored.ts, model.ts) > (strict ? 0 : tolNs)) add('ts');
  }
  return fields;
}

const NO_FIELDS: OutcomeField[] = Object.freeze([]) as unknown as OutcomeField[];

/** Either side marks this part inexact: not compared. */
function skipped(stored: Outcome, model: Outcome, f: 'ret' | 'text' | 'ts'): boolean {
  return (stored.inexact !== undefined && stored.inexact.includes(f)) || (model.inexact !== undefined && model.inexact.includes(f));
}

/** An outcome without undefined fields (the model may leave `ts: undefined`), for output and comparison. */
export function cleanOutcome(o: Outcome): Outcome {
  const out: Outcome = { ret: o.ret };
  if (o.errno !== undefined) out.errno = o.errno;
  if (o.text !== undefined) out.text = o.text;
  if (o.ts !== undefined) out.ts = { sec: o.ts.sec, nsec: o.ts.nsec };
  if (o.rule !== undefined) out.rule = o.rule;
  if (o.inexact !== undefined) out.inexact = [...o.inexact];
  return out;
}

export function divergenceOf(
  rec: ReplayRecord,
  kind: DivergenceKind,
  model: Outcome | null,
  fields: OutcomeField[],
  resolution: Resolution,
  rule: string,
  how?: string,
): Divergence {
  const d: Divergence = {
    seq: rec.seq,
    line: rec.src?.line ?? null,
    file: rec.src?.file ?? null,
    pid: rec.pid ?? ('tid' in rec.op ? (rec.op as { tid: number }).tid : null),
    call: rec.op.call,
    kind,
    recorded: cleanOutcome(rec.outcome ?? { ret: 0 }),
    model: model ? cleanOutcome(model) : null,
    fields,
    rule,
    resolution,
  };
  if (how !== undefined) d.how = how;
  return d;
}

/** One line for a human: "seq 42 (trace.strace:17) pid 100 setns: recorded EPERM, model 0 — rule [forced: ...]". */
export function formatDivergence(d: Divergence): string {
  const where = d.file !== null ? ` (${d.file}:${d.line})` : '';
  const show = (o: Outcome | null) => (o === null ? 'threw' : o.errno !== undefined ? `${o.errno}` : `${o.ret}${o.text !== undefined ? ` "${o.text.length > 40 ? `${o.text.slice(0, 40)}…` : o.text}"` : ''}${o.ts ? ` ${o.ts.sec}.${String(o.ts.nsec).padStart(9, '0')}` : ''}`);
  const kind = d.kind === 'determinism' ? 'determinism bug: ' : d.kind === 'model-error' ? 'model error: ' : '';
  return `seq ${d.seq}${where} pid ${d.pid ?? '-'} ${d.call}: ${kind}${d.kind === 'determinism' ? 'stored' : 'recorded'} ${show(d.recorded)}, model ${show(d.model)} [${d.fields.join(',')}] — ${d.rule} (${d.resolution}${d.how ? `: ${d.how}` : ''})`;
}
