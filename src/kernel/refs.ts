/**
 * Reference counting of namespaces and nsproxies (get_*_ns / put_*_ns, get_nsproxy / put_nsproxy),
 * freeing at zero, and ucounts (inc_ucount / dec_ucount walking up the user-namespace chain).
 */
import { NSPROXY_SLOTS, type Namespace, type Nsproxy, type NsType, type World } from './types.js';
import { freeId, freeInum, newId, numberText } from './world.js';

export function getNs(world: World, inum: number): void {
  world.namespaces[inum].count++;
}

/** put_*_ns: drop one reference; at zero the namespace is freed (ucounts, owner and inode number released). */
export function putNs(world: World, inum: number): void {
  const ns = world.namespaces[inum];
  if (!ns) throw new Error(`model invariant: put of unknown namespace ${inum}`);
  ns.count--;
  if (ns.count > 0) return;
  if (ns.count < 0 || ns.initial) throw new Error(`model invariant: refcount of ${ns.type}:[${inum}] went to ${ns.count}`);
  freeNs(world, ns);
}

function freeNs(world: World, ns: Namespace): void {
  delete world.namespaces[ns.inum];
  freeInum(world, ns.inum);
  if (ns.type === 'time' && ns.ucounts) decUcount(world, ns.ucounts.userns, ns.ucounts.uid);
  if ((ns.type === 'user' || ns.type === 'pid') && ns.parent != null) putNs(world, ns.parent);
  if (ns.owner !== null) putNs(world, ns.owner);
}

/** A new namespace object with one reference (its creator's), owned by `owner` (whose count it takes). */
export function newNs(world: World, type: NsType, inum: number, owner: number, extra?: Partial<Namespace>): Namespace {
  // Without extra fields, no spread (an object spread is a slow copy).
  const ns: Namespace = extra === undefined ? { inum, type, count: 1, owner, initial: false } : { inum, type, count: 1, owner, initial: false, ...extra };
  return addNs(world, ns);
}

/** Enter a new namespace (built with its fields in newNs's order) in the table; it takes a reference on its owner. */
export function addNs(world: World, ns: Namespace): Namespace {
  world.namespaces[ns.inum] = ns;
  getNs(world, ns.owner!);
  return ns;
}

/** The ucounts entry key of (user namespace, uid). */
export function ucountKey(userns: number, uid: number): string {
  return `${numberText(userns)}:${numberText(uid)}`;
}

/**
 * inc_ucount(ns, uid, UCOUNT_TIME_NAMESPACES): charge (ns, uid), then (ns->parent, ns->owner), ... up to
 * init_user_ns; each level must stay below its namespace's limit. On failure the levels already charged are
 * undone and false is returned (ENOSPC).
 */
export function incUcount(world: World, userns: number, uid: number, enforceLimits: boolean): boolean {
  const charged: string[] = [];
  let ns: number | null = userns;
  let who = uid;
  while (ns !== null) {
    const u: Namespace = world.namespaces[ns];
    const key = ucountKey(ns, who);
    const cur = world.ucounts[key] ?? 0;
    if (enforceLimits && cur + 1 > (u.maxTimeNamespaces ?? Infinity)) {
      for (const k of charged) decKey(world, k);
      return false;
    }
    world.ucounts[key] = cur + 1;
    charged.push(key);
    who = u.ownerUid ?? 0;
    ns = u.parent ?? null;
  }
  return true;
}

export function decUcount(world: World, userns: number, uid: number): void {
  let ns: number | null = userns;
  let who = uid;
  while (ns !== null) {
    const u: Namespace | undefined = world.namespaces[ns];
    decKey(world, ucountKey(ns, who));
    if (!u) break;
    who = u.ownerUid ?? 0;
    ns = u.parent ?? null;
  }
}

function decKey(world: World, key: string): void {
  const v = (world.ucounts[key] ?? 0) - 1;
  if (v < 0) throw new Error(`model invariant: ucounts ${key} went negative`);
  if (v === 0) delete world.ucounts[key];
  else world.ucounts[key] = v;
}

/** A copy of an nsproxy with a reference on every namespace in it (create_new_namespaces with no flags). */
export function copyNsproxy(world: World, from: Nsproxy): Nsproxy {
  const id = newId(world, 'nsproxy');
  const nsp: Nsproxy = {
    id,
    count: 1,
    uts: from.uts,
    ipc: from.ipc,
    mnt: from.mnt,
    pid_for_children: from.pid_for_children,
    net: from.net,
    cgroup: from.cgroup,
    time: from.time,
    time_for_children: from.time_for_children,
  };
  // get_*_ns on every slot, written out: a loop over the slot names is a megamorphic keyed load per slot.
  const nss = world.namespaces;
  nss[nsp.uts].count++;
  nss[nsp.ipc].count++;
  nss[nsp.mnt].count++;
  nss[nsp.pid_for_children].count++;
  nss[nsp.net].count++;
  nss[nsp.cgroup].count++;
  nss[nsp.time].count++;
  nss[nsp.time_for_children].count++;
  world.nsproxies[id] = nsp;
  return nsp;
}

/** put_nsproxy: at zero, free_nsproxy puts every namespace it holds. */
export function putNsproxy(world: World, id: number): void {
  const nsp = world.nsproxies[id];
  nsp.count--;
  if (nsp.count > 0) return;
  if (id === world.initNsproxy) throw new Error('model invariant: init_nsproxy freed');
  delete world.nsproxies[id];
  freeId(world, 'nsproxy', id);
  // In NSPROXY_SLOTS order (the order namespaces are freed in, which orders inumFree's inserts and ucounts' deletes).
  putNs(world, nsp.uts);
  putNs(world, nsp.ipc);
  putNs(world, nsp.mnt);
  putNs(world, nsp.pid_for_children);
  putNs(world, nsp.net);
  putNs(world, nsp.cgroup);
  putNs(world, nsp.time);
  putNs(world, nsp.time_for_children);
}

/** Replace the namespace in one slot: get the new one, put the old one. */
export function setSlot(world: World, nsp: Nsproxy, slot: (typeof NSPROXY_SLOTS)[number], inum: number): void {
  getNs(world, inum);
  const old = nsp[slot];
  nsp[slot] = inum;
  putNs(world, old);
}

/** switch_task_namespaces(task, new): the task takes `id` (already referenced for it) and drops its old nsproxy. */
export function switchTaskNamespaces(world: World, tid: number, id: number | null): void {
  const t = world.tasks[tid];
  const old = t.nsproxy;
  t.nsproxy = id;
  if (old !== null) putNsproxy(world, old);
}

/**
 * The holders of every namespace, recomputed from the world: what each refcount must equal.
 * nsproxy slots, open nsfs files, task credentials (user), task struct pids (pid), owned namespaces and
 * child namespaces (user, pid), plus one permanent reference for each initial namespace.
 */
export function holders(world: World): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  const add = (inum: number, who: string) => (out[inum] ??= []).push(who);
  for (const k in world.namespaces) {
    const ns = world.namespaces[k];
    if (ns.initial) add(ns.inum, 'initial');
    if (ns.owner !== null) add(ns.owner, `owner of ${ns.type}:[${ns.inum}]`);
    if ((ns.type === 'user' || ns.type === 'pid') && ns.parent != null) add(ns.parent, `parent of ${ns.type}:[${ns.inum}]`);
  }
  for (const k in world.nsproxies) {
    const nsp = world.nsproxies[k];
    for (const slot of NSPROXY_SLOTS) add(nsp[slot], `nsproxy ${nsp.id}.${slot}`);
  }
  for (const k in world.files) {
    const f = world.files[k];
    if (f.kind === 'nsfs') add(f.ns, `nsfs file ${f.id}`);
    if (f.kind === 'timens_offsets') add(f.cred.userns, `f_cred of file ${f.id}`);
    if (f.kind === 'idmap') {
      add(f.cred.userns, `f_cred of file ${f.id}`);
      add(f.userns, `${f.map} file ${f.id}`);
    }
  }
  for (const k in world.tasks) {
    const t = world.tasks[k];
    add(t.cred.userns, `cred of task ${t.tid}`);
    add(t.pidns, `pid of task ${t.tid}`);
  }
  return out;
}
