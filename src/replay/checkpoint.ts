/**
 * Checkpoint: capture the process tree rooted at a pid from a world (the state at some seq) into a versioned,
 * documented JSON image — tasks and threads, credentials, every namespace they use with the owner user namespaces,
 * and for every time namespace its offsets and its clock values D = host clock + offsets (CRIU's timens.img).
 *
 * The image format is described by imageSchema() (written to events/checkpoint-image.schema.json) and documented in
 * replay/README.md. validateImage() checks an image read from disk (untrusted) field by field.
 */
import { add } from '../kernel/timespec.js';
import { stateAt } from './timetravel.js';
import { genesisOf } from './genesis.js';
import { countRecords, openLedger, readLedgerBatchesSync, readRecordAt } from '../ledger/index.js';
import type { Divergence } from './outcome.js';
import { NSPROXY_SLOTS, type Namespace, type NsproxySlot, type NsType, type Task, type Timespec, type TimensOffsets, type World, type WorldOptions } from '../kernel/index.js';

export const IMAGE_FORMAT = 'tns-checkpoint';

/**
 * The world a ledger written by tns starts from (its genesis), the same rule as `tns import strace`: the model's own
 * first task has pid 4194304 (PID_MAX_LIMIT, a pid no trace can show), the profile is the leading marker.profile's and
 * the host clocks are the first record's `at`; every real task comes from an event (host.spawn when it just exists).
 */
export const GENESIS_PID = 4194304;

export function genesisOptions(profile: string, host: { realtime: Timespec; monotonic: Timespec; boottime: Timespec }): WorldOptions {
  return { profile, firstPid: GENESIS_PID, host: structuredClone(host) };
}
export const IMAGE_VERSION = 1;

export interface ImageCred {
  uid: number;
  euid: number;
  suid: number;
  /** cred->user_ns (inum). */
  userns: number;
  caps: string[];
}

/** Every namespace a task uses: its nsproxy slots plus its user and pid namespaces (inums). */
export type ImageTaskNs = Record<NsproxySlot, number> & { user: number; pid: number };

export interface ImageTask {
  tid: number;
  tgid: number;
  /** The parent process (tgid), 0 when outside the model. */
  ppid: number;
  /** true for a non-leader thread (tid ≠ tgid). */
  thread: boolean;
  state: 'running' | 'zombie';
  cred: ImageCred;
  /** null for a zombie (it dropped its nsproxy at exit). */
  ns: ImageTaskNs | null;
}

export interface ImageNamespace {
  id: number;
  type: NsType;
  /** Owner user namespace (null for the initial user namespace). */
  owner: number | null;
  initial: boolean;
  /** user/pid: the parent namespace of the same type and the nesting level. */
  parent?: number | null;
  level?: number;
  /** user: the creator's euid. */
  ownerUid?: number;
}

export interface ImageTimens {
  id: number;
  initial: boolean;
  owner: number;
  /** Frozen: a task has entered it (its offsets can no longer change). */
  frozen: boolean;
  offsets: TimensOffsets;
  /** D: the clock values inside the namespace at the checkpoint (host clock + offset). */
  monotonic: Timespec;
  boottime: Timespec;
  /** Tasks whose active time namespace (time) this is. */
  tasks: number[];
  /** Tasks for which it is only time_for_children (an unshare(CLONE_NEWTIME) not yet entered). */
  pendingFor: number[];
}

export interface CheckpointImage {
  format: typeof IMAGE_FORMAT;
  version: typeof IMAGE_VERSION;
  /** Where the state came from. */
  source: { ledger?: string; seq?: number; line?: number; hash?: string; scenario?: string; scenarioLine?: number };
  profile: string;
  /** The host clocks at the checkpoint (the initial time namespace's view). */
  host: { realtime: Timespec; monotonic: Timespec; boottime: Timespec };
  /** The pid the tree is rooted at. */
  root: number;
  tasks: ImageTask[];
  /** Every non-time namespace the tree uses, with the owner user namespaces up to the initial one. */
  namespaces: ImageNamespace[];
  /** Every time namespace the tree uses (active or pending), like CRIU's timens.img, one per namespace. */
  timens: ImageTimens[];
  /** What CRIU itself would do with this tree. */
  criu: { accepts: boolean; refusals: string[] };
  /** Where tns goes beyond CRIU, and other remarks. */
  notes: string[];
}

/** A checkpoint that cannot be taken (no such pid, ...). */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}


/** The tasks of the tree rooted at process `root`: its threads and every descendant process with their threads. */
export function treeOf(world: World, root: number): Task[] {
  const byParent = new Map<number, number[]>();
  for (const k in world.tasks) {
    const t = world.tasks[k];
    if (t.tid !== t.tgid) continue;
    const list = byParent.get(t.ppid) ?? [];
    list.push(t.tgid);
    byParent.set(t.ppid, list);
  }
  const procs = new Set<number>();
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    if (procs.has(p)) continue;
    procs.add(p);
    for (const c of byParent.get(p) ?? []) queue.push(c);
  }
  return Object.values(world.tasks)
    .filter((t) => procs.has(t.tgid))
    .sort((a, b) => a.tid - b.tid);
}

/** Capture the tree rooted at `rootPid` in `world`. */
export function captureImage(world: World, rootPid: number, source: CheckpointImage['source'] = {}): CheckpointImage {
  const root = world.tasks[rootPid];
  if (!root) throw new CheckpointError(`no task ${rootPid} at this point${source.seq !== undefined ? ` (seq ${source.seq})` : ''}`);
  if (root.tid !== root.tgid) throw new CheckpointError(`${rootPid} is a thread of ${root.tgid}: checkpoint a process (its thread-group leader)`);
  if (root.state === 'zombie') throw new CheckpointError(`${rootPid} is a zombie: there is nothing left to checkpoint`);
  const tasks = treeOf(world, rootPid);
  const imgTasks: ImageTask[] = [];
  const used = new Set<number>();
  for (const t of tasks) {
    let ns: ImageTaskNs | null = null;
    if (t.nsproxy !== null) {
      const nsp = world.nsproxies[t.nsproxy];
      ns = { uts: 0, ipc: 0, mnt: 0, pid_for_children: 0, net: 0, cgroup: 0, time: 0, time_for_children: 0, user: t.cred.userns, pid: t.pidns };
      for (const slot of NSPROXY_SLOTS) ns[slot] = nsp[slot];
      for (const v of Object.values(ns)) used.add(v);
    }
    used.add(t.cred.userns);
    used.add(t.pidns);
    imgTasks.push({
      tid: t.tid,
      tgid: t.tgid,
      ppid: t.ppid,
      thread: t.tid !== t.tgid,
      state: t.state,
      cred: { uid: t.cred.uid, euid: t.cred.euid, suid: t.cred.suid, userns: t.cred.userns, caps: [...t.cred.caps] },
      ns,
    });
  }
  // Owners and parents, up to the initial user namespace.
  const closure = [...used];
  for (let i = 0; i < closure.length; i++) {
    const ns = world.namespaces[closure[i]];
    if (!ns) throw new CheckpointError(`the world refers to a freed namespace ${closure[i]} (a model invariant is broken)`);
    for (const next of [ns.owner, ns.parent]) {
      if (next !== null && next !== undefined && !used.has(next)) {
        used.add(next);
        closure.push(next);
      }
    }
  }
  const namespaces: ImageNamespace[] = [];
  const timens: ImageTimens[] = [];
  for (const inum of [...used].sort((a, b) => a - b)) {
    const ns: Namespace = world.namespaces[inum];
    if (ns.type === 'time') {
      const active = imgTasks.filter((t) => t.ns?.time === inum).map((t) => t.tid);
      const pending = imgTasks.filter((t) => t.ns?.time_for_children === inum && t.ns.time !== inum).map((t) => t.tid);
      timens.push({
        id: inum,
        initial: ns.initial,
        owner: ns.owner!,
        frozen: !!ns.frozen,
        offsets: structuredClone(ns.offsets!),
        monotonic: add(world.host.monotonic, ns.offsets!.monotonic),
        boottime: add(world.host.boottime, ns.offsets!.boottime),
        tasks: active,
        pendingFor: pending,
      });
      continue;
    }
    const e: ImageNamespace = { id: inum, type: ns.type, owner: ns.owner, initial: ns.initial };
    if (ns.type === 'user' || ns.type === 'pid') {
      e.parent = ns.parent ?? null;
      e.level = ns.level ?? 0;
    }
    if (ns.type === 'user') e.ownerUid = ns.ownerUid ?? 0;
    namespaces.push(e);
  }
  const { refusals, notes } = criuVerdict(imgTasks, timens, rootPid);
  return {
    format: IMAGE_FORMAT,
    version: IMAGE_VERSION,
    source,
    profile: world.profile,
    host: structuredClone(world.host),
    root: rootPid,
    tasks: imgTasks,
    namespaces,
    timens,
    criu: { accepts: refusals.length === 0, refusals },
    notes,
  };
}

/**
 * What CRIU does with the tree's time namespaces (criu/namespaces.c, criu/timens.c): it dumps the root's time
 * namespace (its clock values, even when that is the host's) and refuses a task in another time namespace
 * ("Can't dump nested time namespace") and a pending time_for_children that differs from time.
 */
function criuVerdict(tasks: ImageTask[], timens: ImageTimens[], root: number): { refusals: string[]; notes: string[] } {
  const refusals: string[] = [];
  const notes: string[] = [];
  const rootTask = tasks.find((t) => t.tid === root)!;
  const rootT = rootTask.ns?.time;
  const live = tasks.filter((t) => t.ns);
  const others = live.filter((t) => t.ns!.time !== rootT);
  if (others.length) {
    const ids = [...new Set(others.map((t) => t.ns!.time))];
    refusals.push(
      `nested time namespaces: task${others.length > 1 ? 's' : ''} ${others.map((t) => t.tid).join(', ')} ${others.length > 1 ? 'are' : 'is'} in time:[${ids.join('], time:[')}], not the root's time:[${rootT}] (CRIU: "Can't dump nested time namespace")`,
    );
  }
  const pending = live.filter((t) => t.ns!.time_for_children !== t.ns!.time);
  if (pending.length)
    refusals.push(
      `time_for_children differs from time for task${pending.length > 1 ? 's' : ''} ${pending.map((t) => t.tid).join(', ')} (after unshare(CLONE_NEWTIME) a task stays in its old namespace, its new children go to the new one): CRIU dumps one time namespace per tree`,
    );
  if (timens.length > 1 && !refusals.length) refusals.push(`${timens.length} time namespaces in one tree: CRIU handles one`);
  if (refusals.length)
    notes.push(
      `tns goes beyond CRIU here: all ${timens.length} time namespaces are captured with their offsets and clock values, and restore recreates each of them`,
    );
  if (timens.some((n) => n.initial && n.tasks.length))
    notes.push('part of the tree shares the host (initial) time namespace: like CRIU, its clock values are recorded so a restore can continue them');
  return { refusals, notes };
}

/** A problem in an image file: names the file and the JSON path of the bad field. */
export class ImageError extends Error {
  override name = 'ImageError';
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}: ${field}: ${detail}`);
  }
}

type Obj = Record<string, unknown>;

/** Check an image read from disk (untrusted). Returns it typed, or throws ImageError naming the field. */
export function validateImage(value: unknown, file: string): CheckpointImage {
  const bad = (field: string, detail: string): never => {
    throw new ImageError(file, field, detail);
  };
  const obj = (v: unknown, f: string): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : bad(f, 'expected an object'));
  const arr = (v: unknown, f: string): unknown[] => (Array.isArray(v) ? v : bad(f, 'expected an array'));
  const int = (v: unknown, f: string): number => (Number.isSafeInteger(v) ? (v as number) : bad(f, `expected an integer, got ${JSON.stringify(v)}`));
  const bool = (v: unknown, f: string): boolean => (typeof v === 'boolean' ? v : bad(f, 'expected true or false'));
  const ts = (v: unknown, f: string): Timespec => {
    const o = obj(v, f);
    const sec = int(o.sec, `${f}.sec`);
    const nsec = int(o.nsec, `${f}.nsec`);
    if (nsec < 0 || nsec >= 1e9) bad(`${f}.nsec`, `must be in [0, 999999999], got ${nsec}`);
    return { sec, nsec };
  };
  const top = obj(value, '$');
  if (top.format !== IMAGE_FORMAT) bad('format', `expected "${IMAGE_FORMAT}", got ${JSON.stringify(top.format)} (is this a tns checkpoint image?)`);
  if (top.version !== IMAGE_VERSION) bad('version', `this tns reads image version ${IMAGE_VERSION}, got ${JSON.stringify(top.version)}`);
  if (typeof top.profile !== 'string') bad('profile', 'expected a kernel profile name');
  const host = obj(top.host, 'host');
  for (const c of ['realtime', 'monotonic', 'boottime']) ts(host[c], `host.${c}`);
  const root = int(top.root, 'root');
  const tasks = arr(top.tasks, 'tasks');
  if (!tasks.length) bad('tasks', 'an image has at least the root task');
  const tids = new Set<number>();
  tasks.forEach((t, i) => {
    const f = `tasks[${i}]`;
    const o = obj(t, f);
    const tid = int(o.tid, `${f}.tid`);
    if (tids.has(tid)) bad(`${f}.tid`, `task ${tid} appears twice`);
    tids.add(tid);
    int(o.tgid, `${f}.tgid`);
    int(o.ppid, `${f}.ppid`);
    bool(o.thread, `${f}.thread`);
    if (o.state !== 'running' && o.state !== 'zombie') bad(`${f}.state`, 'expected "running" or "zombie"');
    const c = obj(o.cred, `${f}.cred`);
    for (const k of ['uid', 'euid', 'suid', 'userns']) int(c[k], `${f}.cred.${k}`);
    arr(c.caps, `${f}.cred.caps`).forEach((x, j) => typeof x === 'string' || bad(`${f}.cred.caps[${j}]`, 'expected a capability name'));
    if (o.ns !== null) {
      const n = obj(o.ns, `${f}.ns`);
      for (const k of [...NSPROXY_SLOTS, 'user', 'pid']) int(n[k], `${f}.ns.${k}`);
    } else if (o.state !== 'zombie') bad(`${f}.ns`, 'only a zombie has no namespaces');
  });
  if (!tids.has(root)) bad('root', `the root ${root} is not among the tasks`);
  const ids = new Set<number>();
  arr(top.namespaces, 'namespaces').forEach((n, i) => {
    const o = obj(n, `namespaces[${i}]`);
    ids.add(int(o.id, `namespaces[${i}].id`));
    if (typeof o.type !== 'string') bad(`namespaces[${i}].type`, 'expected a namespace type');
    if (o.owner !== null) int(o.owner, `namespaces[${i}].owner`);
    bool(o.initial, `namespaces[${i}].initial`);
  });
  const timens = arr(top.timens, 'timens');
  timens.forEach((n, i) => {
    const f = `timens[${i}]`;
    const o = obj(n, f);
    const id = int(o.id, `${f}.id`);
    if (ids.has(id)) bad(`${f}.id`, `namespace ${id} appears twice`);
    ids.add(id);
    bool(o.initial, `${f}.initial`);
    bool(o.frozen, `${f}.frozen`);
    int(o.owner, `${f}.owner`);
    const off = obj(o.offsets, `${f}.offsets`);
    ts(off.monotonic, `${f}.offsets.monotonic`);
    ts(off.boottime, `${f}.offsets.boottime`);
    ts(o.monotonic, `${f}.monotonic`);
    ts(o.boottime, `${f}.boottime`);
    arr(o.tasks, `${f}.tasks`).forEach((x, j) => int(x, `${f}.tasks[${j}]`));
    arr(o.pendingFor, `${f}.pendingFor`).forEach((x, j) => int(x, `${f}.pendingFor[${j}]`));
  });
  tasks.forEach((t, i) => {
    const n = (t as Obj).ns as Obj | null;
    if (!n) return;
    for (const k of ['time', 'time_for_children'])
      if (!timens.some((x) => (x as Obj).id === n[k])) bad(`tasks[${i}].ns.${k}`, `time:[${n[k]}] is not in timens`);
  });
  const criu = obj(top.criu, 'criu');
  bool(criu.accepts, 'criu.accepts');
  arr(criu.refusals, 'criu.refusals');
  arr(top.notes, 'notes');
  obj(top.source, 'source');
  return value as CheckpointImage;
}

const tsSchema = {
  type: 'object',
  required: ['sec', 'nsec'],
  additionalProperties: false,
  properties: { sec: { type: 'integer' }, nsec: { type: 'integer', minimum: 0, maximum: 999999999 } },
};

/** The JSON Schema of the image (events/checkpoint-image.schema.json is generated from this; a test keeps them equal). */
export function imageSchema(): object {
  const inum = { type: 'integer', description: 'a namespace inode number' };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://tns.invalid/schema/checkpoint-image.v1.json',
    title: 'tns checkpoint image, version 1',
    description:
      'The process tree rooted at `root` at one point of a ledger: tasks, credentials, namespaces, and for every time namespace its offsets and its clock values D = host clock + offsets (like CRIU timens.img). Written by `tns checkpoint`, read by `tns restore`.',
    type: 'object',
    required: ['format', 'version', 'source', 'profile', 'host', 'root', 'tasks', 'namespaces', 'timens', 'criu', 'notes'],
    additionalProperties: false,
    $defs: { timespec: tsSchema },
    properties: {
      format: { const: IMAGE_FORMAT },
      version: { const: IMAGE_VERSION },
      source: {
        type: 'object',
        description: 'where the state came from: the ledger and seq (and trace line), or the scenario file and line',
        properties: {
          ledger: { type: 'string' },
          seq: { type: 'integer' },
          line: { type: 'integer' },
          hash: { type: 'string' },
          scenario: { type: 'string' },
          scenarioLine: { type: 'integer' },
        },
        additionalProperties: false,
      },
      profile: { type: 'string', description: 'the kernel profile of the checkpointed world (e.g. "6.3+")' },
      host: {
        type: 'object',
        description: 'the host clocks at the checkpoint (the initial time namespace)',
        required: ['realtime', 'monotonic', 'boottime'],
        additionalProperties: false,
        properties: { realtime: { $ref: '#/$defs/timespec' }, monotonic: { $ref: '#/$defs/timespec' }, boottime: { $ref: '#/$defs/timespec' } },
      },
      root: { type: 'integer', description: 'the pid the tree is rooted at' },
      tasks: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['tid', 'tgid', 'ppid', 'thread', 'state', 'cred', 'ns'],
          additionalProperties: false,
          properties: {
            tid: { type: 'integer' },
            tgid: { type: 'integer' },
            ppid: { type: 'integer' },
            thread: { type: 'boolean' },
            state: { enum: ['running', 'zombie'] },
            cred: {
              type: 'object',
              required: ['uid', 'euid', 'suid', 'userns', 'caps'],
              additionalProperties: false,
              properties: {
                uid: { type: 'integer' },
                euid: { type: 'integer' },
                suid: { type: 'integer' },
                userns: inum,
                caps: { type: 'array', items: { type: 'string' } },
              },
            },
            ns: {
              description: 'the namespaces the task uses (/proc/PID/ns/*); null for a zombie',
              oneOf: [
                { type: 'null' },
                {
                  type: 'object',
                  required: [...NSPROXY_SLOTS, 'user', 'pid'],
                  additionalProperties: false,
                  properties: Object.fromEntries([...NSPROXY_SLOTS, 'user', 'pid'].map((k) => [k, inum])),
                },
              ],
            },
          },
        },
      },
      namespaces: {
        type: 'array',
        description: 'every non-time namespace the tree uses, with owner user namespaces up to the initial one',
        items: {
          type: 'object',
          required: ['id', 'type', 'owner', 'initial'],
          additionalProperties: false,
          properties: {
            id: inum,
            type: { enum: ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'user', 'uts'] },
            owner: { oneOf: [{ type: 'null' }, inum] },
            initial: { type: 'boolean' },
            parent: { oneOf: [{ type: 'null' }, inum] },
            level: { type: 'integer' },
            ownerUid: { type: 'integer' },
          },
        },
      },
      timens: {
        type: 'array',
        description: 'every time namespace the tree uses (active or pending), with its offsets and clock values D at the checkpoint',
        items: {
          type: 'object',
          required: ['id', 'initial', 'owner', 'frozen', 'offsets', 'monotonic', 'boottime', 'tasks', 'pendingFor'],
          additionalProperties: false,
          properties: {
            id: inum,
            initial: { type: 'boolean' },
            owner: inum,
            frozen: { type: 'boolean' },
            offsets: {
              type: 'object',
              required: ['monotonic', 'boottime'],
              additionalProperties: false,
              properties: { monotonic: { $ref: '#/$defs/timespec' }, boottime: { $ref: '#/$defs/timespec' } },
            },
            monotonic: { $ref: '#/$defs/timespec', description: 'D: CLOCK_MONOTONIC inside the namespace at the checkpoint' },
            boottime: { $ref: '#/$defs/timespec', description: 'D: CLOCK_BOOTTIME inside the namespace at the checkpoint' },
            tasks: { type: 'array', items: { type: 'integer' }, description: 'tasks whose active time namespace this is' },
            pendingFor: { type: 'array', items: { type: 'integer' }, description: 'tasks for which it is only time_for_children' },
          },
        },
      },
      criu: {
        type: 'object',
        required: ['accepts', 'refusals'],
        additionalProperties: false,
        properties: { accepts: { type: 'boolean' }, refusals: { type: 'array', items: { type: 'string' } } },
      },
      notes: { type: 'array', items: { type: 'string' } },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Checkpoint of a ledger at a seq


/** Where to checkpoint: a seq, or "right after line N" of the source the ledger was imported from. */
export type CheckpointAt = { seq: number } | { line: number; file?: string };

export function parseAt(text: string): CheckpointAt | null {
  if (/^\d+$/.test(text)) return { seq: Number(text) };
  const m = /^line:(?:(.+):)?(\d+)$/.exec(text);
  if (m) return { line: Number(m[2]), ...(m[1] ? { file: m[1] } : {}) };
  return null;
}

/** The seq right after source line `line`: the last record whose source line (or end line) is ≤ it. */
export function seqAfterLine(path: string, line: number, file?: string): { seq: number; line: number } | null {
  let best: { seq: number; line: number } | null = null;
  for (const batch of readLedgerBatchesSync(path))
    for (const r of batch) {
      if (!r.src || (file !== undefined && r.src.file !== file && !r.src.file.endsWith(`/${file}`))) continue;
      const end = r.src.endLine ?? r.src.line;
      if (end <= line && (!best || r.seq > best.seq)) best = { seq: r.seq, line: end };
    }
  return best;
}

/**
 * The world after record `seq` of a ledger: replay's stateAt (snapshots, recorded outcomes as the truth). A ledger
 * whose head creates every task it uses without naming its genesis task starts from genesisOptions' first task.
 */
export function worldAtSeq(path: string, seq: number): { world: World; divergences: Divergence[] } {
  if (seq < 1 || !readLedgerBatchesSync(path, { toSeq: 1 }).next().value?.length) throw new CheckpointError(`${path}: no records up to seq ${seq}`);
  // A ledger whose every task is created by a record (an import: host.spawn for each) and that names no first task
  // (no marker.genesis, no caller from before the log) gets a first task at a pid no trace uses. A ledger with a
  // marker.genesis (tns synth, scenarios) starts from what it says.
  const createsAll = !genesisOf(path).complete;
  const st = stateAt(path, seq, createsAll ? { world: { firstPid: GENESIS_PID } } : {});
  return { world: st.world, divergences: st.divergences };
}

export interface LedgerCheckpoint {
  image: CheckpointImage;
  seq: number;
  divergences: Divergence[];
  /** The seq of the marker.checkpoint appended to the ledger (null with appendMarker false). */
  markerSeq: number | null;
}

/** Checkpoint the tree rooted at `pid` as it was right after `at`, and append a marker.checkpoint to the ledger. */
export function checkpointLedger(path: string, at: CheckpointAt, pid: number, opts: { imagePath?: string; appendMarker?: boolean } = {}): LedgerCheckpoint {
  const last = countRecords(path);
  let seq: number;
  let line: number | undefined;
  if ('seq' in at) {
    if (at.seq < 1 || at.seq > last) throw new CheckpointError(`${path}: --at ${at.seq} is outside the ledger (seq 1..${last})`);
    seq = at.seq;
  } else {
    const s = seqAfterLine(path, at.line, at.file);
    if (!s) throw new CheckpointError(`${path}: no record comes from a source line ≤ ${at.line}${at.file ? ` of ${at.file}` : ''} (was it imported from a trace?)`);
    seq = s.seq;
    line = at.line;
  }
  const { world, divergences } = worldAtSeq(path, seq);
  const rec = readRecordAt(path, seq);
  const image = captureImage(world, pid, { ledger: path, seq, ...(line !== undefined ? { line } : {}), ...(rec ? { hash: rec.hash } : {}) });
  let markerSeq: number | null = null;
  if (opts.appendMarker !== false) {
    const w = openLedger(path);
    try {
      const r = w.append([{ op: { call: 'marker.checkpoint', pid, at: seq, ...(opts.imagePath ? { image: opts.imagePath } : {}) }, at: { ...world.host } }], { expectedLastSeq: last });
      w.flush();
      markerSeq = r.lastSeq;
    } finally {
      w.close();
    }
  }
  return { image, seq, divergences, markerSeq };
}
