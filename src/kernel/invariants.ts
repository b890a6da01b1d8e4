/** The model's invariants (SEMANTICS.md §2), checked against a world: a list of violations, empty when sound. */
import { NSPROXY_SLOTS, type World } from './types.js';
import { holders, ucountKey } from './refs.js';
import { derivedIds } from './world.js';

export function checkInvariants(world: World): string[] {
  const bad: string[] = [];
  const h = holders(world);
  for (const k in world.namespaces) {
    const ns = world.namespaces[k];
    const n = h[ns.inum]?.length ?? 0;
    if (ns.count !== n) bad.push(`${ns.type}:[${ns.inum}] count ${ns.count} != ${n} holders (${(h[ns.inum] ?? []).join(', ')})`);
    if (ns.count <= 0) bad.push(`${ns.type}:[${ns.inum}] is alive with count ${ns.count}`);
  }
  for (const inum in h) if (!world.namespaces[Number(inum)]) bad.push(`freed namespace ${inum} still held by ${h[inum].join(', ')}`);
  const nspUsers: Record<number, number> = {};
  const tableUsers: Record<number, number> = {};
  const mmUsers: Record<number, number> = {};
  for (const k in world.tasks) {
    const t = world.tasks[k];
    if (t.nsproxy !== null) nspUsers[t.nsproxy] = (nspUsers[t.nsproxy] ?? 0) + 1;
    if (t.files !== null) tableUsers[t.files] = (tableUsers[t.files] ?? 0) + 1;
    if (t.mm !== null) mmUsers[t.mm] = (mmUsers[t.mm] ?? 0) + 1;
    if (t.state === 'zombie' && t.nsproxy !== null) bad.push(`zombie ${t.tid} still holds nsproxy ${t.nsproxy}`);
  }
  // the thread-group and children indexes agree with the task table
  const groups: Record<number, number[]> = {};
  const children: Record<number, number[]> = {};
  for (const k in world.tasks) {
    const t = world.tasks[k];
    (groups[t.tgid] ??= []).push(t.tid);
    if (t.tid === t.tgid) (children[t.ppid] ??= []).push(t.tgid);
    else if (!world.tasks[t.tgid]) bad.push(`thread ${t.tid} outlives its leader ${t.tgid}`);
    // real_parent is a thread of the parent process, a running one while the parent process runs
    const parents = world.groups[t.ppid];
    if (parents !== undefined) {
      const rp = t.realParent ?? t.ppid;
      if (!parents.includes(rp)) bad.push(`task ${t.tid}: real_parent ${rp} is not a thread of its parent process ${t.ppid}`);
      else if (world.tasks[rp].state !== 'running' && parents.some((x) => world.tasks[x].state === 'running'))
        bad.push(`task ${t.tid}: real_parent ${rp} has exited while its process ${t.ppid} runs`);
    }
  }
  const norm = (r: Record<number, number[]>) => JSON.stringify(Object.entries(r).map(([k, v]) => [Number(k), [...v].sort((a, b) => a - b)]).sort((a, b) => (a[0] as number) - (b[0] as number)));
  if (norm(groups) !== norm(world.groups)) bad.push(`thread-group index ${norm(world.groups)} != tasks ${norm(groups)}`);
  if (norm(children) !== norm(world.children)) bad.push(`children index ${norm(world.children)} != tasks ${norm(children)}`);
  for (const k in world.nsproxies) {
    const nsp = world.nsproxies[k];
    const want = (nspUsers[nsp.id] ?? 0) + (nsp.id === world.initNsproxy ? 1 : 0);
    if (nsp.count !== want) bad.push(`nsproxy ${nsp.id} count ${nsp.count} != ${want} users`);
    const T = world.namespaces[nsp.time];
    if (!T?.frozen) bad.push(`nsproxy ${nsp.id}: time (T) time:[${nsp.time}] is not frozen`);
    for (const slot of NSPROXY_SLOTS) if (!world.namespaces[nsp[slot]]) bad.push(`nsproxy ${nsp.id}.${slot} points at freed ${nsp[slot]}`);
  }
  for (const k in nspUsers) if (!world.nsproxies[Number(k)]) bad.push(`a task points at freed nsproxy ${k}`);
  const fileUsers: Record<number, number> = {};
  for (const k in world.fdtables) {
    const tb = world.fdtables[k];
    if (tb.count !== (tableUsers[tb.id] ?? 0)) bad.push(`fd table ${tb.id} count ${tb.count} != ${tableUsers[tb.id] ?? 0}`);
    for (const fd in tb.fds) fileUsers[tb.fds[fd].file] = (fileUsers[tb.fds[fd].file] ?? 0) + 1;
  }
  for (const k in world.files) {
    const f = world.files[k];
    if (f.count !== (fileUsers[f.id] ?? 0)) bad.push(`file ${f.id} (${f.kind}) count ${f.count} != ${fileUsers[f.id] ?? 0} fds`);
  }
  for (const k in world.mms) {
    const m = world.mms[k];
    if (m.users !== (mmUsers[m.id] ?? 0)) bad.push(`mm ${m.id} users ${m.users} != ${mmUsers[m.id] ?? 0}`);
  }
  // the free-id lists and counters follow from the tables (freed ids are reused, the counter is past the highest live id)
  const ids = derivedIds(world);
  for (const kind of Object.keys(ids.freeIds) as (keyof typeof ids.freeIds)[]) {
    const free = world.freeIds?.[kind];
    if (!free || free.join() !== ids.freeIds[kind].join())
      bad.push(`free ${kind} ids [${free?.join(', ') ?? 'missing'}] != [${ids.freeIds[kind].join(', ')}], the ids below ${ids.nextIds[kind]} not in use`);
    if (world.nextIds[kind] !== ids.nextIds[kind]) bad.push(`next ${kind} id ${world.nextIds[kind]} != ${ids.nextIds[kind]}, one past the highest in use`);
  }
  // ucounts: every live time namespace charges (owner, creator euid) and each ancestor level.
  const want: Record<string, number> = {};
  for (const k in world.namespaces) {
    const ns = world.namespaces[k];
    if (ns.type !== 'time' || !ns.ucounts) continue;
    let u: number | null = ns.ucounts.userns;
    let who = ns.ucounts.uid;
    while (u !== null) {
      const key = ucountKey(u, who);
      want[key] = (want[key] ?? 0) + 1;
      const un: import("./types.js").Namespace | undefined = world.namespaces[u];
      who = un?.ownerUid ?? 0;
      u = un?.parent ?? null;
    }
  }
  const keys = new Set([...Object.keys(want), ...Object.keys(world.ucounts)]);
  for (const key of keys) if ((want[key] ?? 0) !== (world.ucounts[key] ?? 0)) bad.push(`ucounts ${key} = ${world.ucounts[key] ?? 0}, live time namespaces say ${want[key] ?? 0}`);
  return bad;
}
